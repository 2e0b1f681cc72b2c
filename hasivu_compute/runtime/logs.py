"""The coordinator's table logs: one :class:`TableLog` per table, a flusher, and replay at start.

When the coordinator (re)starts, every table whose folder holds log records is
opened at once, before any call is answered, so acknowledged rows are in the
next query's answer after a crash too. A background thread flushes each log
when it holds ``HASIVU_LOG_FLUSH_ROWS`` rows or its oldest row is
``HASIVU_LOG_FLUSH_AGE_S`` old.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from hasivu_compute._core.config import Settings
from hasivu_compute._core.errors import TableNotFoundError
from hasivu_compute.runtime.tablelog import PutBlock, TableLog, WriteBlocks
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.wal import WAL_DIR

LOG = logging.getLogger(__name__)
FLUSH_CHECK_S = 0.2


class TableLogs:
    """The table logs of one catalog, created on first use (thread-safe).

    Args:
        catalog: the tables.
        settings: flush thresholds.
        put_block: how sealed buffer blocks are shared with readers.
        after_flush: called with the table name after each flush commit.
    """

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        put_block: PutBlock | None = None,
        after_flush: Callable[[str], Any] | None = None,
        write_blocks: WriteBlocks | None = None,
    ) -> None:
        self._catalog = catalog
        self._settings = settings
        self._put = put_block
        self._write_blocks = write_blocks
        self._after_flush = after_flush or (lambda _name: None)
        self._lock = threading.Lock()
        self._logs: dict[str, TableLog] = {}
        self._stop = threading.Event()
        self.flush_errors: dict[str, str] = {}
        for name in catalog.list_tables():
            if catalog.load_table(name).io.list(WAL_DIR):
                self.get(name)  # replay now: acknowledged rows answer the next query
        self._thread = threading.Thread(target=self._flusher, name="log-flusher", daemon=True)
        self._thread.start()

    def get(self, name: str) -> TableLog:
        """The log of table ``name`` (opened, and replayed, on first use)."""
        with self._lock:
            log = self._logs.get(name)
            if log is None:
                s = self._settings
                log = TableLog(
                    self._catalog.load_table(name),
                    self._put,
                    write_blocks=self._write_blocks,
                    flush_rows=s.log_flush_rows,
                    flush_age_s=s.log_flush_age_s,
                    max_buffer_rows=s.log_max_buffer_rows,
                )
                self._logs[name] = log
            return log

    def existing(self, name: str) -> TableLog | None:
        """The log of ``name`` if it is open (a table never written to has none)."""
        with self._lock:
            return self._logs.get(name)

    def flush(self, name: str) -> int | None:
        """Flush ``name``'s log now; the version holding every acknowledged row (None if
        nothing was buffered)."""
        log = self.existing(name)
        if log is None:
            return None
        version = log.flush()
        if version is not None:
            self._after_flush(name)
        return version

    def forget(self, name: str) -> None:
        """Close and forget ``name``'s log (its table is being dropped)."""
        with self._lock:
            log = self._logs.pop(name, None)
        if log is not None:
            with log.hold():
                log.close()

    def _flusher(self) -> None:
        while not self._stop.wait(FLUSH_CHECK_S):
            with self._lock:
                logs = list(self._logs.items())
            for name, log in logs:
                if not log.due():
                    continue
                try:
                    self.flush(name)
                    self.flush_errors.pop(name, None)
                except TableNotFoundError:
                    self.forget(name)
                except Exception as exc:  # kept and retried; acknowledged rows stay in the log
                    self.flush_errors[name] = f"{type(exc).__name__}: {exc}"
                    LOG.warning("flush of %s failed: %s", name, exc)

    def close(self) -> None:
        """Stop the flusher and close every log (rows stay durable in the logs)."""
        self._stop.set()
        with self._lock:
            logs = list(self._logs.values())
        for log in logs:
            with contextlib.suppress(Exception):
                log.close()


def block_writer(worker: Any) -> WriteBlocks:
    """Writes a flush's blocks on the coordinator's background worker (see
    ``runtime.background``): the blocks go by object-store reference, no copy.

    60 calls of 50,000 orders into 16 school clusters (warm): acknowledged at
    1.3-1.4M rows/s with the flush on a coordinator thread, 1.7-1.9M with it in
    another process; all in segments 0.64-0.67M vs 0.76-0.87M rows/s.
    """
    import ray

    def write(table: Any, snapshot: Any, blocks: list[Any]) -> list[Any]:
        refs = [b.ref for b in blocks]
        ref = worker.call.remote("write_blocks", table.name, snapshot.version, *refs)
        return list(ray.get(ref))

    return write


__all__ = ["TableLogs", "block_writer"]
