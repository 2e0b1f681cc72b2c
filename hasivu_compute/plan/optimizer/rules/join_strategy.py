"""Rule: choose how each join runs, from sizes the manifests give.

Before / after (``schools`` is small, ``orders`` is a scan the shards hold)::

    Aggregate keys=[region]                  Aggregate keys=[region]
      Join inner strategy=gather      ->       Join inner strategy=broadcast build_rows=500
        Scan orders                              Scan orders
        Scan schools                             Scan schools

``broadcast``: the build side (the right input) is answered once as a query of
its own, shared with the shards (``ray.put``, one copy per node), and every
fragment of the probe side (the left input: a scan under row-wise operators and
other broadcast joins) joins its own rows; what sits above (a partial
aggregate, a top-k) runs in the fragment too, so only partial results move.
Chosen when the build side has at most :data:`BROADCAST_ROWS` rows (an upper
bound from the files the pruned scans read, plus rows still in the write-ahead
log buffer) and the join type keeps no
unmatched build rows (inner, left, semi, anti, cross; a right join is turned
around first). An inner join whose left input is the small one is turned
around too, its columns put back in order by a projection.

``gather`` (the default, any type and size): both inputs are gathered from the
shards and joined in the merge.
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.plan._expr import Column
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Filter,
    Join,
    Limit,
    PlanNode,
    PreAggregate,
    Project,
    Scan,
    Sort,
    Union,
    transform_up,
)
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.source import TableSource

#: Most rows a build side may have to be broadcast (held by every shard that probes).
BROADCAST_ROWS = 2_000_000
_BROADCAST_TYPES = frozenset({"inner", "left", "semi", "anti", "cross"})


def estimated_rows(node: PlanNode, source: TableSource | None = None) -> int | None:
    """An upper bound of ``node``'s rows from its scans' files and the rows still in the
    tables' write-ahead log buffers (``source``); None: not known."""
    if isinstance(node, Scan):
        if node.files is None:
            return None
        buffered = getattr(source, "buffered_rows", None)
        extra = buffered(node.table) if buffered is not None else 0
        return sum(sf.file.num_rows for sf in node.files) + extra
    if isinstance(node, Aggregate) and not node.keys:
        return 1  # a global aggregate: one row
    if isinstance(node, (Filter, Project, Sort, Distinct, Aggregate)):
        return estimated_rows(node.children()[0], source)
    if isinstance(node, Limit):
        below = estimated_rows(node.child, source)
        if node.limit is None:
            return below
        return node.limit if below is None else min(below, node.limit)
    if isinstance(node, Union):
        parts = [estimated_rows(c, source) for c in node.inputs]
        return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    if isinstance(node, Join):
        left = estimated_rows(node.left, source)
        if not node.keeps_right:
            return left
        right = estimated_rows(node.right, source)
        if left is None or right is None or node.left_keys:
            return None  # keys may match many to many: no bound worth using
        return left * right
    return None


def probes_locally(node: PlanNode) -> bool:
    """Whether ``node`` can run inside each fragment of one scan: the scan under row-wise
    operators, pre-aggregates and broadcast joins (whose build sides are answered apart)."""
    while True:
        if isinstance(node, (Filter, Project, PreAggregate)):
            node = node.children()[0]
        elif isinstance(node, Join) and node.strategy == "broadcast":
            node = node.left
        else:
            return isinstance(node, Scan)


def _swapped(join: Join, how: str) -> PlanNode:
    """``join`` with its inputs exchanged, its output columns in the original order."""
    names = output_schema(join).names
    turned = Join(
        join.right,
        join.left,
        how,
        join.right_keys,
        join.left_keys,
        join.condition,
        join.strategy,
    )
    return Project(turned, tuple(Column(n) for n in names))


def _choose(node: PlanNode, source: TableSource | None) -> PlanNode:
    if not isinstance(node, Join) or node.strategy != "gather":
        return node
    join = node
    if join.how == "right":
        turned = _swapped(join, "left")
        assert isinstance(turned, Project) and isinstance(turned.child, Join)
        chosen = _choose(turned.child, source)
        return turned if chosen is turned.child else replace(turned, child=chosen)
    if join.how not in _BROADCAST_TYPES:
        return join
    left_rows = estimated_rows(join.left, source)
    right_rows = estimated_rows(join.right, source)
    if (
        join.how in ("inner", "cross")
        and left_rows is not None
        and (right_rows is None or left_rows < right_rows)
        and probes_locally(join.right)
        and left_rows <= BROADCAST_ROWS
    ):
        turned = _swapped(join, join.how)
        assert isinstance(turned, Project) and isinstance(turned.child, Join)
        return replace(turned, child=_broadcast(turned.child, left_rows))
    if right_rows is not None and right_rows <= BROADCAST_ROWS and probes_locally(join.left):
        return _broadcast(join, right_rows)
    return join


def _broadcast(join: Join, build_rows: int) -> Join:
    return replace(join, strategy="broadcast", build_rows=build_rows)


def choose_join_strategies(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Mark each join ``broadcast`` where the rule in the module docstring allows."""
    return transform_up(plan, lambda node: _choose(node, ctx.source))


__all__ = ["BROADCAST_ROWS", "choose_join_strategies", "estimated_rows", "probes_locally"]
