"""XXH64, vectorised with numpy: one hash per 8-byte integer or per byte string.

Bloom filters hash many values per block; calling ``xxhash`` once per value
would be a Python loop per row. These functions compute exactly
``xxhash.xxh64_intdigest(value_bytes, seed)`` for whole arrays at once (tests
check equality on samples): integers as their 8 little-endian bytes, strings
lane by lane, looping only over byte positions (string length / 8), never rows.
"""

from __future__ import annotations

import numpy as np

from hasivu_compute.storage.encodings.base import NDArray

P1 = np.uint64(11400714785074694791)
P2 = np.uint64(14029467366897019727)
P3 = np.uint64(1609587929392839161)
P4 = np.uint64(9650029242287828579)
P5 = np.uint64(2870177450012600261)
_MASK = (1 << 64) - 1


def _rotl(x: NDArray, r: int) -> NDArray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _round(acc: NDArray, lane: NDArray) -> NDArray:
    acc = acc + lane * P2
    out: NDArray = _rotl(acc, 31) * P1
    return out


def _merge(acc: NDArray, val: NDArray) -> NDArray:
    acc = acc ^ _round(np.zeros_like(val), val)
    return acc * P1 + P4


def _avalanche(h: NDArray) -> NDArray:
    h = h ^ (h >> np.uint64(33))
    h = h * P2
    h = h ^ (h >> np.uint64(29))
    h = h * P3
    out: NDArray = h ^ (h >> np.uint64(32))
    return out


def _const(value: int) -> np.uint64:
    return np.uint64(value & _MASK)


def xxh64_u64(values: NDArray, seed: int = 0) -> NDArray:
    """XXH64 of each value's 8 little-endian bytes (``values`` viewed as uint64)."""
    lanes = np.ascontiguousarray(values).view(np.uint64)
    h = np.full(len(lanes), _const(seed + int(P5) + 8), dtype=np.uint64)
    h ^= _round(np.zeros_like(lanes), lanes)
    h = _rotl(h, 27) * P1 + P4
    return _avalanche(h)


def _gather(data: NDArray, pos: NDArray, width: int) -> NDArray:
    """Little-endian ``width``-byte integers at byte positions ``pos`` (data is padded)."""
    idx = pos[:, None] + np.arange(width, dtype=np.int64)
    raw = data[idx]
    return raw.view(np.uint64 if width == 8 else np.uint32).reshape(len(pos)).astype(np.uint64)


def xxh64_binary(offsets: NDArray, data: NDArray, seed: int = 0) -> NDArray:
    """XXH64 of each string ``data[offsets[i]:offsets[i+1]]`` (offsets as int64)."""
    starts = offsets[:-1].astype(np.int64)
    lengths = (offsets[1:] - offsets[:-1]).astype(np.int64)
    padded = np.concatenate((np.asarray(data, dtype=np.uint8), np.zeros(8, dtype=np.uint8)))
    h = np.full(len(starts), _const(seed + int(P5)), dtype=np.uint64)
    big = np.flatnonzero(lengths >= 32)
    if len(big):
        h[big] = _stripes(padded, starts[big], lengths[big] // 32, seed)
    h += lengths.astype(np.uint64)
    pos = starts + (lengths // 32) * 32
    rem = lengths % 32
    for j in range(3):
        act = np.flatnonzero(rem >= 8 * (j + 1))
        if len(act) == 0:
            break
        k1 = _round(np.zeros(len(act), np.uint64), _gather(padded, pos[act] + 8 * j, 8))
        h[act] = _rotl(h[act] ^ k1, 27) * P1 + P4
    pos = pos + (rem // 8) * 8
    rem = rem % 8
    act = np.flatnonzero(rem >= 4)
    if len(act):
        word = _gather(padded, pos[act], 4)
        h[act] = _rotl(h[act] ^ (word * P1), 23) * P2 + P3
    pos = pos + np.where(rem >= 4, 4, 0)
    rem = rem % 4
    for b in range(3):
        act = np.flatnonzero(rem > b)
        if len(act) == 0:
            break
        byte = padded[pos[act] + b].astype(np.uint64)
        h[act] = _rotl(h[act] ^ (byte * P5), 11) * P1
    return _avalanche(h)


def _stripes(data: NDArray, starts: NDArray, stripes: NDArray, seed: int) -> NDArray:
    """The 32-byte stripe accumulation of XXH64 for strings of >= 32 bytes."""
    m = len(starts)
    v = [
        np.full(m, _const(seed + int(P1) + int(P2)), dtype=np.uint64),
        np.full(m, _const(seed + int(P2)), dtype=np.uint64),
        np.full(m, _const(seed), dtype=np.uint64),
        np.full(m, _const(seed - int(P1)), dtype=np.uint64),
    ]
    for s in range(int(stripes.max())):
        act = np.flatnonzero(stripes > s)
        base = starts[act] + 32 * s
        for lane in range(4):
            v[lane][act] = _round(v[lane][act], _gather(data, base + 8 * lane, 8))
    h = _rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)
    for lane in range(4):
        h = _merge(h, v[lane])
    return h
