"""Compaction: merge a partition's small segment files into fewer large ones.

Small writes leave small files (a POS feed's call, a flush of the write-ahead
log, a day of one school), and every file costs a query planning, an open and
per-chunk work, so a table that only grows by small files slows down month by
month. Compaction reads a group of small files of one partition at the
table's current schema, writes them again as files of up to ``target_rows``
(sorted by the partition's clustering columns, so chunk zone maps stay narrow),
and commits "remove these, add those" as one version:

* readers are never blocked: they read the snapshot they pinned, whose files
  stay until that version is expired and vacuumed;
* concurrent appends still commit: the rewrite only requires that the files it
  removes are still live, so it rebases over appends;
* a compaction killed at any point leaves the table as it was: its new files
  are unreferenced until the commit, and vacuum removes them.

Two modes. ``"tiered"`` (the automatic one) merges files of similar size only
(size tiers of factor 4, at least ``min_merge`` files per merge), so each row is
rewritten O(log(target / file size)) times however long a table grows by small
appends. ``"full"`` (an operator's ``compact``) merges every partition's small
files at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from hasivu_compute._core.errors import CommitConflictError, ConfigError
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table.metadata import DataFile, Snapshot

TIER_RATIO = 4
DEFAULT_MIN_MERGE = 4
MODES = ("full", "tiered")


@dataclass(frozen=True, slots=True)
class CompactionPolicy:
    """When files are merged and how large the results are.

    Attributes:
        target_rows: rows per written file (and the size a merge aims for).
        small_rows: files with fewer rows are merged; larger ones are left alone
            (default: half of ``target_rows``).
        min_merge: in tiered mode, files of one size tier merged together.
    """

    target_rows: int = 1 << 20
    small_rows: int | None = None
    min_merge: int = DEFAULT_MIN_MERGE

    def __post_init__(self) -> None:
        if self.target_rows < 1:
            raise ConfigError(f"target_rows must be >= 1, got {self.target_rows}")
        if self.min_merge < 2:
            raise ConfigError(f"min_merge must be >= 2, got {self.min_merge}")

    @property
    def small_limit(self) -> int:
        """Files with fewer rows than this are compaction candidates."""
        return self.small_rows if self.small_rows is not None else max(1, self.target_rows // 2)


@dataclass(frozen=True, slots=True)
class CompactionTask:
    """Files of one partition to merge (a picklable value)."""

    partition: tuple[object, ...]
    files: tuple[DataFile, ...]

    @property
    def rows(self) -> int:
        """Rows in the task's files."""
        return sum(f.num_rows for f in self.files)


@dataclass(frozen=True, slots=True)
class CompactionResult:
    """What a compaction did.

    Attributes:
        table: table name.
        files_before / files_after: live files when it started / after its commits.
        files_removed / files_added: files the committed merges removed and added.
        rows_rewritten: rows read and written again.
        tasks: merges committed.
        skipped: merges given up because their files changed concurrently.
        version: the table version after the last commit (None: nothing committed).
        seconds: wall time.
    """

    table: str
    files_before: int
    files_after: int
    files_removed: int
    files_added: int
    rows_rewritten: int
    tasks: int
    skipped: int
    version: int | None
    seconds: float


def tier(rows: int) -> int:
    """The size tier of a file: ``floor(log4(rows))`` (files within a factor of 4 share one).

    Merging ``min_merge`` files of one tier gives a file of the next tier up, so a
    row is rewritten about once per tier between a small append and ``target_rows``.
    """
    return int(math.log(max(rows, 1), TIER_RATIO))


def plan_compaction(
    snapshot: Snapshot, policy: CompactionPolicy | None = None, mode: str = "full"
) -> list[CompactionTask]:
    """The merges the snapshot's files call for (none when nothing is small enough).

    Example:
        >>> plan_compaction(snapshot)  # doctest: +SKIP
        [CompactionTask(partition=(3,), files=(...12 small files...))]
    """
    if mode not in MODES:
        raise ConfigError(f"compaction mode must be one of {MODES}, got {mode!r}")
    policy = policy or CompactionPolicy()
    by_partition: dict[tuple[object, ...], list[DataFile]] = {}
    for f in snapshot.data_files:
        if f.num_rows < policy.small_limit:
            by_partition.setdefault(tuple(f.partition), []).append(f)
    tasks: list[CompactionTask] = []
    for partition, small in by_partition.items():
        groups = [small] if mode == "full" else _tiers(small, policy.min_merge)
        for group in groups:
            for packed in _pack(group, policy.target_rows):
                if len(packed) > 1:
                    tasks.append(CompactionTask(partition, tuple(packed)))
    return tasks


def _tiers(files: list[DataFile], min_merge: int) -> list[list[DataFile]]:
    by_tier: dict[int, list[DataFile]] = {}
    for f in files:
        by_tier.setdefault(tier(f.num_rows), []).append(f)
    return [group for _, group in sorted(by_tier.items()) if len(group) >= min_merge]


