"""Window functions against DuckDB: ranking, offsets, frame aggregates over ROWS and
RANGE frames, windows over groups, QUALIFY, named windows; a generated sweep of
function x partition x order x frame; where a window runs; and what is refused.

ROWS frames and order-sensitive functions order by a unique tail (``id``) so the
answer is defined; RANGE frames and peer-based functions keep ties on purpose.
"""

from __future__ import annotations

import random

import pytest

from hasivu_compute._core.errors import BindError, InvalidDataError, UnsupportedSQLError
from hasivu_compute.exec import prepare
from hasivu_compute.plan.render import render
from hasivu_compute.sql import to_plan

WINDOW_QUERIES: list[str] = [
    "SELECT id, row_number() OVER (PARTITION BY g ORDER BY x, id) AS rn FROM facts",
    "SELECT id, rank() OVER (PARTITION BY g ORDER BY k) AS r, dense_rank() OVER "
    "(PARTITION BY g ORDER BY k) AS dr FROM facts",
    "SELECT id, rank() OVER (ORDER BY k DESC NULLS FIRST) AS r FROM facts",
    "SELECT id, percent_rank() OVER (PARTITION BY g ORDER BY k) AS p, cume_dist() OVER "
    "(PARTITION BY g ORDER BY k) AS c FROM facts",
    "SELECT id, ntile(4) OVER (ORDER BY id) AS t4, ntile(7) OVER (PARTITION BY k ORDER BY id) "
    "AS t7 FROM facts",
    "SELECT id, ntile(100) OVER (PARTITION BY name ORDER BY id) AS t FROM facts",
    "SELECT id, lag(x) OVER (PARTITION BY g ORDER BY id) AS l1, lag(x, 3) OVER "
    "(PARTITION BY g ORDER BY id) AS l3, lead(y, 2, -1) OVER (PARTITION BY g ORDER BY id) "
    "AS ld FROM facts",
    "SELECT id, lag(name, 0) OVER (ORDER BY id) AS same FROM facts",
    # a default of another type takes the value's type, as a CAST would (2.5 -> 3)
    "SELECT id, lag(x, 1, 0) OVER (ORDER BY id) AS l, lag(q, 1, 2.5) OVER (ORDER BY id) AS lq, "
    "lead(name, 2, 'none') OVER (PARTITION BY g ORDER BY id) AS ln, sum(1) OVER "
    "(PARTITION BY g) AS n FROM facts",
    "SELECT id, sum(y) OVER (PARTITION BY g ORDER BY d) AS running FROM facts",
    "SELECT id, sum(y) OVER (PARTITION BY g) AS total, count(*) OVER (PARTITION BY g) AS n, "
    "count(x) OVER (PARTITION BY g) AS nx FROM facts",
    "SELECT id, avg(x) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 2 PRECEDING AND "
    "2 FOLLOWING) AS moving FROM facts",
    "SELECT id, sum(x) OVER (ORDER BY id ROWS 3 PRECEDING) AS s FROM facts",
    "SELECT id, min(x) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 5 PRECEDING AND "
    "1 PRECEDING) AS lo, max(x) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 1 FOLLOWING "
    "AND 4 FOLLOWING) AS hi FROM facts",
    "SELECT id, max(name) OVER (PARTITION BY g ORDER BY id) AS m, min(d) OVER "
    "(PARTITION BY k ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS md "
    "FROM facts",
    "SELECT id, sum(x) OVER (PARTITION BY g ORDER BY d RANGE BETWEEN INTERVAL 30 DAYS "
    "PRECEDING AND CURRENT ROW) AS month FROM facts",
    "SELECT id, count(*) OVER (ORDER BY y RANGE BETWEEN 10 PRECEDING AND 5 FOLLOWING) AS c "
    "FROM facts",
    "SELECT id, sum(q) OVER (PARTITION BY g ORDER BY y DESC RANGE BETWEEN 20 PRECEDING AND "
    "10 FOLLOWING) AS s FROM facts",
    "SELECT id, count(*) OVER (PARTITION BY g ORDER BY ts RANGE BETWEEN INTERVAL 2 HOURS "
    "PRECEDING AND INTERVAL 1 DAY FOLLOWING) AS near FROM facts",
    "SELECT id, avg(price) OVER (ORDER BY x RANGE BETWEEN 2.5 PRECEDING AND 2.5 FOLLOWING) "
    "AS a FROM facts",
    "SELECT id, sum(y) OVER (PARTITION BY g ORDER BY k RANGE BETWEEN CURRENT ROW AND "
    "UNBOUNDED FOLLOWING) AS rest FROM facts",
    "SELECT id, first_value(x) OVER (PARTITION BY g ORDER BY id) AS f, last_value(x) OVER "
    "(PARTITION BY g ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) "
    "AS l, nth_value(name, 3) OVER (PARTITION BY g ORDER BY id) AS third FROM facts",
    "SELECT id, first_value(name) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 1 FOLLOWING "
    "AND 2 FOLLOWING) AS nxt FROM facts",
    # windows over groups: arguments, partitions and orders may use aggregates and keys
    "SELECT g, sum(y) AS t, rank() OVER (ORDER BY sum(y) DESC) AS r FROM facts GROUP BY g",
    "SELECT g, k, count(*) AS n, sum(count(*)) OVER (PARTITION BY g) AS per_g, "
    "row_number() OVER (PARTITION BY g ORDER BY count(*) DESC, k) AS rn FROM facts "
    "GROUP BY g, k",
    "SELECT d, sum(price) AS rev, avg(sum(price)) OVER (ORDER BY d ROWS BETWEEN 6 PRECEDING "
    "AND CURRENT ROW) AS week_avg FROM facts WHERE d IS NOT NULL GROUP BY d",
    "SELECT g, max(x) AS m, lag(max(x)) OVER (ORDER BY g) AS prev FROM facts GROUP BY g "
    "HAVING count(*) > 10",
    # QUALIFY, named windows, windows in ORDER BY, DISTINCT over windows
    "SELECT id, k FROM facts QUALIFY row_number() OVER (PARTITION BY k ORDER BY id) = 1",
    "SELECT id, g, x, rank() OVER (PARTITION BY g ORDER BY x DESC) AS r FROM facts "
    "WHERE x IS NOT NULL QUALIFY r <= 3",
    "SELECT id, lag(x, 2, 0) OVER w AS l, lead(x) OVER w AS ld, sum(x) OVER "
    "(w ROWS 1 PRECEDING) AS pair FROM facts WINDOW w AS (PARTITION BY g ORDER BY id)",
    "SELECT id, count(*) OVER w2 AS c FROM facts WINDOW w1 AS (PARTITION BY g), "
    "w2 AS (w1 ORDER BY k)",
    "SELECT id FROM facts ORDER BY row_number() OVER (PARTITION BY g ORDER BY id DESC), id "
    "LIMIT 30",
    "SELECT DISTINCT g, count(*) OVER (PARTITION BY g) AS n FROM facts",
    # empty input, one row per partition, all-NULL frames
    "SELECT id, sum(x) OVER (ORDER BY id) AS s FROM facts WHERE id < 0",
    "SELECT id, sum(x) OVER (PARTITION BY id) AS s, lag(x) OVER (PARTITION BY id ORDER BY id) "
    "AS l FROM facts WHERE id < 50",
    "SELECT id, avg(x) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 1 PRECEDING AND "
    "1 PRECEDING) AS prev FROM facts WHERE x IS NULL",
    # over joins, subqueries, CTEs and unions
    "SELECT f.id AS id, d.label AS label, row_number() OVER (PARTITION BY d.label ORDER BY "
    "f.id) AS rn FROM facts f JOIN dims d ON f.k = d.k",
    "WITH s AS (SELECT g, k, sum(y) AS t FROM facts GROUP BY g, k) SELECT g, k, t, "
    "t - lag(t) OVER (PARTITION BY g ORDER BY k) AS change FROM s",
    "SELECT * FROM (SELECT id, g, sum(y) OVER (PARTITION BY g ORDER BY id) AS s FROM facts) "
    "WHERE g = 'b' AND s > 0",
    "SELECT id, rank() OVER (ORDER BY v) AS r FROM (SELECT id, k AS v FROM facts UNION ALL "
    "SELECT -k AS id, k AS v FROM dims)",
    # exact integer sums near the int64 edge are checked in test_edge_values; here: booleans
    "SELECT id, count(flag) OVER (PARTITION BY g ORDER BY id) AS nf, max(flag) OVER "
    "(PARTITION BY g) AS anyf FROM facts",
]


