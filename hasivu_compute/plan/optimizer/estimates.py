"""Row and distinct-value estimates from the manifests' zone maps, for cost-based rules.

Join ordering and eager aggregation need two numbers: how many rows a plan gives,
and how many distinct values a column (or a tuple of group keys) has there. The
manifests hold, per data file and column, row and null counts and min / max, so:

- rows of a scan = its files' rows (plus the write-ahead buffer) times the
  selectivity of its filter (:func:`selectivity`);
- distinct values of a column: an upper bound from the files' zone maps. A file
  whose min equals its max adds one value (an identity-partitioned column is
  exact this way); otherwise an integer or date column adds at most its value
  range, any other column at most its non-null rows. One more for NULL;
- a join on equal keys gives ``left * right / max(ndv(left key), ndv(right key))``
  for its most selective key (each row meets ``rows / ndv`` partners), a group by
  ``min(rows, product of the keys' ndv)``.

Selectivity follows textbook rules (System R): ``col = v`` is ``1 / ndv`` (a
default when ndv is unknown), a range the share of the column's min..max it
covers for numbers and dates, ``IN`` a sum of equalities, ``LIKE`` and anything
else a fixed factor; AND multiplies, OR adds (minus the overlap), NOT complements.
Estimates are meant for choosing between plans, never for correctness.

>>> import pyarrow as pa
>>> from hasivu_compute.expr import bind, col
>>> from hasivu_compute.storage.stats import ColumnChunkStats
>>> schema = pa.schema([("size", pa.int32())])
>>> stats = {"size": ColumnChunkStats(1000, 0, 1, 50)}
>>> round(selectivity(bind(col("size") == 15, schema), stats.get), 3)
0.02
>>> round(selectivity(bind(col("size") <= 10, schema), stats.get), 2)
0.18
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from hasivu_compute.expr.nodes import BoundColumn, Call, Cast, Column, Expr, InList, Literal
from hasivu_compute.expr.pruning import ColumnStats
from hasivu_compute.plan._expr import output_name, strip_alias
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Exchange,
    Filter,
    Join,
    Limit,
    PlanNode,
    Project,
    Scan,
    Sort,
    Union,
    Window,
)
from hasivu_compute.plan.source import TableSource, field_names_by_id, file_stats_by_name
from hasivu_compute.storage.stats import ColumnChunkStats, merge_stats

#: ``col = v`` when the column's distinct count is unknown (a string, a float).
DEFAULT_EQUALITY = 0.05
#: A range on a column without usable min / max, or a comparison of two columns.
DEFAULT_RANGE = 1 / 3
#: ``LIKE`` / ``starts_with`` and other string matches.
DEFAULT_MATCH = 0.1
#: Any other predicate (a function, a boolean column).
DEFAULT_OTHER = 0.25

StatsLookup = Callable[[str], ColumnStats | None]
#: Distinct values of a column, when the zone maps tell more than a loose bound.
DistinctLookup = Callable[[str], int | None]
_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}


def selectivity(
    predicate: Expr, stats: StatsLookup, distinct: DistinctLookup | None = None
) -> float:
    """The share of rows expected to pass ``predicate`` (bound, names as in ``stats``).

    ``stats`` gives a column's merged zone map; ``distinct`` its distinct values
    (default: from the merged zone map alone).
    """

    def from_stats(name: str) -> int | None:
        found = stats(name)
        return None if found is None else column_distinct([found], exact_only=True)

    try:
        share = _Rules(stats, distinct or from_stats).share(predicate)
    except (TypeError, ValueError, ArithmeticError, OverflowError):
        return DEFAULT_OTHER  # statistics that do not compare: an estimate, not an error
    return min(1.0, max(0.0, share))


class _Rules:
    """The selectivity rules of the module docstring over one pair of lookups."""

    def __init__(self, stats: StatsLookup, distinct: DistinctLookup) -> None:
        self.stats = stats
        self.distinct = distinct

    def share(self, expr: Expr) -> float:
        expr = strip_alias(expr)
        if isinstance(expr, Literal):
            return 1.0 if expr.value is True else 0.0
        if isinstance(expr, InList):
            values = [v for v in expr.values if v is not None]
            return min(1.0, self.equality(expr.child) * len(values))
        if not isinstance(expr, Call):
            return DEFAULT_OTHER
        fn, args = expr.fn, expr.args
        if fn == "and":
            return self.share(args[0]) * self.share(args[1])
        if fn == "or":
            a, b = self.share(args[0]), self.share(args[1])
            return a + b - a * b
        if fn == "not":
            return 1.0 - self.share(args[0])
        if fn in ("is_null", "is_not_null"):
            nulls = self.null_share(args[0])
            return nulls if fn == "is_null" else 1.0 - nulls
        if fn in _FLIP and len(args) == 2:
            return self.comparison(fn, args[0], args[1])
        if fn == "between" and len(args) == 3:
            return self.between(args[0], args[1], args[2])
        if fn in ("like", "ilike", "starts_with", "ends_with", "contains"):
            return DEFAULT_MATCH
        return DEFAULT_OTHER

    def comparison(self, fn: str, left: Expr, right: Expr) -> float:
        if isinstance(left, Literal) and not isinstance(right, Literal):
            fn, left, right = _FLIP[fn], right, left
        if not isinstance(right, Literal) or _column(left) is None:
            return DEFAULT_EQUALITY if fn == "eq" else DEFAULT_RANGE
        if fn in ("eq", "ne"):
            eq = self.equality(left)
            return eq if fn == "eq" else 1.0 - eq
        below = self.share_below(left, right.value)
        if below is None:
            return DEFAULT_RANGE
        return below if fn in ("lt", "le") else 1.0 - below

    def between(self, operand: Expr, low: Expr, high: Expr) -> float:
        if not (isinstance(low, Literal) and isinstance(high, Literal)):
            return DEFAULT_RANGE
        lo, hi = self.share_below(operand, low.value), self.share_below(operand, high.value)
        if lo is None or hi is None:
            return DEFAULT_RANGE * DEFAULT_RANGE
        return max(0.0, hi - lo)

    def equality(self, operand: Expr) -> float:
        name = _column(operand)
        if name is None:
            return DEFAULT_EQUALITY
        ndv = self.distinct(name)
        if ndv is not None:
            return 1.0 / max(1, ndv)
        found = self.stats(name)
        if found is None:
            return DEFAULT_EQUALITY
        # a tiny table's column is most likely a key (5 regions, 25 nations)
        return max(DEFAULT_EQUALITY, 1.0 / max(1, found.row_count))

    def null_share(self, operand: Expr) -> float:
        name = _column(operand)
        found = self.stats(name) if name is not None else None
        if found is None or not found.row_count:
            return DEFAULT_OTHER
        return found.null_count / found.row_count

    def share_below(self, operand: Expr, value: object) -> float | None:
        """The share of the column's min..max range that lies below ``value``."""
        name = _column(operand)
        found = self.stats(name) if name is not None else None
        if found is None or found.min is None or found.max is None:
            return None
        lo, hi, at = _number(found.min), _number(found.max), _number(value)
        if lo is None or hi is None or at is None:
            return None
        if hi <= lo:
            return 0.0 if at < lo else 1.0
        return min(1.0, max(0.0, (at - lo) / (hi - lo)))


