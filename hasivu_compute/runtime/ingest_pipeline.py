"""The driver side of one ingest call: validate, digest, write in parallel, commit once.

A call is all or nothing. Its batches are validated on the driver (a bad batch
names the caller's batch, column and row) and fed to the call's content digest
in order; the valid batches go to ingest workers with at most ``max_inflight``
outstanding (the input iterator is only advanced when a slot is free, so a
stream of any length is held in bounded memory). Only when every batch is
written are the files committed, in one snapshot, together with the call's
ingest key (:mod:`hasivu_compute.table.producers`). If anything fails before
that, the files written so far are deleted and nothing of the call is visible.

A call whose key the table already holds is not written at all: its batches are
only validated and digested, and the digest decides between "a retry: here is
the version that holds it" and :class:`IngestKeyConflictError`.

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

from hasivu_compute._core.errors import HasivuError, IngestKeyConflictError
from hasivu_compute.runtime.ingest import name_batch_error
from hasivu_compute.runtime.values import CommitAck, IngestResult, WrittenBatch
from hasivu_compute.table.digest import CallDigest
from hasivu_compute.table.producers import CallKey, CommittedCall, ProducerRecord


class BatchWriter(Protocol):
    """Writes batches somewhere (ingest actors, or in-process for tests)."""

    def submit(self, index: int, batch: pa.Table) -> Any:
        """Start writing ``batch`` (the call's ``index``-th); returns a handle."""
        ...

    def done(self, handle: Any) -> bool:
        """Whether ``result(handle)`` would return without blocking."""
        ...

    def result(self, handle: Any) -> WrittenBatch:
        """Wait for the batch (retrying on worker failure); re-raises validation errors."""
        ...

    def discard(self, files: Sequence[Any]) -> None:
        """Delete written files that will never be committed (best effort)."""
        ...


CommitFn = Callable[[Sequence[Any], "CallKey | None"], CommitAck]
Validate = Callable[[pa.Table, int], pa.Table]


@dataclass(frozen=True, slots=True)
class Slice:
    """One batch to write, and where it sits in what the caller passed.

    Attributes:
        table: the rows.
        label: index of the caller's batch it comes from (None: the caller gave one table).
        offset: row of the caller's batch it starts at (errors name the caller's rows).
    """

    table: pa.Table
    label: int | None = None
    offset: int = 0


@dataclass(slots=True)
class _Pending:
    index: int
    rows: int
    handle: Any
    label: int | None


@dataclass(frozen=True, slots=True)
class CallSpec:
    """Who sends the call: the table, and the key if the producer gave one.

    Attributes:
        table: table name.
        producer_id: the producer (None: an anonymous call, never deduplicated).
        sequence: the producer's number for this call.
        committed: the call the table already holds under this key (None: new).
    """

    table: str
    producer_id: str | None = None
    sequence: int | None = None
    committed: CommittedCall | None = None


class IngestPipeline:
    """Runs one ingest call (see the module docstring).

    Args:
        call: the table and the call's key.
        writer: where batches are written.
        commit: ``commit(files, key) -> CommitAck`` through the coordinator.
        validate: the table's validation of one batch (returns it in the table's types).
        max_inflight: bound on batches submitted but not yet written.
        on_rows: progress callback, called with a row count as batches finish.
    """

    def __init__(
        self,
        call: CallSpec,
        writer: BatchWriter,
        commit: CommitFn,
        validate: Validate,
        max_inflight: int = 4,
        on_rows: Callable[[int], None] | None = None,
    ) -> None:
        if max_inflight < 1:
            raise ValueError(f"max_inflight must be >= 1, got {max_inflight}")
        self._call = call
        self._writer = writer
        self._commit = commit
        self._validate = validate
        self._max_inflight = max_inflight
        self._on_rows = on_rows or (lambda _n: None)
        self._pending: deque[_Pending] = deque()
        self._written: list[Any] = []
        self._digest = CallDigest()
        self._batches = 0
        self.max_seen_inflight = 0

    def run(self, batches: Iterator[pa.Table | Slice]) -> IngestResult:
        """Write every batch, then commit them as one snapshot; returns when durable.

        Items may be :class:`Slice` values so that an error names the caller's
        batch and row when one user batch was split into several slices.

        Raises:
            SchemaMismatchError / InvalidDataError: a batch does not fit; nothing
                of the call was committed.
            IngestKeyConflictError: the key holds other rows; nothing was written.
        """
        started = time.perf_counter()
        if self._call.committed is not None:
            return self._recognise(batches, started)
        try:
            for index, item in enumerate(batches):
                part = item if isinstance(item, Slice) else Slice(item, index)
                valid = self._checked(part)
                if valid.num_rows == 0:
                    continue
                while len(self._pending) >= self._max_inflight:
                    self._collect(block=True)
                handle = self._writer.submit(index, valid)
                self._pending.append(_Pending(index, valid.num_rows, handle, part.label))
                self.max_seen_inflight = max(self.max_seen_inflight, len(self._pending))
                self._collect(block=False)
            while self._pending:
                self._collect(block=True)
        except BaseException:
            self._abandon()
            raise
        try:
            ack = self._commit(self._written, self._key())
        except IngestKeyConflictError:
            self._writer.discard(self._written)  # refused: certainly not committed
            raise
        # Any other commit failure may have come after the snapshot was published (a
        # lost reply): the files stay, and if unreferenced vacuum removes them later.
        if ack.duplicate:  # a concurrent retry of the same call committed first
            self._writer.discard(self._written)
        return self._result(ack.version, 0 if ack.duplicate else ack.rows, ack.duplicate, started)

    def _checked(self, part: Slice) -> pa.Table:
        try:
            valid = self._validate(part.table, part.offset)
        except HasivuError as exc:
            raise _named(exc, part.label) from exc
        self._digest.update(valid)
        return valid

    def _key(self) -> CallKey | None:
        call = self._call
        if call.producer_id is None or call.sequence is None:
            return None
        return CallKey(call.producer_id, call.sequence, self._digest.hexdigest(), self._digest.rows)

    def _recognise(self, batches: Iterator[Any], started: float) -> IngestResult:
        """A call whose key is committed: digest its rows and compare, writing nothing."""
        for index, item in enumerate(batches):
            part = item if isinstance(item, Slice) else Slice(item, index)
            self._checked(part)
            self._on_rows(part.table.num_rows)
        committed = self._call.committed
        assert committed is not None
        key = self._key()
        assert key is not None
        ProducerRecord(committed.sequence, (committed,)).check(key, self._call.table)
        return self._result(committed.version, 0, True, started)

    def _collect(self, block: bool) -> None:
        """Take finished writes (waiting for the oldest if ``block``)."""
        while self._pending:
            head = self._pending[0]
            if not block and not self._writer.done(head.handle):
                return
            try:
                written = self._writer.result(head.handle)
            except HasivuError as exc:
                self._pending.popleft()
                raise _named(exc, head.label) from exc
            self._pending.popleft()
            self._written.extend(written.files)
            self._batches += 1
            self._on_rows(head.rows)
            block = False

    def _abandon(self) -> None:
        """Wait for outstanding writes and delete every file of the call (best effort)."""
        while self._pending:
            head = self._pending.popleft()
            try:
                self._written.extend(self._writer.result(head.handle).files)
            except BaseException:  # the batch wrote nothing usable; keep cleaning up
                continue
        self._writer.discard(self._written)
        self._written = []

    def _result(
        self, version: int | None, rows: int, duplicate: bool, started: float
    ) -> IngestResult:
        return IngestResult(
            table=self._call.table,
            rows=rows,
            version=version,
            batches=0 if duplicate else self._batches,
            producer_id=self._call.producer_id,
            sequence=self._call.sequence,
            duplicate=duplicate,
            duplicate_rows=self._digest.rows if duplicate else 0,
            digest=self._digest.hexdigest(),
            seconds=time.perf_counter() - started,
        )


def _named(exc: HasivuError, label: int | None) -> HasivuError:
    """``exc`` naming the caller's batch (when the caller gave several), and saying that
    nothing of the call was committed."""
    named = exc if label is None else name_batch_error(exc, label)
    if named is exc:
        named = _copy_error(exc)
    named.args = (f"{named.args[0] if named.args else named}; nothing of this call was committed",)
    return named


def _copy_error(exc: HasivuError) -> HasivuError:
    import copy

    return copy.copy(exc)
