"""Table names follow DuckDB's rule, as column names already do: a table keeps the name
it was created with, and every look-up matches it case-insensitively (quoted or not).

DuckDB (2.0): after ``CREATE TABLE Orders``, ``orders``, ``ORDERS`` and ``"ORDERS"`` all
name it, ``information_schema`` lists ``Orders``, and ``CREATE TABLE "orders"`` fails
with "already exists".
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import TableExistsError, TableNotFoundError
from hasivu_compute.exec import execute
from hasivu_compute.expr import col
from hasivu_compute.plan import LogicalPlanBuilder, bind_plan, scans
from hasivu_compute.plan.source import CatalogSource
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog

SCHEMA = pa.schema([("school_id", pa.int32()), ("amount", pa.float64())])
ROWS = pa.table({"school_id": pa.array([1, 2, 2], pa.int32()), "amount": [1.5, 2.0, 4.0]})


@pytest.fixture
def catalog(tmp_path) -> Catalog:  # type: ignore[no-untyped-def]
    catalog = Catalog(FileIO.from_uri(str(tmp_path / "warehouse")))
    catalog.create_table("Orders", SCHEMA).append(ROWS)
    return catalog


@pytest.mark.parametrize("spelling", ["Orders", "orders", "ORDERS", "oRdErS"])
def test_any_case_finds_the_table_under_its_created_name(catalog: Catalog, spelling: str) -> None:
    table = catalog.load_table(spelling)
    assert table.name == "Orders", "the table keeps the name it was created with"
    assert table.snapshot().version == 2
    assert catalog.table_exists(spelling)
    assert catalog.list_tables() == ["Orders"]
    assert not catalog.table_exists("order")


@pytest.mark.parametrize("spelling", ["orders", "ORDERS", "Orders"])
def test_creating_a_name_that_differs_only_in_case_is_refused(
    catalog: Catalog, spelling: str
) -> None:
    with pytest.raises(TableExistsError, match="Orders"):
        catalog.create_table(spelling, SCHEMA)
    existing = catalog.create_table(spelling, SCHEMA, if_not_exists=True)
    assert existing.name == "Orders" and existing.snapshot().version == 2
    assert catalog.list_tables() == ["Orders"], "no second folder"


def test_drop_by_another_case_drops_the_table(catalog: Catalog) -> None:
    catalog.drop_table("ORDERS")
    assert catalog.list_tables() == []
    with pytest.raises(TableNotFoundError):
        catalog.load_table("Orders")


def test_unknown_table_still_names_near_matches(catalog: Catalog) -> None:
    with pytest.raises(TableNotFoundError, match="Orders"):
        catalog.load_table("ordes")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT school_id, sum(amount) AS s FROM orders GROUP BY 1",
        "SELECT school_id, sum(amount) AS s FROM ORDERS GROUP BY 1",
        'SELECT school_id, sum(amount) AS s FROM "ORDERS" GROUP BY 1',
        "SELECT school_id, sum(amount) AS s FROM Orders AT (VERSION => 2) GROUP BY 1",
    ],
)
def test_sql_finds_the_table_in_any_case(catalog: Catalog, sql: str) -> None:
    result = execute(to_plan(sql), catalog).sort_by("school_id")
    assert result.to_pylist() == [{"school_id": 1, "s": 1.5}, {"school_id": 2, "s": 6.0}]


def test_binding_names_the_scan_by_the_created_name(catalog: Catalog) -> None:
    # one spelling downstream: plan caches, buffered rows and explain key by table name
    plan = LogicalPlanBuilder.scan("ORDERS").filter(col("school_id") == 2).plan
    bound = bind_plan(plan, CatalogSource(catalog).resolve)
    assert [s.table for s in scans(bound)] == ["Orders"]
    assert execute(plan, catalog).num_rows == 2
