"""Which encodings exist for which value domain, and how to decode a stored tree.

Domains: ``int`` (all integer-backed types: ints, dates, timestamps, scaled
decimals), ``float``, ``bool`` and ``binary`` (strings and bytes). Floats also
get the integer dictionary / run-length codecs applied to their bit patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hasivu_compute._core.errors import StorageError
from hasivu_compute.storage.encodings.base import Encoded, NDArray, Node
from hasivu_compute.storage.encodings.bitpack import decode_for_any, encode_bitpack, encode_for
from hasivu_compute.storage.encodings.byte_shuffle import decode_shuffle, encode_shuffle
from hasivu_compute.storage.encodings.delta import decode_delta, encode_delta
from hasivu_compute.storage.encodings.dictionary import (
    decode_binary_dictionary,
    decode_dictionary,
    decode_float_dictionary,
    encode_binary_dictionary,
    encode_dictionary,
    encode_float_dictionary,
)
from hasivu_compute.storage.encodings.plain import (
    decode_binary_plain,
    decode_bool_plain,
    decode_plain,
    encode_binary_plain,
    encode_bool_plain,
    encode_plain,
)
from hasivu_compute.storage.encodings.rle import decode_rle, encode_rle
from hasivu_compute.storage.encodings.scaled_decimal import decode_scaled, encode_scaled

IntEncoder = Callable[[NDArray], Encoded]


@dataclass(frozen=True, slots=True)
class Children:
    """How an encoding encodes its nested integer sequences.

    Attributes:
        any_int: the full chooser (for values such as scaled decimals' integers).
        any_float: the full float chooser (for a float dictionary's values).
        packed: a cheap choice between bit-packed and byte-aligned frame of
            reference (for indices, run lengths and deltas).
    """

    any_int: IntEncoder
    packed: IntEncoder
    any_float: IntEncoder


NumericEncode = Callable[[NDArray, Children], "Encoded | None"]
NumericDecode = Callable[[Node, np.dtype[np.generic]], NDArray]
BinaryEncode = Callable[[pa.Array, Children], "Encoded | None"]
BinaryDecode = Callable[[Node, pa.DataType], pa.Array]

ALL_ENCODINGS = ("plain", "for", "bitpack", "delta", "rle", "dictionary", "scaled", "shuffle")


@dataclass(frozen=True, slots=True)
class NumericCodec:
    """An encoding of numpy values in one domain."""

    name: str
    encode: NumericEncode
    decode: NumericDecode


@dataclass(frozen=True, slots=True)
class BinaryCodec:
    """An encoding of an Arrow string/binary array."""

    name: str
    encode: BinaryEncode
    decode: BinaryDecode


def _bits_dtype(dtype: np.dtype[np.generic]) -> np.dtype[np.generic]:
    return np.dtype(np.int64 if dtype.itemsize == 8 else np.int32)


def _float_dictionary(values: NDArray, kids: Children) -> Encoded | None:
    return encode_float_dictionary(values, kids.any_float, kids.packed)


def _float_dictionary_decode(node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    return decode_float_dictionary(node, dtype, lambda n, d: decode_numeric("float", n, d))


def _float_rle(values: NDArray, kids: Children) -> Encoded | None:
    return encode_rle(values.view(_bits_dtype(values.dtype)), kids.packed)


def _float_rle_decode(node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    return decode_rle(node, _bits_dtype(dtype)).view(dtype)


def _bool_rle(values: NDArray, kids: Children) -> Encoded | None:
    return encode_rle(values.view(np.uint8), kids.packed)


def _bool_rle_decode(node: Node, _dtype: np.dtype[np.generic]) -> NDArray:
    return decode_rle(node, np.dtype(np.uint8)).view(np.bool_)


def _scaled_decode(node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    return decode_scaled(node, dtype, decode_numeric_int)


def decode_numeric_int(node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    """Decode an integer-domain tree (used for nested children chosen by the chooser)."""
    return decode_numeric("int", node, dtype)


NUMERIC_CODECS: dict[str, dict[str, NumericCodec]] = {
    "int": {
        "plain": NumericCodec("plain", lambda v, _: encode_plain(v), decode_plain),
        "for": NumericCodec("for", lambda v, _: encode_for(v), decode_for_any),
        "bitpack": NumericCodec("bitpack", lambda v, _: encode_bitpack(v), decode_for_any),
        "delta": NumericCodec("delta", lambda v, k: encode_delta(v, k.packed), decode_delta),
        "rle": NumericCodec("rle", lambda v, k: encode_rle(v, k.packed), decode_rle),
        "dictionary": NumericCodec(
            "dictionary", lambda v, k: encode_dictionary(v, k.packed), decode_dictionary
        ),
    },
    "float": {
        "plain": NumericCodec("plain", lambda v, _: encode_plain(v), decode_plain),
        "shuffle": NumericCodec("shuffle", lambda v, _: encode_shuffle(v), decode_shuffle),
        "dictionary": NumericCodec("dictionary", _float_dictionary, _float_dictionary_decode),
        "scaled": NumericCodec("scaled", lambda v, k: encode_scaled(v, k.any_int), _scaled_decode),
        "rle": NumericCodec("rle", _float_rle, _float_rle_decode),
    },
    "bool": {
        "plain": NumericCodec(
            "plain", lambda v, _: encode_bool_plain(v), lambda n, _: decode_bool_plain(n)
        ),
        "rle": NumericCodec("rle", _bool_rle, _bool_rle_decode),
    },
}

BINARY_CODECS: dict[str, BinaryCodec] = {
    "plain": BinaryCodec("plain", lambda a, _: encode_binary_plain(a), decode_binary_plain),
    "dictionary": BinaryCodec(
        "dictionary", lambda a, k: encode_binary_dictionary(a, k.packed), decode_binary_dictionary
    ),
}


def decode_numeric(domain: str, node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    """Decode a stored numeric tree of ``domain`` into values of ``dtype``."""
    codec = NUMERIC_CODECS[domain].get(node.name)
    if codec is None:
        raise StorageError(f"unknown {domain} encoding {node.name!r} in segment")
    values = codec.decode(node, dtype)
    if len(values) != node.n:
        raise StorageError(
            f"{domain} encoding {node.name!r} decoded {len(values)} of {node.n} values"
        )
    return values


def decode_binary(node: Node, arrow_type: pa.DataType) -> pa.Array:
    """Decode a stored string/binary tree into an Arrow array of ``arrow_type`` (no validity)."""
    codec = BINARY_CODECS.get(node.name)
    if codec is None:
        raise StorageError(f"unknown binary encoding {node.name!r} in segment")
    return codec.decode(node, arrow_type)