def _column(expr: Expr) -> str | None:
    """The column under casts, or None for any other expression."""
    while isinstance(expr, Cast):
        expr = expr.child
    return expr.name if isinstance(expr, (BoundColumn, Column)) else None


def _number(value: object) -> float | None:
    """A point on a line for ranges: numbers, dates as days, timestamps as seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=dt.UTC).timestamp()
    if isinstance(value, dt.date):
        return float(value.toordinal())
    return None


def column_distinct(parts: list[ColumnStats], exact_only: bool = False) -> int | None:
    """An upper bound of distinct values (NULL counts as one) over zone maps ``parts``.

    A part whose min equals its max holds one value (shared parts counted once);
    otherwise an integer or date part holds at most its value range, any other at
    most its non-null rows; an integer or date column as a whole at most the range
    of all parts. ``exact_only``: None when a part has neither one value nor a range
    (rows alone bound a string column too loosely to estimate ``col = v``).
    """
    singles: set[object] = set()
    total = 0
    nulls = False
    lows: list[object] = []
    highs: list[object] = []
    for part in parts:
        nulls = nulls or part.null_count > 0
        non_null = part.row_count - part.null_count
        if non_null <= 0:
            continue
        lows.append(part.min)
        highs.append(part.max)
        if part.min is not None and part.min == part.max:
            singles.add(part.min)
            continue
        span = _span(part.min, part.max)
        if span is None and exact_only:
            return None
        total += non_null if span is None else min(non_null, span)
    bound = len(singles) + total
    whole = _whole_span(lows, highs)
    return (bound if whole is None else min(bound, whole)) + int(nulls)


def _whole_span(lows: list[object], highs: list[object]) -> int | None:
    if not lows or any(v is None for v in lows + highs):
        return None
    try:
        return _span(min(lows), max(highs))  # type: ignore[type-var]
    except TypeError:
        return None


def _span(low: object, high: object) -> int | None:
    if isinstance(low, bool) or isinstance(high, bool):
        return 2
    if isinstance(low, int) and isinstance(high, int):
        return high - low + 1
    if isinstance(low, dt.date) and isinstance(high, dt.date):
        if isinstance(low, dt.datetime) or isinstance(high, dt.datetime):
            return None
        return (high - low).days + 1
    return None


@dataclass(frozen=True, slots=True)
class KeyValues:
    """A join key column's distinct values in its table, and whether the zone maps
    allow it to be a key (as many values as rows)."""

    distinct: float
    key_like: bool


def matching_values(a: KeyValues | None, b: KeyValues | None) -> float | None:
    """``d`` for a join on ``a = b``, where each row meets ``rows / d`` partners.

    A column with as many values as rows may be a key, and the other side then a
    foreign key taking its values from it: ``d`` is the key's count (``l_orderkey``
    spans 6M values, yet holds only the 1.5M ``o_orderkey`` values; a filter on
    orders then keeps lineitem rows in proportion). Without a key the larger count
    (the smaller set of values is taken to be within the larger one)."""
    known = [k for k in (a, b) if k is not None]
    keys = [k.distinct for k in known if k.key_like]
    if keys:
        return min(keys)
    return max((k.distinct for k in known), default=None)


class Estimator:
    """Row and distinct-value estimates of plan nodes, cached per node for one rule run.

    ``source`` answers snapshots (for column ids); without it nothing is known.
    """

    def __init__(self, source: TableSource | None) -> None:
        self._source = source
        self._rows: dict[int, tuple[PlanNode, float | None]] = {}
        self._files: dict[tuple[int, str], tuple[Scan, list[ColumnStats] | None]] = {}

    def rows(self, node: PlanNode) -> float | None:
        """Expected rows of ``node``; None when a scan's files are not known."""
        hit = self._rows.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        value = self._estimate(node)
        self._rows[id(node)] = (node, value)  # the node is kept: its id stays unique
        return value

    def distinct(self, node: PlanNode, expr: Expr) -> float | None:
        """Distinct values of ``expr`` (a column, possibly cast) among ``node``'s rows:
        the zone maps' bound, at most the rows; None when not known."""
        found = self.key_values(node, expr)
        rows = self.rows(node)
        if found is None or rows is None:
            return None
        return max(1.0, min(found.distinct, rows))

    def key_values(self, node: PlanNode, expr: Expr) -> KeyValues | None:
        """Distinct values of join key ``expr`` in the table behind ``node`` (before any
        filter: a filter on each side of a join keeps values independently)."""
        name = _column(strip_alias(expr))
        parts = self._parts(node, name) if name is not None else None
        ndv = column_distinct(parts) if parts is not None else None
        if parts is None or ndv is None:
            return None
        rows = sum(p.row_count for p in parts)
        return KeyValues(float(max(1, ndv)), rows > 0 and ndv >= rows)

    def groups(self, node: PlanNode, keys: tuple[Expr, ...]) -> float | None:
        """Groups of ``node``'s rows by ``keys``: the product of their distinct counts,
        at most the rows; None when a key's count is not known."""
        rows = self.rows(node)
        if rows is None:
            return None
        product = 1.0
        for key in keys:
            ndv = self.distinct(node, key)
            if ndv is None:
                return None
            product *= ndv
        return min(rows, product)

    def selectivity(self, node: PlanNode, predicate: Expr) -> float:
        """The share of ``node``'s rows passing ``predicate`` (over ``node``'s columns)."""

        def stats(name: str) -> ColumnStats | None:
            parts = self._parts(node, name)
            return merge_stats(parts) if parts else None  # type: ignore[arg-type]

        def distinct(name: str) -> int | None:
            parts = self._parts(node, name)
            return None if not parts else column_distinct(parts, exact_only=True)

        return selectivity(predicate, stats, distinct)

    # --- rows ------------------------------------------------------------------------

    def _estimate(self, node: PlanNode) -> float | None:
        if isinstance(node, Scan):
            return self._scan_rows(node)
        if isinstance(node, Filter):
            below = self.rows(node.child)
            return None if below is None else below * self.selectivity(node.child, node.predicate)
        if isinstance(node, Aggregate):
            if not node.keys:
                return 1.0
            return self.groups(node.child, node.keys) or self.rows(node.child)
        if isinstance(node, (Project, Sort, Distinct, Exchange, Window)):
            return self.rows(node.children()[0])
        if isinstance(node, Limit):
            below = self.rows(node.child)
            return below if node.limit is None or below is None else min(below, node.limit)
        if isinstance(node, Union):
            parts = [self.rows(c) for c in node.inputs]
            return None if any(p is None for p in parts) else sum(p or 0.0 for p in parts)
        if isinstance(node, Join):
            return self._join_rows(node)
        return None

    def _scan_rows(self, scan: Scan) -> float | None:
        if scan.files is None:
            return None
        buffered = getattr(self._source, "buffered_rows", None)
        total = float(sum(sf.file.num_rows for sf in scan.files))
        total += buffered(scan.table) if buffered is not None else 0
        if scan.filter is None or total == 0:
            return total
        return max(1.0, total * self.selectivity(scan, scan.filter))

    def _join_rows(self, join: Join) -> float | None:
        left, right = self.rows(join.left), self.rows(join.right)
        if left is None or right is None:
            return None
        pairs = left * right
        for a, b in zip(join.left_keys, join.right_keys, strict=True):
            d = matching_values(self.key_values(join.left, a), self.key_values(join.right, b))
            if d is not None:
                pairs = min(pairs, left * right / d)
        if join.condition is not None:
            pairs *= DEFAULT_RANGE
        if join.how == "semi":
            return min(left, pairs)
        if join.how == "anti":
            return left
        if join.how == "left":
            return max(left, pairs)
        if join.how == "right":
            return max(right, pairs)
        if join.how == "full":
            return max(left + right, pairs)
        return pairs

    # --- columns ---------------------------------------------------------------------

    def _parts(self, node: PlanNode, name: str) -> list[ColumnStats] | None:
        """Per-file zone maps of the scan column behind ``node``'s column ``name``."""
        traced = _trace(node, name)
        if traced is None:
            return None
        scan, column = traced
        hit = self._files.get((id(scan), column))
        if hit is not None and hit[0] is scan:
            return hit[1]
        found = self._read_parts(scan, column)
        self._files[(id(scan), column)] = (scan, found)
        return found

    def _read_parts(self, scan: Scan, column: str) -> list[ColumnStats] | None:
        if scan.files is None or self._source is None:
            return None
        names = field_names_by_id(self._source.snapshot(scan.table, scan.version).schema)
        out: list[ColumnStats] = []
        for sf in scan.files:
            found = file_stats_by_name(sf.file, names).get(column)
            if found is None:
                return None
            out.append(found)
        buffered = getattr(self._source, "buffered_rows", None)
        extra = buffered(scan.table) if buffered is not None else 0
        if extra:  # rows not in files yet: any values (no min / max known)
            out.append(ColumnChunkStats(row_count=extra, null_count=0, min=None, max=None))
        return out


def _trace(node: PlanNode, name: str) -> tuple[Scan, str] | None:
    """The scan and its column that ``node``'s column ``name`` passes through unchanged
    (filters and joins only drop or repeat rows, so its zone maps still bound it)."""
    while True:
        if isinstance(node, Scan):
            return node, name
        if isinstance(node, (Project, Aggregate)):
            exprs = node.exprs if isinstance(node, Project) else node.keys
            found = [strip_alias(e) for e in exprs if output_name(e) == name]
            if not found or not isinstance(found[0], (Column, BoundColumn)):
                return None
            name, node = found[0].name, node.child
        elif isinstance(node, Join):
            node = node.left if name in output_schema(node.left).names else node.right
        elif isinstance(node, (Filter, Sort, Distinct, Exchange, Limit, Window)):
            if isinstance(node, Window) and name not in output_schema(node.child).names:
                return None
            node = node.children()[0]
        else:
            return None


__all__ = [
    "DEFAULT_EQUALITY",
    "DEFAULT_MATCH",
    "DEFAULT_OTHER",
    "DEFAULT_RANGE",
    "Estimator",
    "KeyValues",
    "column_distinct",
    "matching_values",
    "selectivity",
]
