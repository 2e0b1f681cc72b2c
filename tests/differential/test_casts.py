"""Numeric CASTs against DuckDB: rounding of ties, decimals whose precision equals their
scale, and values that do not fit.

DuckDB (checked on 2.0) rounds a DECIMAL to an integer or to fewer decimal digits half
away from zero (``CAST(-0.5 AS BIGINT) = -1``: the literal -0.5 is a DECIMAL), a DOUBLE
to an integer half to even (``nearbyint``: ``CAST(2.5::DOUBLE AS BIGINT) = 2``) and a
DOUBLE to a DECIMAL by rounding ``x * 10^scale`` half away from zero. Where DuckDB
raises (the value does not fit), we raise :class:`InvalidDataError` naming the value.
"""

from __future__ import annotations

import decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from compare import difference

from hasivu_compute._core.errors import InvalidDataError
from hasivu_compute.exec import execute
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog

D = decimal.Decimal

#: (g, f: double, m: DECIMAL(10,2), tiny: DECIMAL(1,1)); each g is its own partition and
#: each append its own segment, so a segment's zone map is one or two values (pruning
#: over a CAST sees exact ties).
CAST_ROWS = [
    ("a", -0.5, D("-0.50"), D("-0.5")),
    ("a", 0.5, D("0.50"), D("0.5")),
    ("b", 2.5, D("2.50"), D("0.9")),
    ("b", -2.5, D("-2.50"), D("-0.9")),
    ("c", 1.5, D("1.55"), D("0.4")),
    ("c", 0.49999999999999994, D("-1.55"), D("-0.4")),
    ("d", 2.675, D("2.67"), None),
    ("d", None, None, D("0.0")),
]


def cast_table() -> pa.Table:
    g, f, m, tiny = zip(*CAST_ROWS, strict=True)
    return pa.table(
        {
            "id": pa.array(range(len(CAST_ROWS)), pa.int64()),
            "g": pa.array(g, pa.string()),
            "f": pa.array(f, pa.float64()),
            "m": pa.array(m, pa.decimal128(10, 2)),
            "tiny": pa.array(tiny, pa.decimal128(1, 1)),
        }
    )


class CastOracle:
    def __init__(self, root: Path) -> None:
        self.data = cast_table()
        self.catalog = Catalog(FileIO.from_uri(str(root)))
        table = self.catalog.create_table("c", self.data.schema, partition_by=[("g", "identity")])
        for start in range(0, self.data.num_rows, 2):
            table.append(self.data.slice(start, 2))
        self.duck = duckdb.connect()
        self.duck.register("c", self.data)
        self.schemas = {"c": self.data.schema}

    def ours(self, sql: str) -> pa.Table:
        return execute(to_plan(sql, schema=self.schemas), self.catalog)

    def check(self, sql: str) -> None:
        expected = self.duck.sql(sql).to_arrow_table()
        problem = difference(self.ours(sql), expected, ())
        assert problem is None, f"{problem}\nSQL: {sql}"


@pytest.fixture(scope="module")
def casts(tmp_path_factory: pytest.TempPathFactory) -> CastOracle:
    return CastOracle(tmp_path_factory.mktemp("casts"))


CAST_QUERIES = [
    # literals: -0.5 is DECIMAL in DuckDB, so it rounds half away from zero
    "SELECT CAST(-0.5 AS BIGINT) AS a, CAST(2.5 AS BIGINT) AS b, CAST(-2.5 AS INTEGER) AS c, "
    "CAST(0.5 AS SMALLINT) AS d, CAST(-0.4 AS UBIGINT) AS e FROM c WHERE id = 0",
    "SELECT CAST(-0.5::DECIMAL(3,1) AS BIGINT) AS a, CAST(-0.5 AS DECIMAL(3,0)) AS b, "
    "CAST(0.95 AS DECIMAL(2,1)) AS c FROM c WHERE id = 0",
    "SELECT CAST(1.5e0 AS BIGINT) AS a, CAST(2.5e0 AS BIGINT) AS b, CAST(-0.5e0 AS INTEGER) AS c "
    "FROM c WHERE id = 0",
    # columns: doubles round half to even to integers, half away from zero to decimals
    "SELECT id, CAST(f AS BIGINT) AS a, CAST(f AS INTEGER) AS b, CAST(CAST(f AS FLOAT) AS SMALLINT) AS c FROM c",
    "SELECT id, CAST(f AS DECIMAL(10,0)) AS a, CAST(f AS DECIMAL(10,1)) AS b, CAST(f AS DECIMAL(4,2)) AS c FROM c",
    # decimals (also precision = scale) round half away from zero
    "SELECT id, CAST(m AS BIGINT) AS a, CAST(tiny AS BIGINT) AS b, CAST(tiny AS TINYINT) AS c FROM c",
    "SELECT id, CAST(m AS DECIMAL(10,1)) AS a, CAST(m AS DECIMAL(3,0)) AS b, CAST(tiny AS DECIMAL(1,0)) AS c FROM c",
    "SELECT id, CAST(m AS DOUBLE) AS a, CAST(tiny AS DECIMAL(5,3)) AS b FROM c",
    # a cast under a filter: pruning must round the zone map the same way
    "SELECT id FROM c WHERE CAST(f AS DECIMAL(10,0)) = 3",
    "SELECT id FROM c WHERE CAST(f AS DECIMAL(10,0)) = -3",
    "SELECT id FROM c WHERE CAST(tiny AS BIGINT) = -1",
    "SELECT id FROM c WHERE CAST(m AS DECIMAL(10,1)) = 1.6",
    "SELECT g, sum(CAST(f AS DECIMAL(10,0))) AS s, max(CAST(tiny AS INTEGER)) AS t FROM c GROUP BY g",
]


@pytest.mark.parametrize("sql", CAST_QUERIES)
def test_cast_matches_duckdb(casts: CastOracle, sql: str) -> None:
    casts.check(sql)


#: (sql, a word of DuckDB's error, what our message must name)
FAILING_CASTS = [
    ("SELECT CAST(300.4 AS TINYINT) FROM c WHERE id = 0", "INT8", "300.4"),
    ("SELECT CAST(m AS UBIGINT) FROM c WHERE id = 0", "UINT64", "-0.50"),
    ("SELECT CAST(f * 1e20 AS BIGINT) FROM c WHERE id = 0", "INT64", "-5e+19"),
    ("SELECT CAST(m AS DECIMAL(1,1)) FROM c WHERE g = 'd'", "DECIMAL(1,1)", "2.67"),
    ("SELECT CAST(f * 1000 AS DECIMAL(3,0)) FROM c WHERE g = 'd'", "DECIMAL(3,0)", "2675"),
    ("SELECT CAST(f / 0 AS DECIMAL(5,0)) FROM c WHERE id = 2", "DECIMAL(5,0)", "inf"),
]


@pytest.mark.parametrize(("sql", "theirs", "value"), FAILING_CASTS)
def test_cast_that_does_not_fit_raises_naming_the_value(
    casts: CastOracle, sql: str, theirs: str, value: str
) -> None:
    with pytest.raises(
        duckdb.ConversionException, match=theirs.replace("(", r"\(").replace(")", r"\)")
    ):
        casts.duck.sql(sql).fetchall()
    with pytest.raises(InvalidDataError) as info:
        casts.ours(sql)
    assert value in str(info.value), info.value
    assert isinstance(info.value, ValueError)
