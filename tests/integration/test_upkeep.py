"""Table upkeep through the SDK on Ray: compaction (manual and automatic), schema changes,
history, expiry and vacuum; answers checked against DuckDB on the same rows."""

from __future__ import annotations

import os
import signal
import threading
import time

import duckdb
import pyarrow as pa
import pytest

from hasivu_compute._core.errors import SchemaMismatchError, SnapshotNotFoundError

pytestmark = pytest.mark.integration

QUERY = (
    "SELECT school_id, count(*) AS n, sum(amount) AS revenue FROM orders "
    "GROUP BY school_id ORDER BY school_id"
)


def _oracle(rows: pa.Table) -> pa.Table:
    orders = rows  # noqa: F841 - DuckDB reads the local by name
    return duckdb.sql(QUERY).to_arrow_table()


def _check(conn, rows: pa.Table) -> None:
    got = conn.sql(QUERY)
    want = _oracle(rows)
    assert got.column("school_id").to_pylist() == want.column("school_id").to_pylist()
    assert got.column("n").to_pylist() == want.column("n").to_pylist()
    assert got.column("revenue").to_pylist() == pytest.approx(want.column("revenue").to_pylist())


def _small_calls(conn, make_orders, calls: int, rows: int = 300, start: int = 0) -> pa.Table:
    sent = [make_orders(rows, start=start + i * rows) for i in range(calls)]
    for i, batch in enumerate(sent):
        conn.ingest("orders", batch, producer_id="pos", sequence=start // rows + i)
        conn.flush("orders")  # each call its own commit: small files for compaction
    return pa.concat_tables(sent)


def test_compact_merges_small_files_and_answers_do_not_change(
    conn, orders_schema, make_orders
) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    rows = _small_calls(conn, make_orders, 6)
    result = conn.compact("orders")
    assert result.files_before == 24 and result.files_after == 4, result
    assert result.rows_rewritten == rows.num_rows and result.skipped == 0
    _check(conn, rows)
    history = conn.history("orders")
    assert history.column("operation").to_pylist()[-4:] == ["compact"] * 4
    assert history.column("producer").to_pylist()[1:7] == ["pos"] * 6
    assert conn.verify("orders").ok
    again = conn.ingest("orders", make_orders(300), producer_id="pos", sequence=0)
    assert again.duplicate, "ingest keys survive compaction"


def test_the_coordinator_compacts_on_its_own(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    rows = _small_calls(conn, make_orders, 9)  # 36 small files: past the default 32
    assert conn.runtime.call_coordinator("wait_for_compaction", "orders", 120.0)
    status = conn.runtime.call_coordinator("compaction_status", "orders")
    assert status["last"] is not None and status["last"]["ok"], status
    assert status["last"]["tasks"] > 0
    assert len(conn.runtime._catalog.load_table("orders").snapshot().data_files) < 36
    _check(conn, rows)


def test_writers_and_readers_carry_on_during_a_compaction(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    first = _small_calls(conn, make_orders, 6)
    sent: list[pa.Table] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            sent.append(_small_calls(conn, make_orders, 4, start=100_000))
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    counts = []
    compaction = threading.Thread(target=lambda: conn.compact("orders"))
    compaction.start()
    while compaction.is_alive():
        counts.append(conn.sql("SELECT count(*) AS n FROM orders").column("n")[0].as_py())
    compaction.join()
    thread.join()
    assert not errors, errors
    assert counts, "no query ran during the compaction: the check below would hold vacuously"
    assert all(1800 <= n <= 3000 for n in counts), counts
    _check(conn, pa.concat_tables([first, *sent]))


def test_an_ingest_actor_killed_mid_compaction_changes_no_row(
    conn, orders_schema, make_orders
) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    rows = _small_calls(conn, make_orders, 7)  # 28 small files: below the automatic 32
    victim = conn.runtime.ingest_pids()[0]
    killer = threading.Timer(0.05, lambda: os.kill(victim, signal.SIGKILL))
    killer.start()
    result = conn.compact("orders")  # a merge on the killed actor is sent to the next one
    killer.join()
    assert result.files_after == 4 and result.skipped == 0, result
    _check(conn, rows)
    assert conn.verify("orders").ok


def test_alter_table_is_all_or_nothing(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema)
    conn.ingest("orders", make_orders(100))
    version = conn.alter_table(
        "orders",
        add_columns={"note": "string"},
        rename_columns={"status": "state"},
        widen_columns={"school_id": pa.int64()},
    )
    schema = conn.table("orders").schema
    assert schema.field("school_id").type == pa.int64() and "state" in schema.names
    assert conn.sql("SELECT count(note) AS n FROM orders").column("n").to_pylist() == [0]
    with pytest.raises(SchemaMismatchError):
        conn.alter_table("orders", add_columns={"x": "int32"}, widen_columns={"amount": "int8"})
    with pytest.raises(SchemaMismatchError):
        conn.alter_table("orders", drop_columns=["no_such_column"])
    assert conn.history("orders").column("version").to_pylist()[-1] == version, "unchanged"
    assert "x" not in conn.table("orders").schema.names
    assert conn.table("orders", version=version - 1).to_arrow().column_names == orders_schema.names


def test_expire_then_vacuum_frees_old_files(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[2]")])
    rows = _small_calls(conn, make_orders, 4)
    conn.compact("orders")
    expired = conn.expire_snapshots("orders", keep_last=1)
    assert expired == list(range(1, expired[-1] + 1)) and expired
    with pytest.raises(SnapshotNotFoundError):
        conn.table("orders", version=2).to_arrow()
    freed = conn.vacuum("orders")
    assert len([p for p in freed.deleted if p.startswith("data/")]) == 8
    _check(conn, rows)
    assert conn.verify("orders").ok


def test_a_compaction_stopped_early_leaves_no_merge_writing(
    conn, orders_schema, make_orders
) -> None:
    """Merges run on actors, several in flight: a compaction that stops early (cancelled
    before a drop, or failed) waits for them and deletes what they wrote, so nothing
    keeps writing into a folder that may be deleted next."""
    from hasivu_compute.runtime.upkeep import actor_rewriter
    from hasivu_compute.table.compaction import CompactionPolicy, plan_compaction

    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    _small_calls(conn, make_orders, 6)
    table = conn.runtime._catalog.load_table("orders")
    snapshot = table.snapshot()
    tasks = plan_compaction(snapshot, CompactionPolicy(), "full")
    assert len(tasks) == 4
    merges = actor_rewriter(
        conn.runtime.ingest_actors(), "orders", 1_000_000, discard=table.discard_files
    )(snapshot, tasks)
    _task, first = next(merges)  # the other three are in flight on the actors
    merges.close()
    table.discard_files(first)
    time.sleep(3)  # a merge left running would have written its files by now
    committed = {f.path for f in snapshot.data_files}
    on_disk = {p for p in table.io.list("data") if p.endswith(".hseg")}
    assert on_disk == committed, "no file of an unfinished merge is left or still coming"