@pytest.mark.parametrize("sql", WINDOW_QUERIES)
def test_window_query_matches_duckdb(oracle, sql: str) -> None:
    oracle.check(sql)


# --- a generated sweep --------------------------------------------------------------

_RANKING = ["row_number()", "rank()", "dense_rank()", "percent_rank()", "cume_dist()", "ntile(3)"]
_VALUES = ["lag(x)", "lead(y, 2)", "lag(name, 1, 'none')", "first_value(x)", "last_value(y)"]
_AGGREGATES = ["sum(y)", "sum(x)", "avg(x)", "count(*)", "count(x)", "min(x)", "max(name)"]
_PARTITIONS = ["", "PARTITION BY g", "PARTITION BY k", "PARTITION BY g, flag", "PARTITION BY q"]
_ROWS_FRAMES = [
    "",
    "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
    "ROWS BETWEEN 1 PRECEDING AND 3 FOLLOWING",
    "ROWS BETWEEN UNBOUNDED PRECEDING AND 2 FOLLOWING",
    "ROWS BETWEEN 2 FOLLOWING AND UNBOUNDED FOLLOWING",
    "ROWS BETWEEN 4 PRECEDING AND 2 PRECEDING",
    "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
]
_RANGE_FRAMES = [
    "RANGE BETWEEN 3 PRECEDING AND CURRENT ROW",
    "RANGE BETWEEN 2 PRECEDING AND 2 FOLLOWING",
    "RANGE BETWEEN CURRENT ROW AND 5 FOLLOWING",
    "RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING",
    "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
]
_SEED = 20261207
GENERATED_COUNT = 160


