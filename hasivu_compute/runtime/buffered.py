"""Queries read acknowledged small writes that are not in segments yet.

A query of a table's current version ("head": no version given) must see every
row acknowledged before it started, on every path (SQL, DataFrame). Those rows
may still be in the table's write-ahead log buffer, in the coordinator. When
a query is prepared, each head scan's pinned log position is noted; when it
runs, the coordinator is asked, in one call for all its tables, for the
buffered rows after that position, as pieces per partition. Each piece is
pruned by the scan's predicate on its partition values and travels with its
partition's files to their shard (so a fragment that finishes an aggregate per
partition still sees the whole partition); a shard reads it from the object
store without a copy.

If the pinned version is too old for the buffer (a flush dropped the rows it
would need, or the schema changed), the query is prepared again on the latest
version: a result is never missing rows nor counting them twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hasivu_compute.plan.nodes import ScanFile
from hasivu_compute.plan.optimizer.rules.partitions import partition_columns_of
from hasivu_compute.plan.pruning import partition_may_match

# (table, log position, schema id) requests -> one view each (None: re-plan)
Views = Callable[[list[tuple[str, int, int]]], list[Any]]


@dataclass(frozen=True, slots=True)
class HeadScan:
    """A scan of a table's current version, as pinned when the query was prepared.

    Attributes:
        table: table name.
        version: the pinned version.
        log_lsn: that version's log position (buffered rows after it are added).
        schema_id: that version's schema.
        partition_columns: how pieces are pruned by their partition values.
    """

    table: str
    version: int
    log_lsn: int
    schema_id: int
    partition_columns: tuple[Any, ...]


def head_scans(fragments: Sequence[Any], source: Any) -> tuple[HeadScan, ...]:
    """The head scans among ``fragments`` (``Fragment.head``: the query asked for the
    table's current version, pinned when bound), one per (table, pinned version). A
    version the query named itself (time travel) is never a head, even when the same
    table is also read at its current version, or the version named is the current one.
    """
    out: dict[tuple[str, int], HeadScan] = {}
    for fragment in fragments:
        key = (fragment.table, fragment.version)
        if not getattr(fragment, "head", False) or key in out or fragment.version is None:
            continue
        snap = source.snapshot(fragment.table, fragment.version)
        out[key] = HeadScan(
            fragment.table,
            fragment.version,
            int(getattr(snap, "log_lsn", 0)),
            snap.schema.schema_id,
            tuple(partition_columns_of(snap)),
        )
    return tuple(out.values())


@dataclass(frozen=True, slots=True)
class Buffered:
    """The buffered rows one run of a query adds: scan files per exchange, and blocks."""

    extra: dict[int, list[ScanFile]]
    blocks: dict[Any, Any]
    rows: int
    pieces: int


NOTHING = Buffered({}, {}, 0, 0)


def buffered_rows(
    heads: Sequence[HeadScan], fragments: Sequence[Any], views: Views
) -> Buffered | None:
    """The pieces to add per exchange (pruned by each scan's predicate); None when a
    pinned version is too old for the buffer and the query must be prepared again."""
    if not heads:
        return NOTHING
    answers = views([(h.table, h.log_lsn, h.schema_id) for h in heads])
    if any(a is None for a in answers):
        return None
    by_key = {(h.table, h.version): (h, a) for h, a in zip(heads, answers, strict=True)}
    extra: dict[int, list[ScanFile]] = {}
    blocks: dict[Any, Any] = {}
    seen: set[int] = set()
    rows = pieces = 0
    for fragment in fragments:
        found = by_key.get((fragment.table, fragment.version))
        if not getattr(fragment, "head", False):
            continue  # a version the query named: its rows are all in segments
        if found is None or fragment.exchange_id in seen or not found[1].pieces:
            continue
        seen.add(fragment.exchange_id)
        head, view = found
        kept = [p for p in view.pieces if _may_match(fragment.predicate, head, p)]
        if not kept:
            continue
        extra[fragment.exchange_id] = [ScanFile(p) for p in kept]
        for p in kept:
            blocks[p.block] = view.refs[p.block]
        rows += sum(p.num_rows for p in kept)
        pieces += len(kept)
    return Buffered(extra, blocks, rows, pieces)


def _may_match(predicate: Any, head: HeadScan, piece: Any) -> bool:
    if predicate is None or not head.partition_columns:
        return True
    return partition_may_match(predicate, head.partition_columns, piece.partition)


def blocks_for(fragment: Any, blocks: dict[Any, Any]) -> dict[Any, Any]:
    """The blocks one fragment's pieces read (sent along with it)."""
    wanted = {sf.file.block for sf in fragment.files if hasattr(sf.file, "block")}
    return {b: blocks[b] for b in wanted}


__all__ = ["NOTHING", "Buffered", "HeadScan", "blocks_for", "buffered_rows", "head_scans"]
