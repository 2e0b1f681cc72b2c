"""The DuckDB differential corpus through the real distributed path.

The same queries the in-process differential suite checks (hand-written features, the
generated corpus, integer overflow, NaN ordering, time travel) run here through
``Connection.sql``: planned on the driver, cut into fragments spread over three shard
actors, partial results merged, and compared with DuckDB on the same rows. Part of the
facts table is in segment files and part still in the write-ahead log buffer, so the
buffered pieces travel through the same path. Column names are checked too: against
DuckDB where the query names every column, else against the in-process plan's names
(the merge casts results to the planned schema by position, which a swapped column
would slip through if only values were compared). Window functions run here too, in
the fragments when partitioned by the table's partition column, and so do set
operations, grouping sets, exact quantiles, string_agg and aggregate filters. Joins run here with both sides
gathered from the shards (``dims`` is still in the log's buffer).
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))

from compare import difference
from datasets import FACTS_PARTITION_BY, batches, dims_table, facts_table
from querygen import generate
from test_edge_values import FLOAT_ORDER, SUM_QUERIES, VERSION_SYNTAX, edge_table
from test_features import FEATURE_QUERIES
from test_generated import QUERY_COUNT, SEED
from test_grouping_sets import GROUPING_QUERIES
from test_holistic_aggregates import FILTERS, QUANTILES_FACTS, STRING_AGGS
from test_joins import GENERATED_JOINS, JOIN_COUNT, JOIN_QUERIES
from test_set_operations import FACTS_QUERIES as SET_OPERATIONS
from test_subqueries import SELECT_SUBQUERIES, SUBQUERIES
from test_windows import GENERATED_WINDOWS, WINDOW_QUERIES

pytestmark = pytest.mark.integration

GENERATED = generate(QUERY_COUNT, SEED)


class RayOracle:
    """A warehouse on the session's Ray (3 shards) holding ``facts`` and ``edge``."""

    def __init__(self, root: Path) -> None:
        from hasivu_compute.sdk import connect

        self.conn = connect(data_dir=root, num_shards=3, num_ingest_actors=1)
        self.facts = facts_table()
        parts = batches(self.facts)
        self.conn.create_table("facts", self.facts.schema, partition_by=FACTS_PARTITION_BY)
        for seq, part in enumerate(parts):
            self.conn.ingest("facts", part, producer_id="load", sequence=seq)
            if seq < len(parts) - 1:
                self.conn.flush("facts")  # the last part stays in the log's buffer
        self.dims = dims_table()
        self.conn.create_table("dims", self.dims.schema)
        self.conn.ingest("dims", self.dims)
        self.edge = edge_table()
        self.conn.create_table("edge", self.edge.schema, partition_by=[("g", "identity")])
        self.duck = duckdb.connect()
        self.duck.sql("SET TimeZone = 'UTC'")
        self.duck.register("facts", self.facts)
        self.duck.register("edge", self.edge)
        self.duck.register("dims", self.dims)
        self.edge_versions: list[int] = []
        for start in range(0, self.edge.num_rows, 4):  # a version per append, as in-process
            self.conn.ingest("edge", self.edge.slice(start, 4))
            self.edge_versions.append(self.conn.flush("edge"))
            self.duck.register(f"edge_v{len(self.edge_versions)}", self.edge.slice(0, start + 4))

    def check(self, sql: str, order_columns: tuple[int, ...] = ()) -> pa.Table:
        expected = self.duck.sql(sql).to_arrow_table()
        ours = self.conn.sql(sql)
        problem = difference(ours, expected, order_columns)
        assert problem is None, f"{problem}\nSQL: {sql}"
        planned = self.conn.output_schema(self.conn.sql_plan(sql))
        assert ours.schema.names == planned.names, "merged columns keep the planned names"
        assert [f.type for f in ours.schema] == [f.type for f in planned], sql
        if _names_every_column(sql, expected):
            assert ours.column_names == expected.column_names, sql
        return ours


def _names_every_column(sql: str, expected: pa.Table) -> bool:
    """Whether the query names each output column itself (``AS`` outside parentheses), so
    our names must equal DuckDB's (unnamed expressions are spelled differently)."""
    head = sql.upper().split(" FROM ", 1)[0]
    depth, aliases = 0, 0
    for i, ch in enumerate(head):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and head.startswith(" AS ", i):
            aliases += 1
    return aliases >= expected.num_columns and "*" not in head


@pytest.fixture(scope="module")
def ray_oracle(ray_session: None, tmp_path_factory: pytest.TempPathFactory):
    oracle = RayOracle(tmp_path_factory.mktemp("ray-differential"))
    try:
        yield oracle
    finally:
        oracle.conn.close()


def test_the_facts_are_spread_over_shards_and_partly_buffered(ray_oracle: RayOracle) -> None:
    runner = ray_oracle.conn.runtime.query_runner()
    result = runner.run(ray_oracle.conn.sql_plan("SELECT g, count(*) AS n FROM facts GROUP BY g"))
    assert result.stats.shards_used >= 2, "fragments on several shards, partials merged"
    assert any("buffered" in line for line in result.stats.pruning), result.stats.pruning
    assert sum(result.table.column("n").to_pylist()) == ray_oracle.facts.num_rows


