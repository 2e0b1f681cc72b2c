"""The fast path for small writes: one table's write-ahead log, its buffer and its keys.

A :class:`TableLog` lives in the coordinator (one per table that received a
small call). A small call is validated, checked against the table's ingest
keys and queued; one thread at a time takes everything queued and appends it
to the log as one record with one ``fsync`` (group commit), then every caller
in that group is acknowledged. The acknowledged rows stay in memory, sealed
into blocks that queries read beside the table's files (see ``view``), until a
flush writes them as segments in one commit that also records their keys and
the log position (``Snapshot.log_lsn``). On a restart the log is replayed from
that position, so nothing acknowledged is lost and nothing is applied twice.

The table log is also the table's key authority: a big call commits through
:meth:`TableLog.commit_files`, so a key is checked against buffered calls and
committed ones alike.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from hasivu_compute._core.errors import CommitConflictError, HasivuError
from hasivu_compute.table.metadata import DataFile, Snapshot
from hasivu_compute.table.producers import CallKey, ProducerRecord, key_conflict
from hasivu_compute.table.table import Table
from hasivu_compute.table.wal import LogCall, LogRecord, WriteAheadLog, to_ipc
from hasivu_compute.table.writing import partition_slices

PutBlock = Callable[[pa.Table], Any]
# Writes a flush's sealed blocks as segments of the table at a snapshot (not committed).
WriteBlocks = Callable[[Table, Snapshot, list[Any]], list[DataFile]]
Item = tuple[CallKey | None, pa.Table, int, "bytes | None"]  # key, rows, schema id, IPC bytes
RETAIN_FLUSHED_S = 2.0  # flushed blocks kept for queries pinned just before the flush


class SchemaChangedError(HasivuError):
    """The table's schema changed after the call was validated: validate again and retry."""


@dataclass(frozen=True, slots=True)
class LogAck:
    """How a small call was acknowledged.

    Attributes:
        lsn: the log record that holds the call (for a duplicate: None if already flushed).
        duplicate: the key was already acknowledged or committed with the same rows.
        version: for a duplicate already in segments, the version that holds it.
        rows: rows of the call (of the earlier call, for a duplicate).
    """

    lsn: int | None
    duplicate: bool
    version: int | None
    rows: int


