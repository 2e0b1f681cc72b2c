"""The join kernel: match row pairs with Acero's hash join, then assemble any join type.

Every join type is built from one step, the list of matching ``(left row, right
row)`` pairs: Acero hash-joins two narrow tables (the evaluated key expressions
plus a row number), so wide payload columns never go through the hash table,
and a join condition beyond the keys is evaluated on the pairs. The output is
then a ``take`` of each side by row numbers, where an outer join's unmatched
rows take a NULL row number (``take`` gives NULL for it), so the types and
layout of every column are kept.

SQL semantics, as DuckDB: a NULL key matches nothing; float keys compare by
value (-0.0 equals 0.0, NaN equals NaN).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import ExecutionError
from hasivu_compute.exec.kernels.evaluate import evaluate, evaluate_column
from hasivu_compute.exec.kernels.floats import canonical_floats
from hasivu_compute.plan.nodes import Join

#: Pairs tested at once by a join without keys (a cross join, or one on inequalities).
PAIR_BLOCK = 1 << 22


def join_tables(left: pa.Table, right: pa.Table, node: Join) -> pa.Table:
    """``left`` joined with ``right`` as ``node`` says (its keys and condition are
    bound to the two inputs' schemas)."""
    left = left.combine_chunks() if left.num_columns else left
    right = right.combine_chunks() if right.num_columns else right
    if node.left_keys:
        lidx, ridx = _key_pairs(left, right, node)
        if node.condition is not None:
            lidx, ridx = _tested(left, right, lidx, ridx, node)
    else:
        lidx, ridx = _all_pairs(left, right, node)
    return _assemble(left, right, lidx, ridx, node.how)


def _key_column(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_floating(values.type):
        values = canonical_floats(values)
    return values


def _key_pairs(left: pa.Table, right: pa.Table, node: Join) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the pairs whose keys are equal (Acero inner hash join)."""
    lcols = {f"l{i}": _key_column(evaluate_column(k, left)) for i, k in enumerate(node.left_keys)}
    rcols = {f"r{i}": _key_column(evaluate_column(k, right)) for i, k in enumerate(node.right_keys)}
    lcols["__l"] = pa.array(np.arange(left.num_rows, dtype=np.int64))
    rcols["__r"] = pa.array(np.arange(right.num_rows, dtype=np.int64))
    lkeys = pa.table(lcols)
    rkeys = pa.table(rcols)
    if lkeys.num_rows == 0 or rkeys.num_rows == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    names_l = [f"l{i}" for i in range(len(node.left_keys))]
    names_r = [f"r{i}" for i in range(len(node.right_keys))]
    try:
        # Acero builds its hash table on the right input: build on the smaller one (the
        # pairs of an inner join do not depend on it). A broadcast side probed by a
        # fragment's few rows is then scanned once, not hashed whole in every fragment.
        if lkeys.num_rows < rkeys.num_rows:
            pairs = rkeys.join(
                lkeys, keys=names_r, right_keys=names_l, join_type="inner", coalesce_keys=False
            )
        else:
            pairs = lkeys.join(
                rkeys, keys=names_l, right_keys=names_r, join_type="inner", coalesce_keys=False
            )
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as exc:
        types = ", ".join(str(lkeys.column(n).type) for n in names_l)
        raise ExecutionError(f"join on keys of type {types} failed: {exc}") from exc
    return (
        pairs.column("__l").to_numpy().astype(np.int64, copy=False),
        pairs.column("__r").to_numpy().astype(np.int64, copy=False),
    )


def _pair_table(left: pa.Table, right: pa.Table, lidx: np.ndarray, ridx: np.ndarray) -> pa.Table:
    columns = [c for c in left.take(pa.array(lidx)).columns]
    columns += [c for c in right.take(pa.array(ridx)).columns]
    return pa.Table.from_arrays(columns, names=left.column_names + right.column_names)


def _tested(
    left: pa.Table, right: pa.Table, lidx: np.ndarray, ridx: np.ndarray, node: Join
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs for which ``node.condition`` is TRUE."""
    assert node.condition is not None
    if len(lidx) == 0:
        return lidx, ridx
    keep: list[np.ndarray] = []
    for start in range(0, len(lidx), PAIR_BLOCK):
        part_l, part_r = lidx[start : start + PAIR_BLOCK], ridx[start : start + PAIR_BLOCK]
        mask = evaluate(node.condition, _pair_table(left, right, part_l, part_r))
        keep.append(start + _true_positions(mask, len(part_l)))
    where = np.concatenate(keep)
    return lidx[where], ridx[where]


def _true_positions(mask: object, n: int) -> np.ndarray:
    if isinstance(mask, pa.Scalar):
        hit = mask.is_valid and bool(mask.as_py())
        return np.arange(n, dtype=np.int64) if hit else np.empty(0, dtype=np.int64)
    filled = pc.fill_null(mask, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return np.flatnonzero(filled.to_numpy(zero_copy_only=False))


def _all_pairs(left: pa.Table, right: pa.Table, node: Join) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a cross join), or those passing the condition, a block of left rows
    at a time so at most :data:`PAIR_BLOCK` pairs are tested at once."""
    nl, nr = left.num_rows, right.num_rows
    if nl == 0 or nr == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    rows = max(1, PAIR_BLOCK // nr)
    out_l: list[np.ndarray] = []
    out_r: list[np.ndarray] = []
    for start in range(0, nl, rows):
        stop = min(nl, start + rows)
        part_l = np.repeat(np.arange(start, stop, dtype=np.int64), nr)
        part_r = np.tile(np.arange(nr, dtype=np.int64), stop - start)
        if node.condition is not None:
            part_l, part_r = _tested(left, right, part_l, part_r, node)
        out_l.append(part_l)
        out_r.append(part_r)
    return np.concatenate(out_l), np.concatenate(out_r)


def _unmatched(matched: np.ndarray, n: int) -> np.ndarray:
    seen = np.zeros(n, dtype=bool)
    seen[matched] = True
    return np.flatnonzero(~seen)


def _with_nulls(first: np.ndarray, nulls: int) -> pa.Array:
    """Row numbers ``first`` followed by ``nulls`` NULL row numbers (NULL rows in a take)."""
    if nulls == 0:
        return pa.array(first)
    mask = np.zeros(len(first) + nulls, dtype=bool)
    mask[len(first) :] = True
    values = np.concatenate([first, np.zeros(nulls, dtype=np.int64)])
    return pa.array(values, mask=mask)


def _assemble(
    left: pa.Table, right: pa.Table, lidx: np.ndarray, ridx: np.ndarray, how: str
) -> pa.Table:
    if how == "semi":
        return left.take(pa.array(np.unique(lidx)))
    if how == "anti":
        return left.take(pa.array(_unmatched(lidx, left.num_rows)))
    take_l, take_r = lidx, ridx
    only_l = _unmatched(lidx, left.num_rows) if how in ("left", "full") else lidx[:0]
    only_r = _unmatched(ridx, right.num_rows) if how in ("right", "full") else ridx[:0]
    left_rows = _with_nulls(np.concatenate([take_l, only_l]), len(only_r))
    right_part = np.concatenate([take_r, np.zeros(len(only_l), dtype=np.int64)])
    right_mask = np.zeros(len(right_part) + len(only_r), dtype=bool)
    right_mask[len(take_r) : len(right_part)] = True
    right_rows = pa.array(np.concatenate([right_part, only_r]), mask=right_mask)
    columns = list(left.take(left_rows).columns) + list(right.take(right_rows).columns)
    return pa.Table.from_arrays(columns, names=left.column_names + right.column_names)


__all__ = ["PAIR_BLOCK", "join_tables"]
