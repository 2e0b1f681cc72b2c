"""Plain encoding: the values' own bytes (zstd does the rest).

For integers and floats the buffer is the native little-endian array; for
booleans a little-endian bitmap; for strings/binary the value lengths (as a
narrow integer child) followed by the concatenated bytes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from hasivu_compute.storage.encodings.base import Encoded, NDArray, Node, typed_view
from hasivu_compute.storage.encodings.bitpack import decode_for_any, encode_for


def encode_plain(values: NDArray) -> Encoded:
    """Numeric values stored as they are."""
    return Encoded("plain", len(values), {}, (np.ascontiguousarray(values),))


def decode_plain(node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    """Inverse of :func:`encode_plain` (zero-copy view into the payload)."""
    return typed_view(node.buffers[0], dtype, node.n)


def encode_bool_plain(values: NDArray) -> Encoded:
    """Booleans as a bitmap (8 per byte)."""
    return Encoded("plain", len(values), {}, (np.packbits(values, bitorder="little"),))


def decode_bool_plain(node: Node) -> NDArray:
    """Inverse of :func:`encode_bool_plain` into a numpy bool array."""
    bits = np.unpackbits(
        np.frombuffer(node.buffers[0], dtype=np.uint8), count=node.n, bitorder="little"
    )
    return bits.view(np.bool_)


def binary_parts(arr: pa.Array) -> tuple[NDArray, NDArray]:
    """(int64 offsets starting at 0, uint8 data) of a string/binary array (any offset width)."""
    n = len(arr)
    offsets_buf, data_buf = arr.buffers()[1], arr.buffers()[2]
    off_dtype = (
        np.int64
        if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
        else np.int32
    )
    offsets = np.frombuffer(offsets_buf, dtype=off_dtype, count=arr.offset + n + 1)[arr.offset :]
    offsets = offsets.astype(np.int64)
    start, end = int(offsets[0]), int(offsets[-1])
    data = (
        np.frombuffer(data_buf, dtype=np.uint8, count=end)[start:end]
        if data_buf is not None and end
        else np.zeros(0, np.uint8)
    )
    return offsets - start, data


def encode_binary_plain(arr: pa.Array) -> Encoded:
    """Strings/binary as lengths (frame-of-reference child) + concatenated bytes."""
    offsets, data = binary_parts(arr)
    lengths = np.diff(offsets)
    return Encoded("plain", len(arr), {}, (data,), (encode_for(lengths),))


def decode_binary_plain(node: Node, arrow_type: pa.DataType) -> pa.Array:
    """Inverse of :func:`encode_binary_plain`; builds the Arrow array zero-copy."""
    large = pa.types.is_large_string(arrow_type) or pa.types.is_large_binary(arrow_type)
    off_dtype = np.dtype(np.int64 if large else np.int32)
    lengths = decode_for_any(node.children[0], off_dtype)
    offsets = np.zeros(node.n + 1, dtype=off_dtype)
    np.cumsum(lengths, out=offsets[1:])
    data = pa.py_buffer(node.buffers[0])
    return pa.Array.from_buffers(arrow_type, node.n, [None, pa.py_buffer(offsets), data])
