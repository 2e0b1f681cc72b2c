"""Aggregate kernels: the partial → combine → finalize steps of each registered aggregate.

:data:`AGGREGATE_KERNELS` holds one :class:`~.aggbase.AggregateKernel` per name of
:data:`hasivu_compute.expr.aggregates.AGGREGATES` (which owns the types and the state
layout, see the table there). Group-by work is pyarrow's hash kernels
(``Table.group_by().aggregate()``), except the distinct-value lists, built on Polars
(faster here, see ``aggsteps``), so partials run on shards and combine / finalize on
the gatherer (dask-expr's chunk / combine / aggregate). :mod:`.aggsteps` wires a whole
``Aggregate`` node (keys, several aggregates, expressions over them).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import datasketches as ds
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from hasivu_compute.exec.kernels.aggbase import GATHER, AggregateKernel, Spec, group_ids
from hasivu_compute.exec.kernels.quantiles import QUANTILE_KERNELS
from hasivu_compute.exec.kernels.string_agg import STRING_AGG
from hasivu_compute.expr import types as T
from hasivu_compute.expr.aggregates import AGGREGATES, canonical_aggregate_name
from hasivu_compute.expr.nodes import AggCall

__all__ = [
    "AGGREGATE_KERNELS",
    "EXACT_SUM",
    "GATHER",
    "UNION_VALUES",
    "UNIQUE_COUNT",
    "UNIQUE_VALUES",
    "WIDE_SUM",
    "AggregateKernel",
    "Spec",
    "aggregate_kernel",
    "distinct_per_group",
    "merge_moments",
]

_ONLY_VALID = pc.CountOptions(mode="only_valid")
#: Pseudo group-by functions (see ``aggsteps``): the group's distinct non-null values as a
#: list, and the distinct union of a list column's lists. They run on Polars, which
#: builds per-group unique lists faster than Arrow's ``hash_distinct`` (measured numbers
#: in ``aggsteps._polars_group``), with an Arrow fallback for types Polars lacks.
UNIQUE_VALUES = "unique_values"
UNION_VALUES = "union_values"
#: The number of distinct non-null values (one-shot aggregation: no state to merge).
UNIQUE_COUNT = "unique_count"
#: Pseudo group-by functions for integer sums (lowered in :mod:`.sums`): the exact sum
#: in the input's type (int64 / uint64), raising ``ArithmeticOverflowError`` when it does
#: not fit, never wrapping; and the exact sum as ``decimal128(38, 0)`` (avg's state,
#: ``expr.aggregates.WIDE_SUM_TYPE``).
EXACT_SUM = "exact_sum"
WIDE_SUM = "wide_sum"
HLL_LG_K = 12
KLL_K = 200


def _integer_argument(kernel: AggregateKernel, call: AggCall) -> bool:
    """Whether ``call``'s argument reaches the partial as an integer column."""
    if not call.args:
        return False
    dtype = call.args[0].dtype
    return dtype is not None and pat.is_integer(kernel.function.input_type(dtype))


@dataclass(frozen=True, slots=True)
class _Count(AggregateKernel):
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        if arg is None:
            return [([], "count_all", None)]
        if call.distinct:
            return [(arg, UNIQUE_VALUES, None)]
        return [(arg, "count", _ONLY_VALID)]

    def one_shot_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        if call.distinct:
            return [(str(arg), UNIQUE_COUNT, None)]  # a count, not the value lists
        return self.partial_specs(arg, call)

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], UNION_VALUES if call.distinct else "sum", None)]

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        if call.distinct and not pat.is_integer(states[0].type):
            lengths = pc.list_value_length(states[0])
            return pc.cast(pc.fill_null(lengths, 0), pa.int64())
        return pc.fill_null(pc.cast(states[0], pa.int64()), 0)


@dataclass(frozen=True, slots=True)
class _Sum(AggregateKernel):
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        return [(str(arg), self._fn(call), None)]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], self._fn(call), None)]

    def _fn(self, call: AggCall) -> str:
        """Integer sums are exact or raise (DuckDB widens to HUGEINT; we keep int64)."""
        return EXACT_SUM if _integer_argument(self, call) else "sum"


@dataclass(frozen=True, slots=True)
class _MinMax(AggregateKernel):
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        return [(str(arg), self.name, None)]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], self.name, None)]


@dataclass(frozen=True, slots=True)
class _Avg(AggregateKernel):
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        total = WIDE_SUM if _integer_argument(self, call) else "sum"
        return [(str(arg), total, None), (str(arg), "count", _ONLY_VALID)]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], "sum", None), (states[1], "sum", None)]

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        total, n = states
        n = pc.if_else(pc.equal(n, 0), pa.scalar(None, pa.int64()), n)
        return pc.divide(pc.cast(total, pa.float64()), pc.cast(n, pa.float64()))


