"""min / max over floats order NaN as DuckDB does: greater than every number, +inf included.

So ``max`` is NaN as soon as a group holds one NaN, and ``min`` is NaN only when
every non-null value is NaN; NULLs are skipped. Arrow's kernels skip NaN in
``max`` instead (``max(1, inf, NaN)`` gave inf).
"""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa
import pytest

from hasivu_compute.exec import aggregate, split_aggregate
from hasivu_compute.expr import col

NAN = float("nan")
INF = float("inf")

# group -> values: NaN beside numbers, only NaN, NaN beside +inf, no NaN, only NULL
GROUPS = {
    1: [1.0, INF, NAN, None],
    2: [NAN, NAN],
    3: [INF, -INF, NAN],
    4: [2.0, -0.0, -5.5],
    5: [None, None],
}


def _table(dtype: pa.DataType | None = None) -> pa.Table:
    keys = [k for k, values in GROUPS.items() for _ in values]
    values = [v for vs in GROUPS.values() for v in vs]
    return pa.table({"g": pa.array(keys, pa.int64()), "x": pa.array(values, dtype or pa.float64())})


def _duckdb(data: pa.Table) -> dict[int, tuple[object, object]]:
    con = duckdb.connect()
    con.register("data", data)
    rows = con.sql("SELECT g, min(x), max(x) FROM data GROUP BY g").fetchall()
    return {g: (lo, hi) for g, lo, hi in rows}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _check(out: pa.Table, table: pa.Table) -> None:
    expected = _duckdb(table)
    for row in out.to_pylist():
        lo, hi = expected[row["g"]]
        assert _same(row["lo"], lo) and _same(row["hi"], hi), (row, lo, hi)


AGGS = [col("x").min().alias("lo"), col("x").max().alias("hi")]


@pytest.mark.parametrize("dtype", [pa.float64(), pa.float32()])
def test_one_shot_min_max_follow_duckdb(dtype: pa.DataType) -> None:
    table = _table(dtype)
    _check(aggregate(table, ["g"], AGGS), table)


def test_max_of_nan_beside_inf_is_nan() -> None:
    out = aggregate(pa.table({"x": [1.0, INF, NAN, None]}), [], AGGS)
    assert out.column("lo").to_pylist() == [1.0]
    assert math.isnan(out.column("hi")[0].as_py())


@pytest.mark.parametrize("cut", [1, 3, 5, 8])
def test_partials_combine_to_the_same_answer(cut: int) -> None:
    table = _table()
    steps = split_aggregate(["g"], AGGS, table.schema)
    parts = [steps.partial(table.slice(0, cut)), steps.partial(table.slice(cut))]
    _check(steps.finalize(steps.combine(parts)), table)
    no_keys = split_aggregate([], AGGS, table.schema)
    merged = no_keys.finalize(
        no_keys.combine([no_keys.partial(table.slice(0, cut)), no_keys.partial(table.slice(cut))])
    )
    assert merged.column("lo").to_pylist() == [-INF]
    assert math.isnan(merged.column("hi")[0].as_py()), "one NaN anywhere makes max NaN"


def test_max_beside_count_distinct_follows_duckdb() -> None:
    table = _table()
    out = aggregate(table, ["g"], [*AGGS, col("x").count_distinct().alias("d")])
    _check(out, table)


def test_every_nan_is_one_group_and_one_distinct_value() -> None:
    import numpy as np

    from hasivu_compute.exec.operators import distinct_table

    nans = np.array([np.nan, -np.nan, 0.0, -0.0, 1.0])
    assert np.signbit(nans[1]) and np.signbit(nans[3]), "a negative NaN and a negative zero"
    table = pa.table({"k": nans, "v": [1, 2, 3, 4, 5]})
    out = aggregate(table, ["k"], [col("v").sum().alias("s"), col("k").count_distinct().alias("d")])
    groups = sorted(out.to_pylist(), key=lambda r: (math.isnan(r["k"]), r["k"]))
    assert [r["s"] for r in groups] == [7, 5, 3], "DuckDB: 0.0 (x2), 1.0, NaN (x2)"
    assert [r["d"] for r in groups] == [1, 1, 1]
    distinct = aggregate(table, [], [col("k").count_distinct().alias("d")])
    assert distinct.column("d").to_pylist() == [3]
    assert distinct_table(table.select(["k"])).num_rows == 3


def test_nan_prefilter_never_misses_a_nan() -> None:
    from hasivu_compute.exec.kernels.floats import may_hold_nan

    assert may_hold_nan(pa.array([1.0, NAN, None]))
    assert may_hold_nan(pa.chunked_array([[1.0], [None, -NAN]]))
    assert not may_hold_nan(pa.array([1.0, INF, None]))
    assert not may_hold_nan(pa.array([None, None], pa.float64()))
    assert may_hold_nan(pa.array([INF, -INF])), "a false alarm is allowed: the exact check follows"
    out = aggregate(pa.table({"x": [INF, -INF, 1.0]}), [], AGGS)
    assert out.to_pylist() == [{"lo": -INF, "hi": INF}]