def _pack(files: list[DataFile], target_rows: int) -> list[list[DataFile]]:
    """Files in groups of at most ``target_rows`` rows (oldest first, so merges keep the
    append order of rows as far as the clustering sort leaves it)."""
    groups: list[list[DataFile]] = [[]]
    rows = 0
    for f in files:
        if groups[-1] and rows + f.num_rows > target_rows:
            groups.append([])
            rows = 0
        groups[-1].append(f)
        rows += f.num_rows
    return groups


class Compactable(Protocol):
    """What compaction needs of a table (:class:`~hasivu_compute.table.table.Table`)."""

    name: str
    io: FileIO
    write_options: WriteOptions | None

    def snapshot(self, version: int | None = None) -> Snapshot: ...
    def read_file(self, f: DataFile, snapshot: Snapshot) -> pa.Table: ...
    def commit_rewrite(
        self, remove: Sequence[DataFile], add: Sequence[DataFile], *, operation: str = ...
    ) -> Snapshot: ...
    def discard_files(self, files: Sequence[DataFile]) -> None: ...


def rewrite(
    table: Compactable, snapshot: Snapshot, task: CompactionTask, target_rows: int
) -> list[DataFile]:
    """Read the task's files at ``snapshot`` and write them again as large files (not
    committed). If writing fails, the files written so far are deleted."""
    from hasivu_compute.table.writing import write_data_files

    rows = pa.concat_tables([table.read_file(f, snapshot) for f in task.files])
    return write_data_files(
        table.io, snapshot, rows, options=table.write_options, segment_rows=target_rows
    )


@dataclass(slots=True)
class _Tally:
    removed: int = 0
    added: int = 0
    rows: int = 0
    tasks: int = 0
    skipped: int = 0
    version: int | None = None


Rewriter = Callable[
    [Snapshot, Sequence[CompactionTask]], Iterable[tuple[CompactionTask, list[DataFile]]]
]
Committer = Callable[[CompactionTask, list[DataFile]], int]


def compact_table(
    table: Compactable,
    policy: CompactionPolicy | None = None,
    mode: str = "full",
    *,
    rewriter: Rewriter | None = None,
    committer: Committer | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> CompactionResult:
    """Plan the table's merges and commit each one as its new files are written.

    One commit per merge lets a merge whose files were changed concurrently
    (another compaction, an erasure) be skipped without undoing the others.
    ``rewriter`` writes the tasks' new files and yields them as they are done
    (default: one at a time in this process, so one group of at most
    ``target_rows`` rows is held); ``committer`` commits one merge and returns
    the version (default: :meth:`Table.commit_rewrite`). ``cancelled`` is asked
    before each commit: once it says True, the remaining merges are dropped, and the
    rewriter is closed (it waits for merges in flight) before this returns.
    """
    started = time.perf_counter()
    policy = policy or CompactionPolicy()
    snapshot = table.snapshot()
    tasks = plan_compaction(snapshot, policy, mode)
    rewrite_all = rewriter or _local_rewriter(table, policy.target_rows)
    commit_one = committer or _local_committer(table)
    tally = _Tally()
    merges = rewrite_all(snapshot, tasks)
    try:
        for task, added in merges:
            if cancelled is not None and cancelled():
                table.discard_files(added)
                break
            try:
                tally.version = commit_one(task, added)
            except CommitConflictError:
                table.discard_files(added)
                tally.skipped += 1
                continue
            tally.removed += len(task.files)
            tally.added += len(added)
            tally.rows += task.rows
            tally.tasks += 1
    finally:  # a rewriter with merges in flight waits for them before we return
        close = getattr(merges, "close", None)
        if close is not None:
            close()
    return CompactionResult(
        table=table.name,
        files_before=len(snapshot.data_files),
        files_after=len(table.snapshot().data_files),
        files_removed=tally.removed,
        files_added=tally.added,
        rows_rewritten=tally.rows,
        tasks=tally.tasks,
        skipped=tally.skipped,
        version=tally.version,
        seconds=time.perf_counter() - started,
    )


def _local_rewriter(table: Compactable, target_rows: int) -> Rewriter:
    def run(
        snapshot: Snapshot, tasks: Sequence[CompactionTask]
    ) -> Iterator[tuple[CompactionTask, list[DataFile]]]:
        for task in tasks:
            yield task, rewrite(table, snapshot, task, target_rows)

    return run


def _local_committer(table: Compactable) -> Committer:
    def run(task: CompactionTask, added: list[DataFile]) -> int:
        return table.commit_rewrite(task.files, added, operation="compact").version

    return run


def small_files(snapshot: Snapshot, policy: CompactionPolicy) -> int:
    """How many of the snapshot's files are compaction candidates."""
    return sum(1 for f in snapshot.data_files if f.num_rows < policy.small_limit)


__all__ = [
    "CompactionPolicy",
    "CompactionResult",
    "CompactionTask",
    "compact_table",
    "plan_compaction",
    "rewrite",
    "small_files",
    "tier",
]
