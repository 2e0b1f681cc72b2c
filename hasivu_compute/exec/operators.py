"""Plan operators on Arrow tables, vectorised with pyarrow.compute (no per-row Python).

:func:`run_node` interprets a plan tree bottom-up over ``pa.Table`` values; the
leaves (scans in a fragment, merge inputs in the merge step) are supplied by the
caller, so the same operators serve fragments, the merge and the reference
executor used by tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import ExecutionError
from hasivu_compute.exec.kernels.aggsteps import AggregateSteps
from hasivu_compute.exec.kernels.evaluate import evaluate, evaluate_column
from hasivu_compute.exec.kernels.floats import canonical_floats
from hasivu_compute.exec.kernels.ordering import order_indices
from hasivu_compute.plan._expr import Expr, output_name
from hasivu_compute.plan.aggregation import agg_layout, input_schema_of
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Exchange,
    Filter,
    FinalAggregate,
    Join,
    Limit,
    PartialAggregate,
    PlanNode,
    PreAggregate,
    Project,
    Repeat,
    Sort,
    SortKey,
    Union,
    Window,
)

Leaf = Callable[[PlanNode], pa.Table]


def run_node(plan: PlanNode, leaf: Leaf) -> pa.Table:
    """Evaluate ``plan``; ``leaf`` produces the table of every leaf node."""
    kids = plan.children()
    if not kids:
        return leaf(plan)
    if isinstance(plan, Union):
        return union_all([run_node(k, leaf) for k in kids])
    if isinstance(plan, Join):
        from hasivu_compute.exec.spill import current_budget, join_within_budget

        left, right = run_node(plan.left, leaf), run_node(plan.right, leaf)
        return join_within_budget(left, right, plan, *current_budget())
    table = run_node(kids[0], leaf)
    op = _OPS.get(type(plan))
    if op is None:
        raise ExecutionError(f"no executor for plan node {plan.node_name()}")
    return op(plan, table)


def filter_table(table: pa.Table, predicate: Expr) -> pa.Table:
    """Rows of ``table`` where ``predicate`` is TRUE (NULL counts as not TRUE)."""
    mask = evaluate(predicate, table)
    if isinstance(mask, pa.Scalar):
        return table if mask.is_valid and mask.as_py() else table.slice(0, 0)
    return table.filter(mask, null_selection_behavior="drop")


def project_table(table: pa.Table, exprs: tuple[Expr, ...]) -> pa.Table:
    """A table of ``exprs`` evaluated over ``table`` (names from ``output_name``)."""
    arrays = []
    for e in exprs:
        values = evaluate_column(e, table)
        if not values.type.equals(e.dtype):
            values = values.cast(e.dtype)
        arrays.append(values)
    return pa.Table.from_arrays(arrays, names=[output_name(e) for e in exprs])


def sort_table(table: pa.Table, keys: tuple[SortKey, ...]) -> pa.Table:
    """``table`` ordered by ``keys`` (stable); see :func:`order_indices`."""
    if table.num_rows <= 1:
        return table
    columns = [
        (evaluate_column(k.expr, table), k.descending, k.effective_nulls_first) for k in keys
    ]
    return table.take(order_indices(columns))


def limit_table(table: pa.Table, limit: int | None, offset: int) -> pa.Table:
    """Rows ``offset .. offset + limit`` of ``table``."""
    if limit is None:
        return table.slice(offset)
    return table.slice(offset, limit)


def distinct_table(table: pa.Table) -> pa.Table:
    """``table`` without duplicate rows (NULLs equal), first-seen order."""
    names = table.column_names
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            # Hashing compares bits: -0.0 equals 0.0 and NaNs are one value (DuckDB).
            table = table.set_column(i, field, canonical_floats(table.column(i)))
    out = table.group_by(names, use_threads=False).aggregate([])
    return out.select(names)


def union_all(tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables with equal column types; names come from the first."""
    first = tables[0].schema
    fixed = []
    for t in tables:
        t = t.rename_columns(first.names)
        if not t.schema.equals(first):
            t = t.cast(first)
        fixed.append(t)
    return pa.concat_tables(fixed)


def _filter(node: PlanNode, table: pa.Table) -> pa.Table:
    assert isinstance(node, Filter)
    return filter_table(table, node.predicate)


def _project(node: PlanNode, table: pa.Table) -> pa.Table:
    assert isinstance(node, Project)
    return project_table(table, node.exprs)


def _sort(node: PlanNode, table: pa.Table) -> pa.Table:
    assert isinstance(node, Sort)
    return sort_table(table, node.keys)


def _limit(node: PlanNode, table: pa.Table) -> pa.Table:
    assert isinstance(node, Limit)
    return limit_table(table, node.limit, node.offset)


def _distinct(node: PlanNode, table: pa.Table) -> pa.Table:
    return distinct_table(table)


def _window(node: PlanNode, table: pa.Table) -> pa.Table:
    assert isinstance(node, Window)
    from hasivu_compute.exec.window import window_table

    return window_table(table, node.funcs)


def _repeat(node: PlanNode, table: pa.Table) -> pa.Table:
    assert isinstance(node, Repeat)
    times = evaluate_column(node.times, table)
    counts = pc.fill_null(times, 0).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(table.num_rows, dtype=np.int64), np.maximum(counts, 0))
    return table.take(pa.array(rows))


def _exchange(node: PlanNode, table: pa.Table) -> pa.Table:
    return table


def _aggregate(node: PlanNode, table: pa.Table) -> pa.Table:
    assert isinstance(node, Aggregate)
    steps = AggregateSteps(agg_layout(node.keys, node.aggs, input_schema_of(node)))
    if isinstance(node, PartialAggregate):
        out: pa.Table = steps.partial(table)
        return out
    if isinstance(node, FinalAggregate):
        state = table.cast(steps.partial_schema) if table.schema != steps.partial_schema else table
        final: pa.Table = steps.finalize(steps.combine([state]))
        return final
    full: pa.Table = steps.finalize(steps.partial(table))
    return full


_OPS: dict[type, Callable[[PlanNode, pa.Table], pa.Table]] = {
    Filter: _filter,
    Project: _project,
    Sort: _sort,
    Limit: _limit,
    Distinct: _distinct,
    Repeat: _repeat,
    Exchange: _exchange,
    Window: _window,
    Aggregate: _aggregate,
    PartialAggregate: _aggregate,
    PreAggregate: _aggregate,
    FinalAggregate: _aggregate,
}
