"""The string, calendar and comparison functions against DuckDB.

An edge table ``e`` holds what breaks such functions: NULLs, empty strings, code
points that are not one byte (accents, a combining accent, an emoji with a skin-tone
modifier), separators next to each other, LIKE wildcards and backslashes in the
data, month ends and leap days, dates before 1970, fractional seconds, NaN, the
infinities and -0.0. It is partitioned and appended in pieces, so every query runs
over several fragments. The ``facts`` table of the suite adds volume.

Every function is also checked in WHERE (where a call may be pushed into Acero),
as a group key, on constants (folded at plan time, SELECT without FROM) and in a
seeded sweep of arguments (widths, positions and indexes from -6 to 6, every
date_diff unit over 300 random pairs of dates and timestamps).
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from compare import difference

from hasivu_compute._core.errors import (
    BindError,
    InvalidDataError,
    ParseError,
    UnsupportedSQLError,
)
from hasivu_compute.exec import execute
from hasivu_compute.sql import to_plan
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog

D = decimal.Decimal
NAN, INF = float("nan"), float("inf")

STRINGS = [
    "abc", "", None, "héllo", "e\u0301x", "👍🏽a", "a,b,,c", "a::b::c", "A%b", "x_y",
    "back\\slash", "ABA", "aaa", "line\nbreak", " pad ", "fig%_1",
]  # fmt: skip
DATES = [
    dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2023, 1, 31), dt.date(2020, 12, 31),
    dt.date(1969, 12, 31), dt.date(2000, 2, 29), dt.date(2021, 3, 31), None,
    dt.date(2024, 12, 31), dt.date(1900, 2, 28), dt.date(2023, 5, 31), dt.date(2022, 8, 31),
    dt.date(2024, 3, 1), dt.date(1999, 12, 31), dt.date(2021, 10, 31), dt.date(2023, 2, 28),
]  # fmt: skip
TIMES = [
    dt.datetime(2024, 1, 31, 23, 59, 59, 999999), dt.datetime(2024, 2, 29, 12, 0, 0, 5),
    None, dt.datetime(1969, 12, 31, 23, 30, 0, 250000), dt.datetime(2020, 12, 31, 0, 0),
    dt.datetime(2023, 1, 1, 0, 0, 0, 1), dt.datetime(2000, 2, 29, 6, 7, 8, 90000),
    dt.datetime(2021, 3, 31, 13, 14, 15), dt.datetime(2024, 12, 31, 23, 0),
    dt.datetime(1900, 3, 1, 1, 2, 3), dt.datetime(2023, 5, 31, 11, 59, 59, 500000),
    dt.datetime(2022, 8, 31, 18, 45), dt.datetime(2024, 3, 1, 0, 0), None,
    dt.datetime(2021, 10, 31, 2, 30), dt.datetime(2023, 2, 28, 22, 22, 22, 222222),
]  # fmt: skip
FLOATS = [1.5, NAN, INF, -INF, -0.0, None, 2.0, 0.0, -3.25, NAN, 1e300, 7.0, None, 0.5, -1.0, 3.0]
INTS = [1, -2, 0, None, 5, 100, -100, 7, 3, None, 127, 128, -129, 32767, 2, 40000]
GROUPS = ["p", "q", "r", "p"] * 4


def edge_table() -> pa.Table:
    n = len(STRINGS)
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "g": pa.array(GROUPS, pa.string()),
            "s": pa.array(STRINGS, pa.string()),
            "n": pa.array(INTS, pa.int32()),
            "x": pa.array(FLOATS, pa.float64()),
            "m": pa.array(
                [D(str(v)) if v is not None else None for v in INTS], pa.decimal128(10, 2)
            ),
            "d": pa.array(DATES, pa.date32()),
            "ts": pa.array(TIMES, pa.timestamp("us")),
            "tsz": pa.array(
                [None if t is None else t.replace(tzinfo=dt.UTC) for t in TIMES[::-1]],
                pa.timestamp("us", tz="UTC"),
            ),
            "flag": pa.array([i % 3 == 0 if i % 5 else None for i in range(n)], pa.bool_()),
        }
    )


class EdgeOracle:
    def __init__(self, root: Path) -> None:
        self.data = edge_table()
        self.catalog = Catalog(FileIO.from_uri(str(root)))
        table = self.catalog.create_table("e", self.data.schema, partition_by=[("g", "identity")])
        for start in range(0, self.data.num_rows, 5):
            table.append(self.data.slice(start, 5))
        self.duck = duckdb.connect()
        self.duck.sql("SET TimeZone = 'UTC'")
        self.duck.register("e", self.data)
        self.schemas = {"e": self.data.schema}

    def ours(self, sql: str) -> pa.Table:
        return execute(to_plan(sql, schema=self.schemas), self.catalog)

    def check(self, sql: str, order: tuple[int, ...] = ()) -> pa.Table:
        expected = self.duck.sql(sql).to_arrow_table()
        actual = self.ours(sql)
        problem = difference(actual, expected, order)
        assert problem is None, f"{problem}\nSQL: {sql}"
        return actual


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> EdgeOracle:
    return EdgeOracle(tmp_path_factory.mktemp("functions_more"))


# --- each function, column by column ---------------------------------------------------------

CALLS = [
    # concatenation: concat treats NULL as '', || gives NULL
    "concat(s, '|', g)", "concat(s)", "concat(NULL, s, NULL)", "concat(s, n, d, flag, m)",
    "s || '|' || g", "s || NULL", "n || '-' || d", "concat(s, n) = s || n",
    # replace, left, right
    "replace(s, 'a', 'XY')", "replace(s, '', 'X')", "replace(s, ',', '')", "replace(s, 'a', NULL)",
    "replace(s, 'é', 'e')", "replace(s, '\\', '/')",
    "left(s, 2)", "left(s, 0)", "left(s, -1)", "left(s, -20)", "left(s, 20)", "left(s, NULL)",
    "right(s, 2)", "right(s, 0)", "right(s, -1)", "right(s, -20)", "right(s, 20)",
    # padding: cut to the width first, fill repeated; multi-byte fills
    "lpad(s, 6, 'xy')", "rpad(s, 6, 'xy')", "lpad(s, 2, '*')", "rpad(s, 0, '*')",
    "lpad(s, -1, '*')", "lpad(s, 7, 'é👍')", "rpad(s, 9, 'ab')", "lpad(s, NULL, 'x')",
    "lpad(s, 3, NULL)",
    # split_part: 1-based, negative from the end, 0 / out of range is ''
    "split_part(s, ',', 1)", "split_part(s, ',', 3)", "split_part(s, ',', -1)",
    "split_part(s, ',', -4)", "split_part(s, ',', 0)", "split_part(s, ',', 9)",
    "split_part(s, '::', 2)", "split_part(s, 'a', 2)", "split_part(s, '', 2)",
    "split_part(s, '', -1)", "split_part(s, NULL, 1)",
    # regular expressions (RE2 in both)
    "regexp_matches(s, 'a')", "regexp_matches(s, '^a.c$')", "regexp_matches(s, 'A', 'i')",
    "regexp_matches(s, 'line.break')", "regexp_matches(s, 'line.break', 's')",
    "regexp_matches(s, '')", "regexp_matches(s, '\\\\')", "regexp_matches(s, NULL)",
    "regexp_replace(s, 'a', '_')", "regexp_replace(s, 'a', '_', 'g')",
    "regexp_replace(s, '(a)(b)?', '<\\2\\1>', 'g')", "regexp_replace(s, 'A', 'z', 'gi')",
    "regexp_replace(s, '', '-', 'g')", "regexp_replace(s, '.', '.', 'g')",
    "regexp_replace(s, '[[:punct:]]', '')",
    # comparisons and NaN
    "greatest(n, 3)", "least(n, 3, -50)", "greatest(x, 1.0)", "least(x, 1.0)", "greatest(x, n)",
    "least(n, m)", "greatest(m, 2.5)", "greatest(s, 'b')", "least(s, g)", "greatest(d, ts)",
    "least(ts, tsz)", "greatest(flag, false)", "least(NULL, n)", "greatest(n)",
    "isnan(x)", "isnan(n)", "isnan(m)", "isnan(NULL)",
    # TRY_CAST: NULL where the value does not fit
    "TRY_CAST(n AS TINYINT)", "TRY_CAST(n AS UTINYINT)", "TRY_CAST(x AS INTEGER)",
    "TRY_CAST(x AS SMALLINT)", "TRY_CAST(m AS DECIMAL(4,1))", "TRY_CAST(n * 1000 AS SMALLINT)",
    "TRY_CAST(ts AS DATE)", "TRY_CAST(d AS TIMESTAMP)", "TRY_CAST(x AS DECIMAL(5,2))",
    "TRY_CAST(NULL AS INTEGER)", "TRY_CAST(n AS VARCHAR)",
]  # fmt: skip

DATE_CALLS = [
    # months and years on columns: clamped to the month's end, a TIMESTAMP
    "d + INTERVAL 1 MONTH", "d - INTERVAL 1 MONTH", "d + INTERVAL 13 MONTH",
    "d - INTERVAL '2 years'", "INTERVAL 3 MONTH + d", "ts + INTERVAL 1 MONTH",
    "ts - INTERVAL 14 MONTH", "tsz + INTERVAL 1 YEAR", "d + INTERVAL 0 MONTH",
    "d + INTERVAL 1 MONTH + INTERVAL 1 MONTH", "(d + INTERVAL 1 MONTH) - INTERVAL 1 DAY",
    # date_diff counts boundaries crossed
    "date_diff('day', d, ts)", "date_diff('month', d, ts)", "date_diff('year', ts, d)",
    "date_diff('quarter', d, DATE '2024-02-29')", "date_diff('week', d, ts)",
    "date_diff('hour', ts, tsz)", "date_diff('minute', tsz, ts)", "date_diff('second', ts, tsz)",
    "date_diff('millisecond', ts, tsz)", "date_diff('microsecond', ts, tsz)",
    "datediff('days', d, DATE '2024-03-01')", "date_diff('mon', d, ts)", "date_diff('y', d, ts)",
    "date_diff(NULL, d, ts)", "date_diff('DAY', d, d)",
    # date_part is extract
    "date_part('year', d)", "date_part('month', ts)", "datepart('dow', tsz)",
    "date_part('doy', d)", "date_part('hour', ts)", "date_part('isodow', d)",
    "date_part('epoch', ts)", "date_part('quarter', d)", "date_part('week', d)",
    "date_part('years', d)",
    # strftime: DuckDB's codes, unpadded ones and fractions
    "strftime(d, '%Y-%m-%d')", "strftime(ts, '%Y-%m-%d %H:%M:%S')", "strftime(ts, '%c')",
    "strftime(ts, '%x %X')", "strftime(ts, '%-d/%-m/%-y %-H:%-M:%-S')", "strftime(ts, '%f %g %n')",
    "strftime(tsz, '%a %A %b %B %h %j %-j')", "strftime(d, '%U %W %V %G %u %w')",
    "strftime(ts, '%I %-I %p %%')", "strftime(d, 'no codes')",
    "strftime(d, NULL)", "strftime(ts, 'at %H:%M on %d.%m.%Y')",
]  # fmt: skip


@pytest.mark.parametrize("call", CALLS)
def test_function_matches_duckdb(edge: EdgeOracle, call: str) -> None:
    edge.check(f"SELECT id, {call} AS v FROM e")


@pytest.mark.parametrize("call", DATE_CALLS)
def test_calendar_function_matches_duckdb(edge: EdgeOracle, call: str) -> None:
    edge.check(f"SELECT id, {call} AS v FROM e")


# --- in WHERE (Acero push-down), as group keys, over the bigger facts table ----------------

FILTERS = [
    "regexp_matches(s, 'a')", "NOT regexp_matches(s, '^[a-z]+$')", "concat(s, 'x') = 'abcx'",
    "s || g = 'abcp'", "left(s, 1) = 'a'", "right(s, 1) IN ('c', 'a')", "replace(s, 'a', '') = 'b'",
    "greatest(n, 0) > 2", "least(x, 2.0) < 2.0", "isnan(x)", "NOT isnan(x)",
    "s LIKE 'A!%%' ESCAPE '!'", "s LIKE '%!_%' ESCAPE '!'", "s NOT LIKE '%\\%' ESCAPE '\\'",
    "s ILIKE 'a!%B' ESCAPE '!'", "s LIKE 'fig#%#_1' ESCAPE '#'", "s LIKE 'back\\slash' ESCAPE '!'",
    "s LIKE 'a' ESCAPE ''", "date_diff('month', d, DATE '2024-03-01') < 2",
    "d + INTERVAL 1 MONTH > TIMESTAMP '2024-02-28 00:00:00'", "split_part(s, ',', 2) = 'b'",
    "TRY_CAST(n AS TINYINT) IS NULL", "lpad(s, 3, '-') = '-ab'",
    "CASE WHEN regexp_matches(s, 'b') THEN left(s, 1) END = 'a'",
]  # fmt: skip


@pytest.mark.parametrize("condition", FILTERS)
def test_function_in_a_filter_matches_duckdb(edge: EdgeOracle, condition: str) -> None:
    edge.check(f"SELECT id FROM e WHERE {condition}")


def test_function_as_a_group_key(edge: EdgeOracle) -> None:
    edge.check(
        "SELECT date_diff('year', d, DATE '2024-12-31') AS y, left(g, 1) AS p, count(*) AS c "
        "FROM e GROUP BY 1, 2"
    )
    edge.check(
        "SELECT strftime(d, '%Y') AS y, greatest(n, 0) AS k, count(*) AS c FROM e GROUP BY ALL"
    )


FACTS_CALLS = [
    "concat(name, '/', g, '/', k)", "name || g", "lpad(name, 12, '.-')", "rpad(g, 3, 'é')",
    "split_part(name, '_', -1)", "regexp_replace(name, '[aeiou]+', '*', 'g')",
    "left(name, -3)", "right(g, 1)", "replace(name, 'an', '')",
    "strftime(ts, '%Y-%m-%d %H:%M:%S.%f')", "date_diff('week', d, ts)", "date_diff('month', ts, tsz)",
    "d + INTERVAL 1 MONTH", "ts - INTERVAL 11 MONTH", "greatest(k, q, y)", "least(x, price)",
    "isnan(x)", "TRY_CAST(y AS TINYINT)", "date_part('quarter', tsz)",
]  # fmt: skip


@pytest.mark.parametrize("call", FACTS_CALLS)
def test_function_over_facts_matches_duckdb(oracle, call: str) -> None:  # type: ignore[no-untyped-def]
    oracle.check(f"SELECT id, {call} AS v FROM facts")


def test_functions_in_filters_and_group_keys_over_facts(oracle) -> None:  # type: ignore[no-untyped-def]
    oracle.check(
        "SELECT split_part(name, '_', 1) AS fruit, date_diff('quarter', d, DATE '2023-01-01') AS q, "
        "count(*) AS n FROM facts WHERE regexp_matches(name, '^[a-c]') AND name NOT LIKE "
        "'fig!%%' ESCAPE '!' GROUP BY 1, 2"
    )
    oracle.check("SELECT id FROM facts WHERE ts + INTERVAL 1 MONTH < d + INTERVAL 2 YEAR")


# --- constants: folded at plan time, and SELECT without FROM ----------------------------------

CONSTANT_QUERIES = [
    "SELECT 1 + 2 AS x",
    "SELECT 'a' || 'b' AS s, concat('x', NULL, 1) AS t, lpad('abc', 6, 'xy') AS u",
    "SELECT split_part('a,b,c', ',', -2) AS a, regexp_replace('aaa', 'a', 'b') AS b",
    "SELECT date_diff('month', DATE '2024-01-31', DATE '2024-02-01') AS m, "
    "strftime(DATE '2024-02-29', '%-d %B %Y') AS f",
    "SELECT greatest(1, NULL, 3) AS g, least(2.5e0, 1) AS l, isnan(0.0) AS n",
    "SELECT TRY_CAST(300 AS TINYINT) AS a, TRY_CAST(12 AS TINYINT) AS b",
    "SELECT DATE '2024-01-31' + INTERVAL 1 MONTH AS d",
    "SELECT count(*) AS n",
    "SELECT 1 AS a WHERE false",
    "SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a DESC",
    "SELECT x * 2 AS y FROM (SELECT 21 AS x)",
    "SELECT 'x' LIKE 'x' ESCAPE '!' AS a, 'a%' LIKE 'a!%' ESCAPE '!' AS b",
    "SELECT 5 AS v, sum(5) AS s, max('a') AS m",
]


@pytest.mark.parametrize("sql", CONSTANT_QUERIES)
def test_query_over_constants_matches_duckdb(edge: EdgeOracle, sql: str) -> None:
    edge.check(sql)


def test_select_without_from_joins_a_table(edge: EdgeOracle) -> None:
    edge.check("SELECT e.id, c.k FROM e, (SELECT 3 AS k) AS c WHERE e.n = c.k")
    edge.check("SELECT id FROM e WHERE n IN (SELECT 5)")


def test_current_date_is_todays_date_in_every_fragment(edge: EdgeOracle) -> None:
    today = dt.datetime.now(dt.UTC).date()
    ours = edge.ours(
        "SELECT current_date AS d, count(*) AS n, min(current_date) AS lo, "
        "max(current_date) AS hi FROM e"
    )
    assert ours.to_pylist() == [{"d": today, "n": 16, "lo": today, "hi": today}]
    edge.check("SELECT id FROM e WHERE d < current_date - INTERVAL 300 DAY")


def test_current_date_reads_the_given_clock_once() -> None:
    days = iter([dt.date(2024, 2, 29), dt.date(2024, 3, 1)])
    plan = to_plan("SELECT current_date AS a, current_date AS b", today=lambda: next(days))
    text = " ".join(str(e) for e in plan.exprs)  # type: ignore[attr-defined]
    assert text.count("2024-02-29") == 2 and "2024-03-01" not in text


# --- a seeded sweep of arguments -------------------------------------------------------------


def _sweep_calls(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    fills = ["x", "xy", "é", "👍🏽", "ab c"]
    seps = [",", "a", "::", "", "b", "é"]
    calls = []
    for _ in range(count):
        n = rng.randint(-6, 6)
        kind = rng.choice(["lpad", "rpad", "left", "right", "split_part", "substring"])
        if kind in ("lpad", "rpad"):
            calls.append(f"{kind}(s, {abs(n)}, '{rng.choice(fills)}')")
        elif kind == "split_part":
            calls.append(f"split_part(s, '{rng.choice(seps)}', {n})")
        elif kind == "substring":
            calls.append(f"substring(s, {n}, {abs(rng.randint(-6, 6))})")
        else:
            calls.append(f"{kind}(s, {n})")
    return calls


@pytest.mark.parametrize("seed", range(4))
def test_generated_string_calls_match_duckdb(edge: EdgeOracle, seed: int) -> None:
    calls = _sweep_calls(seed, 24)
    items = ", ".join(f"{c} AS c{i}" for i, c in enumerate(calls))
    edge.check(f"SELECT id, {items} FROM e")


@pytest.fixture(scope="module")
def pairs() -> tuple[duckdb.DuckDBPyConnection, Catalog, dict[str, pa.Schema]]:
    """300 random (date, timestamp) pairs spread over 1890..2060, one partition each run."""
    rng = random.Random(7)
    base = dt.datetime(1890, 1, 1)
    a = [base + dt.timedelta(seconds=rng.randint(0, 170 * 365 * 86400)) for _ in range(300)]
    b = [t + dt.timedelta(microseconds=rng.randint(-(10**14), 10**14)) for t in a]
    table = pa.table(
        {
            "a": pa.array([t.date() for t in a], pa.date32()),
            "b": pa.array(b, pa.timestamp("us")),
            "c": pa.array(
                [t.replace(microsecond=rng.randint(0, 999999)) for t in a], pa.timestamp("us")
            ),
        }
    )
    catalog = Catalog(FileIO.from_uri(str(Path(__import__("tempfile").mkdtemp()))))
    catalog.create_table("p", table.schema).append(table)
    duck = duckdb.connect()
    duck.register("p", table)
    return duck, catalog, {"p": table.schema}


UNITS = [
    "year",
    "quarter",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
    "microsecond",
]


@pytest.mark.parametrize("unit", UNITS)
def test_date_diff_sweep_matches_duckdb(pairs, unit: str) -> None:  # type: ignore[no-untyped-def]
    duck, catalog, schemas = pairs
    months = UNITS.index(unit) * 7 - 30
    shift = f"{'+' if months >= 0 else '-'} INTERVAL {abs(months)} MONTH"
    sql = (
        f"SELECT date_diff('{unit}', a, b) AS x, date_diff('{unit}', b, c) AS y, "
        f"date_diff('{unit}', c, a) AS z, a {shift} AS m, c {shift} AS n, "
        f"strftime(c, '%Y %j %U %W %V %G %-I %p %f') AS f FROM p"
    )
    problem = difference(
        execute(to_plan(sql, schema=schemas), catalog), duck.sql(sql).to_arrow_table()
    )
    assert problem is None, f"{problem}\nSQL: {sql}"


# --- bad input: a typed error naming the function ----------------------------------------------

BAD_CALLS = [
    ("SELECT left(n, 2) FROM e", BindError, "left"),
    ("SELECT lpad(s, 3) FROM e", BindError, "lpad"),
    ("SELECT concat(x, s) FROM e", BindError, "concat"),
    ("SELECT ts || s FROM e", BindError, "concat"),
    ("SELECT strftime(d, '%Q') FROM e", BindError, "strftime"),
    ("SELECT strftime(s, '%Y') FROM e", BindError, "strftime"),
    ("SELECT strftime(ts, '') FROM e", BindError, "strftime"),
    ("SELECT regexp_matches(s, '(') FROM e", BindError, "regexp_matches"),
    ("SELECT regexp_replace(s, 'a', '\\2') FROM e", BindError, "regexp_replace"),
    ("SELECT TRY_CAST(s AS INTEGER) FROM e", BindError, "TRY_CAST"),
    ("SELECT TRY_CAST(x AS VARCHAR) FROM e", BindError, "TRY_CAST"),
    ("SELECT isnan(s) FROM e", BindError, "isnan"),
    ("SELECT greatest(s, n) FROM e", BindError, "greatest"),
    ("SELECT least(s, d) FROM e", BindError, "least"),
    ("SELECT date_diff('day', s, d) FROM e", BindError, "date_diff"),
    ("SELECT date_part('year') FROM e", BindError, "date_part"),
    ("SELECT s LIKE 'a!' ESCAPE '!' FROM e", BindError, "escape"),
    ("SELECT s LIKE 'a' ESCAPE '!!' FROM e", BindError, "escape"),
    ("SELECT s + INTERVAL 1 MONTH FROM e", BindError, "INTERVAL"),
    ("SELECT left(s, n) FROM e", UnsupportedSQLError, "left()"),
    ("SELECT right(s, 1.5) FROM e", UnsupportedSQLError, "right()"),
    ("SELECT replace(s, g, 'x') FROM e", UnsupportedSQLError, "replace()"),
    ("SELECT rpad(s, 3, g) FROM e", UnsupportedSQLError, "rpad()"),
    ("SELECT regexp_matches(s, 'a', 'x') FROM e", UnsupportedSQLError, "regexp_matches()"),
    ("SELECT date_diff('dow', d, d) FROM e", UnsupportedSQLError, "date_diff()"),
    ("SELECT datepart(s, d) FROM e", UnsupportedSQLError, "datepart()"),
    ("SELECT concat_ws(',', s) FROM e", UnsupportedSQLError, "concat_ws()"),
]


#: Refused by us although DuckDB answers: the documented limitations (constant
#: arguments only; TRY_CAST from text; floats and timestamps as text; concat_ws).
LIMITATIONS = frozenset(
    {
        "SELECT concat(x, s) FROM e",
        "SELECT ts || s FROM e",
        "SELECT TRY_CAST(s AS INTEGER) FROM e",
        "SELECT TRY_CAST(x AS VARCHAR) FROM e",
        "SELECT left(s, n) FROM e",
        "SELECT replace(s, g, 'x') FROM e",
        "SELECT rpad(s, 3, g) FROM e",
        "SELECT date_diff('dow', d, d) FROM e",
        "SELECT concat_ws(',', s) FROM e",
    }
)


@pytest.mark.parametrize(("sql", "error", "name"), BAD_CALLS)
def test_bad_call_names_the_function(edge: EdgeOracle, sql: str, error: type, name: str) -> None:
    with pytest.raises(error) as info:
        edge.ours(sql)
    assert name.lower() in str(info.value).lower(), info.value
    assert isinstance(info.value, ValueError)
    if sql in LIMITATIONS:
        edge.duck.sql(sql).fetchall()  # DuckDB answers: a limitation of ours, listed above
    else:
        with pytest.raises(duckdb.Error):  # DuckDB refuses it too
            edge.duck.sql(sql).fetchall()


def test_lpad_with_an_empty_fill_fails_like_duckdb(edge: EdgeOracle) -> None:
    sql = "SELECT lpad(s, 4, '') FROM e"
    with pytest.raises(duckdb.InvalidInputException, match="Insufficient padding"):
        edge.duck.sql(sql).fetchall()
    with pytest.raises(InvalidDataError, match=r"(?i)insufficient padding in LPAD"):
        edge.ours(sql)
    edge.check("SELECT id, lpad(s, 0, '') AS v FROM e WHERE s = ''")


def test_a_non_constant_position_is_refused_at_its_place() -> None:
    with pytest.raises(UnsupportedSQLError) as info:
        to_plan("SELECT\n  split_part(s, ',', n) FROM e", schema={"e": ["s", "n"]})
    assert (info.value.line, info.value.col) == (2, 22), info.value
    assert "split_part() with a part index" in info.value.construct


def test_parse_errors_stay_parse_errors() -> None:
    with pytest.raises(ParseError):
        to_plan("SELECT s LIKE 'a' ESCAPE FROM e")
