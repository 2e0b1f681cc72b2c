"""Single-process execution: bind, optimize, cut into fragments, run them all, merge.

This is what the SQL workstream and the differential tests use; the runtime does
the same with fragments scattered to shard actors.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa

from hasivu_compute._core.errors import ExecutionError
from hasivu_compute.exec.fragment import run_fragment
from hasivu_compute.exec.merge import merge
from hasivu_compute.exec.reader import CatalogReader, FragmentReader
from hasivu_compute.plan.binder import bind_plan, output_schema
from hasivu_compute.plan.nodes import PlanNode, scans
from hasivu_compute.plan.optimizer import Batch, OptimizerContext, optimize
from hasivu_compute.plan.physical import PhysicalPlan, plan_fragments
from hasivu_compute.plan.source import CatalogLike, CatalogSource


@dataclass(frozen=True)
class QueryPlans:
    """Every stage of one query: bound, optimized and physical."""

    bound: PlanNode
    optimized: PlanNode
    physical: PhysicalPlan


def _source(catalog: CatalogLike | CatalogSource) -> CatalogSource:
    return catalog if isinstance(catalog, CatalogSource) else CatalogSource(catalog)


def prepare(
    plan: PlanNode,
    catalog: CatalogLike | CatalogSource,
    *,
    batches: tuple[Batch, ...] | None = None,
    chunk_pruning: bool = True,
) -> QueryPlans:
    """Bind (if needed), optimize and plan fragments for ``plan``.

    Args:
        batches: optimizer batches; None = the default pipeline, ``()`` = no rewrites.
    """
    source = _source(catalog)
    bound = plan
    found = scans(plan)
    if not found or any(s.table_schema is None for s in found):  # no table: a constant query
        bound = bind_plan(plan, source.resolve)
    ctx = OptimizerContext(source=source, chunk_pruning=chunk_pruning)
    optimized = optimize(bound, ctx, batches)
    return QueryPlans(bound, optimized, plan_fragments(optimized, source))


def run_physical(
    physical: PhysicalPlan,
    reader: FragmentReader,
    max_workers: int | None = None,
    answer: Callable[[PlanNode], pa.Table] | None = None,
) -> pa.Table:
    """Run every fragment (in a thread pool when ``max_workers`` > 1) and merge.

    ``answer`` runs a broadcast join's right side (a query of its own) first.
    """
    inputs: dict[int, pa.Table] = {}
    for built in physical.broadcasts:
        if answer is None:
            raise ExecutionError("the plan has broadcast joins; pass answer= to run their sides")
        inputs[built.broadcast_id] = answer(built.plan)
    fragments = physical.fragments
    partials: Sequence[pa.Table]
    if max_workers is not None and max_workers > 1 and len(fragments) > 1:
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            # each task in a copy of the caller's context (a join budget set around the
            # query applies in the pool's threads too)
            futures = [
                pool.submit(contextvars.copy_context().run, run_fragment, f, reader, inputs)
                for f in fragments
            ]
            partials = [f.result() for f in futures]
    else:
        partials = [run_fragment(f, reader, inputs) for f in fragments]
    return merge(partials, physical)


def execute(
    plan: PlanNode,
    catalog: CatalogLike | CatalogSource,
    *,
    batches: tuple[Batch, ...] | None = None,
    max_workers: int | None = 2,
    reader: FragmentReader | None = None,
) -> pa.Table:
    """Answer ``plan`` in this process: every fragment runs here, then the merge.

    The result has exactly the bound plan's output schema.

    Args:
        plan: a logical plan (bound or not).
        catalog: a ``hasivu_compute.table.Catalog`` (or a ``CatalogSource`` over one).
        batches: optimizer batches (None = default; ``()`` = run the plan as bound).
        max_workers: threads for fragments (pyarrow kernels release the GIL).
        reader: how fragments read files (default: through the catalog).
    """
    source = _source(catalog)
    plans = prepare(plan, source, batches=batches)
    reader = reader or CatalogReader(source)

    def answer(side: PlanNode) -> pa.Table:
        return execute(side, source, batches=batches, max_workers=max_workers, reader=reader)

    result = run_physical(plans.physical, reader, max_workers, answer)
    schema = output_schema(plans.bound)
    if not result.schema.equals(schema):
        result = result.rename_columns(schema.names).cast(schema)
    return result
