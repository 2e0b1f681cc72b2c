"""List-valued aggregate states: gathered per group, merged by concatenation.

Exact quantiles and string_agg cannot be reduced on a shard: their state is the
group's values (a ``large_list`` per group). The partial step gathers each
group's values, the combine step concatenates the lists of one group's partials,
and the finalize step sorts within each group. Everything here is vectorised over
the flattened values and the list offsets; nothing loops per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.exec.kernels.ordering import order_indices


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def gathered(row_lists: pa.Array | pa.ChunkedArray, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Per group, the ``values`` at the row numbers listed in ``row_lists`` (in order).

    ``row_lists`` is Arrow's ``hash_list`` of a row-number column, which works for
    every key type; ``take`` then works for every value type (structs included).
    """
    rows = _array(row_lists)
    offsets = _offsets(rows)
    flat = pc.list_flatten(rows)
    picked = _array(values).take(flat)
    return pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), picked)


def _offsets(lists: pa.Array) -> np.ndarray:
    """Offsets of ``lists`` from 0 (slices and null entries included: a null is empty)."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    out = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def concatenated(list_of_lists: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Per row, the concatenation of its lists (``[[1, 2], [3]]`` -> ``[1, 2, 3]``).

    The combine step of a list state: one row per group holding its partials' lists.
    """
    outer = _array(list_of_lists)
    inner = pc.list_flatten(outer)  # the partial lists, group after group
    inner_counts = pc.fill_null(pc.list_value_length(inner), 0).to_numpy(zero_copy_only=False)
    inner_ends = np.concatenate([[0], np.cumsum(inner_counts, dtype=np.int64)])
    outer_offsets = _offsets(outer)
    values = pc.list_flatten(inner)
    return pa.LargeListArray.from_arrays(pa.array(inner_ends[outer_offsets], pa.int64()), values)


def without_nulls(lists: pa.Array | pa.ChunkedArray, field: str | None = None) -> pa.Array:
    """``lists`` with NULL items removed (aggregates skip NULL inputs); with ``field``,
    the struct items whose ``field`` is NULL."""
    lists = _array(lists)
    flat = pc.list_flatten(lists)
    tested = flat.field(field) if field is not None else flat
    if tested.null_count == 0 and flat.null_count == 0:
        return lists
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    valid = pc.and_(pc.is_valid(flat), pc.is_valid(tested)).to_numpy(zero_copy_only=False)
    counts = np.bincount(parents[valid], minlength=len(lists))
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return pa.LargeListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(valid)))


def sorted_groups(
    lists: pa.Array | pa.ChunkedArray, keys: Sequence[tuple[str, bool, bool]] = ()
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """The items of every group, sorted within the group; and per group its start and count.

    Without ``keys`` the items themselves are sorted ascending (NULLs must be gone;
    NaN sorts above every number, as in DuckDB). With ``keys`` the items are structs
    and ``(field, descending, nulls_first)`` name the sort fields; ties keep input order.
    """
    lists = _array(lists)
    counts = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    starts = np.zeros(len(lists), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    if len(flat) <= 1:
        return flat, starts, counts.astype(np.int64)
    sort_keys = keys or [("", False, False)]
    columns: list[tuple[pa.Array | pa.ChunkedArray, bool, bool | None]] = [(parents, False, False)]
    for name, descending, nulls_first in sort_keys:
        columns.append((flat.field(name) if name else flat, descending, nulls_first))
    indices = order_indices(columns)
    return flat.take(indices), starts, counts.astype(np.int64)
