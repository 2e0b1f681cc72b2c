"""Dictionary encoding: sorted distinct values + bit-packed indices.

Numbers: the distinct values are delta-encoded (they are sorted); strings and
binary: Arrow's ``dictionary_encode`` and the dictionary stored plain. Decoding
strings is one ``take`` over the dictionary.

Strings may also arrive already dictionary-encoded (``dictionary<int, string>``,
see :func:`compact_dictionary`): the table writer encodes a low-cardinality
column once per batch, so partition gathers move int32 indices instead of
strings and no block hashes its strings again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.storage.encodings.base import Encoded, NDArray, Node, Packer
from hasivu_compute.storage.encodings.bitpack import (
    decode_for_any,
    encode_bitpack,
    gather_packed,
)
from hasivu_compute.storage.encodings.delta import decode_delta, encode_delta
from hasivu_compute.storage.encodings.plain import decode_binary_plain, encode_binary_plain

MAX_DISTINCT_FRACTION = 0.5


def encode_dictionary(values: NDArray, pack: Packer = encode_bitpack) -> Encoded | None:
    """Distinct values (delta) + indices (bit-packed), or ``None`` if too many distinct."""
    n = len(values)
    encoded = pc.dictionary_encode(pa.array(values))  # hash-based: no sort of all values
    found = encoded.dictionary.to_numpy()
    if n and len(found) > max(1, int(n * MAX_DISTINCT_FRACTION)):
        return None
    order = np.argsort(found, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    indices = rank[encoded.indices.to_numpy()]
    return Encoded("dictionary", n, {}, (), (encode_delta(found[order], pack), pack(indices)))


def _take_by_index(values: NDArray, indices: Node) -> NDArray:
    """``values`` gathered by the packed ``indices`` (lookup-table path when it applies)."""
    gathered = gather_packed(values, indices)
    if gathered is not None:
        return gathered
    return values[decode_for_any(indices, np.dtype(np.intp))]


def decode_dictionary(node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    """Inverse of :func:`encode_dictionary`."""
    uniq = decode_delta(node.children[0], dtype)
    if node.n == 0:
        return np.zeros(0, dtype=dtype)
    return _take_by_index(uniq, node.children[1])


def encode_float_dictionary(
    values: NDArray, encode_floats: Packer, pack: Packer = encode_bitpack
) -> Encoded | None:
    """Distinct floats (by bit pattern, encoded by ``encode_floats``) + packed indices.

    Decoding scales or un-shuffles only the few distinct values, then gathers.
    """
    n = len(values)
    bits = values.view(np.int64 if values.dtype.itemsize == 8 else np.int32)
    encoded = pc.dictionary_encode(pa.array(bits))
    found = encoded.dictionary.to_numpy()
    if n and len(found) > max(1, int(n * MAX_DISTINCT_FRACTION)):
        return None
    distinct = np.ascontiguousarray(found).view(values.dtype)
    order = np.argsort(distinct, kind="stable")  # sorted values delta-encode well once scaled
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    indices = rank[encoded.indices.to_numpy()]
    return Encoded("dictionary", n, {}, (), (encode_floats(distinct[order]), pack(indices)))


def decode_float_dictionary(
    node: Node,
    dtype: np.dtype[np.generic],
    decode_floats: Callable[[Node, np.dtype[np.generic]], NDArray],
) -> NDArray:
    """Inverse of :func:`encode_float_dictionary`."""
    distinct = decode_floats(node.children[0], dtype)
    if node.n == 0:
        return np.zeros(0, dtype=dtype)
    return _take_by_index(distinct, node.children[1])


def dictionary_counts(arr: pa.DictionaryArray) -> NDArray:
    """Non-null rows of ``arr`` per entry of its dictionary (int64, one per entry).

    Index slots under a null are undefined in Arrow, so they are never read.
    """
    size = len(arr.dictionary)
    indices = arr.indices
    if indices.null_count:
        indices = indices.drop_null()
    values = indices.to_numpy(zero_copy_only=False)
    return np.bincount(values, minlength=size)[:size] if len(values) else np.zeros(size, np.int64)


def used_dictionary(arr: pa.DictionaryArray, counts: NDArray | None = None) -> pa.Array:
    """The dictionary entries that the non-null rows of ``arr`` use, in dictionary order
    (``counts``: its :func:`dictionary_counts`, when the caller has them already)."""
    used = np.flatnonzero(dictionary_counts(arr) if counts is None else counts)
    return arr.dictionary.take(pa.array(used, pa.int64()))


def compact_dictionary(arr: pa.DictionaryArray) -> tuple[pa.Array, NDArray]:
    """(the entries ``arr`` uses, each row's int32 index into them; nulls get 0).

    A block of a batch-wide dictionary keeps only the values it references, so
    its dictionary, zone map and bloom filter describe that block alone.
    """
    counts = dictionary_counts(arr)
    used = np.flatnonzero(counts)
    remap = np.zeros(max(len(counts), 1), dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    raw = arr.indices.fill_null(0) if arr.indices.null_count else arr.indices
    indices = remap[raw.to_numpy(zero_copy_only=False)]
    return used_dictionary(arr, counts), indices


def encode_binary_dictionary(arr: pa.Array, pack: Packer = encode_bitpack) -> Encoded | None:
    """Distinct strings (plain) + indices (bit-packed); nulls get index 0.

    ``arr`` may be plain or a dictionary array (whose unused entries are dropped).
    """
    n = len(arr)
    if isinstance(arr, pa.DictionaryArray):
        dictionary, indices = compact_dictionary(arr)
    else:
        encoded = pc.dictionary_encode(arr)
        dictionary = encoded.dictionary
        indices = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
    if n and len(dictionary) > max(1, int(n * MAX_DISTINCT_FRACTION)):
        return None
    if len(dictionary) == 0:  # all null: keep one empty value so index 0 is valid
        kind = dictionary.type
        empty = b"" if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) else ""
        dictionary = pa.array([empty], kind)
    return Encoded("dictionary", n, {}, (), (encode_binary_plain(dictionary), pack(indices)))


def _string_indices(node: Node, distinct: int) -> NDArray:
    """int32 indices of a string dictionary block (lookup-table path when it applies)."""
    positions = np.arange(distinct, dtype=np.int32)
    gathered = gather_packed(positions, node.children[1])
    if gathered is not None:
        return gathered
    return decode_for_any(node.children[1], np.dtype(np.int32))


def decode_binary_dictionary_array(
    node: Node, arrow_type: pa.DataType, validity: pa.Buffer | None, null_count: int
) -> pa.DictionaryArray:
    """The block as an Arrow dictionary array: no string is copied.

    Filters and group keys on low-cardinality strings then work on the few
    distinct values plus int32 indices (see ``exec.kernels.evaluate`` and ``exec.fragment``).
    """
    dictionary = decode_binary_plain(node.children[0], arrow_type)
    indices = _string_indices(node, len(dictionary))
    index_array = pa.Array.from_buffers(
        pa.int32(), node.n, [validity, pa.py_buffer(indices)], null_count
    )
    return pa.DictionaryArray.from_arrays(index_array, dictionary)


def decode_binary_dictionary(
    node: Node, arrow_type: pa.DataType, output_type: pa.DataType | None = None
) -> pa.Array:
    """Inverse of :func:`encode_binary_dictionary` (one Arrow ``take`` over the dictionary).

    With ``output_type`` (a view type) the small dictionary is cast first, so the
    take copies 16-byte views instead of materialising and re-casting every string.
    """
    dictionary = decode_binary_plain(node.children[0], arrow_type)
    indices = _string_indices(node, len(dictionary))
    if output_type is None or output_type == arrow_type:
        return dictionary.take(pa.array(indices))
    views = dictionary.cast(output_type)  # offset 0; data buffers shared by every copy of a view
    table = np.frombuffer(views.buffers()[1], dtype=np.uint8).reshape(-1, 16)[: len(views)]
    gathered = table[indices]
    buffers = [None, pa.py_buffer(gathered), *views.buffers()[2:]]
    return pa.Array.from_buffers(output_type, len(indices), buffers)
