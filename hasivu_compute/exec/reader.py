"""How a fragment reads its files: one call per data file, behind a small protocol.

The runtime implements :class:`FragmentReader` on shard actors (with a hot-column
cache); :class:`CatalogReader` is the default over a catalog, used by the
single-process :func:`hasivu_compute.exec.execute`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Protocol

import pyarrow as pa

from hasivu_compute.plan.nodes import DataFileLike, ScanFile
from hasivu_compute.plan.source import CatalogLike, CatalogSource, SnapshotLike


class FragmentReader(Protocol):
    """Reads one data file of a table snapshot: only ``columns`` and the file's surviving chunks."""

    def read(
        self,
        table: str,
        version: int | None,
        scan_file: ScanFile,
        columns: Sequence[str],
        dictionary: frozenset[str] = frozenset(),
    ) -> pa.Table:
        """Columns of one file; string columns in ``dictionary`` may come back dictionary-typed."""
        ...


class ReadableTable(Protocol):
    """``hasivu_compute.table.Table.read_file`` (schema evolution applied by the table)."""

    def read_file(
        self,
        f: DataFileLike,
        snapshot: SnapshotLike,
        columns: Sequence[str],
        chunks: Sequence[int] | None = None,
        dictionary: Collection[str] = (),
    ) -> pa.Table: ...


class CatalogReader:
    """A :class:`FragmentReader` over a catalog (tables and snapshots cached, thread-safe)."""

    def __init__(self, catalog: CatalogLike | CatalogSource) -> None:
        self._source = catalog if isinstance(catalog, CatalogSource) else CatalogSource(catalog)
        self._lock = threading.Lock()

    def read(
        self,
        table: str,
        version: int | None,
        scan_file: ScanFile,
        columns: Sequence[str],
        dictionary: frozenset[str] = frozenset(),
    ) -> pa.Table:
        """The requested columns of one data file (chunks from ``scan_file.chunks``)."""
        handle = self._source.table(table)
        snapshot = self._source.snapshot(table, version)
        readable: ReadableTable = handle  # type: ignore[assignment]
        return readable.read_file(
            scan_file.file, snapshot, list(columns), scan_file.chunks, dictionary
        )
