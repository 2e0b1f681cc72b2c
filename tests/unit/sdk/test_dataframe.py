"""The DataFrame builds plan nodes (immutable, lazy) and delegates running to its engine."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import PlanError
from hasivu_compute.expr import col, count
from hasivu_compute.plan.builder import scan
from hasivu_compute.plan.nodes import Aggregate, Distinct, Filter, Limit, Project, Scan, Sort
from hasivu_compute.sdk.dataframe import DataFrame


class RecordingEngine:
    """Returns canned answers and remembers the plans it was given."""

    def __init__(self) -> None:
        self.plans: list[object] = []

    def execute(self, plan):
        self.plans.append(plan)
        return pa.table({"n": [3]})

    def explain(self, plan, analyze=False, stage=None):
        self.plans.append(plan)
        return f"explained analyze={analyze} stage={stage}"

    def output_schema(self, plan):
        return pa.schema([("school_id", pa.int32()), ("amount", pa.float64())])


@pytest.fixture
def df() -> DataFrame:
    return DataFrame(RecordingEngine(), scan("orders"))


def test_chain_builds_the_expected_nodes_and_leaves_the_original_alone(df: DataFrame) -> None:
    q = (
        df.filter(col("school_id") == 17)
        .group_by("item_id")
        .agg(col("amount").sum().alias("revenue"), count().alias("orders"))
        .sort("revenue", descending=True)
        .limit(10)
    )
    assert isinstance(df.plan, Scan), "building must not mutate the source frame"
    limit = q.plan
    assert isinstance(limit, Limit) and limit.limit == 10
    sort = limit.child
    assert isinstance(sort, Sort) and sort.keys[0].descending
    agg = sort.child
    assert isinstance(agg, Aggregate) and len(agg.keys) == 1 and len(agg.aggs) == 2
    assert isinstance(agg.child, Filter)


def test_select_with_columns_and_distinct(df: DataFrame) -> None:
    sel = df.select("school_id", doubled=col("amount") * 2)
    assert isinstance(sel.plan, Project) and len(sel.plan.exprs) == 2
    wc = df.with_columns(cents=col("amount") * 100)
    assert isinstance(wc.plan, Project)
    assert len(wc.plan.exprs) == 3, "with_columns keeps every existing column and adds one"
    assert isinstance(df.distinct().plan, Distinct)


def test_running_goes_through_the_engine(df: DataFrame) -> None:
    engine = df.engine
    assert df.to_arrow().num_rows == 1
    assert df.to_pandas()["n"].tolist() == [3]
    assert df.count() == 3
    assert df.explain(analyze=True) == "explained analyze=True stage=None"
    assert df.columns == ["school_id", "amount"]
    assert len(engine.plans) == 4


def test_misuse_is_a_plan_error(df: DataFrame) -> None:
    with pytest.raises(PlanError):
        df.select()
    with pytest.raises(PlanError):
        df.sort()
    with pytest.raises(PlanError):
        df.group_by("a").agg()
    with pytest.raises(PlanError):
        df.limit(-1)


def test_connection_table_refuses_a_version_that_is_not_a_number() -> None:
    from hasivu_compute._core.errors import ConfigError
    from hasivu_compute.sdk.connection import Connection

    # c.table() only builds a plan: no cluster is needed to see the argument refused
    with pytest.raises(ConfigError, match=r"version.*'2'"):
        Connection.table(object(), "orders", version="2")  # type: ignore[arg-type]
