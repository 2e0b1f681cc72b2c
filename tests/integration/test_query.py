"""Queries through the shard actors: exact answers, routing, explain, SQL, time travel."""

from __future__ import annotations

import pyarrow as pa
import pytest

pytestmark = pytest.mark.integration


def _local(conn, plan) -> pa.Table:
    from hasivu_compute.exec import execute
    from hasivu_compute.runtime.coordinator import open_catalog

    return execute(plan, open_catalog(conn.data_dir))


def _duckdb(rows: pa.Table, sql: str) -> pa.Table:
    import duckdb

    orders = rows  # noqa: F841 - DuckDB reads the local by name
    return duckdb.sql(sql).to_arrow_table()


def test_dataframe_sql_explain_and_time_travel(conn, orders_schema, make_orders) -> None:
    from hasivu_compute.expr import col, count

    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[8]")])
    conn.ingest("orders", make_orders(40_000), producer_id="a", batch_rows=10_000)
    v1 = conn.flush("orders")  # small calls wait in the log: flushing gives them a version
    conn.ingest("orders", make_orders(10_000, start=40_000), producer_id="b")
    conn.flush("orders")  # the local oracle below reads segment files only
    df = conn.table("orders")
    by_school = (
        df.filter(col("status") == "paid")
        .group_by("school_id")
        .agg(col("amount").sum().alias("revenue"), count().alias("orders"))
        .sort("revenue", descending=True)
        .limit(5)
    )
    got = by_school.to_arrow()
    assert got.equals(_local(conn, by_school.plan))
    # the local engine shares fragments and merge with the shards: DuckDB is the oracle
    want = _duckdb(
        make_orders(50_000),
        "SELECT school_id, sum(amount) AS revenue, count(*) AS orders FROM orders "
        "WHERE status = 'paid' GROUP BY school_id ORDER BY revenue DESC LIMIT 5",
    )
    assert got.to_pylist() == want.to_pylist(), "no ties in revenue: one right answer"
    assert got.num_rows == 5 and got.column_names == ["school_id", "revenue", "orders"]
    assert by_school.to_pandas().shape == (5, 3)

    sql = conn.sql(
        "SELECT school_id, sum(amount) AS revenue FROM orders WHERE status = 'paid' "
        "GROUP BY school_id ORDER BY revenue DESC LIMIT 5"
    )
    assert sql.column("revenue").to_pylist() == got.column("revenue").to_pylist()

    one = df.filter(col("school_id") == 3).agg(count().alias("n"))
    assert one.to_arrow().column("n")[0].as_py() == 2_500
    result = conn.runtime.query_runner().run(one.plan)
    assert result.stats.shards_used == 1, "a one-school query touches one shard"
    text = one.explain(analyze=True)
    assert "read partitions 1 of 8" in text, text
    assert "Analyze:" in text and "rows scanned" in text

    old = conn.table("orders", version=v1)
    assert old.count() == 40_000, "time travel reads the older snapshot"
    assert df.count() == 50_000
    assert df.select("school_id").distinct().count() == 20
    assert df.with_columns(cents=col("amount") * 100).limit(1).columns[-1] == "cents"


def test_empty_table_and_fully_pruned_query(conn, orders_schema) -> None:
    from hasivu_compute.expr import col, count

    conn.create_table("empty", orders_schema, partition_by=["school_id"])
    df = conn.table("empty")
    assert df.agg(count().alias("n")).to_arrow().column("n").to_pylist() == [0]
    assert df.filter(col("school_id") == 1).to_arrow().num_rows == 0
    assert conn.tables() == ["empty"]
    conn.drop_table("empty")
    assert conn.tables() == []


def test_recreated_table_is_not_served_from_stale_shard_caches(
    conn, orders_schema, make_orders
) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[2]")])
    conn.ingest("orders", make_orders(300))
    assert conn.table("orders").count() == 300  # shards now cache orders@2
    conn.drop_table("orders")
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[2]")])
    conn.ingest("orders", make_orders(50, start=1_000))
    got = conn.table("orders").select("order_id").sort("order_id").to_arrow()
    assert got.column("order_id").to_pylist() == list(range(1_000, 1_050))
