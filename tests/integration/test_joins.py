"""Joins on the cluster: a star join broadcast to the shards, shards killed before and during
joins (broadcast and gathered), a dimension still in the write-ahead log buffer; answers
against DuckDB."""

from __future__ import annotations

import os
import signal

import duckdb
import pyarrow as pa
import pytest

from hasivu_compute._core.errors import QueryFailedError

pytestmark = pytest.mark.integration

N_ROWS = 60_000
SCHOOLS = pa.table(
    {
        "id": pa.array(range(25), pa.int64()),  # orders use 0..19: five schools without orders
        "region": pa.array(["north", "south", "east", "west", "centre"] * 5),
    }
)
STAR = (
    "SELECT s.region AS region, count(*) AS orders, sum(o.amount) AS revenue "
    "FROM orders o JOIN schools s ON o.school_id = s.id "
    "WHERE o.status = 'paid' GROUP BY s.region ORDER BY region"
)


def _oracle(orders: pa.Table, sql: str) -> pa.Table:
    con = duckdb.connect()
    con.register("orders", orders)
    con.register("schools", SCHOOLS)
    return con.sql(sql).to_arrow_table()


def _load(conn, orders_schema, make_orders, flush_schools: bool = True) -> pa.Table:
    rows = make_orders(N_ROWS)
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[8]")])
    conn.ingest("orders", rows, producer_id="load", batch_rows=20_000)
    conn.create_table("schools", SCHOOLS.schema)
    conn.ingest("schools", SCHOOLS, producer_id="dims", sequence=1)
    if flush_schools:
        conn.flush("schools")
    return rows


def test_a_star_join_is_broadcast_and_aggregated_on_the_shards(
    conn, orders_schema, make_orders
) -> None:
    rows = _load(conn, orders_schema, make_orders)
    plan = conn.sql_plan(STAR)
    result = conn.runtime.query_runner().run(plan)
    assert result.table.to_pylist() == _oracle(rows, STAR).to_pylist()
    text = conn.explain(plan)
    assert "strategy=broadcast build_rows<=25" in text, text
    probe = [f for f in result.stats.fragments if f.rows_scanned >= N_ROWS // 20]
    assert probe and sum(f.rows_out for f in probe) <= 5 * len(probe), (
        "each orders fragment sends its partial groups (at most 5 regions), not its rows"
    )
    assert result.stats.shards_used == 2


def test_a_dimension_in_the_log_buffer_is_joined_too(conn, orders_schema, make_orders) -> None:
    rows = _load(conn, orders_schema, make_orders, flush_schools=False)
    sql = (
        "SELECT o.order_id AS id, s.region AS region FROM orders o "
        "LEFT JOIN schools s ON o.school_id = s.id WHERE o.order_id % 1000 = 0"
    )
    got = conn.sql(sql).sort_by("id")
    assert got.to_pylist() == _oracle(rows, sql).sort_by("id").to_pylist()
    assert got.column("region").null_count == 0, "every school was found in the buffer"


def test_a_shard_killed_before_a_join_gives_the_exact_answer(
    conn, orders_schema, make_orders
) -> None:
    rows = _load(conn, orders_schema, make_orders)
    expected = _oracle(rows, STAR).to_pylist()
    runner = conn.runtime.query_runner()
    plan = conn.sql_plan(STAR)
    assert runner.run(plan).table.to_pylist() == expected
    victim = conn.runtime.shard_pids()[0]
    os.kill(victim, signal.SIGKILL)
    try:
        result = runner.run(plan)
    except QueryFailedError:  # a typed error is allowed; a subset never is
        return
    assert result.table.to_pylist() == expected, "the answer after a crash is exact"
    assert result.stats.retries > 0, "a fragment was re-sent: the crash was really hit"


GATHERED = (
    "SELECT s.region AS region, count(o.order_id) AS orders FROM orders o "
    "FULL JOIN schools s ON o.school_id = s.id GROUP BY s.region ORDER BY region"
)


@pytest.mark.parametrize("sql", [STAR, GATHERED], ids=["broadcast", "gathered"])
def test_a_shard_killed_mid_join_gives_the_exact_answer_or_a_typed_error(
    conn, orders_schema, make_orders, sql: str
) -> None:
    """Kills land while the join runs (its build side answered, fragments out, or the
    merge joining): every outcome is the exact answer or QueryFailedError, never a
    subset, and nothing hangs."""
    import threading
    import time

    rows = _load(conn, orders_schema, make_orders)
    expected = _oracle(rows, sql).to_pylist()
    runner = conn.runtime.query_runner()
    plan = conn.sql_plan(sql)
    assert runner.run(plan).table.to_pylist() == expected
    outcomes = []
    for delay in (0.0, 0.02, 0.08):
        victim = conn.runtime.shard_pids()[0]
        result: dict[str, object] = {}

        def query(result: dict[str, object] = result) -> None:
            try:
                result["table"] = runner.run(plan).table
            except QueryFailedError as exc:
                result["error"] = exc

        worker = threading.Thread(target=query)
        worker.start()
        time.sleep(delay)
        os.kill(victim, signal.SIGKILL)
        worker.join(timeout=120)
        assert not worker.is_alive(), "the join must finish (answer or error), not hang"
        if "table" in result:
            assert result["table"].to_pylist() == expected, f"exact after a kill at {delay}s"
            outcomes.append("exact")
        else:
            outcomes.append("typed error")
        deadline = time.monotonic() + 60
        while victim in conn.runtime.shard_pids() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert runner.run(plan).table.to_pylist() == expected, f"after the kills ({outcomes})"


def test_a_filtered_dimension_prunes_the_fact_partitions_on_the_shards(
    conn, orders_schema, make_orders
) -> None:
    """orders is bucketed by school_id: once the north schools are known, shards read only
    the buckets those schools hash to (dynamic partition pruning)."""
    rows = _load(conn, orders_schema, make_orders)
    conn.flush("orders")  # in segment files, so the plan names the buckets it may skip
    sql = (
        "SELECT s.id AS school, count(*) AS orders FROM orders o JOIN schools s "
        "ON o.school_id = s.id WHERE s.region = 'north' GROUP BY s.id ORDER BY school"
    )
    plan = conn.sql_plan(sql)
    assert "dynamic partition pruning: bucket[8]" in conn.explain(plan)
    result = conn.runtime.query_runner().run(plan)
    assert result.table.to_pylist() == _oracle(rows, sql).to_pylist()
    from hasivu_compute.schema.partition import apply_transform

    north = [i for i, r in enumerate(SCHOOLS.column("region").to_pylist()) if r == "north"]
    wanted = set(apply_transform("bucket[8]", pa.array(north, pa.int32())).to_pylist())
    buckets = apply_transform("bucket[8]", rows.column("school_id")).to_pylist()
    reachable = sum(1 for b in buckets if b in wanted)
    scanned = sum(f.rows_scanned for f in result.stats.fragments)
    # the schools side (25 rows) is read once; of orders, only the reachable buckets
    assert scanned == reachable + SCHOOLS.num_rows, (scanned, reachable)
    assert reachable < N_ROWS
