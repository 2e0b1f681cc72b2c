"""Errors through the cluster reach the caller as the typed errors they are in process."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import (
    IngestKeyConflictError,
    SchemaMismatchError,
    TableNotFoundError,
)

pytestmark = pytest.mark.integration


def test_create_table_given_a_dict_is_a_typed_error_not_a_ray_traceback(conn) -> None:
    with pytest.raises(SchemaMismatchError) as info:
        conn.create_table("t", {"a": "int64"})
    assert type(info.value) is SchemaMismatchError, "no RayTaskError wrapper"
    assert "pyarrow.Schema" in str(info.value) and "dict" in str(info.value)
    assert conn.tables() == []


def test_an_error_raised_in_the_coordinator_keeps_its_type_and_fields(conn) -> None:
    schema = pa.schema([("a", pa.int64())])
    conn.create_table("t", schema)
    conn.ingest("t", pa.table({"a": [1, 2]}, schema=schema), producer_id="p", sequence=4)
    with pytest.raises(IngestKeyConflictError) as info:
        conn.ingest("t", pa.table({"a": [3]}, schema=schema), producer_id="p", sequence=4)
    err = info.value
    assert type(err) is IngestKeyConflictError
    assert (err.producer_id, err.sequence) == ("p", 4)
    assert "Traceback" not in str(err) and "ray::" not in str(err)


def test_a_connection_does_not_create_its_folder_until_it_writes(
    ray_session: None, tmp_path: Path
) -> None:
    from hasivu_compute.sdk import connect

    folder = tmp_path / "never-written"
    with connect(data_dir=folder, num_shards=1, num_ingest_actors=1) as c:
        assert c.tables() == []
        with pytest.raises(TableNotFoundError, match="no warehouse at"):
            c.table("orders").count()
    assert not folder.exists(), "a mistyped data_dir must not leave an empty warehouse"
