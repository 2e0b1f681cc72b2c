"""Subqueries in WHERE against DuckDB: IN, NOT IN (with SQL's NULL rule), [NOT] EXISTS
(correlated on equalities or not), scalar aggregates; and what is refused."""

from __future__ import annotations

import pytest

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.exec import prepare
from hasivu_compute.plan.render import render
from hasivu_compute.sql import to_plan

SUBQUERIES: list[str] = [
    "SELECT id AS id FROM facts WHERE k IN (SELECT k FROM dims WHERE weight > 5)",
    "SELECT id AS id FROM facts WHERE k NOT IN (SELECT k FROM dims WHERE weight > 5)",
    # dims.k holds NULLs: NOT IN over it keeps no row at all
    "SELECT id AS id FROM facts WHERE k NOT IN (SELECT k FROM dims)",
    # an empty subquery: NOT IN keeps every row, NULL k included
    "SELECT id AS id FROM facts WHERE k NOT IN (SELECT k FROM dims WHERE k > 1000)",
    "SELECT id AS id FROM facts WHERE k IN (SELECT k FROM dims WHERE k > 1000)",
    "SELECT g AS g, count(*) AS n FROM facts WHERE g IN (SELECT g FROM dims) GROUP BY g",
    "SELECT id AS id FROM facts f WHERE EXISTS (SELECT 1 FROM dims d WHERE d.k = f.k)",
    "SELECT id AS id FROM facts f WHERE NOT EXISTS (SELECT 1 FROM dims d WHERE d.k = f.k)",
    "SELECT id AS id FROM facts f WHERE EXISTS "
    "(SELECT 1 FROM dims d WHERE d.k = f.k AND d.g = f.g AND d.weight > 2)",
    "SELECT id AS id FROM facts f WHERE NOT EXISTS "
    "(SELECT * FROM dims d WHERE f.k = d.k AND d.label LIKE 'dim_1%')",
    "SELECT count(*) AS n FROM facts WHERE EXISTS (SELECT 1 FROM dims WHERE weight > 9)",
    "SELECT count(*) AS n FROM facts WHERE NOT EXISTS (SELECT 1 FROM dims WHERE k > 1000)",
    "SELECT id AS id FROM facts WHERE x > (SELECT avg(x) FROM facts) AND g = 'b'",
    "SELECT g AS g, count(*) AS n FROM facts WHERE y < (SELECT max(weight) FROM dims) * 10 "
    "GROUP BY g",
    "SELECT id AS id FROM facts WHERE q = (SELECT min(k) FROM dims) OR x IS NULL",
    "SELECT f.id AS id, d.label AS label FROM facts f JOIN dims d ON f.k = d.k "
    "WHERE f.g IN (SELECT g FROM dims WHERE weight > 3) AND d.weight < "
    "(SELECT avg(weight) FROM dims)",
    "SELECT id AS id FROM facts WHERE k IN (SELECT k FROM dims) AND k NOT IN "
    "(SELECT k FROM dims WHERE weight > 5 AND k IS NOT NULL) AND EXISTS "
    "(SELECT 1 FROM dims d WHERE d.k = facts.k + 1)",
    "SELECT * FROM dims WHERE k IN (SELECT k FROM facts WHERE flag)",
    # correlated scalar aggregates: a LEFT join with the subquery grouped by its key
    "SELECT id AS id FROM facts f WHERE x > (SELECT avg(x) FROM facts g WHERE g.k = f.k)",
    "SELECT id AS id FROM facts f WHERE q < (SELECT count(*) FROM dims d WHERE d.k = f.k)",
    "SELECT id AS id FROM facts f WHERE 2 > (SELECT count(d.weight) FROM dims d "
    "WHERE d.k = f.k AND d.weight > 3)",
    # a scalar aggregate in HAVING (TPC-H Q11's shape)
    "SELECT g AS g, sum(x) AS s FROM facts GROUP BY g HAVING sum(x) > "
    "(SELECT sum(x) * 0.1 FROM facts)",
    "SELECT k AS k, count(*) AS n FROM facts GROUP BY k HAVING count(*) < "
    "(SELECT count(*) FROM dims) AND max(y) > (SELECT avg(weight) FROM dims)",
    # correlated on an inequality too: the join's condition (TPC-H Q21's shape)
    "SELECT id AS id FROM facts f WHERE EXISTS (SELECT 1 FROM dims d WHERE d.k < f.k)",
    "SELECT id AS id FROM facts f WHERE EXISTS (SELECT 1 FROM dims d "
    "WHERE d.k = f.k AND d.g <> f.g)",
    "SELECT id AS id FROM facts f WHERE NOT EXISTS (SELECT 1 FROM dims d "
    "WHERE d.k = f.k AND d.weight > f.q AND d.label LIKE 'dim_%')",
    "SELECT d.label AS label FROM dims d WHERE d.weight * 10 < "
    "(SELECT 0.2 * sum(f.x) FROM facts f WHERE f.k = d.k AND f.g = d.g)",
]


