"""Zone-map (min / max / null count) and bloom-filter pruning of bound predicates.

``zone_map_evaluator(pred)`` returns a function of one chunk's (or segment's)
column statistics that answers :data:`ROWS_MIGHT_MATCH` or
:data:`ROWS_CANNOT_MATCH` (pyiceberg's names). It is an abstract interpretation
of SQL three-valued logic: for every sub-predicate it asks "might some row make
this TRUE?" and "might some row make it FALSE?" (a NULL row makes it neither),
so ``NOT``, ``AND`` and ``OR`` compose soundly without rewriting the predicate.
Leaves it understands: ``=, !=, <, <=, >, >=`` against a constant, ``BETWEEN``,
``IN``, ``IS [NOT] NULL``, a boolean column, ``starts_with`` / ``LIKE 'prefix%'``,
each also on a column under an order-preserving cast.
Anything it does not understand (column-to-column comparisons, functions, a
column missing from the statistics, NaN) answers "might", so a chunk holding a
matching row is never skipped.

>>> import pyarrow as pa
>>> from dataclasses import dataclass
>>> from hasivu_compute.expr import bind, col
>>> @dataclass
... class Stats:
...     row_count: int; null_count: int; min: object; max: object; has_nan: bool = False
>>> pred = bind((col("x") > 10) & col("x").is_not_null(), pa.schema([("x", pa.int64())]))
>>> may_match = zone_map_evaluator(pred)
>>> may_match({"x": Stats(100, 0, 1, 9)}) == ROWS_CANNOT_MATCH
True
>>> may_match({"x": Stats(100, 0, 1, 11)}) == ROWS_MIGHT_MATCH
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import pyarrow as pa
import pyarrow.types as pat

from hasivu_compute.expr import types as T
from hasivu_compute.expr.casts import cast_value
from hasivu_compute.expr.nodes import Alias, BoundColumn, Call, Cast, Expr, InList, Literal

#: Some row of the chunk might satisfy the predicate: the chunk must be read.
ROWS_MIGHT_MATCH = True
#: No row of the chunk can satisfy the predicate: the chunk can be skipped.
ROWS_CANNOT_MATCH = False

_FLIP = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_NEGATE = {"eq": "ne", "ne": "eq", "lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}


class ColumnStats(Protocol):
    """What the evaluator reads of a column's zone map (storage's ColumnChunkStats)."""

    @property
    def row_count(self) -> int: ...
    @property
    def null_count(self) -> int: ...
    @property
    def min(self) -> object: ...
    @property
    def max(self) -> object: ...
    @property
    def has_nan(self) -> bool: ...


#: ``might_contain(column, values) -> bool``: False only if no value can be present.
BloomProbe = Callable[[str, Sequence[object]], bool]
ZoneMapEvaluator = Callable[..., bool]


def zone_map_evaluator(predicate: Expr) -> ZoneMapEvaluator:
    """A function ``(stats_by_column, bloom=None) -> bool`` for bound ``predicate``.

    ``stats_by_column`` maps column names to objects with ``row_count``,
    ``null_count``, ``min``, ``max`` and ``has_nan``; ``bloom`` is an optional
    ``might_contain(column, values)`` probe consulted for ``=`` and ``IN``.
    """

    def evaluate(stats: Mapping[str, ColumnStats], bloom: BloomProbe | None = None) -> bool:
        return _ZoneMap(stats, bloom).might(predicate, True)

    return evaluate


class _Range:
    """Statistics of one (possibly cast) column, in the predicate's value domain."""

    __slots__ = ("has_nan", "hi", "lo", "name", "non_null", "nulls", "rows")

    def __init__(self, name: str, stats: ColumnStats, lo: object, hi: object) -> None:
        self.name = name
        self.rows = int(stats.row_count)
        self.nulls = int(stats.null_count)
        self.non_null = self.rows - self.nulls
        self.lo, self.hi = lo, hi
        self.has_nan = bool(getattr(stats, "has_nan", False))

    @property
    def known(self) -> bool:
        """min/max usable: tracked, and no NaN that could compare either way."""
        return self.lo is not None and self.hi is not None and not self.has_nan


