"""Exact quantiles, string_agg and aggregate FILTER against DuckDB.

Over ``facts`` (partitioned by ``g``) and the edge table ``vals`` (partitioned by ``p``,
NULL / NaN / infinite / decimal values, an all-NULL group, a one-row group): grouped
by anything but the partition key, every aggregate runs as partial states on the
fragments and a final step on the gatherer (asserted on the plan below).
"""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from compare import difference

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.exec import execute, prepare
from hasivu_compute.plan.render import render
from hasivu_compute.sql import to_plan

QUANTILES_FACTS = [
    "SELECT k, median(x) AS m, median(y) AS my, median(q) AS mq FROM facts GROUP BY k",
    "SELECT median(x) AS m, median(price) AS mp, median(name) AS mn FROM facts",
    "SELECT g, quantile_cont(x, 0.3) AS a, quantile_disc(x, 0.3) AS b, "
    "quantile_disc(name, 0.7) AS c, quantile(q, 0.5) AS e FROM facts GROUP BY g",
    "SELECT k, quantile_cont(y, [0.1, 0.5, 0.99]) AS a, quantile_disc(d, [0.25, 0.75]) AS b "
    "FROM facts GROUP BY k",
    "SELECT k, quantile_cont(price, -0.2) AS a, quantile_disc(y, -0.35) AS b FROM facts GROUP BY k",
    "SELECT k, quantile_cont(x, 0) AS a, quantile_cont(x, 1) AS b, quantile_disc(x, 0) AS c, "
    "quantile_disc(x, 1) AS e, quantile_disc(x, -1) AS f FROM facts GROUP BY k",
    "SELECT q, quantile_disc(ts, 0.4) AS t, quantile_disc(tsz, 0.6) AS tz, median(flag) AS b "
    "FROM facts GROUP BY q",
    "SELECT k, median(x) AS m FROM facts WHERE x > 1e9 GROUP BY k",  # empty input
    "SELECT median(x) AS m, quantile_cont(x, [0.5]) AS l FROM facts WHERE x > 1e9",
    "SELECT k, median(x) - avg(x) AS skew, count(*) AS n FROM facts GROUP BY k "
    "HAVING median(x) > 30 ORDER BY median(x) DESC",
]

QUANTILES_EDGES = [
    # k = 7: every value NULL; k = 8: one row; NaN sorts above every number
    "SELECT k, median(v) AS mv, median(f) AS mf, median(s) AS ms FROM vals GROUP BY k",
    "SELECT k, quantile_cont(f, [0.0, 0.1, 0.5, 0.9, 1.0]) AS qf, "
    "quantile_disc(f, [0.2, 0.8]) AS df FROM vals GROUP BY k",
    # decimals: int64 storage truncates, 128-bit storage floors the interpolated value
    "SELECT k, median(dn) AS a, quantile_cont(dn, 0.37) AS b, quantile_cont(dw, 0.71) AS c, "
    "quantile_cont(dw, [-0.13, -0.4]) AS e, quantile_disc(dw, 0.5) AS f FROM vals GROUP BY k",
    "SELECT g, median(CAST(f AS FLOAT)) AS a, quantile_cont(CAST(v AS FLOAT), 0.33) AS b "
    "FROM vals GROUP BY g",
    "SELECT quantile_disc(v, 0.3) AS a, quantile_disc(v, 0.7) AS b, quantile_disc(s, 0.5) AS c, "
    "quantile_disc(d, 0.9) AS e FROM vals",
    "SELECT p, median(v) AS m FROM vals GROUP BY p",  # per partition: finished on the shard
]

FILTERS = [
    "SELECT k, count(*) FILTER (WHERE x > 10) AS a, sum(y) FILTER (WHERE flag) AS b, "
    "count(DISTINCT name) FILTER (WHERE q > 2) AS c, avg(x) FILTER (WHERE g = 'a') AS d, "
    "median(x) FILTER (WHERE y < 0) AS e FROM facts GROUP BY k",
    "SELECT count(*) FILTER (WHERE flag) AS a, count(*) FILTER (WHERE NOT flag) AS b, "
    "count(*) AS c, count(x) FILTER (WHERE flag IS NULL) AS e FROM facts",
    "SELECT g, min(d) FILTER (WHERE q > 0) AS a, max(name) FILTER (WHERE x < 0) AS b, "
    "stddev_samp(x) FILTER (WHERE k < 3) AS c, sum(x) FILTER (WHERE false) AS e, "
    "count(*) FILTER (WHERE false) AS f FROM facts GROUP BY g",
    "SELECT k, sum(y) FILTER (WHERE x > 0) AS a, sum(y) AS b FROM facts GROUP BY k "
    "HAVING count(*) FILTER (WHERE x > 0) > 5",
]

