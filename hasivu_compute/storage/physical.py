"""How each supported Arrow type is stored: its value domain and numpy storage dtype.

Integer-backed types (ints, dates, times, timestamps, durations) are stored as
their integers; decimal128 as scaled integers (int64 when every value fits,
else low and high 64-bit halves); floats as floats; strings and binary (also
the large and view variants) as bytes. Anything else is rejected up front with
a typed error naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from hasivu_compute._core.errors import SchemaMismatchError
from hasivu_compute.storage.encodings.base import NDArray

Domain = Literal["int", "float", "bool", "binary", "decimal", "null"]

_INT_TYPES: dict[pa.DataType, type[np.generic]] = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.uint32(): np.uint32,
    pa.uint64(): np.uint64,
    pa.date32(): np.int32,
    pa.date64(): np.int64,
}


@dataclass(frozen=True, slots=True)
class Physical:
    """Storage class of an Arrow type."""

    domain: Domain
    dtype: np.dtype[np.generic]


def physical_of(arrow_type: pa.DataType, column: str) -> Physical:
    """The storage class of ``arrow_type``; ``SchemaMismatchError`` if unsupported."""
    t = arrow_type
    if t in _INT_TYPES:
        return Physical("int", np.dtype(_INT_TYPES[t]))
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_time64(t):
        return Physical("int", np.dtype(np.int64))
    if pa.types.is_time32(t):
        return Physical("int", np.dtype(np.int32))
    if pa.types.is_float32(t) or pa.types.is_float64(t):
        return Physical("float", np.dtype(t.to_pandas_dtype()))
    if pa.types.is_boolean(t):
        return Physical("bool", np.dtype(np.bool_))
    if pa.types.is_decimal128(t):
        return Physical("decimal", np.dtype(np.int64))
    if is_binary_like(t):
        return Physical("binary", np.dtype(np.uint8))
    if pa.types.is_null(t):
        return Physical("null", np.dtype(np.uint8))
    raise SchemaMismatchError(
        f"column {column!r}: type {t} cannot be stored in a segment; supported are bool, "
        "(u)int8-64, float32/64, decimal128, string/binary (large, view), date, time, "
        "timestamp, duration and null",
        column=column,
    )


def is_binary_like(t: pa.DataType) -> bool:
    """Strings and binary in every offset/view flavour."""
    return is_offset_binary(t) or bool(pa.types.is_string_view(t) or pa.types.is_binary_view(t))


def stored_type(t: pa.DataType) -> pa.DataType:
    """The column type a segment records for input of type ``t``.

    A dictionary of strings or binary is stored as its value type: the
    dictionary is an encoding (see ``encodings.dictionary``), not part of the
    column's type. Every other type is stored as itself.
    """
    if pa.types.is_dictionary(t) and is_offset_binary(t.value_type):
        return t.value_type
    return t


def is_offset_binary(t: pa.DataType) -> bool:
    """Strings and binary with 32- or 64-bit offsets (not views)."""
    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    )


def storage_binary_type(t: pa.DataType) -> pa.DataType:
    """The offset-based type a binary-like column is encoded as (views become large)."""
    if pa.types.is_string_view(t):
        return pa.large_string()
    if pa.types.is_binary_view(t):
        return pa.large_binary()
    return t


def validity_of(arr: pa.Array) -> NDArray | None:
    """Numpy bool validity of ``arr`` or ``None`` when it has no nulls."""
    if arr.null_count == 0 or pa.types.is_null(arr.type):
        return None
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)


def fixed_values(arr: pa.Array, dtype: np.dtype[np.generic], width: int = 1) -> NDArray:
    """Zero-copy numpy view of a fixed-width array's values (``width`` items per row)."""
    buf = arr.buffers()[1]
    n = len(arr)
    if buf is None or n == 0:
        return np.zeros(n * width, dtype=dtype)
    return np.frombuffer(buf, dtype=dtype, count=(arr.offset + n) * width)[arr.offset * width :]


def fill_nulls(values: NDArray, valid: NDArray | None) -> NDArray:
    """Replace null slots with the first valid value so they do not widen ranges."""
    if valid is None or len(values) == 0:
        return values
    first = int(np.argmax(valid))
    fill = values[first] if valid[first] else values.dtype.type(0)
    return np.where(valid, values, fill)


def decimal_halves(arr: pa.Array) -> tuple[NDArray, NDArray]:
    """(low, high) int64 halves of a decimal128 array's values."""
    pairs = fixed_values(arr, np.dtype(np.int64), 2).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def decimal_from_int64(values: NDArray) -> NDArray:
    """Sign-extend int64 scaled values into little-endian int128 (as an (n, 2) int64 array)."""
    out = np.empty((len(values), 2), dtype=np.int64)
    out[:, 0] = values
    out[:, 1] = values >> 63
    return out
