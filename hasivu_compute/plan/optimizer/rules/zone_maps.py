"""Rule: zone-map and bloom pruning of segments and chunks.

Before / after (``order_id`` ascending over time, one segment per append)::

    Scan orders@5 filter=(order_id = 123) read=(partitions 1 of 1, segments 4 of 4)
    ->
    Scan orders@5 filter=(order_id = 123) read=(partitions 1 of 1, segments 1 of 4, chunks 1 of 3)

Segments are dropped by the merged zone maps the manifest keeps per data file
(no I/O); for each surviving segment the footer is read and every chunk is
checked against its own zone maps and bloom filters, and the scan remembers the
surviving chunk indexes, so fragments decode only those. Chunk totals count the
chunks of the segments that reached chunk pruning.
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.expr.pruning import ColumnStats
from hasivu_compute.plan.nodes import PlanNode, Scan, ScanFile, transform_up
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.rules.partitions import prune_partitions
from hasivu_compute.plan.pruning import stats_may_match
from hasivu_compute.plan.source import (
    SegmentLike,
    TableSource,
    field_names_by_id,
    file_stats_by_name,
)


def _chunks(scan: Scan, segment: SegmentLike, names: dict[int, str]) -> tuple[int, ...]:
    assert scan.filter is not None
    ids = {name: fid for fid, name in names.items() if fid in segment.field_ids}
    from hasivu_compute.plan._expr import columns_referenced

    wanted = {n: ids[n] for n in columns_referenced(scan.filter) if n in ids}
    kept = []
    for chunk in range(segment.num_chunks):
        stats: dict[str, ColumnStats] = {
            n: segment.chunk_stats(chunk, fid) for n, fid in wanted.items()
        }

        def bloom(name: str, values: object, chunk: int = chunk) -> bool:
            fid = wanted.get(name)
            return True if fid is None else segment.might_contain(chunk, fid, values)  # type: ignore[arg-type]

        if stats_may_match(scan.filter, stats, bloom):
            kept.append(chunk)
    return tuple(kept)


def _prune_scan(scan: Scan, source: TableSource, chunk_pruning: bool) -> Scan:
    assert scan.files is not None and scan.pruning is not None and scan.filter is not None
    snapshot = source.snapshot(scan.table, scan.version)
    names = field_names_by_id(snapshot.schema)
    kept: list[ScanFile] = []
    chunks_total = chunks_kept = 0
    for sf in scan.files:
        if not stats_may_match(scan.filter, file_stats_by_name(sf.file, names)):
            continue
        segment = source.open_segment(scan.table, sf.file) if chunk_pruning else None
        if segment is None:
            kept.append(sf)
            continue
        chunks = _chunks(scan, segment, names)
        chunks_total += segment.num_chunks
        chunks_kept += len(chunks)
        if chunks:
            kept.append(ScanFile(sf.file, chunks, segment.num_chunks))
    pruning = replace(
        scan.pruning,
        segments_kept=len(kept),
        chunks_total=chunks_total if chunk_pruning else None,
        chunks_kept=chunks_kept if chunk_pruning else None,
    )
    return replace(scan, files=tuple(kept), pruning=pruning)


def prune_zone_maps(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Drop segments and chunks whose zone maps / blooms prove no row matches.

    Runs partition pruning first when it has not run (it selects the files), and
    leaves scans without a filter or already chunk-pruned alone (idempotent).
    """
    source = ctx.source
    if source is None:
        return plan
    plan = prune_partitions(plan, ctx)

    def visit(node: PlanNode) -> PlanNode:
        if not isinstance(node, Scan) or node.filter is None or node.pruning is None:
            return node
        if node.pruning.chunks_total is not None or node.files is None:
            return node
        return _prune_scan(node, source, ctx.chunk_pruning)

    return transform_up(plan, visit)
