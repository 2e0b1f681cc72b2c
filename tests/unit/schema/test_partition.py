"""Partition transforms: vectorised results equal a per-value reference (hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import BindError
from hasivu_compute.schema.partition import (
    PartitionSpec,
    apply_transform,
    format_partition_value,
    transform_scalar,
    xxh64_int64,
)
from hasivu_compute.schema.schema import TableSchema

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def ref_bucket_int(v: int | None, n: int) -> int | None:
    if v is None:
        return None
    return xxhash.xxh64_intdigest(v.to_bytes(8, "little", signed=True)) % n


def ref_bucket_bytes(v: str | bytes | None, n: int) -> int | None:
    if v is None:
        return None
    return xxhash.xxh64_intdigest(v.encode() if isinstance(v, str) else v) % n


def ref_day(v: dt.datetime | None) -> int | None:
    return None if v is None else (v - EPOCH) // dt.timedelta(days=1)


def ref_month(v: dt.datetime | None) -> int | None:
    return None if v is None else (v.year - 1970) * 12 + v.month - 1


ints = st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=60)
texts = st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=60)
stamps = st.lists(
    st.one_of(
        st.none(),
        st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
            lambda d: d.replace(tzinfo=UTC)
        ),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(values=ints, n=st.integers(1, 1000))
def test_bucket_int64_matches_reference(values: list[int | None], n: int) -> None:
    got = apply_transform(f"bucket[{n}]", pa.array(values, pa.int64())).to_pylist()
    assert got == [ref_bucket_int(v, n) for v in values]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), max_size=40))
def test_bucket_is_width_independent(values: list[int | None]) -> None:
    narrow = apply_transform("bucket[16]", pa.array(values, pa.int32()))
    wide = apply_transform("bucket[16]", pa.array(values, pa.int64()))
    assert narrow.equals(wide), "widening a column must not move rows between buckets"


@settings(max_examples=60, deadline=None)
@given(values=texts, n=st.integers(1, 64))
def test_bucket_strings_match_reference_for_every_string_type(
    values: list[str | None], n: int
) -> None:
    expected = [ref_bucket_bytes(v, n) for v in values]
    for dtype in (pa.string(), pa.large_string(), pa.string_view()):
        got = apply_transform(f"bucket[{n}]", pa.array(values, dtype)).to_pylist()
        assert got == expected, dtype


@settings(max_examples=60, deadline=None)
@given(values=stamps)
def test_day_and_month_match_reference(values: list[dt.datetime | None]) -> None:
    for unit in ("s", "ms", "us"):
        arr = pa.array(values, pa.timestamp("us", tz="UTC")).cast(
            pa.timestamp(unit, tz="UTC"), safe=False
        )
        truncated = arr.to_pylist()
        assert apply_transform("day", arr).to_pylist() == [ref_day(v) for v in truncated]
        assert apply_transform("month", arr).to_pylist() == [ref_month(v) for v in truncated]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.dates()), max_size=40))
def test_day_month_of_dates(values: list[dt.date | None]) -> None:
    arr = pa.array(values, pa.date32())
    days = [None if v is None else (v - dt.date(1970, 1, 1)).days for v in values]
    months = [None if v is None else (v.year - 1970) * 12 + v.month - 1 for v in values]
    assert apply_transform("day", arr).to_pylist() == days
    assert apply_transform("month", arr).to_pylist() == months
    assert apply_transform("day", arr.cast(pa.date64())).to_pylist() == days


def test_numpy_xxh64_equals_library() -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(-(2**63), 2**63 - 1, size=1000, dtype=np.int64)
    expected = [xxhash.xxh64_intdigest(int(v).to_bytes(8, "little", signed=True)) for v in values]
    assert xxh64_int64(values).tolist() == expected


def test_spec_build_names_and_values() -> None:
    schema = TableSchema.from_arrow(
        pa.schema(
            [
                ("school_id", pa.int32()),
                ("ordered_at", pa.timestamp("us", tz="UTC")),
                ("status", pa.string()),
            ]
        )
    )
    spec = PartitionSpec.build(
        schema, [("school_id", "bucket[8]"), ("ordered_at", "month"), ("status", "identity")]
    )
    assert [f.name for f in spec.fields] == ["school_id_bucket", "ordered_at_month", "status"]
    data = pa.table(
        {
            "school_id": pa.array([1, 2], pa.int32()),
            "ordered_at": pa.array(
                [dt.datetime(2025, 1, 31, 23, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")
            ),
            "status": ["paid", None],
        }
    )
    values = spec.partition_values(data, schema)
    assert values.column_names == ["school_id_bucket", "ordered_at_month", "status"]
    assert values.column("ordered_at_month").to_pylist() == [660, None]
    assert spec.path([3, 660, "a/b"]) == "school_id_bucket=3/ordered_at_month=2025-01/status=a%2Fb"
    assert PartitionSpec.from_json(spec.to_json()) == spec


def test_bad_transforms_are_rejected_with_the_column_named() -> None:
    schema = TableSchema.from_arrow(pa.schema([("x", pa.float64()), ("s", pa.string())]))
    with pytest.raises(BindError, match="'x'"):
        PartitionSpec.build(schema, [("x", "bucket[4]")])
    with pytest.raises(BindError, match="'s'"):
        PartitionSpec.build(schema, [("s", "month")])
    with pytest.raises(BindError, match="unknown partition transform"):
        PartitionSpec.build(schema, [("s", "bucket[0]")])
    with pytest.raises(BindError, match="no column"):
        PartitionSpec.build(schema, ["nope"])


def test_scalar_transform_and_formatting() -> None:
    assert transform_scalar("month", dt.date(2025, 3, 2), pa.date32()) == 662
    assert format_partition_value("day", 0) == "1970-01-01"
    assert format_partition_value("month", -1) == "1969-12"
    assert format_partition_value("identity", None) == "__null__"
    assert format_partition_value("identity", b"\x01") == "01"


def test_a_bare_name_lets_the_engine_choose_the_layout() -> None:
    import pyarrow as pa

    from hasivu_compute.schema.partition import PartitionSpec
    from hasivu_compute.schema.schema import TableSchema

    schema = TableSchema.from_arrow(
        pa.schema(
            [
                ("school_id", pa.int32()),
                ("region", pa.string()),
                ("meal_date", pa.date32()),
                ("ordered_at", pa.timestamp("us")),
                ("free", pa.bool_()),
            ]
        )
    )
    spec = PartitionSpec.build(schema, ["school_id", "region", "meal_date", "ordered_at", "free"])
    assert [f.transform for f in spec.fields] == [
        "bucket[16]",
        "bucket[16]",
        "identity",
        "day",
        "identity",
    ], "tenant keys are hashed into clusters; dates stay per day"
    assert PartitionSpec.build(schema, ["school_id"], default_buckets=64).fields[0].transform == (
        "bucket[64]"
    )
    explicit = PartitionSpec.build(schema, [("school_id", "identity")])
    assert explicit.fields[0].transform == "identity", "identity on request"
