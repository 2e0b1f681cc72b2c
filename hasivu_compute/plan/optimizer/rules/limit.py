"""Rule: limit push-down — stop reading once enough rows exist.

Before / after::

    Limit 5                       Limit 5
      Exchange          ->          Exchange
        Filter (a > 1)                Limit 5
          Scan t                        Filter (a > 1)
                                          Scan t

A Limit moves below a Project (row-preserving), merges with a Limit below it,
disappears when it keeps everything (``ALL`` with no offset), and is copied
(as ``limit + offset``) below an Exchange and into every input of a Union; the
original stays on top, so the answer is unchanged.
"""

from __future__ import annotations

from hasivu_compute.plan.nodes import Exchange, Limit, PlanNode, Project, Union, transform_down
from hasivu_compute.plan.optimizer import OptimizerContext


def _merge(outer: Limit, inner: Limit) -> Limit:
    offset = inner.offset + outer.offset
    remaining = None if inner.limit is None else max(inner.limit - outer.offset, 0)
    if outer.limit is None:
        n = remaining
    elif remaining is None:
        n = outer.limit
    else:
        n = min(outer.limit, remaining)
    return Limit(inner.child, n, offset)


def _covered(child: PlanNode, n: int) -> bool:
    """Whether ``child`` already keeps at most ``n`` rows (looking through projections)."""
    while isinstance(child, Project):
        child = child.child
    return (
        isinstance(child, Limit)
        and child.offset == 0
        and child.limit is not None
        and (child.limit <= n)
    )


def _push(node: PlanNode) -> PlanNode:
    if not isinstance(node, Limit):
        return node
    child = node.child
    if node.limit is None and node.offset == 0:
        return child
    if isinstance(child, Limit):
        return _merge(node, child)
    if isinstance(child, Project):
        return Project(Limit(child.child, node.limit, node.offset), child.exprs)
    if node.limit is None:
        return node
    n = node.limit + node.offset
    if isinstance(child, Exchange) and not _covered(child.child, n):
        return Limit(Exchange(Limit(child.child, n)), node.limit, node.offset)
    if isinstance(child, Union) and not all(_covered(c, n) for c in child.inputs):
        inputs = tuple(c if _covered(c, n) else Limit(c, n) for c in child.inputs)
        return Limit(Union(inputs), node.limit, node.offset)
    return node


def push_down_limit(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Push limits towards the scans (see module doc).

    Example:
        >>> import pyarrow as pa
        >>> from hasivu_compute.plan.binder import bind_plan
        >>> from hasivu_compute.plan.nodes import Exchange, Limit, Scan
        >>> from hasivu_compute.plan.render import render
        >>> p = bind_plan(Limit(Exchange(Scan("t")), 2, 1),
        ...               lambda n, v: pa.schema([("a", pa.int64())]))
        >>> print(render(push_down_limit(p, OptimizerContext())))
        Limit 2 offset=1
          Exchange
            Limit 3
              Scan t
    """
    return transform_down(plan, _push)
