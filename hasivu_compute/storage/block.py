"""One column block: encode an Arrow array into checksummable bytes, and back.

A block's payload is ``validity bitmap (if any nulls) + encoded buffers``,
zstd-compressed as one frame (kept raw when compression does not help). The
metadata needed to decode it (encoding tree, sizes) lives in the segment
footer, which has its own checksum; the block bytes are checked by the segment
reader before :func:`decode_block` ever sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import StorageError
from hasivu_compute.storage.encodings.base import (
    Encoded,
    Meta,
    NDArray,
    Node,
    concat_buffers,
    parse_node,
)
from hasivu_compute.storage.encodings.chooser import (
    choose_binary,
    choose_numeric,
    compressor,
    decompressor,
)
from hasivu_compute.storage.encodings.dictionary import (
    decode_binary_dictionary,
    decode_binary_dictionary_array,
)
from hasivu_compute.storage.encodings.registry import decode_binary, decode_numeric
from hasivu_compute.storage.physical import (
    Physical,
    decimal_from_int64,
    decimal_halves,
    fill_nulls,
    fixed_values,
    is_offset_binary,
    storage_binary_type,
    validity_of,
)


@dataclass(frozen=True, slots=True)
class EncodedBlock:
    """A block ready to be written: stored bytes and the metadata to decode them."""

    data: bytes
    meta: Meta
    choice: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """How to choose a block's encoding: zstd level, allowed candidates, and a hint."""

    level: int
    allowed: Sequence[str] | None
    hint: str | None


def encode_block(
    arr: pa.Array,
    phys: Physical,
    level: int,
    allowed: Sequence[str] | None,
    hint: str | None = None,
) -> EncodedBlock:
    """Encode one chunk of one column (nulls included) into a block.

    ``hint`` is the encoding an earlier chunk of the column chose: it is tried
    first, skipping the trials, and the trials run only if it does not apply.
    """
    valid = validity_of(arr)
    validity = b"" if valid is None else np.packbits(valid, bitorder="little").tobytes()
    encoded = _encode_values(arr, phys, valid, Choice(level, allowed, hint))
    raw = validity + concat_buffers(encoded.flat_buffers())
    if phys.domain == "binary" and encoded.name == "plain":
        level = text_level(level)
    packed = compressor(level).compress(raw) if _worth_compressing(raw, level) else raw
    compressed = len(packed) < len(raw)
    meta: Meta = {"v": len(validity), "r": len(raw), "z": compressed, "enc": encoded.meta()}
    return EncodedBlock(packed if compressed else raw, meta, _choice_of(encoded))


def _choice_of(encoded: Encoded) -> str:
    """The chooser's pick inside a block's tree (decimals wrap it in ``dec64``)."""
    if encoded.name == "dec64":
        return encoded.children[0].name
    return encoded.name


TEXT_LEVEL_BOOST = 4
TEXT_MIN_LEVEL = 3
PROBE_BYTES = 32 * 1024


def text_level(level: int) -> int:
    """The zstd level for plain (non-dictionary) string blocks: at least 7.

    Text gains ~10% from a deeper match search where numbers gain nothing;
    the extra cost is paid once at write time (zstd decodes equally fast at
    every level), so string blocks compress a few levels above the rest.
    Numbers are the opposite: encoded blocks (bit-packed, deltas, dictionary
    indices) came out no larger at level 1 than at 3 and compress 2-6x faster
    (see ``WriteOptions.zstd_level``).
    """
    return min(22, max(level, TEXT_MIN_LEVEL) + TEXT_LEVEL_BOOST)


MIN_PROBE_GAIN = 0.97


