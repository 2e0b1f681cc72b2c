"""Ingest workers and the conversion of user data into Arrow batches.

:class:`IngestWorker` is the plain class inside each ingest actor: it validates
one batch against the table schema (a bad batch is rejected whole, naming the
column and row, before any byte is written), routes its rows to partitions and
writes the segment files.  It does not publish them: the driver commits every
file of a call at once through the coordinator, with the call's ingest key
(see ``runtime.ingest_pipeline``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from hasivu_compute._core.errors import HasivuError, InvalidDataError, SchemaMismatchError
from hasivu_compute.runtime.values import WrittenBatch
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table.compaction import CompactionTask, rewrite
from hasivu_compute.table.metadata import DataFile

DEFAULT_BATCH_ROWS = 1_000_000


class IngestWorker:
    """Validates and writes batches of one or more tables (the body of an ingest actor).

    Args:
        data_uri: where the tables live.
        storage_options: extra FileIO options.
        write_options: how segments are encoded (default: the storage defaults).
    """

    def __init__(
        self,
        data_uri: str,
        storage_options: dict[str, Any] | None = None,
        write_options: WriteOptions | None = None,
    ) -> None:
        from hasivu_compute.runtime.coordinator import open_catalog

        self._catalog = open_catalog(data_uri, storage_options, write_options)
        self.batches_written = 0

    def pid(self) -> int:
        """The OS process id (fault-injection tests kill it)."""
        return os.getpid()

    def write(self, name: str, index: int, batch: pa.Table | pa.RecordBatch) -> WrittenBatch:
        """Validate and write one batch as uncommitted segment files.

        Raises:
            SchemaMismatchError / InvalidDataError: the batch does not fit the
                schema; nothing was written.
        """
        table = self._catalog.load_table(name)
        data = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        files = table.write_data_files(data)
        self.batches_written += 1
        return WrittenBatch(index=index, files=tuple(files), rows=data.num_rows)

    def rewrite(
        self, name: str, version: int, task: CompactionTask, target_rows: int
    ) -> list[DataFile]:
        """Write one compaction merge's files again as large files (not committed)."""
        table = self._catalog.load_table(name)
        return rewrite(table, table.snapshot(version), task, target_rows)


def to_arrow_table(data: object) -> pa.Table:
    """One user batch (Arrow table/batch, pandas DataFrame, dict of columns) as an Arrow table."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, dict):
        return pa.table(data)
    module = type(data).__module__
    if module.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if module.startswith("polars"):
        return data.to_arrow()  # type: ignore[attr-defined, no-any-return]
    raise SchemaMismatchError(
        f"cannot ingest a {type(data).__name__}: pass a pyarrow Table or RecordBatch, "
        "a pandas DataFrame, or an iterable of those"
    )


def is_single_batch(data: object) -> bool:
    """True when ``data`` is one batch (not an iterable of batches)."""
    if isinstance(data, pa.Table | pa.RecordBatch | dict):
        return True
    return type(data).__module__.startswith(("pandas", "polars"))


def split_rows(table: pa.Table, batch_rows: int) -> Iterator[pa.Table]:
    """Zero-copy slices of ``table`` of at most ``batch_rows`` rows (at least one slice)."""
    if batch_rows < 1:
        raise InvalidDataError(f"batch_rows must be >= 1, got {batch_rows}")
    if table.num_rows == 0:
        yield table
        return
    for start in range(0, table.num_rows, batch_rows):
        yield table.slice(start, batch_rows)


def iter_user_batches(data: object) -> Iterator[pa.Table]:
    """The user's batches, converted one at a time (the input is never materialised)."""
    if is_single_batch(data):
        yield to_arrow_table(data)
        return
    if not isinstance(data, Iterable) or isinstance(data, str | bytes):
        raise SchemaMismatchError(
            f"cannot ingest a {type(data).__name__}: pass a pyarrow Table or RecordBatch, "
            "a pandas DataFrame, or an iterable of those"
        )
    for item in data:
        yield to_arrow_table(item)


def name_batch_error(exc: HasivuError, index: int) -> HasivuError:
    """Say which user batch an error came from (row numbers are relative to it)."""
    if isinstance(exc, SchemaMismatchError | InvalidDataError):
        fresh = type(exc)(f"batch {index}: {exc}", column=exc.column, row=exc.row)
        return fresh
    return exc
