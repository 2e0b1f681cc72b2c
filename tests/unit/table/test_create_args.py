"""create_table refuses arguments of the wrong kind, naming the argument, before any write."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import ConfigError, SchemaMismatchError, TableNotFoundError
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog

SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.string())])


@pytest.mark.parametrize(
    ("schema", "partition_by", "error", "words"),
    [
        ({"a": "int64"}, None, SchemaMismatchError, "must be a pyarrow.Schema, got dict"),
        (["a"], None, SchemaMismatchError, "got list"),
        (SCHEMA, "a", ConfigError, "must be a list"),
        (SCHEMA, [("a", 16)], ConfigError, "('a', 16)"),
        (SCHEMA, [["a"]], ConfigError, "['a']"),
    ],
)
def test_wrong_kinds_of_arguments_are_named(
    tmp_path: Path, schema: object, partition_by: object, error: type, words: str
) -> None:
    catalog = Catalog(FileIO.from_uri(str(tmp_path / "wh")))
    with pytest.raises(error) as info:
        catalog.create_table("t", schema, partition_by=partition_by)  # type: ignore[arg-type]
    assert words in str(info.value) and "'t'" in str(info.value)
    assert not (tmp_path / "wh").exists(), "nothing was written, not even the folder"


def test_a_reader_of_a_mistyped_folder_is_told_so(tmp_path: Path) -> None:
    catalog = Catalog(FileIO.from_uri(str(tmp_path / "typo")))
    assert catalog.list_tables() == []
    with pytest.raises(TableNotFoundError, match="no warehouse at"):
        catalog.load_table("orders")
    assert not (tmp_path / "typo").exists(), "reading creates nothing"
    catalog.create_table("orders", SCHEMA)  # the first write creates the folder
    assert (tmp_path / "typo").is_dir() and catalog.list_tables() == ["orders"]
