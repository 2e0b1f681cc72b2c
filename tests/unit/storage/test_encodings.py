"""Encodings on their own: exact inverses on edge cases, and the chooser's picks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute.storage.encodings.base import Encoded, concat_buffers, parse_node
from hasivu_compute.storage.encodings.bitpack import pack_bits, unpack_bits
from hasivu_compute.storage.encodings.chooser import choose_numeric
from hasivu_compute.storage.encodings.delta import unzigzag, zigzag
from hasivu_compute.storage.encodings.registry import decode_numeric
from hasivu_compute.storage.encodings.scaled_decimal import find_scale


def _decode(encoded: Encoded, domain: str, dtype: np.dtype[np.generic]) -> np.ndarray:
    payload = memoryview(concat_buffers(encoded.flat_buffers()))
    node, end = parse_node(encoded.meta(), payload, 0)
    assert end == len(payload)
    return decode_numeric(domain, node, dtype)


@pytest.mark.parametrize("width", range(65))
def test_bit_packing_every_width(width: int) -> None:
    rng = np.random.default_rng(width)
    for n in (0, 1, 7, 8, 9, 1001):
        hi = (1 << width) - 1
        u = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(
            0, 2, n, dtype=np.uint64
        )
        u &= np.uint64(hi)
        if n:
            u[0] = np.uint64(hi)  # the extreme value of this width
        packed = pack_bits(u, width)
        assert len(packed) == (n * width + 7) // 8
        assert np.array_equal(unpack_bits(packed, n, width).astype(np.uint64), u)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30))
def test_zigzag_inverts(values: list[int]) -> None:
    u = np.array(values, dtype=np.int64).view(np.uint64)
    assert np.array_equal(unzigzag(zigzag(u)), u)


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
)
@pytest.mark.parametrize("name", ["plain", "for", "bitpack", "delta", "rle", "dictionary"])
def test_integer_encodings_at_type_extremes(dtype: type[np.integer], name: str) -> None:
    info = np.iinfo(dtype)
    values = np.array(
        [info.min, info.max, 0 if info.min < 0 else 1, info.max, info.max, info.min], dtype=dtype
    )
    encoded = choose_numeric(values, "int", 3, (name,))
    assert np.array_equal(_decode(encoded, "int", np.dtype(dtype)), values)


def test_scale_detection_is_exact() -> None:
    prices = np.array([0.1, 0.2, 12.35, 99999.99, -3.5])
    found = find_scale(prices)
    assert found is not None and found[0] == 2
    assert find_scale(np.array([0.1, -0.0])) is None, "-0.0 must keep its sign bit"
    assert find_scale(np.array([1.0, float("nan")])) is None
    assert find_scale(np.array([1.0, float("inf")])) is None
    assert find_scale(np.array([1 / 3])) is None
    assert find_scale(np.array([1e300])) is None


def test_reciprocal_scaled_floats_round_trip_in_mul_mode() -> None:
    # 3298652 * 0.01 is not the double nearest to 32986.52 (it is 32986.520000000004):
    # data cast from DECIMAL by multiplying with the reciprocal looks like this.
    cents = np.array([3298652, 647615, 6210520, 1235, -99], dtype=np.int64)
    values = cents.astype(np.float64) * 0.01
    assert values[0] != 32986.52
    found = find_scale(values)
    assert found is not None and found[:2] == (2, "mul")
    encoded = choose_numeric(values, "float", 3, ("scaled",))
    assert encoded.name == "scaled" and encoded.params == {"scale": 2, "mode": "mul"}
    assert np.array_equal(
        _decode(encoded, "float", np.dtype(np.float64)).view(np.int64), values.view(np.int64)
    )
    nearest = np.array([0.1, 12.35])
    assert find_scale(nearest)[:2] == (2, "div")  # type: ignore[index]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["plain", "shuffle", "scaled", "dictionary", "rle"])
def test_float_encodings_keep_every_bit(dtype: type[np.floating], name: str) -> None:
    values = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.25, 1.25, 5e-324, 1e38], dtype=dtype)
    weird_nan = np.array(
        [0x7FF8DEADBEEF0001 if dtype == np.float64 else 0x7FC0BEEF], dtype=np.int64
    )
    values[2] = weird_nan.astype(np.int64 if dtype == np.float64 else np.int32).view(dtype)[0]
    encoded = choose_numeric(values, "float", 3, (name,))
    bits = np.int64 if dtype == np.float64 else np.int32
    assert np.array_equal(_decode(encoded, "float", np.dtype(dtype)).view(bits), values.view(bits))


def test_chooser_prefers_structure() -> None:
    n = 20_000
    ramp = np.arange(n, dtype=np.int64) * 3 + 10**15
    assert choose_numeric(ramp, "int", 3, None).name == "delta"
    runs = np.repeat(np.arange(20, dtype=np.int64) * 10**12, n // 20)
    assert choose_numeric(runs, "int", 3, None).name in ("rle", "dictionary")
    money = np.random.default_rng(0).integers(0, 10**6, n) / 100
    assert choose_numeric(money, "float", 3, None).name in ("scaled", "dictionary")
    noise = np.random.default_rng(0).standard_normal(n)
    assert choose_numeric(noise, "float", 3, None).name in ("plain", "shuffle")