@dataclass(frozen=True, slots=True)
class _Variance(AggregateKernel):
    """Sample / population variance and standard deviation from (n, mean, m2)."""

    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        a = str(arg)
        return [
            (a, "count", _ONLY_VALID),
            (a, "mean", None),
            (a, "variance", pc.VarianceOptions(ddof=0)),
        ]

    def partial_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        n, mean, var = columns
        n = pc.cast(n, pa.int64())
        m2 = pc.fill_null(pc.multiply(var, pc.cast(n, pa.float64())), 0.0)
        return [n, pc.fill_null(mean, 0.0), m2]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(s, "list", None) for s in states]

    def combine_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        return list(merge_moments(*columns))

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        n = pc.cast(pc.fill_null(states[0], 0), pa.float64())
        m2 = pc.fill_null(states[2], 0.0)
        ddof = 0.0 if self.name.endswith("_pop") else 1.0
        denom = pc.subtract(n, ddof)
        denom = pc.if_else(pc.less_equal(denom, 0.0), pa.scalar(None, pa.float64()), denom)
        var = pc.divide(m2, denom)
        var = pc.if_else(pc.less(var, 0.0), 0.0, var)  # rounding can dip below zero
        return pc.sqrt(var) if self.name.startswith("stddev") else var


def merge_moments(
    n_lists: pa.Array, mean_lists: pa.Array, m2_lists: pa.Array
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Merge per-partial (n, mean, m2) lists of each group (Chan et al.), vectorised.

    ``m2 = Σ m2_i + Σ n_i (mean_i − mean)²`` avoids the cancellation of the
    sum-of-squares formula when the mean is large relative to the spread.
    """
    groups = len(n_lists)
    gid, n_flat = group_ids(n_lists)
    n = pc.fill_null(n_flat, 0).to_numpy(zero_copy_only=False).astype(np.float64)
    mean = pc.fill_null(pc.list_flatten(mean_lists), 0.0).to_numpy(zero_copy_only=False)
    m2 = pc.fill_null(pc.list_flatten(m2_lists), 0.0).to_numpy(zero_copy_only=False)
    total = np.bincount(gid, weights=n, minlength=groups)
    weighted = np.bincount(gid, weights=n * mean, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = np.where(total > 0, weighted / np.where(total > 0, total, 1), 0.0)
    spread = n * (mean - grand[gid]) ** 2
    m2_total = np.bincount(gid, weights=m2 + spread, minlength=groups)
    return (
        pa.array(total.astype(np.int64)),
        pa.array(grand, type=pa.float64()),
        pa.array(m2_total, type=pa.float64()),
    )


def distinct_per_group(row_lists: pa.Array, values_lists: pa.Array) -> pa.Array:
    """Per group, the distinct values of the ``values_lists`` rows listed in ``row_lists``.

    ``row_lists`` (``list<uint64>``, one row per group) holds indices into
    ``values_lists`` (``list<T>``, the states being merged). Vectorised: explode to
    (group, value) pairs, de-duplicate with a hash group-by, sort by group and
    rebuild list offsets.
    """
    groups = len(row_lists)
    gid_rows, rows = group_ids(row_lists)
    picked = pc.take(values_lists, rows)
    picked = picked.combine_chunks() if isinstance(picked, pa.ChunkedArray) else picked
    gid_values = pc.list_parent_indices(picked).to_numpy(zero_copy_only=False)
    values = pc.list_flatten(picked)
    gid = gid_rows[gid_values] if len(gid_values) else np.zeros(0, dtype=np.int64)
    pairs = pa.table({"g": pa.array(gid, type=pa.int64()), "v": values})
    unique = pairs.group_by(["g", "v"], use_threads=False).aggregate([])
    order = pc.sort_indices(unique["g"])
    g_sorted = pc.take(unique["g"], order).to_numpy()
    v_sorted = pc.take(unique["v"], order).combine_chunks()
    offsets = np.searchsorted(g_sorted, np.arange(groups + 1)).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), v_sorted.cast(values_lists.type.value_type))


# --- sketches -------------------------------------------------------------------------
# datasketches offers no vectorised HLL update, so the sketch functions loop in
# Python per group (over the group's distinct values); everything else is Arrow.


def _hll_values(values: pa.Array) -> list[object]:
    """Python values hashed identically on every shard (temporal → int, decimal → str)."""
    dtype = values.type
    if pat.is_temporal(dtype):
        values = pc.cast(values, pa.int64())
    elif T.is_decimal(dtype) or pat.is_boolean(dtype):
        values = pc.cast(values, pa.string() if T.is_decimal(dtype) else pa.int64())
    elif T.is_binary(dtype):
        return [bytes(v).hex() for v in values.to_pylist()]
    return list(values.to_pylist())


def _build_hll(values: Sequence[object]) -> bytes:
    sketch = ds.hll_sketch(HLL_LG_K, ds.HLL_8)
    collections.deque(map(sketch.update, values), maxlen=0)  # C-level loop, no bytecode per value
    return bytes(sketch.serialize_compact())


@dataclass(frozen=True, slots=True)
class _ApproxCountDistinct(AggregateKernel):
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        return [(str(arg), "distinct", _ONLY_VALID)]

    def partial_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        parents, flat = group_ids(columns[0])
        values = _hll_values(flat)
        bounds = np.searchsorted(parents, np.arange(len(columns[0]) + 1))
        sketches = [_build_hll(values[bounds[i] : bounds[i + 1]]) for i in range(len(bounds) - 1)]
        return [pa.array(sketches, type=pa.binary())]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], "list", None)]

    def combine_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        return [
            _merge_sketch_lists(
                columns[0],
                lambda: ds.hll_union(HLL_LG_K),
                lambda acc, blob: acc.update(ds.hll_sketch.deserialize(blob)),
                lambda acc: bytes(acc.get_result(ds.HLL_8).serialize_compact()),
            )
        ]

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        estimates = [
            0 if blob is None else round(ds.hll_sketch.deserialize(blob).get_estimate())
            for blob in states[0].to_pylist()
        ]
        return pa.array(estimates, type=pa.int64())


def _merge_sketch_lists(
    groups: pa.Array,
    new: Callable[[], Any],
    add: Callable[[Any, bytes], None],
    dump: Callable[[Any], bytes],
) -> pa.Array:
    """One merged sketch per group, from a list column of serialized partial sketches.

    Shared by the HLL and KLL combines; nulls (empty partials) are skipped. The
    loop is per partial sketch, not per row: datasketches merges whole sketches.
    """
    merged = []
    for group in groups.to_pylist():
        acc = new()
        for blob in group or ():
            if blob is not None:
                add(acc, blob)
        merged.append(dump(acc))
    return pa.array(merged, type=pa.binary())


@dataclass(frozen=True, slots=True)
class _ApproxQuantile(AggregateKernel):
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        return [(str(arg), "list", None)]

    def partial_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        parents, flat = group_ids(columns[0])
        valid = pc.is_valid(flat).to_numpy(zero_copy_only=False)
        numbers = pc.fill_null(flat, 0.0).to_numpy(zero_copy_only=False)[valid]
        parents = parents[valid]
        bounds = np.searchsorted(parents, np.arange(len(columns[0]) + 1))
        out = []
        for i in range(len(bounds) - 1):
            sketch = ds.kll_doubles_sketch(KLL_K)
            chunk = numbers[bounds[i] : bounds[i + 1]]
            chunk = chunk[~np.isnan(chunk)]
            if len(chunk):
                sketch.update(np.ascontiguousarray(chunk, dtype=np.float64))
            out.append(bytes(sketch.serialize()))
        return [pa.array(out, type=pa.binary())]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], "list", None)]

    def combine_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        return [
            _merge_sketch_lists(
                columns[0],
                lambda: ds.kll_doubles_sketch(KLL_K),
                lambda acc, blob: acc.merge(ds.kll_doubles_sketch.deserialize(blob)),
                lambda acc: bytes(acc.serialize()),
            )
        ]

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        """The smallest retained value whose inclusive rank reaches ``q`` (the
        ``quantile_disc`` convention: exact while a group holds fewer than k values)."""
        q = float(call.option("q"))  # type: ignore[arg-type]
        out: list[float | None] = []
        for blob in states[0].to_pylist():
            sketch = None if blob is None else ds.kll_doubles_sketch.deserialize(blob)
            value = None if sketch is None or sketch.is_empty() else sketch.get_quantile(q, True)
            out.append(None if value is None or math.isnan(value) else float(value))
        return pa.array(out, type=pa.float64())


#: Registry: the kernel of each :data:`~hasivu_compute.expr.aggregates.AGGREGATES` name.
AGGREGATE_KERNELS: dict[str, AggregateKernel] = {
    k.name: k
    for k in (
        _Count("count"),
        _Sum("sum"),
        _Avg("avg"),
        _MinMax("min"),
        _MinMax("max"),
        _Variance("var_samp"),
        _Variance("var_pop"),
        _Variance("stddev_samp"),
        _Variance("stddev_pop"),
        _ApproxCountDistinct("approx_count_distinct"),
        _ApproxQuantile("approx_quantile"),
        *QUANTILE_KERNELS,
        STRING_AGG,
    )
}
assert AGGREGATE_KERNELS.keys() == AGGREGATES.keys(), "every aggregate needs a kernel"


def aggregate_kernel(name: str) -> AggregateKernel:
    """The kernel of the registered aggregate ``name`` (a bound call's ``fn``)."""
    return AGGREGATE_KERNELS[canonical_aggregate_name(name)]
