"""The runtime's one point of contact with the plan and exec packages.

Keeping every call into the planner/executor here means a change in their API
is absorbed in one small module, and the actor code stays about Ray.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from hasivu_compute.plan.nodes import PlanNode, scans


def run_on_reader(fragment: Any, reader: Any) -> pa.Table:
    """Run one fragment, reading files through ``reader`` (a shard's cached reader)."""
    from hasivu_compute.exec import run_fragment

    return run_fragment(fragment, reader)


def prepare_plans(plan: PlanNode, catalog: Any) -> Any:
    """Bound, optimized and physical stages of ``plan`` (exec's ``QueryPlans``)."""
    from hasivu_compute.exec import prepare

    return prepare(plan, catalog)


def merge_partials(plans: Any, partials: Sequence[pa.Table]) -> pa.Table:
    """Combine the fragments' outputs with the plan's merge step, typed as the bound plan."""
    from hasivu_compute.exec import merge
    from hasivu_compute.plan.binder import output_schema

    result = merge(list(partials), plans.physical)
    schema = output_schema(plans.bound)
    if not result.schema.equals(schema):
        result = result.rename_columns(schema.names).cast(schema)
    return result


def pruning_lines(plan: PlanNode) -> tuple[str, ...]:
    """``"orders: partitions 1/16, segments 2/48, chunks 2/48"`` for every scan that was pruned."""
    out = []
    for scan in scans(plan):
        if scan.pruning is not None:
            out.append(f"{scan.table}: {scan.pruning.describe()}")
    return tuple(out)


def explain_text(runner: Any, plan: PlanNode, stage: str | None) -> str:
    """Text of ``plan``: the planner's stages plus how fragments are spread over shards.

    ``stage``: None (optimized + physical + distributed), "all", "bound",
    "optimized", "physical" or "distributed" (shard routing only).
    """
    from hasivu_compute.plan.explain import explain

    source = runner.source()
    if stage == "distributed":
        return _distributed_text(runner, plan)
    stages: Any = ("optimized", "physical") if stage is None else stage
    text = explain(plan, source, stages)
    if stage in (None, "all", "physical"):
        text += "\n" + _distributed_text(runner, plan)
    return text


def _distributed_text(runner: Any, plan: PlanNode) -> str:
    from hasivu_compute.runtime.query import assign_fragments

    physical = runner.prepare(plan).physical
    groups = assign_fragments(physical.fragments, runner.ring)
    lines = [f"== distributed ({len(runner.ring.shards)} shards) =="]
    for shard in sorted(groups):
        for fragment in groups[shard]:
            rows = sum(sf.file.num_rows for sf in fragment.files)
            lines.append(
                f"shard {shard}: exchange {fragment.exchange_id}, "
                f"{len(fragment.files)} files, {rows:,} rows"
            )
    if not groups:
        lines.append("no shard: every file was pruned")
    return "\n".join(lines)


__all__ = [
    "explain_text",
    "merge_partials",
    "prepare_plans",
    "pruning_lines",
    "run_on_reader",
]
