"""Translate bound expressions to ``pyarrow.compute.Expression`` for Acero push-down.

The translation uses exactly the kernels :mod:`.evaluate` uses, so a pushed-down
filter or projection gives the same values. Where our semantics need more than
one kernel call that Acero cannot express (``%`` with DuckDB's sign rules,
``epoch`` on dates, aggregates), the answer is ``None`` and the caller evaluates
that expression itself.

>>> import pyarrow as pa
>>> from hasivu_compute.expr import bind, col
>>> e = to_arrow_expression(bind(col("a") > 1, pa.schema([("a", pa.int64())])))
>>> pa.table({"a": [0, 2, None]}).filter(e).to_pylist()
[{'a': 2}]
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from hasivu_compute.exec.kernels.evaluate import IEEE_COMPARE, like_pattern
from hasivu_compute.expr import types as T
from hasivu_compute.expr.casts import cast_round_mode, decimal_rounding
from hasivu_compute.expr.nodes import Alias, BoundColumn, Call, Case, Cast, Expr, InList, Literal
from hasivu_compute.expr.visitors import walk

_SIMPLE = {
    "add": "add_checked",
    "subtract": "subtract_checked",
    "multiply": "multiply_checked",
    "divide": "divide",
    "int_divide": "divide_checked",
    "negate": "negate_checked",
    "abs": "abs_checked",
    "floor": "floor",
    "ceil": "ceil",
    "sqrt": "sqrt",
    "and": "and_kleene",
    "or": "or_kleene",
    "not": "invert",
    "is_null": "is_null",
    "is_not_null": "is_valid",
    "coalesce": "coalesce",
    "lower": "utf8_lower",
    "upper": "utf8_upper",
}
_EXTRACT = {
    "year": ("year", None),
    "quarter": ("quarter", None),
    "month": ("month", None),
    "week": ("iso_week", None),
    "day": ("day", None),
    "dow": ("day_of_week", pc.DayOfWeekOptions(count_from_zero=True, week_start=7)),
    "dayofweek": ("day_of_week", pc.DayOfWeekOptions(count_from_zero=True, week_start=7)),
    "isodow": ("day_of_week", pc.DayOfWeekOptions(count_from_zero=False, week_start=1)),
    "doy": ("day_of_year", None),
    "dayofyear": ("day_of_year", None),
    "hour": ("hour", None),
    "minute": ("minute", None),
    "second": ("second", None),
}


def _call(
    name: str, args: list[pc.Expression], options: pc.FunctionOptions | None = None
) -> pc.Expression:
    return pc.Expression._call(name, args, options)


def to_arrow_expression(expr: Expr) -> pc.Expression | None:
    """The Acero expression computing bound ``expr``, or None if it has no 1:1 form."""
    if isinstance(expr, BoundColumn):
        return pc.field(expr.name)
    if isinstance(expr, Literal):
        return pc.scalar(pa.scalar(expr.value, type=expr.dtype))
    if isinstance(expr, Alias):
        return to_arrow_expression(expr.child)
    if isinstance(expr, Cast):
        return _cast(expr)
    if isinstance(expr, InList):
        return _in_list(expr)
    if isinstance(expr, Case):
        return _case(expr)
    if isinstance(expr, Call):
        args = [to_arrow_expression(a) for a in expr.args]
        if any(a is None for a in args):
            return None
        return _translate_call(expr, _as_result_type(expr, [a for a in args if a is not None]))
    return None


def _as_result_type(expr: Call, args: list[pc.Expression]) -> list[pc.Expression]:
    """Arithmetic arguments cast to the bound float result type first: left to itself,
    Acero adds a double literal to an int64 column in float32 (1.75 + 4194304 gave
    4194306), where evaluate() computes in the double the binder chose."""
    dtype = expr.dtype
    if fn_is_arithmetic(expr.fn) and dtype is not None and pa.types.is_floating(dtype):
        return [
            a if getattr(e, "dtype", None) == dtype else a.cast(dtype)
            for a, e in zip(args, expr.args, strict=True)
        ]
    return args


def fn_is_arithmetic(fn: str) -> bool:
    """Whether ``fn`` is one of the arithmetic calls whose operands share a type."""
    return fn in ("add", "subtract", "multiply", "divide", "modulo", "negate", "abs")


def _cast(expr: Cast) -> pc.Expression | None:
    child = to_arrow_expression(expr.child)
    if child is None:
        return None
    source = expr.child.dtype
    rounding = decimal_rounding(source, expr.dtype)
    if rounding is not None:  # widened by a digit first, as casts.cast_value does
        wider, digits = rounding
        options = pc.RoundOptions(digits, cast_round_mode(source))
        return _call("round", [child.cast(wider)], options).cast(expr.dtype)
    if T.is_float(source) and T.is_decimal(expr.dtype):
        return None  # DuckDB rounds x * 10^scale half away from zero: casts.cast_value
    if T.is_float(source) and T.is_integer(expr.dtype):
        rounding_options = pc.RoundOptions(0, cast_round_mode(source))
        return _call("round", [child], rounding_options).cast(expr.dtype)
    if pat.is_timestamp(source) and pat.is_date(expr.dtype):
        if source.tz is not None:
            child = _call("local_timestamp", [child])
        floored = _call("floor_temporal", [child], pc.RoundTemporalOptions(1, "day"))
        return floored.cast(expr.dtype, safe=False)
    return child.cast(expr.dtype)


def _in_list(expr: InList) -> pc.Expression | None:
    child = to_arrow_expression(expr.child)
    if child is None:
        return None
    non_null = [v for v in expr.values if v is not None]
    probe = child
    if T.is_float(expr.child.dtype):  # -0.0 and 0.0 are one value (see evaluate._in_list)
        probe = _call("add", [child, pc.scalar(pa.scalar(0.0, expr.child.dtype))])
        non_null = [v + 0.0 for v in non_null]  # type: ignore[operator]
    value_set = pa.array(non_null, type=expr.child.dtype)
    matched = _call("is_in", [probe], pc.SetLookupOptions(value_set, skip_nulls=True))
    null_bool = pc.scalar(pa.scalar(None, pa.bool_()))
    result = _call("if_else", [_call("is_valid", [child]), matched, null_bool])
    if len(non_null) < len(expr.values):
        result = _call("if_else", [result, pc.scalar(True), null_bool])
    return result


def _may_fail(expr: Expr) -> bool:
    """Whether evaluating ``expr`` on a row a CASE does not select could raise."""
    return any(
        isinstance(n, Cast) or (isinstance(n, Call) and n.fn in ("int_divide", "modulo"))
        for n in walk(expr)
    )


def _case(expr: Case) -> pc.Expression | None:
    # Acero evaluates every branch on every row; we evaluate a failing branch lazily
    # (SQL semantics), so branches that can fail are not pushed down.
    if any(_may_fail(v) for v in expr.children()[1::2]) or (
        expr.otherwise is not None and _may_fail(expr.otherwise)
    ):
        return None
    conds = [to_arrow_expression(c) for c, _ in expr.branches]
    values = [to_arrow_expression(v) for _, v in expr.branches]
    if expr.otherwise is not None:
        values.append(to_arrow_expression(expr.otherwise))
    if any(x is None for x in conds) or any(x is None for x in values):
        return None
    names = [str(i) for i in range(len(conds))]
    struct = _call("make_struct", [c for c in conds if c is not None], pc.MakeStructOptions(names))
    return _call("case_when", [struct, *[v for v in values if v is not None]])


def _translate_call(expr: Call, args: list[pc.Expression]) -> pc.Expression | None:
    fn = expr.fn
    if fn in _SIMPLE:
        return _call(_SIMPLE[fn], args)
    if fn == "modulo" and T.is_integer(expr.dtype):
        a, b = args
        return _call("subtract", [a, _call("multiply", [_call("divide_checked", [a, b]), b])])
    if fn in IEEE_COMPARE:
        return _compare(fn, args[0], args[1], _is_float_call(expr))
    if fn == "between":
        x, lo, hi = args
        floats = _is_float_call(expr)
        return _call("and_kleene", [_compare("ge", x, lo, floats), _compare("le", x, hi, floats)])
    if fn == "round":
        ndigits = int(expr.option("ndigits", 0))  # type: ignore[call-overload]
        if T.is_integer(expr.dtype) and ndigits >= 0:
            return args[0]
        if T.is_decimal(expr.dtype):
            return _call("round", args, pc.RoundOptions(ndigits, "half_towards_infinity"))
        return None  # doubles round by their exact value (evaluate.round_half_away)
    if fn in ("trim", "ltrim", "rtrim"):
        kernel = {"trim": "utf8_trim", "ltrim": "utf8_ltrim", "rtrim": "utf8_rtrim"}[fn]
        return _call(kernel, args, pc.TrimOptions(" "))
    if fn == "length":
        return _call("utf8_length", args).cast(pa.int64())
    if fn in ("starts_with", "contains", "like"):
        return _string_predicate(expr, args[0])
    if fn == "extract":
        part = _EXTRACT.get(str(expr.option("field")))
        if part is None:
            return None
        return _call(part[0], args, part[1]).cast(pa.int64())
    if fn == "date_trunc":
        opts = pc.RoundTemporalOptions(1, str(expr.option("unit")), week_starts_monday=True)
        return _call("floor_temporal", args, opts)
    return _translate_text(expr, args)


def _translate_text(expr: Call, args: list[pc.Expression]) -> pc.Expression | None:
    """The later string and comparison functions with a one-kernel Arrow form (the same
    kernels as ``kernels.text`` and ``evaluate._extreme``); the others are evaluated."""
    fn, dtype = expr.fn, expr.dtype
    if fn in ("concat", "concat_strict"):
        handling = "emit_null" if fn == "concat_strict" else "replace"
        options = pc.JoinOptions(null_handling=handling, null_replacement="")
        return _call("binary_join_element_wise", [*args, pc.scalar("")], options)
    if fn == "replace":
        source, target = str(expr.option("source")), str(expr.option("target"))
        if not source:
            return args[0]
        return _call("replace_substring", args, pc.ReplaceSubstringOptions(source, target))
    if fn == "left":
        return _call("utf8_slice_codeunits", args, pc.SliceOptions(0, int(expr.option("count"))))  # type: ignore[call-overload]
    if fn == "regexp_matches":
        return _call(
            "match_substring_regex", args, pc.MatchSubstringOptions(str(expr.option("pattern")))
        )
    if fn == "regexp_replace":
        most = None if expr.option("all") else 1
        options = pc.ReplaceSubstringOptions(
            str(expr.option("pattern")), str(expr.option("replacement")), max_replacements=most
        )
        return _call("replace_substring_regex", args, options)
    if fn == "isnan":
        return _call("is_nan", args)
    if fn not in ("greatest", "least") or dtype is None:
        return None
    zoned = pat.is_timestamp(dtype) and dtype.tz is not None  # no element-wise kernel
    nan_first = fn == "greatest" and T.is_float(dtype)  # see evaluate._extreme
    if not (pat.is_boolean(dtype) or zoned or nan_first):
        kernel = "max_element_wise" if fn == "greatest" else "min_element_wise"
        return _call(kernel, args, pc.ElementWiseAggregateOptions(skip_nulls=True))
    return None


def _is_float_call(expr: Call) -> bool:
    return any(T.is_float(a.dtype) for a in expr.args)


def _compare(fn: str, a: pc.Expression, b: pc.Expression, floats: bool) -> pc.Expression:
    """Comparison in DuckDB's total order for floats (see ``evaluate.compare``)."""
    if not floats:
        return _call(IEEE_COMPARE[fn], [a, b])
    if fn in ("gt", "ge"):
        return _compare("lt" if fn == "gt" else "le", b, a, floats)
    a_nan, b_nan = _call("is_nan", [a]), _call("is_nan", [b])
    eq = _call("or_kleene", [_call("equal", [a, b]), _call("and_kleene", [a_nan, b_nan])])
    if fn in ("eq", "ne"):
        return eq if fn == "eq" else _call("invert", [eq])
    not_a_nan = _call("invert", [a_nan])
    lt = _call("or_kleene", [_call("less", [a, b]), _call("and_kleene", [not_a_nan, b_nan])])
    return lt if fn == "lt" else _call("or_kleene", [lt, eq])


def _string_predicate(expr: Call, arg: pc.Expression) -> pc.Expression:
    pattern = str(expr.option("pattern"))
    if expr.fn == "starts_with":
        return _call("starts_with", [arg], pc.MatchSubstringOptions(pattern))
    if expr.fn == "contains":
        return _call("match_substring", [arg], pc.MatchSubstringOptions(pattern))
    ignore_case = bool(expr.option("case_insensitive", False))
    arrow_pattern = like_pattern(pattern, expr.option("escape"))
    return _call(
        "match_like", [arg], pc.MatchSubstringOptions(arrow_pattern, ignore_case=ignore_case)
    )
