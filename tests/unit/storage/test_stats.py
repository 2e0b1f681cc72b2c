"""Zone maps are exact (or safely widened) and survive JSON for manifests."""

from __future__ import annotations

import datetime as dt
import json
import math
import zoneinfo
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import InvalidDataError
from hasivu_compute.storage.index.zonemap import MAX_STAT_CHARS, compute_stats
from hasivu_compute.storage.segment import ColumnChunkStats, SegmentInfo, encode_segment
from hasivu_compute.storage.stats import merge_stats
from tests.unit.storage._strategies import SUPPORTED_TYPES, arrays

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    "value",
    [
        0,
        -(2**63),
        2**64 - 1,
        1.5,
        float("inf"),
        float("-inf"),
        Decimal("12.30"),
        Decimal("-99999999999999999999999999.9999999999"),
        "ü€😀",
        b"\x00\xff",
        True,
        dt.date(1, 1, 1),
        dt.datetime(2025, 3, 30, 2, 30, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 30, 3, 30, tzinfo=BERLIN),
        dt.datetime(1999, 12, 31, 23, 59, 59, 999999),
    ],
    ids=repr,
)
def test_stats_json_round_trip(value: object) -> None:
    stats = ColumnChunkStats(10, 2, value, value, has_nan=True, has_bloom=True)
    text = json.dumps(stats.to_json(), allow_nan=False)
    back = ColumnChunkStats.from_json(json.loads(text))
    assert back == stats
    assert type(back.min) is type(value)
    if isinstance(value, dt.datetime):
        assert back.min.utcoffset() == value.utcoffset()  # type: ignore[union-attr]


def test_malformed_stats_json() -> None:
    with pytest.raises(InvalidDataError):
        ColumnChunkStats.from_json({"rows": 1})
    with pytest.raises(InvalidDataError):
        ColumnChunkStats.from_json({"rows": 1, "nulls": 0, "min": {"t": "nope", "v": 1}})


@pytest.mark.parametrize("arrow_type", SUPPORTED_TYPES, ids=str)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_zone_map_bounds_every_value(arrow_type: pa.DataType, data: st.DataObject) -> None:
    arr = data.draw(arrays(arrow_type, max_size=60))
    stats = compute_stats(arr)
    assert stats.row_count == len(arr) and stats.null_count == arr.null_count
    values = [
        v for v in arr.to_pylist() if v is not None and not (isinstance(v, float) and math.isnan(v))
    ]
    assert stats.has_nan == (
        pa.types.is_floating(arrow_type) and bool(pc.any(pc.is_nan(arr)).as_py() or False)
    )
    if not values:
        assert stats.min is None and stats.max is None
        return
    if stats.min is None:  # untracked (outside datetime range) is allowed, never wrong
        return
    if pa.types.is_timestamp(arrow_type) and arrow_type.unit == "ns":
        return  # as_py of ns values is a pandas Timestamp; covered by the segment round trip
    assert all(stats.min <= v for v in values), (stats.min, values)  # type: ignore[operator]
    assert stats.max is None or all(v <= stats.max for v in values)  # type: ignore[operator]
    if all(len(v) <= MAX_STAT_CHARS for v in values if isinstance(v, str | bytes)):
        assert stats.min == min(values) and stats.max == max(values)  # type: ignore[type-var]


def test_long_strings_are_truncated_to_valid_bounds() -> None:
    long_a, long_z = "a" * 500, "z" * 300 + "\U0010ffff"
    stats = compute_stats(pa.array([long_z, long_a, None]))
    assert stats.min == "a" * MAX_STAT_CHARS and stats.min <= long_a
    assert isinstance(stats.max, str) and len(stats.max) <= MAX_STAT_CHARS and stats.max >= long_z


def test_merge_and_segment_info_json() -> None:
    table = pa.table({"x": pa.array([3, None, 7, 1]), "t": pa.array(["b", "a", None, "c"])})
    _, info = encode_segment(table, [1, 2])
    again = SegmentInfo.from_json(json.loads(json.dumps(info.to_json(), allow_nan=False)))
    assert again == info
    assert info.stats[1] == ColumnChunkStats(4, 1, 1, 7)
    merged = merge_stats(
        [ColumnChunkStats(2, 2, None, None), ColumnChunkStats(3, 0, 5, 9, has_nan=True)]
    )
    assert merged == ColumnChunkStats(5, 2, 5, 9, has_nan=True)
    unknown = merge_stats([ColumnChunkStats(2, 0, None, None), ColumnChunkStats(3, 0, 5, 9)])
    assert unknown.min is None and unknown.max is None, (
        "an untracked part makes the merged bound unknown"
    )


def test_nan_and_tz_in_stats() -> None:
    stats = compute_stats(pa.array([float("nan"), 2.0, -1.0]))
    assert (stats.min, stats.max, stats.has_nan) == (-1.0, 2.0, True)
    only_nan = compute_stats(pa.array([float("nan"), None]))
    assert (only_nan.min, only_nan.max, only_nan.has_nan) == (None, None, True)
    ts = pa.array([dt.datetime(2025, 1, 1, tzinfo=dt.UTC)], pa.timestamp("ns", tz="Europe/Berlin"))
    s = compute_stats(ts)
    assert s.min == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert isinstance(s.min, dt.datetime) and s.min.tzinfo is not None
