"""Small writes through the write-ahead log on Ray: acknowledged rows are in the next
query's answer on every path, exactly once, across a coordinator crash; answers are checked
against DuckDB on the rows sent."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import duckdb
import pyarrow as pa
import pytest

from hasivu_compute._core.errors import ClusterError, IngestKeyConflictError
from hasivu_compute.expr import col

pytestmark = pytest.mark.integration

PER_SCHOOL = (
    "SELECT school_id, count(*) AS n, count(DISTINCT status) AS statuses, sum(amount) AS revenue "
    "FROM orders GROUP BY school_id ORDER BY school_id"
)


def _oracle(rows: pa.Table, sql: str) -> pa.Table:
    orders = rows  # noqa: F841 - DuckDB reads the local by name
    return duckdb.sql(sql).to_arrow_table()


def _same(got: pa.Table, want: pa.Table) -> None:
    assert got.column_names == want.column_names
    for name in got.column_names:
        g, w = got.column(name).to_pylist(), want.column(name).to_pylist()
        if name == "revenue":
            assert g == pytest.approx(w), name
        else:
            assert g == w, name


def test_an_acknowledged_small_call_is_in_the_next_query(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    sent = []
    for seq in range(5):
        batch = make_orders(200, start=seq * 200)
        r = conn.ingest("orders", batch, producer_id="pos-1", sequence=seq)
        assert r.lsn is not None and r.version is None and r.rows == 200, r
        sent.append(batch)
        rows = pa.concat_tables(sent)
        assert conn.sql("SELECT count(*) AS n FROM orders").column("n").to_pylist() == [
            rows.num_rows
        ], "SQL sees the call at once"
    frame = conn.table("orders").filter(col("school_id") == 3).count()
    assert frame == sum(1 for s in rows.column("school_id").to_pylist() if s == 3)
    _same(conn.sql(PER_SCHOOL), _oracle(rows, PER_SCHOOL))  # finished per partition, buffer too
    assert conn.runtime._catalog.load_table("orders").snapshot().version == 1, "not flushed yet"
    version = conn.flush("orders")
    assert version == 2 and conn.flush("orders") is None
    _same(conn.sql(PER_SCHOOL), _oracle(rows, PER_SCHOOL))
    assert conn.table("orders", version=version).count() == 1000
    history = conn.history("orders")
    assert history.column("operation").to_pylist()[-1] == "flush"


def test_retries_and_conflicts_of_small_calls(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema)
    batch = make_orders(100)
    first = conn.ingest("orders", batch, producer_id="app", sequence=7)
    again = conn.ingest("orders", batch, producer_id="app", sequence=7)
    assert again.duplicate and again.lsn == first.lsn and again.duplicate_rows == 100
    with pytest.raises(IngestKeyConflictError):
        conn.ingest("orders", make_orders(100, start=500), producer_id="app", sequence=7)
    conn.flush("orders")
    after = conn.ingest("orders", batch, producer_id="app", sequence=7)
    assert after.duplicate and after.version is not None
    assert conn.table("orders").count() == 100


def test_eight_producers_at_once_land_exactly(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    errors: list[BaseException] = []
    sent: list[pa.Table] = []
    lock = threading.Lock()

    def producer(p: int) -> None:
        try:
            for seq in range(15):
                batch = make_orders(100, start=(p * 15 + seq) * 100)
                conn.ingest("orders", batch, producer_id=f"pos-{p}", sequence=seq)
                with lock:
                    sent.append(batch)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=producer, args=(p,)) for p in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    rows = pa.concat_tables(sent)
    _same(conn.sql(PER_SCHOOL), _oracle(rows, PER_SCHOOL))
    stats = conn.runtime.call_coordinator("log_stats", "orders")
    assert stats["appends"] == 120 and stats["groups"] <= 120, stats


def test_a_killed_coordinator_loses_no_acknowledged_call(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    acked: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    lock = threading.Lock()

    def producer(p: int) -> None:
        seq = 0
        while not stop.is_set() and seq < 25:
            start = (p * 1000 + seq) * 50
            for _attempt in range(5):
                try:
                    conn.ingest("orders", make_orders(50, start=start), f"pos-{p}", sequence=seq)
                    break
                except ClusterError:  # the coordinator is restarting: the same call again
                    time.sleep(0.2)
            else:
                errors.append(RuntimeError(f"pos-{p} call {seq} never acknowledged"))
                return
            with lock:
                acked.append(start)
            seq += 1

    threads = [threading.Thread(target=producer, args=(p,)) for p in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    victim = conn.runtime.coordinator_pid()
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join(timeout=300)
    stop.set()
    assert not errors, errors
    assert conn.runtime.coordinator_pid() != victim
    ids = conn.sql("SELECT order_id FROM orders").column("order_id").to_pylist()
    expected = sorted(i for start in acked for i in range(start, start + 50))
    assert sorted(ids) == expected, "every acknowledged call once: none lost, none doubled"
    conn.flush("orders")
    assert sorted(conn.sql("SELECT order_id FROM orders").column("order_id").to_pylist()) == (
        expected
    )


def test_a_schema_change_keeps_buffered_rows(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema)
    conn.ingest("orders", make_orders(100), producer_id="pos", sequence=0)
    conn.alter_table("orders", add_columns={"note": "string"})
    assert conn.sql("SELECT count(*) AS n, count(note) AS notes FROM orders").to_pylist() == [
        {"n": 100, "notes": 0}
    ]
    more = make_orders(10, start=100).append_column("note", pa.array(["x"] * 10))
    conn.ingest("orders", more, producer_id="pos", sequence=1)
    assert conn.sql("SELECT count(note) AS notes FROM orders").column("notes").to_pylist() == [10]


CLUSTER_SCRIPT = """
import sys
import numpy as np
import pyarrow as pa
import hasivu_compute as hc

