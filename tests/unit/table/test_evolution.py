"""Schema evolution without rewriting data: old segments read under the new schema."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import BindError, CommitConflictError, SchemaMismatchError
from hasivu_compute.table.catalog import Catalog

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("qty", pa.int16()),
        pa.field("price", pa.float32()),
        pa.field("name", pa.string()),
    ]
)


def batch(ids: list[int]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "qty": pa.array([i % 7 for i in ids], pa.int16()),
            "price": pa.array([i / 4 for i in ids], pa.float32()),
            "name": pa.array([f"n{i}" for i in ids]),
        }
    )


@pytest.fixture
def table(catalog: Catalog):
    t = catalog.create_table("items", SCHEMA, partition_by=[("id", "bucket[2]")])
    t.append(batch([1, 2, 3]))
    return t


def test_add_column_reads_nulls_for_old_files(table) -> None:
    files_before = set(table.io.list("data"))
    snap = table.add_column("note", pa.string())
    assert set(table.io.list("data")) == files_before, "no data is rewritten"
    assert snap.schema.field("note").id == 5 and snap.schema.schema_id == 1
    table.append(batch([4]).append_column("note", pa.array(["new"])))
    out = table.read().sort_by("id")
    assert out.column("note").to_pylist() == [None, None, None, "new"]
    assert out.schema.field("note").nullable


def test_rename_keeps_data_and_old_versions_keep_old_name(table) -> None:
    table.rename_column("name", "title")
    out = table.read().sort_by("id")
    assert "name" not in out.column_names
    assert out.column("title").to_pylist() == ["n1", "n2", "n3"]
    assert table.read(version=2).column_names == ["id", "qty", "price", "name"]
    with pytest.raises(BindError, match="did you mean 'title'"):
        table.read(columns=["titel"])


def test_drop_then_add_same_name_never_resurrects_old_values(table) -> None:
    table.drop_column("qty")
    assert table.read().column_names == ["id", "price", "name"]
    table.add_column("qty", pa.int64())
    out = table.read()
    assert out.column("qty").null_count == 3, "a new column with an old name is a new column"
    assert table.schema.field("qty").id == 5
    assert table.read(version=2).sort_by("id").column("qty").to_pylist() == [1, 2, 3]


def test_widen_int_and_float_casts_old_files(table) -> None:
    table.widen_column("qty", pa.int64())
    table.widen_column("price", pa.float64())
    table.append(batch([10]).set_column(1, "qty", pa.array([2**40], pa.int64())))
    out = table.read().sort_by("id")
    assert out.schema.field("qty").type == pa.int64()
    assert out.schema.field("price").type == pa.float64()
    assert out.column("qty").to_pylist() == [1, 2, 3, 2**40]
    assert out.column("price").to_pylist() == [0.25, 0.5, 0.75, 2.5]


def test_invalid_evolution_is_rejected_and_changes_nothing(table) -> None:
    before = table.snapshot()
    with pytest.raises(SchemaMismatchError, match="not a widening"):
        table.widen_column("qty", pa.int8())
    with pytest.raises(SchemaMismatchError, match="partition source"):
        table.drop_column("id")
    with pytest.raises(SchemaMismatchError, match="already exists"):
        table.rename_column("qty", "price")
    with pytest.raises(BindError):
        table.drop_column("missing")
    assert table.snapshot() == before


def test_append_validated_against_old_schema_conflicts(table) -> None:
    files = table.write_data_files(batch([9]))
    table.add_column("note", pa.string())
    with pytest.raises(CommitConflictError, match="schema changed"):
        table.commit_append(files)
    assert table.read().num_rows == 3


def test_batch_must_match_the_evolved_schema(table) -> None:
    table.drop_column("name")
    with pytest.raises(SchemaMismatchError, match="'name' is not in the table schema"):
        table.append(batch([5]))
