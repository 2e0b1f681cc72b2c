"""Fixtures of the differential suite: the same Arrow data in our engine and in DuckDB.

The engine side is a real table (``hasivu_compute.table.Catalog`` in a temp
folder, partitioned, filled by several appends so that every partition has
several segments); DuckDB reads the very same Arrow tables.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from compare import difference
from datasets import FACTS_PARTITION_BY, batches, dims_table, facts_table
from edge_tables import VALS_BATCHES, VALS_PARTITION_BY, set_tables, vals_table
from tpch_data import tpch_tables

from hasivu_compute.exec import execute
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table.catalog import Catalog


@dataclass
class Oracle:
    """Runs one SQL text on our engine and on DuckDB and compares the answers."""

    catalog: Catalog
    duck: duckdb.DuckDBPyConnection
    schemas: dict[str, pa.Schema]

    def ours(self, sql: str) -> pa.Table:
        return execute(to_plan(sql, schema=self.schemas), self.catalog)

    def duckdb(self, sql: str) -> pa.Table:
        return self.duck.sql(sql).to_arrow_table()

    def check(self, sql: str, order_columns: tuple[int, ...] = ()) -> pa.Table:
        """Assert both engines agree on ``sql``; returns our result for further checks."""
        expected = self.duckdb(sql)
        actual = self.ours(sql)
        problem = difference(actual, expected, order_columns)
        assert problem is None, f"{problem}\nSQL: {sql}"
        return actual


def _catalog(root: Path, chunk_rows: int = 65_536) -> Catalog:
    options = WriteOptions(chunk_rows=chunk_rows)
    return Catalog(FileIO.from_uri(str(root)), write_options=options)


@pytest.fixture(scope="session")
def facts() -> pa.Table:
    return facts_table()


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory, facts: pa.Table) -> Oracle:
    root = tmp_path_factory.mktemp("differential")
    catalog = _catalog(root, chunk_rows=256)  # several chunks per segment: chunk pruning runs
    table = catalog.create_table("facts", facts.schema, partition_by=FACTS_PARTITION_BY)
    for batch in batches(facts):
        table.append(batch)
    dims = dims_table()
    catalog.create_table("dims", dims.schema).append(dims)
    duck = duckdb.connect()
    duck.sql("SET TimeZone = 'UTC'")
    duck.register("facts", facts)
    duck.register("dims", dims)
    return Oracle(catalog, duck, {"facts": facts.schema, "dims": dims.schema})


@pytest.fixture(scope="session")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    """Tables of ``edge_tables`` (``vals``, ``sa``, ``sb``), each written in several appends so
    that aggregates over them run as partial (per file) -> final."""
    root = tmp_path_factory.mktemp("edges")
    catalog = _catalog(root, chunk_rows=64)
    duck = duckdb.connect()
    vals = vals_table()
    table = catalog.create_table("vals", vals.schema, partition_by=VALS_PARTITION_BY)
    for batch in batches(vals, VALS_BATCHES):
        table.append(batch)
    duck.register("vals", vals)
    schemas = {"vals": vals.schema}
    for name, data in zip(("sa", "sb"), set_tables(), strict=True):
        created = catalog.create_table(name, data.schema)
        for batch in batches(data, 2):
            created.append(batch)
        duck.register(name, data)
        schemas[name] = data.schema
    return Oracle(catalog, duck, schemas)


@pytest.fixture(scope="session")
def tpch(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    tables = tpch_tables(getattr(pytestconfig, "cache", None), tmp_path_factory)
    root = tmp_path_factory.mktemp("tpch")
    catalog = _catalog(root)
    # lineitem by Q1's group keys (4 partitions): the aggregate can finish per partition;
    # orders by customer buckets; the rest as they come
    specs = {
        "lineitem": [("l_returnflag", "identity"), ("l_linestatus", "identity")],
        "orders": [("o_custkey", "bucket[8]")],
    }
    duck = duckdb.connect()
    for name, table in tables.items():
        catalog.create_table(name, table.schema, partition_by=specs.get(name, ())).append(table)
        duck.register(name, table)
    return Oracle(catalog, duck, {name: t.schema for name, t in tables.items()})
