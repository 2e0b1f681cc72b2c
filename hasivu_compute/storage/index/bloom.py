"""Bloom filters over column blocks, keyed by XXH64 of each value's canonical bytes.

Canonical keys: integer-backed types (ints, dates, times, timestamps,
durations, decimals as scaled integers) hash their 8-byte little-endian int64
image; strings and binary hash their bytes. Probe values are converted to the
column's Arrow type first, so a date, a tz-aware datetime or a ``Decimal``
probes the same key the writer hashed. A bloom answers "might contain" with no
false negatives; anything it cannot judge answers ``True``.

Bits are set with double hashing (``h1 + i * h2``) from one 64-bit hash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.storage.encodings.base import NDArray
from hasivu_compute.storage.encodings.plain import binary_parts
from hasivu_compute.storage.index.xxh64 import xxh64_binary, xxh64_u64
from hasivu_compute.storage.physical import (
    Physical,
    decimal_halves,
    fixed_values,
    is_binary_like,
    storage_binary_type,
)

AUTO_MIN_DISTINCT_RATIO = 0.05  # matches Settings.bloom_min_distinct_ratio
AUTO_MIN_ROWS = 1024
AUTO_SAMPLE_ROWS = 4096
AUTO_BUDGET = 0.15  # automatic blooms take at most this share of the block's stored bytes
AUTO_MAX_KEY_BYTES = 24  # mean string length above which a column counts as free text
MAX_HASHES = 12


@dataclass(frozen=True, slots=True)
class BloomFilter:
    """An immutable bit array of ``num_bits`` bits probed ``num_hashes`` times per key."""

    bits: bytes
    num_bits: int
    num_hashes: int

    def to_bytes(self) -> bytes:
        """The stored form (the bit array; sizes go to the footer)."""
        return self.bits

    def params(self) -> dict[str, int]:
        """Footer parameters needed to probe the stored bits."""
        return {"m": self.num_bits, "k": self.num_hashes}

    def contains_hashes(self, hashes: NDArray) -> NDArray:
        """Per hash, whether every probed bit is set."""
        bits = np.frombuffer(self.bits, dtype=np.uint8)
        hit = np.ones(len(hashes), dtype=np.bool_)
        for pos in _positions(hashes, self.num_bits, self.num_hashes):
            hit &= ((bits[pos >> 3] >> (pos & 7).astype(np.uint8)) & 1).astype(np.bool_)
        return hit


def _positions(hashes: NDArray, num_bits: int, num_hashes: int) -> list[NDArray]:
    """Bit positions by double hashing in 32 bits, mapped to ``[0, num_bits)`` by multiply-shift."""
    h1 = hashes.astype(np.uint32)
    h2 = (hashes >> np.uint64(32)).astype(np.uint32)
    m = np.uint64(num_bits)
    out = []
    for i in range(num_hashes):
        combined = h1 + np.uint32(i) * h2 if i else h1
        pos = np.multiply(combined, m, dtype=np.uint64)
        pos >>= np.uint64(32)
        out.append(pos)
    return out


def from_hashes(
    hashes: NDArray, fpp: float, distinct: int | None = None, max_bytes: int | None = None
) -> BloomFilter:
    """A bloom filter sized for ``distinct`` keys (default: ``len(hashes)``) at rate ``fpp``,
    but no larger than ``max_bytes`` (the false-positive rate then rises instead)."""
    distinct = max(1, len(hashes) if distinct is None else distinct)
    num_bits = max(64, math.ceil(-distinct * math.log(fpp) / math.log(2) ** 2))
    if max_bytes is not None:
        num_bits = max(64, min(num_bits, 8 * max_bytes))
    num_bits = (num_bits + 63) // 64 * 64
    num_hashes = min(MAX_HASHES, max(1, round(num_bits / distinct * math.log(2))))
    bitset = np.zeros(num_bits, dtype=np.bool_)
    for pos in _positions(hashes, num_bits, num_hashes):
        bitset[pos] = True
    return BloomFilter(np.packbits(bitset, bitorder="little").tobytes(), num_bits, num_hashes)


def key_hashes(arr: pa.Array, phys: Physical) -> NDArray | None:
    """Hashes of the non-null values of ``arr`` (strings: distinct values only);
    ``None`` if the type has no bloom filter."""
    valid = arr.drop_null() if arr.null_count else arr
    if phys.domain == "binary":
        storage = storage_binary_type(arr.type)
        uniq = pc.unique(valid.cast(storage) if storage != arr.type else valid)
        offsets, data = binary_parts(uniq)
        return xxh64_binary(offsets, data)
    if phys.domain == "int":
        values = fixed_values(valid, phys.dtype).astype(np.int64)
    elif phys.domain == "decimal":
        values = decimal_halves(valid)[0]
    else:
        return None
    return xxh64_u64(values)


def bloom_keys(
    arr: pa.Array, phys: Physical, field_id: int, chosen: frozenset[int] | None
) -> int | None:
    """How many distinct keys a block's bloom filter must hold, or ``None`` for no bloom.

    Explicit ``chosen`` field ids always get one (for a supported type).
    Automatic blooms go to key-like columns: integers (not temporal or
    decimal) and short strings (ids, codes, names, e-mails) with many distinct
    values that are not sorted. A sorted block's zone map already prunes as
    well as a bloom; prices and dates are range-filtered rather than probed;
    long free text is searched with LIKE, not equality, and its bloom would
    cost ~10 bits per value.
    """
    if phys.domain not in ("int", "decimal", "binary"):
        return None
    valid = arr.drop_null() if arr.null_count else arr
    if chosen is not None:
        return int(pc.count_distinct(valid).as_py()) if field_id in chosen else None
    if phys.domain == "decimal" or not _is_key_type(arr.type) or len(valid) < AUTO_MIN_ROWS:
        return None
    if phys.domain == "int":
        values = fixed_values(valid, phys.dtype)
        if bool(np.all(values[1:] >= values[:-1])):
            return None
    elif _mean_length(valid.slice(0, AUTO_SAMPLE_ROWS)) > AUTO_MAX_KEY_BYTES:
        return None
    return _distinct_if_high(valid)


def _distinct_if_high(valid: pa.Array) -> int | None:
    """Distinct count when it reaches the automatic threshold (a sample decides clear cases)."""
    need = len(valid) * AUTO_MIN_DISTINCT_RATIO
    sample = valid.slice(0, AUTO_SAMPLE_ROWS)
    seen = int(pc.count_distinct(sample).as_py())
    if seen >= need:  # the sample alone already has enough distinct values
        return max(seen, round(len(valid) * seen / len(sample)))
    if seen < len(sample) * AUTO_MIN_DISTINCT_RATIO:  # the distinct share only falls with size
        return None
    distinct = seen if len(sample) == len(valid) else int(pc.count_distinct(valid).as_py())
    return distinct if distinct >= need else None


def _is_key_type(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or is_binary_like(t))


def _mean_length(arr: pa.Array) -> float:
    offsets, _data = binary_parts(arr)
    return float(offsets[-1]) / max(1, len(arr))


def build_bloom(
    arr: pa.Array, phys: Physical, fpp: float, distinct: int, max_bytes: int | None = None
) -> BloomFilter | None:
    """The bloom filter of a block holding ``distinct`` keys (``None`` for types without one)."""
    hashes = key_hashes(arr, phys)
    if hashes is None:
        return None
    keys = len(hashes) if phys.domain == "binary" else distinct
    return from_hashes(hashes, fpp, keys, max_bytes)


def probe_hashes(
    values: Sequence[object], arrow_type: pa.DataType, phys: Physical
) -> NDArray | None:
    """Hashes of probe ``values`` as the column would store them (``None``: cannot judge)."""
    try:
        arr = pa.array(list(values), type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    if is_binary_like(arrow_type) or phys.domain in ("int", "decimal"):
        return key_hashes(arr, phys)
    return None