@pytest.mark.parametrize("sql", SUBQUERIES)
def test_where_subquery_matches_duckdb(oracle, sql: str) -> None:
    oracle.check(sql)


SELECT_SUBQUERIES: list[str] = [
    # correlated scalar aggregates in the SELECT list: a grouped LEFT join per key
    "SELECT k AS k, (SELECT count(*) FROM dims d WHERE d.k = facts.k) AS n FROM facts",
    "SELECT d.label AS label, (SELECT max(f.x) FROM facts f WHERE f.k = d.k) AS top FROM dims d",
    "SELECT id AS id, (SELECT count(*) FROM dims d WHERE d.g = facts.g) AS c, "
    "(SELECT avg(weight) FROM dims d WHERE d.k = facts.k AND d.weight > 3) AS w "
    "FROM facts WHERE id < 500",
    # uncorrelated: one row joined to every row, or to every group
    "SELECT id AS id, x - (SELECT avg(x) FROM facts) AS dev FROM facts",
    "SELECT id AS id, (SELECT max(weight) FROM dims) + (SELECT min(x) FROM facts) AS s "
    "FROM facts WHERE id < 100",
    "SELECT g AS g, count(*) * 1.0 / (SELECT count(*) FROM facts) AS share FROM facts GROUP BY g",
    "SELECT g AS g, sum(x) - (SELECT avg(x) FROM facts) AS d FROM facts GROUP BY g "
    "HAVING count(*) > (SELECT count(*) / 100 FROM facts)",
    # empty subquery input: NULL (count: 0)
    "SELECT id AS id, (SELECT max(weight) FROM dims WHERE k > 1000) AS none, "
    "(SELECT count(*) FROM dims d WHERE d.k = facts.k + 1000) AS zero FROM facts "
    "WHERE id < 50",
]


@pytest.mark.parametrize("sql", SELECT_SUBQUERIES)
def test_select_list_subquery_matches_duckdb(oracle, sql: str) -> None:
    oracle.check(sql)


def test_in_and_exists_become_semi_and_anti_joins(oracle) -> None:
    sql = (
        "SELECT id FROM facts f WHERE k IN (SELECT k FROM dims) AND NOT EXISTS "
        "(SELECT 1 FROM dims d WHERE d.g = f.g)"
    )
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert "Join semi" in text and "Join anti" in text, text


@pytest.mark.parametrize(
    ("sql", "error", "words"),
    [
        (
            "SELECT id FROM facts f WHERE x > (SELECT avg(weight) FROM dims d WHERE d.k < f.k)",
            UnsupportedSQLError,
            "other than inner = outer",
        ),
        (
            "SELECT id FROM facts f WHERE q > (SELECT count(*) + 1 FROM dims d WHERE d.k = f.k)",
            UnsupportedSQLError,
            "count",
        ),
        (
            "SELECT id FROM facts WHERE x > (SELECT weight FROM dims)",
            UnsupportedSQLError,
            "several rows",
        ),
        (
            "SELECT id FROM facts WHERE k IN (SELECT k, g FROM dims)",
            BindError,
            "must return one",
        ),
        (
            "SELECT id FROM facts f WHERE EXISTS (SELECT count(*) FROM dims d WHERE d.k = f.k)",
            UnsupportedSQLError,
            "over an aggregate",
        ),
        ("SELECT EXISTS (SELECT 1 FROM dims) FROM facts", UnsupportedSQLError, "EXISTS"),
        ("SELECT (SELECT k FROM dims) FROM facts", UnsupportedSQLError, "several rows"),
        (
            "SELECT g, (SELECT max(d.k) FROM dims d WHERE d.g = f.g) FROM facts f GROUP BY g",
            UnsupportedSQLError,
            "correlated subquery in the SELECT list of a grouped query",
        ),
        (
            "SELECT g, count(*) FROM facts f GROUP BY g HAVING count(*) > "
            "(SELECT count(*) FROM dims d WHERE d.g = f.g)",
            UnsupportedSQLError,
            "correlated subquery in HAVING",
        ),
        (
            "SELECT g, count(*) FROM facts GROUP BY g HAVING g IN (SELECT g FROM dims)",
            UnsupportedSQLError,
            "IN",
        ),
    ],
)
def test_subqueries_not_supported_yet_are_refused_with_a_position(
    oracle, sql: str, error: type, words: str
) -> None:
    with pytest.raises(error, match=words) as info:
        oracle.ours(sql)
    if isinstance(info.value, UnsupportedSQLError):
        assert info.value.line == 1 and info.value.col is not None, info.value
