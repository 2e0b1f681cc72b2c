"""The coordinator: the one place that changes the catalog and commits snapshots.

A plain class (unit tests drive it directly); :mod:`hasivu_compute.runtime.actors`
wraps it in a named, restartable Ray actor.  It holds no state that storage does
not: the catalog, snapshots and producers' ingest keys are all read back from
the table files, so a restarted coordinator simply reopens the catalog.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from hasivu_compute._core.config import Settings, load_settings
from hasivu_compute._core.errors import CommitConflictError, HasivuError
from hasivu_compute.runtime.compactor import AutoCompactor
from hasivu_compute.runtime.logs import TableLogs, block_writer
from hasivu_compute.runtime.tablelog import BufferView, LogAck
from hasivu_compute.runtime.values import CommitAck
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.producers import CallKey, CommittedCall, ProducerRecord
from hasivu_compute.table.wal import from_ipc

COMMIT_ATTEMPTS = 5
EMPTY_VIEW = BufferView((), {}, 0)


def _merges_on(worker: Any, catalog: Catalog) -> Any:
    """Compaction rewriters that run the merges on ``worker``."""
    from hasivu_compute.runtime.upkeep import actor_rewriter

    def rewriter(name: str, target_rows: int) -> Any:
        discard = catalog.load_table(name).discard_files
        return actor_rewriter([worker], name, target_rows, discard=discard)

    return rewriter


def _object_store_put() -> Any:
    """``ray.put`` inside a Ray worker (buffer blocks go to the object store, where shards
    read them without a copy); None elsewhere (blocks are passed as they are)."""
    import ray

    return ray.put if ray.is_initialized() else None


def open_catalog(
    data_uri: str,
    storage_options: dict[str, Any] | None = None,
    write_options: WriteOptions | None = None,
) -> Catalog:
    """The catalog over ``data_uri`` (a local folder or ``s3://bucket/prefix``); its
    tables write segments with ``write_options`` (default: the storage defaults)."""
    fileio = FileIO.from_uri(data_uri, **(storage_options or {}))
    return Catalog(fileio, write_options=write_options)


def write_options(settings: Settings) -> WriteOptions:
    """The segment options of the engine's settings (``HASIVU_ZSTD_LEVEL``, ...).

    The runtime hands them to every process that writes, so an ingest actor on
    another node encodes exactly as the driver's settings say.
    """
    return WriteOptions(
        zstd_level=settings.zstd_level,
        chunk_rows=settings.chunk_rows,
        bloom_fpp=settings.bloom_fpp,
        bloom_min_distinct_ratio=settings.bloom_min_distinct_ratio,
    )


class Coordinator:
    """Owns catalog changes and commits; every method is safe to retry after a crash.

    Args:
        data_uri: where the tables live.
        storage_options: extra FileIO options (S3 endpoint, credentials provider...).
        settings: engine settings (compaction thresholds); default: the environment's.
    """

    def __init__(
        self,
        data_uri: str,
        storage_options: dict[str, Any] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.data_uri = data_uri
        self.settings = settings or load_settings()
        self._catalog = open_catalog(data_uri, storage_options, write_options(self.settings))
        self.started_at = time.time()
        put = _object_store_put()
        worker = None
        if put is not None:  # inside Ray: flushes and compaction merges go to a worker
            from hasivu_compute.runtime import background

            worker = background.start(data_uri, storage_options, write_options(self.settings))
        self.compactions = AutoCompactor(
            self._catalog,
            self.settings,
            None if worker is None else _merges_on(worker, self._catalog),
        )
        self.logs = TableLogs(
            self._catalog,
            self.settings,
            put,
            self.compactions.after_commit,
            None if worker is None else block_writer(worker),
        )

    def _name(self, name: str) -> str:
        """The name the table was created with (names match ignoring case, as in DuckDB),
        so its log, keys and background work are found whatever spelling a caller uses."""
        return self._catalog.stored_name(name)

    def pid(self) -> int:
        """The OS process id (fault-injection tests kill it)."""
        return os.getpid()

    def ping(self) -> float:
        """When this incarnation started (changes after a restart)."""
        return self.started_at

    # --- catalog ---------------------------------------------------------------

    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        partition_by: Sequence[str] | None = None,
        if_not_exists: bool = False,
    ) -> str:
        """Create a table; returns its name.  Raises TableExistsError unless ``if_not_exists``."""
        kwargs: dict[str, Any] = {
            "if_not_exists": if_not_exists,
            "default_buckets": self.settings.default_buckets,
        }
        if partition_by:
            kwargs["partition_by"] = list(partition_by)
        self._catalog.create_table(name, schema, **kwargs)
        return name

    def drop_table(self, name: str) -> None:
        """Drop a table (TableNotFoundError if absent); its background work stops first."""
        name = self._name(name)
        self._catalog.load_table(name)
        self.logs.forget(name)
        self.compactions.stop(name)
        self._catalog.drop_table(name)

    def list_tables(self) -> list[str]:
        """Names of the tables, sorted."""
        return sorted(self._catalog.list_tables())

    def committed_call(self, name: str, producer_id: str, sequence: int) -> CommittedCall | None:
        """The call table ``name`` holds under ``(producer_id, sequence)`` (None: new).

        Raises:
            IngestKeyConflictError: the sequence is too old to tell.
        """
        name = self._name(name)
        snapshot = self._catalog.load_table(name).refresh()
        record = snapshot.producers.get(producer_id, ProducerRecord())
        return record.lookup(producer_id, sequence, name)

    # --- commits ---------------------------------------------------------------

    def commit(self, name: str, files: Sequence[Any], key: CallKey | None = None) -> CommitAck:
        """Append ``files`` (already written) as one snapshot, exactly once per ingest key.

        A duplicate leaves its files alone: they may be the very files the first
        attempt committed (a reply lost in a crash); the caller discards its own.

        Commits are serialised by the actor; a conflict with another committer
        (a backfill, a second coordinator on shared storage) is retried on the
        refreshed table, and the table's producer record makes the retry a no-op
        if the first attempt had in fact been published.

        Raises:
            IngestKeyConflictError: ``key`` holds other rows; nothing was applied.
        """
        name = self._name(name)
        last: CommitConflictError | None = None
        log = self.logs.get(name)  # the table's key authority, buffered calls included
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                version, rows, duplicate = log.commit_files(list(files), key)
            except CommitConflictError as exc:
                last = exc
                time.sleep(0.01 * (attempt + 1))
                continue
            if not duplicate:
                self.compactions.after_commit(name)
            return CommitAck(table=name, version=version, rows=rows, duplicate=duplicate)
        assert last is not None
        raise last

    # --- small writes (the table's write-ahead log) ----------------------------

    def append_small(
        self, name: str, key: CallKey | None, payload: bytes, schema_id: int
    ) -> LogAck:
        """Acknowledge a small call (validated rows as Arrow IPC bytes, which travel inline
        in the actor call: a pickled table costs ~2.5 ms per 1,000 orders, the bytes
        ~1 ms) once it is durable in the table's log.

        Raises:
            SchemaChangedError: validated against an older schema; validate again.
            IngestKeyConflictError: ``key`` holds other rows; nothing was written.
        """
        name = self._name(name)
        return self.logs.get(name).append(key, from_ipc(payload), schema_id, payload)

    def append_many(
        self, name: str, items: Sequence[tuple[CallKey | None, bytes, int]]
    ) -> list[LogAck | HasivuError]:
        """Several small calls of one driver as one group: ``(key, payload, schema id)``
        each; each gets its ack or its error."""
        name = self._name(name)
        log = self.logs.get(name)
        return log.append_many([(k, from_ipc(p), sid, p) for k, p, sid in items])

    def log_views(self, requests: Sequence[tuple[str, int, int]]) -> list[BufferView | None]:
        """For each ``(table, log position, schema id)`` a query pinned, the buffered rows it
        must read too (an empty view for a table without buffered rows; None: re-plan)."""
        out: list[BufferView | None] = []
        for name, after_lsn, schema_id in requests:
            log = self.logs.existing(name)
            out.append(EMPTY_VIEW if log is None else log.view(after_lsn, schema_id))
        return out

    def flush(self, name: str) -> int | None:
        """Write every acknowledged row of ``name`` as segments now; the version that holds
        them (None if nothing was buffered)."""
        name = self._name(name)
        self._catalog.load_table(name)
        return self.logs.flush(name)

    def log_stats(self, name: str) -> dict[str, Any]:
        """Buffered rows, log position and group-commit counters of ``name``."""
        name = self._name(name)
        log = self.logs.existing(name)
        stats = {} if log is None else log.stats()
        error = self.logs.flush_errors.get(name)
        return {**stats, "flush_error": error}

    def commit_rewrite(
        self, name: str, remove: Sequence[Any], add: Sequence[Any], operation: str = "rewrite"
    ) -> int:
        """Replace live files by new ones as one version (compaction); returns the version.

        Raises:
            CommitConflictError: a file to remove is no longer live (the caller
                discards ``add``).
        """
        name = self._name(name)
        table = self._catalog.load_table(name)
        return int(table.commit_rewrite(list(remove), list(add), operation=operation).version)

    # --- table upkeep ----------------------------------------------------------

    def alter_table(self, name: str, changes: Sequence[tuple[object, ...]]) -> int:
        """Apply schema changes as one version; returns it. Buffered small writes are
        flushed first (appends wait meanwhile), so the log never mixes schemas."""
        name = self._name(name)
        table = self._catalog.load_table(name)
        log = self.logs.existing(name)
        if log is None:
            return int(table.alter(list(changes)).version)
        with log.hold():
            log.flush()
            version = int(table.alter(list(changes)).version)
            log.schema_changed()
        return version

    def expire_snapshots(
        self, name: str, keep_last: int = 1, older_than_ms: int | None = None
    ) -> list[int]:
        """Expire old versions of ``name``; returns them."""
        name = self._name(name)
        table = self._catalog.load_table(name)
        return table.expire_snapshots(keep_last=keep_last, older_than_ms=older_than_ms)

    def vacuum(self, name: str, grace_period_s: float) -> Any:
        """Delete files of ``name`` no retained version needs (orphans after the grace period)."""
        name = self._name(name)
        return self._catalog.load_table(name).vacuum(grace_period_s=grace_period_s)

    def compaction_status(self, name: str) -> dict[str, Any]:
        """Whether a background compaction of ``name`` runs, and what the last one did."""
        name = self._name(name)
        return self.compactions.status(name)

    def wait_for_compaction(self, name: str, timeout_s: float = 600.0) -> bool:
        """Wait until no background compaction of ``name`` runs; False on timeout."""
        name = self._name(name)
        return self.compactions.wait(name, timeout_s)
