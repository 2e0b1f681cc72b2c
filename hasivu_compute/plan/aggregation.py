"""The bridge from aggregate plan nodes to the expression layer's split aggregates.

``expr.aggregates.split_aggregate(keys, aggs, schema)`` owns the partial /
combine / finalize steps and their state layout; the planner only needs the
schemas (for binding and merge inputs) and the executor the steps.
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa

from hasivu_compute._core.errors import PlanError
from hasivu_compute.expr.aggsteps import AggregateSteps, split_aggregate
from hasivu_compute.plan._expr import Expr
from hasivu_compute.plan.nodes import Aggregate, FinalAggregate, PlanNode


def agg_steps(keys: tuple[Expr, ...], aggs: tuple[Expr, ...], schema: pa.Schema) -> AggregateSteps:
    """The split-aggregate steps of ``keys`` / ``aggs`` over input ``schema`` (cached)."""
    return _cached(keys, aggs, schema)


@lru_cache(maxsize=256)
def _cached(keys: tuple[Expr, ...], aggs: tuple[Expr, ...], schema: pa.Schema) -> AggregateSteps:
    return split_aggregate(keys, aggs, schema)


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
    schema: pa.Schema = agg_steps(node.keys, node.aggs, input_schema_of(node)).partial_schema
    return schema
