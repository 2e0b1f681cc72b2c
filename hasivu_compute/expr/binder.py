"""Bind a name-based expression against an Arrow schema, once.

Binding resolves columns (unknown names raise :class:`BindError` with near
matches), checks argument types, computes every node's result type and makes
implicit SQL conversions explicit: literals adopt the type of what they are
compared with (``int32_col = 1`` compares int32), mixed operands get a
:class:`Cast` to their common type, and integer ``/`` divides as float64 like
DuckDB. Evaluation, push-down and pruning then trust the bound tree as is.

>>> import pyarrow as pa
>>> from hasivu_compute.expr import col
>>> bound = bind(col("a") / 2, pa.schema([("a", pa.int32())]))
>>> bound.dtype
DataType(double)
>>> bind(col("amout"), pa.schema([("amount", pa.float64())]))
Traceback (most recent call last):
...
hasivu_compute._core.errors.BindError: unknown column 'amout'; did you mean 'amount'? (columns: amount)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import pyarrow as pa
import pyarrow.types as pat

from hasivu_compute._core.errors import BindError, near_matches
from hasivu_compute.expr import types as T
from hasivu_compute.expr.nodes import (
    AggCall,
    Alias,
    BoundColumn,
    Call,
    Case,
    Cast,
    Column,
    Expr,
    InList,
    Literal,
    infer_type,
)
from hasivu_compute.expr.window import WindowCall, bind_window

ARITHMETIC = frozenset({"add", "subtract", "multiply"})
COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
STRING_PREDICATES = frozenset({"starts_with", "contains", "like"})
#: Parts accepted by ``extract`` (DuckDB names; ``dow`` counts from Sunday = 0).
EXTRACT_FIELDS = frozenset(
    {
        "year",
        "quarter",
        "month",
        "week",
        "day",
        "dow",
        "dayofweek",
        "isodow",
        "doy",
        "dayofyear",
        "hour",
        "minute",
        "second",
        "epoch",
    }
)
#: Units accepted by ``date_trunc``.
TRUNC_UNITS = frozenset({"year", "quarter", "month", "week", "day", "hour", "minute", "second"})
_DISTINCT_OK = frozenset({"count", "min", "max", "approx_count_distinct"})
_TIME_OF_DAY = frozenset({"hour", "minute", "second"})


def bind(expr: Expr, schema: pa.Schema) -> Expr:
    """Resolve names and types of ``expr`` against ``schema``.

    Already-bound columns are re-resolved by name, so re-binding against another
    schema (after a projection) is fine.

    Raises:
        BindError: unknown column (with near matches) or a type error naming the
            offending sub-expression.
    """
    return _Binder(schema).bind(expr)


class _Binder:
    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.names: list[str] = list(schema.names)

    def bind(self, expr: Expr) -> Expr:
        if isinstance(expr, Column | BoundColumn):
            return self._column(expr.name)
        if isinstance(expr, Literal):
            return expr
        if isinstance(expr, Alias):
            return Alias(self.bind(expr.child), expr.name)
        if isinstance(expr, Cast):
            return _bind_cast(self.bind(expr.child), expr.dtype)
        if isinstance(expr, Case):
            return self._case(expr)
        if isinstance(expr, InList):
            return _bind_in_list(self.bind(expr.child), expr.values)
        if isinstance(expr, Call):
            args = tuple(self.bind(a) for a in expr.args)
            return bind_call(expr.fn, args, expr.options, expr)
        if isinstance(expr, AggCall):
            return self._agg(expr)
        if isinstance(expr, WindowCall):
            return bind_window(expr, self.bind)
        raise BindError(f"cannot bind expression node {type(expr).__name__}")

    def _column(self, name: str) -> BoundColumn:
        index = self.schema.get_field_index(name)
        if index < 0:
            if name in self.names:
                raise BindError(f"column name '{name}' is ambiguous (appears twice)")
            raise BindError(_unknown_column_message(name, self.names))
        return BoundColumn(name, index, self.schema.field(index).type)

    def _case(self, expr: Case) -> Case:
        conds = [_as_bool(self.bind(c), "CASE WHEN condition") for c, _ in expr.branches]
        values = [self.bind(v) for _, v in expr.branches]
        if expr.otherwise is not None:
            values.append(self.bind(expr.otherwise))
        common = common_type(values, expr)
        values = [coerce_to(v, common) for v in values]
        n = len(conds)
        otherwise = values[n] if expr.otherwise is not None else None
        return Case(tuple(zip(conds, values[:n], strict=True)), otherwise, common)

    def _agg(self, expr: AggCall) -> AggCall:
        from hasivu_compute.expr.aggregates import aggregate_function

        args = tuple(self.bind(a) for a in expr.args)
        for a in args:
            if _contains_aggregate(a):
                raise BindError(f"aggregate inside aggregate is not allowed: {expr}")
        func = aggregate_function(expr.fn)
        if expr.distinct and func.name not in _DISTINCT_OK:
            raise BindError(f"{func.name}(DISTINCT ...) is not supported: {expr}")
        arity = func.arity(expr)
        if func.name != "count" and len(args) != arity:
            raise BindError(f"{func.name} takes {arity} argument(s), got {len(args)}: {expr}")
        if func.name == "count" and len(args) > 1:
            raise BindError(f"count takes at most one argument: {expr}")
        input_type = args[0].dtype if args else None
        dtype = func.result_type(input_type, expr)
        return AggCall(func.name, args, expr.distinct, expr.options, dtype)


def _unknown_column_message(name: str, names: list[str]) -> str:
    near = near_matches(name, names)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    shown = ", ".join(names[:30]) + (", ..." if len(names) > 30 else "")
    return f"unknown column '{name}'{hint} (columns: {shown})"


def _contains_aggregate(expr: Expr) -> bool:
    return isinstance(expr, AggCall) or any(_contains_aggregate(c) for c in expr.children())


# --- coercion helpers -------------------------------------------------------------------


def literal_as(value: object, dtype: pa.DataType) -> Literal:
    """A literal of ``dtype`` holding ``value`` converted (BindError if it does not fit)."""
    if value is None:
        return Literal(None, dtype)
    try:
        if isinstance(value, _dt.datetime) and pat.is_timestamp(dtype):
            if dtype.tz is not None and value.tzinfo is None:
                value = value.replace(tzinfo=_dt.UTC)
            elif dtype.tz is None and value.tzinfo is not None:
                value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        if isinstance(value, str) and not T.is_string(dtype):
            scalar = _parse_string(value, dtype)
        elif isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
            scalar = pa.scalar(value, pa.date32()).cast(dtype)
        else:
            scalar = _scalar_as(value, dtype)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise BindError(f"value {value!r} cannot be used as {dtype}: {e}") from None
    except (TypeError, ValueError, OverflowError) as e:
        raise BindError(f"value {value!r} cannot be used as {dtype}: {e}") from None
    return Literal(scalar.as_py(), dtype)


def _scalar_as(value: object, dtype: pa.DataType) -> pa.Scalar:
    """``value`` as a scalar of ``dtype``; falls back to a checked cast (Decimal → double)."""
    try:
        return pa.scalar(value, type=dtype)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.scalar(value).cast(dtype)


def _parse_string(value: str, dtype: pa.DataType) -> pa.Scalar:
    """Parse a SQL string literal as ``dtype``; a zone-less timestamp is taken as UTC."""
    try:
        return pa.scalar(value).cast(dtype)
    except pa.ArrowInvalid:
        if not (pat.is_timestamp(dtype) and dtype.tz is not None):
            raise
    naive = pa.scalar(value).cast(pa.timestamp(dtype.unit)).as_py()
    return pa.scalar(naive.replace(tzinfo=_dt.UTC), type=dtype)


def coerce_to(expr: Expr, dtype: pa.DataType) -> Expr:
    """``expr`` as ``dtype``: literals are converted now, others get a Cast node."""
    if expr.dtype.equals(dtype):
        return expr
    if isinstance(expr, Literal):
        return literal_as(expr.value, dtype)
    if not T.can_cast(expr.dtype, dtype):
        raise BindError(f"cannot convert {expr} of type {expr.dtype} to {dtype}")
    return Cast(expr, dtype)


def _adopt_literal(lit_: Literal, other: pa.DataType) -> Literal | None:
    """The literal retyped to ``other`` when SQL would let it adopt that type."""
    value, ltype = lit_.value, lit_.dtype
    if value is None or T.is_null_type(ltype):
        return Literal(None, other)
    if isinstance(value, str) and T.is_string(ltype) and not T.is_string(other):
        return literal_as(value, other)  # '2025-01-01' compared with a date
    adopt = (
        (T.is_integer(ltype) and (T.is_numeric(other)))
        or (T.is_decimal(ltype) and T.is_decimal(other))
        or (T.is_float(ltype) and T.is_float(other) and other.bit_width >= 32)
        or (pat.is_timestamp(ltype) and pat.is_timestamp(other))
        or (T.is_string(ltype) and T.is_string(other))
    )
    if not adopt:
        return None
    try:
        return literal_as(value, other)
    except BindError:
        return None  # does not fit: fall back to the common supertype


def unify(a: Expr, b: Expr, what: object) -> tuple[Expr, Expr, pa.DataType]:
    """Coerce two operands to one common type (literals adopt the other side's type)."""
    if isinstance(a, Literal) and not isinstance(b, Literal):
        adopted = _adopt_literal(a, b.dtype)
        if adopted is not None:
            return adopted, b, b.dtype
    if isinstance(b, Literal) and not isinstance(a, Literal):
        adopted = _adopt_literal(b, a.dtype)
        if adopted is not None:
            return a, adopted, a.dtype
    try:
        common = T.supertype(a.dtype, b.dtype)
    except BindError:
        raise BindError(f"type mismatch in {what}: {a} is {a.dtype} but {b} is {b.dtype}") from None
    return coerce_to(a, common), coerce_to(b, common), common


def common_type(exprs: list[Expr], what: object) -> pa.DataType:
    """Common type of ``exprs``; literals adopt the others' type when they fit (SQL)."""
    typed = [e for e in exprs if not isinstance(e, Literal)]
    common = _fold_supertype(typed or exprs, what)
    if typed:
        for e in exprs:
            if isinstance(e, Literal) and _adopt_literal(e, common) is None:
                common = _fold_supertype([e], what, common)
    return common


def _fold_supertype(
    exprs: list[Expr], what: object, start: pa.DataType | None = None
) -> pa.DataType:
    common: pa.DataType = pa.null() if start is None else start
    for e in exprs:
        try:
            common = T.supertype(common, e.dtype)
        except BindError:
            raise BindError(
                f"type mismatch in {what}: {e} is {e.dtype}, expected {common}"
            ) from None
    return common


class _Describe:
    """A message fragment rendered only if an error is raised (binding stays cheap)."""

    __slots__ = ("parts",)

    def __init__(self, *parts: object) -> None:
        self.parts = parts

    def __str__(self) -> str:
        return " ".join(str(p) for p in self.parts)


def _as_bool(expr: Expr, what: object) -> Expr:
    if pat.is_boolean(expr.dtype):
        return expr
    if T.is_null_type(expr.dtype):
        return coerce_to(expr, pa.bool_())
    raise BindError(f"{what} must be boolean, got {expr} of type {expr.dtype}")


def _bind_cast(child: Expr, dtype: pa.DataType) -> Expr:
    if not T.can_cast(child.dtype, dtype):
        raise BindError(f"cannot cast {child} from {child.dtype} to {dtype}")
    if isinstance(child, Literal) and child.value is None:
        return Literal(None, dtype)
    return Cast(child, dtype)


def _bind_in_list(child: Expr, values: tuple[object, ...]) -> Expr:
    lits = [Literal(v, infer_type(v)) for v in values]
    common = common_type([child, *lits], f"{child} IN (...)")
    if isinstance(child, Literal) or not _all_adopt(lits, child.dtype):
        child = coerce_to(child, common)
    converted = tuple(literal_as(v.value, child.dtype).value for v in lits)
    return InList(child, converted)


def _all_adopt(lits: list[Literal], dtype: pa.DataType) -> bool:
    return all(_adopt_literal(v, dtype) is not None for v in lits)


# --- scalar functions ----------------------------------------------------------------


def bind_call(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    """Type-check one call whose arguments are already bound."""
    rule = _RULES.get(fn)
    if rule is None:
        near = near_matches(fn, _RULES)
        hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise BindError(f"unknown function '{fn}'{hint}")
    return rule(fn, args, options, node)


Rule = Callable[[str, tuple[Expr, ...], tuple[tuple[str, object], ...], Expr], Call]


def _arity(fn: str, args: tuple[Expr, ...], n: int) -> None:
    if len(args) != n:
        raise BindError(f"{fn} takes {n} argument(s), got {len(args)}")


def _rule_arith(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 2)
    a, b = args
    if isinstance(a, Literal) and not isinstance(b, Literal) and T.is_numeric(b.dtype):
        a = _first(_adopt_literal(a, b.dtype), a)
    elif isinstance(b, Literal) and not isinstance(a, Literal) and T.is_numeric(a.dtype):
        b = _first(_adopt_literal(b, a.dtype), b)
    a, b = _null_to(a, b), _null_to(b, a)
    a, b = _date_to_timestamp(fn, a, b), _date_to_timestamp(fn, b, a)
    if fn == "subtract" and pat.is_date(a.dtype) and pat.is_date(b.dtype):
        a, b = _epoch_days(a), _epoch_days(b)  # DATE - DATE is BIGINT days (DuckDB)
    try:
        dtype = T.probe_type(f"{fn}_checked", a.dtype, b.dtype)
    except BindError:
        narrowed = _narrow_decimals(fn, a, b)
        if narrowed is None:
            raise BindError(
                f"cannot apply {fn} to {a} ({a.dtype}) and {b} ({b.dtype}) in {node}"
            ) from None
        a, b = narrowed
        dtype = T.probe_type(f"{fn}_checked", a.dtype, b.dtype)
    return Call(fn, (a, b), options, dtype)


_INT_DIGITS = {8: 3, 16: 5, 32: 10, 64: 20}
_MAX_PRECISION = 38


def _decimal_view(t: pa.DataType) -> tuple[int, int] | None:
    """(integer digits, scale) of a decimal or integer type; None for other types."""
    if T.is_decimal(t):
        return t.precision - t.scale, t.scale
    if T.is_integer(t):
        return _INT_DIGITS[t.bit_width], 0
    return None


def _narrow_decimals(fn: str, a: Expr, b: Expr) -> tuple[Expr, Expr] | None:
    """Operands re-typed so a decimal result fits precision 38 (as DuckDB caps it).

    Arrow sizes ``decimal * decimal`` as p1 + p2 + 1 digits and refuses beyond 38;
    DuckDB caps at 38 and checks overflow per value. We give the operands just
    enough integer digits to fit; a value that does not fit raises at evaluation.
    """
    va, vb = _decimal_view(a.dtype), _decimal_view(b.dtype)
    if va is None or vb is None or not (T.is_decimal(a.dtype) or T.is_decimal(b.dtype)):
        return None
    (ia, sa), (ib, sb) = va, vb
    if fn == "multiply":
        budget = _MAX_PRECISION - 1 - sa - sb
        while ia + ib > budget and max(ia, ib) > 1:
            if ia >= ib:
                ia -= 1
            else:
                ib -= 1
        if ia + ib > budget:
            return None
    else:
        limit = _MAX_PRECISION - 1 - max(sa, sb)
        if limit < 1:
            return None
        ia, ib = min(ia, limit), min(ib, limit)
    ta, tb = pa.decimal128(ia + sa, sa), pa.decimal128(ib + sb, sb)
    return coerce_to(a, ta), coerce_to(b, tb)


def _epoch_days(e: Expr) -> Expr:
    """A date as int64 days since 1970-01-01."""
    if isinstance(e, Literal):
        days = None if e.value is None else (e.value - _dt.date(1970, 1, 1)).days  # type: ignore[operator]
        return Literal(days, pa.int64())
    if pat.is_date64(e.dtype):
        e = coerce_to(e, pa.date32())
    return Cast(Cast(e, pa.int32()), pa.int64())


def _date_to_timestamp(fn: str, e: Expr, other: Expr) -> Expr:
    """DATE ± duration is a TIMESTAMP (DuckDB); Arrow has no date + duration kernel."""
    if fn in ("add", "subtract") and pat.is_date(e.dtype) and pat.is_duration(other.dtype):
        return coerce_to(e, pa.timestamp(other.dtype.unit))
    return e


def _first(candidate: Expr | None, fallback: Expr) -> Expr:
    return fallback if candidate is None else candidate


def _null_to(e: Expr, other: Expr) -> Expr:
    if T.is_null_type(e.dtype):
        target = other.dtype if not T.is_null_type(other.dtype) else pa.int64()
        return coerce_to(e, target)
    return e


def _numeric_args(fn: str, args: tuple[Expr, ...], node: Expr) -> tuple[Expr, ...]:
    out = []
    for a in args:
        a = coerce_to(a, pa.int64()) if T.is_null_type(a.dtype) else a
        if not T.is_numeric(a.dtype):
            raise BindError(f"{fn} needs numbers, got {a} of type {a.dtype} in {node}")
        out.append(a)
    return tuple(out)


def _rule_divide(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 2)
    a, b = _numeric_args(fn, args, node)
    if fn == "int_divide" and T.is_integer(a.dtype) and T.is_integer(b.dtype):
        a, b, common = unify(a, b, node)
        return Call(fn, (a, b), options, common)
    if not (T.is_float(a.dtype) and T.is_float(b.dtype)):
        # DuckDB semantics: integer (and decimal) division yields a double.
        a, b = coerce_to(a, pa.float64()), coerce_to(b, pa.float64())
    a, b, common = unify(a, b, node)
    return Call("divide", (a, b), options, common)


def _rule_modulo(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 2)
    a, b = _numeric_args(fn, args, node)
    if T.is_decimal(a.dtype) or T.is_decimal(b.dtype):
        a, b = coerce_to(a, pa.float64()), coerce_to(b, pa.float64())
    a, b, common = unify(a, b, node)
    return Call(fn, (a, b), options, common)


def _rule_unary_numeric(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 1)
    (a,) = _numeric_args(fn, args, node)
    return Call(fn, (a,), options, a.dtype)


def _rule_float_math(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    """floor / ceil / sqrt: integers compute in float64 (as DuckDB), decimals stay decimal."""
    _arity(fn, args, 1)
    (a,) = _numeric_args(fn, args, node)
    if T.is_integer(a.dtype) or (fn == "sqrt" and T.is_decimal(a.dtype)):
        a = coerce_to(a, pa.float64())
    return Call(fn, (a,), options, T.probe_type(fn, a.dtype))


def _rule_compare(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 2)
    a, b, _ = unify(args[0], args[1], node)
    return Call(fn, (a, b), options, pa.bool_())


def _rule_between(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 3)
    x, lo, hi = args
    x1, lo, _ = unify(x, lo, node)
    x2, hi, _ = unify(x1, hi, node)
    if not x2.same_as(x1):  # hi widened x: widen lo too
        lo = coerce_to(lo, x2.dtype)
    return Call(fn, (x2, lo, hi), options, pa.bool_())


def _rule_logic(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 1 if fn == "not" else 2)
    bound = tuple(_as_bool(a, _Describe("argument of", fn.upper(), "in", node)) for a in args)
    return Call(fn, bound, options, pa.bool_())


def _rule_null_test(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    _arity(fn, args, 1)
    return Call(fn, args, options, pa.bool_())


def _rule_coalesce(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    if not args:
        raise BindError("coalesce needs at least one argument")
    common = common_type(list(args), node)
    return Call(fn, tuple(coerce_to(a, common) for a in args), options, common)


def _string_arg(fn: str, args: tuple[Expr, ...], node: Expr) -> Expr:
    _arity(fn, args, 1)
    (a,) = args
    if T.is_null_type(a.dtype):
        return coerce_to(a, pa.string())
    if not T.is_string(a.dtype):
        raise BindError(f"{fn} needs a string, got {a} of type {a.dtype} in {node}")
    return a


def _rule_string(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    a = _string_arg(fn, args, node)
    if fn in STRING_PREDICATES:
        if not isinstance(dict(options).get("pattern"), str):
            raise BindError(f"{fn} needs a constant string pattern in {node}")
        return Call(fn, (a,), options, pa.bool_())
    dtype = pa.int64() if fn == "length" else a.dtype
    return Call(fn, (a,), options, dtype)


def _temporal_arg(fn: str, args: tuple[Expr, ...], node: Expr) -> Expr:
    _arity(fn, args, 1)
    (a,) = args
    if not T.is_temporal_point(a.dtype):
        raise BindError(f"{fn} needs a date or timestamp, got {a} of type {a.dtype} in {node}")
    return a


def _rule_extract(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    a = _temporal_arg(fn, args, node)
    part = dict(options).get("field")
    if part not in EXTRACT_FIELDS:
        near = near_matches(str(part), EXTRACT_FIELDS)
        raise BindError(
            f"unknown extract field {part!r}; did you mean {near}? "
            f"(fields: {', '.join(sorted(EXTRACT_FIELDS))})"
        )
    if part in _TIME_OF_DAY and pat.is_date(a.dtype):
        a = Cast(a, pa.timestamp("us"))
    dtype = pa.float64() if part == "epoch" else pa.int64()
    return Call(fn, (a,), options, dtype)


def _rule_date_trunc(
    fn: str, args: tuple[Expr, ...], options: tuple[tuple[str, object], ...], node: Expr
) -> Call:
    a = _temporal_arg(fn, args, node)
    unit = dict(options).get("unit")
    if unit not in TRUNC_UNITS:
        near = near_matches(str(unit), TRUNC_UNITS)
        raise BindError(
            f"unknown date_trunc unit {unit!r}; did you mean {near}? "
            f"(units: {', '.join(sorted(TRUNC_UNITS))})"
        )
    return Call(fn, (a,), options, a.dtype)


_RULES: dict[str, Rule] = {
    **{fn: _rule_arith for fn in ARITHMETIC},
    "divide": _rule_divide,
    "int_divide": _rule_divide,
    "modulo": _rule_modulo,
    "negate": _rule_unary_numeric,
    "abs": _rule_unary_numeric,
    "round": _rule_unary_numeric,
    "floor": _rule_float_math,
    "ceil": _rule_float_math,
    "sqrt": _rule_float_math,
    **{fn: _rule_compare for fn in COMPARISONS},
    "between": _rule_between,
    "and": _rule_logic,
    "or": _rule_logic,
    "not": _rule_logic,
    "is_null": _rule_null_test,
    "is_not_null": _rule_null_test,
    "coalesce": _rule_coalesce,
    "lower": _rule_string,
    "upper": _rule_string,
    "length": _rule_string,
    "trim": _rule_string,
    "ltrim": _rule_string,
    "rtrim": _rule_string,
    "substring": _rule_string,
    **{fn: _rule_string for fn in STRING_PREDICATES},
    "extract": _rule_extract,
    "date_trunc": _rule_date_trunc,
}

# The rules of the later functions live in their own module, which imports the helpers
# above; importing it here, once they exist, registers them.
from hasivu_compute.expr.function_rules import RULES as _FUNCTION_RULES  # noqa: E402

_RULES.update(_FUNCTION_RULES)

#: Names of the scalar functions a :class:`Call` may use.
SCALAR_FUNCTIONS = frozenset(_RULES)
