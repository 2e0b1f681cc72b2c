"""GROUP BY ROLLUP / CUBE / GROUPING SETS and GROUPING() against DuckDB.

The group keys hold NULLs of their own (``facts.k``, ``facts.g``, ``vals.k``), so a NULL
in a result key is either a NULL group or "not grouped by", which GROUPING() tells
apart; both must match DuckDB row for row.
"""

from __future__ import annotations

import itertools
import random

import pytest

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.exec import execute, prepare
from hasivu_compute.plan.render import render
from hasivu_compute.sql import to_plan

GROUPING_QUERIES = [
    "SELECT g, count(*) AS n FROM facts GROUP BY ROLLUP (g)",
    "SELECT k, g, sum(y) AS s, count(*) AS n, grouping(k) AS gk, grouping(g) AS gg, "
    "grouping(k, g) AS gkg, grouping_id(g, k) AS ggk FROM facts GROUP BY ROLLUP (k, g)",
    "SELECT k, q, median(x) AS m, count(DISTINCT name) AS c FROM facts GROUP BY CUBE (k, q)",
    # duplicate sets give duplicate rows, as in DuckDB
    "SELECT k, g, count(*) AS n FROM facts GROUP BY GROUPING SETS ((k, g), (k), (), (g), (k))",
    "SELECT k, q, count(*) AS n FROM facts GROUP BY k, ROLLUP (q) HAVING grouping(q) = 1",
    "SELECT k, q, g, count(*) AS n FROM facts GROUP BY ROLLUP (k), CUBE (q, g)",
    "SELECT k, g, count(*) AS n FROM facts GROUP BY GROUPING SETS ((k, g), ROLLUP (k))",
    "SELECT k, g, count(*) AS n FROM facts GROUP BY ROLLUP ((k, g))",
    "SELECT k, count(*) AS n FROM facts GROUP BY GROUPING SETS (k, k), k",
    "SELECT k + 1 AS kk, count(*) AS n FROM facts GROUP BY ROLLUP (kk)",
    "SELECT year(d) AS yr, g, sum(price) AS s FROM facts GROUP BY ROLLUP (year(d), g)",
    "SELECT k, count(*) AS n FROM facts WHERE x > 1e9 GROUP BY ROLLUP (k)",  # empty input
    "SELECT count(*) AS n FROM facts WHERE x > 1e9 GROUP BY GROUPING SETS ((), ())",
    "SELECT k, string_agg(name, ',' ORDER BY id) AS s, quantile_cont(x, 0.25) AS p "
    "FROM facts GROUP BY ROLLUP (k)",
    "SELECT k FROM facts GROUP BY ROLLUP (k)",  # no aggregate at all
    "SELECT k, g FROM facts GROUP BY GROUPING SETS ((k), (g)) ORDER BY grouping(k), k, g",
    "SELECT k, sum(y) FILTER (WHERE flag) AS s, grouping(k) AS gk FROM facts GROUP BY CUBE (k) "
    "ORDER BY gk, k",
    "SELECT g, k, count(*) AS n FROM facts WHERE k < 3 GROUP BY 1, ROLLUP (2)",
    "SELECT k, g, grouping(k) AS a FROM facts GROUP BY k, g",  # a plain GROUP BY: 0
]

EDGE_QUERIES = [
    # vals.k has NULLs and an all-NULL value group: NULL keys next to rolled-up rows
    "SELECT k, g, median(v) AS m, count(v) AS c, grouping(k, g) AS gid FROM vals "
    "GROUP BY CUBE (k, g)",
    "SELECT p, k, sum(dn) AS s FROM vals GROUP BY ROLLUP (p, k)",
]


@pytest.mark.parametrize("sql", GROUPING_QUERIES)
def test_grouping_sets_match_duckdb(oracle, sql: str) -> None:
    oracle.check(sql, (0,) if "ORDER BY grouping(k), k" in sql else ())


