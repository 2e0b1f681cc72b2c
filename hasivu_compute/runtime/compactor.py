"""Automatic compaction: the coordinator merges a table's small files in the background.

After each commit the coordinator counts the table's small files (a pass over
the snapshot it already holds); past ``HASIVU_COMPACT_MIN_FILES`` it starts a
tiered compaction of that table on a thread of its own, at most one per table.
The thread commits like any other committer (optimistic, rebasing over
appends), so ingest never waits for it, and a coordinator killed mid-way leaves
only unreferenced files (see :mod:`hasivu_compute.table.compaction`).
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import asdict
from typing import Any

from hasivu_compute._core.config import Settings
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.compaction import (
    CompactionPolicy,
    compact_table,
    plan_compaction,
    small_files,
)


class AutoCompactor:
    """Background tiered compactions of one catalog's tables.

    Args:
        catalog: the tables.
        settings: ``compact_min_files`` (0: off) and ``compact_target_rows``.
        rewriter: ``rewriter(name, target_rows)`` gives where merges are written (the
            coordinator's background worker); None writes them on the compaction thread.
    """

    def __init__(self, catalog: Catalog, settings: Settings, rewriter: Any | None = None) -> None:
        self._catalog = catalog
        self._rewriter = rewriter  # (name, target_rows) -> rewriter; None: in this process
        self.min_files = settings.compact_min_files
        self.policy = CompactionPolicy(target_rows=settings.compact_target_rows)
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}
        self._stop: dict[str, threading.Event] = {}
        self._last: dict[str, dict[str, Any]] = {}

    def after_commit(self, name: str) -> bool:
        """Start a compaction of ``name`` if it has enough small files; True if one started."""
        if self.min_files <= 0:
            return False
        with self._lock:
            if name in self._running:
                return False
        snapshot = self._catalog.load_table(name).snapshot()
        if small_files(snapshot, self.policy) < self.min_files:
            return False
        if not plan_compaction(snapshot, self.policy, mode="tiered"):
            return False  # small files, but no size tier with enough of them to merge
        with self._lock:
            if name in self._running:
                return False
            stop = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(name, stop), name=f"compact-{name}", daemon=True
            )
            self._running[name] = thread
            self._stop[name] = stop
        thread.start()
        return True

    def _run(self, name: str, stop: threading.Event) -> None:
        started = time.time()
        try:
            table = self._catalog.load_table(name)
            rewriter = None
            if self._rewriter is not None:
                rewriter = self._rewriter(name, self.policy.target_rows)
            result = compact_table(
                table, self.policy, mode="tiered", rewriter=rewriter, cancelled=stop.is_set
            )
            outcome: dict[str, Any] = {"ok": True, **asdict(result)}
        except Exception as exc:  # the table may be dropped meanwhile; report, never crash
            outcome = {
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(limit=5),
            }
        outcome["started_at"] = started
        with self._lock:
            self._last[name] = outcome
            self._running.pop(name, None)
            self._stop.pop(name, None)

    def status(self, name: str) -> dict[str, Any]:
        """``{"running": bool, "last": {...} | None}`` for table ``name``."""
        with self._lock:
            return {"running": name in self._running, "last": self._last.get(name)}

    def stop(self, name: str, timeout_s: float = 60.0) -> None:
        """Stop the compaction of ``name`` (before the table is dropped) and wait for it."""
        with self._lock:
            stop = self._stop.get(name)
            thread = self._running.get(name)
        if stop is not None:
            stop.set()
        if thread is not None:
            thread.join(timeout_s)
        with self._lock:
            self._last.pop(name, None)

    def wait(self, name: str, timeout_s: float) -> bool:
        """Wait for the running compaction of ``name`` (if any); False on timeout."""
        with self._lock:
            thread = self._running.get(name)
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()


__all__ = ["AutoCompactor"]
