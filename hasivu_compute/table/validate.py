"""Validate an incoming batch against a table schema, whole-batch and vectorised.

A bad batch is rejected whole with an error naming the column and, where a value
is at fault, the first bad row. Conversions are allowed only where no
information can be lost silently: integer to wider or fitting integer, integer
to float, float32 to float64, string-likes to each other, text to a typed column
when every value parses, timestamps between units. Every conversion runs as a
safe Arrow cast; when one fails, the first failing row is found by bisecting on
slices (each probe is one vectorised cast), so the error path stays vectorised too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import InvalidDataError, SchemaMismatchError
from hasivu_compute.schema.schema import Field, TableSchema

BatchLike: TypeAlias = pa.Table | pa.RecordBatch | Mapping[str, object]


def validate_batch(schema: TableSchema, data: BatchLike, row_offset: int = 0) -> pa.Table:
    """Return ``data`` as a table of exactly ``schema``'s columns, order and types.

    ``row_offset`` is added to the row numbers errors name (``data`` is a slice
    of the caller's batch starting there).

    Raises:
        SchemaMismatchError: extra, missing or duplicate columns, a type that cannot
            be converted, or a text value that does not parse (names column and row).
        InvalidDataError: a value that does not fit (overflow) or a null in a
            non-nullable column (names column and row).
    """
    table = _as_table(data)
    names = table.column_names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaMismatchError(f"column {dupes[0]!r} appears more than once", column=dupes[0])
    for name in names:
        if not schema.has(name):
            raise SchemaMismatchError(
                f"column {name!r} is not in the table schema {list(schema.names)}", column=name
            )
    columns = []
    for f in schema.fields:
        if f.name not in names:
            raise SchemaMismatchError(
                f"column {f.name!r} ({f.type}) is missing from the batch", column=f.name
            )
        arr = table.column(f.name).combine_chunks()
        arr = _convert(arr, f, row_offset)
        _check_nulls(arr, f, row_offset)
        columns.append(arr)
    return pa.Table.from_arrays(columns, schema=schema.to_arrow())


def _as_table(data: BatchLike) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        try:
            return pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            raise SchemaMismatchError(f"DataFrame cannot be converted to Arrow: {exc}") from exc
    if isinstance(data, Mapping):
        try:
            return pa.table(dict(data))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            raise SchemaMismatchError(f"batch cannot be converted to Arrow: {exc}") from exc
    raise SchemaMismatchError(
        f"expected a pyarrow Table, RecordBatch, pandas DataFrame or dict of columns, "
        f"got {type(data).__name__}"
    )


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or t == pa.string_view())


def _is_bin(t: pa.DataType) -> bool:
    return bool(pa.types.is_binary(t) or pa.types.is_large_binary(t) or t == pa.binary_view())


def _conversion(src: pa.DataType, dst: pa.DataType) -> str | None:
    """How a ``src`` column may become ``dst``: "value" (may overflow), "parse", or None."""
    if (_is_text(src) and _is_text(dst)) or (_is_bin(src) and _is_bin(dst)):
        return "value"
    if pa.types.is_null(src):
        return "value"
    if pa.types.is_integer(src) and (pa.types.is_integer(dst) or pa.types.is_floating(dst)):
        return "value"
    if pa.types.is_integer(src) and pa.types.is_decimal(dst):
        return "value"
    if pa.types.is_floating(src) and pa.types.is_floating(dst):
        return "value" if dst.bit_width >= src.bit_width else None
    if pa.types.is_decimal(src) and pa.types.is_decimal(dst):
        return "value"
    if pa.types.is_timestamp(src) and pa.types.is_timestamp(dst):
        return "value" if (src.tz is None) == (dst.tz is None) else None
    if _is_text(src) and (
        pa.types.is_integer(dst)
        or pa.types.is_floating(dst)
        or pa.types.is_decimal(dst)
        or pa.types.is_date(dst)
        or pa.types.is_timestamp(dst)
        or pa.types.is_boolean(dst)
    ):
        return "parse"
    if pa.types.is_nested(src) and pa.types.is_nested(dst) and _casts_type(src, dst):
        return "value"  # e.g. list<string_view> -> list<string>
    return None


def _casts_type(src: pa.DataType, dst: pa.DataType) -> bool:
    try:
        pc.cast(pa.nulls(0, src), dst, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return True


def _convert(arr: pa.Array, f: Field, row_offset: int) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if arr.type == f.type:
        return arr
    how = _conversion(arr.type, f.type)
    if how is None:
        raise SchemaMismatchError(
            f"column {f.name!r}: expected {f.type}, got {arr.type}; cast the column first",
            column=f.name,
        )
    try:
        return pc.cast(arr, f.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    local = _first_bad_row(arr, f.type)
    value = arr[local].as_py()
    row = local + row_offset
    if how == "parse":
        raise SchemaMismatchError(
            f"column {f.name!r} row {row}: expected {f.type}, got {value!r}", column=f.name, row=row
        )
    raise InvalidDataError(
        f"column {f.name!r} row {row}: value {value!r} does not fit {f.type}",
        column=f.name,
        row=row,
    )


def _casts(arr: pa.Array, dtype: pa.DataType) -> bool:
    try:
        pc.cast(arr, dtype, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _first_bad_row(arr: pa.Array, dtype: pa.DataType) -> int:
    """Index of the first value that does not cast (``arr`` as a whole does not)."""
    lo, hi = 0, len(arr)  # the bad row is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _casts(arr.slice(lo, mid - lo), dtype):
            lo = mid
        else:
            hi = mid
    return lo


def _check_nulls(arr: pa.Array, f: Field, row_offset: int) -> None:
    if f.nullable or arr.null_count == 0:
        return
    row = pc.index(pc.is_null(arr), True).as_py() + row_offset
    raise InvalidDataError(
        f"column {f.name!r} row {row}: null in a non-nullable column", column=f.name, row=row
    )
