"""What the planner needs from the table layer, as small protocols plus a catalog adapter.

Binding needs a table's schema, current version and partition columns; pruning
needs a snapshot's data files (with their zone maps and partition values) and,
for chunk-level pruning, a segment's per-chunk stats and bloom checks. The
:class:`CatalogSource` adapter serves all of it from a
``hasivu_compute.table.Catalog`` (or anything with ``load_table(name)``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from hasivu_compute.expr.pruning import ColumnStats
from hasivu_compute.plan.binder import TableInfo, plain_schema
from hasivu_compute.plan.nodes import DataFileLike
from hasivu_compute.storage.stats import ColumnChunkStats


class FieldLike(Protocol):
    """A table schema field: stable id and current name."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...


class TableSchemaLike(Protocol):
    """``hasivu_compute.schema.TableSchema``."""

    @property
    def fields(self) -> tuple[FieldLike, ...]: ...
    def to_arrow(self) -> pa.Schema: ...


class PartitionFieldLike(Protocol):
    """One partition field: source column id and transform name."""

    @property
    def source_id(self) -> int: ...
    @property
    def transform(self) -> str: ...
    @property
    def name(self) -> str: ...


class PartitionSpecLike(Protocol):
    """``hasivu_compute.schema.PartitionSpec``."""

    @property
    def fields(self) -> tuple[PartitionFieldLike, ...]: ...


class SnapshotLike(Protocol):
    """``hasivu_compute.table.Snapshot``."""

    @property
    def version(self) -> int: ...
    @property
    def schema(self) -> TableSchemaLike: ...
    @property
    def spec(self) -> PartitionSpecLike: ...
    @property
    def data_files(self) -> tuple[DataFileLike, ...]: ...


class SegmentLike(Protocol):
    """The parts of ``hasivu_compute.storage.SegmentReader`` used for chunk pruning."""

    @property
    def num_chunks(self) -> int: ...
    @property
    def field_ids(self) -> tuple[int, ...]: ...
    def chunk_stats(self, chunk: int, field_id: int) -> ColumnStats: ...
    def might_contain(self, chunk: int, field_id: int, values: Sequence[object]) -> bool: ...


class TableLike(Protocol):
    """``hasivu_compute.table.Table``: snapshots and segment access."""

    def snapshot(self, version: int | None = None) -> SnapshotLike: ...
    def open_segment(self, f: DataFileLike) -> SegmentLike: ...


class CatalogLike(Protocol):
    """``hasivu_compute.table.Catalog``."""

    def load_table(self, name: str) -> TableLike: ...


class TableSource(Protocol):
    """Snapshots and segments by table name (what pruning and fragment planning read)."""

    def snapshot(self, table: str, version: int | None) -> SnapshotLike: ...
    def open_segment(self, table: str, data_file: DataFileLike) -> SegmentLike | None: ...


def field_names_by_id(schema: TableSchemaLike) -> dict[int, str]:
    """Current column name of every field id."""
    return {f.id: f.name for f in schema.fields}


def partition_columns(snapshot: SnapshotLike) -> tuple[str, ...]:
    """Source column names of the snapshot's partition fields (in spec order)."""
    names = field_names_by_id(snapshot.schema)
    return tuple(names[f.source_id] for f in snapshot.spec.fields if f.source_id in names)


def stats_by_name(
    stats: Mapping[int, ColumnStats], names: Mapping[int, str]
) -> dict[str, ColumnStats]:
    """Zone maps keyed by current column name (dropped columns are left out)."""
    return {names[fid]: st for fid, st in stats.items() if fid in names}


def file_stats_by_name(data_file: DataFileLike, names: Mapping[int, str]) -> dict[str, ColumnStats]:
    """A data file's zone maps by current column name.

    A column added after the file was written is not in the file and reads as all
    NULL there, so it gets an all-null zone map (``x = 5`` then skips old files).
    """
    out = stats_by_name(data_file.stats, names)
    written = getattr(data_file, "field_ids", None)
    if written is None:
        return out
    present = set(written)
    rows = data_file.num_rows
    for fid, name in names.items():
        if fid not in present and name not in out:
            out[name] = ColumnChunkStats(row_count=rows, null_count=rows, min=None, max=None)
    return out


