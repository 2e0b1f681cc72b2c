"""The coordinator's background worker: flushes and automatic compaction, out of its way.

Writing segments costs ~1 CPU-s per 1M rows. Done on a coordinator thread it
held the interpreter that acknowledges small writes (their latency tripled
during a flush); in a plain Ray task it ran at full priority beside them, so
on a small machine the acknowledgements still queued behind it (p99 ~80 ms
while a 1M-row flush ran). This worker is one actor, started by the
coordinator on first use and living as long as it does, that lowers its own
CPU priority: the coordinator and the queries come first, background work
takes what is left. Ray restarts it if it dies, and a call it was running is
retried (a retry writes new files; the first attempt's are orphans, removed
by vacuum).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pyarrow as pa

from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table.compaction import CompactionTask, rewrite
from hasivu_compute.table.metadata import DataFile

NICENESS = 10


class BackgroundWorker:
    """Writes flushes' blocks and compaction merges as segments (not committed).

    Args:
        data_uri: where the tables live.
        storage_options: extra FileIO options.
        write_options: how segments are encoded.
        niceness: how much to lower this process's CPU priority.
    """

    def __init__(
        self,
        data_uri: str,
        storage_options: dict[str, Any] | None,
        write_options: WriteOptions,
        niceness: int = NICENESS,
    ) -> None:
        from hasivu_compute.runtime.coordinator import open_catalog

        with contextlib.suppress(OSError):  # an unprivileged process may only lower it
            os.nice(niceness)
        self._catalog = open_catalog(data_uri, storage_options, write_options)

    def pid(self) -> int:
        """The OS process id (fault-injection tests kill it)."""
        return os.getpid()

    def write_blocks(self, name: str, version: int, *blocks: pa.Table) -> list[DataFile]:
        """A flush's sealed blocks as segments of ``name`` at ``version``."""
        table = self._catalog.load_table(name)
        return table.write_data_files(pa.concat_tables(list(blocks)), base=table.snapshot(version))

    def rewrite(
        self, name: str, version: int, task: CompactionTask, target_rows: int
    ) -> list[DataFile]:
        """One compaction merge's files, written again as large ones."""
        table = self._catalog.load_table(name)
        return rewrite(table, table.snapshot(version), task, target_rows)


def start(
    data_uri: str, storage_options: dict[str, Any] | None, write_options: WriteOptions
) -> Any:
    """Start the background worker actor (from inside the coordinator); its handle."""
    from hasivu_compute.runtime.actors import BackgroundActor

    return BackgroundActor.options(  # type: ignore[attr-defined]
        num_cpus=0, max_restarts=-1, max_task_retries=2
    ).remote(BackgroundWorker, data_uri, storage_options, write_options)


__all__ = ["BackgroundWorker", "start"]
