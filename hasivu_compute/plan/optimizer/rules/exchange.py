"""Rule: place the fragment boundary (Exchange) above every shard-local pipeline.

Before / after::

    Limit 10                              Limit 10
      Filter (amount > 5)        ->         Exchange
        Scan orders                           Filter (amount > 5)
                                                Scan orders

A pipeline is shard-local when it is a scan under any chain of Filter / Project
and broadcast joins (whose right sides are answered apart, before the fragments):
each fragment can run it on its own files. Everything above the Exchange runs in
the merge. Later rules move work below the boundary (aggregate split, top-k and
limit push-down). A plan that already has an Exchange is left alone.
"""

from __future__ import annotations

from hasivu_compute.plan.nodes import Exchange, PlanNode, walk
from hasivu_compute.plan.optimizer import OptimizerContext


def is_local(node: PlanNode) -> bool:
    """Whether ``node`` is a scan under a chain of row-wise operators and broadcast joins."""
    from hasivu_compute.plan.optimizer.rules.join_strategy import probes_locally

    return probes_locally(node)


def _place(node: PlanNode) -> PlanNode:
    if is_local(node):
        return Exchange(node)
    kids = node.children()
    return node.with_children([_place(k) for k in kids]) if kids else node


def insert_exchanges(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Wrap every maximal shard-local pipeline in an :class:`Exchange`.

    Example:
        >>> from hasivu_compute.plan.nodes import Limit, Scan
        >>> from hasivu_compute.plan.render import render
        >>> print(render(insert_exchanges(Limit(Scan("t"), 5), OptimizerContext())))
        Limit 5
          Exchange
            Scan t
    """
    if any(isinstance(n, Exchange) for n in walk(plan)):
        return plan
    return _place(plan)
