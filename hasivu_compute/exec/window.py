"""Window functions over one Arrow table that holds whole partitions.

The rows are sorted once per distinct (PARTITION BY, ORDER BY) spec; then every
call of that spec is computed on the sorted rows with numpy, from per-row
positions: where the row's partition and peer group (rows equal on the ORDER BY
keys) start and end, and its frame ``[lo, hi)``. Frame aggregates use prefix sums
(sum, count, avg: exact for integers and decimals, compensated for NaN and
infinities in floats) and, for min / max, cumulative maxima over dense value ranks
or a sparse table when frames slide. Results are put back in input row order.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import ArithmeticOverflowError, ExecutionError
from hasivu_compute.exec.kernels.evaluate import evaluate_column
from hasivu_compute.exec.kernels.ordering import order_indices
from hasivu_compute.plan._expr import Expr, WindowCall, output_name, unalias

__all__ = ["window_table"]

_INT64 = (-(2**63), 2**63 - 1)


def window_table(table: pa.Table, funcs: tuple[Expr, ...]) -> pa.Table:
    """``table`` with one column appended per window call in ``funcs`` (each aliased)."""
    calls = [(output_name(f), unalias(f)) for f in funcs]
    results: dict[str, pa.Array] = {}
    done: list[WindowCall] = []
    for _, call in calls:
        assert isinstance(call, WindowCall)
        if any(call.same_spec(d) for d in done):
            continue
        done.append(call)
        layout = _Layout.of(table, call)
        for name, other in calls:
            assert isinstance(other, WindowCall)
            if other.same_spec(call):
                values = _compute(other, layout, table)
                results[name] = values.take(pa.array(layout.inverse))
    for name, call in calls:
        values = results[name]
        if not values.type.equals(call.dtype):
            values = values.cast(call.dtype)
        table = table.append_column(pa.field(name, call.dtype), values)
    return table


@dataclass(frozen=True, slots=True)
class _Layout:
    """Rows of one window spec in sorted order, with per-row group positions."""

    order: np.ndarray  # sorted position -> input row
    inverse: np.ndarray  # input row -> sorted position
    part_start: np.ndarray
    part_end: np.ndarray
    peer_start: np.ndarray
    peer_end: np.ndarray
    peer_new: np.ndarray  # whether a sorted row starts a peer group
    keys: tuple[pa.Array, ...]  # the ORDER BY values, sorted

    @staticmethod
    def of(table: pa.Table, call: WindowCall) -> _Layout:
        n = table.num_rows
        parts = [_array(evaluate_column(e, table)) for e in call.partition_by]
        keys = [_array(evaluate_column(e, table)) for e in call.order_by]
        columns = [(v, False, None) for v in parts]
        columns += list(zip(keys, call.descending, call.nulls_first, strict=True))
        if columns and n > 1:
            order = order_indices(columns).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            order = np.arange(n, dtype=np.int64)
        taken = pa.array(order)
        parts = [v.take(taken) for v in parts]
        keys = [v.take(taken) for v in keys]
        part_new = _changes(parts, n)
        peer_new = part_new | _changes(keys, n)
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n, dtype=np.int64)
        part_start, part_end = _spans(part_new)
        peer_start, peer_end = _spans(peer_new)
        return _Layout(
            order, inverse, part_start, part_end, peer_start, peer_end, peer_new, tuple(keys)
        )

    @property
    def size(self) -> int:
        return len(self.order)


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _changes(columns: list[pa.Array], n: int) -> np.ndarray:
    """Per sorted row, whether it differs from the row before on any column
    (NULLs equal each other, NaNs too: one partition / peer group each)."""
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
    if n < 2:
        return new
    for values in columns:
        head, tail = values.slice(0, n - 1), values.slice(1)
        same = pc.fill_null(pc.equal(tail, head), False)
        null_head, null_tail = pc.is_null(head), pc.is_null(tail)
        same = pc.or_(same, pc.and_(null_head, null_tail))
        if pa.types.is_floating(values.type):
            nan_head = pc.fill_null(pc.is_nan(head), False)
            nan_tail = pc.fill_null(pc.is_nan(tail), False)
            same = pc.or_(same, pc.and_(nan_head, nan_tail))
        new[1:] |= ~same.to_numpy(zero_copy_only=False)
    return new


def _spans(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first row and one past the last row of its group."""
    n = len(starts)
    index = np.arange(n, dtype=np.int64)
    first = np.flatnonzero(starts)
    group = np.cumsum(starts) - 1
    ends = np.append(first[1:], n)
    return first[group] if n else index, ends[group] if n else index


# --- per-function ------------------------------------------------------------------


