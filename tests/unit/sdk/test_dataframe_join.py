"""DataFrame.join: keys as users pass them, names as Polars gives them, answers as DuckDB's."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hc_memtable import MemCatalog

from hasivu_compute._core.errors import BindError, PlanError
from hasivu_compute.exec import execute
from hasivu_compute.expr import col
from hasivu_compute.plan.binder import bind_plan, output_schema
from hasivu_compute.plan.builder import scan
from hasivu_compute.plan.render import render
from hasivu_compute.plan.source import CatalogSource
from hasivu_compute.sdk.dataframe import DataFrame

ORDERS = pa.table(
    {
        "order_id": pa.array(range(8), pa.int64()),
        "school_id": pa.array([1, 1, 2, 3, None, 2, 9, 1], pa.int32()),
        "amount": pa.array([5.0, 2.5, 1.0, 4.0, 3.0, None, 8.0, 1.5]),
        "name": pa.array(["a", "b", "c", "d", "e", "f", "g", "h"]),
    }
)
SCHOOLS = pa.table(
    {
        "school_id": pa.array([1, 2, 3, 4], pa.int64()),
        "name": pa.array(["North", "South", "East", "West"]),
        "region": pa.array(["n", "s", "e", "w"]),
    }
)


class LocalEngine:
    """Runs plans in this process over an in-memory catalog."""

    def __init__(self) -> None:
        self.catalog = MemCatalog()
        self.catalog.create_table("orders", ORDERS.schema, [("school_id", "identity")]).append(
            ORDERS
        )
        self.catalog.create_table("schools", SCHOOLS.schema).append(SCHOOLS)

    def execute(self, plan):
        return execute(plan, self.catalog)

    def explain(self, plan, analyze=False, stage=None):
        return render(bind_plan(plan, CatalogSource(self.catalog).resolve))

    def output_schema(self, plan):
        return output_schema(bind_plan(plan, CatalogSource(self.catalog).resolve))


@pytest.fixture
def frames() -> tuple[DataFrame, DataFrame]:
    engine = LocalEngine()
    return DataFrame(engine, scan("orders")), DataFrame(engine, scan("schools"))


def _duck(sql: str) -> pa.Table:
    con = duckdb.connect()
    con.register("orders", ORDERS)
    con.register("schools", SCHOOLS)
    return con.sql(sql).to_arrow_table()


def _rows(table: pa.Table) -> list[tuple]:
    return sorted(zip(*(c.to_pylist() for c in table.columns), strict=True), key=repr)


@pytest.mark.parametrize("how", ["inner", "left", "right", "full"])
def test_on_a_shared_name_keeps_the_key_once_and_suffixes_the_rest(frames, how: str) -> None:
    orders, schools = frames
    out = orders.join(schools, on="school_id", how=how).to_arrow()
    assert out.column_names == ["order_id", "school_id", "amount", "name", "name_right", "region"]
    key = "o.school_id" if how in ("inner", "left") else "coalesce(o.school_id, s.school_id)"
    sql = (
        f"SELECT o.order_id, {key}, o.amount, o.name, s.name, s.region "
        f"FROM orders o {how.upper()} JOIN schools s ON o.school_id = s.school_id"
    )
    assert _rows(out) == _rows(_duck(sql))


def test_left_on_right_on_keep_both_keys_and_the_suffix_is_chosen(frames) -> None:
    orders, schools = frames
    out = orders.join(
        schools.select(col("school_id").alias("id"), "name"),
        left_on="school_id",
        right_on="id",
        suffix="_school",
    ).to_arrow()
    assert out.column_names == ["order_id", "school_id", "amount", "name", "id", "name_school"]
    assert out.num_rows == 6  # NULL and 9 match nothing


def test_semi_anti_and_cross(frames) -> None:
    orders, schools = frames
    semi = orders.join(schools, on="school_id", how="semi").to_arrow()
    anti = orders.join(schools, on="school_id", how="anti").to_arrow()
    assert semi.column_names == ORDERS.column_names
    assert sorted(semi.column("order_id").to_pylist()) == [0, 1, 2, 3, 5, 7]
    assert sorted(anti.column("order_id").to_pylist()) == [4, 6]
    cross = orders.join(schools.select("region"), how="cross").to_arrow()
    assert cross.num_rows == 32


def test_a_filter_after_the_join_reaches_each_side(frames) -> None:
    orders, schools = frames
    q = orders.join(schools, on="school_id").filter(col("region") == "n").filter(col("amount") > 2)
    assert sorted(q.to_arrow().column("order_id").to_pylist()) == [0, 1]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"on": "nope"}, BindError, "left frame has no column 'nope'"),
        ({"left_on": "school_id", "right_on": "id"}, BindError, "right frame has no column 'id'"),
        ({"on": "school_id", "how": "outer"}, PlanError, "how must be one of"),
        ({"how": "inner"}, PlanError, "needs keys"),
        ({"on": "school_id", "how": "cross"}, PlanError, "cross join takes no keys"),
        ({"on": "school_id", "left_on": "school_id"}, PlanError, "not both"),
        ({"left_on": ["school_id", "name"], "right_on": "school_id"}, PlanError, "pair them"),
        ({"on": "school_id", "suffix": ""}, BindError, "another suffix"),
    ],
)
def test_join_argument_mistakes_are_named(frames, kwargs, error, words) -> None:
    orders, schools = frames
    with pytest.raises(error, match=words):
        orders.join(schools, **kwargs)
