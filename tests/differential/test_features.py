"""Hand-written queries, one or more per supported SQL feature, against DuckDB."""

from __future__ import annotations

import pytest

# (sql, output columns whose order ORDER BY fixes)
FEATURE_QUERIES: list[tuple[str, tuple[int, ...]]] = [
    ("SELECT * FROM facts WHERE k = 3 ORDER BY id", (0,)),
    ("SELECT facts.* FROM facts WHERE g = 'b' AND x > 100", ()),
    (
        "SELECT id, x * 2 AS x2, g FROM facts WHERE y IS NULL ORDER BY x2 DESC NULLS FIRST, id LIMIT 40",
        (0, 1, 2),
    ),
    ("SELECT g, count(*) AS n FROM facts GROUP BY g HAVING n > 100 ORDER BY n DESC", (1,)),
    ("SELECT g, count(*) FROM facts GROUP BY ALL ORDER BY ALL", (0, 1)),
    (
        "SELECT year(d) AS yr, month(d) AS mo, sum(price) FROM facts GROUP BY yr, mo ORDER BY 1, 2",
        (0, 1),
    ),
    ("SELECT k % 4 AS m, avg(x) FROM facts GROUP BY k % 4 ORDER BY m NULLS FIRST", (0,)),
    ("SELECT g, sum(x) FROM facts GROUP BY g ORDER BY sum(y) DESC NULLS LAST", ()),
    ("SELECT id FROM facts ORDER BY x DESC, id LIMIT 10 OFFSET 5", (0,)),
    ("SELECT id FROM facts ORDER BY id LIMIT 0", (0,)),
    ("SELECT DISTINCT g, flag FROM facts ORDER BY 1 NULLS FIRST, 2 DESC", (0, 1)),
    (
        "SELECT count(DISTINCT g), count(DISTINCT k), count(DISTINCT d), count(DISTINCT name) FROM facts",
        (),
    ),
    ("SELECT g, count(DISTINCT k) AS dk, count(k) FROM facts GROUP BY g", ()),
    ("SELECT count(*), sum(x), avg(x), min(g), max(d), count(x) FROM facts WHERE y > 100000", ()),
    ("SELECT k, count(*) FROM facts WHERE y > 100000 GROUP BY k", ()),
    (
        "SELECT CASE WHEN x > 50 THEN 'high' WHEN x > 0 THEN 'mid' ELSE 'low' END AS band, count(*) "
        "FROM facts GROUP BY 1 ORDER BY 1",
        (0,),
    ),
    ("SELECT CASE g WHEN 'a' THEN 1 WHEN 'b' THEN 2 END AS c, count(*) FROM facts GROUP BY c", ()),
    (
        "SELECT id FROM facts WHERE g IN ('a', 'b') AND k NOT IN (1, 2, 3) AND y BETWEEN -10 AND 10",
        (),
    ),
    ("SELECT id FROM facts WHERE k NOT IN (1, NULL)", ()),
    ("SELECT name FROM facts WHERE name LIKE 'b%' OR name ILIKE 'APR%' OR name LIKE '%_1_'", ()),
    ("SELECT name FROM facts WHERE name NOT LIKE '%a%' AND name NOT ILIKE 'fig%'", ()),
    ("SELECT id FROM facts WHERE d IS NULL OR ts IS NULL OR flag IS NULL", ()),
    (
        "SELECT CAST(k AS DOUBLE) / 3 AS r, CAST(y AS VARCHAR) AS s, CAST(q AS BIGINT) AS b FROM facts",
        (),
    ),
    ("SELECT y / 7 AS fd, y // 7 AS idv, y % 7 AS md FROM facts WHERE y IS NOT NULL", ()),
    ("SELECT q // 2 AS a, q % 3 AS b, -q AS c, abs(q) AS e FROM facts", ()),
    (
        "SELECT d FROM facts WHERE d >= DATE '2021-06-01' AND d < DATE '2021-06-01' + INTERVAL 1 MONTH",
        (),
    ),
    (
        "SELECT ts FROM facts WHERE ts BETWEEN TIMESTAMP '2022-02-01 00:00:00' AND TIMESTAMP '2022-02-03 12:00:00'",
        (),
    ),
    ("SELECT date_trunc('month', ts) AS m, count(*) FROM facts GROUP BY 1", ()),
    ("SELECT date_trunc('week', d) AS w, count(*) FROM facts GROUP BY 1", ()),
    (
        "SELECT extract(year FROM ts), extract(month FROM ts), extract(day FROM ts), extract(hour FROM ts), "
        "extract(minute FROM ts), extract(second FROM ts) FROM facts",
        (),
    ),
    (
        "SELECT dayofweek(d), dayofyear(d), week(d), quarter(d), extract(isodow FROM d) FROM facts",
        (),
    ),
    ("SELECT coalesce(g, name, 'none') AS c, nullif(k, 0) AS nk FROM facts", ()),
    ("SELECT lower(name), upper(g), length(name) FROM facts WHERE starts_with(name, 'ch')", ()),
    ("SELECT round(x, 1) AS r1, round(x) AS r0, round(price, 2) AS r2 FROM facts", ()),
    (
        "WITH big AS (SELECT * FROM facts WHERE price > 50), "
        "agg AS (SELECT g, count(*) AS n FROM big GROUP BY g) SELECT * FROM agg WHERE n > 5 ORDER BY g",
        (0,),
    ),
    (
        "SELECT s.g, s.total FROM (SELECT g, sum(x) AS total FROM facts GROUP BY g) AS s "
        "WHERE s.total > 0 ORDER BY s.total DESC",
        (1,),
    ),
    ("SELECT t2.a FROM (SELECT k AS a FROM facts) AS t2(a) WHERE t2.a > 5", ()),
    ("SELECT avg(n) FROM (SELECT k, count(*) AS n FROM facts GROUP BY k) sub", ()),
    (
        "SELECT g FROM facts WHERE k = 1 UNION ALL SELECT name FROM facts WHERE k = 2 "
        "UNION ALL SELECT 'literal' FROM facts WHERE k = 3",
        (),
    ),
    ("SELECT k FROM facts WHERE g = 'a' UNION SELECT q FROM facts ORDER BY 1 DESC LIMIT 5", (0,)),
    (
        "(SELECT id FROM facts ORDER BY id LIMIT 3) UNION ALL (SELECT id FROM facts ORDER BY id DESC LIMIT 2)",
        (),
    ),
    ("SELECT stddev_samp(x), stddev_pop(x), var_samp(price), var_pop(price) FROM facts", ()),
    ("SELECT g, stddev(y), variance(y) FROM facts GROUP BY g", ()),
    ("SELECT min(flag), max(flag), min(ts), max(name) FROM facts", ()),
    ("SELECT sum(k * 1.5) AS s, avg(q * 0.25) AS a FROM facts", ()),
    (
        "SELECT x, price FROM facts WHERE x > 12.5 AND price <= 40.25 ORDER BY x, price LIMIT 20",
        (0, 1),
    ),
    (
        "SELECT k, sum(x) / count(*) AS mean, max(y) - min(y) AS spread FROM facts GROUP BY k "
        "HAVING sum(x) / count(*) > 10 ORDER BY spread DESC, k",
        (2, 0),
    ),
    ("SELECT g AS grp, sum(q) AS s FROM facts GROUP BY grp ORDER BY s + 1, grp", (1, 0)),
    ("SELECT id, x FROM facts WHERE flag ORDER BY x NULLS FIRST, id LIMIT 15", (0, 1)),
    ("SELECT IF(x > 0, 'pos', 'neg') AS sign, count(*) FROM facts GROUP BY 1", ()),
    ("SELECT 1 AS one FROM facts HAVING 1 = 1", ()),
    (
        "SELECT d + INTERVAL 1 DAY AS a, ts - INTERVAL 90 MINUTE AS b, tsz + INTERVAL '2' HOUR AS c FROM facts",
        (),
    ),
    (
        "SELECT id FROM facts WHERE ts >= d + INTERVAL 400 DAY AND d - INTERVAL 1 WEEK > DATE '2020-03-01'",
        (),
    ),
    ("SELECT count(*) + 1 AS n FROM facts GROUP BY ()", ()),
    ("SELECT id FROM facts ORDER BY id LIMIT ALL OFFSET 5990", (0,)),
    ("SELECT k IS DISTINCT FROM q AS a, k IS NOT DISTINCT FROM q AS b FROM facts", ()),
    (
        "SELECT tsz, extract(hour FROM tsz), date_trunc('day', tsz) FROM facts WHERE tsz < TIMESTAMP '2021-06-01 12:00:00'",
        (),
    ),
    ("SELECT date_trunc('month', tsz) AS m, count(*), min(tsz), max(ts) FROM facts GROUP BY 1", ()),
    (
        "SELECT id FROM facts WHERE tsz >= TIMESTAMPTZ '2021-03-01 00:00:00+00' AND tsz < TIMESTAMPTZ '2021-03-02 00:00:00+00'",
        (),
    ),
]


