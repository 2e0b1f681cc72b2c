"""Builders for logical plans, shared by the SDK DataFrame and the SQL lowering.

Two styles, same nodes:

* helper functions (``scan``, ``filter_``, ``project``, ``aggregate``, ``sort``,
  ``limit``, ``distinct``, ``union_all``) that take and return plan nodes, and
* a fluent, immutable :class:`LogicalPlanBuilder` (each call returns a new builder).

Strings are accepted wherever a column expression is expected.

Example:
    >>> from hasivu_compute.expr import col
    >>> b = LogicalPlanBuilder.scan("orders").filter(col("school_id") == 17).limit(5)
    >>> type(b.plan).__name__
    'Limit'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hasivu_compute._core.errors import PlanError
from hasivu_compute.expr.visitors import transform, walk
from hasivu_compute.plan._expr import Alias, Column, Expr, WindowCall, as_expr, output_name
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Filter,
    Limit,
    PlanNode,
    Project,
    Scan,
    Sort,
    SortKey,
    Union,
    Window,
)

ExprLike = Expr | str
SortLike = SortKey | Expr | str


def _exprs(items: Sequence[ExprLike]) -> tuple[Expr, ...]:
    return tuple(as_expr(e) for e in items)


def sort_key(key: SortLike, descending: bool = False, nulls_first: bool | None = None) -> SortKey:
    """A :class:`SortKey` from a column name, an expression or an existing key."""
    if isinstance(key, SortKey):
        return key
    return SortKey(as_expr(key), descending=descending, nulls_first=nulls_first)


def scan(table: str, version: int | None = None, columns: Sequence[str] | None = None) -> Scan:
    """Read ``table`` (optionally at snapshot ``version``, optionally only ``columns``)."""
    return Scan(table, version=version, columns=None if columns is None else tuple(columns))


def filter_(child: PlanNode, predicate: ExprLike) -> Filter:
    """Keep the rows of ``child`` where ``predicate`` is TRUE."""
    return Filter(child, as_expr(predicate))


def project(child: PlanNode, exprs: Sequence[ExprLike]) -> Project:
    """Compute ``exprs`` over ``child`` (names from aliases / column names).

    Window calls inside ``exprs`` (``col("x").sum().over("s")``) are computed first by
    a :class:`Window` node under the projection, which then reads their columns.
    """
    items = _exprs(exprs)
    calls: dict[object, tuple[str, WindowCall]] = {}

    def swap(node: Expr) -> Expr:
        if not isinstance(node, WindowCall):
            return node
        found = calls.setdefault(node.key(), (f"__win_{len(calls)}", node))
        return Column(found[0])

    if not any(isinstance(n, WindowCall) for e in items for n in walk(e)):
        return Project(child, items)
    named = tuple(e if isinstance(e, Alias | Column) else Alias(e, output_name(e)) for e in items)
    swapped = tuple(transform(e, swap) for e in named)
    window = Window(child, tuple(Alias(call, name) for name, call in calls.values()))
    return Project(window, swapped)


def aggregate(child: PlanNode, keys: Sequence[ExprLike], aggs: Sequence[ExprLike]) -> Aggregate:
    """Group ``child`` by ``keys`` and compute ``aggs`` (aggregate calls, aliased)."""
    return Aggregate(child, _exprs(keys), _exprs(aggs))


def sort(
    child: PlanNode,
    keys: Sequence[SortLike],
    descending: bool | Sequence[bool] = False,
    nulls_first: bool | None = None,
) -> Sort:
    """Order ``child`` by ``keys``; ``descending`` may be one flag or one per key."""
    flags = [descending] * len(keys) if isinstance(descending, bool) else list(descending)
    if len(flags) != len(keys):
        raise PlanError(f"sort: {len(keys)} keys but {len(flags)} descending flags")
    return Sort(child, tuple(sort_key(k, d, nulls_first) for k, d in zip(keys, flags, strict=True)))


def limit(child: PlanNode, n: int | None, offset: int = 0) -> Limit:
    """At most ``n`` rows of ``child`` after skipping ``offset``."""
    return Limit(child, n, offset)


def distinct(child: PlanNode) -> Distinct:
    """Drop duplicate rows of ``child``."""
    return Distinct(child)


def union_all(*inputs: PlanNode) -> Union:
    """Concatenate inputs with the same column types (UNION ALL)."""
    return Union(tuple(inputs))


@dataclass(frozen=True, slots=True)
class GroupedBuilder:
    """The result of :meth:`LogicalPlanBuilder.group_by`, waiting for ``agg``."""

    plan: PlanNode
    keys: tuple[Expr, ...]

    def agg(self, *aggs: ExprLike) -> LogicalPlanBuilder:
        """Compute ``aggs`` per group."""
        return LogicalPlanBuilder(Aggregate(self.plan, self.keys, _exprs(aggs)))


@dataclass(frozen=True, slots=True)
class LogicalPlanBuilder:
    """Immutable fluent builder; ``.plan`` is the plan built so far."""

    plan: PlanNode

    @classmethod
    def scan(
        cls, table: str, version: int | None = None, columns: Sequence[str] | None = None
    ) -> LogicalPlanBuilder:
        """Start from a table scan."""
        return cls(scan(table, version, columns))

    def filter(self, predicate: ExprLike) -> LogicalPlanBuilder:
        """Keep rows where ``predicate`` is TRUE."""
        return LogicalPlanBuilder(filter_(self.plan, predicate))

    def select(self, *exprs: ExprLike) -> LogicalPlanBuilder:
        """Project to ``exprs``."""
        return LogicalPlanBuilder(project(self.plan, exprs))

    def group_by(self, *keys: ExprLike) -> GroupedBuilder:
        """Group by ``keys``; finish with ``.agg(...)``."""
        return GroupedBuilder(self.plan, _exprs(keys))

    def agg(self, *aggs: ExprLike) -> LogicalPlanBuilder:
        """Global aggregate (no keys): one output row."""
        return LogicalPlanBuilder(Aggregate(self.plan, (), _exprs(aggs)))

    def sort(
        self,
        *keys: SortLike,
        descending: bool | Sequence[bool] = False,
        nulls_first: bool | None = None,
    ) -> LogicalPlanBuilder:
        """Order by ``keys``."""
        return LogicalPlanBuilder(sort(self.plan, keys, descending, nulls_first))

    def limit(self, n: int | None, offset: int = 0) -> LogicalPlanBuilder:
        """Keep at most ``n`` rows after ``offset``."""
        return LogicalPlanBuilder(limit(self.plan, n, offset))

    def distinct(self) -> LogicalPlanBuilder:
        """Drop duplicate rows."""
        return LogicalPlanBuilder(Distinct(self.plan))

    def union_all(self, *others: LogicalPlanBuilder | PlanNode) -> LogicalPlanBuilder:
        """UNION ALL with ``others``."""
        plans = [o.plan if isinstance(o, LogicalPlanBuilder) else o for o in others]
        return LogicalPlanBuilder(Union((self.plan, *plans)))

    def build(self) -> PlanNode:
        """The plan built so far."""
        return self.plan
