"""Zone maps: min, max, null count (and NaN presence) of one column block.

Values are Python scalars comparable with ``pyarrow.Scalar.as_py()`` so the
expression layer can compare literals with them directly. Bounds stay valid
when exact values cannot be kept: long strings are truncated (the max rounded
up), nanosecond timestamps are widened to whole microseconds, and values
outside Python's ``datetime`` range leave min/max untracked (``None``).
"""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.storage.encodings.dictionary import used_dictionary
from hasivu_compute.storage.stats import ColumnChunkStats

MAX_STAT_CHARS = 64


def compute_stats(arr: pa.Array, has_bloom: bool = False) -> ColumnChunkStats:
    """Zone map of ``arr`` (any supported type)."""
    n = len(arr)
    nulls = n if pa.types.is_null(arr.type) else arr.null_count
    has_nan = False
    t = arr.type
    if pa.types.is_floating(t) and n > nulls:
        has_nan = bool(pc.any(pc.is_nan(arr)).as_py())
    lo: object | None = None
    hi: object | None = None
    if n > nulls and not pa.types.is_null(t):
        lo, hi = _min_max(arr)
    return ColumnChunkStats(n, nulls, lo, hi, has_nan=has_nan, has_bloom=has_bloom)


def _min_max(arr: pa.Array) -> tuple[object | None, object | None]:
    if isinstance(arr, pa.DictionaryArray):  # bounds of the few entries in use
        arr = used_dictionary(arr)
    t = arr.type
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        arr = arr.cast(pa.large_string() if pa.types.is_string_view(t) else pa.large_binary())
    result = pc.min_max(arr)
    lo_s, hi_s = result["min"], result["max"]
    if not lo_s.is_valid:
        return None, None
    if pa.types.is_timestamp(t) and t.unit == "ns":
        return _ns_bounds(lo_s, hi_s, t)
    if (pa.types.is_time64(t) or pa.types.is_duration(t)) and t.unit == "ns":
        return None, None  # no exact Python counterpart; pruning simply keeps the block
    try:
        lo, hi = lo_s.as_py(), hi_s.as_py()
    except (ValueError, OverflowError, ArithmeticError):
        return None, None  # outside Python's date/datetime range
    if (isinstance(lo, float) and math.isnan(lo)) or (isinstance(hi, float) and math.isnan(hi)):
        return None, None  # only NaN among the non-null values: NaN never becomes a bound
    if isinstance(lo, str | bytes) and isinstance(hi, str | bytes):
        return lo[:MAX_STAT_CHARS], _round_up(hi)
    return lo, hi


def _ns_bounds(lo_s: pa.Scalar, hi_s: pa.Scalar, t: pa.TimestampType) -> tuple[object, object]:
    """Floor/ceil nanosecond bounds to microseconds (datetime's resolution)."""
    us = pa.timestamp("us", t.tz)
    lo_ns, hi_ns = lo_s.cast(pa.int64()).as_py(), hi_s.cast(pa.int64()).as_py()
    try:
        lo = pa.scalar(lo_ns // 1000, pa.int64()).cast(us).as_py()
        hi = pa.scalar(-((-hi_ns) // 1000), pa.int64()).cast(us).as_py()
    except (ValueError, OverflowError, ArithmeticError):
        return None, None
    return lo, hi


def _round_up(value: str | bytes) -> str | bytes | None:
    """An upper bound of ``value`` no longer than MAX_STAT_CHARS (``None`` if none exists)."""
    if len(value) <= MAX_STAT_CHARS:
        return value
    if isinstance(value, str):
        head = value[:MAX_STAT_CHARS]
        for i in range(len(head) - 1, -1, -1):
            code = ord(head[i]) + 1
            if code in range(0xD800, 0xE000):
                code = 0xE000
            if code <= 0x10FFFF:
                return head[:i] + chr(code)
        return None
    raw = value[:MAX_STAT_CHARS]
    for i in range(len(raw) - 1, -1, -1):
        if raw[i] < 0xFF:
            return raw[:i] + bytes([raw[i] + 1])
    return None
