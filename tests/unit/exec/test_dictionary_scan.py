"""Dictionary-typed string scans: which columns qualify, and answers stay exactly DuckDB's."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa
import pytest
from hc_fixtures import assert_same_bag, make_catalog, table_data

from hasivu_compute.exec import execute, prepare
from hasivu_compute.exec.fragment import dictionary_columns, scan_fragment
from hasivu_compute.exec.reader import CatalogReader
from hasivu_compute.expr import col, count
from hasivu_compute.plan import LogicalPlanBuilder

scan = LogicalPlanBuilder.scan
CAT = make_catalog()


def _chosen(builder: LogicalPlanBuilder) -> set[frozenset[str]]:
    plans = prepare(builder.build(), CAT)
    return {dictionary_columns(f) for f in plans.physical.fragments}


def test_a_column_only_the_filter_reads_is_read_as_a_dictionary() -> None:
    q = scan("orders").filter(col("status") == "paid").select("order_id", "amount")
    assert _chosen(q) == {frozenset({"status"})}


def test_a_bare_group_key_over_the_scan_is_read_as_a_dictionary() -> None:
    q = scan("orders").group_by("status").agg(col("amount").sum().alias("s"))
    assert _chosen(q) == {frozenset({"status"})}


def test_columns_a_kernel_needs_plain_are_not_chosen() -> None:
    in_aggregate = scan("orders").group_by("item_id").agg(col("status").max().alias("m"))
    assert _chosen(in_aggregate) == {frozenset()}
    in_output = scan("orders").filter(col("status") == "paid").select("status", "amount")
    assert _chosen(in_output) == {frozenset()}
    sorted_rows = scan("orders").sort("status").limit(3)
    assert _chosen(sorted_rows) == {frozenset()}


def test_the_scan_hands_dictionary_columns_to_the_pipeline() -> None:
    q = scan("orders").group_by("status").agg(count().alias("n"))
    plans = prepare(q.build(), CAT)
    fragment = plans.physical.fragments[0]
    scanned = scan_fragment(fragment, CatalogReader(CAT))
    assert pa.types.is_dictionary(scanned.schema.field("status").type)


def duck(sql: str) -> pa.Table:
    con = duckdb.connect()
    con.register("orders", table_data(CAT, "orders"))
    return con.sql(sql).to_arrow_table()


CASES: list[tuple[str, Callable[[], LogicalPlanBuilder], str]] = [
    (
        "filter on a dictionary column",
        lambda: scan("orders").filter(col("status") == "paid").select("order_id"),
        "SELECT order_id FROM orders WHERE status = 'paid'",
    ),
    (
        "string functions and IN on a dictionary column",
        lambda: (
            scan("orders")
            .filter(col("status").starts_with("p") & ~col("status").is_in(["pending"]))
            .select("order_id", "amount")
        ),
        "SELECT order_id, amount FROM orders WHERE starts_with(status, 'p') "
        "AND status NOT IN ('pending')",
    ),
    (
        "group by a dictionary key",
        lambda: (
            scan("orders")
            .filter(col("amount") > 3)
            .group_by("status", "school_id")
            .agg(col("amount").sum().alias("s"), count().alias("n"))
        ),
        "SELECT status, school_id, sum(amount) AS s, count(*) AS n FROM orders "
        "WHERE amount > 3 GROUP BY status, school_id",
    ),
    (
        "dictionary key with count distinct (plain keys for the set path)",
        lambda: (
            scan("orders")
            .group_by("status")
            .agg(col("student_id").count_distinct().alias("students"))
        ),
        "SELECT status, count(DISTINCT student_id) AS students FROM orders GROUP BY status",
    ),
]


@pytest.mark.parametrize(("name", "build", "sql"), CASES, ids=[c[0] for c in CASES])
def test_matches_duckdb(name: str, build: Callable[[], LogicalPlanBuilder], sql: str) -> None:
    result = execute(build().build(), CAT)
    assert not any(pa.types.is_dictionary(f.type) for f in result.schema)
    assert_same_bag(result, duck(sql))


@pytest.mark.parametrize(
    ("where", "finished_in_fragment"),
    [
        ("school_id = 2", True),
        ("school_id = 2 AND status = 'paid'", True),
        ("school_id = 2 AND amount > 1000", False),  # zone maps drop every file
        ("school_id = 2 AND amount * 2 < -1", True),  # no row matches: still one row
    ],
)
def test_single_partition_global_aggregate_matches_duckdb(
    where: str, finished_in_fragment: bool
) -> None:
    """Pruned to one partition, the global aggregate finishes in its fragment."""
    from hasivu_compute.plan.nodes import Aggregate, PartialAggregate
    from hasivu_compute.plan.nodes import walk as walk_plan
    from hasivu_compute.sql import to_plan

    sql = (
        "SELECT count(*) AS n, sum(amount) AS s, count(DISTINCT student_id) AS students "
        f"FROM orders WHERE {where}"
    )
    plan = to_plan(sql, schema={"orders": table_data(CAT, "orders").schema})
    plans = prepare(plan, CAT)
    kinds = {type(n) for f in plans.physical.fragments for n in walk_plan(f.pipeline)}
    assert (Aggregate in kinds and PartialAggregate not in kinds) == finished_in_fragment
    assert len(plans.physical.fragments) == 1
    assert_same_bag(execute(plan, CAT), duck(sql))
