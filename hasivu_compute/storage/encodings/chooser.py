"""Pick each block's encoding from its data: try candidates on a sample, keep the smallest.

The sample is a few contiguous slices spread over the block (contiguity keeps
runs and deltas visible). Each candidate's output is zstd-compressed at the
write level and measured; the winner then encodes the whole block (falling back
to the next candidate if it does not apply to the full data, e.g. a third
decimal appears outside the sample).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import zstandard

from hasivu_compute.storage.encodings.base import Encoded, NDArray, concat_buffers
from hasivu_compute.storage.encodings.bitpack import encode_bitpack
from hasivu_compute.storage.encodings.registry import BINARY_CODECS, NUMERIC_CODECS, Children

SAMPLE_SLICES = 4
SAMPLE_SLICE_LEN = 1024

_local = threading.local()


def compressor(level: int) -> zstandard.ZstdCompressor:
    """A per-thread zstd compressor for ``level`` (compressors are not thread-safe)."""
    cache: dict[int, zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if cache is None:
        cache = _local.compressors = {}
    comp = cache.get(level)
    if comp is None:
        comp = cache[level] = zstandard.ZstdCompressor(level=level)
    return comp


def decompressor() -> zstandard.ZstdDecompressor:
    """A per-thread zstd decompressor (reused: creating one per block costs more than small blocks)."""
    found: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if found is None:
        found = _local.decompressor = zstandard.ZstdDecompressor()
    return found


def compressed_size(encoded: Encoded, level: int) -> int:
    """Bytes of ``encoded`` after zstd at ``level`` (what the block would cost)."""
    raw = concat_buffers(encoded.flat_buffers())
    return len(compressor(level).compress(raw)) if raw else 0


def sample_slices(n: int) -> list[tuple[int, int]]:
    """(start, stop) ranges of the sample of an ``n``-value block."""
    total = SAMPLE_SLICES * SAMPLE_SLICE_LEN
    if n <= total:
        return [(0, n)]
    step = (n - SAMPLE_SLICE_LEN) // (SAMPLE_SLICES - 1)
    return [(i * step, i * step + SAMPLE_SLICE_LEN) for i in range(SAMPLE_SLICES)]


PACKED = ("bitpack", "for")
SMALL_CHILD = 512  # nested sequences this short are bit-packed without trials


# Never smaller than byte-aligned frame of reference, so automatic choice skips it.
DOMINATED = {"int": ("plain",)}


def _candidates(names: Sequence[str], allowed: Sequence[str] | None, domain: str = "") -> list[str]:
    if allowed is None:
        return [name for name in names if name not in DOMINATED.get(domain, ())]
    picked = [name for name in names if name in allowed]
    return picked or ["plain"]


# Decode-cost weights: a candidate must beat a cheaper-to-decode one by this factor.
DECODE_WEIGHT = {"delta": 1.10, "scaled": 1.02}


def children(level: int, allowed: Sequence[str] | None) -> Children:
    """Child encoders for nested sequences at ``level``."""
    return Children(
        any_int=lambda ints: choose_numeric(ints, "int", level, allowed),
        packed=lambda ints: (
            encode_bitpack(ints)
            if len(ints) <= SMALL_CHILD
            else choose_numeric(ints, "int", level, PACKED)
        ),
        # a dictionary's values are distinct: no dictionary inside a dictionary
        any_float=lambda floats: choose_numeric(floats, "float", level, allowed, ("dictionary",)),
    )


def _dictionary_factor(
    encoded: Encoded, total: int, full_distinct: Callable[[], int]
) -> float | None:
    """Correct a dictionary's sample score for the whole block (``None``: reject it).

    A sample shows fewer distinct values than its block, so a dictionary looks
    cheaper on it: its index width grows with the distinct count. Blocks with
    more than 1/8 distinct values never profit from a dictionary; otherwise the
    score is scaled by the index width the block would need.
    """
    seen = encoded.children[0].n
    if encoded.n == total or seen * 16 <= encoded.n:
        return 1.0
    distinct = full_distinct()
    if distinct * 8 > total:
        return None
    return max(1, (distinct - 1).bit_length()) / max(1, (seen - 1).bit_length())


def _pick(
    names: Sequence[str],
    encode: Callable[[str, bool], Encoded | None],
    whole: bool,
    level: int,
    total: int,
    full_distinct: Callable[[], int],
) -> Encoded:
    """Score each candidate on the sample, then encode the full block with the best that applies.

    Scores are compressed bytes weighted by decode cost (dictionaries also by
    their index width on the whole block, via ``full_distinct``).
    """
    scored: list[tuple[float, int, str, Encoded]] = []
    for rank, name in enumerate(names):
        encoded = encode(name, True)
        if encoded is None:
            continue
        weight = DECODE_WEIGHT.get(name, 1.0)
        if name == "dictionary" and not whole:
            factor = _dictionary_factor(encoded, total, full_distinct)
            if factor is None:
                continue
            weight *= factor
        scored.append((compressed_size(encoded, level) * weight, rank, name, encoded))
    scored.sort(key=lambda item: (item[0], item[1]))
    for _score, _rank, name, encoded in scored:
        if whole:
            return encoded
        full = encode(name, False)
        if full is not None:
            return full
    fallback = encode("plain", False)
    if fallback is None:  # pragma: no cover - plain always applies
        raise AssertionError("plain encoding always applies")
    return fallback


def choose_numeric(
    values: NDArray,
    domain: str,
    level: int,
    allowed: Sequence[str] | None,
    exclude: Sequence[str] = (),
    hint: str | None = None,
) -> Encoded:
    """Encode numeric ``values`` of ``domain`` with the encoding that compresses smallest.

    ``allowed`` restricts candidates here and in nested choices; ``exclude``
    removes candidates at this level only; ``hint`` (an earlier block's pick)
    is used without trials when it applies.
    """
    codecs = NUMERIC_CODECS[domain]
    kids = children(level, allowed)
    ranges = sample_slices(len(values))
    whole = len(ranges) == 1
    sample = values if whole else np.concatenate([values[a:b] for a, b in ranges])

    def encode(name: str, on_sample: bool) -> Encoded | None:
        return codecs[name].encode(sample if on_sample else values, kids)

    names = [n for n in _candidates(list(codecs), allowed, domain) if n not in exclude]
    if hint in names and hint is not None:
        hinted = codecs[hint].encode(values, kids)
        if hinted is not None:
            return hinted

    def distinct() -> int:
        return int(pc.count_distinct(pa.array(values)).as_py())

    return _pick(names or ["plain"], encode, whole, level, len(values), distinct)


def choose_binary(
    arr: pa.Array, level: int, allowed: Sequence[str] | None, hint: str | None = None
) -> Encoded:
    """Encode a string/binary array with the encoding that compresses smallest
    (``hint``: an earlier block's pick, used without trials when it applies).

    A dictionary array is stored as a dictionary without trials when that is
    allowed and applies: its writer already found the column low-cardinality.
    """
    kids = children(level, allowed)
    if isinstance(arr, pa.DictionaryArray):
        if "dictionary" in _candidates(list(BINARY_CODECS), allowed):
            kept = BINARY_CODECS["dictionary"].encode(arr, kids)
            if kept is not None:
                return kept
        arr = arr.dictionary.take(arr.indices)
    ranges = sample_slices(len(arr))
    whole = len(ranges) == 1
    sample = arr if whole else pa.concat_arrays([arr.slice(a, b - a) for a, b in ranges])

    def encode(name: str, on_sample: bool) -> Encoded | None:
        return BINARY_CODECS[name].encode(sample if on_sample else arr, kids)

    def distinct() -> int:
        return int(pc.count_distinct(arr).as_py())

    names = _candidates(list(BINARY_CODECS), allowed)
    if hint in names and hint is not None:
        hinted = BINARY_CODECS[hint].encode(arr, kids)
        if hinted is not None:
            return hinted
    return _pick(names, encode, whole, level, len(arr), distinct)
