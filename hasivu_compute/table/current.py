"""Current snapshots of tables, answered from memory while the latest manifest is unchanged.

A query planner asks "what is table T now?" several times per query (SQL
lowering wants the schema, binding pins the version, pruning wants the file
list). Loading it afresh costs a listing (``Catalog.load_table``, ~0.4 ms) and
a read plus hash of the whole manifest (~1 ms at 768 files, growing with the
file count): ~1.5 ms per look-up, several per query. :class:`CurrentSnapshots`
answers with two tiny reads instead: the latest version (hint file plus an
existence probe) and the checksum the manifest claims in its first bytes; only
when that pair changed is the manifest read, verified and parsed again.

The pair, not the version alone, is the key: a dropped and re-created table
starts again at version 1 and can reach the same version number with other
content. A new commit or a schema change is a new version, so it is seen by
the very next look-up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pyarrow as pa

from hasivu_compute._core.errors import SnapshotNotFoundError, TableNotFoundError
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import SegmentReader
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.manifest import ManifestStore
from hasivu_compute.table.metadata import DataFile, Snapshot
from hasivu_compute.table.table import Table


@dataclass(frozen=True, slots=True)
class CurrentSnapshot:
    """The current snapshot of one table, with the key that identifies it.

    Attributes:
        key: ``(version, claimed manifest checksum)``; equal keys mean the same content.
        snapshot: the verified snapshot.
        arrow_schema: ``snapshot.schema.to_arrow()``, computed once.
    """

    key: tuple[int, int | None]
    snapshot: Snapshot
    arrow_schema: pa.Schema


class CurrentSnapshots:
    """Per-process view of tables' current snapshots over one catalog (thread-safe).

    Args:
        catalog: the catalog the tables live in.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._entries: dict[str, CurrentSnapshot] = {}
        self._lock = threading.Lock()

    def _store(self, name: str) -> ManifestStore:
        # A fresh store per look-up: its per-version cache must not outlive a drop.
        return ManifestStore(self._catalog.fileio.child(name), name)

    def key(self, name: str) -> tuple[int, int | None]:
        """``(latest version, claimed checksum)`` of table ``name``: two small reads.

        Raises:
            TableNotFoundError: no such table.
        """
        store = self._store(name)
        version = store.latest_version()
        return version, store.claimed_checksum(version)

    def version_key(self, name: str, version: int) -> tuple[int, int | None]:
        """``(version, claimed checksum)`` of an older version (time travel): one small read."""
        return version, self._store(name).claimed_checksum(version)

    def current(self, name: str) -> CurrentSnapshot:
        """The current snapshot of ``name`` (re-read only when its key changed); a name that
        differs from the table's only in case finds it, as in the catalog.

        Raises:
            TableNotFoundError: no such table.
        """
        store = self._store(name)
        try:
            version = store.latest_version()
        except TableNotFoundError:
            stored = self._catalog.stored_name(name)
            if stored == name:
                raise
            return self.current(stored)
        key = (version, store.claimed_checksum(version))
        with self._lock:
            entry = self._entries.get(name)
        if entry is not None and entry.key == key and key[1] is not None:
            return entry
        snapshot = store.load(version)
        entry = CurrentSnapshot(key, snapshot, snapshot.schema.to_arrow())
        with self._lock:
            self._entries[name] = entry
        return entry

    def snapshot(self, name: str) -> Snapshot:
        """The current snapshot of ``name``."""
        return self.current(name).snapshot

    def arrow_schema(self, name: str) -> pa.Schema | None:
        """The current Arrow schema of ``name``; None if there is no such table."""
        try:
            return self.current(name).arrow_schema
        except TableNotFoundError:
            return None

    def version_schema(self, name: str, version: int) -> pa.Schema | None:
        """The Arrow schema of an older version of ``name`` (time travel; a snapshot never
        changes, so nothing is cached); None if there is no such table or version."""
        try:
            return self._store(self._catalog.stored_name(name)).load(version).schema.to_arrow()
        except (TableNotFoundError, SnapshotNotFoundError):
            return None

    def forget(self, name: str) -> None:
        """Drop what is held for ``name`` (after a drop; look-ups re-check anyway)."""
        with self._lock:
            self._entries.pop(name, None)

    def load_table(self, name: str) -> CurrentTable:
        """A table handle whose current snapshot comes from this view (``CatalogLike``)."""
        return CurrentTable(self, self._catalog.load_table(name))


class CurrentTable:
    """A :class:`Table` whose ``snapshot()`` (no version) is served by :class:`CurrentSnapshots`.

    Everything else (time travel, segment access, ``io``) is the wrapped table's.
    """

    def __init__(self, view: CurrentSnapshots, table: Table) -> None:
        self._view = view
        self._table = table

    @property
    def name(self) -> str:
        """Table name."""
        return self._table.name

    @property
    def io(self) -> FileIO:
        """The table's FileIO (the planner keys its segment-summary cache by its uri)."""
        return self._table.io

    def snapshot(self, version: int | None = None) -> Snapshot:
        """The current snapshot (from the view), or ``version`` (time travel)."""
        if version is None:
            return self._view.snapshot(self._table.name)
        return self._table.snapshot(version)

    def open_segment(self, f: DataFile) -> SegmentReader:
        """See :meth:`Table.open_segment`."""
        return self._table.open_segment(f)


__all__ = ["CurrentSnapshot", "CurrentSnapshots", "CurrentTable"]
