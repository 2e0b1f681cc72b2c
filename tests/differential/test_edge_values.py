"""Edge values against DuckDB: integer sums at and past 64 bits; time travel.

The ``edge`` table is partitioned by ``g`` and filled by several appends, so a
query grouped by ``k`` (which spans partitions) runs partial -> combine ->
final, and one grouped by ``g`` finishes inside each fragment. Where DuckDB's
exact answer (HUGEINT) does not fit our result type, we must raise
:class:`ArithmeticOverflowError`, never answer.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from compare import difference

from hasivu_compute._core.errors import ArithmeticOverflowError, UnsupportedSQLError
from hasivu_compute.exec import execute, prepare
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import FinalAggregate, Limit, Sort, walk
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog

I62 = 2**62
I64_MAX = 2**63 - 1

NAN = float("nan")
NEG_NAN = -NAN  # the sign bit set: still NaN, one value with NaN for DuckDB
INF = float("inf")

#: (g, k, big, u, f). Sums: partition 'a' overflows int64 and uint64; 'b' sums to
#: exactly int64's maximum; 'c' goes below -2^62 and back; 'a' + 'b' + 'c'
#: overflows while 'b' + 'c' fits although its partials are at int64's limits.
#: Floats: NaN beside +inf in 'a', -0.0 and 0.0, NULLs, and a group (k = 2) of NaNs only.
EDGE_ROWS = [
    ("a", 0, I62 + 1, 2**63, 1.0),
    ("a", 1, I62 + 1, 2**63, INF),
    ("a", 0, I62 + 1, 1, NAN),
    ("a", 1, I62 + 1, None, None),
    ("b", 0, I62, 2**63 - 1, -INF),
    ("b", 1, I62 - 1, 2**63, -0.0),
    ("b", 0, None, 0, 2.5),
    ("c", 0, -I62, 5, NEG_NAN),
    ("c", 1, -I62, 7, 0.0),
    ("c", 0, 5, 2**64 - 1, -1.0),
    ("c", 1, None, None, None),
    ("d", 2, None, None, NAN),
    ("d", 2, None, None, NEG_NAN),
]


def edge_table() -> pa.Table:
    g, k, big, u, f = zip(*EDGE_ROWS, strict=True)
    return pa.table(
        {
            "id": pa.array(range(len(EDGE_ROWS)), pa.int64()),
            "g": pa.array(g, pa.string()),
            "k": pa.array(k, pa.int64()),
            "big": pa.array(big, pa.int64()),
            "u": pa.array(u, pa.uint64()),
            "f": pa.array(f, pa.float64()),
        }
    )


class EdgeOracle:
    def __init__(self, root: Path) -> None:
        self.data = edge_table()
        self.catalog = Catalog(FileIO.from_uri(str(root)))
        table = self.catalog.create_table(
            "edge", self.data.schema, partition_by=[("g", "identity")]
        )
        self.duck = duckdb.connect()
        self.duck.register("edge", self.data)
        for start in range(0, self.data.num_rows, 4):  # several segments per partition
            version = table.append(self.data.slice(start, 4)).version
            # DuckDB has no time travel over Arrow data: each version is its own table
            self.duck.register(f"edge_v{version}", self.data.slice(0, start + 4))
        self.versions = sorted(table.versions())
        self.schemas = {"edge": self.data.schema}

    def ours(self, sql: str) -> pa.Table:
        return execute(to_plan(sql, schema=self.schemas), self.catalog)

    def check(self, sql: str, order_columns: tuple[int, ...] = ()) -> None:
        """Our answer equals DuckDB's, or we raise exactly where DuckDB's (HUGEINT) sum
        leaves our result type."""
        expected = self.duck.sql(sql).to_arrow_table()
        plan = to_plan(sql, schema=self.schemas)
        ours_schema = output_schema(prepare(plan, self.catalog).bound)
        outside = _outside_our_types(expected, ours_schema)
        if outside:
            with pytest.raises(ArithmeticOverflowError):
                execute(plan, self.catalog)
            return
        problem = difference(execute(plan, self.catalog), expected, order_columns)
        assert problem is None, f"{problem}\nSQL: {sql}"


_LIMITS = {pa.int64(): (-(2**63), 2**63 - 1), pa.uint64(): (0, 2**64 - 1)}


def _outside_our_types(theirs: pa.Table, ours: pa.Schema) -> bool:
    """Whether a DuckDB value does not fit the int64 / uint64 column we answer with."""
    for column, field in zip(theirs.columns, ours, strict=True):
        limits = _LIMITS.get(field.type)
        if limits is None:
            continue
        values = [v for v in column.to_pylist() if v is not None]
        if any(not limits[0] <= v <= limits[1] for v in values):
            return True
    return False


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> EdgeOracle:
    return EdgeOracle(tmp_path_factory.mktemp("edge"))


SUM_QUERIES = [
    "SELECT sum(big) FROM edge",
    "SELECT g, sum(big) FROM edge GROUP BY g",
    "SELECT k, sum(big) FROM edge GROUP BY k",
    "SELECT sum(big) FROM edge WHERE g <> 'a'",
    "SELECT k, sum(big), count(*) FROM edge WHERE g <> 'a' GROUP BY k",
    "SELECT g, sum(big) FROM edge WHERE g <> 'a' GROUP BY g",
    "SELECT sum(u) FROM edge",
    "SELECT sum(u) FROM edge WHERE g = 'c'",
    "SELECT k, sum(u) FROM edge WHERE g <> 'a' GROUP BY k",
    "SELECT g, sum(u) FROM edge GROUP BY g",
    "SELECT k, count(DISTINCT big), sum(big) FROM edge GROUP BY k",
    "SELECT k, count(DISTINCT g), sum(big) FROM edge WHERE g <> 'a' GROUP BY k",
    "SELECT avg(big), avg(u) FROM edge",
    "SELECT k, avg(big), avg(u) FROM edge GROUP BY k",
    "SELECT g, avg(big) FROM edge GROUP BY g",
    "SELECT sum(CAST(big AS DECIMAL(38, 0))) FROM edge",
]


@pytest.mark.parametrize("sql", SUM_QUERIES)
def test_integer_sums_match_duckdb_or_raise(edge: EdgeOracle, sql: str) -> None:
    edge.check(sql)


def test_grouping_by_k_really_combines_partials(edge: EdgeOracle) -> None:
    plan = prepare(
        to_plan("SELECT k, sum(big) FROM edge GROUP BY k", schema=edge.schemas), edge.catalog
    )
    assert any(isinstance(n, FinalAggregate) for n in walk(plan.optimized))
    assert len(plan.physical.fragments) == 4, "one fragment per partition of g"


TIME_TRAVEL = [
    "SELECT g, count(*), sum(k), min(id), max(id) FROM {table} GROUP BY g",
    "SELECT * FROM {table} WHERE k = 1 ORDER BY id",
    "SELECT k, count(DISTINCT g) FROM {table} GROUP BY k",
]
VERSION_SYNTAX = [
    "edge AT (VERSION => {v})",
    "edge FOR VERSION AS OF {v}",
    "edge VERSION AS OF {v}",
]


@pytest.mark.parametrize("syntax", VERSION_SYNTAX)
@pytest.mark.parametrize("sql", TIME_TRAVEL)
def test_time_travel_reads_that_version(edge: EdgeOracle, sql: str, syntax: str) -> None:
    assert edge.versions == [1, 2, 3, 4, 5], "created (1) and four appends"
    for version in (2, 3, 4, 5):
        ours = edge.ours(sql.format(table=syntax.format(v=version)))
        expected = edge.duck.sql(sql.format(table=f"edge_v{version}")).to_arrow_table()
        order = (0,) if "ORDER BY" in sql else ()
        problem = difference(ours, expected, order)
        assert problem is None, f"version {version}: {problem}\nSQL: {sql}"


def test_time_travel_by_timestamp_is_refused(edge: EdgeOracle) -> None:
    with pytest.raises(UnsupportedSQLError, match="TIMESTAMP"):
        edge.ours("SELECT count(*) FROM edge AT (TIMESTAMP => TIMESTAMP '2030-01-01')")


FLOAT_ORDER = [
    ("SELECT min(f), max(f) FROM edge", ()),
    ("SELECT g, min(f), max(f) FROM edge GROUP BY g", ()),
    ("SELECT k, min(f), max(f), count(DISTINCT f) FROM edge GROUP BY k", ()),
    ("SELECT k, max(f) FROM edge WHERE g <> 'a' GROUP BY k", ()),
    ("SELECT f, count(*) FROM edge GROUP BY f", ()),
    ("SELECT DISTINCT f FROM edge", ()),
    ("SELECT count(DISTINCT f) FROM edge", ()),
    ("SELECT id, f FROM edge ORDER BY f, id", (1, 0)),
    ("SELECT id, f FROM edge ORDER BY f DESC, id", (1, 0)),
    ("SELECT id, f FROM edge ORDER BY f NULLS FIRST, id", (1, 0)),
    ("SELECT id, f FROM edge ORDER BY f DESC NULLS LAST, id", (1, 0)),
    ("SELECT id, f FROM edge ORDER BY f DESC NULLS FIRST, id", (1, 0)),
    ("SELECT id, f FROM edge ORDER BY f DESC, id LIMIT 4", (1, 0)),
    ("SELECT id, f FROM edge ORDER BY f, id LIMIT 3 OFFSET 1", (1, 0)),
    ("SELECT id, f FROM edge ORDER BY f DESC NULLS FIRST, id LIMIT 3", (1, 0)),
    ("SELECT g, max(f) AS m FROM edge GROUP BY g ORDER BY m DESC, g LIMIT 2", (1, 0)),
    ("SELECT id FROM edge WHERE f > 2 ORDER BY id", (0,)),
    ("SELECT id FROM edge WHERE f = 'nan'::DOUBLE ORDER BY id", (0,)),
]


@pytest.mark.parametrize(("sql", "order_columns"), FLOAT_ORDER)
def test_nan_orders_as_in_duckdb(
    edge: EdgeOracle, sql: str, order_columns: tuple[int, ...]
) -> None:
    edge.check(sql, order_columns)


def test_top_k_is_pushed_into_fragments(edge: EdgeOracle) -> None:
    plan = prepare(
        to_plan("SELECT id, f FROM edge ORDER BY f DESC, id LIMIT 4", schema=edge.schemas),
        edge.catalog,
    )
    pipeline = plan.physical.fragments[0].pipeline
    assert isinstance(pipeline, Limit) and pipeline.limit == 4, pipeline
    assert isinstance(pipeline.child, Sort), "the NaN-first top-k runs in each fragment"


@pytest.mark.parametrize("syntax", VERSION_SYNTAX)
def test_time_travel_per_table_in_a_join(edge: EdgeOracle, syntax: str) -> None:
    """Each table of a join reads its own version: an old edge joined with the newest."""
    sql = (
        "SELECT a.id AS id, a.k AS k, count(b.id) AS n FROM {old} a JOIN {new} b ON a.k = b.k "
        "GROUP BY a.id, a.k"
    )

    def columns(name: str, version: int | None = None) -> pa.Schema:
        # as the connection's lookup: an old version's own columns, known while lowering
        return edge.catalog.load_table(name).snapshot(version).schema.to_arrow()

    for version in (2, 4):
        text = sql.format(old=syntax.format(v=version), new="edge")
        ours = execute(to_plan(text, schema=columns), edge.catalog)
        expected = edge.duck.sql(sql.format(old=f"edge_v{version}", new="edge")).to_arrow_table()
        problem = difference(ours, expected, ())
        assert problem is None, f"version {version}: {problem}"
        assert ours.num_rows == expected.num_rows > 0
    with pytest.raises(UnsupportedSQLError, match="known only when the plan is bound"):
        edge.ours(sql.format(old=syntax.format(v=2), new="edge"))  # a lookup without versions
