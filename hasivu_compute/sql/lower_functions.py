"""Lowering of the string, calendar and comparison functions analysts reach for:
``concat`` / ``||``, ``replace``, ``left`` / ``right``, ``lpad`` / ``rpad``,
``split_part``, ``regexp_matches`` / ``regexp_replace``, ``strftime``,
``date_diff`` / ``datediff``, ``date_part`` / ``datepart``, ``current_date``,
``greatest`` / ``least``, ``isnan`` and ``LIKE ... ESCAPE``.

Positions, widths, separators, patterns and formats must be constants (as for
``substring``): the kernels are vectorised over the string column with the
constant baked into the Arrow call. A non-constant one is refused, naming the
function as typed; a NULL constant makes the result NULL, as in DuckDB.
``current_date`` is read once per query from :meth:`SqlText.today` and becomes a
literal of the plan, so every fragment on every shard sees the same date.

Registered into :mod:`.lower_expr` (``FUNCTION_HANDLERS`` / ``FUNCTION_READS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import Call, Expr, Literal, make_options
from hasivu_compute.expr.binder import EXTRACT_FIELDS
from hasivu_compute.sql import lower_expr as lowering  # circular: used at call time only
from hasivu_compute.sql.clauses import refuse_unread

if TYPE_CHECKING:
    from hasivu_compute.sql.lower_expr import Scope

__all__ = ["DATE_PARTS", "FUNCTION_HANDLERS", "FUNCTION_READS", "date_part_name"]

#: DuckDB's spellings of date parts (``date_diff``, ``date_part``) -> our canonical names.
DATE_PARTS: dict[str, str] = {
    **dict.fromkeys(("year", "years", "y", "yr", "yrs"), "year"),
    **dict.fromkeys(("quarter", "quarters"), "quarter"),
    **dict.fromkeys(("month", "months", "mon", "mons"), "month"),
    **dict.fromkeys(("week", "weeks", "w", "weekofyear"), "week"),
    **dict.fromkeys(("day", "days", "d", "dayofmonth"), "day"),
    **dict.fromkeys(("hour", "hours", "h", "hr", "hrs"), "hour"),
    **dict.fromkeys(("minute", "minutes", "m", "min", "mins"), "minute"),
    **dict.fromkeys(("second", "seconds", "s", "sec", "secs"), "second"),
    **dict.fromkeys(("millisecond", "milliseconds", "ms", "msec", "msecs"), "millisecond"),
    **dict.fromkeys(("microsecond", "microseconds", "us", "usec", "usecs"), "microsecond"),
    **dict.fromkeys(("dow", "dayofweek", "weekday"), "dow"),
    **dict.fromkeys(("doy", "dayofyear"), "doy"),
    "isodow": "isodow",
    "epoch": "epoch",
}
_REGEX_FLAGS = frozenset("cisg")


def date_part_name(text: str) -> str | None:
    """The canonical name of a DuckDB date-part spelling, None when unknown."""
    return DATE_PARTS.get(text.strip().lower())


def _lower(node: exp.Expr, scope: Scope) -> Expr:
    return lowering.lower_expr(node, scope)


def _name(node: exp.Func, scope: Scope, fallback: str) -> str:
    return scope.source.function_name(node) or fallback


def _constant(node: exp.Expr | None, scope: Scope, fn: str, what: str, kind: type) -> object:
    """The Python value of a constant argument (None for NULL); refused otherwise.

    ``fn`` names the function as written, ``replace()``; an operator has no ``()``."""
    value = _lower(node, scope) if node is not None else None
    if isinstance(value, Literal) and (
        value.value is None or (isinstance(value.value, kind) and not isinstance(value.value, bool))
    ):
        return value.value
    shown = "a constant integer" if kind is int else "a constant string"
    label = fn if fn.isupper() else f"{fn}()"
    raise scope.source.unsupported(node or exp.Null(), f"{label} with a {what} that is not {shown}")


def _null_text() -> Literal:
    return Literal(None, pa.string())


# --- strings -----------------------------------------------------------------------------


def _concat(node: exp.Concat, scope: Scope) -> Expr:
    return Call("concat", tuple(_lower(a, scope) for a in node.expressions))


def _dpipe(node: exp.DPipe, scope: Scope) -> Expr:
    return Call("concat_strict", (_lower(node.this, scope), _lower(node.expression, scope)))


def _replace(node: exp.Replace, scope: Scope) -> Expr:
    source = _constant(node.expression, scope, "replace", "search string", str)
    target = _constant(node.args.get("replacement"), scope, "replace", "replacement", str)
    if source is None or target is None:
        return _null_text()
    options = make_options(source=source, target=target)
    return Call("replace", (_lower(node.this, scope),), options)


def _left_right(node: exp.Left | exp.Right, scope: Scope) -> Expr:
    fn = "left" if isinstance(node, exp.Left) else "right"
    count = _constant(node.expression, scope, fn, "length", int)
    if count is None:
        return _null_text()
    return Call(fn, (_lower(node.this, scope),), make_options(count=count))


def _pad(node: exp.Pad, scope: Scope) -> Expr:
    fn = "lpad" if node.args.get("is_left") else "rpad"
    fill_node = node.args.get("fill_pattern")
    if fill_node is None:
        raise BindError(
            f"{_name(node, scope, fn)}() takes a string, a width and a fill "
            f"(e.g. {fn}(s, 5, ' ')){scope.source.where(node)}"
        )
    width = _constant(node.expression, scope, fn, "width", int)
    fill = _constant(fill_node, scope, fn, "fill", str)
    if width is None or fill is None:
        return _null_text()
    return Call(fn, (_lower(node.this, scope),), make_options(width=width, fill=fill))


def _split_part(node: exp.SplitPart, scope: Scope) -> Expr:
    sep = _constant(node.args.get("delimiter"), scope, "split_part", "separator", str)
    index = _constant(node.args.get("part_index"), scope, "split_part", "part index", int)
    if sep is None or index is None:
        return _null_text()
    return Call("split_part", (_lower(node.this, scope),), make_options(sep=sep, index=index))


def _regex_options(node: exp.Expr | None, scope: Scope, fn: str, allowed: str) -> str | None:
    if node is None:
        return ""
    flags = _constant(node, scope, fn, "options string", str)
    if flags is None:
        return None
    unknown = sorted(set(str(flags)) - set(allowed))
    if unknown:
        raise scope.source.unsupported(node, f"{fn}() option {unknown[0]!r}")
    return str(flags)


def _pattern(flags: str, pattern: str) -> str:
    if "s" in flags:
        pattern = f"(?s){pattern}"
    return _regex_with_flags(pattern, flags)


def _regex_with_flags(pattern: str, flags: str) -> str:
    """An RE2 pattern carrying DuckDB's option letters ``i`` (ignore case) / ``c``."""
    insensitive = False
    for flag in flags:
        insensitive = flag == "i" if flag in "ic" else insensitive
    return f"(?i){pattern}" if insensitive else pattern


