"""TableSchema: stable ids, lookups with near matches, exact JSON round trip of types."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import BindError, SchemaMismatchError
from hasivu_compute.schema.schema import Field, TableSchema

ARROW = pa.schema(
    [
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("ordered_at", pa.timestamp("us", tz="UTC")),
        pa.field("amount", pa.decimal128(12, 2)),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("student", pa.string(), metadata={b"tags": b"pii,student"}),
    ]
)


def test_from_arrow_assigns_ids_in_order_and_keeps_tags() -> None:
    schema = TableSchema.from_arrow(ARROW)
    assert schema.field_ids == (1, 2, 3, 4, 5)
    assert schema.field("student").tags == frozenset({"pii", "student"})
    assert schema.by_id(1).nullable is False
    arrow = schema.to_arrow()
    assert arrow.field("order_id").metadata[b"field_id"] == b"1"
    assert [f.type for f in arrow] == [f.type for f in ARROW]


def test_json_roundtrip_is_exact() -> None:
    schema = TableSchema.from_arrow(ARROW, schema_id=7)
    again = TableSchema.from_json(schema.to_json())
    assert again == schema
    assert again.field("ordered_at").type.tz == "UTC"
    assert again.field("amount").type == pa.decimal128(12, 2)


def test_unknown_column_suggests_near_matches() -> None:
    schema = TableSchema.from_arrow(ARROW)
    with pytest.raises(BindError, match="did you mean 'amount'"):
        schema.field("amout")
    with pytest.raises(BindError):
        schema.by_id(99)


def test_duplicates_rejected() -> None:
    with pytest.raises(SchemaMismatchError, match="duplicate column"):
        TableSchema((Field(1, "a", pa.int8()), Field(2, "a", pa.int8())))
    with pytest.raises(SchemaMismatchError, match="duplicate field ids"):
        TableSchema((Field(1, "a", pa.int8()), Field(1, "b", pa.int8())))
    with pytest.raises(SchemaMismatchError):
        Field(0, "a", pa.int8())