@pytest.mark.parametrize(("sql", "order_columns"), FEATURE_QUERIES)
def test_feature_query_on_ray_matches_duckdb(ray_oracle: RayOracle, sql, order_columns) -> None:
    ray_oracle.check(sql, order_columns)


@pytest.mark.parametrize("index", range(QUERY_COUNT))
def test_generated_query_on_ray_matches_duckdb(ray_oracle: RayOracle, index: int) -> None:
    query = GENERATED[index]
    ray_oracle.check(query.sql, query.order_columns)


@pytest.mark.parametrize(("sql", "order_columns"), JOIN_QUERIES)
def test_join_on_ray_matches_duckdb(ray_oracle: RayOracle, sql, order_columns) -> None:
    ray_oracle.check(sql, order_columns)


@pytest.mark.parametrize("sql", SUBQUERIES + SELECT_SUBQUERIES)
def test_where_subquery_on_ray_matches_duckdb(ray_oracle: RayOracle, sql: str) -> None:
    ray_oracle.check(sql)


@pytest.mark.parametrize("sql", WINDOW_QUERIES + GENERATED_WINDOWS[::4])
def test_window_on_ray_matches_duckdb(ray_oracle: RayOracle, sql: str) -> None:
    # windows partitioned by g run in the fragments (facts is partitioned by g), where a
    # partition's buffered rows must meet its files; the others run after the gather
    ray_oracle.check(sql)


@pytest.mark.parametrize(
    "sql",
    SET_OPERATIONS
    + GROUPING_QUERIES
    + QUANTILES_FACTS
    + FILTERS
    + STRING_AGGS[:4]
    + STRING_AGGS[5:],
)
def test_set_operation_grouping_set_and_holistic_aggregate_on_ray(ray_oracle, sql: str) -> None:
    # exact quantiles gather each group's values from the shards; set operations and
    # grouping sets are split aggregates whose partial states cross the shards
    ray_oracle.check(sql)


@pytest.mark.parametrize("index", range(0, JOIN_COUNT, 2))  # half: the suite's time budget
def test_generated_join_on_ray_matches_duckdb(ray_oracle: RayOracle, index: int) -> None:
    query = GENERATED_JOINS[index]
    ray_oracle.check(query.sql, query.order_columns)


@pytest.mark.parametrize(("sql", "order_columns"), FLOAT_ORDER)
def test_nan_order_on_ray_matches_duckdb(ray_oracle: RayOracle, sql, order_columns) -> None:
    ray_oracle.check(sql, order_columns)


@pytest.mark.parametrize("sql", SUM_QUERIES)
def test_integer_sums_on_ray_match_duckdb_or_raise(ray_oracle: RayOracle, sql: str) -> None:
    from hasivu_compute._core.errors import ArithmeticOverflowError

    expected = ray_oracle.duck.sql(sql).to_arrow_table()
    planned = ray_oracle.conn.output_schema(ray_oracle.conn.sql_plan(sql))
    limits = {pa.int64(): (-(2**63), 2**63 - 1), pa.uint64(): (0, 2**64 - 1)}
    outside = any(
        not limits[field.type][0] <= v <= limits[field.type][1]
        for column, field in zip(expected.columns, planned, strict=True)
        if field.type in limits
        for v in column.to_pylist()
        if v is not None
    )
    if outside:
        with pytest.raises(ArithmeticOverflowError):
            ray_oracle.conn.sql(sql)
        return
    ray_oracle.check(sql)


@pytest.mark.parametrize("syntax", VERSION_SYNTAX)
def test_time_travel_on_ray_reads_that_version(ray_oracle: RayOracle, syntax: str) -> None:
    sql = "SELECT g, count(*) AS n, sum(k) AS s FROM {table} GROUP BY g"
    for i, version in enumerate(ray_oracle.edge_versions, start=1):
        ours = ray_oracle.conn.sql(sql.format(table=syntax.format(v=version)))
        expected = ray_oracle.duck.sql(sql.format(table=f"edge_v{i}")).to_arrow_table()
        problem = difference(ours, expected)
        assert problem is None, f"version {version}: {problem}"


def test_time_travel_per_table_in_a_join_on_ray(ray_oracle: RayOracle) -> None:
    """An old version of edge joined with its newest: each table reads its own version."""
    sql = "SELECT a.id AS id, count(b.id) AS n FROM {old} a JOIN edge b ON a.k = b.k GROUP BY a.id"
    for i, version in enumerate(ray_oracle.edge_versions[:3], start=1):
        ours = ray_oracle.conn.sql(sql.format(old=f"edge AT (VERSION => {version})"))
        expected = ray_oracle.duck.sql(sql.format(old=f"edge_v{i}")).to_arrow_table()
        problem = difference(ours, expected)
        assert problem is None, f"version {version}: {problem}"
        assert ours.num_rows == expected.num_rows > 0