STRING_AGGS = [
    "SELECT k, string_agg(name, ',' ORDER BY id) AS s FROM facts GROUP BY k",
    "SELECT g, string_agg(name, ' | ' ORDER BY y DESC, id) AS s, "
    "listagg(g, '' ORDER BY id DESC) AS t FROM facts GROUP BY g",
    "SELECT k, string_agg(name, '-' ORDER BY q NULLS FIRST, id DESC) FILTER (WHERE x > 0) AS s "
    "FROM facts GROUP BY k",
    "SELECT k, string_agg(y, ';' ORDER BY id) AS s FROM facts GROUP BY k",
    "SELECT k, string_agg(s ORDER BY o) AS a, string_agg(s, NULL ORDER BY o) AS b, "
    "string_agg(s, '' ORDER BY f DESC, o) AS c FROM vals GROUP BY k",
    "SELECT string_agg(name, ',' ORDER BY x NULLS FIRST, id) AS s FROM facts WHERE k = 3",
    "SELECT string_agg(name, ',' ORDER BY id) AS s FROM facts WHERE x > 1e9",
]


@pytest.mark.parametrize("sql", QUANTILES_FACTS + FILTERS + STRING_AGGS[:4] + STRING_AGGS[5:])
def test_on_facts_matches_duckdb(oracle, sql: str) -> None:
    oracle.check(sql)


@pytest.mark.parametrize("sql", QUANTILES_EDGES + STRING_AGGS[4:5])
def test_on_edge_values_matches_duckdb(edges, sql: str) -> None:
    edges.check(sql)


def test_decimal_quantiles_are_digit_exact(edges) -> None:
    # the comparison above allows a relative 1e-9; a DECIMAL answer must match every digit
    sql = (
        "SELECT k, median(dn) AS a, quantile_cont(dn, 0.37) AS b, median(dw) AS c, "
        "quantile_cont(dw, [0.71, 0.13]) AS e FROM vals GROUP BY k"
    )
    ours = sorted(edges.ours(sql).to_pylist(), key=lambda r: (r["k"] is None, r["k"]))
    theirs = sorted(edges.duckdb(sql).to_pylist(), key=lambda r: (r["k"] is None, r["k"]))
    assert ours == theirs
    negative = [v for r in ours if r["e"] for v in r["e"] if v < 0 and v != int(v)]
    assert negative, "fractional negative results make floor and truncation differ"


def _sorted_parts(table: pa.Table, column: int, sep: str) -> pa.Table:
    """``table`` with the string_agg ``column`` replaced by its parts, sorted (DuckDB leaves
    the order of string_agg without ORDER BY undefined)."""
    values = table.column(column).to_pylist()
    parts = [None if v is None else sep.join(sorted(v.split(sep))) for v in values]
    return table.set_column(column, table.field(column), pa.array(parts, pa.string()))


@pytest.mark.parametrize(
    ("sql", "sep"),
    [
        ("SELECT k, string_agg(name, ',') AS s FROM facts GROUP BY k", ","),
        ("SELECT g, group_concat(name) AS s FROM facts GROUP BY g", ","),
        ("SELECT q, listagg(name, '; ') FILTER (WHERE x > 0) AS s FROM facts GROUP BY q", "; "),
        ("SELECT string_agg(g, '/') AS s FROM facts WHERE k = 2", "/"),
    ],
)
def test_string_agg_without_order_has_duckdbs_parts(oracle, sql: str, sep: str) -> None:
    ours = _sorted_parts(oracle.ours(sql), 1 if "GROUP BY" in sql else 0, sep)
    theirs = _sorted_parts(oracle.duckdb(sql), 1 if "GROUP BY" in sql else 0, sep)
    problem = difference(ours, theirs)
    assert problem is None, f"{problem}\nSQL: {sql}"


def test_holistic_aggregates_run_partial_then_final(oracle) -> None:
    sql = (
        "SELECT k, median(x) AS m, string_agg(name, ',' ORDER BY id) AS s, "
        "count(*) FILTER (WHERE flag) AS n FROM facts GROUP BY k"
    )
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert "PartialAggregate" in text and "FinalAggregate" in text, text
    assert "CASE WHEN flag THEN 1 END" in text, text  # FILTER as a masked input


def test_approximate_aggregate_with_filter_is_over_the_filtered_rows(oracle) -> None:
    # not DuckDB's sketch: the same as our own aggregate over the rows the filter keeps
    filtered = oracle.ours(
        "SELECT k, approx_count_distinct(name) FILTER (WHERE y > 0) AS a FROM facts GROUP BY k"
    )
    where = oracle.ours(
        "SELECT k, approx_count_distinct(name) AS a FROM facts WHERE y > 0 GROUP BY k"
    )
    expected = dict(zip(where["k"].to_pylist(), where["a"].to_pylist(), strict=True))
    got = dict(zip(filtered["k"].to_pylist(), filtered["a"].to_pylist(), strict=True))
    assert got == {k: expected.get(k, 0) for k in got}, (got, expected)
    assert any(v > 0 for v in got.values())


