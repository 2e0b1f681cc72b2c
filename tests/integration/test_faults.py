"""Faults injected for real: SIGKILL of shard, ingest and coordinator worker processes.

Every assertion is about the answer: exact, or a typed error — never a subset.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import HasivuError, QueryFailedError

pytestmark = pytest.mark.integration

N_ROWS = 120_000


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    import psutil

    deadline = time.time() + timeout
    while psutil.pid_exists(pid) and time.time() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)


def _loaded(conn, orders_schema, make_orders):
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[8]")])
    conn.ingest("orders", make_orders(N_ROWS), producer_id="load", batch_rows=30_000)
    from hasivu_compute.expr import col, count

    return (
        conn.table("orders")
        .filter(col("status") == "paid")
        .group_by("school_id")
        .agg(col("amount").sum().alias("revenue"), count().alias("orders"))
        .sort("school_id")
    )


def _expected(conn, frame, rows: pa.Table) -> pa.Table:
    """The single-process answer (for exact ``equals`` of whole tables), after checking it
    against DuckDB over the rows sent: the local engine runs the same fragments and merge
    as the shards, so by itself it is not an oracle."""
    import duckdb

    from hasivu_compute.exec import execute
    from hasivu_compute.runtime.coordinator import open_catalog

    local = execute(frame.plan, open_catalog(conn.data_dir))
    orders = rows  # noqa: F841 - DuckDB reads the local by name
    oracle = duckdb.sql(
        "SELECT school_id, sum(amount) AS revenue, count(*) AS orders FROM orders "
        "WHERE status = 'paid' GROUP BY school_id ORDER BY school_id"
    ).to_arrow_table()
    assert local.column_names == oracle.column_names
    assert local.to_pylist() == oracle.to_pylist(), "whole-number sums compare exactly"
    assert local.num_rows == 20
    return local


def test_shard_killed_during_query_gives_exact_answer_or_typed_error(
    conn, orders_schema, make_orders
) -> None:
    frame = _loaded(conn, orders_schema, make_orders)
    expected = _expected(conn, frame, make_orders(N_ROWS))
    assert frame.to_arrow().equals(expected)
    outcomes, killed = [], []
    for victim in range(2):
        pid = conn.runtime.shard_pids()[victim]
        killed.append(pid)
        result: dict[str, object] = {}

        def query(result: dict[str, object] = result) -> None:
            try:
                result["table"] = frame.to_arrow()
            except HasivuError as exc:  # a typed error is an allowed outcome
                result["error"] = exc

        worker = threading.Thread(target=query)
        worker.start()
        time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        worker.join(timeout=120)
        assert not worker.is_alive(), "the query must finish (answer or error), not hang"
        if "table" in result:
            assert result["table"].equals(expected), "an answer after a crash must be exact"
            outcomes.append("exact")
        else:
            assert isinstance(result["error"], QueryFailedError), result["error"]
            outcomes.append("typed error")
        _wait_gone(pid)
    # the shards came back (restarted) and answer exactly again
    assert frame.to_arrow().equals(expected), f"after the kills ({outcomes})"
    assert not set(killed) & set(conn.runtime.shard_pids()), "killed shards were restarted"


def test_a_query_sent_to_a_dead_shard_is_retried_and_exact(
    conn, orders_schema, make_orders
) -> None:
    """A shard killed just before the query: its fragment fails on the dead (restarting)
    actor and must be sent again; the answer is exact and the stats prove the retry."""
    frame = _loaded(conn, orders_schema, make_orders)
    expected = _expected(conn, frame, make_orders(N_ROWS))
    runner = conn.runtime.query_runner()
    assert runner.run(frame.plan).stats.shards_used == 2, "both shards hold fragments"
    victim = conn.runtime.shard_pids()[0]
    os.kill(victim, signal.SIGKILL)
    result = runner.run(frame.plan)
    assert result.table.equals(expected), "the answer after a shard crash is exact"
    assert result.stats.retries > 0, "a fragment was re-sent: the crash was really hit"
    _wait_gone(victim)


def test_ingest_actor_killed_mid_stream_loses_and_duplicates_nothing(
    conn, orders_schema, make_orders
) -> None:
    from hasivu_compute.runtime.coordinator import open_catalog

    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    victim = conn.runtime.ingest_pids()[0]
    n_batches, rows = 12, 5_000

    def stream():
        for i in range(n_batches):
            if i == 4:
                os.kill(victim, signal.SIGKILL)  # while batches are in flight
            yield make_orders(rows, start=i * rows)

    result = conn.ingest("orders", stream(), producer_id="pos-1")
    assert result.rows == n_batches * rows
    table = open_catalog(conn.data_dir).load_table("orders")
    ids = table.read(columns=["order_id"]).column("order_id")
    assert len(ids) == n_batches * rows, "0 lost, 0 duplicated"
    assert pa.compute.count_distinct(ids).as_py() == n_batches * rows
    again = conn.ingest("orders", stream_again(make_orders, n_batches, rows), producer_id="pos-1")
    assert again.rows == 0 and again.duplicate and again.duplicate_rows == n_batches * rows
    assert table.read(columns=["order_id"]).num_rows == n_batches * rows
    report = table.verify()
    assert report.ok, report.problems


def stream_again(make_orders, n_batches: int, rows: int):
    for i in range(n_batches):
        yield make_orders(rows, start=i * rows)


def test_coordinator_killed_restarts_from_storage(conn, orders_schema, make_orders) -> None:
    frame = _loaded(conn, orders_schema, make_orders)
    expected = _expected(conn, frame, make_orders(N_ROWS))
    before = conn.runtime.coordinator_pid()
    os.kill(before, signal.SIGKILL)
    _wait_gone(before)
    assert conn.tables() == ["orders"], "the catalog is rebuilt from storage"
    assert conn.runtime.coordinator_pid() != before
    assert frame.to_arrow().equals(expected), "committed data intact"
    more = conn.ingest("orders", make_orders(1_000, start=N_ROWS), producer_id="after-restart")
    assert more.rows == 1_000
    assert conn.table("orders").count() == N_ROWS + 1_000