def _regexp_matches(node: exp.RegexpLike, scope: Scope) -> Expr:
    fn = _name(node, scope, "regexp_matches")
    pattern = _constant(node.expression, scope, fn, "pattern", str)
    flags = _regex_options(node.args.get("flag"), scope, fn, "cis")
    if pattern is None or flags is None:
        return Literal(None, pa.bool_())
    options = make_options(pattern=_pattern(flags, str(pattern)))
    return Call("regexp_matches", (_lower(node.this, scope),), options)


def _regexp_replace(node: exp.RegexpReplace, scope: Scope) -> Expr:
    fn = _name(node, scope, "regexp_replace")
    pattern = _constant(node.expression, scope, fn, "pattern", str)
    replacement = _constant(node.args.get("replacement"), scope, fn, "replacement", str)
    flags = _regex_options(node.args.get("modifiers"), scope, fn, "cisg")
    if pattern is None or replacement is None or flags is None:
        return _null_text()
    options = make_options(
        pattern=_pattern(flags, str(pattern)), replacement=replacement, all="g" in flags
    )
    return Call("regexp_replace", (_lower(node.this, scope),), options)


def _escape(node: exp.Escape, scope: Scope) -> Expr:
    """``x [NOT] LIKE 'p' ESCAPE 'c'`` (and ILIKE): ``c`` makes the next character literal."""
    like = node.this
    if not isinstance(like, exp.Like | exp.ILike):
        raise scope.source.unsupported(node, "ESCAPE outside LIKE / ILIKE")
    refuse_unread(like, frozenset({"this", "expression", "negate"}), scope.source)
    pattern = _constant(like.expression, scope, "LIKE", "pattern", str)
    escape = _constant(node.expression, scope, "LIKE", "ESCAPE character", str)
    if pattern is None or escape is None:
        result: Expr = Literal(None, pa.bool_())
    else:
        _check_escape(str(pattern), str(escape), node, scope)
        options = make_options(
            pattern=pattern, case_insensitive=isinstance(like, exp.ILike), escape=escape or None
        )
        result = Call("like", (_lower(like.this, scope),), options)
    return Call("not", (result,)) if like.args.get("negate") else result