def _worth_compressing(raw: bytes, level: int) -> bool:
    """Skip zstd for payloads it cannot shrink (bit-packed noise): a probe of the middle decides."""
    if len(raw) <= 2 * PROBE_BYTES:
        return bool(raw)
    mid = len(raw) // 2
    probe = raw[mid - PROBE_BYTES // 2 : mid + PROBE_BYTES // 2]
    return len(compressor(level).compress(probe)) < MIN_PROBE_GAIN * len(probe)


def _encode_values(arr: pa.Array, phys: Physical, valid: NDArray | None, how: Choice) -> Encoded:
    n = len(arr)
    level, allowed, hint = how.level, how.allowed, how.hint
    if phys.domain == "null":
        return Encoded("null", n)
    if phys.domain == "binary":
        storage = storage_binary_type(arr.type)
        values = arr.cast(storage) if storage != arr.type else arr
        return choose_binary(values, level, allowed, hint)
    if phys.domain == "bool":
        values = np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)
        return choose_numeric(values, "bool", level, allowed, hint=hint)
    if phys.domain == "decimal":
        lo, hi = decimal_halves(arr)
        lo, hi = fill_nulls(lo, valid), fill_nulls(hi, valid)
        if np.array_equal(hi, lo >> 63):
            low = choose_numeric(lo, "int", level, allowed, hint=hint)
            return Encoded("dec64", n, {}, (), (low,))
        children = (
            choose_numeric(lo, "int", level, allowed),
            choose_numeric(hi, "int", level, allowed),
        )
        return Encoded("dec128", n, {}, (), children)
    values = fill_nulls(fixed_values(arr, phys.dtype), valid)
    return choose_numeric(values, phys.domain, level, allowed, hint=hint)


def dictionary_type(arrow_type: pa.DataType) -> pa.DataType | None:
    """The dictionary type a string/binary column can be decoded as (None: not possible)."""
    if not is_offset_binary(arrow_type):
        return None
    return pa.dictionary(pa.int32(), arrow_type)


def decode_block(
    data: bytes | memoryview,
    meta: Meta,
    arrow_type: pa.DataType,
    phys: Physical,
    null_count: int,
    as_dictionary: bool = False,
) -> pa.Array:
    """Decode verified block bytes into an Arrow array of ``arrow_type``.

    With ``as_dictionary`` (string/binary columns, see :func:`dictionary_type`) the
    result is a ``dictionary<int32, arrow_type>`` array: dictionary-encoded blocks
    are handed over as stored, other blocks are dictionary-encoded after decoding.
    """
    raw_len, vlen = meta["r"], meta["v"]
    if not isinstance(raw_len, int) or not isinstance(vlen, int):
        raise StorageError("malformed block metadata")
    if meta["z"]:
        payload = memoryview(decompressor().decompress(data, max_output_size=raw_len))
    else:  # copy: decoded arrays must not pin the caller's (possibly whole-file) read buffer
        payload = memoryview(bytes(data))
    if len(payload) != raw_len:
        raise StorageError(f"block payload is {len(payload)} bytes, expected {raw_len}")
    node, end = parse_node(meta["enc"], payload, vlen)
    if end != raw_len:
        raise StorageError("block payload has trailing bytes")
    validity = pa.py_buffer(payload[:vlen]) if vlen else None
    n = node.n
    if phys.domain == "null":
        return pa.nulls(n)
    if phys.domain == "binary":
        storage = storage_binary_type(arrow_type)
        if as_dictionary and dictionary_type(arrow_type) is not None:
            if node.name == "dictionary":
                return decode_binary_dictionary_array(node, arrow_type, validity, null_count)
            plain = decode_binary(node, storage)
            plain = pa.Array.from_buffers(
                storage, n, [validity, *plain.buffers()[1:]], null_count, plain.offset
            )
            return pc.dictionary_encode(plain)
        if node.name == "dictionary" and storage != arrow_type:  # view type: take on views
            arr, built = decode_binary_dictionary(node, storage, arrow_type), arrow_type
        else:
            arr, built = decode_binary(node, storage), storage
        arr = pa.Array.from_buffers(
            built, n, [validity, *arr.buffers()[1:]], null_count, arr.offset
        )
        return arr if built == arrow_type else arr.cast(arrow_type)
    if phys.domain == "bool":
        bits = np.packbits(decode_numeric("bool", node, np.dtype(np.bool_)), bitorder="little")
        return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(bits)], null_count)
    if phys.domain == "decimal":
        values = _decode_decimal(node)
    else:
        values = decode_numeric(phys.domain, node, phys.dtype)
    return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(values)], null_count)


def _decode_decimal(node: Node) -> NDArray:
    int64 = np.dtype(np.int64)
    if node.name == "dec64":
        return decimal_from_int64(decode_numeric("int", node.children[0], int64))
    if node.name != "dec128":
        raise StorageError(f"unknown decimal encoding {node.name!r} in segment")
    out = np.empty((node.n, 2), dtype=np.int64)
    out[:, 0] = decode_numeric("int", node.children[0], int64)
    out[:, 1] = decode_numeric("int", node.children[1], int64)
    return out