@dataclass(frozen=True, slots=True)
class Piece:
    """Buffered rows of one partition inside a sealed block, as a query reads them.

    Satisfies the planner's data-file protocol (``path``, ``partition``,
    ``num_rows``, ``stats``): pruning sees a file with no zone maps.
    """

    path: str
    partition: tuple[object, ...]
    num_rows: int
    block: str
    offset: int
    stats: dict[int, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BufferView:
    """Buffered rows a query at log position ``after_lsn`` must read besides the files.

    Attributes:
        pieces: per partition and block, the rows to read.
        refs: block id -> the block (an object-store reference, or the table itself).
        rows: rows in the pieces.
    """

    pieces: tuple[Piece, ...]
    refs: dict[str, Any]
    rows: int


@dataclass(slots=True)
class _Call:
    key: CallKey | None
    data: pa.Table
    schema_id: int
    ipc: bytes | None = None
    done: bool = False
    lsn: int | None = None
    error: BaseException | None = None


@dataclass(slots=True)
class _Block:
    block_id: str
    first_lsn: int
    last_lsn: int
    data: pa.Table
    slices: list[tuple[tuple[object, ...], int, int]]
    ref: Any
    flushing: bool = False  # taken by the running flush: never merged into a newer block
    flushed_at: float | None = None

    @property
    def open(self) -> bool:
        """Not yet taken by a flush: may still be merged with newer rows."""
        return not self.flushing and self.flushed_at is None


@dataclass(slots=True)
class _Entry:
    lsn: int
    data: pa.Table
    calls: tuple[LogCall, ...]
    at: float


class TableLog:
    """The write-ahead log, buffer and ingest keys of one table (thread-safe).

    Args:
        table: the table.
        put_block: how a sealed block is shared with readers (``ray.put``; identity
            without Ray).
        flush_rows: buffered rows that start a flush.
        flush_age_s: age of the oldest buffered row that starts a flush.
        max_buffer_rows: appends wait while this many rows are not yet flushed.
    """

    def __init__(
        self,
        table: Table,
        put_block: PutBlock | None = None,
        *,
        write_blocks: WriteBlocks | None = None,
        flush_rows: int = 1 << 20,
        flush_age_s: float = 10.0,
        max_buffer_rows: int = 4 << 20,
    ) -> None:
        self.table = table
        self.name = table.name
        self._put = put_block or (lambda t: t)
        self._write_blocks = write_blocks or _write_here
        self.flush_rows = flush_rows
        self.flush_age_s = flush_age_s
        self.max_buffer_rows = max_buffer_rows
        self.wal = WriteAheadLog(table.io)
        self._cond = threading.Condition()
        self._flush_lock = threading.Lock()
        self._closed = False  # close() ran: flushes do nothing (the table may be deleted)
        # Sealing (concatenate, sort by partition, share) runs outside ``_cond`` so appends
        # never wait for it; this lock keeps one sealer at a time. Order: flush, seal, cond.
        self._seal_lock = threading.Lock()
        self._queue: list[_Call] = []
        self._writing = False
        self._entries: list[_Entry] = []
        self._blocks: list[_Block] = []
        self._keys: dict[tuple[str, int], tuple[CallKey, int]] = {}  # key -> (key, lsn)
        self._unflushed = 0
        self.appends = 0
        self.groups = 0
        self.append_seconds = 0.0  # in append_many, waiting included
        self.write_seconds = 0.0  # writing and fsyncing the log
        self._open()

    # --- recovery ---------------------------------------------------------------

    def _open(self) -> None:
        snapshot = self.table.snapshot()
        self._snapshot = snapshot
        self.schema_id = snapshot.schema.schema_id
        self.flushed_lsn = snapshot.log_lsn
        self._retained_from = self.flushed_lsn
        records = self.wal.recover(self.flushed_lsn)
        self.next_lsn = max([self.flushed_lsn, *(r.lsn for r in records)]) + 1
        for record in records:
            data = _evolve(record.data, snapshot, record.schema_id)
            self._entries.append(_Entry(record.lsn, data, record.calls, time.monotonic()))
            self._unflushed += data.num_rows
            for call in record.calls:
                if call.key is not None:
                    self._keys[(call.key.producer_id, call.key.sequence)] = (call.key, record.lsn)

    @property
    def snapshot(self) -> Snapshot:
        """The last snapshot this log committed or saw."""
        return self._snapshot

    # --- appends ----------------------------------------------------------------

    def append(
        self, key: CallKey | None, data: pa.Table, schema_id: int, ipc: bytes | None = None
    ) -> LogAck:
        """Make one small call durable (validated rows of schema ``schema_id``; ``ipc``: the
        same rows as the Arrow IPC bytes the caller sent, logged as they are).

        Raises:
            SchemaChangedError: the schema is no longer ``schema_id``.
            IngestKeyConflictError: ``key`` holds other rows; nothing was written.
        """
        (result,) = self.append_many([(key, data, schema_id, ipc)])
        if isinstance(result, BaseException):
            raise result
        return result

    def append_many(self, items: Sequence[Item]) -> list[LogAck | HasivuError]:
        """Make several calls durable in one group (a driver batches its threads' calls);
        each item gets its ack or its error (:meth:`append` says which)."""
        started = time.perf_counter()
        results: list[LogAck | HasivuError | None] = [None] * len(items)
        mine: list[tuple[int, _Call]] = []
        repeats: dict[int, int] = {}  # item -> an earlier item of this batch with its key
        with self._cond:
            first: dict[tuple[str, int], int] = {}
            for i, (key, data, schema_id, ipc) in enumerate(items):
                if key is not None and (key.producer_id, key.sequence) in first:
                    repeats[i] = first[(key.producer_id, key.sequence)]
                    continue
                try:
                    call = self._enqueue(key, data, schema_id, ipc)
                except HasivuError as exc:
                    results[i] = exc
                    continue
                if isinstance(call, LogAck):
                    results[i] = call
                    continue
                mine.append((i, call))
                if key is not None:
                    first[(key.producer_id, key.sequence)] = i
            group = self._lead(mine)
        if group:
            self._write_group(group)
        for i, call in mine:
            if call.error is None:
                results[i] = LogAck(call.lsn, False, None, call.data.num_rows)
            elif isinstance(call.error, HasivuError):
                results[i] = call.error
            else:
                raise call.error  # the log could not be written: nothing acknowledged
        for i, j in repeats.items():
            results[i] = self._repeat(items[i], items[j], results[j])
        out: list[LogAck | HasivuError] = []
        for r in results:
            assert r is not None, "every call of a batch is answered"
            out.append(r)
        self.append_seconds += time.perf_counter() - started
        return out

    def _enqueue(
        self, key: CallKey | None, data: pa.Table, schema_id: int, ipc: bytes | None
    ) -> _Call | LogAck:
        """Check one call and queue it (or answer it: a known key). Called under the lock."""
        if schema_id != self.schema_id:
            raise SchemaChangedError(
                f"table {self.name!r} changed schema ({schema_id} -> {self.schema_id})"
            )
        known = self._known(key)
        if known is not None:
            return known
        while self._unflushed_rows() >= self.max_buffer_rows:
            self._cond.wait(0.1)  # backpressure: the flush has to catch up
        call = _Call(key, data, schema_id, ipc)
        self._queue.append(call)
        if key is not None:
            self._keys[(key.producer_id, key.sequence)] = (key, -1)  # pending
        return call

    def _lead(self, mine: list[tuple[int, _Call]]) -> list[_Call]:
        """Wait while another thread writes; then, if some of ``mine`` are still queued,
        take the whole queue to write (the caller is the writer). Called under the lock."""
        while not all(c.done for _, c in mine) and self._writing:
            self._cond.wait()
        if all(c.done for _, c in mine):
            return []
        self._writing = True
        group, self._queue = self._take_group()
        if not group:  # ours failed the schema check while they waited
            self._writing = False
            self._cond.notify_all()
        return group

    def _repeat(
        self, item: Item, earlier: Item, result: LogAck | HasivuError | None
    ) -> LogAck | HasivuError:
        """The answer to a call whose key an earlier call of the same batch carries."""
        key, other = item[0], earlier[0]
        assert key is not None and other is not None
        if key.digest != other.digest or key.rows != other.rows:
            return key_conflict(key, self.name, other.rows, "sent just before in this batch")
        if isinstance(result, LogAck):
            return LogAck(result.lsn, True, result.version, result.rows)
        assert result is not None
        return result

    def _take_group(self) -> tuple[list[_Call], list[_Call]]:
        """The queued calls still valid for the current schema (a schema change may have
        happened while they waited; those fail and are validated again by the caller)."""
        group = []
        for c in self._queue:
            if c.schema_id == self.schema_id:
                group.append(c)
                continue
            c.error = SchemaChangedError(
                f"table {self.name!r} changed schema while the call waited; validate again"
            )
            c.done = True
            if c.key is not None:
                self._keys.pop((c.key.producer_id, c.key.sequence), None)
        self._cond.notify_all()
        return group, []

    def _known(self, key: CallKey | None) -> LogAck | None:
        """A duplicate ack if ``key`` is buffered or committed with the same rows (raises on a
        conflict); None if the call is new. Called under the lock; waits while another call
        under the same key is being written, then looks again."""
        if key is None:
            return None
        while True:
            buffered = self._keys.get((key.producer_id, key.sequence))
            if buffered is None:
                break
            earlier, lsn = buffered
            if earlier.digest != key.digest or earlier.rows != key.rows:
                raise key_conflict(key, self.name, earlier.rows, "acknowledged (not yet flushed)")
            if lsn >= 0:
                return LogAck(lsn, True, None, earlier.rows)
            self._cond.wait()  # the same call is being written right now
        record = self._snapshot.producers.get(key.producer_id, ProducerRecord())
        committed = record.check(key, self.name)
        if committed is None:
            return None
        return LogAck(None, True, committed.version, committed.rows)

    def _write_group(self, group: list[_Call]) -> None:
        """Append one record for ``group`` (the caller is the only writer), then wake them."""
        lsn = self.next_lsn
        self.next_lsn += 1
        data = group[0].data if len(group) == 1 else pa.concat_tables([c.data for c in group])
        calls = tuple(LogCall(c.key, c.data.num_rows) for c in group)
        parts = tuple(c.ipc if c.ipc is not None else to_ipc(c.data) for c in group)
        record = LogRecord(lsn, self.schema_id, int(time.time() * 1000), calls, data, parts)
        started = time.perf_counter()
        try:
            self.wal.append(record)
            self.write_seconds += time.perf_counter() - started
        except BaseException as exc:
            with self._cond:
                for c in group:
                    c.error, c.done = exc, True
                    if c.key is not None:
                        self._keys.pop((c.key.producer_id, c.key.sequence), None)
                self._writing = False
                self._cond.notify_all()
            return
        with self._cond:
            self._entries.append(_Entry(lsn, data, calls, time.monotonic()))
            self._unflushed += data.num_rows
            for c in group:
                c.lsn, c.done = lsn, True
                if c.key is not None:
                    self._keys[(c.key.producer_id, c.key.sequence)] = (c.key, lsn)
            self.appends += len(group)
            self.groups += 1
            self._writing = False
            self._cond.notify_all()

    def _unflushed_rows(self) -> int:
        return self._unflushed

    # --- big calls --------------------------------------------------------------

    def commit_files(self, files: Sequence[DataFile], key: CallKey | None) -> tuple[int, int, bool]:
        """Commit a big call's files under ``key``: ``(version, rows, duplicate)``.

        The key is checked against buffered and committed calls and held as
        pending meanwhile, so a small and a big call under one key cannot both land.
        """
        with self._cond:
            known = self._known(key)
            if known is None and key is not None:
                self._keys[(key.producer_id, key.sequence)] = (key, -1)  # pending
        if known is not None:
            snapshot = self.refresh()
            paths = {f.path for f in files}
            if paths and paths <= {f.path for f in snapshot.data_files}:
                # Our own earlier attempt (its reply was lost): committed once, not a duplicate
                # (and its files must not be deleted as a duplicate's would be).
                return snapshot.version, sum(f.num_rows for f in files), False
            version = known.version if known.version is not None else snapshot.version
            return version, known.rows, True
        try:
            result = self.table.commit_append(files, key)
        finally:
            with self._cond:
                if key is not None:
                    self._keys.pop((key.producer_id, key.sequence), None)
                self._cond.notify_all()
        self.refresh()
        return result.version, result.rows, result.duplicate

    def refresh(self) -> Snapshot:
        """Reload the current snapshot (another committer may have added keys or files)."""
        snapshot = self.table.snapshot()
        with self._cond:
            if snapshot.version >= self._snapshot.version:
                self._snapshot = snapshot
        return snapshot

    # --- reading ----------------------------------------------------------------

    def view(self, after_lsn: int, schema_id: int) -> BufferView | None:
        """The buffered rows a query reading a version at log position ``after_lsn`` (and
        schema ``schema_id``) must add; None when that version is too old (the rows it
        needs were flushed and dropped, or the schema changed): plan again on the latest.
        """
        with self._seal_lock:
            self._seal()
            with self._cond:
                if schema_id != self.schema_id or after_lsn < self._retained_from:
                    return None
                blocks = [b for b in self._blocks if b.last_lsn > after_lsn]
        pieces = [
            Piece(f"buffer://{self.name}/{b.block_id}/{i}", part, length, b.block_id, offset)
            for b in blocks
            for i, (part, offset, length) in enumerate(b.slices)
        ]
        refs = {b.block_id: b.ref for b in blocks}
        return BufferView(tuple(pieces), refs, sum(p.num_rows for p in pieces))

    def _seal(self) -> None:
        """Turn entries not yet in a block into one (sorted by partition); merge open blocks
        when there are many. Called with ``_seal_lock`` held and ``_cond`` not: the
        concatenating and sorting happen while appends go on, and a block is swapped in
        only if the blocks it replaces are still the open tail of the list."""
        with self._cond:
            sealed = self._blocks[-1].last_lsn if self._blocks else self._retained_from
            fresh = [e for e in self._entries if e.lsn > sealed]
        if fresh:
            block = self._block([e.data for e in fresh], fresh[0].lsn, fresh[-1].lsn)
            with self._cond:
                self._blocks.append(block)
        # Merge the newest open blocks while the last is at least half the one before it
        # (a binary counter): O(log n) blocks, each row re-sorted O(log n) times. Blocks a
        # flush has taken are never merged: their rows would be flushed and read twice.
        while True:
            with self._cond:
                if len(self._blocks) < 2:
                    return
                prev, last = self._blocks[-2], self._blocks[-1]
                if not (prev.open and last.open) or prev.data.num_rows > 2 * last.data.num_rows:
                    return
            merged = self._block([prev.data, last.data], prev.first_lsn, last.last_lsn)
            with self._cond:
                if self._blocks[-2:] != [prev, last] or not (prev.open and last.open):
                    return  # a flush took them meanwhile (it seals under this lock: rare)
                self._blocks[-2:] = [merged]

    def _block(self, parts: list[pa.Table], first: int, last: int) -> _Block:
        data, slices = partition_slices(pa.concat_tables(parts), self._snapshot)
        block_id = uuid.uuid4().hex  # unique across restarts: shards key reads by it
        return _Block(block_id, first, last, data, slices, self._put(data))

    # --- flushing ---------------------------------------------------------------

    def due(self, now: float | None = None) -> bool:
        """Whether buffered rows should be flushed now (by rows or by age)."""
        now = time.monotonic() if now is None else now
        with self._cond:
            pending = [e for e in self._entries if e.lsn > self.flushed_lsn]
            if not pending:
                return False
            rows = sum(e.data.num_rows for e in pending)
            return rows >= self.flush_rows or now - pending[0].at >= self.flush_age_s

    def flush(self) -> int | None:
        """Write every acknowledged row as segments in one commit; the new version (None
        when nothing was buffered). Appends go on meanwhile; one flush at a time."""
        with self._flush_lock:
            if self._closed:
                return None
            with self._seal_lock:
                self._seal()
                with self._cond:
                    target = self._blocks[-1].last_lsn if self._blocks else self.flushed_lsn
                    if target <= self.flushed_lsn:
                        return None
                    blocks = [b for b in self._blocks if b.flushed_at is None]
                    for b in blocks:
                        b.flushing = True
                    entries = [e for e in self._entries if self.flushed_lsn < e.lsn <= target]
                    start = self.flushed_lsn
            try:
                self.wal.rotate()  # later records go to a segment this flush will not delete
                keys = [c.key for e in entries for c in e.calls if c.key is not None]
                version = self._commit_flush(blocks, keys, start, target)
            except BaseException:
                with self._cond:
                    for b in blocks:
                        b.flushing = False  # still buffered: the next flush takes them
                raise
            with self._cond:
                self.flushed_lsn = target
                now = time.monotonic()
                for b in blocks:
                    b.flushed_at, b.flushing = now, False
                self._unflushed -= sum(e.data.num_rows for e in entries)
                self._entries = [e for e in self._entries if e.lsn > target]
                for k in keys:
                    self._keys.pop((k.producer_id, k.sequence), None)
                self._drop_old(now)
                self._cond.notify_all()
            self.wal.truncate_through(target)
            return version

    def _commit_flush(self, blocks: list[_Block], keys: list[CallKey], start: int, end: int) -> int:
        snapshot = self.table.snapshot()
        files = self._write_blocks(self.table, snapshot, blocks) if blocks else []
        try:
            result = self.table.commit_flush(files, keys, start, end)
        except CommitConflictError:
            self.table.discard_files(files)
            raise
        snap = self.table.snapshot()
        with self._cond:
            self._snapshot = snap
        return result.version

    def _drop_old(self, now: float) -> None:
        """Forget flushed blocks past their retention (queries pinned before the flush
        read them meanwhile). Called under the lock."""
        keep = [
            b for b in self._blocks if b.flushed_at is None or now - b.flushed_at < RETAIN_FLUSHED_S
        ]
        dropped = [b for b in self._blocks if b not in keep]
        if dropped:
            self._retained_from = max(b.last_lsn for b in dropped)
        self._blocks = keep

    # --- schema changes and shutdown ---------------------------------------------

    def hold(self) -> _Hold:
        """A context in which no call is appended (a schema change flushes, then alters)."""
        return _Hold(self)

    def schema_changed(self) -> None:
        """Adopt the table's new schema (after a flushed, held schema change)."""
        snapshot = self.table.snapshot()
        with self._seal_lock, self._cond:  # no seal of old-schema rows lands after this
            self._snapshot = snapshot
            self.schema_id = snapshot.schema.schema_id
            self._blocks = []
            self._retained_from = self.flushed_lsn

    def close(self) -> None:
        """Close the log file (buffered rows stay durable in it).

        Waits for a flush in progress, and later flushes do nothing: the table may be
        deleted next, and a flush still writing segments into its folder would race
        the deletion (and leave files behind in a dropped table's place).
        """
        with self._flush_lock:
            self._closed = True
            self.wal.close()

    def stats(self) -> dict[str, Any]:
        """Buffered rows, blocks, log position, and group-commit counters."""
        with self._cond:
            return {
                "buffered_rows": self._unflushed_rows(),
                "blocks": len(self._blocks),
                "flushed_lsn": self.flushed_lsn,
                "next_lsn": self.next_lsn,
                "appends": self.appends,
                "groups": self.groups,
                "append_seconds": round(self.append_seconds, 3),
                "write_seconds": round(self.write_seconds, 3),
            }


def _write_here(table: Table, snapshot: Snapshot, blocks: list[Any]) -> list[DataFile]:
    """Write a flush's blocks in this process."""
    data = pa.concat_tables([b.data for b in blocks])
    return table.write_data_files(data, base=snapshot)


class _Hold:
    def __init__(self, log: TableLog) -> None:
        self._log = log

    def __enter__(self) -> TableLog:
        log = self._log
        with log._cond:
            while log._writing or log._queue:
                log._cond.wait()
            log._writing = True  # appenders queue up behind us
        return log

    def __exit__(self, *exc: object) -> None:
        log = self._log
        with log._cond:
            log._writing = False
            log._cond.notify_all()


def _evolve(data: pa.Table, snapshot: Snapshot, schema_id: int) -> pa.Table:
    """Rows logged under an older schema, read at the current one (schema changes flush
    first, so this only happens after a crash between the flush and the change)."""
    if schema_id == snapshot.schema.schema_id:
        return data
    arrow = snapshot.schema.to_arrow()
    columns = []
    for f in arrow:
        if f.name in data.column_names:
            columns.append(data.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(data.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=arrow)


__all__ = ["BufferView", "LogAck", "Piece", "SchemaChangedError", "TableLog"]
