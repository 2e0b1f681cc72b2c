"""Lower sqlglot scalar expressions to hasivu expression trees.

The caller decides what a column or an aggregate means at the place of use
(before grouping a column is an input column; above an Aggregate it must be a
group key, and an aggregate call becomes a reference to the Aggregate's output),
so both are delegated to :class:`Scope` callbacks. Everything without an exact
equivalent raises :class:`UnsupportedSQLError` at its position: a query we cannot
answer exactly is refused, never approximated.
"""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from hasivu_compute._core.errors import BindError, ParseError, UnsupportedSQLError
from hasivu_compute.expr import Call, Case, Cast, Expr, InList, Literal, coalesce, lit, make_options
from hasivu_compute.expr.binder import EXTRACT_FIELDS, TRUNC_UNITS
from hasivu_compute.sql.clauses import refuse_unread
from hasivu_compute.sql.literals import (
    add_interval,
    arrow_type,
    fixed_interval,
    interval_parts,
    number_value,
    temporal_value,
)
from hasivu_compute.sql.lower_functions import FUNCTION_HANDLERS, FUNCTION_READS
from hasivu_compute.sql.parsing import SqlText

__all__ = [
    "SCALAR_FUNCTIONS",
    "SUBQUERY_HINT",
    "WINDOW_HINT",
    "Scope",
    "construct_name",
    "function_hint",
    "lower_expr",
]

#: The scalar functions SQL can call (named in errors about the others).
SCALAR_FUNCTIONS = (
    *("abs", "ceil", "floor", "round", "sqrt", "lower", "upper", "length", "trim", "ltrim"),
    *("rtrim", "starts_with", "contains", "coalesce", "ifnull", "nullif", "if", "year"),
    *("month", "day", "hour", "quarter", "week", "dayofweek", "dayofyear", "extract"),
    *("date_trunc", "cast", "substring", "substr", "concat", "replace", "left", "right"),
    *("lpad", "rpad", "split_part", "regexp_matches", "regexp_replace", "strftime"),
    *("date_diff", "datediff", "date_part", "datepart", "current_date", "greatest", "least"),
    *("isnan", "try_cast"),
)
WINDOW_HINT = (
    "window functions may appear in the SELECT list, QUALIFY and ORDER BY; filter on one "
    "with QUALIFY or in an outer query"
)
SUBQUERY_HINT = (
    "subqueries are supported in FROM, as IN / EXISTS / scalar aggregates in WHERE, and as "
    "scalar aggregates in the SELECT list and the group filter; rewrite this one as a join, "
    "or run it on its own and write its result into this query"
)

_BINARY: dict[type[exp.Expr], str] = {
    exp.Add: "add",
    exp.Sub: "subtract",
    exp.Mul: "multiply",
    exp.IntDiv: "int_divide",
    exp.Mod: "modulo",
    exp.EQ: "eq",
    exp.NEQ: "ne",
    exp.GT: "gt",
    exp.GTE: "ge",
    exp.LT: "lt",
    exp.LTE: "le",
    exp.And: "and",
    exp.Or: "or",
}

_UNARY_CALLS: dict[type[exp.Expr], str] = {
    exp.Lower: "lower",
    exp.Upper: "upper",
    exp.Length: "length",
    exp.Abs: "abs",
    exp.Sqrt: "sqrt",
}

_EXTRACT_CALLS: dict[type[exp.Expr], str] = {
    exp.Year: "year",
    exp.Month: "month",
    exp.Day: "day",
    exp.Hour: "hour",
    exp.Quarter: "quarter",
    exp.Week: "week",
    exp.DayOfWeek: "dow",
    exp.DayOfYear: "doy",
}


@dataclass(frozen=True, slots=True)
class Scope:
    """What names and aggregates mean where an expression is lowered.

    Attributes:
        source: the SQL text, for error positions.
        column: resolves a column reference (raises when it is not allowed here).
        intercept: called on every node first; a non-None result replaces the
            whole subtree (aggregate calls and group keys above an Aggregate).
    """

    source: SqlText
    column: Callable[[exp.Column], Expr]
    intercept: Callable[[exp.Expr], Expr | None]


