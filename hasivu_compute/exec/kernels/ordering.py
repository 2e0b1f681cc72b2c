"""Row orders with SQL's NULL and NaN placement, shared by sorts, windows and the
ordered aggregates (``string_agg(... ORDER BY ...)``, quantiles)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["order_indices"]


def order_indices(
    columns: list[tuple[pa.Array | pa.ChunkedArray, bool, bool | None]],
) -> pa.Array:
    """Row positions that order rows by ``(values, descending, nulls_first)`` keys (stable).

    Per key, NULLs go first or last as asked (default last) and NaN is larger than
    every number (DuckDB): helper flag columns sort before each key, because
    Arrow's null placement is global and puts NaN with the nulls.
    """
    cols: dict[str, pa.ChunkedArray | pa.Array] = {}
    order: list[tuple[str, str]] = []
    for i, (values, descending, nulls_first) in enumerate(columns):
        direction = "descending" if descending else "ascending"
        cols[f"n{i}"] = pc.is_null(values)
        order.append((f"n{i}", "descending" if nulls_first else "ascending"))
        if pa.types.is_floating(values.type):
            cols[f"nan{i}"] = pc.fill_null(pc.is_nan(values), False)
            order.append((f"nan{i}", direction))
        cols[f"k{i}"] = values
        order.append((f"k{i}", direction))
    indices: pa.Array = pc.sort_indices(pa.table(cols), sort_keys=order)
    return indices
