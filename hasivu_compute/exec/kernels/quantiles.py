"""Exact quantiles: ``median``, ``quantile_cont`` and ``quantile_disc`` as DuckDB computes them.

No partial state smaller than the values gives an exact median, so the state is
the group's non-NULL values (:mod:`.liststates`): shards gather them, the
gatherer concatenates a group's lists and picks the quantile from the sorted
values. Memory is the group's values; ``approx_quantile`` is the bounded sketch.

DuckDB's rules, per group of ``n`` sorted values (NaN above every number):

* ``quantile_cont(x, q)``: ``rn = (n - 1) * q``; with ``lo``/``hi`` the values at
  ``floor(rn)``/``ceil(rn)`` and ``d = rn - floor(rn)``, the result is ``lo`` when they
  are the same position, else ``lo * (1 - d) + hi * d`` in double (integers give
  DOUBLE); FLOAT stays FLOAT and a DECIMAL stays DECIMAL (computed on the unscaled
  integers, see :func:`_decimal_interpolation`).
* ``quantile_disc(x, q)``: the value at ``max(1, n - floor(n - n * q)) - 1``, with
  ``q`` taken as the exact decimal literal (DuckDB reads ``0.3`` as DECIMAL), for
  any orderable type.
* A negative ``q`` in ``[-1, 0)`` means ``|q|`` over the values sorted descending.
* ``median(x)`` is ``quantile_cont(x, 0.5)`` for numbers and ``quantile_disc(x, 0.5)``
  for other orderable types (strings, booleans, blobs).
* A list of quantiles gives a list per group; a group without values gives NULL.

Interpolating dates, timestamps and times (DuckDB averages them) is refused. The
result types and these checks are the binder's, in :mod:`hasivu_compute.expr.aggregates`.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.exec.kernels.aggbase import GATHER, AggregateKernel, Spec
from hasivu_compute.exec.kernels.liststates import concatenated, sorted_groups, without_nulls
from hasivu_compute.expr import types as T
from hasivu_compute.expr.aggregates import (
    quantile_interpolated_type,
    quantile_interpolates,
    quantile_values,
)
from hasivu_compute.expr.nodes import AggCall

__all__ = ["QUANTILE_KERNELS"]


@dataclass(frozen=True, slots=True)
class _Quantile(AggregateKernel):
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        return [(str(arg), GATHER, None)]

    def partial_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        return [without_nulls(columns[0])]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], GATHER, None)]

    def combine_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        return [concatenated(columns[0])]

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        values, starts, counts = sorted_groups(without_nulls(states[0]))
        dtype = values.type
        cont = quantile_interpolates(self.name, dtype)
        out_type = quantile_interpolated_type(self.name, dtype) if cont else dtype
        results = []
        for q in quantile_values(call):
            if cont:
                results.append(_continuous(values, starts, counts, q, out_type))
            else:
                results.append(_discrete(values, starts, counts, q))
        if not isinstance(call.option("q"), tuple):
            return results[0]
        return _as_lists(results, counts, out_type)


def _positions(counts: np.ndarray, index: np.ndarray, descending: bool) -> np.ndarray:
    """Ascending positions of per-group ``index`` (counted from the top when descending)."""
    return counts - 1 - index if descending else index


def _take(values: pa.Array, starts: np.ndarray, counts: np.ndarray, at: np.ndarray) -> pa.Array:
    """Per group, the sorted value at position ``at`` (NULL for a group without values)."""
    empty = counts == 0
    if len(values) == 0:
        return pa.nulls(len(counts), values.type)
    rows = np.where(empty, 0, starts + np.clip(at, 0, np.maximum(counts - 1, 0)))
    mask = pa.array(empty) if empty.any() else None
    picked = values.take(pa.array(rows, pa.int64()))
    return pc.if_else(mask, pa.nulls(len(rows), values.type), picked) if mask else picked


def _discrete(values: pa.Array, starts: np.ndarray, counts: np.ndarray, q: float) -> pa.Array:
    exact = Fraction(repr(abs(q)))  # the decimal literal as written (0.3 is 3/10)
    num, den = exact.numerator, exact.denominator
    if counts.size and int(counts.max()) * den >= 1 << 62:
        n = counts.astype(object)
        floored = np.array([(int(c) * (den - num)) // den for c in counts], dtype=np.int64)
    else:
        n = counts
        floored = (counts * (den - num)) // den
    index = np.maximum(1, np.asarray(n - floored, dtype=np.int64)) - 1
    return _take(values, starts, counts, _positions(counts, index, q < 0))


def _continuous(
    values: pa.Array, starts: np.ndarray, counts: np.ndarray, q: float, out_type: pa.DataType
) -> pa.Array:
    rn = (counts - 1).astype(np.float64) * abs(q)
    floor, ceil = np.floor(rn), np.ceil(rn)
    low = _take(values, starts, counts, _positions(counts, floor.astype(np.int64), q < 0))
    high = _take(values, starts, counts, _positions(counts, ceil.astype(np.int64), q < 0))
    same = floor == ceil
    d = rn - floor
    if T.is_decimal(out_type):
        return _decimal_interpolation(low, high, same, d, out_type)
    lo = pc.cast(low, pa.float64()).to_numpy(zero_copy_only=False)
    hi = pc.cast(high, pa.float64()).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore", over="ignore"):
        # DuckDB's DOUBLE interpolation, else its generic one (FLOAT: rounded to it below)
        double = out_type.equals(pa.float64())
        mixed = lo * (1.0 - d) + hi * d if double else lo + (hi - lo) * d
        mixed = np.where(same, lo, mixed)
    result = pa.array(mixed, pa.float64(), mask=(counts == 0))
    return result.cast(out_type) if not out_type.equals(pa.float64()) else result


def _decimal_interpolation(
    low: pa.Array, high: pa.Array, same: np.ndarray, d: np.ndarray, dtype: pa.DataType
) -> pa.Array:
    """DuckDB on a DECIMAL's unscaled integers, in double: ``lo + (hi - lo) * d`` truncated
    up to 18 digits (int64 storage), ``lo * (1 - d) + hi * d`` floored beyond (HUGEINT)."""
    scale, wide = dtype.scale, dtype.precision > 18
    out: list[decimal.Decimal | None] = []
    with decimal.localcontext(prec=100):  # 38 digits and a scale shift stay exact
        for lo, hi, one, frac in zip(low.to_pylist(), high.to_pylist(), same, d, strict=True):
            if lo is None or one:
                out.append(lo)
                continue
            lo_f, hi_f, t = float(int(lo.scaleb(scale))), float(int(hi.scaleb(scale))), float(frac)
            if wide:  # HUGEINT: converted back by flooring
                unscaled = math.floor(lo_f * (1.0 - t) + hi_f * t)
            else:  # int64: a C cast, truncating
                unscaled = int(lo_f + (hi_f - lo_f) * t)
            out.append(decimal.Decimal(unscaled).scaleb(-scale))
    return pa.array(out, dtype)


def _as_lists(results: list[pa.Array], counts: np.ndarray, value_type: pa.DataType) -> pa.Array:
    """One list per group holding its result for each quantile (NULL for an empty group)."""
    groups, width = len(counts), len(results)
    values = pa.concat_arrays([r.cast(value_type) for r in results]) if results else None
    if values is None:
        values = pa.array([], value_type)
    order = (np.arange(groups)[:, None] + np.arange(width)[None, :] * groups).ravel()
    offsets = pa.array(np.arange(groups + 1, dtype=np.int32) * width, pa.int32())
    mask = pa.array(counts == 0)
    return pa.ListArray.from_arrays(offsets, values.take(pa.array(order, pa.int64())), mask=mask)


#: The quantile kernels, registered in :data:`.aggregates.AGGREGATE_KERNELS`.
QUANTILE_KERNELS = (_Quantile("median"), _Quantile("quantile_cont"), _Quantile("quantile_disc"))