@pytest.mark.parametrize("sql", EDGE_QUERIES)
def test_grouping_sets_on_edge_values_match_duckdb(edges, sql: str) -> None:
    edges.check(sql)


def test_grouping_tells_a_null_group_from_a_rolled_up_row(oracle) -> None:
    sql = "SELECT k, grouping(k) AS gk, count(*) AS n FROM facts GROUP BY ROLLUP (k)"
    rows = oracle.check(sql).to_pylist()
    nulls = sorted((r["gk"], r["n"]) for r in rows if r["k"] is None)
    assert len(nulls) == 2 and nulls[0][0] == 0 and nulls[1][0] == 1, nulls
    assert nulls[1][1] == sum(r["n"] for r in rows if r["gk"] == 0)


def test_each_grouping_set_is_a_split_aggregate(oracle) -> None:
    sql = "SELECT k, q, count(*) AS n FROM facts GROUP BY ROLLUP (k, q)"
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert text.count("FinalAggregate") == 3 and "Union" in text, text


def _generated(seed: int, count: int) -> list[str]:
    r = random.Random(seed)
    columns = ["k", "q", "g", "flag"]
    out = []
    for _ in range(count):
        chosen = r.sample(columns, r.randint(1, 3))
        form = r.choice(["ROLLUP", "CUBE", "SETS", "MIXED"])
        if form == "SETS":
            subsets = [c for n in range(len(chosen) + 1) for c in itertools.combinations(chosen, n)]
            picked = r.sample(subsets, r.randint(1, len(subsets)))
            if {c for s in picked for c in s} != set(chosen):
                picked.append(tuple(chosen))  # every selected column must be grouped somewhere
            group = "GROUPING SETS (" + ", ".join(f"({', '.join(s)})" for s in picked) + ")"
        elif form == "MIXED" and len(chosen) > 1:
            group = f"{chosen[0]}, {r.choice(['ROLLUP', 'CUBE'])} ({', '.join(chosen[1:])})"
        else:
            group = f"{'CUBE' if form == 'CUBE' else 'ROLLUP'} ({', '.join(chosen)})"
        aggs = r.sample(["count(*)", "sum(y)", "min(name)", "median(x)", "avg(price)"], 2)
        items = [*chosen, *(f"{a} AS a{i}" for i, a in enumerate(aggs))]
        items.append(f"grouping({', '.join(chosen)}) AS gid")
        where = " WHERE x > 0" if r.random() < 0.3 else ""
        out.append(f"SELECT {', '.join(items)} FROM facts{where} GROUP BY {group}")
    return out


@pytest.mark.parametrize("sql", _generated(seed=3, count=30))
def test_generated_grouping_sets_match_duckdb(oracle, sql: str) -> None:
    oracle.check(sql)


@pytest.mark.parametrize(
    ("sql", "error", "words"),
    [
        ("SELECT grouping(k) FROM facts", BindError, "needs a GROUP BY"),
        ("SELECT k, grouping(g) FROM facts GROUP BY ROLLUP (k)", BindError, "'g'"),
        (
            "SELECT k FROM facts GROUP BY CUBE (k, q, g, flag, x, y, id, name, d)",
            UnsupportedSQLError,
            "512 grouping sets",
        ),
        (
            "SELECT k FROM facts GROUP BY GROUPING SETS ((k), GROUPING SETS ((q)))",
            UnsupportedSQLError,
            "GROUPING SETS inside GROUPING SETS",
        ),
        ("SELECT k, sum(x) FROM facts GROUP BY ROLLUP (k, sum(x))", BindError, "aggregate"),
    ],
)
def test_bad_grouping_is_refused_with_a_typed_error(
    oracle, sql: str, error: type, words: str
) -> None:
    with pytest.raises(error) as info:
        execute(to_plan(sql, schema=oracle.schemas), oracle.catalog)
    assert words in str(info.value), info.value