def _check_escape(pattern: str, escape: str, node: exp.Expr, scope: Scope) -> None:
    """DuckDB's rules: one character (or none), and never last in the pattern."""
    where = scope.source.where(node)
    if len(escape) > 1:
        raise BindError(f"LIKE ... ESCAPE {escape!r}: the escape must be one character{where}")
    if not escape:
        return
    chars = iter(pattern)
    for c in chars:
        if c == escape and next(chars, None) is None:
            raise BindError(
                f"LIKE pattern {pattern!r} must not end with the escape character {escape!r}{where}"
            )


# --- dates ---------------------------------------------------------------------------------


def _strftime(node: exp.TimeToStr, scope: Scope) -> Expr:
    fn = _name(node, scope, "strftime")
    fmt = _constant(node.args.get("format"), scope, fn, "format", str)
    if fmt is None:
        return _null_text()
    if fmt == "None" and "'None'" not in scope.source.text:
        fmt = ""  # sqlglot parses the format '' as 'None'; the binder refuses it, as DuckDB
    return Call("strftime", (_lower(node.this, scope),), make_options(format=fmt))


def _unit(node: exp.Expr | None) -> str:
    if isinstance(node, exp.Var | exp.Literal):
        return str(node.name)
    return "" if node is None else node.sql(dialect="duckdb")


def _date_diff(node: exp.DateDiff, scope: Scope) -> Expr:
    fn = _name(node, scope, "date_diff")
    unit_node = node.args.get("unit")
    if isinstance(unit_node, exp.Null):
        return Literal(None, pa.int64())
    written = _unit(unit_node)
    unit = date_part_name(written)
    if unit is None or unit in ("dow", "doy", "isodow", "epoch"):
        raise scope.source.unsupported(node, f"{fn}() unit {written.lower()!r}")
    start, end = _lower(node.expression, scope), _lower(node.this, scope)
    return Call("date_diff", (start, end), make_options(unit=unit))


def _date_part(node: exp.Anonymous, scope: Scope, fn: str) -> Expr:
    args = node.expressions
    if len(args) != 2:
        raise BindError(
            f"{fn}() takes a part and a date, got {len(args)} values{scope.source.where(node)}"
        )
    part = _constant(args[0], scope, fn, "part", str)
    if part is None:
        return Literal(None, pa.int64())
    field = date_part_name(str(part))
    if field is None or field not in EXTRACT_FIELDS:
        raise scope.source.unsupported(args[0], f"{fn}() part {part!r}")
    return Call("extract", (_lower(args[1], scope),), make_options(field=field))


def _current_date(node: exp.CurrentDate, scope: Scope) -> Expr:
    return Literal(scope.source.today(), pa.date32())


