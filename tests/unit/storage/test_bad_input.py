"""Bad input to the segment writer/reader gets a clear, typed error."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hasivu_compute._core.errors import ConfigError, InvalidDataError, SchemaMismatchError
from hasivu_compute.storage.segment import SegmentReader, WriteOptions, encode_segment

TABLE = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})


def test_field_ids_length_mismatch() -> None:
    with pytest.raises(InvalidDataError, match="field_ids has 1 ids but the table has 2 columns"):
        encode_segment(TABLE, [1])
    with pytest.raises(ValueError):
        encode_segment(TABLE, [1, 2, 3])


def test_duplicate_or_bad_field_ids() -> None:
    with pytest.raises(InvalidDataError, match="distinct"):
        encode_segment(TABLE, [1, 1])
    with pytest.raises(InvalidDataError, match="non-negative"):
        encode_segment(TABLE, [1, -2])
    with pytest.raises(InvalidDataError, match="non-negative"):
        encode_segment(TABLE, [1, "2"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([[1], [2]], pa.list_(pa.int64())),
        pa.array([{"x": 1}, {"x": 2}]),
        pa.array(np.array([1.0, 2.0], np.float16)),  # pyarrow < 20 takes no floats
        pa.array([1, 2]).dictionary_encode(),  # dictionaries of strings are stored
    ],
    ids=["list", "struct", "float16", "dictionary of ints"],
)
def test_unsupported_type_names_the_column(column: pa.Array) -> None:
    table = pa.table({"ok": [1, 2], "bad": column})
    with pytest.raises(SchemaMismatchError, match="'bad'") as info:
        encode_segment(table, [1, 2])
    assert info.value.column == "bad"
    assert isinstance(info.value, TypeError)


def test_not_a_table() -> None:
    with pytest.raises(InvalidDataError, match=r"pyarrow\.Table"):
        encode_segment({"a": [1]}, [1])  # type: ignore[arg-type]


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="chunk_rows"):
        WriteOptions(chunk_rows=0)
    with pytest.raises(ConfigError, match="zstd_level"):
        WriteOptions(zstd_level=40)
    with pytest.raises(ConfigError, match="unknown encodings"):
        WriteOptions(encodings=("zip",))
    with pytest.raises(ConfigError, match="bloom_fpp"):
        WriteOptions(bloom_fpp=1.5)


def test_reader_rejects_unknown_field_and_chunk() -> None:
    data, _ = encode_segment(TABLE, [7, 8])
    reader = SegmentReader(pa.BufferReader(data), "seg")
    with pytest.raises(InvalidDataError, match="field id 9"):
        reader.read([9])
    with pytest.raises(InvalidDataError, match="chunk 5"):
        reader.chunk_stats(5, 7)
    with pytest.raises(InvalidDataError):
        reader.field_type(1)
