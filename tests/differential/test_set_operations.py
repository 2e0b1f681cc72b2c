"""INTERSECT / EXCEPT (DISTINCT and ALL) against DuckDB.

``sa`` / ``sb`` (``edge_tables``) repeat rows, hold rows of NULLs and floats -0.0 / 0.0 /
NaN: set operations compare NULLs as equal and floats by value, and the ALL forms keep
``min(m, n)`` / ``m - n`` copies of a row found ``m`` times left and ``n`` times right.
"""

from __future__ import annotations

import random

import pytest
from edge_tables import set_tables

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.exec import execute, prepare
from hasivu_compute.plan.render import render
from hasivu_compute.sql import to_plan

EDGE_QUERIES = [
    "SELECT * FROM sa INTERSECT SELECT * FROM sb",
    "SELECT * FROM sa EXCEPT SELECT * FROM sb",
    "SELECT * FROM sa INTERSECT ALL SELECT * FROM sb",
    "SELECT * FROM sa EXCEPT ALL SELECT * FROM sb",
    "SELECT * FROM sb EXCEPT ALL SELECT * FROM sa",
    "SELECT a, b FROM sa INTERSECT ALL SELECT a, b FROM sb",
    "SELECT c FROM sa EXCEPT SELECT c FROM sb",
    "SELECT c FROM sa INTERSECT SELECT c FROM sb",  # -0.0 meets 0.0, NaN meets NaN
    "SELECT * FROM sa INTERSECT SELECT * FROM sb WHERE a > 100",  # empty right side
    "SELECT * FROM sa WHERE a > 100 EXCEPT ALL SELECT * FROM sb",  # empty left side
    "SELECT * FROM sa EXCEPT ALL SELECT * FROM sb WHERE a > 100",  # EXCEPT ALL of nothing
    "SELECT * FROM sa INTERSECT ALL SELECT * FROM sa",  # a bag with itself
    "SELECT * FROM sa EXCEPT SELECT * FROM sa",
    "SELECT a FROM sa UNION ALL SELECT a FROM sb INTERSECT ALL SELECT a FROM sa",
    "SELECT a FROM sa EXCEPT ALL SELECT a FROM sb UNION ALL SELECT a FROM sb",
    "SELECT a FROM sa INTERSECT SELECT a FROM sb INTERSECT SELECT a FROM sa WHERE b = 'p'",
    "SELECT a FROM sa EXCEPT (SELECT a FROM sb EXCEPT SELECT a FROM sa WHERE c > 0)",
    "SELECT n FROM (SELECT a AS n FROM sa EXCEPT SELECT a FROM sb) t WHERE n IS NULL OR n > 1",
    "WITH shared AS (SELECT b FROM sa INTERSECT ALL SELECT b FROM sb) "
    "SELECT b, count(*) AS copies FROM shared GROUP BY b",
    "SELECT a, b FROM sa INTERSECT SELECT a, b FROM sb ORDER BY a NULLS FIRST, b LIMIT 4",
    "SELECT a + 1 AS x, upper(b) AS y FROM sa EXCEPT ALL SELECT a, b FROM sb",
    "SELECT a FROM sa INTERSECT SELECT c FROM sb",  # int64 meets double
]

FACTS_QUERIES = [
    "SELECT k FROM facts INTERSECT SELECT k FROM dims",
    "SELECT k, g FROM facts EXCEPT ALL SELECT k, g FROM dims",
    "SELECT g, q FROM facts INTERSECT ALL SELECT g, q FROM facts WHERE x > 10",
    "SELECT g, q FROM facts EXCEPT ALL SELECT g, q FROM facts WHERE x > 10",
    "SELECT g, flag, d FROM facts EXCEPT SELECT g, flag, d FROM facts WHERE x > 10",
]


@pytest.mark.parametrize("sql", EDGE_QUERIES)
def test_set_operations_on_edge_rows_match_duckdb(edges, sql: str) -> None:
    edges.check(sql, (0, 1) if "LIMIT" in sql else ())


@pytest.mark.parametrize("sql", FACTS_QUERIES)
def test_set_operations_on_facts_match_duckdb(oracle, sql: str) -> None:
    oracle.check(sql)


def test_all_forms_keep_the_multiset_counts(edges) -> None:
    # the all-NULL row is m times in sa and n times in sb (m > n > 0): INTERSECT ALL keeps
    # it n times, EXCEPT ALL m - n times, EXCEPT never (it is on both sides)
    m, n = (sum(all(v is None for v in r.values()) for r in t.to_pylist()) for t in set_tables())
    assert m > n > 0

    def copies(sql: str) -> int:
        rows = edges.check(sql).to_pylist()
        return sum(1 for r in rows if all(v is None for v in r.values()))

    assert copies("SELECT * FROM sa INTERSECT ALL SELECT * FROM sb") == n
    assert copies("SELECT * FROM sa EXCEPT ALL SELECT * FROM sb") == m - n
    assert copies("SELECT * FROM sa EXCEPT SELECT * FROM sb") == 0
    assert copies("SELECT * FROM sa INTERSECT SELECT * FROM sb") == 1


def test_counts_are_split_across_the_fragments(edges) -> None:
    sql = "SELECT * FROM sa INTERSECT ALL SELECT * FROM sb"
    text = render(prepare(to_plan(sql, schema=edges.schemas), edges.catalog).optimized)
    assert text.count("PartialAggregate") == 2 and "Repeat" in text, text


def _generated(seed: int, count: int) -> list[str]:
    r = random.Random(seed)
    conditions = ["a > 1", "b = 'p'", "c IS NULL", "a IS NOT NULL", "c > 0"]
    out = []
    for _ in range(count):
        columns = ", ".join(r.sample(["a", "b", "c"], r.randint(1, 3)))
        op = r.choice(["INTERSECT", "EXCEPT", "INTERSECT ALL", "EXCEPT ALL"])
        left, right = r.sample(["sa", "sb"], 2) if r.random() < 0.8 else ("sa", "sa")
        lw = f" WHERE {r.choice(conditions)}" if r.random() < 0.5 else ""
        rw = f" WHERE {r.choice(conditions)}" if r.random() < 0.5 else ""
        out.append(f"SELECT {columns} FROM {left}{lw} {op} SELECT {columns} FROM {right}{rw}")
    return out


@pytest.mark.parametrize("sql", _generated(seed=9, count=30))
def test_generated_set_operations_match_duckdb(edges, sql: str) -> None:
    edges.check(sql)


@pytest.mark.parametrize(
    ("sql", "error", "words"),
    [
        ("SELECT a FROM sa INTERSECT SELECT a, b FROM sb", BindError, "different column counts"),
        ("SELECT a, b FROM sa EXCEPT ALL SELECT a FROM sb", BindError, "2 (a, b) and 1 (a)"),
        ("SELECT a FROM sa INTERSECT SELECT b FROM sb", BindError, "does not combine"),
        ("SELECT a FROM sa EXCEPT BY NAME SELECT a FROM sb", UnsupportedSQLError, "EXCEPT BY NAME"),
    ],
)
def test_bad_set_operations_are_refused(edges, sql: str, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        execute(to_plan(sql, schema=edges.schemas), edges.catalog)
    assert words in str(info.value), info.value


def test_set_operation_over_unknown_columns_is_refused() -> None:
    with pytest.raises(UnsupportedSQLError, match="INTERSECT over a query of unknown columns"):
        to_plan("SELECT * FROM sa INTERSECT SELECT * FROM sb")
