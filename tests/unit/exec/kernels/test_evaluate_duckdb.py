"""Differential tests: our evaluation equals DuckDB's on the same Arrow data.

Random expressions are drawn together with their SQL text; both engines evaluate
them over a random table with NULLs. Either both fail (overflow, division by
zero, a bad cast) or both give the same values (floats within 1e-9).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import InvalidDataError
from hasivu_compute.exec import evaluate_column
from hasivu_compute.expr import Expr, bind, coalesce, col, lit, when

from ...expr.exprgen import Pair, boolean, numeric
from .conftest import tables, values_equal

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _ours(expr: Expr, table: pa.Table) -> list[object] | str:
    try:
        return evaluate_column(bind(expr, table.schema), table).to_pylist()
    except InvalidDataError:
        return "error"


def _duck(con: duckdb.DuckDBPyConnection, sql: str, table: pa.Table) -> list[object] | str:
    cur = con.cursor()
    try:
        cur.register("t", table)
        result = cur.sql(f"SELECT {sql} AS r FROM t").to_arrow_table()
    except (duckdb.OutOfRangeException, duckdb.InvalidInputException, duckdb.ConversionException):
        return "error"
    finally:
        cur.close()
    return result.column("r").to_pylist()


def _check(con: duckdb.DuckDBPyConnection, pair: Pair, table: pa.Table) -> None:
    expr, sql = pair
    ours, theirs = _ours(expr, table), _duck(con, sql, table)
    if isinstance(ours, str) or isinstance(theirs, str):
        assert ours == theirs, f"{sql}: ours={ours!r} duckdb={theirs!r}"
        return
    assert len(ours) == len(theirs)
    for row, (x, y) in enumerate(zip(ours, theirs, strict=True)):
        assert values_equal(x, y), f"{sql} row {row}: ours={x!r} duckdb={y!r}"


@SETTINGS
@given(table=tables(), pair=boolean())
def test_predicates_match_duckdb(
    duck: duckdb.DuckDBPyConnection, table: pa.Table, pair: Pair
) -> None:
    _check(duck, pair, table)


@SETTINGS
@given(table=tables(), pair=numeric())
def test_numeric_expressions_match_duckdb(
    duck: duckdb.DuckDBPyConnection, table: pa.Table, pair: Pair
) -> None:
    _check(duck, pair, table)


@SETTINGS
@given(table=tables(), pair=st.tuples(numeric(1), numeric(1)))
def test_division_matches_duckdb(
    duck: duckdb.DuckDBPyConnection, table: pa.Table, pair: tuple[Pair, Pair]
) -> None:
    (a, sa), (b, sb) = pair
    _check(duck, (a / b, f"({sa} / {sb})"), table)


@SETTINGS
@given(table=tables(), pair=st.tuples(st.sampled_from(["i", "j"]), st.integers(-4, 4)))
def test_integer_division_and_modulo_match_duckdb(
    duck: duckdb.DuckDBPyConnection, table: pa.Table, pair: tuple[str, int]
) -> None:
    name, k = pair
    _check(duck, (col(name) // k, f"({name} // {k})"), table)
    _check(duck, (col(name) % k, f"({name} % {k})"), table)
    _check(duck, (lit(k) % col(name), f"({k} % {name})"), table)


@pytest.mark.parametrize(
    ("expr", "sql"),
    [
        (col("f").cast(pa.int32()), "CAST(f AS INTEGER)"),
        (col("i").cast(pa.string()), "CAST(i AS VARCHAR)"),
        (col("ts").cast(pa.date32()), "CAST(ts AS DATE)"),
        (col("d").cast(pa.timestamp("us")), "CAST(d AS TIMESTAMP)"),
        (col("ts").extract("epoch"), "extract('epoch' FROM ts)"),
        (col("d").extract("epoch"), "extract('epoch' FROM d)"),
        (col("ts").extract("isodow"), "extract('isodow' FROM ts)"),
        (col("ts").extract("doy"), "extract('doy' FROM ts)"),
        (col("ts").extract("week"), "extract('week' FROM ts)"),
        (col("ts").extract("quarter"), "extract('quarter' FROM ts)"),
        (col("ts").extract("minute"), "extract('minute' FROM ts)"),
        (col("ts").extract("second"), "second(ts)"),
        (col("ts").date_trunc("week"), "date_trunc('week', ts)"),
        (col("ts").date_trunc("hour"), "date_trunc('hour', ts)"),
        (col("ts").date_trunc("quarter"), "date_trunc('quarter', ts)"),
        (col("d").date_trunc("year"), "CAST(date_trunc('year', d) AS DATE)"),
        (col("s").length(), "length(s)"),
        (col("s").upper(), "upper(s)"),
        (
            when(col("i") > 0).then("pos").when(col("i") < 0).then("neg").end(),
            "CASE WHEN i > 0 THEN 'pos' WHEN i < 0 THEN 'neg' END",
        ),
        (coalesce(col("i"), col("j"), 7), "coalesce(i, j, 7)"),
        (
            when(col("i") != 0).then(col("j") // col("i")).otherwise(-1),
            "CASE WHEN i != 0 THEN j // i ELSE -1 END",
        ),
        (
            when(col("i") == 0).then(0).otherwise(col("j") % col("i")),
            "CASE WHEN i = 0 THEN 0 ELSE j % i END",
        ),
        (col("i").is_in([1, 2, None]) | col("i").is_null(), "(i IN (1, 2, NULL)) OR i IS NULL"),
        (~col("i").is_in([1, 2]), "NOT (i IN (1, 2))"),
        (col("ts") >= "2022-01-01", "ts >= TIMESTAMPTZ '2022-01-01 00:00:00+00'"),
        (col("d") < col("ts"), "d < ts"),
        (col("d") + lit(dt.timedelta(days=1)), "d + INTERVAL 1 DAY"),
        (col("d") - lit(dt.date(2021, 3, 1)), "d - DATE '2021-03-01'"),
        (col("ts") - lit(dt.timedelta(hours=5)), "ts - INTERVAL 5 HOUR"),
    ],
    ids=str,
)
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables(max_rows=20))
def test_functions_match_duckdb(
    duck: duckdb.DuckDBPyConnection, table: pa.Table, expr: Expr, sql: str
) -> None:
    _check(duck, (expr, sql), table)


_SPECIAL = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1.5, None]


@pytest.mark.parametrize(
    ("expr", "sql"),
    [
        (col("x") == col("y"), "x = y"),
        (col("x") != col("y"), "x != y"),
        (col("x") < col("y"), "x < y"),
        (col("x") <= col("y"), "x <= y"),
        (col("x") > col("y"), "x > y"),
        (col("x") >= col("y"), "x >= y"),
        (~(col("x") < 1.0), "NOT (x < 1.0::DOUBLE)"),
        (col("x").between(0.0, col("y")), "x BETWEEN 0.0::DOUBLE AND y"),
        (col("x") > float("nan"), "x > 'nan'::DOUBLE"),
        (col("x").is_in([0.0, 1.5]), "x IN (0.0::DOUBLE, 1.5::DOUBLE)"),
        (col("x").round(0), "round(x, 0)"),
        (col("x") / col("y"), "x / y"),
    ],
    ids=str,
)
def test_nan_infinity_and_signed_zero_match_duckdb(
    duck: duckdb.DuckDBPyConnection, expr: Expr, sql: str
) -> None:
    """DuckDB orders NaN above every number and NaN = NaN; we follow it."""
    pairs = [(a, b) for a in _SPECIAL for b in _SPECIAL]
    table = pa.table({"x": [a for a, _ in pairs], "y": [b for _, b in pairs]})
    _check(duck, (expr, sql), table)
