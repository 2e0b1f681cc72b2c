"""Output schemas keep NOT NULL where a value cannot be NULL.

``SELECT *`` of a table with NOT NULL columns round-trips ``equals()`` to the
input; plain references of NOT NULL columns (aliased, as group keys, through
filters, sorts and limits) and ``count`` stay NOT NULL; everything that can
produce NULL (sums, nullable columns, expressions) stays nullable. The merge
step casts to the same schema (``runtime.fragments.merge_partials`` casts to
``output_schema(plans.bound)``), so a multi-partition table is used throughout.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute.exec import execute, prepare
from hasivu_compute.exec.fragment import run_fragment
from hasivu_compute.exec.merge import merge
from hasivu_compute.exec.reader import CatalogReader
from hasivu_compute.expr import col, count
from hasivu_compute.plan import LogicalPlanBuilder
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table import Catalog

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("school", pa.string(), nullable=False),
        pa.field("amount", pa.int64(), nullable=False),
        pa.field("note", pa.string()),
    ]
)
DATA = pa.table(
    {
        "id": [1, 2, 3, 4, 5, 6],
        "school": ["a", "b", "a", "c", "b", "a"],
        "amount": [10, 20, 30, 40, 50, 60],
        "note": ["x", None, "y", None, None, "z"],
    },
    schema=SCHEMA,
)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(FileIO.from_uri(str(tmp_path)))
    table = cat.create_table("t", SCHEMA, partition_by=[("school", "identity")])
    table.append(DATA.slice(0, 3))
    table.append(DATA.slice(3))
    return cat


def _sql(catalog: Catalog, text: str) -> pa.Table:
    return execute(to_plan(text, schema={"t": SCHEMA}), catalog)


def _nullable(table: pa.Table) -> dict[str, bool]:
    return {f.name: f.nullable for f in table.schema}


def test_select_star_round_trips_equal_to_the_input(catalog: Catalog) -> None:
    out = _sql(catalog, "SELECT * FROM t ORDER BY id")
    assert out.schema.equals(SCHEMA), out.schema
    assert out.equals(DATA)


def test_dataframe_select_and_filter_keep_not_null(catalog: Catalog) -> None:
    plan = (
        LogicalPlanBuilder.scan("t")
        .filter(col("amount") > 15)
        .select(
            col("id"), col("amount").alias("paid"), col("note"), (col("amount") + 1).alias("a1")
        )
        .sort("id")
        .limit(10)
        .build()
    )
    out = execute(plan, catalog)
    assert _nullable(out) == {"id": False, "paid": False, "note": True, "a1": True}


def test_aggregate_keys_and_counts_keep_not_null(catalog: Catalog) -> None:
    out = _sql(
        catalog,
        "SELECT school, count(*) AS n, count(note) AS notes, count(DISTINCT note) AS kinds, "
        "sum(amount) AS total, min(id) AS first FROM t GROUP BY school",
    )
    assert _nullable(out) == {
        "school": False,
        "n": False,
        "notes": False,
        "kinds": False,
        "total": True,  # sum / min of no rows is NULL
        "first": True,
    }
    by_note = _sql(catalog, "SELECT note, count(*) AS n FROM t GROUP BY note")
    assert _nullable(by_note) == {"note": True, "n": False}


def test_merged_partials_are_cast_to_the_not_null_schema(catalog: Catalog) -> None:
    # what runtime.fragments.merge_partials does with the shards' partial results
    plan = to_plan("SELECT id, count(*) AS n FROM t GROUP BY id", schema={"t": SCHEMA})
    plans = prepare(plan, catalog)
    assert len(plans.physical.fragments) == 3, "one fragment per school: partials are merged"
    reader = CatalogReader(catalog)
    merged = merge([run_fragment(f, reader) for f in plans.physical.fragments], plans.physical)
    schema = output_schema(plans.bound)
    assert _nullable(schema.empty_table()) == {"id": False, "n": False}
    assert merged.rename_columns(schema.names).cast(schema).num_rows == 6


def test_union_is_not_null_only_where_every_input_is(catalog: Catalog) -> None:
    out = _sql(
        catalog,
        "SELECT id AS a, note AS b FROM t UNION ALL SELECT amount, school FROM t",
    )
    assert _nullable(out) == {"a": False, "b": True}


def test_global_count_is_not_null_and_constants_stay_nullable(catalog: Catalog) -> None:
    out = _sql(catalog, "SELECT count(*) AS n, 1 AS one, NULL AS nothing FROM t WHERE id > 100")
    assert out.to_pylist() == [{"n": 0, "one": 1, "nothing": None}]
    # constants are typed nullable: folding `1 + 0` to `1` must not change the schema
    assert _nullable(out) == {"n": False, "one": True, "nothing": True}
    agg = LogicalPlanBuilder.scan("t").agg(count().alias("n")).build()
    assert _nullable(execute(agg, catalog)) == {"n": False}


def test_simplifying_to_a_column_does_not_change_the_schema(catalog: Catalog) -> None:
    # the dead branch goes and `CASE WHEN TRUE THEN id END` simplifies to `id`
    sql = "SELECT id AS plain, CASE WHEN TRUE THEN id END AS c FROM t"
    plans = prepare(to_plan(sql, schema={"t": SCHEMA}), catalog)
    assert output_schema(plans.optimized).equals(output_schema(plans.bound))
    assert _nullable(execute(plans.bound, catalog)) == {"plain": False, "c": True}