def _compute(call: WindowCall, layout: _Layout, table: pa.Table) -> pa.Array:
    fn = call.fn
    n = layout.size
    index = np.arange(n, dtype=np.int64)
    if fn == "row_number":
        return pa.array(index - layout.part_start + 1)
    if fn == "rank":
        return pa.array(layout.peer_start - layout.part_start + 1)
    if fn == "dense_rank":
        ordinal = np.cumsum(layout.peer_new)
        return pa.array(ordinal - ordinal[layout.part_start] + 1 if n else ordinal)
    if fn == "percent_rank":
        size = layout.part_end - layout.part_start
        rank = layout.peer_start - layout.part_start
        return pa.array(np.where(size > 1, rank / np.maximum(size - 1, 1), 0.0))
    if fn == "cume_dist":
        size = layout.part_end - layout.part_start
        return pa.array((layout.peer_end - layout.part_start) / size if n else index * 1.0)
    if fn == "ntile":
        return _ntile(call, layout, index)
    values = _sorted_arg(call, layout, table)
    if fn in ("lag", "lead"):
        return _shifted(call, layout, values, index)
    lo, hi = _frame(call, layout, index)
    if fn in ("first_value", "last_value", "nth_value"):
        return _pick(call, values, lo, hi)
    return _frame_aggregate(call, values, lo, hi, layout)


def _sorted_arg(call: WindowCall, layout: _Layout, table: pa.Table) -> pa.Array | None:
    if not call.args:
        return None
    values = _array(evaluate_column(call.args[0], table))
    if len(values) != layout.size:  # a constant argument
        values = pa.repeat(values[0], layout.size) if len(values) else values
    return values.take(pa.array(layout.order))


def _literal_int(call: WindowCall, position: int, default: int) -> int:
    if len(call.args) <= position:
        return default
    value = getattr(call.args[position], "value", None)
    if not isinstance(value, int):
        raise ExecutionError(f"{call.fn}(): argument {position + 1} must be an integer constant")
    return value


def _ntile(call: WindowCall, layout: _Layout, index: np.ndarray) -> pa.Array:
    buckets = _literal_int(call, 0, 1)
    total = layout.part_end - layout.part_start
    row = index - layout.part_start
    small = total // buckets
    large = total - buckets * small  # buckets holding one row more
    cut = large * (small + 1)
    first = 1 + row // (small + 1)
    rest = 1 + large + (row - cut) // np.maximum(small, 1)
    return pa.array(np.where(row < cut, first, rest))


def _shifted(
    call: WindowCall, layout: _Layout, values: pa.Array | None, index: np.ndarray
) -> pa.Array:
    assert values is not None
    offset = _literal_int(call, 1, 1)
    source = index - offset if call.fn == "lag" else index + offset
    valid = (source >= layout.part_start) & (source < layout.part_end)
    picked = values.take(pa.array(np.where(valid, source, 0))) if len(values) else values
    default = pa.scalar(None, values.type)
    if len(call.args) == 3:  # a constant, already cast to the value's type by the binder
        one = evaluate_column(call.args[2], pa.table({"_": [0]}))
        default = one[0].cast(values.type)
    if len(picked) == 0:
        return picked
    return pc.if_else(pa.array(valid), picked, default)


def _pick(call: WindowCall, values: pa.Array | None, lo: np.ndarray, hi: np.ndarray) -> pa.Array:
    assert values is not None
    if call.fn == "first_value":
        at = lo
    elif call.fn == "last_value":
        at = hi - 1
    else:
        at = lo + _literal_int(call, 1, 1) - 1
    valid = (at >= lo) & (at < hi)
    if len(values) == 0:
        return values
    picked = values.take(pa.array(np.where(valid, at, 0)))
    return pc.if_else(pa.array(valid), picked, pa.scalar(None, values.type))


# --- frames ------------------------------------------------------------------------


