"""Scaled-decimal encoding for money-like floats: ``x == k / 10**s`` exactly.

Prices such as 12.35 are stored as the integers 1235 (scale 2) and then
encoded with the best integer encoding. A block qualifies only when every value
round-trips bit for bit through the decoder's own arithmetic
(``float(k) / 10**s``), so -0.0, NaN, ±inf or a stray third decimal keep the
block on a lossless float encoding instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hasivu_compute.storage.encodings.base import Encoded, NDArray, Node

MAX_SCALE = 4
_EXACT_INT = float(2**53)


def _scaled_back(ints: NDArray, scale: int, dtype: np.dtype[np.generic]) -> NDArray:
    out = ints.astype(np.float64)
    if scale:
        out /= float(10**scale)
    return out if dtype == np.float64 else out.astype(dtype)


def find_scale(values: NDArray) -> tuple[int, NDArray] | None:
    """The smallest scale (0..MAX_SCALE) at which all values round-trip, with the integers."""
    if len(values) == 0:
        return 0, np.zeros(0, dtype=np.int64)
    wide = values.astype(np.float64)
    bits = values.view(np.int64 if values.dtype == np.float64 else np.int32)
    with np.errstate(invalid="ignore", over="ignore"):
        for scale in range(MAX_SCALE + 1):
            scaled = np.rint(wide * float(10**scale))
            if not np.all(np.abs(scaled) < _EXACT_INT):  # also rejects NaN / inf
                return None
            ints = scaled.astype(np.int64)
            back = _scaled_back(ints, scale, values.dtype)
            if np.array_equal(back.view(bits.dtype), bits):
                return scale, ints
    return None


def encode_scaled(values: NDArray, encode_int: Callable[[NDArray], Encoded]) -> Encoded | None:
    """Integers ``values * 10**scale`` (child chosen by ``encode_int``), or ``None``."""
    found = find_scale(values)
    if found is None:
        return None
    scale, ints = found
    return Encoded("scaled", len(values), {"scale": scale}, (), (encode_int(ints),))


def decode_scaled(
    node: Node,
    dtype: np.dtype[np.generic],
    decode_int: Callable[[Node, np.dtype[np.generic]], NDArray],
) -> NDArray:
    """Inverse of :func:`encode_scaled`."""
    ints = decode_int(node.children[0], np.dtype(np.int64))
    return _scaled_back(ints, node.int_param("scale"), dtype)
