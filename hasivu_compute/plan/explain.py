"""``explain``: the plan at each named stage, with what pruning kept.

Stages: ``bound`` (names and types resolved, snapshot pinned), ``optimized``
(after the rule batches), ``physical`` (fragments and merge step), or ``all``.
Every scan reports what it reads: ``read partitions 1 of 8, segments 1 of 8,
chunks 1 of 1`` (kept of total; the rest was pruned); the physical stage lists
fragments per exchange.

Example output::

    == optimized ==
    Limit 10
      Sort revenue DESC
        FinalAggregate keys=[item_id] aggs=[sum(amount) AS revenue]
          Exchange
            PartialAggregate keys=[item_id] aggs=[sum(amount) AS revenue]
              Scan orders@3 columns=[item_id, amount] filter=(school_id = 17) ...
    == pruning ==
    orders@3: read partitions 1 of 8, segments 1 of 8, chunks 1 of 1
"""

from __future__ import annotations

from collections.abc import Sequence

from hasivu_compute._core.errors import PlanError
from hasivu_compute.plan.binder import bind_plan
from hasivu_compute.plan.nodes import PlanNode, scans
from hasivu_compute.plan.optimizer import Batch, OptimizerContext, optimize
from hasivu_compute.plan.physical import PhysicalPlan, plan_fragments
from hasivu_compute.plan.render import render
from hasivu_compute.plan.source import CatalogLike, CatalogSource, TableSource

STAGES = ("bound", "optimized", "physical")


def pruning_summary(plan: PlanNode) -> list[str]:
    """One line per scan: ``orders@3: read partitions 1 of 8, segments 1 of 8, chunks 2 of 3``."""
    lines = []
    for scan in scans(plan):
        name = scan.table if scan.version is None else f"{scan.table}@{scan.version}"
        if scan.pruning is None:
            lines.append(f"{name}: not pruned (no table source)")
        else:
            lines.append(f"{name}: {scan.pruning.describe()}")
    return lines


def render_physical(physical: PhysicalPlan) -> str:
    """Fragments per exchange and the merge step."""
    lines = [f"fragments: {len(physical.fragments)}"]
    for mi in physical.inputs:
        frags = physical.fragments_of(mi.exchange_id)
        files = sum(len(f.files) for f in frags)
        whole = " (aggregate finished in fragments)" if frags and frags[0].whole_partitions else ""
        rows = sum(f.num_rows for f in frags)
        lines.append(
            f"exchange {mi.exchange_id}: {len(frags)} fragment(s) over {files} file(s), "
            f"{rows} rows before filtering{whole}"
        )
        for rule in frags[0].dynamic_filters if frags else ():
            lines.append(
                f"  dynamic partition pruning: {rule.transform} of broadcast {rule.broadcast_id}'s "
                f"{rule.column} keys"
            )
        parts = [f.partition for f in frags if f.partition is not None]
        if parts:
            shown = ", ".join(str(p) for p in parts[:8]) + (", ..." if len(parts) > 8 else "")
            lines.append(f"  partitions: {shown}")
        if frags:
            lines.append(render(frags[0].pipeline, pruning=False, indent=1))
    lines.append("merge:")
    lines.append(_indent(render(physical.merge), 1))
    return "\n".join(lines)


def _indent(text: str, depth: int) -> str:
    pad = "  " * depth
    return "\n".join(pad + line for line in text.splitlines())


def explain(
    plan: PlanNode,
    catalog: CatalogLike | TableSource | None = None,
    stage: str | Sequence[str] = "all",
    *,
    batches: tuple[Batch, ...] | None = None,
) -> str:
    """The plan at each requested stage plus the pruning outcome.

    Args:
        plan: a logical plan (bound or not).
        catalog: a catalog or table source; needed to bind and to prune.
        stage: ``"all"`` or one / several of ``bound``, ``optimized``, ``physical``.
    """
    wanted = STAGES if stage == "all" else ((stage,) if isinstance(stage, str) else tuple(stage))
    unknown = [s for s in wanted if s not in STAGES]
    if unknown:
        raise PlanError(f"unknown explain stage(s) {unknown}; use one of {list(STAGES)} or 'all'")
    source = _as_source(catalog)
    bound = plan
    if any(s.table_schema is None for s in scans(plan)):
        if source is None:
            raise PlanError("explain of an unbound plan needs a catalog")
        resolver = source.resolve if isinstance(source, CatalogSource) else None
        if resolver is None:
            raise PlanError("explain of an unbound plan needs a CatalogSource to bind")
        bound = bind_plan(plan, resolver)
    out: list[str] = []
    if "bound" in wanted:
        out += ["== bound ==", render(bound)]
    optimized = optimize(bound, OptimizerContext(source=source), batches)
    if "optimized" in wanted:
        out += ["== optimized ==", render(optimized)]
    if "physical" in wanted:
        out += ["== physical ==", render_physical(plan_fragments(optimized, source))]
    out += ["== pruning ==", *pruning_summary(optimized)]
    return "\n".join(out)


def _as_source(catalog: CatalogLike | TableSource | None) -> TableSource | None:
    if catalog is None:
        return None
    if isinstance(catalog, CatalogSource) or not hasattr(catalog, "load_table"):
        return catalog
    return CatalogSource(catalog)  # type: ignore[arg-type]


__all__ = ["STAGES", "explain", "pruning_summary", "render_physical"]
