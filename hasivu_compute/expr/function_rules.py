"""Type rules of the string, calendar and comparison functions added after the core set
(concat, replace, lpad, regexp_*, strftime, date_diff, greatest, TRY_CAST, ...).

Kept apart from :mod:`.binder` (which registers them) so neither module grows past
a readable size. Each rule checks arity and argument types, raising
:class:`BindError` that names the function, and inserts the casts DuckDB makes
implicitly (``concat(1, 'a')`` casts 1 to text; ``date_diff`` of a DATE and a
TIMESTAMP compares timestamps).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import types as T
from hasivu_compute.expr.binder import Rule, coerce_to, common_type
from hasivu_compute.expr.date_rules import DIFF_UNITS, check_strftime_format
from hasivu_compute.expr.nodes import Call, Expr, Literal

__all__ = ["RULES"]

Options = tuple[tuple[str, object], ...]


def _fail(fn: str, message: str, node: Expr) -> BindError:
    return BindError(f"{fn}: {message} in {node}")


def _one_string(fn: str, args: tuple[Expr, ...], node: Expr) -> Expr:
    if len(args) != 1:
        raise _fail(fn, f"takes one text argument, got {len(args)}", node)
    (a,) = args
    if T.is_null_type(a.dtype):
        return coerce_to(a, pa.string())
    if not T.is_string(a.dtype):
        raise _fail(fn, f"needs text, got {a} of type {a.dtype}", node)
    return a


def _text_of(fn: str, a: Expr, node: Expr) -> Expr:
    """``a`` as text the way DuckDB prints it; types whose text differs are refused."""
    t = a.dtype
    if T.is_string(t):
        return a
    if T.is_null_type(t) or T.is_integer(t) or T.is_decimal(t) or pat.is_boolean(t):
        return coerce_to(a, pa.string())
    if pat.is_date32(t):
        return coerce_to(a, pa.string())
    raise _fail(
        fn,
        f"cannot turn {a} of type {t} into text as DuckDB does (its floats and timestamps "
        "print differently); format it first, e.g. with strftime() or round()",
        node,
    )


def _rule_concat(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    if not args:
        raise _fail(fn, "needs at least one argument", node)
    texts = [_text_of(fn, a, node) for a in args]
    dtype = pa.large_string() if any(pat.is_large_string(a.dtype) for a in texts) else pa.string()
    return Call(fn, tuple(coerce_to(a, dtype) for a in texts), options, dtype)


def _int_option(fn: str, options: Options, name: str, node: Expr) -> None:
    value = dict(options).get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(fn, f"{name} must be a constant integer, got {value!r}", node)


def _str_option(fn: str, options: Options, name: str, node: Expr) -> None:
    if not isinstance(dict(options).get(name), str):
        raise _fail(fn, f"{name} must be a constant string", node)


_TEXT_OPTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # fn: (integer options, string options)
    "replace": ((), ("source", "target")),
    "left": (("count",), ()),
    "right": (("count",), ()),
    "lpad": (("width",), ("fill",)),
    "rpad": (("width",), ("fill",)),
    "split_part": (("index",), ("sep",)),
    "regexp_matches": ((), ("pattern",)),
    "regexp_replace": ((), ("pattern", "replacement")),
}


def _rule_text(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    a = _one_string(fn, args, node)
    ints, strs = _TEXT_OPTIONS[fn]
    for name in ints:
        _int_option(fn, options, name, node)
    for name in strs:
        _str_option(fn, options, name, node)
    if fn.startswith("regexp_"):
        _check_regex(fn, options, node)
    return Call(fn, (a,), options, pa.bool_() if fn == "regexp_matches" else a.dtype)


def _check_regex(fn: str, options: Options, node: Expr) -> None:
    """Compile the pattern (and rewrite) once now, so a typo is a BindError, not a failure
    halfway through a query (Arrow compiles only when it sees a value)."""
    values = dict(options)
    probe = pa.array([""])
    try:
        if fn == "regexp_matches":
            pc.match_substring_regex(probe, pattern=str(values["pattern"]))
        else:
            pc.replace_substring_regex(
                probe, pattern=str(values["pattern"]), replacement=str(values["replacement"])
            )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise _fail(fn, f"invalid regular expression: {error}", node) from None


def _temporal(fn: str, a: Expr, node: Expr) -> Expr:
    if T.is_null_type(a.dtype):
        return coerce_to(a, pa.timestamp("us"))
    if not T.is_temporal_point(a.dtype):
        raise _fail(fn, f"needs a date or timestamp, got {a} of type {a.dtype}", node)
    return a


def _rule_strftime(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    if len(args) != 1:
        raise _fail(fn, f"takes a date or timestamp and a format, got {len(args)} values", node)
    a = _temporal(fn, args[0], node)
    _str_option(fn, options, "format", node)
    try:
        check_strftime_format(str(dict(options)["format"]))
    except BindError as error:
        raise _fail(fn, str(error).removeprefix("strftime: "), node) from None
    return Call(fn, (a,), options, pa.string())


def _rule_date_diff(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    if len(args) != 2:
        raise _fail(fn, f"takes a unit, a start and an end, got {len(args)} values", node)
    unit = dict(options).get("unit")
    if unit not in DIFF_UNITS:
        raise _fail(fn, f"unknown unit {unit!r} (units: {', '.join(sorted(DIFF_UNITS))})", node)
    start, end = (_temporal(fn, a, node) for a in args)
    common = common_type([start, end], node)
    return Call(fn, (coerce_to(start, common), coerce_to(end, common)), options, pa.int64())


def _single(fn: str, args: tuple[Expr, ...], node: Expr) -> Expr:
    if len(args) != 1:
        raise _fail(fn, f"takes one argument, got {len(args)}", node)
    return args[0]


def _rule_add_months(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    a = _temporal("INTERVAL arithmetic", _single(fn, args, node), node)
    _int_option(fn, options, "months", node)
    dtype = pa.timestamp("us") if pat.is_date(a.dtype) else a.dtype
    return Call(fn, (a,), options, dtype)


def _orderable(t: pa.DataType) -> bool:
    return (
        T.is_numeric(t)
        or T.is_string(t)
        or T.is_temporal_point(t)
        or pat.is_boolean(t)
        or T.is_null_type(t)
    )


def _rule_extreme(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    """greatest / least: the common type of the arguments, as coalesce has."""
    if not args:
        raise _fail(fn, "needs at least one argument", node)
    for a in args:
        if not _orderable(a.dtype):
            raise _fail(fn, f"cannot order {a} of type {a.dtype}", node)
    common = common_type(list(args), node)
    if T.is_null_type(common):
        common = pa.int32()  # DuckDB: greatest(NULL) is an untyped NULL
    return Call(fn, tuple(coerce_to(a, common) for a in args), options, common)


def _rule_isnan(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    if len(args) != 1:
        raise _fail(fn, f"takes one number, got {len(args)} values", node)
    (a,) = args
    if not (T.is_numeric(a.dtype) or T.is_null_type(a.dtype)):
        raise _fail(fn, f"needs a number, got {a} of type {a.dtype}", node)
    if not T.is_float(a.dtype):
        a = coerce_to(a, pa.float64())
    return Call(fn, (a,), options, pa.bool_())


def _rule_try_cast(fn: str, args: tuple[Expr, ...], options: Options, node: Expr) -> Call:
    a = _single("TRY_CAST", args, node)
    target = dict(options).get("to")
    assert isinstance(target, pa.DataType), "try_cast: option 'to' must be an Arrow type"
    if T.is_string(a.dtype) and not T.is_string(target):
        raise _fail(
            "TRY_CAST",
            f"from text to {target} is not supported: DuckDB reads text leniently "
            "(' 12', '1_000', '0x10', '1.5' as integers) and a value we could not read "
            "would become NULL where DuckDB has a number; use CAST, which raises on such text",
            node,
        )
    if T.is_string(target):
        _text_of("TRY_CAST", a, node)  # floats and timestamps print differently from DuckDB
    if not T.can_cast(a.dtype, target):
        raise _fail("TRY_CAST", f"cannot cast {a} from {a.dtype} to {target}", node)
    if isinstance(a, Literal) and a.value is None:
        return Call(fn, (Literal(None, target),), options, target)
    return Call(fn, (a,), options, target)


RULES: dict[str, Rule] = {
    "concat": _rule_concat,
    "concat_strict": _rule_concat,
    **{fn: _rule_text for fn in _TEXT_OPTIONS},
    "strftime": _rule_strftime,
    "date_diff": _rule_date_diff,
    "add_months": _rule_add_months,
    "greatest": _rule_extreme,
    "least": _rule_extreme,
    "isnan": _rule_isnan,
    "try_cast": _rule_try_cast,
}
