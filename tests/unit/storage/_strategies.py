"""Hypothesis strategies for segment tests: Arrow arrays of every supported type."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable

import hypothesis.strategies as st
import pyarrow as pa

INT_RANGES = {
    pa.int8(): (-(2**7), 2**7 - 1),
    pa.int16(): (-(2**15), 2**15 - 1),
    pa.int32(): (-(2**31), 2**31 - 1),
    pa.int64(): (-(2**63), 2**63 - 1),
    pa.uint8(): (0, 2**8 - 1),
    pa.uint16(): (0, 2**16 - 1),
    pa.uint32(): (0, 2**32 - 1),
    pa.uint64(): (0, 2**64 - 1),
}

UTC = dt.UTC


def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers biased towards structure (small ranges, extremes) as well as noise."""
    span = min(hi - lo, 1000)
    return st.one_of(
        st.integers(lo, hi),
        st.integers(lo, lo + span),
        st.integers(hi - span, hi),
        st.sampled_from([lo, hi, 0 if lo <= 0 <= hi else lo]),
    )


def _money() -> st.SearchStrategy[float]:
    return st.integers(-(10**9), 10**9).map(lambda c: c / 100)


def _floats(width: int) -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(width=width, allow_nan=True, allow_infinity=True),
        _money() if width == 64 else st.integers(-1000, 1000).map(float),
        st.sampled_from([0.0, -0.0, float("inf"), float("-inf"), float("nan")]),
    )


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
_LONG_TEXT = st.text(max_size=3).map(lambda s: s * 200)


def value_strategy(t: pa.DataType) -> st.SearchStrategy[object]:
    """Python values of type ``t`` (nulls added by the caller)."""
    if t in INT_RANGES:
        return _ints(*INT_RANGES[t])
    if pa.types.is_boolean(t):
        return st.booleans()
    if pa.types.is_float32(t):
        return _floats(32)
    if pa.types.is_float64(t):
        return _floats(64)
    if pa.types.is_decimal(t):
        digits = t.precision
        bound = 10**digits - 1
        ctx = decimal.Context(prec=60)
        return _ints(-bound, bound).map(lambda i: decimal.Decimal(i).scaleb(-t.scale, context=ctx))
    if pa.types.is_date32(t):
        return st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
    if pa.types.is_timestamp(t):
        tz = UTC if t.tz else None
        return st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2250, 1, 1)).map(
            lambda d: d.replace(tzinfo=tz)
        )
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return st.one_of(_TEXT, st.sampled_from(["paid", "pending", "", "ü€😀"]), _LONG_TEXT)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return st.one_of(st.binary(max_size=30), st.sampled_from([b"", b"\x00", b"\xff" * 70]))
    raise AssertionError(f"no strategy for {t}")


SUPPORTED_TYPES = [
    pa.bool_(),
    *INT_RANGES,
    pa.float32(),
    pa.float64(),
    pa.decimal128(15, 2),
    pa.decimal128(38, 10),
    pa.decimal128(5, 0),
    pa.string(),
    pa.large_string(),
    pa.string_view(),
    pa.binary(),
    pa.large_binary(),
    pa.date32(),
    pa.timestamp("us"),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("ns", tz="UTC"),
    pa.timestamp("ms"),
]


@st.composite
def arrays(draw: Callable[..., object], t: pa.DataType, max_size: int = 300) -> pa.Array:
    """An array of type ``t`` with optional nulls, runs and sorted order."""
    base = value_strategy(t)
    element = st.one_of(st.none(), base) if draw(st.booleans()) else base
    values = draw(st.lists(element, max_size=max_size))
    assert isinstance(values, list)
    if draw(st.booleans()) and values:  # repeat values into runs
        run = draw(st.integers(1, 20))
        assert isinstance(run, int)
        values = [v for v in values for _ in range(run)][: max_size * 4]
    if t == pa.timestamp("ns", tz="UTC"):
        return pa.array(values, pa.timestamp("us", tz="UTC")).cast(t)
    if pa.types.is_string_view(t):
        return pa.array(values, pa.string()).cast(t)
    return pa.array(values, t)
