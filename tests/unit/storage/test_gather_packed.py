"""The lookup-table gather for byte-aligned packed indices (bitpack.gather_packed)."""

from __future__ import annotations

import numpy as np
import pytest

from hasivu_compute.storage.encodings.base import Encoded, Node
from hasivu_compute.storage.encodings.bitpack import (
    decode_for_any,
    encode_bitpack,
    encode_for,
    gather_packed,
)


def _node(encoded: Encoded) -> Node:
    buffers = tuple(
        memoryview(bytes(b) if isinstance(b, bytes) else b.tobytes()) for b in encoded.buffers
    )
    return Node(encoded.name, encoded.n, dict(encoded.params), buffers, ())


@pytest.mark.parametrize("width", [1, 2, 4, 8])
@pytest.mark.parametrize("n", [2, 7, 8, 65_537])
def test_equals_unpack_then_index(width: int, n: int) -> None:
    rng = np.random.default_rng(width * 1000 + n)
    base = 3
    indices = rng.integers(base, base + (1 << width), n).astype(np.int64)
    indices[0], indices[-1] = base + (1 << width) - 1, base  # the full code range
    node = _node(encode_bitpack(indices))
    assert node.int_param("w") == width
    values = rng.random(base + (1 << width))
    expected = values[decode_for_any(node, np.dtype(np.intp))]
    got = gather_packed(values, node)
    assert got is not None and np.array_equal(got, expected)


def test_byte_aligned_for_is_served_and_other_widths_are_not() -> None:
    values = np.arange(300.0)
    for_node = _node(encode_for(np.array([0, 255, 7, 200], dtype=np.int64)))
    assert for_node.int_param("w") == 8
    assert np.array_equal(gather_packed(values, for_node), [0.0, 255.0, 7.0, 200.0])  # type: ignore[arg-type]
    three_bits = _node(encode_bitpack(np.array([0, 7, 5], dtype=np.int64)))
    assert gather_packed(values, three_bits) is None


def test_an_index_past_the_values_raises() -> None:
    node = _node(encode_bitpack(np.array([0, 1, 2, 3], dtype=np.int64)))  # 2 bits
    with pytest.raises(ValueError, match="out of range"):
        gather_packed(np.array([1.0, 2.0, 3.0]), node)
    ok = gather_packed(np.array([1.0, 2.0, 3.0, 4.0]), node)
    assert ok is not None and ok.tolist() == [1.0, 2.0, 3.0, 4.0]
