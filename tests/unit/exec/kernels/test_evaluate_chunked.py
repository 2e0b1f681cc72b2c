"""Whole-table evaluation over chunked columns, and NaN comparisons against constants."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from hasivu_compute._core.errors import InvalidDataError
from hasivu_compute.exec.kernels.evaluate import _whole_table_safe, evaluate
from hasivu_compute.expr import bind, col, lit

NAN = float("nan")


def _table() -> pa.Table:
    part = pa.table(
        {
            "x": pa.array([1.5, NAN, None, -0.0, 24.0, 3.0], pa.float64()),
            "i": pa.array([1, 2, None, 4, 5, 2**62], pa.int64()),
            "s": pa.array(["paid", None, "x", "paid", "p", "q"]),
            "d": pa.array([0, 400, None, 20_000, -3, 19_000], pa.int32()).cast(pa.date32()),
        }
    )
    return pa.concat_tables([part, part.slice(2), part.slice(0, 1)])  # 3 uneven chunks


EXPRS = [
    (col("x") < 24) & (col("x") >= 1.5),
    col("x").between(0.0, 3.0) | col("i").is_null(),
    ~(col("s") == "paid") & col("s").starts_with("p"),
    col("i").is_in([1, 5, None]),
    (col("i") + 1).cast(pa.float64()) / col("x"),
    col("s").lower().like("%a%"),
    (col("d").year() * 100 + col("d").month()).cast(pa.int32()),
    col("d").date_trunc("month"),
    col("s").length() + col("s").trim().length(),
]


@pytest.mark.parametrize("expr", EXPRS, ids=[str(e) for e in EXPRS])
def test_whole_table_equals_batch_by_batch(expr: object) -> None:
    table = _table()
    bound = bind(expr, table.schema)  # type: ignore[arg-type]
    assert _whole_table_safe(bound, table.schema)
    whole = evaluate(bound, table)
    batches = [evaluate(bound, b) for b in table.to_batches()]
    assert [repr(v) for v in whole.to_pylist()] == [repr(v) for b in batches for v in b.to_pylist()]


def test_errors_are_the_same_typed_error() -> None:
    table = _table()
    bound = bind(col("i") * 4, table.schema)
    with pytest.raises(InvalidDataError):
        evaluate(bound, table)


def test_dictionary_columns_and_other_functions_keep_the_batch_path() -> None:
    table = _table()
    encoded = table.set_column(2, "s", table.column("s").dictionary_encode())
    bound = bind(col("s") == "paid", table.schema)
    assert not _whole_table_safe(bound, encoded.schema)
    assert evaluate(bound, encoded).to_pylist() == evaluate(bound, table).to_pylist()
    assert not _whole_table_safe(bind(col("i") % 3, table.schema), table.schema)


@pytest.mark.parametrize("op", ["=", "<>", "<", "<=", ">", ">="])
@pytest.mark.parametrize("constant_left", [False, True])
def test_nan_against_a_constant_follows_duckdb(op: str, constant_left: bool) -> None:
    table = pa.table({"x": pa.array([NAN, 1.0, 5.0, None, float("inf")], pa.float64())})
    ops = {
        "=": lambda a, b: a == b,
        "<>": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    left, right = (lit(1.0), col("x")) if constant_left else (col("x"), lit(1.0))
    got = evaluate(bind(ops[op](left, right), table.schema), table).to_pylist()
    sql = f"SELECT 1.0::DOUBLE {op} x" if constant_left else f"SELECT x {op} 1.0::DOUBLE"
    con = duckdb.connect()
    con.register("t", table)
    expected = con.sql(f"{sql} AS r FROM t").to_arrow_table().column("r").to_pylist()
    assert got == expected


def test_big_integers_cast_to_double_round_like_duckdb() -> None:
    table = pa.table({"i": pa.array([2**62 + 1, -(2**60) - 3, None], pa.int64())})
    got = evaluate(bind(col("i").cast(pa.float64()), table.schema), table).to_pylist()
    con = duckdb.connect()
    con.register("t", table)
    expected = con.sql("SELECT i::DOUBLE AS r FROM t").to_arrow_table().column("r").to_pylist()
    assert got == expected
