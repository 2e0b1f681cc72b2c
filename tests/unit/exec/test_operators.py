"""Operators on Arrow tables: SQL semantics for NULL / NaN ordering, limits, distinct, union."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from hasivu_compute.exec.operators import (
    distinct_table,
    filter_table,
    limit_table,
    project_table,
    sort_table,
    union_all,
)
from hasivu_compute.expr import bind, col, lit
from hasivu_compute.plan import SortKey

T = pa.table(
    {"a": [3, None, 1, 2, None], "f": [1.0, float("nan"), None, -2.0, 5.0], "s": list("xyxzy")}
)


def key(name: str, descending: bool = False, nulls_first: bool | None = None) -> SortKey:
    return SortKey(bind(col(name), T.schema), descending, nulls_first)


def test_sort_default_puts_nulls_last_both_directions() -> None:
    assert sort_table(T, (key("a"),)).column("a").to_pylist() == [1, 2, 3, None, None]
    assert sort_table(T, (key("a", True),)).column("a").to_pylist() == [3, 2, 1, None, None]


def test_sort_nulls_first_per_key() -> None:
    out = sort_table(T, (key("a", True, nulls_first=True),)).column("a").to_pylist()
    assert out == [None, None, 3, 2, 1]


def test_sort_nan_is_largest_number() -> None:
    asc = sort_table(T, (key("f"),)).column("f").to_pylist()
    assert asc[:3] == [-2.0, 1.0, 5.0] and math.isnan(asc[3]) and asc[4] is None
    desc = sort_table(T, (key("f", True),)).column("f").to_pylist()
    assert math.isnan(desc[0]) and desc[1:4] == [5.0, 1.0, -2.0] and desc[4] is None


def test_sort_is_stable_on_ties() -> None:
    out = sort_table(T, (key("s"),))
    assert out.column("s").to_pylist() == list("xxyyz")
    assert out.column("a").to_pylist() == [3, 1, None, None, 2]


def test_filter_drops_null_predicate_rows() -> None:
    out = filter_table(T, bind(col("a") > 1, T.schema))
    assert out.column("a").to_pylist() == [3, 2]


def test_filter_constant_predicates() -> None:
    assert filter_table(T, bind(lit(True), T.schema)).num_rows == 5
    assert filter_table(T, bind(lit(None, pa.bool_()), T.schema)).num_rows == 0


def test_project_broadcasts_constants_and_names() -> None:
    out = project_table(
        T, (bind((col("a") + 1).alias("b"), T.schema), bind(lit(7).alias("k"), T.schema))
    )
    assert out.column_names == ["b", "k"]
    assert out.column("k").to_pylist() == [7] * 5


@pytest.mark.parametrize(
    ("n", "offset", "expected"),
    [(2, 0, [3, None]), (2, 3, [2, None]), (None, 4, [None]), (0, 0, [])],
)
def test_limit_offset(n: int | None, offset: int, expected: list[object]) -> None:
    assert limit_table(T, n, offset).column("a").to_pylist() == expected


def test_distinct_treats_nulls_as_equal() -> None:
    t = pa.table({"a": [1, None, 1, None], "b": ["x", None, "x", None]})
    out = distinct_table(t)
    assert sorted(out.to_pylist(), key=str) == sorted(
        [{"a": 1, "b": "x"}, {"a": None, "b": None}], key=str
    )


def test_union_takes_names_of_first_input() -> None:
    out = union_all([pa.table({"x": [1]}), pa.table({"y": [2]})])
    assert out.column_names == ["x"] and out.column("x").to_pylist() == [1, 2]


def test_distinct_treats_negative_zero_as_zero() -> None:
    out = distinct_table(pa.table({"x": [0.0, -0.0, 1.0, None, None]}))
    assert sorted(out.column("x").to_pylist(), key=str) == [0.0, 1.0, None]
