"""In-memory stand-in for the table layer, for plan/exec unit tests only.

Serves Arrow tables split into "segments" (one per partition per append) and
"chunks" (``chunk_rows`` rows), with zone maps computed by pyarrow, exact "bloom"
checks, and counters of what was read, so pruning and decoding can be asserted.
The API mirrors ``hasivu_compute.table`` (Catalog / Table / Snapshot / DataFile)
as far as plan/ and exec/ use it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import TableNotFoundError
from hasivu_compute.schema.partition import PartitionSpec
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.storage.stats import ColumnChunkStats
from hasivu_compute.table.reading import read_type


def column_stats(arr: pa.Array | pa.ChunkedArray) -> ColumnChunkStats:
    """Zone map of one column (NaN excluded from min/max, flagged)."""
    n = len(arr)
    nulls = arr.null_count
    has_nan = False
    values = arr
    if pa.types.is_floating(arr.type):
        nan = pc.fill_null(pc.is_nan(arr), False)
        has_nan = bool(pc.any(nan).as_py())
        values = pc.filter(arr, pc.invert(nan))
    if len(values) - values.null_count == 0:
        return ColumnChunkStats(n, nulls, None, None, has_nan, True)
    mm = pc.min_max(values)
    return ColumnChunkStats(n, nulls, mm["min"].as_py(), mm["max"].as_py(), has_nan, True)


@dataclass(frozen=True, slots=True)
class MemDataFile:
    path: str
    partition: tuple[object, ...]
    num_rows: int
    size_bytes: int
    field_ids: tuple[int, ...]
    stats: dict[int, ColumnChunkStats] = field(hash=False, compare=False)
    checksum: int = 0
    schema_id: int = 0


@dataclass(frozen=True, slots=True)
class MemSnapshot:
    version: int
    schema: TableSchema
    spec: PartitionSpec
    data_files: tuple[MemDataFile, ...]


class MemSegment:
    """Per-chunk zone maps and exact membership checks of one stored file."""

    def __init__(self, chunks: list[pa.Table], field_ids: tuple[int, ...], log: list[str]) -> None:
        self._chunks = chunks
        self.field_ids = field_ids
        self.num_chunks = len(chunks)
        self._log = log

    def chunk_stats(self, chunk: int, field_id: int) -> ColumnChunkStats:
        return column_stats(self._chunks[chunk].column(self.field_ids.index(field_id)))

    def might_contain(self, chunk: int, field_id: int, values: Sequence[object]) -> bool:
        self._log.append(f"bloom {chunk} {field_id}")
        col = self._chunks[chunk].column(self.field_ids.index(field_id))
        if pa.types.is_floating(col.type):
            return True  # like storage: no float blooms (and -0.0 == 0.0 must match)
        probe = pa.array(list(values), type=col.type)
        return bool(pc.any(pc.is_in(col, value_set=probe)).as_py())


class MemTable:
    def __init__(
        self,
        name: str,
        schema: pa.Schema,
        partition_by: Sequence[str | tuple[str, str]],
        chunk_rows: int,
    ) -> None:
        self.name = name
        self.schema = TableSchema.from_arrow(schema)
        self.spec = PartitionSpec.build(self.schema, partition_by)
        self.chunk_rows = chunk_rows
        self.snapshots: list[MemSnapshot] = [MemSnapshot(1, self.schema, self.spec, ())]
        self.files: dict[str, list[pa.Table]] = {}
        self.reads: list[tuple[str, tuple[str, ...], tuple[int, ...] | None]] = []
        self.log: list[str] = []

    def snapshot(self, version: int | None = None) -> MemSnapshot:
        if version is None:
            return self.snapshots[-1]
        return next(s for s in self.snapshots if s.version == version)

    def append(self, data: pa.Table) -> int:
        data = data.cast(self.schema.to_arrow())
        new = list(self.snapshot().data_files)
        if self.spec.fields:
            pv = self.spec.partition_values(data, self.schema)
            keys = pv.column_names
            groups = (
                pv.append_column("__row", pa.array(range(data.num_rows)))
                .group_by(keys, use_threads=False)
                .aggregate([("__row", "list")])
            )
            for i in range(groups.num_rows):
                part = tuple(groups.column(k)[i].as_py() for k in keys)
                rows = groups.column("__row_list")[i].values
                new.append(self._file(data.take(rows), part))
        elif data.num_rows:
            new.append(self._file(data, ()))
        version = self.snapshots[-1].version + 1
        self.snapshots.append(MemSnapshot(version, self.schema, self.spec, tuple(new)))
        return version

    def _file(self, data: pa.Table, partition: tuple[object, ...]) -> MemDataFile:
        path = f"{self.name}/f{len(self.files)}.seg"
        chunks = [data.slice(i, self.chunk_rows) for i in range(0, data.num_rows, self.chunk_rows)]
        self.files[path] = chunks
        ids = self.schema.field_ids
        stats = {fid: column_stats(data.column(i)) for i, fid in enumerate(ids)}
        return MemDataFile(path, partition, data.num_rows, data.nbytes, ids, stats)

    def open_segment(self, f: MemDataFile) -> MemSegment:
        return MemSegment(self.files[f.path], f.field_ids, self.log)

    def read_file(
        self,
        f: MemDataFile,
        snapshot: MemSnapshot,
        columns: Sequence[str],
        chunks: Sequence[int] | None = None,
        dictionary: Collection[str] = (),
    ) -> pa.Table:
        """Like ``Table.read_file``: string columns in ``dictionary`` come back
        dictionary-typed, each chunk with its own dictionary (as segment blocks do)."""
        stored = self.files[f.path]
        picked = range(len(stored)) if chunks is None else chunks
        self.reads.append((f.path, tuple(columns), None if chunks is None else tuple(chunks)))
        parts = [_as_dictionary(stored[c].select(list(columns)), dictionary) for c in picked]
        if not parts:
            empty = snapshot.schema.to_arrow().empty_table().select(list(columns))
            return _as_dictionary(empty, dictionary)
        return pa.concat_tables(parts)


def _as_dictionary(table: pa.Table, names: Collection[str]) -> pa.Table:
    for name in names:
        i = table.schema.get_field_index(name)
        kind = read_type(table.schema.field(i).type, True)
        if kind != table.schema.field(i).type:
            column = table.column(i).combine_chunks()
            table = table.set_column(i, pa.field(name, kind), column.dictionary_encode())
    return table


class MemCatalog:
    def __init__(self) -> None:
        self.tables: dict[str, MemTable] = {}

    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        partition_by: Sequence[str | tuple[str, str]] = (),
        chunk_rows: int = 4,
    ) -> MemTable:
        self.tables[name] = MemTable(name, schema, partition_by, chunk_rows)
        return self.tables[name]

    def load_table(self, name: str) -> MemTable:
        try:
            return self.tables[name]
        except KeyError:
            raise TableNotFoundError(f"no table {name!r}") from None