_ANONYMOUS: dict[str, Callable[[exp.Anonymous, Scope, str], Expr]] = {
    "date_part": _date_part,
    "datepart": _date_part,
}


def _anonymous(node: exp.Anonymous, scope: Scope) -> Expr:
    """Functions sqlglot has no node for (``date_part``); the others are refused as typed."""
    name = str(node.name)
    handler = _ANONYMOUS.get(name.lower())
    if handler is None:
        construct, hint = lowering.construct_name(node, scope.source)
        raise scope.source.unsupported(node, construct, hint=hint)
    return handler(node, scope, name)


# --- comparisons ---------------------------------------------------------------------------


def _extreme(node: exp.Greatest | exp.Least, scope: Scope) -> Expr:
    fn = "greatest" if isinstance(node, exp.Greatest) else "least"
    if node.args.get("ignore_nulls") is False:
        raise scope.source.unsupported(node, f"{fn}() that returns NULL for any NULL argument")
    args = [node.this, *node.expressions]
    return Call(fn, tuple(_lower(a, scope) for a in args))


def _isnan(node: exp.IsNan, scope: Scope) -> Expr:
    return Call("isnan", (_lower(node.this, scope),))


_Handler = Callable[[exp.Expr, "Scope"], Expr]
FUNCTION_HANDLERS: dict[type[exp.Expr], _Handler] = {
    exp.Concat: _concat,  # type: ignore[dict-item]
    exp.DPipe: _dpipe,  # type: ignore[dict-item]
    exp.Replace: _replace,  # type: ignore[dict-item]
    exp.Left: _left_right,  # type: ignore[dict-item]
    exp.Right: _left_right,  # type: ignore[dict-item]
    exp.Pad: _pad,  # type: ignore[dict-item]
    exp.SplitPart: _split_part,  # type: ignore[dict-item]
    exp.RegexpLike: _regexp_matches,  # type: ignore[dict-item]
    exp.RegexpReplace: _regexp_replace,  # type: ignore[dict-item]
    exp.Escape: _escape,  # type: ignore[dict-item]
    exp.TimeToStr: _strftime,  # type: ignore[dict-item]
    exp.DateDiff: _date_diff,  # type: ignore[dict-item]
    exp.CurrentDate: _current_date,  # type: ignore[dict-item]
    exp.Anonymous: _anonymous,  # type: ignore[dict-item]
    exp.Greatest: _extreme,  # type: ignore[dict-item]
    exp.Least: _extreme,  # type: ignore[dict-item]
    exp.IsNan: _isnan,  # type: ignore[dict-item]
}

_BOTH = frozenset({"this", "expression"})
#: The sqlglot arguments each node kind above reads; any other that is set is refused
#: (``left`` with another dialect's negative-length rule, ``regexp_replace`` positions).
FUNCTION_READS: dict[type[exp.Expr], frozenset[str]] = {
    exp.Concat: frozenset({"expressions", "safe", "coalesce"}),
    exp.DPipe: frozenset({"this", "expression", "safe"}),
    exp.Replace: frozenset({"this", "expression", "replacement"}),
    exp.Left: _BOTH,
    exp.Right: _BOTH,
    exp.Pad: frozenset({"this", "expression", "fill_pattern", "is_left"}),
    exp.SplitPart: frozenset({"this", "delimiter", "part_index"}),
    exp.RegexpLike: frozenset({"this", "expression", "flag"}),
    exp.RegexpReplace: frozenset(
        {"this", "expression", "replacement", "modifiers", "single_replace"}
    ),
    exp.Escape: _BOTH,
    exp.TimeToStr: frozenset({"this", "format"}),
    exp.DateDiff: frozenset({"this", "expression", "unit", "date_part_boundary"}),
    exp.CurrentDate: frozenset(),
    exp.Anonymous: frozenset({"this", "expressions"}),
    exp.Greatest: frozenset({"this", "expressions", "ignore_nulls"}),
    exp.Least: frozenset({"this", "expressions", "ignore_nulls"}),
    exp.IsNan: frozenset({"this"}),
}
