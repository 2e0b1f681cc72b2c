"""Reading string columns dictionary-typed (SegmentReader.read(..., dictionary=...))."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute.storage.segment import SegmentReader, WriteOptions, encode_segment


@pytest.mark.parametrize("encoding", ["dictionary", "plain"])
@pytest.mark.parametrize("dtype", [pa.string(), pa.large_string(), pa.binary()])
def test_dictionary_read_equals_the_plain_read(encoding: str, dtype: pa.DataType) -> None:
    values = [None if i % 11 == 0 else ("paid", "refunded", "pending")[i % 3] for i in range(500)]
    column = pa.array(values, pa.string()).cast(dtype)
    table = pa.table({"s": column, "n": pa.array(range(500), pa.int64())})
    data, _ = encode_segment(table, [1, 2], WriteOptions(chunk_rows=128, encodings=(encoding,)))
    reader = SegmentReader(pa.BufferReader(data), "t.hseg")
    as_dict = reader.read([1, 2], dictionary={1, 2})  # 2 is an int column: ignored
    typ = as_dict.schema.field("1").type
    assert typ == pa.dictionary(pa.int32(), dtype)
    assert as_dict.schema.field("2").type == pa.int64()
    assert as_dict.column("1").num_chunks == 4
    assert as_dict.column("1").cast(dtype).equals(reader.read([1]).column("1"))
    assert as_dict.column("1").null_count == sum(v is None for v in values)


def test_view_types_are_read_plain() -> None:
    table = pa.table({"s": pa.array(["a", "b"] * 50, pa.string_view())})
    data, _ = encode_segment(table, [1])
    reader = SegmentReader(pa.BufferReader(data), "v.hseg")
    assert reader.read([1], dictionary={1}).schema.field("1").type == pa.string_view()