def lower_expr(node: exp.Expr, scope: Scope) -> Expr:
    """The hasivu expression of a sqlglot scalar expression (see module docstring)."""
    replaced = scope.intercept(node)
    if replaced is not None:
        return replaced
    read = _READ.get(type(node))
    if read is not None:
        refuse_unread(node, read, scope.source)
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        return handler(node, scope)
    if type(node) in _BINARY:
        return Call(_BINARY[type(node)], (lower_expr(node.this, scope), _rhs(node, scope)))
    if type(node) in _UNARY_CALLS:
        return Call(_UNARY_CALLS[type(node)], (lower_expr(node.this, scope),))
    if type(node) in _EXTRACT_CALLS:
        field = _EXTRACT_CALLS[type(node)]
        return Call("extract", (lower_expr(node.this, scope),), make_options(field=field))
    construct, hint = construct_name(node, scope.source)
    raise scope.source.unsupported(node, construct, hint=hint)


def _rhs(node: exp.Expr, scope: Scope) -> Expr:
    return lower_expr(node.expression, scope)


def construct_name(node: exp.Expr, source: SqlText) -> tuple[str, str | None]:
    """What the user wrote that we cannot lower, in their words, and what to do instead."""
    if isinstance(node, exp.Window):
        return "window function", WINDOW_HINT
    if isinstance(node, exp.Subquery | exp.Select | exp.Exists):
        return "subquery in an expression", SUBQUERY_HINT
    if isinstance(node, exp.Func):
        name = source.function_name(node)
        if name is not None:
            return f"function {name}()", function_hint(name, SCALAR_FUNCTIONS)
    if isinstance(node, exp.Star):
        return "* outside SELECT list / count(*)", "name the columns instead"
    if isinstance(node, exp.Interval):
        return "INTERVAL arithmetic on a non-constant value", None
    if isinstance(node, exp.Bracket):
        return f"subscript {node.sql(dialect='duckdb')[:40]}", None
    return f"expression {node.sql(dialect='duckdb')[:40]}", None


def function_hint(name: str, supported: tuple[str, ...]) -> str:
    """ "did you mean lower()?" for a near miss, else the list of supported functions."""
    close = difflib.get_close_matches(name.lower(), supported, n=1, cutoff=0.75)
    if close:
        return f"did you mean {close[0]}()?"
    return f"the functions supported are {', '.join(supported)}"


# --- leaves -----------------------------------------------------------------------


def _literal(node: exp.Literal, scope: Scope) -> Expr:
    if node.is_string:
        return lit(node.this)
    try:
        value = number_value(node.this)
    except (ValueError, decimal.InvalidOperation):  # `1e`: DuckDB cannot convert it either
        line, col = scope.source.position(node)
        raise ParseError(
            f"syntax error: invalid number {node.this!r}",
            line=line,
            col=col,
            hint="write digits with an optional fraction and exponent, e.g. 1.5e3",
        ) from None
    return lit(value)


def _boolean(node: exp.Boolean, scope: Scope) -> Expr:
    return lit(bool(node.this))


def _null(node: exp.Null, scope: Scope) -> Expr:
    return lit(None)


def _column(node: exp.Column, scope: Scope) -> Expr:
    if isinstance(node.this, exp.Star):
        raise scope.source.unsupported(node, "* outside SELECT list / count(*)")
    return scope.column(node)


def _paren(node: exp.Paren, scope: Scope) -> Expr:
    return lower_expr(node.this, scope)


# --- operators --------------------------------------------------------------------


def _div(node: exp.Div, scope: Scope) -> Expr:
    # DuckDB's `/` is floating-point division for every numeric type (7 / 2 = 3.5).
    left = Cast(lower_expr(node.this, scope), pa.float64())
    right = Cast(lower_expr(node.expression, scope), pa.float64())
    return Call("divide", (left, right))


