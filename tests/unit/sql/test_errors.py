"""Unsupported SQL and parse errors name the construct and point at it (line, column)."""

from __future__ import annotations

import pytest

from hasivu_compute._core.errors import ParseError, UnsupportedSQLError
from hasivu_compute.sql import to_plan

SCHEMA = {"t": ["a", "b", "g"], "u": ["a", "c"]}


@pytest.mark.parametrize(
    ("sql", "construct", "line", "col"),
    [
        ("SELECT a\nFROM t\n  ASOF JOIN u ON t.a >= u.a", "ASOF JOIN", 3, 3),
        ("SELECT a FROM t POSITIONAL JOIN u", "POSITIONAL JOIN", 1, 17),
        ("SELECT a FROM t LEFT SEMI JOIN u USING (a)", "LEFT SEMI JOIN", 1, 17),
        (
            "SELECT a,\n       first_value(a IGNORE NULLS) OVER (ORDER BY a) FROM t",
            "IGNORE NULLS",
            2,
            8,
        ),
        ("SELECT g, median(a) OVER (PARTITION BY g) FROM t", "window function median()", 1, 11),
        ("SELECT EXISTS (SELECT 1 FROM u) FROM t", "EXISTS (subquery)", 1, 8),
        ("SELECT a FROM t WHERE a > ALL (SELECT a FROM u)", "ALL (subquery)", 1, 27),
        ("SELECT a FROM t\nWHERE a > (SELECT max(c) FROM u WHERE u.c > t.b)", "correlated", 2, 39),
        ("SELECT a FROM t\nINTERSECT BY NAME\nSELECT a FROM u", "INTERSECT BY NAME", 2, 1),
        ("SELECT a FROM t EXCEPT BY NAME SELECT a FROM u", "EXCEPT BY NAME", 1, 17),
        ("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a) FROM t", "WITHIN GROUP", 1, 8),
        ("SELECT mode(a) FROM t", "aggregate function", 1, 8),
        ("SELECT foo(a) FROM t", "function foo()", 1, 8),
        ("SELECT a FROM read_parquet('x.parquet')", "table function", 1, 15),
        ("SELECT a FROM t LIMIT a", "LIMIT", 1, 23),
        ("WITH RECURSIVE r AS (SELECT a FROM t) SELECT a FROM r", "WITH RECURSIVE", 1, 1),
        ("SELECT TRY_CAST(a AS INT[]) FROM t", "type INT[]", 1, 8),
        ("SELECT a + INTERVAL 1 QUARTER FROM t", "INTERVAL with", 1, 12),
        ("SELECT lpad(g, a, 'x') FROM t", "lpad() with a width", 1, 16),
        ("SELECT split_part(g, b, 1) FROM t", "split_part() with a separator", 1, 22),
        ("SELECT regexp_matches(g, b) FROM t", "regexp_matches() with a pattern", 1, 26),
        ("SELECT regexp_replace(g, 'a', 'b', 'x') FROM t", "regexp_replace() option 'x'", 1, 36),
        ("SELECT strftime(d, b) FROM t", "strftime() with a format", 1, 20),
        ("SELECT date_diff('decade', a, b) FROM t", "date_diff() unit 'decade'", 1, 8),
        ("SELECT date_part('era', a) FROM t", "date_part() part 'era'", 1, 18),
        ("INSERT INTO t VALUES (1, 2, 'x')", "statement INSERT", 1, 1),
        ("SELECT DISTINCT ON (g) g, a FROM t", "DISTINCT ON", 1, 8),
        ("SELECT * EXCLUDE (a) FROM t", "EXCLUDE", 1, 8),
    ],
)
def test_unsupported_construct_is_named_with_position(
    sql: str, construct: str, line: int, col: int
) -> None:
    with pytest.raises(UnsupportedSQLError) as info:
        to_plan(sql, schema=SCHEMA)
    error = info.value
    assert construct in error.construct, error
    assert (error.line, error.col) == (line, col), f"{error} for {sql!r}"
    assert f"line {line}, column {col}" in str(error)
    assert isinstance(error, ValueError)  # user-input errors are ValueErrors too


@pytest.mark.parametrize(
    ("sql", "line", "col"),
    [
        ("SELECT a FROM\n t WHERE (", 2, 10),
        ("SELECT a FROM t t2 t3", 1, 20),
        ("SELECT a,\n  'unterminated FROM t", 2, 3),
        ("SELECT a FROM t WHERE", 1, 17),
    ],
)
def test_parse_errors_carry_line_and_column(sql: str, line: int, col: int) -> None:
    with pytest.raises(ParseError) as info:
        to_plan(sql)
    error = info.value
    assert not isinstance(error, UnsupportedSQLError)
    assert (error.line, error.col) == (line, col), str(error)


def test_several_statements_are_refused() -> None:
    with pytest.raises(ParseError, match="exactly one SQL statement"):
        to_plan("SELECT a FROM t; SELECT b FROM t")


def test_ambiguous_alias_without_schema_is_refused_not_guessed() -> None:
    # `b` may be an input column (DuckDB would use it) or the alias: refuse without a schema
    sql = "SELECT a + 1 AS b FROM t WHERE b > 1"
    with pytest.raises(UnsupportedSQLError, match="pass schema=") as info:
        to_plan(sql)
    assert (info.value.line, info.value.col) == (1, 32)
    to_plan(sql, schema={"t": ["a"]})  # with the schema it resolves to the alias