class CatalogSource:
    """A :class:`TableSource` over a catalog; loaded tables and snapshots are cached.

    Snapshots are immutable, so caching by ``(table, version)`` is always safe; the
    current version of a table is resolved once per source (one query = one source).
    """

    def __init__(self, catalog: CatalogLike, buffered: Callable[[str], int] | None = None) -> None:
        self._catalog = catalog
        self._buffered = buffered
        self._tables: dict[str, TableLike] = {}
        self._snapshots: dict[tuple[str, int | None], SnapshotLike] = {}
        self._buffered_rows: dict[str, int] = {}
        self._lock = threading.Lock()

    def buffered_rows(self, table: str) -> int:
        """Rows of ``table`` acknowledged but not yet in segments (held by the runtime's
        write-ahead log buffer; 0 without one), for size estimates: recent feed data
        lives there until a flush."""
        if self._buffered is None:
            return 0
        with self._lock:
            found = self._buffered_rows.get(table)
        if found is None:
            found = int(self._buffered(table))
            with self._lock:
                self._buffered_rows[table] = found
        return found

    def table(self, name: str) -> TableLike:
        """The loaded table ``name`` (``TableNotFoundError`` from the catalog if absent)."""
        with self._lock:
            found = self._tables.get(name)
        if found is None:
            found = self._catalog.load_table(name)
            with self._lock:
                self._tables[name] = found
        return found

    def snapshot(self, table: str, version: int | None) -> SnapshotLike:
        """The snapshot ``version`` of ``table`` (None = current, pinned on first use)."""
        key = (table, version)
        with self._lock:
            snap = self._snapshots.get(key)
        if snap is None:
            snap = self.table(table).snapshot(version)
            with self._lock:
                self._snapshots[key] = snap
                self._snapshots[(table, snap.version)] = snap
        return snap

    def open_segment(self, table: str, data_file: DataFileLike) -> SegmentLike | None:
        """Chunk stats and bloom probes of ``data_file``'s segment.

        Segment files are immutable, so their per-chunk zone maps are cached across
        queries (keyed by storage location and path); the file itself is opened
        only on a cache miss or for a bloom probe.
        """
        handle = self.table(table)
        uri = getattr(getattr(handle, "io", None), "uri", None)
        if not isinstance(uri, str):
            return handle.open_segment(data_file)
        return _cached_segment((uri, data_file.path), lambda: handle.open_segment(data_file))

    def resolve(self, table: str, version: int | None) -> TableInfo:
        """The binder's resolver: schema, pinned version and partition columns."""
        snap = self.snapshot(table, version)
        stored = getattr(self.table(table), "name", None)  # matched case-insensitively
        return TableInfo(
            plain_schema(snap.schema.to_arrow()),
            snap.version,
            partition_columns(snap),
            stored if isinstance(stored, str) else None,
        )


@dataclass(frozen=True, slots=True)
class SegmentSummary:
    """What chunk pruning reads of a segment footer: chunk count, field ids, zone maps."""

    num_chunks: int
    field_ids: tuple[int, ...]
    stats: Mapping[tuple[int, int], ColumnStats]

    @classmethod
    def of(cls, segment: SegmentLike) -> SegmentSummary:
        """Summarise an open segment (one footer read, every chunk and column)."""
        stats = {
            (chunk, fid): segment.chunk_stats(chunk, fid)
            for chunk in range(segment.num_chunks)
            for fid in segment.field_ids
        }
        return cls(segment.num_chunks, tuple(segment.field_ids), stats)


class CachedSegment:
    """A :class:`SegmentLike` answering stats from a summary; opens the file for blooms only."""

    def __init__(self, summary: SegmentSummary, opener: Callable[[], SegmentLike]) -> None:
        self._summary = summary
        self._opener = opener
        self._reader: SegmentLike | None = None

    @property
    def num_chunks(self) -> int:
        return self._summary.num_chunks

    @property
    def field_ids(self) -> tuple[int, ...]:
        return self._summary.field_ids

    def chunk_stats(self, chunk: int, field_id: int) -> ColumnStats:
        return self._summary.stats[(chunk, field_id)]

    def might_contain(self, chunk: int, field_id: int, values: Sequence[object]) -> bool:
        if not getattr(self._summary.stats.get((chunk, field_id)), "has_bloom", True):
            return True
        if self._reader is None:
            self._reader = self._opener()
        return self._reader.might_contain(chunk, field_id, values)


_SUMMARIES: OrderedDict[tuple[str, str], SegmentSummary] = OrderedDict()
_SUMMARY_LOCK = threading.Lock()
SUMMARY_CACHE_SIZE = 2_048


def _cached_segment(key: tuple[str, str], opener: Callable[[], SegmentLike]) -> SegmentLike:
    with _SUMMARY_LOCK:
        summary = _SUMMARIES.get(key)
        if summary is not None:
            _SUMMARIES.move_to_end(key)
    if summary is not None:
        return CachedSegment(summary, opener)
    reader = opener()
    summary = SegmentSummary.of(reader)
    with _SUMMARY_LOCK:
        _SUMMARIES[key] = summary
        while len(_SUMMARIES) > SUMMARY_CACHE_SIZE:
            _SUMMARIES.popitem(last=False)
    cached = CachedSegment(summary, opener)
    cached._reader = reader
    return cached