def _add_sub(node: exp.Add | exp.Sub, scope: Scope) -> Expr:
    folded = _fold_interval(node, scope)
    if folded is not None:
        return folded
    fn = "add" if isinstance(node, exp.Add) else "subtract"
    return Call(fn, (lower_expr(node.this, scope), lower_expr(node.expression, scope)))


def _fold_interval(node: exp.Add | exp.Sub, scope: Scope) -> Expr | None:
    """``x ± INTERVAL n unit``.

    On a constant (``DATE '1998-12-01' - INTERVAL '90' DAY``) the result is folded to
    a literal with DuckDB's calendar rules; on a column, fixed-length units become a
    duration (DuckDB: DATE + INTERVAL is a TIMESTAMP), and months/years are calendar
    arithmetic (``add_months``: 2024-01-31 + 1 month = 2024-02-29, a TIMESTAMP too).
    """
    left, right = node.this, node.expression
    if isinstance(left, exp.Interval) and isinstance(node, exp.Add):
        left, right = right, left
    if not isinstance(right, exp.Interval):
        return None
    parts = interval_parts(right)
    if parts is None:
        raise scope.source.unsupported(right, "INTERVAL with a non-constant or unknown unit")
    amount, unit = parts
    sign = -1 if isinstance(node, exp.Sub) else 1
    base = lower_expr(left, scope)
    if not isinstance(base, Literal):
        if unit in ("year", "month"):  # calendar months, clamped to the month's end
            months = sign * amount * (12 if unit == "year" else 1)
            return Call("add_months", (base,), make_options(months=months))
        delta = fixed_interval(amount, unit)
        fn = "subtract" if sign < 0 else "add"
        return Call(fn, (base, Literal(delta, pa.duration("us"))))
    if not isinstance(base.value, dt.date):
        raise scope.source.unsupported(right, "INTERVAL added to a non-temporal value")
    value = add_interval(base.value, sign * amount, unit)
    dtype = pa.date32() if not isinstance(value, dt.datetime) else base.dtype
    if pa.types.is_date(dtype) and isinstance(value, dt.datetime):
        dtype = pa.timestamp("us")
    return Literal(value, dtype)


def _neg(node: exp.Neg, scope: Scope) -> Expr:
    inner = lower_expr(node.this, scope)
    value = inner.value if isinstance(inner, Literal) else None
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return lit(-value)
    return Call("negate", (inner,))


def _not(node: exp.Not, scope: Scope) -> Expr:
    inner = node.this
    if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
        return Call("is_not_null", (lower_expr(inner.this, scope),))
    return Call("not", (lower_expr(inner, scope),))


def _is(node: exp.Is, scope: Scope) -> Expr:
    if not isinstance(node.expression, exp.Null):
        raise scope.source.unsupported(node, f"IS {node.expression.sql(dialect='duckdb')}")
    return Call("is_null", (lower_expr(node.this, scope),))


def _negated(node: exp.Expr, inner: Expr) -> Expr:
    return Call("not", (inner,)) if node.args.get("negate") else inner


def _in(node: exp.In, scope: Scope) -> Expr:
    if node.args.get("query") is not None or node.args.get("unnest") is not None:
        raise scope.source.unsupported(node, "IN (subquery)")
    if node.args.get("field") is not None:
        raise scope.source.unsupported(node, "IN over a non-list value")
    child = lower_expr(node.this, scope)
    items = [lower_expr(e, scope) for e in node.expressions]
    if all(isinstance(i, Literal) for i in items):
        return _negated(node, InList(child, tuple(i.value for i in items)))  # type: ignore[attr-defined]
    result: Expr | None = None
    for item in items:  # x IN (a, b) is x = a OR x = b, also under three-valued logic
        term = Call("eq", (child, item))
        result = term if result is None else Call("or", (result, term))
    assert result is not None
    return _negated(node, result)


def _null_safe_eq(node: exp.NullSafeEQ | exp.NullSafeNEQ, scope: Scope) -> Expr:
    """``a IS NOT DISTINCT FROM b``: NULLs compare equal, the result is never NULL."""
    left, right = lower_expr(node.this, scope), lower_expr(node.expression, scope)
    left_null, right_null = Call("is_null", (left,)), Call("is_null", (right,))
    same = Case(
        (
            (Call("and", (left_null, right_null)), lit(True)),
            (Call("or", (left_null, right_null)), lit(False)),
        ),
        Call("eq", (left, right)),
    )
    return Call("not", (same,)) if isinstance(node, exp.NullSafeNEQ) else same


