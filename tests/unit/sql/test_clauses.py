"""Nothing sqlglot parses is silently dropped: each clause is honoured or refused.

Time travel by version (``AT (VERSION => n)``, ``FOR VERSION AS OF n``,
``VERSION AS OF n``) reads that snapshot; every other clause the lowering does
not implement raises :class:`UnsupportedSQLError` naming it at its position.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import UnsupportedSQLError
from hasivu_compute.exec import execute
from hasivu_compute.plan.nodes import scans
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table import Catalog

SCHEMA = {"t": ["a", "b", "g"]}

# (sql, what the error names, the text it points at)
DROPPED_BEFORE = [
    ("SELECT a FROM t AT (TIMESTAMP => '2020-01-01')", "TIMESTAMP", "AT ("),
    ("SELECT a FROM t AT (OFFSET => -1)", "OFFSET", "AT ("),
    ("SELECT a FROM t BEFORE (STATEMENT => 1)", "BEFORE", "BEFORE"),
    ("SELECT a FROM t AT (VERSION => 'two')", "integer", "'two'"),
    ("SELECT a FROM t AT (VERSION => 1 + 1)", "integer", "1 + 1"),
    ("WITH c AS (SELECT a FROM t) SELECT a FROM c AT (VERSION => 1)", "CTE", "AT ("),
    ("SELECT a FROM t@2", "alias", "@2"),
    ("SELECT a FROM t LIMIT 10 PERCENT", "PERCENT", "LIMIT"),
    ("SELECT a FROM t LIMIT 10%", "PERCENT", "LIMIT"),
    ("SELECT a FROM t ORDER BY a LIMIT 1 WITH TIES", "WITH TIES", "LIMIT"),
    ("SELECT a FROM t LIMIT 2 BY a", "LIMIT BY", "LIMIT"),
    ("SELECT a FROM t ORDER BY a WITH FILL", "WITH FILL", "a WITH"),
    ("SELECT a FROM ONLY t", "ONLY", "ONLY"),
    ("SELECT a FROM t WITH (NOLOCK)", "table hint", "WITH"),
    ("SELECT a FROM t WITH ORDINALITY", "ORDINALITY", "WITH"),
    ("SELECT a FROM t GROUP BY ALL, b", "GROUP BY ALL", "b"),
    ("SELECT min(a, 2) FROM t", "min(x, n)", "min"),
    ("SELECT max(a, 3) FROM t", "max(x, n)", "max"),
    ("SELECT week(a, 1) FROM t", "week() with a mode", "week"),
    ("SELECT round(a, 1, 2) FROM t", "round() with a truncate", "round"),
    ("SELECT approx_count_distinct(a, 0.1) FROM t", "approx_count_distinct()", "approx"),
    ("SELECT approx_quantile(a, 0.5, 100) FROM t", "approx_quantile()", "approx"),
    # sqlglot drops the third argument itself: counted on the tokens
    ("SELECT date_trunc('day', a, 'UTC') FROM t", "date_trunc() with 3", "date_trunc"),
    ("SELECT a FROM t WHERE date_trunc('day', a, ')', 'x') > 1", "with 4", "date_trunc"),
]

# already refused before; kept here so the audit list is complete in one place
REFUSED_ALREADY = [
    ("SELECT a FROM t TABLESAMPLE (10 PERCENT)", "TABLESAMPLE", "TABLESAMPLE"),
    ("SELECT a FROM t USING SAMPLE 10", "USING SAMPLE", "USING"),
    ("SELECT DISTINCT ON (a) a, b FROM t", "DISTINCT ON", "DISTINCT"),
    ("SELECT a FROM t ORDER BY a FETCH FIRST 2 ROWS ONLY", "FETCH", "FETCH"),
    ("SELECT * FROM t PIVOT (sum(a) FOR b IN ('x'))", "PIVOT", "PIVOT"),
    ("SELECT a INTO u FROM t", "SELECT INTO", "u FROM"),
    ("SELECT a FROM t, LATERAL (SELECT 1)", "LATERAL", "LATERAL"),
    ("SELECT a FROM t FOR UPDATE", "FOR UPDATE", "FOR"),
    ("SELECT a FROM t FOR SYSTEM_TIME AS OF '2020-01-01'", "TIMESTAMP", "FOR"),
    ("SELECT a FROM t TIMESTAMP AS OF '2020-01-01'", "TIMESTAMP", "TIMESTAMP"),
]


@pytest.mark.parametrize(("sql", "construct", "anchor"), DROPPED_BEFORE + REFUSED_ALREADY)
def test_unimplemented_clause_is_refused_where_it_is(sql: str, construct: str, anchor: str) -> None:
    with pytest.raises(UnsupportedSQLError) as info:
        to_plan(sql, schema=SCHEMA)
    error = info.value
    assert construct.lower() in error.construct.lower(), error
    assert (error.line, error.col) == (1, sql.index(anchor) + 1), f"{error} for {sql!r}"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a FROM t AT (VERSION => 2)",
        "SELECT a FROM t FOR VERSION AS OF 2",
        "SELECT a FROM t VERSION AS OF 2",
        "SELECT x.a FROM t AT (VERSION => 2) AS x",
    ],
)
def test_version_syntax_pins_the_scan(sql: str) -> None:
    for schema in (SCHEMA, None):
        (scan,) = scans(to_plan(sql, schema=schema))
        assert scan.table == "t" and scan.version == 2, scan


@pytest.fixture
def evolved(tmp_path: Path) -> Catalog:
    """Versions: 1 created, 2 first rows, 3 b renamed to c, 4 more rows."""
    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    table = catalog.create_table("t", pa.schema([("a", pa.int64()), ("b", pa.string())]))
    table.append(pa.table({"a": [1, 2], "b": ["x", "y"]}))
    table.rename_column("b", "c")
    table.append(pa.table({"a": [3], "c": ["z"]}))
    return catalog


def test_time_travel_answers_from_that_version(evolved: Catalog) -> None:
    current = {"t": evolved.load_table("t").read().schema}
    for sql in (
        "SELECT * FROM t AT (VERSION => 2)",
        "SELECT * FROM t FOR VERSION AS OF 2",
        "SELECT * FROM t VERSION AS OF 2",
    ):
        out = execute(to_plan(sql, schema=current), evolved)
        assert out.column_names == ["a", "b"], "version 2's columns, before the rename"
        assert sorted(out.column("a").to_pylist()) == [1, 2], sql
    grouped = "SELECT b, sum(a) AS s FROM t AT (VERSION => 2) GROUP BY b ORDER BY b"
    assert execute(to_plan(grouped, schema=current), evolved).to_pylist() == [
        {"b": "x", "s": 1},
        {"b": "y", "s": 2},
    ]
    renamed = "SELECT c FROM t AT (VERSION => 3) ORDER BY c"
    assert execute(to_plan(renamed, schema=current), evolved).column("c").to_pylist() == ["x", "y"]
    now = execute(to_plan("SELECT count(*) AS n FROM t", schema=current), evolved)
    assert now.column("n").to_pylist() == [3], "no version clause: the current version"


def test_keywords_inside_strings_and_quoted_names_are_not_keywords() -> None:
    sql = "SELECT a FROM t AS \"at\" AT (TIMESTAMP => 'AT')"
    with pytest.raises(UnsupportedSQLError) as info:
        to_plan(sql, schema=SCHEMA)
    assert info.value.col == sql.index("AT (") + 1, "the keyword, not the quoted alias"


def test_what_needs_the_columns_of_an_old_version_says_why() -> None:
    with pytest.raises(UnsupportedSQLError, match="version 2 are known only when") as info:
        to_plan("SELECT *, a FROM t AT (VERSION => 2)", schema=SCHEMA)
    assert "pass schema=" not in str(info.value), "the caller cannot fix it with schema="
    with pytest.raises(UnsupportedSQLError, match="version 2"):
        to_plan("SELECT * FROM t AT (VERSION => 2) ORDER BY 1", schema=SCHEMA)
