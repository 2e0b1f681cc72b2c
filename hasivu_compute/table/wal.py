"""A table's write-ahead log: small ingest calls are durable here before they are segments.

Writing a segment file and a version for every small call costs tens of
milliseconds and leaves a file per call; the log makes a call durable with
one sequential append and one ``fsync`` shared by every call that arrived
meanwhile (group commit). The log owner keeps the rows in memory, where
queries read them, and flushes them into segments in bulk; the version that
holds them records the log position it covers (``Snapshot.log_lsn``), so a
replay after a crash skips what is already in segments and nothing is applied
twice.

Each group of calls is one **record**: its log sequence number (LSN), the
schema it was validated against, the calls' ingest keys, and the rows as an
Arrow IPC stream. On storage a record is one frame::

    b"HWL1" | u32 header length | u64 body length | header (JSON) | body | u64 xxh64

Locally frames are appended to segment files ``wal/<first lsn>.log`` (a new one
is started when a flush begins, so once the flush is committed whole files
can go); on S3 every record is an object ``wal/<lsn>.rec`` (one put per
group). A frame that is torn (a crash mid-append) fails its length or
checksum check; it was never acknowledged, and recovery cuts it off.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import xxhash

from hasivu_compute._core.errors import ChecksumError
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.producers import CallKey

WAL_DIR = "wal"
MAGIC = b"HWL1"
_HEAD = struct.Struct("<4sIQ")
_TAIL = struct.Struct("<Q")


@dataclass(frozen=True, slots=True)
class LogCall:
    """One ingest call inside a record: its key (None: anonymous) and its rows."""

    key: CallKey | None
    rows: int


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One group commit: calls that became durable together, and their rows in order.

    Attributes:
        parts: each call's rows as an Arrow IPC stream, as the caller sent them (written
            as they are; empty: ``data`` is encoded as one stream).
    """

    lsn: int
    schema_id: int
    timestamp_ms: int
    calls: tuple[LogCall, ...]
    data: pa.Table
    parts: tuple[bytes, ...] = ()


def to_ipc(table: pa.Table) -> bytes:
    """``table`` as Arrow IPC stream bytes (how a small call travels and is logged)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def from_ipc(data: bytes | memoryview) -> pa.Table:
    """The table of Arrow IPC stream bytes (no copy)."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def encode_record(record: LogRecord) -> bytes:
    """The frame bytes of ``record``."""
    return b"".join(frame_parts(record))


def frame_parts(record: LogRecord) -> list[bytes]:
    """The frame of ``record`` as pieces to write in order (the calls' IPC bytes are not
    copied into one buffer: a 50,000-order call is ~4 MB)."""
    calls = [
        None if c.key is None else [c.key.producer_id, c.key.sequence, c.key.digest, c.rows]
        for c in record.calls
    ]
    anonymous = [c.rows for c in record.calls]
    parts = record.parts or (to_ipc(record.data),)
    header = json.dumps(
        {
            "lsn": record.lsn,
            "schema_id": record.schema_id,
            "ts": record.timestamp_ms,
            "calls": calls,
            "rows": anonymous,
            "sizes": [len(p) for p in parts],
        },
        separators=(",", ":"),
    ).encode()
    digest = xxhash.xxh64(header)
    for part in parts:
        digest.update(part)
    body_len = sum(len(p) for p in parts)
    head = _HEAD.pack(MAGIC, len(header), body_len) + header
    return [head, *parts, _TAIL.pack(digest.intdigest())]


def decode_frames(data: bytes, path: str) -> tuple[list[LogRecord], int]:
    """The records of a segment file, and where its valid part ends (a torn tail is cut)."""
    records: list[LogRecord] = []
    pos = 0
    view = memoryview(data)
    while pos + _HEAD.size <= len(data):
        magic, hlen, blen = _HEAD.unpack_from(view, pos)
        end = pos + _HEAD.size + hlen + blen + _TAIL.size
        if magic != MAGIC or end > len(data):
            break
        header = bytes(view[pos + _HEAD.size : pos + _HEAD.size + hlen])
        body = view[pos + _HEAD.size + hlen : end - _TAIL.size]
        digest = xxhash.xxh64(header)
        digest.update(body)
        if digest.intdigest() != _TAIL.unpack_from(view, end - _TAIL.size)[0]:
            break
        records.append(_record(header, body, path))
        pos = end
    return records, pos


def _record(header: bytes, body: memoryview, path: str) -> LogRecord:
    try:
        meta = json.loads(header)
        tables, start = [], 0
        for size in meta["sizes"]:
            tables.append(from_ipc(body[start : start + size]))
            start += size
        data = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        calls = tuple(
            LogCall(
                None if c is None else CallKey(str(c[0]), int(c[1]), str(c[2]), int(c[3])), rows
            )
            for c, rows in zip(meta["calls"], meta["rows"], strict=True)
        )
        return LogRecord(int(meta["lsn"]), int(meta["schema_id"]), int(meta["ts"]), calls, data)
    except (ValueError, KeyError, TypeError, pa.ArrowInvalid) as exc:
        raise ChecksumError(
            f"log record passes its checksum but is unreadable: {exc}", path=path
        ) from exc


