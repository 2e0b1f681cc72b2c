"""Rule: aggregate the fact rows by the join key before joining (eager aggregation).

Before / after::

    Aggregate keys=[s.district] aggs=[count_star() AS n, sum(o.amount) AS revenue]
      Join inner on=[o.school_id = s.school_id]
        Scan orders                  (5M rows)
        Scan schools
    ->
    Aggregate keys=[s.district] aggs=[sum(__pre0_0) AS n, sum(__pre0_1) AS revenue]
      Join inner on=[o.school_id = s.school_id]
        PreAggregate keys=[o.school_id] aggs=[count_star() AS __pre0_0, sum(o.amount) AS __pre0_1]
          Scan orders
        Scan schools

Why it is exact even when a key matches several right rows: each left row stands
for itself in every pair it joins into, and a group of left rows with the same
key joins into the same right rows, so the sum over pairs of a left value equals
the sum over right matches of the group's sum (likewise counts; min and max do
not care how often a value appears). Unmatched left rows of a LEFT join keep
their group's partial with NULL right columns, as the rows did.

Applies to an Aggregate right above an inner or left join with keys when every
group key is on one side and every aggregate is ``count``, ``sum``, ``min`` or
``max`` (not DISTINCT) of left columns, or ``avg`` of a number (a sum of sums over a
sum of counts). The left rows are grouped by the left
group keys, the left join keys and the left columns of the join condition. On
the shards this runs per fragment (``PreAggregate`` is partial by nature), so a
5M-row fact table joins a few thousand groups instead of its rows. A PreAggregate
over a join is rewritten the same way, so a chain of joins (orders x schools x
menu_items) is grouped before its first join.

Only where it pays: grouping costs about what the join it saves costs, so the
left rows are grouped only when the zone maps promise few groups: the product of
the keys' distinct counts (:mod:`hasivu_compute.plan.optimizer.estimates`) at
most :data:`MAX_GROUP_SHARE` of the rows expected there. Without that promise
(a key's count unknown, e.g. a string column) the plan is left as it is::

    Aggregate keys=[o.o_orderpriority] aggs=[sum(l.l_extendedprice) AS revenue]
      Join inner on=[l.l_orderkey = o.o_orderkey]    (6M lineitem rows; l_orderkey spans
        Scan lineitem                                 6M values, so the zone maps allow
        Scan orders                                   as many groups as rows)
    ->  unchanged
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa

from hasivu_compute.expr import coalesce, lit
from hasivu_compute.expr.nodes import AggCall
from hasivu_compute.plan._expr import (
    Alias,
    BoundColumn,
    Column,
    Expr,
    columns_referenced,
    output_name,
    strip_alias,
)
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Aggregate,
    Join,
    PlanNode,
    PreAggregate,
    Project,
    transform_up,
)
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.estimates import Estimator

_DECOMPOSABLE = frozenset({"count", "sum", "min", "max"})
#: Most groups per input row for grouping before the join to pay: grouping costs about
#: what a join probe costs, so it must remove most rows (4 of 5 here) to save work.
MAX_GROUP_SHARE = 0.2


def _refs(exprs: tuple[Expr, ...]) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for e in exprs:
        out |= columns_referenced(e)
    return out


def _split_aggs(
    aggs: tuple[Expr, ...], left: frozenset[str], global_: bool, taken: frozenset[str]
) -> tuple[list[Expr], list[Expr]] | None:
    """``(pre-aggregates, combining aggregates)``, or None when one does not decompose.

    ``global_``: the aggregate has no keys (one row even over no rows); ``taken``:
    names the new pre-aggregate columns must not reuse.
    """
    pre: list[Expr] = []
    outer: list[Expr] = []
    level = 0
    while any(n.startswith(f"__pre{level}_") for n in taken):
        level += 1
    for i, agg in enumerate(aggs):
        call = strip_alias(agg)
        if not isinstance(call, AggCall) or call.distinct or call.options:
            return None
        if not _refs(call.args) <= left:
            return None
        if call.fn == "avg" and _plain_number(call):
            total, rows = f"__pre{level}_{i}_sum", f"__pre{level}_{i}_count"
            pre.append(Alias(AggCall("sum", call.args), total))
            pre.append(Alias(AggCall("count", call.args), rows))
            mean = AggCall("sum", (Column(total),)) / AggCall("sum", (Column(rows),))
            outer.append(Alias(mean, output_name(agg)))
            continue
        if call.fn not in _DECOMPOSABLE:
            return None
        name = f"__pre{level}_{i}"
        pre.append(Alias(AggCall(call.fn, call.args, False, call.options), name))
        combined: Expr = AggCall("sum" if call.fn in ("count", "sum") else call.fn, (Column(name),))
        if call.fn == "count" and global_:  # over no rows count is 0, a sum of counts NULL
            combined = coalesce(combined, lit(0))
        outer.append(Alias(combined, output_name(agg)))
    return pre, outer


def _plain_number(call: AggCall) -> bool:
    """An integer or float argument (avg of those is a double: sum / count gives it)."""
    dtype = getattr(call.args[0], "dtype", None) if len(call.args) == 1 else None
    return dtype is not None and (pa.types.is_integer(dtype) or pa.types.is_floating(dtype))


def _rewrite(node: PlanNode, estimator: Estimator) -> PlanNode:
    if not isinstance(node, Aggregate) or type(node) not in (Aggregate, PreAggregate):
        return node
    child = node.child
    if isinstance(child, Project) and all(isinstance(e, Column | BoundColumn) for e in child.exprs):
        child = child.child  # only puts columns in order (join reordering): names are kept
    if not isinstance(child, Join):
        return node
    join = child
    if join.how not in ("inner", "left") or not join.left_keys or not node.aggs:
        return node
    if isinstance(join.left, PreAggregate):
        return node
    left_order = output_schema(join.left).names
    left = frozenset(left_order)
    right = frozenset(output_schema(join.right).names)
    group: frozenset[str] = frozenset()
    for key in node.keys:
        refs = columns_referenced(key)
        if refs <= left:
            group |= refs
        elif not refs <= right:
            return node  # a key over both sides: the groups need both rows
    taken = left | right | frozenset(output_name(e) for e in node.keys + node.aggs)
    split = _split_aggs(node.aggs, left, not node.keys, taken)
    if split is None:
        return node
    pre, outer = split
    keep = group | _refs(join.left_keys)
    if join.condition is not None:
        keep |= columns_referenced(join.condition) & left
    keys = tuple(Column(n) for n in left_order if n in keep)
    if not _shrinks(estimator, join.left, keys):
        return node
    grouped = PreAggregate(join.left, keys, tuple(pre))
    return replace(node, child=replace(join, left=grouped), aggs=tuple(outer))


def _shrinks(estimator: Estimator, rows: PlanNode, keys: tuple[Expr, ...]) -> bool:
    """Whether grouping ``rows`` by ``keys`` is expected to leave at most
    :data:`MAX_GROUP_SHARE` of them (unknown: no)."""
    expected = estimator.rows(rows)
    groups = estimator.groups(rows, keys)
    if expected is None or groups is None:
        return False
    return groups <= MAX_GROUP_SHARE * expected


def aggregate_before_join(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Group the left side of joins under an aggregate first (see the module docstring)."""
    estimator = Estimator(ctx.source)
    return transform_up(plan, lambda node: _rewrite(node, estimator))


__all__ = ["aggregate_before_join"]
