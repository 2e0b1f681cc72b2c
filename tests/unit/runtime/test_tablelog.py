"""The small-write fast path without Ray: group commit, keys, buffer views, flush, replay."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import IngestKeyConflictError
from hasivu_compute.runtime.tablelog import SchemaChangedError, TableLog
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.digest import digest_of
from hasivu_compute.table.producers import CallKey
from hasivu_compute.table.validate import validate_batch

SCHEMA = pa.schema([("order_id", pa.int64()), ("school_id", pa.int32()), ("amount", pa.float64())])


@pytest.fixture
def table(tmp_path: Path):
    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    return catalog.create_table("orders", SCHEMA, partition_by=[("school_id", "bucket[4]")])


def _rows(table, n: int, start: int = 0) -> pa.Table:
    data = pa.table(
        {
            "order_id": pa.array(range(start, start + n), pa.int64()),
            "school_id": pa.array([i % 7 for i in range(start, start + n)], pa.int32()),
            "amount": pa.array([float(i % 10) for i in range(start, start + n)]),
        }
    )
    return validate_batch(table.snapshot().schema, data)


def _key(producer: str, seq: int, data: pa.Table) -> CallKey:
    return CallKey(producer, seq, digest_of(data), data.num_rows)


def _append(log: TableLog, producer: str | None, seq: int, data: pa.Table):
    key = None if producer is None else _key(producer, seq, data)
    return log.append(key, data, log.schema_id)


def _visible(log: TableLog, table) -> list[int]:
    """Order ids a query of the current version sees: its files plus the buffer."""
    snap = table.snapshot()
    ids = table.read(snap.version).column("order_id").to_pylist()
    view = log.view(snap.log_lsn, snap.schema.schema_id)
    assert view is not None
    for piece in view.pieces:
        block = view.refs[piece.block].slice(piece.offset, piece.num_rows)
        ids += block.column("order_id").to_pylist()
    return sorted(ids)


def test_acknowledged_rows_are_visible_before_any_flush(table) -> None:
    log = TableLog(table)
    ack = _append(log, "pos-1", 0, _rows(table, 50))
    assert ack.lsn == 1 and not ack.duplicate
    assert table.snapshot().version == 1, "nothing committed yet"
    assert _visible(log, table) == list(range(50))
    view = log.view(0, table.snapshot().schema.schema_id)
    log.flush()
    assert {p.partition for p in view.pieces} == {
        f.partition for f in table.snapshot().data_files
    }, "buffered rows come in pieces per partition, so queries route and prune them"
    assert len(view.pieces) == len({p.partition for p in view.pieces})


def test_a_retry_is_recognised_before_and_after_the_flush(table) -> None:
    log = TableLog(table)
    data = _rows(table, 20)
    _append(log, "pos-1", 3, data)
    again = _append(log, "pos-1", 3, data)
    assert again.duplicate and again.lsn == 1 and again.rows == 20
    with pytest.raises(IngestKeyConflictError):
        _append(log, "pos-1", 3, _rows(table, 20, start=100))
    version = log.flush()
    after = _append(log, "pos-1", 3, data)
    assert after.duplicate and after.version == version
    assert _visible(log, table) == list(range(20))


def test_flush_commits_rows_keys_and_log_position_and_frees_the_log(table) -> None:
    log = TableLog(table)
    for seq in range(5):
        _append(log, "pos-1", seq, _rows(table, 10, start=seq * 10))
    version = log.flush()
    snap = table.snapshot()
    assert snap.version == version and snap.log_lsn == 5 and snap.summary["operation"] == "flush"
    assert [c.sequence for c in snap.producers["pos-1"].calls] == [0, 1, 2, 3, 4]
    assert table.read().num_rows == 50 and _visible(log, table) == list(range(50))
    assert log.wal.files() == [], "flushed log segments are deleted"
    assert log.flush() is None, "nothing buffered: no empty version"


def test_concurrent_calls_share_log_appends(table) -> None:
    log = TableLog(table)
    errors: list[BaseException] = []

    def producer(p: int) -> None:
        try:
            for seq in range(20):
                _append(log, f"pos-{p}", seq, _rows(table, 5, start=(p * 20 + seq) * 5))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=producer, args=(p,)) for p in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert log.appends == 160 and log.groups <= 160
    assert _visible(log, table) == list(range(800))


def test_a_crash_before_the_flush_replays_every_acknowledged_call(table) -> None:
    log = TableLog(table)
    for seq in range(4):
        _append(log, "pos-1", seq, _rows(table, 10, start=seq * 10))
    log.close()  # the process dies: only the log survives
    reborn = TableLog(table)
    assert _visible(reborn, table) == list(range(40))
    assert _append(reborn, "pos-1", 2, _rows(table, 10, start=20)).duplicate
    reborn.flush()
    assert sorted(table.read().column("order_id").to_pylist()) == list(range(40))


def test_a_crash_after_the_flush_commit_applies_nothing_twice(table, monkeypatch) -> None:
    log = TableLog(table)
    for seq in range(3):
        _append(log, "pos-1", seq, _rows(table, 10, start=seq * 10))
    monkeypatch.setattr(log.wal, "truncate_through", lambda lsn: None)  # dies right after
    log.flush()
    log.close()
    reborn = TableLog(table)
    assert reborn.stats()["buffered_rows"] == 0, "records up to the committed position skip"
    assert _visible(reborn, table) == list(range(30))
    assert reborn.flush() is None


def test_a_query_pinned_before_a_flush_still_sees_the_rows_once(table) -> None:
    log = TableLog(table)
    _append(log, "pos-1", 0, _rows(table, 10))
    old = table.snapshot()
    log.flush()
    _append(log, "pos-1", 1, _rows(table, 5, start=10))
    pinned = log.view(old.log_lsn, old.schema.schema_id)
    assert pinned is not None and pinned.rows == 15, "old files (none) + every buffered row"
    current = log.view(table.snapshot().log_lsn, old.schema.schema_id)
    assert current is not None and current.rows == 5


def test_appends_wait_while_the_buffer_is_full(table) -> None:
    log = TableLog(table, max_buffer_rows=30)
    for seq in range(3):
        _append(log, "p", seq, _rows(table, 10, start=seq * 10))
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (_append(log, "p", 3, _rows(table, 10, 30)), done.set())
    )
    thread.start()
    assert not done.wait(0.3), "the fourth call waits for a flush"
    log.flush()
    assert done.wait(5)
    thread.join()


def test_a_schema_change_flushes_first_and_refuses_stale_calls(table) -> None:
    log = TableLog(table)
    _append(log, "p", 0, _rows(table, 10))
    old_schema = log.schema_id
    stale = _rows(table, 1, start=50)  # validated before the change
    with log.hold():
        log.flush()
        table.add_column("note", pa.string())
        log.schema_changed()
    with pytest.raises(SchemaChangedError):
        log.append(None, stale, old_schema)
    raw = pa.table(
        {
            "order_id": [100, 101, 102],
            "school_id": [1, 2, 3],
            "amount": [1.0] * 3,
            "note": ["n"] * 3,
        }
    )
    new = validate_batch(table.snapshot().schema, raw)
    log.append(None, new, log.schema_id)
    assert (
        table.read().num_rows == 10 and log.view(table.snapshot().log_lsn, log.schema_id).rows == 3
    )


def test_a_big_call_and_a_small_call_under_one_key_land_once(table) -> None:
    log = TableLog(table)
    data = _rows(table, 10)
    _append(log, "job", 0, data)
    files = table.write_data_files(data)
    _, rows, duplicate = log.commit_files(files, _key("job", 0, data))
    assert duplicate and rows == 10
    table.discard_files(files)
    log.flush()
    assert table.read().num_rows == 10


def _held_writer():
    """A flush writer that signals ``entered`` and waits for ``release`` before writing."""
    entered, release = threading.Event(), threading.Event()

    def slow_write(tbl, snapshot, blocks):
        entered.set()
        assert release.wait(10)
        return tbl.write_data_files(pa.concat_tables([b.data for b in blocks]), base=snapshot)

    return slow_write, entered, release


def test_a_query_during_a_flush_never_merges_the_rows_being_flushed(table) -> None:
    """A view seals new rows while a flush writes; the sealed block must not absorb the
    block being flushed, or those rows would be read twice and flushed twice."""
    slow_write, entered, release = _held_writer()
    log = TableLog(table, write_blocks=slow_write)
    _append(log, "pos-1", 0, _rows(table, 10))
    flusher = threading.Thread(target=log.flush)
    flusher.start()
    assert entered.wait(10)
    _append(log, "pos-1", 1, _rows(table, 30, start=10))  # bigger than the flushing block
    snap = table.snapshot()
    view = log.view(snap.log_lsn, snap.schema.schema_id)  # seals while the flush writes
    assert view is not None and view.rows == 40
    release.set()
    flusher.join()
    assert _visible(log, table) == list(range(40))
    log.flush()
    assert sorted(table.read().column("order_id").to_pylist()) == list(range(40))
    assert _visible(log, table) == list(range(40))


def test_appends_go_on_while_a_block_is_sealed(table) -> None:
    """Sealing (concatenate, sort, share) a large buffer must not stall acknowledgements."""
    sealing, release = threading.Event(), threading.Event()

    def slow_put(block: pa.Table) -> pa.Table:
        sealing.set()
        assert release.wait(10)
        return block

    log = TableLog(table, put_block=slow_put)
    _append(log, "pos-1", 0, _rows(table, 10))
    snap = table.snapshot()
    views: list = []
    reader = threading.Thread(target=lambda: views.append(log.view(0, snap.schema.schema_id)))
    reader.start()
    assert sealing.wait(10)
    done = threading.Event()
    writer = threading.Thread(
        target=lambda: (_append(log, "pos-1", 1, _rows(table, 5, 10)), done.set())
    )
    writer.start()
    acknowledged = done.wait(5)
    release.set()
    reader.join()
    writer.join()
    assert acknowledged, "an append waited for the seal"
    assert views[0].rows == 10 and _visible(log, table) == list(range(15))


def test_close_waits_for_a_flush_in_progress_and_later_flushes_do_nothing(table) -> None:
    """A dropped table's folder is deleted right after its log is closed: a flush still
    writing segments there would race the deletion."""
    slow_write, entered, release = _held_writer()
    log = TableLog(table, write_blocks=slow_write)
    _append(log, "pos-1", 0, _rows(table, 10))
    flusher = threading.Thread(target=log.flush)
    flusher.start()
    assert entered.wait(10)
    _append(log, "pos-1", 1, _rows(table, 5, start=10))  # not in this flush
    closed = threading.Event()
    closer = threading.Thread(target=lambda: (log.close(), closed.set()))
    closer.start()
    assert not closed.wait(0.3), "close returned while the flush was still writing"
    release.set()
    flusher.join()
    closer.join()
    assert closed.is_set() and table.read().num_rows == 10
    version = table.snapshot().version
    assert log.flush() is None and table.snapshot().version == version
    reopened = TableLog(table)  # the 5 rows stayed durable in the log
    assert _visible(reopened, table) == list(range(15))
    reopened.close()