def generated_windows(count: int = GENERATED_COUNT, seed: int = _SEED) -> list[str]:
    """Window queries over ``facts``: defined answers only (see the module docstring)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        partition = rng.choice(_PARTITIONS)
        direction = rng.choice(["", " DESC", " NULLS FIRST", " DESC NULLS LAST"])
        kind = rng.random()
        if kind < 0.25:
            fn = rng.choice(_RANKING)
            peers = fn in ("rank()", "dense_rank()", "percent_rank()", "cume_dist()")
            order = f"ORDER BY k{direction}" + ("" if peers else ", id")
            frame = ""
        elif kind < 0.45:
            fn, order, frame = rng.choice(_VALUES), f"ORDER BY y{direction}, id", ""
        elif kind < 0.8:
            fn, order = rng.choice(_AGGREGATES), f"ORDER BY q{direction}, id"
            frame = rng.choice(_ROWS_FRAMES)
            if rng.random() < 0.15:
                order, frame = "", ""
        else:
            fn, order = rng.choice(_AGGREGATES), f"ORDER BY k{direction}"
            frame = rng.choice(_RANGE_FRAMES)
        spec = " ".join(p for p in (partition, order, frame) if p)
        where = rng.choice(["", " WHERE x > 20", " WHERE g IN ('a', 'c', '')", " WHERE id % 7 = 0"])
        out.append(f"SELECT id, {fn} OVER ({spec}) AS w FROM facts{where}")
    return out


GENERATED_WINDOWS = generated_windows()


@pytest.mark.parametrize("index", range(GENERATED_COUNT))
def test_generated_window_matches_duckdb(oracle, index: int) -> None:
    oracle.check(GENERATED_WINDOWS[index])


def test_generated_windows_cover_every_function_and_frame() -> None:
    text = "\n".join(GENERATED_WINDOWS)
    for part in _RANKING + _VALUES + _AGGREGATES + _ROWS_FRAMES[1:] + _RANGE_FRAMES:
        assert part in text, part


# --- where the window runs -------------------------------------------------------------


def _physical(oracle, sql: str):
    return prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).physical


def test_window_partitioned_by_the_table_partition_runs_in_the_fragments(oracle) -> None:
    # facts is partitioned by g: each fragment holds whole g partitions
    physical = _physical(
        oracle, "SELECT id, row_number() OVER (PARTITION BY g, k ORDER BY id) AS rn FROM facts"
    )
    assert "Window" in render(physical.fragments[0].pipeline)
    assert "Window" not in render(physical.merge)
    assert all(f.whole_partitions for f in physical.fragments)


def test_window_across_table_partitions_runs_after_the_gather(oracle) -> None:
    physical = _physical(
        oracle, "SELECT id, row_number() OVER (PARTITION BY k ORDER BY id) AS rn FROM facts"
    )
    assert "Window" not in render(physical.fragments[0].pipeline)
    assert "Window" in render(physical.merge)


def test_filter_on_partition_keys_moves_below_the_window(oracle) -> None:
    sql = (
        "SELECT * FROM (SELECT id, k, sum(y) OVER (PARTITION BY k ORDER BY id) AS s "
        "FROM facts) WHERE k = 3 AND s > 0"
    )
    physical = _physical(oracle, sql)
    assert "filter=(k = 3)" in render(physical.fragments[0].pipeline)
    assert "Filter (__win_0 > 0)" in render(physical.merge)
    oracle.check(sql)


# --- refused, with the reason ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "error", "words"),
    [
        ("SELECT id FROM facts WHERE row_number() OVER () > 3", UnsupportedSQLError, "QUALIFY"),
        (
            "SELECT k, count(*) FROM facts GROUP BY k, row_number() OVER ()",
            UnsupportedSQLError,
            "window function",
        ),
        (
            "SELECT sum(row_number() OVER ()) OVER () FROM facts",
            BindError,
            "cannot be nested",
        ),
        (
            "SELECT sum(x) OVER (ORDER BY k, id RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) "
            "FROM facts",
            BindError,
            "exactly one ORDER BY key",
        ),
        (
            "SELECT sum(x) OVER (ORDER BY name RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) "
            "FROM facts",
            BindError,
            "numeric or date",
        ),
        (
            "SELECT first_value(x IGNORE NULLS) OVER (ORDER BY id) FROM facts",
            UnsupportedSQLError,
            "IGNORE NULLS",
        ),
        (
            "SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING "
            "EXCLUDE CURRENT ROW) FROM facts",
            UnsupportedSQLError,
            "EXCLUDE",
        ),
        (
            "SELECT sum(x) OVER (ORDER BY id GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) "
            "FROM facts",
            UnsupportedSQLError,
            "GROUPS",
        ),
        ("SELECT count(DISTINCT k) OVER () FROM facts", UnsupportedSQLError, "DISTINCT"),
        ("SELECT stddev(x) OVER () FROM facts", UnsupportedSQLError, "stddev"),
        ("SELECT lag(x, k) OVER (ORDER BY id) FROM facts", BindError, "integer constant"),
        ("SELECT ntile(0) OVER (ORDER BY id) FROM facts", BindError, "number of buckets"),
        (
            "SELECT lag(q, 1, 70000) OVER (ORDER BY id) FROM facts",
            InvalidDataError,
            "out of range for int16",
        ),
        ("SELECT rank(x) OVER (ORDER BY id) FROM facts", UnsupportedSQLError, "rank"),
        ("SELECT sum(x) OVER w FROM facts", BindError, "'w' is not defined"),
        (
            "SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 1 PRECEDING) FROM facts",
            BindError,
            "starts after it ends",
        ),
    ],
)
def test_unsupported_window_is_refused_with_the_reason(oracle, sql, error, words) -> None:
    with pytest.raises(error) as caught:
        oracle.ours(sql)
    assert words in str(caught.value), str(caught.value)
