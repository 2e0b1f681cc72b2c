"""Rule: partition pruning — keep only the data files whose partition can match.

Before / after (orders partitioned by ``school_id``, 8 schools)::

    Scan orders@3 filter=(school_id = 17)
    ->
    Scan orders@3 filter=(school_id = 17) read=(partitions 1 of 8, segments 1 of 8)

The scan records the surviving data files (so fragments are only planned for
them) and the counts of what it reads that explain prints. Scans without a filter are
annotated too (nothing pruned), so every scan reports its totals.
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.plan.nodes import PlanNode, PruningStats, Scan, ScanFile, transform_up
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.pruning import PartitionColumn, partition_may_match
from hasivu_compute.plan.source import SnapshotLike, TableSource


def partition_columns_of(snapshot: SnapshotLike) -> list[PartitionColumn]:
    """The snapshot's partition fields as the pruner sees them (source column, transform,
    source type); a dropped source column gets a name no predicate can use."""
    by_id = {f.id: f for f in snapshot.schema.fields}
    arrow = snapshot.schema.to_arrow()
    out = []
    for pf in snapshot.spec.fields:
        source = by_id.get(pf.source_id)
        if source is None:  # partition source dropped: cannot prune on it
            out.append(
                PartitionColumn(f"\0dropped-{pf.source_id}", pf.transform, arrow.field(0).type)
            )
            continue
        out.append(PartitionColumn(source.name, pf.transform, arrow.field(source.name).type))
    return out


def _prune_scan(scan: Scan, source: TableSource) -> Scan:
    snapshot = source.snapshot(scan.table, scan.version)
    files = snapshot.data_files
    partitions = {tuple(f.partition) for f in files}
    kept = list(files)
    if scan.filter is not None and snapshot.spec.fields:
        fields = partition_columns_of(snapshot)
        verdict = {p: partition_may_match(scan.filter, fields, p) for p in partitions}
        kept = [f for f in files if verdict[tuple(f.partition)]]
    stats = PruningStats(
        partitions_total=len(partitions),
        partitions_kept=len({tuple(f.partition) for f in kept}),
        segments_total=len(files),
        segments_kept=len(kept),
    )
    return replace(scan, files=tuple(ScanFile(f) for f in kept), pruning=stats)


def prune_partitions(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Select each scan's data files by partition values (needs ``ctx.source``).

    A scan that already has a file selection is left alone, so the rule is idempotent.
    """
    source = ctx.source
    if source is None:
        return plan

    def visit(node: PlanNode) -> PlanNode:
        if isinstance(node, Scan) and node.files is None:
            return _prune_scan(node, source)
        return node

    return transform_up(plan, visit)
