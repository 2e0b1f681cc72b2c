"""Integer sums are exact or raise: never a wrapped or clamped value, on every path.

``sum`` over an integer column keeps its type (int64, or uint64 for unsigned
input) and raises :class:`ArithmeticOverflowError` when the exact sum does not
fit; DuckDB would widen to HUGEINT. ``avg`` over integers sums exactly (no
float cancellation) and never raises.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import ArithmeticOverflowError, HasivuError, InvalidDataError
from hasivu_compute.exec import aggregate, split_aggregate
from hasivu_compute.expr import col

BIG = 2**62 + 1  # four of them: 18446744073709551620, the example
I64_MAX = 2**63 - 1


def _table(
    values: list[int | None], keys: list[int] | None = None, dtype: pa.DataType | None = None
) -> pa.Table:
    keys = keys if keys is not None else [1] * len(values)
    return pa.table({"g": pa.array(keys, pa.int64()), "v": pa.array(values, dtype or pa.int64())})


def test_overflowing_sum_raises_a_typed_overflow_error() -> None:
    table = _table([BIG] * 4)
    with pytest.raises(ArithmeticOverflowError) as caught:
        aggregate(table, [], [col("v").sum().alias("s")])
    error = caught.value
    assert isinstance(error, OverflowError) and isinstance(error, HasivuError)
    assert isinstance(error, InvalidDataError)  # like `big * 4`, a value that does not fit
    assert "18446744073709551620" in str(error), "the message shows the exact sum"
    assert "sum(v)" in str(error) and "int64" in str(error)


def test_overflowing_group_raises_and_names_its_key() -> None:
    table = _table([BIG, BIG, 5, 5, BIG, BIG], keys=[1, 1, 2, 2, 1, 1])
    with pytest.raises(ArithmeticOverflowError, match="g=1"):
        aggregate(table, ["g"], [col("v").sum().alias("s")])


def test_sum_is_exact_when_intermediate_sums_leave_int64_but_the_total_fits() -> None:
    table = _table([2**62, 2**62, 2**62, -(2**62), -(2**62), 7, None])
    out = aggregate(table, ["g"], [col("v").sum().alias("s")])
    assert out.column("s").to_pylist() == [2**62 + 7]
    assert out.schema.field("s").type == pa.int64()


def test_sum_at_the_int64_limits_is_exact() -> None:
    table = _table([I64_MAX - 10, 10, -(2**63), 0], keys=[1, 1, 2, 2])
    out = aggregate(table, ["g"], [col("v").sum().alias("s")]).sort_by("g")
    assert out.column("s").to_pylist() == [I64_MAX, -(2**63)]


def test_combining_partials_that_each_fit_raises_when_the_total_does_not() -> None:
    table = _table([2**62, 2**62 - 1, 5])
    steps = split_aggregate(["g"], [col("v").sum().alias("s")], table.schema)
    partials = [steps.partial(table.slice(0, 2)), steps.partial(table.slice(2))]
    assert [p.column(1).to_pylist() for p in partials] == [[I64_MAX], [5]]
    with pytest.raises(ArithmeticOverflowError):
        steps.finalize(steps.combine(partials))


def test_combining_partials_without_keys_raises_too() -> None:
    table = _table([2**62, 2**62 - 1, 5])
    steps = split_aggregate([], [col("v").sum().alias("s")], table.schema)
    partials = [steps.partial(table.slice(0, 2)), steps.partial(table.slice(2))]
    with pytest.raises(ArithmeticOverflowError):
        steps.finalize(pa.concat_tables(partials))


def test_uint64_sum_is_exact_up_to_its_maximum_then_raises() -> None:
    fits = _table([2**63, 2**63 - 1], dtype=pa.uint64())
    out = aggregate(fits, [], [col("v").sum().alias("s")])
    assert out.column("s").to_pylist() == [2**64 - 1]
    assert out.schema.field("s").type == pa.uint64()
    with pytest.raises(ArithmeticOverflowError, match="uint64"):
        aggregate(_table([2**63] * 3, dtype=pa.uint64()), [], [col("v").sum().alias("s")])


def test_sum_beside_count_distinct_raises_on_the_polars_path() -> None:
    table = _table([BIG, BIG, BIG, BIG, 1], keys=[1, 1, 1, 1, 2])
    aggs = [col("v").sum().alias("s"), col("v").count_distinct().alias("d")]
    with pytest.raises(ArithmeticOverflowError):
        aggregate(table, ["g"], aggs)
    steps = split_aggregate(["g"], aggs, table.schema)
    with pytest.raises(ArithmeticOverflowError):
        steps.finalize(
            steps.combine([steps.partial(table.slice(0, 2)), steps.partial(table.slice(2))])
        )


def test_avg_of_large_integers_is_exact_and_never_overflows() -> None:
    # a float running sum gives 0.0 here: 9.2e18 + 1.0 rounds the 1 away
    table = _table([I64_MAX, 1, -I64_MAX, None])
    out = aggregate(table, [], [col("v").mean().alias("a")])
    assert out.column("a").to_pylist() == [pytest.approx(1 / 3, rel=1e-15)]
    big = _table([BIG] * 4)
    steps = split_aggregate([], [col("v").mean().alias("a")], big.schema)
    merged = steps.finalize(
        steps.combine([steps.partial(big.slice(0, 2)), steps.partial(big.slice(2))])
    )
    assert merged.column("a").to_pylist() == [float(BIG)]
    unsigned = _table([2**64 - 1, 2**64 - 1], dtype=pa.uint64())
    assert aggregate(unsigned, [], [col("v").mean().alias("a")]).column("a").to_pylist() == [
        float(2**64 - 1)
    ]


def test_narrow_integer_sums_widen_without_overflow() -> None:
    table = _table([2**31 - 1] * 3, dtype=pa.int32())
    out = aggregate(table, [], [col("v").sum().alias("s")])
    assert out.column("s").to_pylist() == [3 * (2**31 - 1)]
    assert out.schema.field("s").type == pa.int64()


def test_row_arithmetic_overflow_is_the_same_typed_error() -> None:
    from hasivu_compute.exec.kernels.evaluate import evaluate
    from hasivu_compute.expr.binder import bind

    table = _table([BIG])
    with pytest.raises(ArithmeticOverflowError, match="overflow"):
        evaluate(bind(col("v") * 4, table.schema), table)


@pytest.mark.parametrize("split_max_rows", [2**31, 1])
def test_both_exact_ways_agree(monkeypatch: pytest.MonkeyPatch, split_max_rows: int) -> None:
    """Values that could overflow are summed as hi/lo halves (below 2^31 rows) or as
    decimal128 (past it); both give the exact sums and the same overflow."""
    from hasivu_compute.exec.kernels import sums

    monkeypatch.setattr(sums, "SPLIT_MAX_ROWS", split_max_rows)
    values = [I64_MAX, -1, -(2**63), 2**62, -5, None, 2**40 + 3]
    keys = [1, 1, 2, 2, 3, 3, 3]
    out = aggregate(_table(values, keys), ["g"], [col("v").sum().alias("s")]).sort_by("g")
    assert out.column("s").to_pylist() == [I64_MAX - 1, -(2**63) + 2**62, 2**40 - 2]
    with pytest.raises(ArithmeticOverflowError, match="g=2"):
        aggregate(_table([-(2**63), -1], [2, 2]), ["g"], [col("v").sum().alias("s")])
    unsigned = _table([2**64 - 1, 0, 2**63, 2**63 - 1], [1, 1, 2, 2], dtype=pa.uint64())
    out = aggregate(unsigned, ["g"], [col("v").sum().alias("s")]).sort_by("g")
    assert out.column("s").to_pylist() == [2**64 - 1, 2**64 - 1]
    mean = aggregate(_table([I64_MAX, I64_MAX, -3]), [], [col("v").mean().alias("a")])
    assert mean.column("a").to_pylist() == [pytest.approx((2 * I64_MAX - 3) / 3, rel=1e-15)]
