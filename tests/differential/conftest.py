"""Fixtures of the differential suite: the same Arrow data in our engine and in DuckDB.

The engine side is a real table (``hasivu_compute.table.Catalog`` in a temp
folder, partitioned, filled by several appends so that every partition has
several segments); DuckDB reads the very same Arrow tables.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from compare import difference
from datasets import FACTS_PARTITION_BY, batches, dims_table, facts_table

from hasivu_compute.exec import execute
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table.catalog import Catalog

TPCH_SCALE = 0.1


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


def _tpch_lineitem(
    cache: pytest.Cache | None, tmp_path_factory: pytest.TempPathFactory
) -> pa.Table:
    """lineitem at SF0.1 from tpchgen-cli, generated once and kept in pytest's cache dir."""
    if cache is not None:
        folder = Path(cache.mkdir("tpch-sf0.1"))
    else:  # -p no:cacheprovider: a fixed folder under the system temp dir
        folder = Path(tempfile.gettempdir()) / "hasivu-tpch-sf0.1"
        folder.mkdir(exist_ok=True)
    files = sorted(folder.rglob("lineitem*.parquet"))
    if not files:
        cli = shutil.which("tpchgen-cli") or str(Path(sys.executable).parent / "tpchgen-cli")
        work = tmp_path_factory.mktemp("tpchgen")
        subprocess.run(
            [
                cli,
                "parquet",
                "-s",
                str(TPCH_SCALE),
                "--tables",
                "lineitem",
                "--output-dir",
                str(work),
            ],
            check=True,
            capture_output=True,
        )
        for produced in work.rglob("*.parquet"):
            shutil.copy(produced, folder / produced.name)
        files = sorted(folder.rglob("lineitem*.parquet"))
    return pa.concat_tables(pq.read_table(f) for f in files)


@pytest.fixture(scope="session")
def tpch(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    lineitem = _tpch_lineitem(getattr(pytestconfig, "cache", None), tmp_path_factory)
    root = tmp_path_factory.mktemp("tpch")
    catalog = _catalog(root)
    # partitioned by Q1's group keys (4 partitions): the aggregate can finish per partition
    spec = [("l_returnflag", "identity"), ("l_linestatus", "identity")]
    table = catalog.create_table("lineitem", lineitem.schema, partition_by=spec)
    table.append(lineitem)
    duck = duckdb.connect()
    duck.register("lineitem", lineitem)
    return Oracle(catalog, duck, {"lineitem": lineitem.schema})