def _between(node: exp.Between, scope: Scope) -> Expr:
    if node.args.get("symmetric"):
        raise scope.source.unsupported(node, "BETWEEN SYMMETRIC")
    args = (
        lower_expr(node.this, scope),
        lower_expr(node.args["low"], scope),
        lower_expr(node.args["high"], scope),
    )
    return _negated(node, Call("between", args))


def _like(node: exp.Like | exp.ILike, scope: Scope) -> Expr:
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise scope.source.unsupported(pattern, "LIKE with a non-constant pattern")
    options = make_options(pattern=pattern.this, case_insensitive=isinstance(node, exp.ILike))
    return _negated(node, Call("like", (lower_expr(node.this, scope),), options))


# --- conditionals -----------------------------------------------------------------


def _case(node: exp.Case, scope: Scope) -> Expr:
    operand = node.this
    base = lower_expr(operand, scope) if operand is not None else None
    branches = []
    for branch in node.args.get("ifs") or []:
        condition = lower_expr(branch.this, scope)
        if base is not None:
            condition = Call("eq", (base, condition))
        branches.append((condition, lower_expr(branch.args["true"], scope)))
    default = node.args.get("default")
    otherwise = lower_expr(default, scope) if default is not None else None
    return Case(tuple(branches), otherwise)


def _if(node: exp.If, scope: Scope) -> Expr:
    condition = lower_expr(node.this, scope)
    otherwise = node.args.get("false")
    branches = ((condition, lower_expr(node.args["true"], scope)),)
    return Case(branches, lower_expr(otherwise, scope) if otherwise is not None else None)


def _nullif(node: exp.Nullif, scope: Scope) -> Expr:
    value = lower_expr(node.this, scope)
    other = lower_expr(node.expression, scope)
    return Case(((Call("eq", (value, other)), lit(None)),), value)


def _coalesce(node: exp.Coalesce, scope: Scope) -> Expr:
    args = [node.this, *node.expressions]
    return coalesce(*(lower_expr(a, scope) for a in args))


# --- casts and functions ----------------------------------------------------------


def _filter(node: exp.Filter, scope: Scope) -> Expr:
    line, col = scope.source.keyword_after(frozenset({"FILTER"}), node)
    raise UnsupportedSQLError(
        "aggregate FILTER (WHERE ...)",
        line=line,
        col=col,
        hint="aggregate a CASE instead: sum(CASE WHEN cond THEN x END), count(CASE WHEN cond THEN 1 END)",
    )


def _cast(node: exp.Cast, scope: Scope) -> Expr:
    dtype = arrow_type(node.to)
    if dtype is None:
        raise scope.source.unsupported(node, f"type {node.to.sql(dialect='duckdb')}")
    inner = node.this
    if isinstance(node, exp.TryCast) or node.args.get("safe"):  # NULL where the cast fails
        return Call("try_cast", (lower_expr(inner, scope),), make_options(to=dtype))
    is_temporal = pa.types.is_date(dtype) or pa.types.is_timestamp(dtype)
    if isinstance(inner, exp.Literal) and inner.is_string and is_temporal:
        value = temporal_value(inner.this, dtype)
        if value is None:
            raise BindError(
                f"invalid {node.to.sql()} literal {inner.this!r}{scope.source.where(node)}"
            )
        return Literal(value, dtype)
    return Cast(lower_expr(inner, scope), dtype)


def _round(node: exp.Round, scope: Scope) -> Expr:
    decimals = node.args.get("decimals")
    ndigits = 0
    if decimals is not None:
        value = lower_expr(decimals, scope)
        if not (isinstance(value, Literal) and isinstance(value.value, int)):
            raise scope.source.unsupported(decimals, "round() with non-constant digits")
        ndigits = value.value
    return Call("round", (lower_expr(node.this, scope),), make_options(ndigits=ndigits))


