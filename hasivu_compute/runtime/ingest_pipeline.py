"""The driver side of exactly-once ingest: sequence, bound, write in parallel, commit in order.

Each user batch gets a sequence number (its position in the stream) under the
call's producer id.  Batches the table already records for that producer (a
retried call) are acknowledged without being sent.  The others go to ingest
workers with at most ``max_inflight`` outstanding (backpressure: the input
iterator is only advanced when a slot is free, so memory stays bounded).
Written files are committed strictly in sequence order, several ready batches in
one commit, each commit recording the producer's last sequence: whatever
crashes, a batch is either in a snapshot with its sequence or not at all, and a
retry finds exactly the missing ones.

The pipeline is independent of Ray: :class:`BatchWriter` abstracts "write this
batch somewhere and tell me when it is done", so unit tests run it in-process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from hasivu_compute._core.errors import HasivuError
from hasivu_compute.runtime.ingest import name_batch_error
from hasivu_compute.runtime.values import CommitAck, IngestResult, WrittenBatch


class BatchWriter(Protocol):
    """Writes batches somewhere (ingest actors, or in-process for tests)."""

    def submit(self, sequence: int, batch: pa.Table) -> Any:
        """Start writing ``batch``; returns a handle."""
        ...

    def done(self, handle: Any) -> bool:
        """Whether ``result(handle)`` would return without blocking."""
        ...

    def result(self, handle: Any) -> WrittenBatch:
        """Wait for the batch (retrying on worker failure); re-raises validation errors."""
        ...


CommitFn = Callable[[Sequence[Any], int], CommitAck]


@dataclass(slots=True)
class _Pending:
    sequence: int
    rows: int
    handle: Any
    label: int


class IngestPipeline:
    """Runs one ingest call.

    Args:
        table: table name (for results and messages).
        producer_id: the producer the batches are recorded under.
        writer: where batches are written.
        commit: ``commit(files, last_sequence) -> CommitAck`` through the coordinator.
        last_committed: the producer's last committed sequence (None if never).
        max_inflight: bound on batches submitted but not yet committed.
        on_rows: progress callback, called with a row count as batches finish.
    """

    def __init__(
        self,
        table: str,
        producer_id: str,
        writer: BatchWriter,
        commit: CommitFn,
        last_committed: int | None,
        max_inflight: int = 4,
        on_rows: Callable[[int], None] | None = None,
    ) -> None:
        if max_inflight < 1:
            raise ValueError(f"max_inflight must be >= 1, got {max_inflight}")
        self._table = table
        self._producer = producer_id
        self._writer = writer
        self._commit = commit
        self._last = -1 if last_committed is None else last_committed
        self._max_inflight = max_inflight
        self._on_rows = on_rows or (lambda _n: None)
        self._pending: deque[_Pending] = deque()
        self._rows = 0
        self._batches = 0
        self._skipped = 0
        self._skipped_rows = 0
        self._version: int | None = None
        self.max_seen_inflight = 0

    def run(self, batches: Iterator[pa.Table | tuple[int, pa.Table]]) -> IngestResult:
        """Send every batch and commit them in order; returns when all are durable.

        Items may be ``(user_batch_index, table)`` so that an error names the
        caller's batch when one user batch was split into several slices.
        """
        started = time.perf_counter()
        for sequence, item in enumerate(batches):
            label, batch = item if isinstance(item, tuple) else (sequence, item)
            if sequence <= self._last:
                self._skipped += 1
                self._skipped_rows += batch.num_rows
                self._on_rows(batch.num_rows)
                continue
            if batch.num_rows == 0:
                continue
            while len(self._pending) >= self._max_inflight:
                self._commit_ready(block=True)
            handle = self._writer.submit(sequence, batch)
            self._pending.append(_Pending(sequence, batch.num_rows, handle, label))
            self.max_seen_inflight = max(self.max_seen_inflight, len(self._pending))
            self._commit_ready(block=False)
        while self._pending:
            self._commit_ready(block=True)
        return IngestResult(
            table=self._table,
            rows=self._rows,
            version=self._version,
            batches=self._batches,
            skipped_batches=self._skipped,
            skipped_rows=self._skipped_rows,
            producer_id=self._producer,
            seconds=time.perf_counter() - started,
        )

    def _commit_ready(self, block: bool) -> None:
        """Commit the longest prefix of finished batches (waiting for the first if ``block``)."""
        ready: list[tuple[_Pending, WrittenBatch]] = []
        while self._pending:
            head = self._pending[0]
            if not ready and not block and not self._writer.done(head.handle):
                return
            if ready and not self._writer.done(head.handle):
                break
            try:
                written = self._writer.result(head.handle)
            except HasivuError as exc:
                self._flush(ready)
                self._pending.clear()
                raise name_batch_error(exc, head.label) from exc
            self._pending.popleft()
            ready.append((head, written))
        self._flush(ready)

    def _flush(self, ready: list[tuple[_Pending, WrittenBatch]]) -> None:
        if not ready:
            return
        files = [f for _, written in ready for f in written.files]
        last_sequence = ready[-1][0].sequence
        ack = self._commit(files, last_sequence)
        rows = sum(p.rows for p, _ in ready)
        self._version = ack.version
        if ack.duplicate:
            self._skipped += len(ready)
            self._skipped_rows += rows
        else:
            self._rows += rows
            self._batches += len(ready)
        self._on_rows(rows)