def _frame(call: WindowCall, layout: _Layout, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sorted row, its frame ``[lo, hi)`` (empty when ``hi <= lo``)."""
    frame = call.frame
    lo = _bound(frame.start, frame.mode, layout, index, start=True, call=call)
    hi = _bound(frame.end, frame.mode, layout, index, start=False, call=call)
    lo = np.clip(lo, layout.part_start, layout.part_end)
    hi = np.clip(hi, layout.part_start, layout.part_end)
    return lo, np.maximum(hi, lo)


def _bound(
    bound: object, mode: str, layout: _Layout, index: np.ndarray, *, start: bool, call: WindowCall
) -> np.ndarray:
    kind = bound.kind
    offset = bound.offset
    if kind == "unbounded_preceding":
        return layout.part_start
    if kind == "unbounded_following":
        return layout.part_end
    if kind == "current_row":
        if mode == "rows":
            return index if start else index + 1
        return layout.peer_start if start else layout.peer_end
    sign = -1 if kind == "preceding" else 1
    if mode == "rows":
        shift = sign * int(offset)
        return index + shift if start else index + shift + 1
    return _range_bound(call, layout, sign, offset, start)


def _range_bound(
    call: WindowCall, layout: _Layout, sign: int, offset: object, start: bool
) -> np.ndarray:
    """RANGE ``offset PRECEDING/FOLLOWING``: the first row whose key reaches
    ``key ± offset`` (start), or one past the last row within it (end), searched
    in the row's partition among rows with a non-NULL key (they are contiguous: NULLs
    sort first or last). Rows with a NULL key frame their NULL peers. One binary
    search for all rows at once, each within its own partition's span."""
    keys, delta = _measured(layout.keys[0], offset)
    if call.descending[0]:
        keys = -keys
    null = np.asarray(pc.is_null(layout.keys[0]).to_numpy(zero_copy_only=False), dtype=bool)
    out = np.where(start, layout.peer_start, layout.peer_end).astype(np.int64)
    prefix = np.concatenate([[0], np.cumsum(null)])
    nulls = prefix[layout.part_end] - prefix[layout.part_start]
    if call.nulls_first[0]:
        low, high = layout.part_start + nulls, layout.part_end
    else:
        low, high = layout.part_start, layout.part_end - nulls
    rows = np.flatnonzero(~null)
    if len(rows) == 0:
        return out
    target = keys[rows] + sign * delta
    lo, hi = low[rows].copy(), high[rows].copy()
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        probe = keys[np.minimum(mid, len(keys) - 1)]
        right = probe < target if start else probe <= target
        lo = np.where(active & right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
    out[rows] = lo
    return out


def _measured(keys: pa.Array, offset: object) -> tuple[np.ndarray, object]:
    """The order key as numbers that subtract exactly, and ``offset`` in the same units."""
    dtype = keys.type
    if pa.types.is_date(dtype) or pa.types.is_timestamp(dtype):
        micros = keys.cast(pa.timestamp("us")).cast(pa.int64())
        assert isinstance(offset, dt.timedelta)
        return _exact_ints(micros, offset // dt.timedelta(microseconds=1))
    if pa.types.is_decimal(dtype):
        filled = [decimal.Decimal(0) if v is None else v for v in keys.to_pylist()]
        return np.array(filled, dtype=object), decimal.Decimal(str(offset))
    if pa.types.is_integer(dtype):
        return _exact_ints(keys.cast(pa.int64()), int(offset))  # type: ignore[call-overload]
    values = pc.fill_null(keys.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64), float(offset)  # type: ignore[arg-type]


def _exact_ints(values: pa.Array, delta: int) -> tuple[np.ndarray, object]:
    """int64 numbers when ``key ± delta`` (and ``-key``) cannot overflow, else Python ints."""
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    widest = max(abs(int(numbers.min())), abs(int(numbers.max()))) if len(numbers) else 0
    if widest + abs(delta) < 2**62:
        return numbers, delta
    return np.asarray(numbers, dtype=object), delta


# --- frame aggregates ---------------------------------------------------------------


def _frame_aggregate(
    call: WindowCall, values: pa.Array | None, lo: np.ndarray, hi: np.ndarray, layout: _Layout
) -> pa.Array:
    if values is None:  # count(*)
        return pa.array(hi - lo)
    present = ~np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)
    counts = _range_sum(present.astype(np.int64), lo, hi)
    if call.fn == "count":
        return pa.array(counts)
    empty = counts == 0
    if call.fn in ("min", "max"):
        return _min_max(call.fn, values, present, lo, hi, empty, layout)
    total = _sum(call, values, present, lo, hi)
    if call.fn == "sum":
        return _masked(total, empty, call.dtype)
    sums = total.cast(pa.float64()) if not pa.types.is_floating(total.type) else total
    averages = pc.divide(sums, pa.array(np.maximum(counts, 1).astype(np.float64)))
    return _masked(averages, empty, pa.float64())


def _masked(values: pa.Array, empty: np.ndarray, dtype: pa.DataType) -> pa.Array:
    values = values.cast(dtype) if not values.type.equals(dtype) else values
    if not empty.any():
        return values
    return pc.if_else(pa.array(empty), pa.scalar(None, dtype), values)


def _range_sum(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    prefix = np.concatenate([np.zeros(1, dtype=values.dtype), np.cumsum(values)])
    out: np.ndarray = prefix[hi] - prefix[lo]
    return out


def _sum(
    call: WindowCall, values: pa.Array, present: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> pa.Array:
    dtype = values.type
    if pa.types.is_integer(dtype) or pa.types.is_boolean(dtype):
        numbers = pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        if int(np.abs(numbers, dtype=np.float64).sum()) < 2**62:
            return pa.array(_range_sum(numbers.astype(np.int64), lo, hi))
        exact = _range_sum(np.asarray(numbers, dtype=object), lo, hi)
        return pa.array(_checked(call, exact), pa.int64())
    if pa.types.is_decimal(dtype):
        filled = [decimal.Decimal(0) if v is None else v for v in values.to_pylist()]
        return pa.array(list(_range_sum(np.array(filled, dtype=object), lo, hi)), dtype)
    return _float_sum(values, lo, hi)


def _checked(call: WindowCall, sums: np.ndarray) -> list[int]:
    low, high = _INT64
    for value in sums:
        if not low <= value <= high:
            raise ArithmeticOverflowError(
                f"{call} overflows int64: a frame's exact sum is {value}; cast the argument "
                "to DECIMAL(38, 0) (or DOUBLE) to sum past that",
                column=str(call),
            )
    return [int(v) for v in sums]


def _float_sum(values: pa.Array, lo: np.ndarray, hi: np.ndarray) -> pa.Array:
    """Frame sums of floats: finite parts by extended-precision prefix sums, NaN and
    infinities counted apart (a difference of prefix sums holding one is NaN)."""
    numbers = pc.fill_null(values.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    finite = np.isfinite(numbers)
    body = _range_sum(np.where(finite, numbers, 0.0).astype(np.longdouble), lo, hi)
    nan = _range_sum(np.isnan(numbers).astype(np.int64), lo, hi)
    pos = _range_sum((numbers == np.inf).astype(np.int64), lo, hi)
    neg = _range_sum((numbers == -np.inf).astype(np.int64), lo, hi)
    out = body.astype(np.float64)
    out = np.where(pos > 0, np.inf, out)
    out = np.where(neg > 0, -np.inf, out)
    out = np.where((nan > 0) | ((pos > 0) & (neg > 0)), np.nan, out)
    return pa.array(out, pa.float64())


def _min_max(
    fn: str,
    values: pa.Array,
    present: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    empty: np.ndarray,
    layout: _Layout,
) -> pa.Array:
    """min / max over frames on dense ranks of the values (any orderable type; NaN
    ranks above every number, as in DuckDB)."""
    n = len(values)
    if n == 0:
        return values
    ranks = pc.rank(values, sort_keys=[("", "ascending", "at_end")], tiebreaker="dense")
    rank = ranks.to_numpy(zero_copy_only=False).astype(np.int64)
    top = int(rank.max()) + 1
    score = np.where(present, rank if fn == "max" else top - rank, 0)  # larger is better
    best = _range_max(score, lo, hi, layout)
    chosen = best if fn == "max" else top - best
    holder = np.zeros(top + 1, dtype=np.int64)
    holder[rank] = np.arange(n, dtype=np.int64)
    picked = values.take(pa.array(holder[np.clip(chosen, 0, top)]))
    return _masked(picked, empty, values.type)


def _range_max(score: np.ndarray, lo: np.ndarray, hi: np.ndarray, layout: _Layout) -> np.ndarray:
    """Per row, the max of ``score[lo:hi]`` (scores >= 0; 0 for an empty frame)."""
    n = len(score)
    last = np.maximum(hi - 1, lo)
    if np.array_equal(lo, layout.part_start):  # running frames: a cumulative max per partition
        group = np.cumsum(np.r_[True, layout.part_start[1:] != layout.part_start[:-1]])
        span = int(score.max()) + 1
        running = np.maximum.accumulate(group * span + score) - group * span
        return np.where(hi > lo, running[np.minimum(last, n - 1)], 0)
    if np.array_equal(hi, layout.part_end):  # reverse running: the same from the end
        flipped = _range_max(
            score[::-1],
            (n - hi)[::-1],
            (n - lo)[::-1],
            _reversed(layout),
        )
        return flipped[::-1]
    return _sparse_max(score, lo, hi)


def _reversed(layout: _Layout) -> _Layout:
    n = layout.size
    return _Layout(
        layout.order,
        layout.inverse,
        (n - layout.part_end)[::-1],
        (n - layout.part_start)[::-1],
        (n - layout.peer_end)[::-1],
        (n - layout.peer_start)[::-1],
        layout.peer_new,
        layout.keys,
    )


def _sparse_max(score: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Range maxima by a sparse table sized to the longest frame."""
    length = hi - lo
    longest = int(length.max()) if len(length) else 0
    levels = [score]
    width = 1
    while width * 2 <= longest:
        prev = levels[-1]
        shifted = np.concatenate([prev[width:], np.zeros(width, dtype=prev.dtype)])
        levels.append(np.maximum(prev, shifted))
        width *= 2
    level = np.zeros(len(length), dtype=np.int64)
    positive = length > 0
    level[positive] = np.floor(np.log2(length[positive])).astype(np.int64)
    out = np.zeros(len(score), dtype=score.dtype)
    for k, table in enumerate(levels):
        rows = np.flatnonzero(positive & (level == k))
        if len(rows):
            out[rows] = np.maximum(table[lo[rows]], table[hi[rows] - (1 << k)])
    return out
