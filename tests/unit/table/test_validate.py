"""validate_batch: clear errors naming column and first bad row; safe conversions only."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import InvalidDataError, SchemaMismatchError
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.table.validate import validate_batch

SCHEMA = TableSchema.from_arrow(
    pa.schema(
        [
            pa.field("order_id", pa.int64(), nullable=False),
            pa.field("school_id", pa.int32()),
            pa.field("amount", pa.float64()),
            pa.field("status", pa.string()),
            pa.field("ordered_at", pa.timestamp("us", tz="UTC")),
        ]
    )
)


def good(n: int = 5) -> dict[str, pa.Array]:
    return {
        "order_id": pa.array(range(n), pa.int64()),
        "school_id": pa.array([7] * n, pa.int32()),
        "amount": pa.array([1.5] * n),
        "status": pa.array(["paid"] * n),
        "ordered_at": pa.array(
            [dt.datetime(2025, 1, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC")
        ),
    }


def test_valid_batch_is_returned_in_schema_order_and_types() -> None:
    cols = good()
    shuffled = pa.table({k: cols[k] for k in reversed(list(cols))})
    out = validate_batch(SCHEMA, shuffled)
    assert out.column_names == list(SCHEMA.names)
    assert out.schema.types == SCHEMA.to_arrow().types


def test_string_view_and_large_string_accepted() -> None:
    for dtype in (pa.string_view(), pa.large_string()):
        cols = good()
        cols["status"] = cols["status"].cast(dtype)
        assert validate_batch(SCHEMA, pa.table(cols)).column("status").type == pa.string()


def test_safe_int_narrowing_and_int_to_float_are_allowed() -> None:
    cols = good()
    cols["school_id"] = pa.array([1, 2, 3, 4, 5], pa.int64())
    cols["amount"] = pa.array([1, 2, 3, 4, 5], pa.int16())
    out = validate_batch(SCHEMA, pa.RecordBatch.from_pydict(cols))
    assert out.column("school_id").type == pa.int32()
    assert out.column("amount").to_pylist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_overflow_names_column_and_first_bad_row() -> None:
    cols = good(100)
    values = [1] * 100
    values[41] = 2**40
    values[77] = 2**41
    cols["school_id"] = pa.array(values, pa.int64())
    with pytest.raises(InvalidDataError, match=r"column 'school_id' row 41") as err:
        validate_batch(SCHEMA, pa.table(cols))
    assert (err.value.column, err.value.row) == ("school_id", 41)


def test_unparsable_text_names_value_and_row() -> None:
    cols = good(50)
    text = ["1.5"] * 50
    text[41] = "twelve"
    cols["amount"] = pa.array(text)
    with pytest.raises(
        SchemaMismatchError, match=r"column 'amount' row 41: expected double, got 'twelve'"
    ) as err:
        validate_batch(SCHEMA, pa.table(cols))
    assert err.value.row == 41


def test_parsable_text_is_converted() -> None:
    cols = good(2)
    cols["amount"] = pa.array(["1.25", None])
    assert validate_batch(SCHEMA, pa.table(cols)).column("amount").to_pylist() == [1.25, None]


def test_wrong_type_names_column() -> None:
    cols = good()
    cols["status"] = pa.array([1, 2, 3, 4, 5])
    with pytest.raises(
        SchemaMismatchError, match="column 'status': expected string, got int64"
    ) as err:
        validate_batch(SCHEMA, pa.table(cols))
    assert err.value.column == "status"
    cols = good()
    cols["school_id"] = pa.array([1.0] * 5)
    with pytest.raises(SchemaMismatchError, match="'school_id'"):
        validate_batch(SCHEMA, pa.table(cols))


def test_naive_timestamp_into_tz_column_rejected() -> None:
    cols = good(1)
    cols["ordered_at"] = pa.array([dt.datetime(2025, 1, 1)], pa.timestamp("us"))
    with pytest.raises(SchemaMismatchError, match="'ordered_at'"):
        validate_batch(SCHEMA, pa.table(cols))


def test_missing_and_extra_and_duplicate_columns() -> None:
    cols = good()
    del cols["amount"]
    with pytest.raises(SchemaMismatchError, match=r"column 'amount' .* missing") as err:
        validate_batch(SCHEMA, pa.table(cols))
    assert err.value.column == "amount"
    cols = good()
    cols["bogus"] = pa.array([1] * 5)
    with pytest.raises(SchemaMismatchError, match="column 'bogus' is not in the table schema"):
        validate_batch(SCHEMA, pa.table(cols))
    t = pa.table(good())
    dup = pa.Table.from_arrays([*t.columns, t.column(0)], names=[*t.column_names, "order_id"])
    with pytest.raises(SchemaMismatchError, match="more than once"):
        validate_batch(SCHEMA, dup)


def test_null_in_non_nullable_names_row() -> None:
    cols = good(10)
    ids: list[int | None] = list(range(10))
    ids[6] = None
    cols["order_id"] = pa.array(ids, pa.int64())
    with pytest.raises(InvalidDataError, match=r"column 'order_id' row 6: null") as err:
        validate_batch(SCHEMA, pa.table(cols))
    assert err.value.row == 6


def test_dictionary_and_null_typed_columns() -> None:
    cols = good(3)
    cols["status"] = pa.array(["a", "b", "a"]).dictionary_encode()
    cols["amount"] = pa.nulls(3)
    out = validate_batch(SCHEMA, pa.table(cols))
    assert out.column("status").to_pylist() == ["a", "b", "a"]
    assert out.column("amount").null_count == 3


def test_not_a_table() -> None:
    with pytest.raises(SchemaMismatchError, match="expected a pyarrow Table"):
        validate_batch(SCHEMA, [1, 2, 3])  # type: ignore[arg-type]
    out = validate_batch(SCHEMA, {k: v.to_pylist() for k, v in good(2).items()})
    assert out.num_rows == 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_pandas_dataframe_input() -> None:
    pd = pytest.importorskip("pandas")
    cols = {k: v.to_pylist() for k, v in good(3).items()}
    out = validate_batch(SCHEMA, pd.DataFrame(cols))
    assert out.num_rows == 3 and out.schema.types == SCHEMA.to_arrow().types
    frame = pd.DataFrame({**cols, "order_id": pd.array([1, None, 3], dtype="Int64")})
    with pytest.raises(InvalidDataError, match="'order_id' row 1"):
        validate_batch(SCHEMA, frame)
    floats = pd.DataFrame({**cols, "order_id": [1.0, float("nan"), 3.0]})
    with pytest.raises(SchemaMismatchError, match="'order_id': expected int64, got double"):
        validate_batch(SCHEMA, floats)


def test_nested_columns_cast_only_when_compatible() -> None:
    schema = TableSchema.from_arrow(pa.schema([("tags", pa.list_(pa.string_view()))]))
    assert schema.field("tags").type == pa.list_(pa.string())
    data = pa.table({"tags": pa.array([["a"], None, ["b", "c"]], pa.list_(pa.string_view()))})
    assert validate_batch(schema, data).column("tags").to_pylist() == [["a"], None, ["b", "c"]]
    bad = pa.table({"tags": pa.array([{"x": 1}], pa.struct([("x", pa.int64())]))})
    with pytest.raises(SchemaMismatchError, match="'tags'"):
        validate_batch(schema, bad)
