"""Table upkeep through the cluster: compaction on the ingest actors, history, expiry, vacuum.

``compact`` plans on the driver, rewrites the merges on the ingest actors in
parallel (each reads a group of small files and writes them again) and has the
coordinator commit each merge as it finishes; a merge whose files changed
meanwhile is skipped and its new files deleted. Everything else is one
coordinator call (the one place that changes tables) or, for reads like
``history``, the driver reading the table's metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import ray

from hasivu_compute.runtime import waits
from hasivu_compute.runtime.writers import ACTOR_FAILURES, unwrap_task_error
from hasivu_compute.table.compaction import CompactionPolicy, CompactionResult, CompactionTask
from hasivu_compute.table.metadata import DataFile, Snapshot
from hasivu_compute.table.table import Table

REWRITE_ATTEMPTS = 4
DRAIN_TIMEOUT_S = 120.0  # a merge still running when its compaction stops

HISTORY_SCHEMA = pa.schema(
    [
        pa.field("version", pa.int64(), nullable=False),
        pa.field("committed_at", pa.timestamp("ms", tz="UTC")),
        pa.field("operation", pa.string()),
        pa.field("producer", pa.string()),
        pa.field("sequence", pa.int64()),
        pa.field("added_rows", pa.int64()),
        pa.field("added_files", pa.int64()),
        pa.field("removed_files", pa.int64()),
        pa.field("expired", pa.bool_(), nullable=False),
    ]
)


def actor_rewriter(
    actors: Sequence[Any],
    name: str,
    target_rows: int,
    discard: Callable[[list[DataFile]], None] | None = None,
) -> Any:
    """A compaction rewriter that runs merges on ``actors``, two in flight per actor; a merge
    whose actor died is sent to the next one (a rewrite commits nothing, so it may run twice:
    the first attempt's files are orphans for vacuum).

    Closed early (a cancelled compaction, an error), it waits for the merges still in
    flight and hands their files to ``discard``: nothing keeps writing into the table's
    folder after the compaction returned (it may be dropped next).
    """

    def send(snapshot: Snapshot, task: CompactionTask, index: int) -> Any:
        actor = actors[index % len(actors)]
        return actor.call.remote("rewrite", name, snapshot.version, task, target_rows)

    def run(
        snapshot: Snapshot, tasks: Sequence[CompactionTask]
    ) -> Iterator[tuple[CompactionTask, list[DataFile]]]:
        pending: deque[tuple[CompactionTask, Any, int]] = deque()
        queue = deque(tasks)
        limit = 2 * len(actors)
        sent = 0
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    task = queue.popleft()
                    pending.append((task, send(snapshot, task, sent), sent))
                    sent += 1
                task, ref, index = pending.popleft()
                for attempt in range(REWRITE_ATTEMPTS):
                    try:
                        files = waits.get(ref)
                        break
                    except ray.exceptions.RayTaskError as exc:
                        raise unwrap_task_error(exc) from None
                    except ACTOR_FAILURES:
                        if attempt + 1 == REWRITE_ATTEMPTS:
                            raise
                        time.sleep(0.2 * (attempt + 1))  # let Ray restart the actor
                        index += 1
                        ref = send(snapshot, task, index)
                yield task, list(files)
        finally:
            _drain([ref for _task, ref, _index in pending], discard)

    return run


def _drain(refs: list[Any], discard: Callable[[list[DataFile]], None] | None) -> None:
    """Wait for merges nobody will commit, and discard what they wrote."""
    leftover: list[DataFile] = []
    for ref in refs:
        with contextlib.suppress(Exception):  # a failed merge wrote nothing to keep
            leftover.extend(waits.get(ref, timeout_s=DRAIN_TIMEOUT_S))
    if leftover and discard is not None:
        discard(leftover)


def history_table(table: Table) -> pa.Table:
    """One row per version: when, what, who (producer and sequence), rows and files."""
    rows: dict[str, list[Any]] = {f.name: [] for f in HISTORY_SCHEMA}
    for version, ts, summary in table.history():
        rows["version"].append(version)
        rows["committed_at"].append(
            None if ts is None else dt.datetime.fromtimestamp(ts / 1000, tz=dt.UTC)
        )
        rows["operation"].append(summary.get("operation"))
        rows["producer"].append(summary.get("producer"))
        rows["sequence"].append(_int(summary.get("sequence")))
        rows["added_rows"].append(_int(summary.get("added-rows")))
        rows["added_files"].append(_int(summary.get("added-files")))
        rows["removed_files"].append(_int(summary.get("removed-files")))
        rows["expired"].append(ts is None)
    return pa.table(rows, schema=HISTORY_SCHEMA)


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def policy_for(settings: Any, target_rows: int | None) -> CompactionPolicy:
    """The compaction policy of the engine settings, with an explicit target on top."""
    return CompactionPolicy(target_rows=target_rows or settings.compact_target_rows)


__all__ = ["HISTORY_SCHEMA", "CompactionResult", "actor_rewriter", "history_table", "policy_for"]
