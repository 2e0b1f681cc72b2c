"""The write-ahead log: durable frames, torn tails cut, segments deleted whole after a flush."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.producers import CallKey
from hasivu_compute.table.wal import (
    LogCall,
    LogRecord,
    WriteAheadLog,
    decode_frames,
    encode_record,
)


def _record(lsn: int, rows: int = 3, key: CallKey | None = None) -> LogRecord:
    data = pa.table(
        {
            "a": pa.array(range(lsn * 10, lsn * 10 + rows), pa.int64()),
            "s": pa.array([f"x{i}" for i in range(rows)]),
        }
    )
    return LogRecord(lsn, 1, 1_700_000_000_000 + lsn, (LogCall(key, rows),), data)


def test_a_record_round_trips() -> None:
    key = CallKey("pos-1", 7, "ab" * 16, 3)
    rec = _record(5, key=key)
    (back,), end = decode_frames(encode_record(rec), "x")
    assert back == rec and end == len(encode_record(rec))


def test_a_torn_or_flipped_tail_is_cut_at_the_last_good_record() -> None:
    frames = b"".join(encode_record(_record(i)) for i in (1, 2, 3))
    good = len(frames) - len(encode_record(_record(3)))
    for cut in range(good + 1, len(frames)):
        records, end = decode_frames(frames[:cut], "x")
        assert [r.lsn for r in records] == [1, 2] and end == good
    flipped = bytearray(frames)
    flipped[good + 40] ^= 1
    assert [r.lsn for r in decode_frames(bytes(flipped), "x")[0]] == [1, 2]


def test_recover_replays_after_a_position_and_truncates_a_torn_tail(tmp_path: Path) -> None:
    io = FileIO.from_uri(str(tmp_path))
    log = WriteAheadLog(io)
    for lsn in (1, 2, 3):
        log.append(_record(lsn))
    log.close()
    (path,) = log.files()
    with open(tmp_path / path, "ab") as f:  # a crash in the middle of the 4th append
        f.write(encode_record(_record(4))[:37])
    again = WriteAheadLog(io)
    assert [r.lsn for r in again.recover(after_lsn=1)] == [2, 3]
    again.append(_record(4))
    assert [r.lsn for r in WriteAheadLog(io).recover(0)] == [1, 2, 3, 4], (
        "the torn tail was cut, so the next record follows the last good one"
    )


def test_segments_are_deleted_whole_once_flushed(tmp_path: Path) -> None:
    io = FileIO.from_uri(str(tmp_path))
    log = WriteAheadLog(io)
    for lsn in (1, 2):
        log.append(_record(lsn))
    log.rotate()  # a flush of 1..2 begins
    log.append(_record(3))
    log.truncate_through(2)
    assert [r.lsn for r in WriteAheadLog(io).recover(0)] == [3]
    assert len(log.files()) == 1
    log.rotate()
    log.truncate_through(3)
    assert log.files() == [] and WriteAheadLog(io).recover(0) == []


def test_appends_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    WriteAheadLog(FileIO.from_uri(str(tmp_path))).append(_record(1))
    assert len(synced) >= 2, "the record and the new segment's directory entry"
