"""TPC-H at SF0.1 through the cluster: the eight tables ingested through the public API,
every query our engine answers run by ``Connection.sql`` (fragments on the shards, small
sides broadcast, partials merged) and compared with DuckDB on the same rows."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))

from compare import difference
from test_tpch import ANSWERED
from tpch_data import tpch_tables
from tpch_queries import QUERIES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tpch_cluster(ray_session: None, pytestconfig: pytest.Config, tmp_path_factory):
    from hasivu_compute.sdk import connect

    tables = tpch_tables(getattr(pytestconfig, "cache", None), tmp_path_factory)
    conn = connect(data_dir=tmp_path_factory.mktemp("tpch-ray"), num_ingest_actors=1)
    duck = duckdb.connect()
    specs = {"lineitem": [("l_orderkey", "bucket[8]")], "orders": [("o_orderkey", "bucket[8]")]}
    for name, table in tables.items():
        conn.create_table(name, table.schema, partition_by=specs.get(name))
        conn.ingest(name, table, producer_id=f"tpch-{name}", sequence=1)
        conn.flush(name)
        duck.register(name, table)
    try:
        yield conn, duck
    finally:
        conn.close()


@pytest.mark.parametrize("number", sorted(ANSWERED))
def test_tpch_query_on_ray_matches_duckdb(tpch_cluster, number: int) -> None:
    conn, duck = tpch_cluster
    sql = QUERIES[number]
    expected = duck.sql(sql).to_arrow_table()
    ours = conn.sql(sql)
    problem = difference(ours, expected, ())
    assert problem is None, f"Q{number}: {problem}"
    assert ours.num_rows > 0