schema = pa.schema([("order_id", pa.int64()), ("school_id", pa.int32()), ("amount", pa.float64())])
c = hc.connect(data_dir=sys.argv[1], num_shards=1, num_ingest_actors=1)
c.create_table("orders", schema, partition_by=[("school_id", "bucket[4]")])
print("READY", flush=True)
for seq in range(100_000):
    ids = np.arange(seq * 50, seq * 50 + 50)
    batch = pa.table({"order_id": ids, "school_id": (ids % 9).astype(np.int32),
                      "amount": (ids % 7).astype(np.float64)}, schema=schema)
    c.ingest("orders", batch, producer_id="pos", sequence=seq)
    print("ACKED", seq, flush=True)
"""


@pytest.mark.slow
def test_the_whole_local_cluster_killed_loses_no_acknowledged_call(ray_session, tmp_path) -> None:
    """SIGKILL of a producer's embedded cluster (driver, GCS, raylet, every actor) at once;
    a new connection replays the log: every acknowledged call is there, and the producer's
    retries of the calls it never heard back about land once."""
    import subprocess
    import sys

    import numpy as np
    import psutil

    from hasivu_compute.sdk import connect

    data = tmp_path / "wh"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLUSTER_SCRIPT, str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acked = -1
    tree = [proc.pid]
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ACKED"):
                acked = int(line.split()[1])
                if acked >= 40:
                    break
        tree = [proc.pid] + [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        for pid in tree:  # everything at once: the driver, Ray's daemons, our actors
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
        for pid in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).wait(timeout=30)
    assert proc.stdout is not None
    for line in proc.stdout.read().splitlines():  # acknowledged after we stopped reading
        if line.startswith("ACKED"):
            acked = int(line.split()[1])
    assert acked >= 40
    c = connect(data_dir=data, num_shards=1, num_ingest_actors=1)
    try:
        ids = set(c.sql("SELECT order_id FROM orders").column("order_id").to_pylist())
        for seq in range(acked + 1):
            assert set(range(seq * 50, seq * 50 + 50)) <= ids, f"acknowledged call {seq} lost"
        schema = c.table("orders").schema
        for seq in range(acked + 1, acked + 3):  # what the producer never heard back about
            batch_ids = np.arange(seq * 50, seq * 50 + 50)
            batch = pa.table(
                {
                    "order_id": batch_ids,
                    "school_id": (batch_ids % 9).astype(np.int32),
                    "amount": (batch_ids % 7).astype(np.float64),
                },
                schema=schema,
            )
            c.ingest("orders", batch, producer_id="pos", sequence=seq)
        got = c.sql("SELECT order_id FROM orders").column("order_id").to_pylist()
        assert sorted(got) == list(range((acked + 3) * 50)), "every call exactly once"
    finally:
        c.close()


def test_partition_by_school_still_prunes_to_one_school(conn, make_orders) -> None:
    """partition_by=["school_id"] (the README's example) hashes schools into clusters, sorted
    by school inside: a one-school query reads one cluster's chunks of that school."""
    import numpy as np

    schema = pa.schema(
        [("order_id", pa.int64()), ("school_id", pa.int32()), ("amount", pa.float64())]
    )
    conn.create_table("orders", schema, partition_by=["school_id"])
    ids = np.arange(400_000)
    rows = pa.table(
        {"order_id": ids, "school_id": (ids % 500).astype(np.int32), "amount": (ids % 13) * 1.0},
        schema=schema,
    )
    for seq in range(4):
        conn.ingest("orders", rows.slice(seq * 100_000, 100_000), producer_id="load", sequence=seq)
    conn.flush("orders")
    snap = conn.runtime.current_snapshot("orders")
    assert [f.transform for f in snap.spec.fields] == ["bucket[16]"]
    assert len(snap.data_files) == 16, "16 clusters, not a file per school"
    one = conn.sql_df("SELECT count(*) AS n, sum(amount) AS s FROM orders WHERE school_id = 17")
    result = conn.runtime.query_runner().run(one.plan)
    want = _oracle(rows, "SELECT count(*) AS n, sum(amount) AS s FROM orders WHERE school_id = 17")
    assert result.table.column("n").to_pylist() == want.column("n").to_pylist()
    assert result.table.column("s").to_pylist() == pytest.approx(want.column("s").to_pylist())
    assert result.stats.shards_used == 1
    assert result.stats.rows_scanned <= 400_000 // 16, "one cluster at most, chunk-pruned"
    assert "partitions 1 of 16" in result.stats.pruning_text, result.stats.pruning_text


def test_a_table_name_in_another_case_reaches_the_same_log(conn, orders_schema, make_orders):
    """Table names match ignoring case (as in DuckDB): a small call into ORDERS lands in the
    log of orders, and queries of either spelling see it before any flush."""
    conn.create_table("orders", orders_schema)
    conn.ingest("orders", make_orders(10), producer_id="p", sequence=0)
    r = conn.ingest("ORDERS", make_orders(10, start=10), producer_id="p", sequence=1)
    assert r.lsn is not None
    again = conn.ingest("Orders", make_orders(10, start=10), producer_id="p", sequence=1)
    assert again.duplicate, "one key record whatever the spelling"
    for name in ("orders", "ORDERS"):
        assert conn.sql(f"SELECT count(*) AS n FROM {name}").column("n").to_pylist() == [20]
    assert conn.table("Orders").count() == 20
