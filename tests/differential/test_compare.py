"""The oracle comparison itself: it must catch differences, not only accept equal results."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
from compare import difference


def table(**columns: list) -> pa.Table:
    return pa.table(columns)


def test_equal_bags_in_any_order_with_float_noise() -> None:
    ours = table(a=[1, 2, None], b=[0.1 + 0.2, 2.0, None])
    theirs = table(a=[None, 2, 1], b=[None, 2.0, 0.3])
    assert difference(ours, theirs) is None


def test_value_null_and_count_differences_are_caught() -> None:
    base = table(a=[1, 2, 3])
    assert difference(table(a=[1, 2, 4]), base) is not None
    assert difference(table(a=[1, 2, None]), base) is not None
    assert difference(table(a=[1, 2]), base) is not None
    assert difference(table(a=[1.0, 2.0, 3.0 + 1e-6]), table(a=[1.0, 2.0, 3.0])) is not None


def test_compatible_types_compare_by_value() -> None:
    ours = table(d=[dt.date(2020, 5, 1)], n=[decimal.Decimal("1.50")], i=[3])
    theirs = table(d=[dt.datetime(2020, 5, 1)], n=[1.5], i=[3.0])
    assert difference(ours, theirs, check_types=False) is None


def test_order_of_sort_keys_is_checked() -> None:
    ours = table(k=[1, 2, 2], v=["a", "c", "b"])
    theirs = table(k=[1, 2, 2], v=["a", "b", "c"])
    assert difference(ours, theirs, order_columns=(0,)) is None  # ties may come in any order
    assert difference(ours, theirs, order_columns=(0, 1)) is not None
    swapped = table(k=[2, 1, 2], v=["c", "a", "b"])
    assert difference(swapped, theirs, order_columns=(0,)) is not None


def test_column_types_are_compared() -> None:
    assert difference(table(a=[1, 2]), table(a=[1.0, 2.0])) is not None, "int64 is not double"
    assert difference(table(a=["x"]), table(a=[1])) is not None
    hugeint = pa.table({"s": pa.array([decimal.Decimal(3)], pa.decimal128(38, 0))})
    assert difference(table(s=[3]), hugeint) is None, "int64 sum vs DuckDB's HUGEINT sum"
    text = pa.table({"s": pa.array(["x"], pa.large_string())})
    assert difference(table(s=["x"]), text) is None


def test_large_integers_compare_exactly() -> None:
    top = 2**64 - 1
    ours = pa.table({"u": pa.array([top], pa.uint64()), "i": [2**63 - 1]})
    exact = pa.table(
        {
            "u": pa.array([decimal.Decimal(top)], pa.decimal128(38, 0)),
            "i": pa.array([decimal.Decimal(2**63 - 1)], pa.decimal128(38, 0)),
        }
    )
    assert difference(ours, exact) is None
    off_by_one = pa.table(
        {
            "u": pa.array([decimal.Decimal(top - 1)], pa.decimal128(38, 0)),
            "i": pa.array([decimal.Decimal(2**63 - 2)], pa.decimal128(38, 0)),
        }
    )
    assert difference(ours, off_by_one) is not None, "a float comparison would call these equal"
