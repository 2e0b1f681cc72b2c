"""Catalog.create_table refuses a column type tables cannot store, before writing anything."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import SchemaMismatchError
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table import Catalog

UNSTORABLE = [
    pa.duration("us"),
    pa.dictionary(pa.int32(), pa.string()),
    pa.float16(),
    pa.decimal256(40, 2),
    pa.binary(16),
    pa.list_(pa.int64()),
    pa.struct([("a", pa.int64())]),
]


@pytest.mark.parametrize("dtype", UNSTORABLE, ids=str)
def test_create_table_refuses_unstorable_types(tmp_path: Path, dtype: pa.DataType) -> None:
    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    schema = pa.schema([("id", pa.int64()), ("v", dtype)])
    with pytest.raises(SchemaMismatchError) as info:
        catalog.create_table("t", schema)
    assert info.value.column == "v", "the error names the column"
    assert "v" in str(info.value) and str(dtype) in str(info.value)
    assert not catalog.table_exists("t"), "a refused table is not created"


def test_a_column_added_later_is_checked_too(tmp_path: Path) -> None:
    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    table = catalog.create_table("t", pa.schema([("id", pa.int64())]))
    with pytest.raises(SchemaMismatchError):
        table.add_column("d", pa.duration("s"))
    with pytest.raises(SchemaMismatchError):
        table.alter([("add", "l", pa.list_(pa.int32()))])
    assert table.snapshot().version == 1
