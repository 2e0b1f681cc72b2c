"""The bridge from aggregate plan nodes to the expression layer's split aggregates.

``expr.aggsplit.aggregate_layout(keys, aggs, schema)`` owns the state layout of the
partial / combine / finalize steps; the planner only needs its schemas (for binding
and merge inputs), and the executor runs the steps over it
(``exec.kernels.aggsteps.AggregateSteps``).
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa

from hasivu_compute._core.errors import PlanError
from hasivu_compute.expr.aggsplit import AggregateLayout, aggregate_layout
from hasivu_compute.plan._expr import Expr
from hasivu_compute.plan.nodes import Aggregate, FinalAggregate, PlanNode


def agg_layout(
    keys: tuple[Expr, ...], aggs: tuple[Expr, ...], schema: pa.Schema
) -> AggregateLayout:
    """The split-aggregate layout of ``keys`` / ``aggs`` over input ``schema`` (cached)."""
    return _cached(keys, aggs, schema)


@lru_cache(maxsize=256)
def _cached(keys: tuple[Expr, ...], aggs: tuple[Expr, ...], schema: pa.Schema) -> AggregateLayout:
    return aggregate_layout(keys, aggs, schema)


def input_schema_of(node: Aggregate) -> pa.Schema:
    """The schema the aggregate's expressions are bound against."""
    if isinstance(node, FinalAggregate):
        if node.input_schema is None:
            raise PlanError("FinalAggregate without input_schema (built outside split_aggregates?)")
        return node.input_schema
    from hasivu_compute.plan.binder import output_schema

    child: PlanNode = node.child
    return output_schema(child)


def partial_schema(node: Aggregate) -> pa.Schema:
    """Output schema of a :class:`PartialAggregate`: key columns plus state columns."""
    schema: pa.Schema = agg_layout(node.keys, node.aggs, input_schema_of(node)).partial_schema
    return schema
