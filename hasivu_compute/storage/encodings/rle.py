"""Run-length encoding: distinct consecutive values and their run lengths.

Good for sorted low-cardinality columns (status by date, flags). Both the run
values and the run lengths are bit-packed children.
"""

from __future__ import annotations

import numpy as np

from hasivu_compute.storage.encodings.base import Encoded, NDArray, Node, Packer
from hasivu_compute.storage.encodings.bitpack import decode_for_any, encode_bitpack

MAX_RUN_FRACTION = 0.5  # more runs than this share of values is never smaller than plain


def run_starts(values: NDArray) -> NDArray:
    """Indices where a new run begins (always includes 0 for non-empty input)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    return np.concatenate((np.zeros(1, dtype=np.int64), change))


def encode_rle(values: NDArray, pack: Packer = encode_bitpack) -> Encoded | None:
    """Run values + run lengths, or ``None`` when runs are too short to pay off."""
    n = len(values)
    starts = run_starts(values)
    if n and len(starts) > max(1, int(n * MAX_RUN_FRACTION)):
        return None
    lengths = np.diff(np.append(starts, n))
    return Encoded("rle", n, {}, (), (pack(values[starts]), pack(lengths)))


def decode_rle(node: Node, dtype: np.dtype[np.generic]) -> NDArray:
    """Inverse of :func:`encode_rle`."""
    runs = node.children[0].n
    run_values = decode_for_any(node.children[0], dtype)
    lengths = decode_for_any(node.children[1], np.dtype(np.int64))
    if runs == 1:
        return np.full(node.n, run_values[0], dtype=dtype)
    out = np.repeat(run_values, lengths)
    if len(out) != node.n:
        raise ValueError(f"run lengths sum to {len(out)}, expected {node.n}")
    return out
