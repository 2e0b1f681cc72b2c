"""Property: whatever the order of calls, retries, flushes and crashes, a table ends up holding
exactly the distinct calls its producers sent (none lost, none doubled).

A crash is modelled where it hurts: after the log record is durable but before the caller
got its acknowledgement (the caller retries the same call), in the middle of a flush before
its commit, and after the flush commit before the log is truncated. After each crash the
table log is opened again from storage, as a restarted coordinator does.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute.runtime.tablelog import TableLog
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.digest import digest_of
from hasivu_compute.table.producers import CallKey
from hasivu_compute.table.validate import validate_batch

SCHEMA = pa.schema([("order_id", pa.int64()), ("school_id", pa.int32())])


class Crash(Exception):
    """The process died here."""


@dataclass(frozen=True)
class Call:
    producer: int
    sequence: int
    rows: int

    def data(self, table) -> pa.Table:
        start = (self.producer * 1000 + self.sequence) * 100
        raw = pa.table(
            {
                "order_id": pa.array(range(start, start + self.rows), pa.int64()),
                "school_id": pa.array([i % 5 for i in range(self.rows)], pa.int32()),
            }
        )
        return validate_batch(table.snapshot().schema, raw)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("call"), st.integers(0, 2), st.integers(1, 20)),
        st.tuples(st.just("retry"), st.integers(0, 2)),
        st.tuples(st.just("crash_after_write"), st.integers(0, 2), st.integers(1, 20)),
        st.just(("flush",)),
        st.just(("crash_in_flush",)),
        st.just(("crash_after_flush_commit",)),
    ),
    min_size=1,
    max_size=25,
)


def _visible(log: TableLog, table) -> list[int]:
    snap = table.snapshot()
    ids = table.read(snap.version).column("order_id").to_pylist()
    view = log.view(snap.log_lsn, snap.schema.schema_id)
    assert view is not None
    for piece in view.pieces:
        ids += (
            view.refs[piece.block]
            .slice(piece.offset, piece.num_rows)
            .column("order_id")
            .to_pylist()
        )
    return sorted(ids)


def _send(log: TableLog, table, call: Call) -> None:
    data = call.data(table)
    key = CallKey(f"pos-{call.producer}", call.sequence, digest_of(data), data.num_rows)
    log.append(key, data, log.schema_id)


@settings(max_examples=40)
@given(plan=ops)
def test_exactly_the_distinct_calls_survive_any_crash(plan) -> None:
    with tempfile.TemporaryDirectory() as folder:
        table = Catalog(FileIO.from_uri(folder)).create_table(
            "t", SCHEMA, partition_by=[("school_id", "bucket[2]")]
        )
        log = TableLog(table)
        next_seq = [0, 0, 0]
        sent: list[Call] = []  # every call a producer sent at least once (acked or not)
        for op in plan:
            kind = op[0]
            if kind in ("call", "crash_after_write"):
                producer, rows = op[1], op[2]
                call = Call(producer, next_seq[producer], rows)
                next_seq[producer] += 1
                sent.append(call)
                if kind == "call":
                    _send(log, table, call)
                    continue
                real = log.wal.append

                def append_then_die(record, real=real):  # durable, but no ack came back
                    real(record)
                    raise Crash()

                log.wal.append = append_then_die  # type: ignore[method-assign]
                with contextlib.suppress(Crash):
                    _send(log, table, call)
                log.close()
                log = TableLog(table)  # restarted
                _send(log, table, call)  # the producer retries its unacknowledged call
            elif kind == "retry":
                mine = [c for c in sent if c.producer == op[1]]
                if mine:
                    _send(log, table, mine[-1])  # a retry of an acknowledged call
            elif kind == "flush":
                log.flush()
            elif kind == "crash_in_flush":
                real_commit = log.table.commit_flush

                def die(*args, **kwargs):
                    raise Crash()

                log.table.commit_flush = die  # type: ignore[method-assign]
                with contextlib.suppress(Crash):
                    log.flush()
                log.table.commit_flush = real_commit  # type: ignore[method-assign]
                log.close()
                log = TableLog(table)
            else:  # crash after the flush commit, before the log is truncated
                log.wal.truncate_through = lambda lsn: None  # type: ignore[method-assign]
                log.flush()
                log.close()
                log = TableLog(table)
        expected = sorted(
            i
            for c in sent
            for i in range(
                (c.producer * 1000 + c.sequence) * 100,
                (c.producer * 1000 + c.sequence) * 100 + c.rows,
            )
        )
        assert _visible(log, table) == expected, "buffered + flushed: every call once"
        log.flush()
        log.close()
        assert _visible(TableLog(table), table) == expected, "after a final flush and restart"
        assert table.verify().ok