class _ZoneMap:
    def __init__(self, stats: Mapping[str, ColumnStats], bloom: BloomProbe | None) -> None:
        self.stats = stats
        self.bloom = bloom

    def might(self, expr: Expr, want: bool) -> bool:
        """Might some row make ``expr`` evaluate to ``want`` (not NULL)?"""
        try:
            return self._might(expr, want)
        except (TypeError, ValueError, ArithmeticError, pa.ArrowException):
            return True  # incomparable statistics: never prune on a doubt

    def _might(self, expr: Expr, want: bool) -> bool:
        if isinstance(expr, Alias):
            return self._might(expr.child, want)
        if isinstance(expr, Literal):
            return expr.value is not None and bool(expr.value) == want
        if isinstance(expr, InList):
            return self._in_list(expr, want)
        if isinstance(expr, BoundColumn) and pat.is_boolean(expr.dtype):
            return self._compare(expr, "eq", True, want)
        if not isinstance(expr, Call):
            return True
        fn, args = expr.fn, expr.args
        if fn == "not":
            return self._might(args[0], not want)
        if fn in ("and", "or"):
            a, b = (self._might(x, want) for x in args)
            return (a and b) if (fn == "and") == want else (a or b)
        if fn in ("is_null", "is_not_null"):
            return self._null_test(args[0], want == (fn == "is_null"))
        if fn in _FLIP:
            return self._comparison(fn, args[0], args[1], want)
        if fn == "between":
            return self._between(args[0], args[1], args[2], want)
        if fn == "starts_with" or (fn == "like" and _like_prefix(expr) is not None):
            prefix = str(expr.option("pattern")) if fn == "starts_with" else _like_prefix(expr)
            return self._prefix(args[0], str(prefix), want)
        return True

    # --- leaves ----------------------------------------------------------------------

    def _range(self, expr: Expr) -> _Range | None:
        """Statistics for a column, or a column under an order-preserving cast."""
        if isinstance(expr, BoundColumn):
            stats = self.stats.get(expr.name)
            return None if stats is None else _Range(expr.name, stats, stats.min, stats.max)
        if isinstance(expr, Cast) and isinstance(expr.child, BoundColumn):
            inner = self._range(expr.child)
            if inner is None or not _monotonic_cast(expr.child.dtype, expr.dtype):
                return None
            inner.lo = _cast_value(inner.lo, expr.child.dtype, expr.dtype)
            inner.hi = _cast_value(inner.hi, expr.child.dtype, expr.dtype)
            return inner
        return None

    def _null_test(self, operand: Expr, want_null: bool) -> bool:
        r = self._range(operand)
        if r is None:
            return True
        return r.nulls > 0 if want_null else r.non_null > 0

    def _comparison(self, fn: str, left: Expr, right: Expr, want: bool) -> bool:
        if isinstance(right, Literal):
            return self._compare(left, fn, right.value, want)
        if isinstance(left, Literal):
            return self._compare(right, _FLIP[fn], left.value, want)
        return True

    def _compare(self, operand: Expr, fn: str, value: object, want: bool) -> bool:
        r = self._range(operand)
        if r is None:
            return True
        if value is None or r.non_null == 0:
            return False  # NULL comparisons are never TRUE nor FALSE
        if not r.known or value != value:
            return True
        op = fn if want else _NEGATE[fn]
        lo, hi = r.lo, r.hi
        result = _range_might(op, lo, hi, value)
        if result and want and op == "eq" and self.bloom is not None:
            return bool(self.bloom(r.name, [value]))
        return result

    def _between(self, operand: Expr, low: Expr, high: Expr, want: bool) -> bool:
        if not (isinstance(low, Literal) and isinstance(high, Literal)):
            return True
        if want:
            return self._compare(operand, "ge", low.value, True) and self._compare(
                operand, "le", high.value, True
            )
        return self._compare(operand, "lt", low.value, True) or self._compare(
            operand, "gt", high.value, True
        )

    def _prefix(self, operand: Expr, prefix: str, want: bool) -> bool:
        """starts_with: strings in [lo, hi] start with ``prefix`` only if hi >= prefix and
        lo's first characters are <= prefix; all of them do if lo and hi both do."""
        r = self._range(operand)
        if r is None:
            return True
        if r.non_null == 0:
            return False
        if not r.known or not isinstance(r.lo, str) or not isinstance(r.hi, str):
            return True
        if want:
            return r.hi >= prefix and r.lo[: len(prefix)] <= prefix
        return not (r.lo.startswith(prefix) and r.hi.startswith(prefix))

    def _in_list(self, expr: InList, want: bool) -> bool:
        r = self._range(expr.child)
        if r is None:
            return True
        values = [v for v in expr.values if v is not None]
        if r.non_null == 0:
            return False
        if not want:
            if len(values) < len(expr.values):
                return False  # a NULL in the list turns every non-match into NULL
            if not r.known:
                return True
            return not (r.lo == r.hi and r.lo in values)
        if not r.known or any(v != v for v in values):
            return True
        inside = [v for v in values if r.lo <= v <= r.hi]  # type: ignore[operator]
        if not inside:
            return False
        return True if self.bloom is None else bool(self.bloom(r.name, inside))


def _like_prefix(expr: Call) -> str | None:
    """The prefix of a case-sensitive ``LIKE 'abc%'`` pattern with no other wildcard."""
    pattern = expr.option("pattern")
    if expr.option("case_insensitive") or expr.option("escape") or not isinstance(pattern, str):
        return None
    if not pattern.endswith("%") or any(c in pattern[:-1] for c in "%_"):
        return None
    return pattern[:-1]


def _range_might(op: str, lo: object, hi: object, v: object) -> bool:
    """Might some value in [lo, hi] satisfy ``value op v``?"""
    lo_, hi_, v_ = lo, hi, v
    if op == "eq":
        return bool(lo_ <= v_ <= hi_)  # type: ignore[operator]
    if op == "ne":
        return not (lo_ == v_ == hi_)
    if op == "lt":
        return bool(lo_ < v_)  # type: ignore[operator]
    if op == "le":
        return bool(lo_ <= v_)  # type: ignore[operator]
    if op == "gt":
        return bool(hi_ > v_)  # type: ignore[operator]
    return bool(hi_ >= v_)  # type: ignore[operator]


def _monotonic_cast(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether CAST(source AS target) preserves order (so min/max map to min/max)."""
    if T.is_numeric(source) and (T.is_float(target) or T.is_decimal(target)):
        return True
    if T.is_integer(source) and T.is_integer(target):
        return True
    if T.is_temporal_point(source) and pat.is_timestamp(target):
        return True
    if pat.is_date(source) and pat.is_date(target):
        return True
    return T.is_string(source) and T.is_string(target)


def _cast_value(value: object, source: pa.DataType, target: pa.DataType) -> object:
    if value is None:
        return None
    # the cast the query runs (DuckDB's rounding), or the bounds would not match the rows
    return cast_value(pa.scalar(value, type=source), target).as_py()
