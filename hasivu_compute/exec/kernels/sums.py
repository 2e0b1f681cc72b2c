"""Exact integer sums on Arrow's wrapping hash kernels.

Arrow's ``hash_sum`` (and Polars' ``sum``) wrap around on int64 / uint64
overflow, and pyarrow has no checked grouped sum. Integer sums are therefore
planned as the pseudo functions ``EXACT_SUM`` (the sum in the input's type, or
:class:`ArithmeticOverflowError`) and ``WIDE_SUM`` (the sum as decimal128(38, 0),
avg's state), and :func:`lower_integer_sums` turns them into plain Arrow sums:

* when ``valid rows × max(|min|, |max|)`` fits the type, no partial sum of any
  group can overflow in any order, so the fast kernel is exact. One ``min_max``
  pass (~2.5 ms per 10M int64 values) is the whole cost;
* otherwise each value is split as ``hi · 2^32 + lo`` (``hi = v >> 32``,
  ``lo = v & 0xFFFFFFFF``) and both halves are summed with the same int64
  kernel: with fewer than 2^31 rows neither half-sum can overflow. The exact
  group sums are then put together in decimal128 (per group, so cheap) and
  :func:`finish_integer_sums` checks them against the type, raising with the
  group's key instead of returning a wrapped value. Per 10M rows in 24k groups:
  95 ms for the plain sum, 118 ms split, 178 ms when summing a decimal128 cast
  (the way used only past 2^31 rows).

A sum that leaves int64 part-way and comes back (``2^62 + 2^62 - 2^62``) is
exact on both branches. Partial states hold int64 sums, so a partial that
holds more than int64 can raise although later partials would bring the total
back into range: exact or raise, never wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import ArithmeticOverflowError
from hasivu_compute.exec.kernels.aggbase import Spec, spec_output_name
from hasivu_compute.exec.kernels.aggregates import EXACT_SUM, WIDE_SUM
from hasivu_compute.expr.aggregates import WIDE_SUM_TYPE

_LIMITS = {
    pa.int64(): (-(2**63), 2**63 - 1),
    pa.uint64(): (0, 2**64 - 1),
}
_EXACT_SUFFIX = "__hc_exact"
_HIGH_SUFFIX = "__hc_hi"
_LOW_SUFFIX = "__hc_lo"
_LOW_MASK = 0xFFFFFFFF
_HALF = pa.decimal128(20, 0)  # an int64 half-sum, exactly
#: Half-sums of fewer rows than this cannot overflow int64 (each half is below 2^32).
SPLIT_MAX_ROWS = 2**31
INTEGER_SUMS = frozenset({EXACT_SUM, WIDE_SUM})


@dataclass(frozen=True, slots=True)
class SumFix:
    """How to turn one lowered Arrow sum back into the pseudo spec's output column.

    Attributes:
        name: the pseudo spec's output name (what callers read).
        lowered: output name of the Arrow sum computing it (of the low halves when
            ``high`` is set).
        column: the summed input column.
        target: int64 / uint64 (EXACT_SUM) or decimal128(38, 0) (WIDE_SUM).
        high: output name of the sum of the high halves, for a split sum.
    """

    name: str
    lowered: str
    column: str
    target: pa.DataType
    high: str | None = None


def may_overflow(values: pa.Array | pa.ChunkedArray, target: pa.DataType) -> bool:
    """Whether some sum of ``values`` (any grouping, any order) could leave ``target``."""
    valid = len(values) - values.null_count
    if valid == 0:
        return False
    bounds = pc.min_max(values)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return bool(valid * max(abs(low), abs(high)) > _LIMITS[target][1])


def _target(values_type: pa.DataType, fn: str) -> pa.DataType:
    if fn == WIDE_SUM:
        return WIDE_SUM_TYPE
    return pa.uint64() if pa.types.is_unsigned_integer(values_type) else pa.int64()


def lower_integer_sums(
    table: pa.Table, specs: Mapping[str, Spec]
) -> tuple[pa.Table, dict[str, Spec], list[SumFix]]:
    """Replace EXACT_SUM / WIDE_SUM specs by Arrow ``sum`` specs (see module docstring).

    Returns the table (with decimal copies of columns that could overflow), the
    specs by output name, and what :func:`finish_integer_sums` must do afterwards.
    """
    out: dict[str, Spec] = {}
    fixes: list[SumFix] = []
    for name, spec in specs.items():
        column, fn, _ = spec
        if fn not in INTEGER_SUMS:
            out[name] = spec
            continue
        assert isinstance(column, str)
        values = table.column(column)
        exact = pa.uint64() if pa.types.is_unsigned_integer(values.type) else pa.int64()
        target = _target(values.type, fn)
        if not may_overflow(values, exact):
            lowered: Spec = (column, "sum", None)
            out[spec_output_name(lowered)] = lowered
            fixes.append(SumFix(name, spec_output_name(lowered), column, target))
            continue
        if len(values) < SPLIT_MAX_ROWS:
            table = _with_halves(table, column, values)
            high: Spec = (column + _HIGH_SUFFIX, "sum", None)
            low: Spec = (column + _LOW_SUFFIX, "sum", None)
            out[spec_output_name(high)] = high
            out[spec_output_name(low)] = low
            fix = SumFix(name, spec_output_name(low), column, target, spec_output_name(high))
            fixes.append(fix)
            continue
        source = column + _EXACT_SUFFIX
        if source not in table.column_names:
            table = table.append_column(source, values.cast(WIDE_SUM_TYPE))
        wide: Spec = (source, "sum", None)
        out[spec_output_name(wide)] = wide
        fixes.append(SumFix(name, spec_output_name(wide), column, target))
    return table, out, fixes


def _with_halves(table: pa.Table, column: str, values: pa.ChunkedArray) -> pa.Table:
    """``table`` with int64 columns of ``values >> 32`` and ``values & 0xFFFFFFFF``."""
    if column + _HIGH_SUFFIX in table.column_names:
        return table
    shift = pa.scalar(32, values.type)
    high = pc.shift_right(values, shift).cast(pa.int64())  # arithmetic for signed input
    low = pc.bit_wise_and(values, pa.scalar(_LOW_MASK, values.type)).cast(pa.int64())
    table = table.append_column(column + _HIGH_SUFFIX, high)
    return table.append_column(column + _LOW_SUFFIX, low)


def _joined(high: pa.ChunkedArray, low: pa.ChunkedArray) -> pa.ChunkedArray:
    """Exact ``high · 2^32 + low`` of per-group half-sums, as decimal128(38, 0)."""
    scaled = pc.multiply(high.cast(_HALF), pa.scalar(2**32, pa.decimal128(10, 0)))
    return pc.add(scaled, low.cast(_HALF)).cast(WIDE_SUM_TYPE)


def finish_integer_sums(
    grouped: pa.Table,
    fixes: Sequence[SumFix],
    group_cols: Sequence[str],
    labels: Mapping[str, str],
    partial: bool = False,
) -> pa.Table:
    """Append each fix's output column to ``grouped``, checked and cast to its target.

    ``partial``: the rows summed are one fragment's (the message says so).

    Raises:
        ArithmeticOverflowError: an exact EXACT_SUM result outside its type, naming
            the aggregate (``labels[column]``), the exact sum and the group's key.
    """
    for fix in fixes:
        values = grouped.column(fix.lowered)
        if fix.high is not None:
            values = _joined(grouped.column(fix.high), values)
        if not values.type.equals(fix.target):
            if pa.types.is_decimal(values.type) and not pa.types.is_decimal(fix.target):
                _check_range(grouped, values, fix, group_cols, labels, partial)
            values = values.cast(fix.target)
        grouped = grouped.append_column(fix.name, values)
    return grouped


def _check_range(
    grouped: pa.Table,
    values: pa.ChunkedArray,
    fix: SumFix,
    group_cols: Sequence[str],
    labels: Mapping[str, str],
    partial: bool,
) -> None:
    low, high = _LIMITS[fix.target]
    bounds = pc.min_max(values)
    found_low, found_high = bounds["min"].as_py(), bounds["max"].as_py()
    if found_low is None or (low <= found_low and found_high <= high):
        return
    bad = found_high if found_high > high else found_low
    row = pc.index(values, pa.scalar(bad, values.type)).as_py()
    keys = [
        f"{labels.get(c, c)}={grouped.column(c)[row].as_py()!r}"
        for c in group_cols
        if c in labels  # internal dummy keys (no GROUP BY) have no label
    ]
    where = f" in group {', '.join(keys)}" if keys else ""
    what = labels.get(fix.column, f"sum({fix.column})")
    scope = "the exact sum of one fragment's rows" if partial else "the exact sum"
    raise ArithmeticOverflowError(
        f"{what} overflows {fix.target}{where}: {scope} is {int(bad)}, outside "
        f"[{low}, {high}]; cast the argument to DECIMAL(38, 0) (or DOUBLE) to sum past that",
        column=what,
    )


__all__ = [
    "INTEGER_SUMS",
    "SPLIT_MAX_ROWS",
    "SumFix",
    "finish_integer_sums",
    "lower_integer_sums",
    "may_overflow",
]
