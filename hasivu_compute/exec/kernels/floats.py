"""Floats as DuckDB orders and compares them: NaN is one value, greater than every number.

``max`` over floats:

Arrow's ``hash_max`` skips NaN (``max(1, inf, NaN)`` is inf; DuckDB says NaN),
while its ``hash_min`` already matches DuckDB (NaN only when every value is
NaN). :func:`lower_nan_max` adds, for a float ``max`` whose input holds a NaN,
a ``hash_any`` over ``is_nan(x)``; :func:`finish_nan_max` then puts NaN where a
group had one. Partial states are maxima, so the same rule merges them. An
input without NaN costs one ``sum`` pass (:func:`may_hold_nan`) and nothing else.

Grouping and DISTINCT: hash kernels compare bits, so -0.0 and 0.0, and NaNs with
different sign or payload bits, would be different groups; DuckDB has one of
each. :func:`canonical_floats` maps them to 0.0 and one NaN first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.exec.kernels.aggbase import Spec, spec_output_name

_NAN_SUFFIX = "__hc_nan"


def canonical_floats(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Floats with -0.0 turned into 0.0 and every NaN into one NaN (other types as given).

    Adding 0.0 keeps NULLs and maps -0.0 to 0.0; a NaN keeps its sign and payload
    through it, so NaNs are replaced only when the column holds one.
    """
    if not pa.types.is_floating(values.type):
        return values
    zeroed = pc.add(values, pa.scalar(0.0, values.type))
    if not may_hold_nan(zeroed):
        return zeroed
    return pc.if_else(pc.is_nan(zeroed), pa.scalar(float("nan"), values.type), zeroed)


def may_hold_nan(values: pa.Array | pa.ChunkedArray) -> bool:
    """False when float ``values`` certainly hold no NaN.

    Their sum is NaN whenever one is (or +inf meets -inf: a false alarm that only
    costs the exact check). One pass without allocating: ~2.6 ms per 10M doubles,
    vs ~7 ms for ``any(is_nan(values))``.
    """
    total = pc.sum(values).as_py()
    return total is not None and math.isnan(total)


@dataclass(frozen=True, slots=True)
class NanFix:
    """``max`` output ``name`` becomes NaN where group-by output ``flag`` is true."""

    name: str
    flag: str


def lower_nan_max(
    table: pa.Table, specs: Mapping[str, Spec]
) -> tuple[pa.Table, dict[str, Spec], list[NanFix]]:
    """Add a NaN-presence spec next to every float ``max`` over a column holding NaN."""
    out = dict(specs)
    fixes: list[NanFix] = []
    for name, (column, fn, _) in specs.items():
        if fn != "max" or not isinstance(column, str):
            continue
        values = table.column(column)
        if not pa.types.is_floating(values.type):
            continue
        if not may_hold_nan(values):
            continue
        is_nan = pc.is_nan(values)
        if not pc.any(is_nan).as_py():
            continue
        flag_column = column + _NAN_SUFFIX
        if flag_column not in table.column_names:
            table = table.append_column(flag_column, is_nan)
        flag: Spec = (flag_column, "any", None)
        out[spec_output_name(flag)] = flag
        fixes.append(NanFix(name, spec_output_name(flag)))
    return table, out, fixes


def finish_nan_max(grouped: pa.Table, fixes: list[NanFix]) -> pa.Table:
    """Replace each fixed ``max`` column by NaN where its group held a NaN."""
    for fix in fixes:
        index = grouped.schema.get_field_index(fix.name)
        values = grouped.column(index)
        had_nan = pc.fill_null(grouped.column(fix.flag), False)
        nan = pa.scalar(float("nan"), values.type)
        grouped = grouped.set_column(index, grouped.field(index), pc.if_else(had_nan, nan, values))
    return grouped


__all__ = ["NanFix", "canonical_floats", "finish_nan_max", "lower_nan_max", "may_hold_nan"]