def _unit_name(node: exp.Expr | None) -> str:
    if node is None:
        return ""
    return (node.name if isinstance(node, exp.Var | exp.Literal) else node.sql()).lower()


def _extract(node: exp.Extract, scope: Scope) -> Expr:
    field = _unit_name(node.this)
    if field not in EXTRACT_FIELDS:
        raise scope.source.unsupported(node, f"EXTRACT({field.upper()} ...)")
    return Call("extract", (lower_expr(node.expression, scope),), make_options(field=field))


def _date_trunc(node: exp.TimestampTrunc | exp.DateTrunc, scope: Scope) -> Expr:
    written = scope.source.argument_count(node)
    if written is not None and written != 2:  # sqlglot drops a third (time zone) argument
        raise scope.source.unsupported(node, f"date_trunc() with {written} arguments")
    unit = _unit_name(node.args.get("unit"))
    if unit not in TRUNC_UNITS:
        raise scope.source.unsupported(node, f"date_trunc unit {unit!r}")
    return Call("date_trunc", (lower_expr(node.this, scope),), make_options(unit=unit))


def _string_predicate(node: exp.StartsWith | exp.Contains, scope: Scope) -> Expr:
    """``starts_with(s, 'p')`` / ``contains(s, 'p')``: the pattern must be a constant."""
    fn = "starts_with" if isinstance(node, exp.StartsWith) else "contains"
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise scope.source.unsupported(pattern, f"{fn} with a non-constant pattern")
    return Call(fn, (lower_expr(node.this, scope),), make_options(pattern=pattern.this))


def _floor_ceil(node: exp.Floor | exp.Ceil, scope: Scope) -> Expr:
    fn = "floor" if isinstance(node, exp.Floor) else "ceil"
    if node.args.get("decimals") is not None or node.args.get("to") is not None:
        raise scope.source.unsupported(node, f"{fn}() with a precision argument")
    return Call(fn, (lower_expr(node.this, scope),))


def _trim(node: exp.Trim, scope: Scope) -> Expr:
    if node.args.get("expression") is not None or node.args.get("collation") is not None:
        raise scope.source.unsupported(node, "trim() of characters other than spaces")
    position = str(node.args.get("position") or "BOTH").upper()
    fn = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(position, "trim")
    return Call(fn, (lower_expr(node.this, scope),))


def _substring(node: exp.Substring, scope: Scope) -> Expr:
    """``substring(s, start[, length])`` with constant positions (1-based; a negative
    start counts from the end), as DuckDB."""
    values = []
    for arg in ("start", "length"):
        value = node.args.get(arg)
        if value is None:
            values.append(None)
            continue
        negative = isinstance(value, exp.Neg)
        inner = value.this if negative else value
        if not (isinstance(inner, exp.Literal) and not inner.is_string and inner.this.isdigit()):
            raise scope.source.unsupported(
                value, f"substring() with a {arg} that is not a constant"
            )
        values.append(-int(inner.this) if negative else int(inner.this))
    start, length = values
    if length is not None and length < 0:
        raise scope.source.unsupported(node, "substring() with a negative length")
    options = make_options(start=start, length=length)
    return Call("substring", (lower_expr(node.this, scope),), options)


