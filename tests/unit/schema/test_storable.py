"""check_storable accepts exactly the column types a table can write and read back.

The list of storable types lives in ``schema`` (below ``storage`` in the layers),
so these tests pin it to the storage layer's real behaviour: every accepted
type round-trips through create -> append -> read -> query on a real table in a
temp folder, and every refused one fails somewhere on that path today.
"""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import SchemaMismatchError
from hasivu_compute.exec import execute
from hasivu_compute.plan.nodes import Scan
from hasivu_compute.schema import TableSchema, check_column_storable, check_storable, is_storable
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table import Catalog

D = decimal.Decimal


def _values(t: pa.DataType) -> pa.Array:
    """Three values of type ``t`` (the middle one NULL)."""
    if pa.types.is_dictionary(t):
        plain = _values(t.value_type)
        return plain.dictionary_encode().cast(t)
    if pa.types.is_boolean(t):
        return pa.array([True, None, False], t)
    if pa.types.is_integer(t):
        return pa.array([1, None, 3], t)
    if pa.types.is_floating(t):
        values = [1.5, None, -2.0]
        return (
            pa.array(values, pa.float32()).cast(t)
            if pa.types.is_float16(t)
            else pa.array(values, t)
        )
    if pa.types.is_decimal(t):
        return pa.array([D(12), None, D(-3)], t)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.array(["x", None, "yz"], t)
    if pa.types.is_fixed_size_binary(t):
        return pa.array([b"a" * t.byte_width, None, b"b" * t.byte_width], t)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.array([b"x", None, b"yz"], t)
    if pa.types.is_date(t):
        return pa.array([dt.date(2020, 1, 1), None, dt.date(2021, 5, 6)], t)
    if pa.types.is_time(t):
        return pa.array([dt.time(1, 2, 3), None, dt.time(23, 59, 59)], t)
    if pa.types.is_timestamp(t):
        return pa.array([dt.datetime(2020, 1, 1, 1, 2, 3), None, dt.datetime(2021, 5, 6)], t)
    if pa.types.is_duration(t):
        return pa.array([dt.timedelta(seconds=5), None, dt.timedelta(days=2)], t)
    if pa.types.is_null(t):
        return pa.nulls(3)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        items = _values(t.value_type).to_pylist()
        return pa.array([[items[0]], None, [items[2], items[0]]], t)
    if pa.types.is_struct(t):
        return pa.array([{"a": 1}, None, {"a": 2}], t)
    if pa.types.is_map(t):
        return pa.array([[("a", 1)], None, []], t)
    if t == pa.month_day_nano_interval():
        return pa.array([pa.MonthDayNano([1, 2, 3]), None, pa.MonthDayNano([0, 0, 1])], t)
    raise AssertionError(f"no test values for {t}")


STORABLE = [
    *(pa.int8(), pa.int16(), pa.int32(), pa.int64()),
    *(pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()),
    pa.float32(),
    pa.float64(),
    pa.bool_(),
    pa.decimal128(5, 0),
    pa.decimal128(12, 2),
    pa.decimal128(38, 4),
    *(pa.string(), pa.large_string(), pa.string_view()),
    *(pa.binary(), pa.large_binary(), pa.binary_view()),
    pa.date32(),
    pa.date64(),
    *(pa.time32("s"), pa.time32("ms"), pa.time64("us"), pa.time64("ns")),
    *(pa.timestamp("s"), pa.timestamp("ns"), pa.timestamp("us", tz="UTC")),
    pa.timestamp("ms", tz="Asia/Kolkata"),
    pa.null(),
]
# (type, the supported type the error suggests)
REFUSED = [
    (pa.float16(), "float32"),
    (pa.decimal256(40, 2), "decimal128(38, 2)"),
    (pa.decimal256(20, 2), "decimal128(20, 2)"),
    (pa.binary(16), "binary"),
    (pa.duration("us"), "int64"),
    (pa.duration("s"), "int64"),
    (pa.dictionary(pa.int32(), pa.string()), "string"),
    (pa.dictionary(pa.int8(), pa.large_string()), "large_string"),
    (pa.dictionary(pa.int32(), pa.binary()), "binary"),
    (pa.dictionary(pa.int32(), pa.int64()), "int64"),
    (pa.list_(pa.int64()), "string"),
    (pa.large_list(pa.string()), "string"),
    (pa.struct([("a", pa.int64())]), "one column per field"),
    (pa.map_(pa.string(), pa.int64()), "string"),
    (pa.month_day_nano_interval(), "int64"),
]
if hasattr(pa, "decimal64"):
    REFUSED += [
        (pa.decimal32(5, 2), "decimal128(5, 2)"),
        (pa.decimal64(12, 2), "decimal128(12, 2)"),
    ]


def _round_trip(root: Path, t: pa.DataType) -> bool:
    """Whether a column of type ``t`` is written, read and queried back unchanged."""
    catalog = Catalog(FileIO.from_uri(str(root)))
    schema = pa.schema([("id", pa.int64()), ("v", t)])
    data = pa.table({"id": [1, 2, 3], "v": _values(t)}, schema=schema)
    try:
        catalog.create_table("x", schema).append(data)
        read = catalog.load_table("x").read()
        queried = execute(Scan("x"), catalog).sort_by("id")
    except Exception:  # any failure means "cannot be stored"
        return False
    expected = data.column("v").to_pylist()
    return read.column("v").to_pylist() == expected and queried.column("v").to_pylist() == expected


@pytest.mark.parametrize("dtype", STORABLE, ids=str)
def test_accepted_types_round_trip_end_to_end(tmp_path: Path, dtype: pa.DataType) -> None:
    assert is_storable(dtype)
    check_storable(pa.schema([("v", dtype)]))
    assert _round_trip(tmp_path, dtype), f"{dtype} is accepted, so it must round-trip"


@pytest.mark.parametrize(("dtype", "suggestion"), REFUSED, ids=lambda v: str(v))
def test_refused_types_name_column_type_and_a_supported_type(
    tmp_path: Path, dtype: pa.DataType, suggestion: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not is_storable(dtype)
    schema = pa.schema([("id", pa.int64()), pa.field("v", dtype)])
    with pytest.raises(SchemaMismatchError) as info:
        check_storable(schema)
    error = info.value
    assert isinstance(error, TypeError)
    assert error.column == "v"
    assert "column 'v'" in str(error) and str(dtype) in str(error)
    assert suggestion in str(error), str(error)
    # create_table runs check_storable itself: switch it off, or the round trip below would
    # fail at the very check under test and could never tell that storage now copes
    from hasivu_compute.table import catalog as catalog_module

    monkeypatch.setattr(catalog_module, "check_storable", lambda schema: None)
    assert not _round_trip(tmp_path, dtype), (
        f"{dtype} now round-trips: the storage layer supports it, so accept it in check_storable"
    )


def test_table_schemas_are_checked_too() -> None:
    schema = TableSchema.from_arrow(pa.schema([("a", pa.int64()), ("span", pa.duration("ms"))]))
    with pytest.raises(SchemaMismatchError, match="span"):
        check_storable(schema)
    check_storable(TableSchema.from_arrow(pa.schema([("a", pa.int64())])))


def test_one_column_check_for_added_and_widened_columns() -> None:
    with pytest.raises(SchemaMismatchError, match=r"'late'.*float32") as info:
        check_column_storable("late", pa.float16())
    assert info.value.column == "late"
    check_column_storable("late", pa.float32())