#: Queries whose right answer has no rows (the feature is the empty answer itself); every
#: other one must answer with rows, or agreeing with DuckDB would prove little.
EMPTY_ANSWERS = {
    "SELECT id FROM facts ORDER BY id LIMIT 0",
    "SELECT k, count(*) FROM facts WHERE y > 100000 GROUP BY k",
    "SELECT id FROM facts WHERE k NOT IN (1, NULL)",
}


@pytest.mark.parametrize(("sql", "order_columns"), FEATURE_QUERIES)
def test_feature_query_matches_duckdb(oracle, sql: str, order_columns: tuple[int, ...]) -> None:
    ours = oracle.check(sql, order_columns)
    assert (ours.num_rows == 0) == (sql in EMPTY_ANSWERS), f"{ours.num_rows} rows: {sql}"


def test_approx_count_distinct_is_close_to_exact(oracle) -> None:
    sql = (
        "SELECT g, approx_count_distinct(name) AS a, count(DISTINCT name) AS e "
        "FROM facts GROUP BY g ORDER BY g NULLS FIRST"
    )
    ours, exact_counts = oracle.ours(sql), oracle.duckdb(sql)
    assert ours.column("g").to_pylist() == exact_counts.column("g").to_pylist()
    for approx, exact in zip(
        ours.column("a").to_pylist(), exact_counts.column("e").to_pylist(), strict=True
    ):
        assert abs(approx - exact) <= max(2, 0.05 * exact), (approx, exact)


def test_approx_quantile_is_within_rank_error(oracle) -> None:
    ours = oracle.ours(
        "SELECT approx_quantile(x, 0.5) AS m, approx_quantile(y, 0.9) AS p FROM facts"
    )
    lo_hi = oracle.duckdb(
        "SELECT quantile_cont(x, 0.47), quantile_cont(x, 0.53), "
        "quantile_cont(y, 0.87), quantile_cont(y, 0.93) FROM facts"
    ).to_pylist()[0]
    bounds = list(lo_hi.values())
    median, p90 = ours.column("m")[0].as_py(), ours.column("p")[0].as_py()
    assert bounds[0] <= median <= bounds[1], (median, bounds)
    assert bounds[2] <= p90 <= bounds[3], (p90, bounds)