_Handler = Callable[[exp.Expr, Scope], Expr]
_HANDLERS: dict[type[exp.Expr], _Handler] = {
    exp.Literal: _literal,  # type: ignore[dict-item]
    exp.Boolean: _boolean,  # type: ignore[dict-item]
    exp.Null: _null,  # type: ignore[dict-item]
    exp.Column: _column,  # type: ignore[dict-item]
    exp.Paren: _paren,  # type: ignore[dict-item]
    exp.Div: _div,  # type: ignore[dict-item]
    exp.Add: _add_sub,  # type: ignore[dict-item]
    exp.Sub: _add_sub,  # type: ignore[dict-item]
    exp.Neg: _neg,  # type: ignore[dict-item]
    exp.Not: _not,  # type: ignore[dict-item]
    exp.Is: _is,  # type: ignore[dict-item]
    exp.In: _in,  # type: ignore[dict-item]
    exp.Between: _between,  # type: ignore[dict-item]
    exp.NullSafeEQ: _null_safe_eq,  # type: ignore[dict-item]
    exp.NullSafeNEQ: _null_safe_eq,  # type: ignore[dict-item]
    exp.Like: _like,  # type: ignore[dict-item]
    exp.ILike: _like,  # type: ignore[dict-item]
    exp.Case: _case,  # type: ignore[dict-item]
    exp.If: _if,  # type: ignore[dict-item]
    exp.Nullif: _nullif,  # type: ignore[dict-item]
    exp.Coalesce: _coalesce,  # type: ignore[dict-item]
    exp.Cast: _cast,  # type: ignore[dict-item]
    exp.Round: _round,  # type: ignore[dict-item]
    exp.Extract: _extract,  # type: ignore[dict-item]
    exp.TimestampTrunc: _date_trunc,  # type: ignore[dict-item]
    exp.DateTrunc: _date_trunc,  # type: ignore[dict-item]
    exp.StartsWith: _string_predicate,  # type: ignore[dict-item]
    exp.Contains: _string_predicate,  # type: ignore[dict-item]
    exp.Floor: _floor_ceil,  # type: ignore[dict-item]
    exp.Ceil: _floor_ceil,  # type: ignore[dict-item]
    exp.Trim: _trim,  # type: ignore[dict-item]
    exp.Substring: _substring,  # type: ignore[dict-item]
    exp.Filter: _filter,  # type: ignore[dict-item]
    exp.TryCast: _cast,  # type: ignore[dict-item]
    **FUNCTION_HANDLERS,
}

_THIS = frozenset({"this"})
_BOTH = frozenset({"this", "expression"})
#: The sqlglot arguments each handled node kind reads (others that are set are refused:
#: ``week(d, 1)``, ``round(x, 1, 2)``, ``x % y`` with another dialect's safe semantics).
_READ: dict[type[exp.Expr], frozenset[str]] = {
    **dict.fromkeys(_BINARY, _BOTH),
    **dict.fromkeys(_UNARY_CALLS, _THIS),
    **dict.fromkeys(_EXTRACT_CALLS, _THIS),
    exp.Literal: frozenset({"this", "is_string"}),
    exp.Boolean: _THIS,
    exp.Null: frozenset(),
    exp.Column: frozenset({"this", "table", "db", "catalog"}),
    exp.Paren: _THIS,
    exp.Div: _BOTH,
    exp.Neg: _THIS,
    exp.Not: _THIS,
    exp.Is: _BOTH,
    exp.In: frozenset({"this", "expressions", "query", "unnest", "field"}),
    exp.Between: frozenset({"this", "low", "high", "symmetric"}),
    exp.NullSafeEQ: _BOTH,
    exp.NullSafeNEQ: _BOTH,
    exp.Like: frozenset({"this", "expression", "negate"}),
    exp.ILike: frozenset({"this", "expression", "negate"}),
    exp.Case: frozenset({"this", "ifs", "default"}),
    exp.If: frozenset({"this", "true", "false"}),
    exp.Nullif: _BOTH,
    exp.Coalesce: frozenset({"this", "expressions", "is_nvl", "is_null"}),  # NVL/IFNULL: same
    exp.Cast: frozenset({"this", "to", "safe"}),
    exp.TryCast: frozenset({"this", "to", "safe"}),
    exp.Round: frozenset({"this", "decimals"}),
    exp.Extract: _BOTH,
    exp.TimestampTrunc: frozenset({"this", "unit"}),
    exp.DateTrunc: frozenset({"this", "unit"}),
    exp.StartsWith: _BOTH,
    exp.Contains: _BOTH,
    exp.Floor: frozenset({"this", "decimals", "to"}),
    exp.Ceil: frozenset({"this", "decimals", "to"}),
    exp.Trim: frozenset({"this", "expression", "position", "collation"}),
    **FUNCTION_READS,
}