def _generated(seed: int, count: int) -> list[str]:
    """Random grouped queries mixing the new aggregates, FILTER and WHERE."""
    r = random.Random(seed)
    keys = ["k", "q", "flag", "k, q", ""]
    calls = [
        lambda: f"median({r.choice(['x', 'y', 'q', 'price'])})",
        lambda: f"quantile_cont({r.choice(['x', 'y'])}, {r.choice([0.05, 0.25, 0.5, 0.9, -0.3])})",
        lambda: f"quantile_disc({r.choice(['x', 'name', 'd', 'y'])}, {r.choice([0.1, 0.5, 0.75])})",
        lambda: f"quantile_cont(price, [{r.choice([0.1, 0.2])}, {r.choice([0.6, 0.95])}])",
        lambda: f"string_agg(name, ',' ORDER BY id{r.choice(['', ' DESC'])})",
        lambda: f"sum({r.choice(['x', 'y'])})",
        lambda: "count(*)",
        lambda: f"count(DISTINCT {r.choice(['name', 'k'])})",
    ]
    conditions = ["x > 0", "flag", "y < 100", "name LIKE 'a%'", "q IS NULL", "k > 30"]
    out = []
    for _ in range(count):
        key = r.choice(keys)
        items = []
        for i in range(r.randint(1, 3)):
            call = r.choice(calls)()
            if r.random() < 0.4:
                call += f" FILTER (WHERE {r.choice(conditions)})"
            items.append(f"{call} AS a{i}")
        where = f" WHERE {r.choice(conditions)}" if r.random() < 0.3 else ""
        select = ", ".join(([key] if key else []) + items)
        group = f" GROUP BY {key}" if key else ""
        out.append(f"SELECT {select} FROM facts{where}{group}")
    return out


@pytest.mark.parametrize("sql", _generated(seed=5, count=40))
def test_generated_holistic_queries_match_duckdb(oracle, sql: str) -> None:
    oracle.check(sql)


@pytest.mark.parametrize(
    ("sql", "error", "words"),
    [
        ("SELECT quantile_cont(x, 1.5) FROM facts", BindError, "must be in [0, 1]"),
        ("SELECT quantile_disc(x, [0.5, -2]) FROM facts", BindError, "got -2.0"),
        ("SELECT quantile_disc(x, [0.5, -0.2]) FROM facts", BindError, "all >= 0 or all < 0"),
        ("SELECT quantile_cont(x, NULL) FROM facts", BindError, "must not be NULL"),
        ("SELECT quantile_cont(x) FROM facts", BindError, "needs a quantile"),
        ("SELECT quantile_cont(x, q) FROM facts", UnsupportedSQLError, "non-constant quantile"),
        ("SELECT quantile(x, 0.1 + 0.2) FROM facts", UnsupportedSQLError, "non-constant quantile"),
        ("SELECT median(d) FROM facts", UnsupportedSQLError, "median() of a date32"),
        ("SELECT quantile_cont(ts, 0.5) FROM facts", UnsupportedSQLError, "interpolates dates"),
        ("SELECT quantile_cont(name, 0.5) FROM facts", BindError, "numeric argument"),
        ("SELECT median(DISTINCT x) FROM facts", UnsupportedSQLError, "median(DISTINCT"),
        ("SELECT string_agg(name, g) FROM facts", UnsupportedSQLError, "non-constant separator"),
        ("SELECT string_agg(x, ',') FROM facts", BindError, "string argument"),
        ("SELECT string_agg(DISTINCT name) FROM facts", UnsupportedSQLError, "(DISTINCT"),
        ("SELECT sum(x ORDER BY y) FROM facts", UnsupportedSQLError, "sum(... ORDER BY ...)"),
        (
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM facts",
            UnsupportedSQLError,
            "WITHIN GROUP",
        ),
        ("SELECT sum(x) FILTER (WHERE sum(y) > 1) FROM facts", BindError, "nested inside"),
        ("SELECT count(*) FILTER (WHERE k) FROM facts", BindError, "must be boolean"),
    ],
)
def test_bad_calls_are_refused_with_a_typed_error(
    oracle, sql: str, error: type, words: str
) -> None:
    with pytest.raises(error) as info:
        execute(to_plan(sql, schema=oracle.schemas), oracle.catalog)
    assert words in str(info.value), info.value
