"""Row, distinct-value and selectivity estimates from zone maps (plan/optimizer/estimates.py)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hc_memtable import MemCatalog

from hasivu_compute.expr import bind, col
from hasivu_compute.plan.binder import bind_plan
from hasivu_compute.plan.nodes import Filter, Join, Project, Scan
from hasivu_compute.plan.optimizer import Batch, OptimizerContext, optimize
from hasivu_compute.plan.optimizer.estimates import (
    DEFAULT_EQUALITY,
    DEFAULT_MATCH,
    Estimator,
    KeyValues,
    column_distinct,
    matching_values,
    selectivity,
)
from hasivu_compute.plan.optimizer.rules.partitions import prune_partitions
from hasivu_compute.plan.source import CatalogSource
from hasivu_compute.storage.stats import ColumnChunkStats

SCHEMA = pa.schema(
    [
        ("size", pa.int32()),
        ("day", pa.date32()),
        ("name", pa.string()),
        ("price", pa.float64()),
    ]
)
STATS = {
    "size": ColumnChunkStats(1000, 0, 1, 50),
    "day": ColumnChunkStats(1000, 0, dt.date(2020, 1, 1), dt.date(2020, 12, 31)),
    "name": ColumnChunkStats(1000, 100, "a", "z"),
    "price": ColumnChunkStats(1000, 0, 0.0, 100.0),
}


def _share(predicate) -> float:
    return selectivity(bind(predicate, SCHEMA), STATS.get)


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        (col("size") == 15, 1 / 50),
        (col("size") != 15, 1 - 1 / 50),
        (col("size").is_in([1, 2, 3]), 3 / 50),
        (col("price") < 25.0, 0.25),
        (col("price") >= 25.0, 0.75),
        (col("price").between(10.0, 30.0), 0.2),
        (col("day") >= dt.date(2020, 7, 1), 184 / 365),
        (col("name").is_null(), 0.1),
        (col("name") == "k", DEFAULT_EQUALITY),
        ((col("size") == 15) & (col("price") < 25.0), 0.02 * 0.25),
        ((col("size") == 15) | (col("size") == 16), 0.02 + 0.02 - 0.02 * 0.02),
        (~(col("price") < 25.0), 0.75),
    ],
)
def test_selectivity_follows_the_textbook_rules(predicate, expected: float) -> None:
    assert _share(predicate) == pytest.approx(expected, rel=0.02)


def test_like_gets_a_fixed_factor_and_a_range_past_the_max_keeps_everything() -> None:
    assert _share(col("name").like("%x")) == DEFAULT_MATCH
    assert _share(col("size") < 1000) == 1.0
    assert _share(col("size") > 1000) == 0.0


def test_distinct_values_from_zone_maps() -> None:
    one = [ColumnChunkStats(10, 0, "a", "a"), ColumnChunkStats(5, 0, "a", "a")]
    assert column_distinct(one) == 1, "files holding one value each count that value once"
    ints = [ColumnChunkStats(100, 2, 0, 9), ColumnChunkStats(100, 0, 5, 14)]
    assert column_distinct(ints) == 15 + 1, "the whole range 0..14, and one NULL"
    text = [ColumnChunkStats(100, 0, "a", "z")]
    assert column_distinct(text) == 100, "a string column: at most its rows"
    assert column_distinct(text, exact_only=True) is None, "rows are too loose for col = v"


def _catalog() -> MemCatalog:
    cat = MemCatalog()
    facts = cat.create_table(
        "facts", pa.schema([("id", pa.int64()), ("k", pa.int32())]), chunk_rows=500
    )
    facts.append(pa.table({"id": range(2000), "k": pa.array([i % 20 for i in range(2000)])}))
    dims = cat.create_table("dims", pa.schema([("k", pa.int64()), ("size", pa.int32())]))
    dims.append(
        pa.table({"k": range(20), "size": pa.array([i % 5 for i in range(20)], pa.int32())})
    )
    return cat


def _prepared(plan):
    source = CatalogSource(_catalog())
    bound = bind_plan(plan, source.resolve)
    pruned = optimize(bound, OptimizerContext(source), (Batch("prune", (prune_partitions,)),))
    return pruned, Estimator(source)


def test_rows_of_a_filtered_scan_and_of_a_join() -> None:
    plan, est = _prepared(Scan("facts", filter=col("k") == 3))
    assert est.rows(plan) == pytest.approx(100), "2000 rows, k in 0..19: 1 in 20"
    join = Join(
        Project(Scan("facts"), (col("id"), col("k").alias("fk"))),
        Filter(Scan("dims"), col("size") == 1),
        "inner",
        (col("fk"),),
        (col("k"),),
    )
    plan, est = _prepared(join)
    assert est.rows(plan.right) == pytest.approx(4), "20 dims, size in 0..4"
    assert est.rows(plan) == pytest.approx(400), "2000 x 4 rows over 20 key values"
    assert est.groups(plan.left, (col("fk"),)) == 20
    assert est.groups(plan.left, (col("fk"), col("id"))) == 2000, "never more groups than rows"


def test_nothing_is_known_without_a_source() -> None:
    plan = bind_plan(Scan("facts"), lambda name, version: _catalog().tables[name].schema.to_arrow())
    est = Estimator(None)
    assert est.rows(plan) is None
    assert est.groups(plan, (col("k"),)) is None


def test_rows_still_in_the_write_ahead_buffer_count_as_unknown_values() -> None:
    cat = _catalog()
    source = CatalogSource(cat, buffered=lambda table: 500 if table == "dims" else 0)
    plan = bind_plan(Scan("dims"), source.resolve)
    plan = optimize(plan, OptimizerContext(source), (Batch("prune", (prune_partitions,)),))
    est = Estimator(source)
    assert est.rows(plan) == 520
    assert est.distinct(plan, col("size")) == 5 + 500, "0..4 in the file; buffered rows: any"


def test_a_foreign_key_matches_the_values_of_its_key() -> None:
    order_key = KeyValues(1_500_000, key_like=True)
    line_order_key = KeyValues(6_000_000, key_like=False)  # 6M rows over a 6M range
    assert matching_values(line_order_key, order_key) == 1_500_000
    assert matching_values(KeyValues(25, False), KeyValues(10, False)) == 25, "no key: larger"
    assert matching_values(None, KeyValues(7, True)) == 7
    assert matching_values(None, None) is None