class WriteAheadLog:
    """The log of one table (``io`` is rooted at the table folder); thread-safe appends.

    Args:
        io: the table's FileIO.
    """

    def __init__(self, io: FileIO) -> None:
        self.io = io
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._segment: int | None = None  # first lsn of the open local segment
        self._last_lsn: dict[int, int] = {}  # segment's first lsn -> last lsn written in it

    # --- recovery ---------------------------------------------------------------

    def recover(self, after_lsn: int) -> list[LogRecord]:
        """Every durable record with an LSN above ``after_lsn``, in order.

        A torn tail of the newest local segment (a crash mid-append: never
        acknowledged) is cut off, so later appends follow the last good record.
        """
        out: list[LogRecord] = []
        if self.io.is_local:
            segments = self._local_segments()
            for i, (start, path) in enumerate(segments):
                records, valid = decode_frames(self.io.read_bytes(path), path)
                if i == len(segments) - 1:
                    self._cut(path, valid)
                if records:
                    self._last_lsn[start] = records[-1].lsn
                out.extend(r for r in records if r.lsn > after_lsn)
        else:
            for lsn, path in self._objects():
                if lsn > after_lsn:
                    records, _ = decode_frames(self.io.read_bytes(path), path)
                    out.extend(records)
        return sorted(out, key=lambda r: r.lsn)

    def _cut(self, path: str, valid: int) -> None:
        full = os.path.join(self.io.root, path)
        if os.path.getsize(full) > valid:
            with open(full, "r+b") as f:
                f.truncate(valid)
                os.fsync(f.fileno())

    def _local_segments(self) -> list[tuple[int, str]]:
        found = []
        for path in self.io.list(WAL_DIR):
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".log") and name[:-4].isdigit():
                found.append((int(name[:-4]), path))
        return sorted(found)

    def _objects(self) -> list[tuple[int, str]]:
        found = []
        for path in self.io.list(WAL_DIR):
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".rec") and name[:-4].isdigit():
                found.append((int(name[:-4]), path))
        return sorted(found)

    # --- writing ----------------------------------------------------------------

    def append(self, record: LogRecord) -> None:
        """Make ``record`` durable (fsync locally, one put on S3) before returning."""
        pieces = frame_parts(record)
        with self._lock:
            if not self.io.is_local:
                self.io.write_bytes(f"{WAL_DIR}/{record.lsn:016d}.rec", b"".join(pieces))
                return
            if self._fd is None:
                self._open_segment(record.lsn)
            assert self._fd is not None
            _write_all(self._fd, pieces)
            os.fsync(self._fd)
            assert self._segment is not None
            self._last_lsn[self._segment] = record.lsn

    def _open_segment(self, first_lsn: int) -> None:
        folder = os.path.join(self.io.root, WAL_DIR)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{first_lsn:016d}.log")
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._segment = first_lsn
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new file's name is durable too
        finally:
            os.close(dir_fd)

    def rotate(self) -> None:
        """Start a new local segment with the next append (called when a flush begins, so
        that every record before it sits in segments the flush can delete whole)."""
        with self._lock:
            self._close()

    def truncate_through(self, lsn: int) -> None:
        """Delete what only holds records up to ``lsn`` (they are in segments now)."""
        with self._lock:
            if self.io.is_local:
                segments = self._local_segments()
                for i, (start, path) in enumerate(segments):
                    nxt = segments[i + 1][0] if i + 1 < len(segments) else None
                    if (nxt is not None and nxt <= lsn + 1 and start != self._segment) or (
                        nxt is None and start != self._segment and self._covered(path, lsn)
                    ):
                        self.io.delete(path)
            else:
                for rec_lsn, path in self._objects():
                    if rec_lsn <= lsn:
                        self.io.delete(path)

    def _covered(self, path: str, lsn: int) -> bool:
        start = int(path.rsplit("/", 1)[-1][:-4])
        last = self._last_lsn.get(start)
        if last is None:  # not written or read by this process: look
            records, _ = decode_frames(self.io.read_bytes(path), path)
            last = max((r.lsn for r in records), default=0)
        return last <= lsn

    def close(self) -> None:
        """Close the open segment (appends reopen one)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._segment = None

    def files(self) -> Sequence[str]:
        """The log files present now (for tests and the dashboard)."""
        return [p for _, p in (self._local_segments() if self.io.is_local else self._objects())]


def _write_all(fd: int, pieces: list[bytes]) -> None:
    """Write every byte of ``pieces`` in order (``writev`` may write only part)."""
    views = [memoryview(p) for p in pieces if p]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def iter_rows(records: Sequence[LogRecord]) -> Iterator[pa.Table]:
    """The rows of ``records`` in log order."""
    for record in records:
        yield record.data


__all__ = [
    "MAGIC",
    "WAL_DIR",
    "LogCall",
    "LogRecord",
    "WriteAheadLog",
    "decode_frames",
    "encode_record",
]
