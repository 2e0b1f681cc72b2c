"""Scaled-decimal encoding for money-like floats: ``x == k / 10**s`` exactly.

Prices such as 12.35 are stored as the integers 1235 (scale 2) and then
encoded with the best integer encoding. A block qualifies only when every value
round-trips bit for bit through the decoder's own arithmetic
(``float(k) / 10**s``), so -0.0, NaN, ±inf or a stray third decimal keep the
block on a lossless float encoding instead.

Decimals converted to floats by multiplying with the reciprocal (``k * 0.01``, as
some engines cast DECIMAL to DOUBLE) are not always the nearest double to
``k / 100`` (32986.520000000004): 14% of TPC-H SF1 ``l_extendedprice`` values.
Such blocks are stored in the ``mul`` mode, decoded by the same multiplication;
they would otherwise fall back to plain floats (280 KB per 64K-row block
instead of ~200 KB, and a slower decode).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hasivu_compute._core.errors import StorageError
from hasivu_compute.storage.encodings.base import Encoded, MetaScalar, NDArray, Node

MAX_SCALE = 4
_EXACT_INT = float(2**53)


# The reciprocals as written literals: encoder and decoder must use the same doubles.
_RECIPROCAL = (1.0, 0.1, 0.01, 0.001, 0.0001)
MODES = ("div", "mul")


def _scaled_back(ints: NDArray, scale: int, dtype: np.dtype[np.generic], mode: str) -> NDArray:
    out = ints.astype(np.float64)
    if scale and mode == "mul":
        out *= _RECIPROCAL[scale]
    elif scale:
        out /= float(10**scale)
    return out if dtype == np.float64 else out.astype(dtype)


def find_scale(values: NDArray) -> tuple[int, str, NDArray] | None:
    """The smallest scale (0..MAX_SCALE) and a mode at which all values round-trip,
    with the integers."""
    if len(values) == 0:
        return 0, "div", np.zeros(0, dtype=np.int64)
    wide = values.astype(np.float64)
    bits = values.view(np.int64 if values.dtype == np.float64 else np.int32)
    with np.errstate(invalid="ignore", over="ignore"):
        for scale in range(MAX_SCALE + 1):
            scaled = np.rint(wide * float(10**scale))
            if not np.all(np.abs(scaled) < _EXACT_INT):  # also rejects NaN / inf
                return None
            ints = scaled.astype(np.int64)
            for mode in MODES if scale else MODES[:1]:
                back = _scaled_back(ints, scale, values.dtype, mode)
                if np.array_equal(back.view(bits.dtype), bits):
                    return scale, mode, ints
    return None


def encode_scaled(values: NDArray, encode_int: Callable[[NDArray], Encoded]) -> Encoded | None:
    """Integers ``values * 10**scale`` (child chosen by ``encode_int``), or ``None``."""
    found = find_scale(values)
    if found is None:
        return None
    scale, mode, ints = found
    params: dict[str, MetaScalar] = {"scale": scale}
    if mode != "div":  # files written before the mode existed decode as "div"
        params["mode"] = mode
    return Encoded("scaled", len(values), params, (), (encode_int(ints),))


def decode_scaled(
    node: Node,
    dtype: np.dtype[np.generic],
    decode_int: Callable[[Node, np.dtype[np.generic]], NDArray],
) -> NDArray:
    """Inverse of :func:`encode_scaled`."""
    ints = decode_int(node.children[0], np.dtype(np.int64))
    mode = str(node.params.get("mode", "div"))
    if mode not in MODES:
        raise StorageError(f"unknown scaled-decimal mode {mode!r} in segment")
    return _scaled_back(ints, node.int_param("scale"), dtype, mode)
