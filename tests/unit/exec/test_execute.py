"""Differential tests: execute() on the in-memory table layer vs DuckDB over the same rows."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa
import pytest
from hc_fixtures import assert_same_bag, make_catalog, table_data

from hasivu_compute.exec import execute, prepare
from hasivu_compute.expr import col, count, lit
from hasivu_compute.plan import LogicalPlanBuilder, PlanNode

scan = LogicalPlanBuilder.scan
CAT = make_catalog()


def duck(sql: str) -> pa.Table:
    con = duckdb.connect()
    for name in ("orders", "visits", "refunds"):
        con.register(name, table_data(CAT, name))
    return con.sql(sql).to_arrow_table()


CASES: list[tuple[str, Callable[[], LogicalPlanBuilder], str, bool]] = [
    ("scan", lambda: scan("orders"), "SELECT * FROM orders", False),
    (
        "filter project",
        lambda: (
            scan("orders")
            .filter((col("school_id") == 2) & (col("amount") > 3))
            .select("order_id", (col("amount") * 2).alias("a2"))
        ),
        "SELECT order_id, amount * 2 AS a2 FROM orders WHERE school_id = 2 AND amount > 3",
        False,
    ),
    (
        "group by non-partition key",
        lambda: (
            scan("orders")
            .group_by("item_id")
            .agg(
                col("amount").sum().alias("revenue"),
                count().alias("n"),
                col("amount").mean().alias("avg"),
            )
        ),
        "SELECT item_id, sum(amount) AS revenue, count(*) AS n, avg(amount) AS avg FROM orders GROUP BY item_id",
        False,
    ),
    (
        "group by partition key, count distinct",
        lambda: (
            scan("orders")
            .group_by("school_id")
            .agg(
                col("student_id").count_distinct().alias("students"),
                col("amount").max().alias("mx"),
            )
        ),
        "SELECT school_id, count(DISTINCT student_id) AS students, max(amount) AS mx FROM orders GROUP BY school_id",
        False,
    ),
    (
        "count distinct across partitions",
        lambda: (
            scan("orders")
            .group_by("item_id")
            .agg(col("student_id").count_distinct().alias("students"))
        ),
        "SELECT item_id, count(DISTINCT student_id) AS students FROM orders GROUP BY item_id",
        False,
    ),
    (
        "global aggregate",
        lambda: scan("orders").agg(
            count().alias("n"), col("amount").min().alias("lo"), col("amount").count().alias("c")
        ),
        "SELECT count(*) AS n, min(amount) AS lo, count(amount) AS c FROM orders",
        False,
    ),
    (
        "global aggregate over nothing",
        lambda: (
            scan("orders")
            .filter(col("order_id") > 10_000)
            .agg(count().alias("n"), col("amount").sum().alias("s"))
        ),
        "SELECT count(*) AS n, sum(amount) AS s FROM orders WHERE order_id > 10000",
        False,
    ),
    (
        "top-k",
        lambda: (
            scan("orders").sort("amount", "order_id", descending=[True, False]).limit(5, offset=1)
        ),
        "SELECT * FROM orders ORDER BY amount DESC NULLS LAST, order_id LIMIT 5 OFFSET 1",
        True,
    ),
    (
        "top-k over aggregate with having",
        lambda: (
            scan("orders")
            .group_by("school_id", "status")
            .agg(col("amount").sum().alias("total"))
            .filter(col("total") > 10)
            .sort("total", "school_id", "status", descending=True)
            .limit(3)
        ),
        "SELECT school_id, status, sum(amount) AS total FROM orders GROUP BY school_id, status "
        "HAVING sum(amount) > 10 ORDER BY total DESC, school_id DESC, status DESC LIMIT 3",
        True,
    ),
    (
        "distinct",
        lambda: scan("orders").select("status", "item_id").distinct(),
        "SELECT DISTINCT status, item_id FROM orders",
        False,
    ),
    (
        "union all",
        lambda: (
            scan("orders")
            .select("order_id", "amount")
            .union_all(scan("refunds").filter(col("status") == "paid").select("order_id", "amount"))
        ),
        "SELECT order_id, amount FROM orders UNION ALL SELECT order_id, amount FROM refunds WHERE status = 'paid'",
        False,
    ),
    (
        "bucket x month partitions",
        lambda: (
            scan("visits")
            .filter((col("student_id") == 3) & (col("meal_date") >= lit("2025-02-01")))
            .select("order_id", "meal_date")
        ),
        "SELECT order_id, meal_date FROM visits WHERE student_id = 3 AND meal_date >= DATE '2025-02-01'",
        False,
    ),
    (
        "expression keys",
        lambda: (
            scan("orders").group_by(col("meal_date").month().alias("m")).agg(count().alias("n"))
        ),
        "SELECT month(meal_date) AS m, count(*) AS n FROM orders GROUP BY 1",
        False,
    ),
    (
        "limit without order keeps the count",
        lambda: scan("orders").filter(col("status") == "paid").limit(4).agg(count().alias("n")),
        "SELECT count(*) AS n FROM (SELECT * FROM orders WHERE status = 'paid' LIMIT 4)",
        False,
    ),
]


@pytest.mark.parametrize(("name", "build", "sql", "ordered"), CASES, ids=[c[0] for c in CASES])
def test_matches_duckdb(
    name: str, build: Callable[[], LogicalPlanBuilder], sql: str, ordered: bool
) -> None:
    plan: PlanNode = build().plan
    got = execute(plan, CAT)
    want = duck(sql)
    assert got.column_names == want.column_names
    assert_same_bag(got, want, ordered=ordered)
    unoptimized = execute(plan, CAT, batches=())
    assert_same_bag(unoptimized, want, ordered=ordered)


def test_result_schema_is_the_bound_schema() -> None:
    plan = scan("orders").select("school_id", (col("amount") + 1).alias("x")).plan
    plans = prepare(plan, CAT)
    got = execute(plan, CAT)
    from hasivu_compute.plan import output_schema

    assert got.schema.equals(output_schema(plans.bound))


def test_top_k_with_offset_keeps_enough_rows_per_fragment() -> None:
    from hc_memtable import MemCatalog

    cat = MemCatalog()
    t = cat.create_table("t", pa.schema([("b", pa.int64())]), [], chunk_rows=3)
    t.append(pa.table({"b": [5, 1, 4, 2, 3]}))
    got = execute(scan("t").sort("b").limit(2, offset=2).plan, cat)
    assert got.column("b").to_pylist() == [3, 4], "fragment top-k must keep limit + offset rows"


def test_union_coerces_column_types_to_their_supertype() -> None:
    from hc_memtable import MemCatalog

    cat = MemCatalog()
    cat.create_table("a", pa.schema([("k", pa.int32())]), []).append(
        pa.table({"k": pa.array([1, 2], pa.int32())})
    )
    cat.create_table("b", pa.schema([("q", pa.int16())]), []).append(
        pa.table({"q": pa.array([3], pa.int16())})
    )
    cat.create_table("c", pa.schema([("f", pa.float64())]), []).append(pa.table({"f": [0.5]}))
    got = execute(scan("a").union_all(scan("b")).plan, cat)
    assert got.schema.field("k").type == pa.int32() and sorted(got.column("k").to_pylist()) == [
        1,
        2,
        3,
    ]
    mixed = execute(scan("a").union_all(scan("c")).filter(col("k") > 0.7).plan, cat)
    assert mixed.schema.field("k").type == pa.float64() and sorted(
        mixed.column("k").to_pylist()
    ) == [1.0, 2.0]
