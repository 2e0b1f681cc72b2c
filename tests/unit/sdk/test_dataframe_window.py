"""DataFrame windows: ``expr.over(...)`` and ``hc.row_number()`` & co., checked against
DuckDB's answer to the same question in SQL; and the mistakes users make, named."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from hc_memtable import MemCatalog

import hasivu_compute as hc
from hasivu_compute._core.errors import BindError
from hasivu_compute.exec import execute
from hasivu_compute.expr import col
from hasivu_compute.plan.binder import bind_plan, output_schema
from hasivu_compute.plan.builder import scan
from hasivu_compute.plan.render import render
from hasivu_compute.plan.source import CatalogSource
from hasivu_compute.sdk.dataframe import DataFrame

ORDERS = pa.table(
    {
        "order_id": pa.array(range(10), pa.int64()),
        "student_id": pa.array([1, 1, 2, 1, 2, 3, None, 3, 3, 1], pa.int32()),
        "day": pa.array([dt.date(2026, 1, d) for d in (5, 1, 3, 9, 3, 2, 4, 8, 8, 20)]),
        "amount": pa.array([5.0, 2.5, 1.0, 4.0, None, 3.0, 8.0, 1.5, 2.0, 6.0]),
    }
)


class LocalEngine:
    def __init__(self) -> None:
        self.catalog = MemCatalog()
        self.catalog.create_table("orders", ORDERS.schema, [("student_id", "identity")]).append(
            ORDERS
        )

    def execute(self, plan):
        return execute(plan, self.catalog)

    def explain(self, plan, analyze=False, stage=None):
        return render(bind_plan(plan, CatalogSource(self.catalog).resolve))

    def output_schema(self, plan):
        return output_schema(bind_plan(plan, CatalogSource(self.catalog).resolve))


@pytest.fixture
def orders() -> DataFrame:
    return DataFrame(LocalEngine(), scan("orders"))


def _duck(sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.register("orders", ORDERS)
    return sorted(con.sql(sql).fetchall(), key=repr)


def _rows(table: pa.Table) -> list[tuple]:
    return sorted(zip(*(c.to_pylist() for c in table.columns), strict=True), key=repr)


def test_first_order_per_student_with_row_number(orders: DataFrame) -> None:
    out = (
        orders.window(nth=hc.row_number().over("student_id", ["day", "order_id"]))
        .filter(col("nth") == 1)
        .select("student_id", "order_id")
    )
    expected = _duck(
        "SELECT student_id, order_id FROM orders QUALIFY row_number() OVER "
        "(PARTITION BY student_id ORDER BY day, order_id) = 1"
    )
    assert _rows(out.to_arrow()) == expected


def test_running_and_moving_sums_and_ranks(orders: DataFrame) -> None:
    out = orders.with_columns(
        running=col("amount").sum().over("student_id", ["day", "order_id"]),
        moving=col("amount").mean().over(None, "order_id", frame=("rows", -2, 0)),
        week=col("amount")
        .count()
        .over("student_id", "day", frame=("range", dt.timedelta(days=-7), 0)),
        r=hc.rank().over(order_by="amount", descending=True),
        prev=hc.lag("amount", 1, 0.0).over("student_id", "order_id"),
        share=col("amount") / col("amount").sum().over("student_id"),
    ).select("order_id", "running", "moving", "week", "r", "prev", "share")
    expected = _duck(
        "SELECT order_id, "
        "sum(amount) OVER (PARTITION BY student_id ORDER BY day, order_id), "
        "avg(amount) OVER (ORDER BY order_id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), "
        "count(amount) OVER (PARTITION BY student_id ORDER BY day "
        "RANGE BETWEEN INTERVAL 7 DAYS PRECEDING AND CURRENT ROW), "
        "rank() OVER (ORDER BY amount DESC), "
        "lag(amount, 1, 0.0) OVER (PARTITION BY student_id ORDER BY order_id), "
        "amount / sum(amount) OVER (PARTITION BY student_id) FROM orders"
    )
    assert _close(out.to_arrow(), expected)


def _close(table: pa.Table, expected: list[tuple]) -> bool:
    ours = _rows(table)
    assert len(ours) == len(expected)
    for a, b in zip(ours, expected, strict=True):
        for x, y in zip(a, b, strict=True):
            assert (x is None and y is None) or x == pytest.approx(y), (a, b)
    return True


def test_select_keeps_the_window_expression_name(orders: DataFrame) -> None:
    out = orders.select("order_id", hc.dense_rank().over(order_by="day").alias("dr"))
    assert out.columns == ["order_id", "dr"]
    assert "Window" in out.explain()


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: col("amount").over("student_id"), "not an aggregate or window function"),
        (lambda: col("amount").std().over("student_id"), "stddev_samp() cannot be computed"),
        (lambda: col("amount").count_distinct().over(), "DISTINCT aggregates"),
        (lambda: hc.row_number().over(order_by=["day"], descending=[True, False]), "2 desc"),
        (lambda: hc.row_number().over(frame=("groups", -1, 0)), "frame is"),
        (lambda: col("amount").sum().over(frame=("rows", "x", 0)), "a frame end is None"),
        (lambda: col("amount").sum().over(frame=("rows", 2, -1)), "starts after it ends"),
        (lambda: hc.row_number().over("a").over("b"), "already has a window"),
    ],
)
def test_window_mistakes_are_named(build, words: str) -> None:
    with pytest.raises(BindError) as caught:
        build()
    assert words in str(caught.value), str(caught.value)


def test_a_bad_argument_is_named_when_the_plan_is_bound(orders: DataFrame) -> None:
    with pytest.raises(BindError, match="number of buckets"):
        orders.window(t=hc.ntile(0).over(order_by="day")).to_arrow()
    with pytest.raises(BindError, match="unknown column 'amont'"):
        orders.window(s=col("amont").sum().over("student_id")).to_arrow()
