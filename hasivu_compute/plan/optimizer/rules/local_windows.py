"""Rule: run a window in the fragments when its partitions never span two of them.

Before / after (``orders`` partitioned by ``school_id``)::

    Window [row_number() OVER (PARTITION BY school_id, student_id ORDER BY ts)]
      Exchange                                  ->   Exchange
        Scan orders                                    Window [row_number() OVER (...)]
                                                         Scan orders

A window call needs every row of its partition in one place. When each call's
PARTITION BY names the table's partition columns (or the query reads a single
partition), rows of one window partition share a table partition, and a fragment
holds whole table partitions (``Fragment.whole_partitions``), so the fragments can
compute the window and only the results travel. Otherwise the window stays in the
merge, over the gathered rows.
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.plan._expr import BoundColumn, Column, WindowCall, unalias
from hasivu_compute.plan.nodes import Exchange, PlanNode, Window, transform_up
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.rules.split_aggregates import groups_within_partitions


def _partition_columns(window: Window) -> list[list[str]]:
    out = []
    for f in window.funcs:
        call = unalias(f)
        assert isinstance(call, WindowCall)
        out.append([k.name for k in call.partition_by if isinstance(k, Column | BoundColumn)])
    return out


def _local(node: PlanNode) -> PlanNode:
    if not (isinstance(node, Window) and isinstance(node.child, Exchange)):
        return node
    local = node.child.child
    columns = _partition_columns(node)
    if all(groups_within_partitions(local, cols) for cols in columns):
        return Exchange(replace(node, child=local))
    return node


def run_windows_locally(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Move each Window below the Exchange under it when its partitions stay within
    table partitions (see the module docstring)."""
    return transform_up(plan, _local)
