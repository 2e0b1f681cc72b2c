"""The merge step: combine the fragments' partial results and finish the query.

Partials are grouped by the exchange id ``run_fragment`` tags them with; each
merge input is their concatenation (an empty table of the right schema when no
fragment produced anything), and the merge plan (final aggregate, HAVING,
projection, sort, limit, union ...) runs over those inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from hasivu_compute._core.errors import ExecutionError
from hasivu_compute.exec.fragment import EXCHANGE_KEY
from hasivu_compute.exec.operators import run_node
from hasivu_compute.plan.nodes import MergeInput, PlanNode, Values
from hasivu_compute.plan.physical import PhysicalPlan


def _exchange_of(table: pa.Table, physical: PhysicalPlan) -> int:
    meta = table.schema.metadata or {}
    tag = meta.get(EXCHANGE_KEY)
    if tag is not None:
        return int(tag)
    if len(physical.inputs) == 1:
        return physical.inputs[0].exchange_id
    raise ExecutionError("partial result without an exchange tag in a plan with several inputs")


def merge(partials: Sequence[pa.Table], physical: PhysicalPlan) -> pa.Table:
    """Combine fragment outputs (any number, any order, possibly none) into the answer."""
    grouped: dict[int, list[pa.Table]] = {mi.exchange_id: [] for mi in physical.inputs}
    for table in partials:
        grouped.setdefault(_exchange_of(table, physical), []).append(table)
    schemas = {mi.exchange_id: mi.schema for mi in physical.inputs}

    def leaf(node: PlanNode) -> pa.Table:
        if isinstance(node, Values):  # constant rows (SELECT without FROM)
            return node.rows
        if not isinstance(node, MergeInput):
            raise ExecutionError(f"merge plan leaf must be a merge input, got {node.node_name()}")
        schema = schemas[node.exchange_id]
        tables = [_conform(t, schema) for t in grouped.get(node.exchange_id, [])]
        return pa.concat_tables(tables) if tables else schema.empty_table()

    out = run_node(physical.merge, leaf)
    return out.replace_schema_metadata(None)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    table = table.replace_schema_metadata(None)
    if table.schema.equals(schema):
        return table
    return table.rename_columns(schema.names).cast(schema)
