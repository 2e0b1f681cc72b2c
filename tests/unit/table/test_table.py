"""Tables end to end on a local folder: create, append, read, time travel, producers."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hasivu_compute._core.errors import (
    BindError,
    CommitConflictError,
    ConfigError,
    IngestKeyConflictError,
    InvalidDataError,
    SchemaMismatchError,
    SnapshotNotFoundError,
    TableExistsError,
    TableNotFoundError,
)
from hasivu_compute.schema.partition import apply_transform
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.digest import digest_of
from hasivu_compute.table.producers import CallKey
from hasivu_compute.table.validate import validate_batch

from .helpers import ORDERS, make_orders


def sort(t: pa.Table) -> pa.Table:
    return t.sort_by("order_id")


def test_create_load_list_drop(catalog: Catalog) -> None:
    t = catalog.create_table("orders", ORDERS, partition_by=[("status", "identity")])
    assert t.snapshot().version == 1 and t.snapshot().data_files == ()
    assert catalog.list_tables() == ["orders"]
    with pytest.raises(TableExistsError):
        catalog.create_table("orders", ORDERS)
    again = catalog.create_table("orders", ORDERS, if_not_exists=True)
    assert again.snapshot() == t.snapshot()
    assert catalog.load_table("orders").schema == t.schema
    with pytest.raises(TableNotFoundError, match="did you mean 'orders'"):
        catalog.load_table("order")
    with pytest.raises(ConfigError):
        catalog.create_table("../evil", ORDERS)
    catalog.drop_table("orders")
    assert catalog.list_tables() == []
    with pytest.raises(TableNotFoundError):
        catalog.drop_table("orders")


def test_append_writes_one_segment_per_partition_and_reads_back(orders) -> None:
    data = make_orders(2000)
    result = orders.append(data)
    assert (result.version, result.rows, result.duplicate) == (2, 2000, False)
    snap = orders.snapshot()
    buckets = apply_transform("bucket[4]", data.column("school_id")).to_pylist()
    months = apply_transform("month", data.column("ordered_at")).to_pylist()
    assert len(snap.data_files) == len(set(zip(buckets, months, strict=True)))
    for f in snap.data_files:
        rows = orders.read_file(f, snap, ["school_id", "ordered_at"])
        assert set(apply_transform("bucket[4]", rows.column("school_id")).to_pylist()) == {
            f.partition[0]
        }
        assert set(apply_transform("month", rows.column("ordered_at")).to_pylist()) == {
            f.partition[1]
        }
        assert f.path.startswith(f"data/school_id_bucket={f.partition[0]}/ordered_at_month=")
        assert f.stats[1].row_count == f.num_rows
    assert sort(orders.read()).equals(sort(data.cast(ORDERS)))
    assert orders.read(columns=["amount"]).column_names == ["amount"]
    with pytest.raises(BindError):
        orders.read(columns=["nope"])


def test_snapshot_records_summary_and_stats(orders) -> None:
    orders.append(make_orders(100))
    snap = orders.snapshot()
    assert snap.summary["operation"] == "append" and snap.summary["added-rows"] == "100"
    total = sum(f.stats[1].row_count for f in snap.data_files)
    assert total == snap.num_rows == 100


def test_time_travel_to_every_version(orders) -> None:
    batches = [make_orders(50, start=i * 50, seed=i) for i in range(4)]
    for b in batches:
        orders.append(b)
    for version in range(1, 6):
        expected = batches[: version - 1]
        got = orders.read(version=version)
        assert got.num_rows == 50 * (version - 1)
        if expected:
            assert sort(got).equals(sort(pa.concat_tables(expected).cast(ORDERS)))
    with pytest.raises(SnapshotNotFoundError):
        orders.snapshot(99)
    v3 = orders.snapshot(3)
    assert orders.snapshot_as_of(v3.timestamp_ms).version >= 3
    with pytest.raises(SnapshotNotFoundError):
        orders.snapshot_as_of(0)


def test_empty_table_read_has_schema(orders) -> None:
    out = orders.read()
    assert out.num_rows == 0 and out.schema.types == ORDERS.types


def test_ingest_keys_deduplicate_and_survive_reopen(orders, catalog: Catalog) -> None:
    first = orders.append(make_orders(10), producer_id="ingest-1", sequence=1)
    files_after_first = set(orders.io.list("data"))
    retry = orders.append(make_orders(10), producer_id="ingest-1", sequence=1)
    assert retry.duplicate and retry.rows == 0 and retry.version == first.version
    assert set(orders.io.list("data")) == files_after_first, "a duplicate writes nothing"
    assert orders.read().num_rows == 10
    earlier = orders.append(make_orders(10, start=100), producer_id="ingest-1", sequence=0)
    assert not earlier.duplicate and earlier.rows == 10, "an earlier, never committed call"
    reopened = catalog.load_table("orders")
    assert reopened.snapshot().producers["ingest-1"].last == 1
    assert reopened.append(make_orders(10), producer_id="ingest-1", sequence=1).duplicate
    with pytest.raises(IngestKeyConflictError, match="other data"):
        reopened.append(make_orders(10, start=50), producer_id="ingest-1", sequence=1)
    ok = reopened.append(make_orders(10, start=10), producer_id="ingest-1", sequence=2)
    assert not ok.duplicate and reopened.read().num_rows == 30
    other = reopened.append(make_orders(5, start=20), producer_id="ingest-2", sequence=1)
    assert not other.duplicate
    producers = reopened.snapshot().producers
    assert (producers["ingest-1"].last, producers["ingest-2"].last) == (2, 1)
    assert [c.sequence for c in producers["ingest-1"].calls] == [0, 1, 2]


def test_a_key_older_than_the_kept_calls_is_refused(orders) -> None:
    from hasivu_compute.table.producers import KEPT_CALLS

    for seq in range(KEPT_CALLS + 2):
        orders.append(make_orders(1, start=seq), producer_id="p", sequence=seq)
    assert len(orders.snapshot().producers["p"].calls) == KEPT_CALLS
    with pytest.raises(IngestKeyConflictError, match="older than"):
        orders.append(make_orders(1, start=999), producer_id="p", sequence=0)
    assert orders.read().num_rows == KEPT_CALLS + 2


def test_duplicate_found_at_commit_time_is_acknowledged(orders) -> None:
    data = make_orders(10)
    files = orders.write_data_files(data)
    orders.append(data, producer_id="p", sequence=7)
    key = CallKey("p", 7, digest_of(validate_batch(orders.snapshot().schema, data)), 10)
    result = orders.commit_append(files, key)
    assert result.duplicate and orders.read().num_rows == 10


def test_a_retried_commit_of_the_same_files_applies_once(orders) -> None:
    files = orders.write_data_files(make_orders(10))
    first = orders.commit_append(files)
    again = orders.commit_append(files)  # the first reply was lost
    assert (again.duplicate, again.version) == (False, first.version)
    assert orders.read().num_rows == 10


def test_bad_input_changes_nothing(orders) -> None:
    orders.append(make_orders(10))
    before = orders.snapshot()
    files_before = orders.io.list()
    bad = make_orders(10, start=100)
    ids = bad.column("order_id").to_pylist()
    ids[3] = None
    cases = [
        (
            bad.set_column(0, "order_id", pa.array(ids, pa.int64())),
            InvalidDataError,
            r"'order_id' row 3",
        ),
        (bad.drop_columns(["amount"]), SchemaMismatchError, "'amount'"),
        (bad.append_column("extra", pa.array([1] * 10)), SchemaMismatchError, "'extra'"),
        (
            bad.set_column(4, "status", pc.cast(bad.column("order_id"), pa.int64())),
            SchemaMismatchError,
            "'status'",
        ),
    ]
    for data, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            orders.append(data, producer_id="p", sequence=1)
    assert orders.snapshot() == before
    assert orders.io.list() == files_before, "a rejected batch writes no file"
    assert orders.snapshot().producers == {}


def test_producer_arguments_checked(orders) -> None:
    with pytest.raises(InvalidDataError):
        orders.append(make_orders(1), producer_id="p")
    with pytest.raises(InvalidDataError):
        orders.append(make_orders(1), producer_id="p", sequence=-1)


def test_unpartitioned_table_and_segment_splitting(catalog: Catalog) -> None:
    t = catalog.create_table("flat", ORDERS)
    t.segment_rows = 300
    t.append(make_orders(1000))
    snap = t.snapshot()
    assert [f.num_rows for f in snap.data_files] == [300, 300, 300, 100]
    assert all(f.partition == () and f.path.startswith("data/") for f in snap.data_files)
    assert t.read().num_rows == 1000


def test_empty_append_records_producer_without_files(orders) -> None:
    result = orders.append(make_orders(0), producer_id="p", sequence=1)
    assert result.rows == 0 and not result.duplicate
    assert orders.snapshot().data_files == () and orders.snapshot().producers["p"].last == 1


def test_null_partition_values(catalog: Catalog) -> None:
    t = catalog.create_table(
        "n", ORDERS, partition_by=[("status", "identity"), ("ordered_at", "day")]
    )
    data = make_orders(20)
    data = data.set_column(4, "status", pa.array([None] * 10 + ["paid"] * 10, pa.string()))
    t.append(data)
    parts = {f.partition[0] for f in t.snapshot().data_files}
    assert parts == {None, "paid"}
    assert any("status=__null__" in f.path for f in t.snapshot().data_files)
    assert t.read().num_rows == 20


def test_view_typed_schema_and_data_are_stored_as_plain_strings(catalog: Catalog) -> None:
    schema = pa.schema([("id", pa.int64()), ("s", pa.string_view()), ("b", pa.binary_view())])
    t = catalog.create_table("views", schema, partition_by=[("s", "identity"), ("b", "bucket[3]")])
    assert t.schema.field("s").type == pa.string() and t.schema.field("b").type == pa.binary()
    data = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "s": pa.array(["x", "y", "x"], pa.string_view()),
            "b": pa.array([b"1", b"2", b"3"], pa.binary_view()),
        }
    )
    t.append(data)
    out = t.read().sort_by("id")
    assert out.column("s").type == pa.string()
    assert out.column("s").to_pylist() == ["x", "y", "x"]
    assert out.column("b").to_pylist() == [b"1", b"2", b"3"]


def test_empty_append_without_producer_makes_no_version(orders) -> None:
    result = orders.append(make_orders(0))
    assert (result.version, result.rows) == (1, 0)
    assert orders.versions() == [1]


@pytest.mark.parametrize("fail_at", [1, 3, 6])
def test_failing_nth_write_leaves_table_and_folder_unchanged(
    orders, monkeypatch, fail_at: int
) -> None:
    orders.append(make_orders(100))
    before = orders.snapshot()
    files_before = orders.io.list()
    real = type(orders.io).write_bytes
    calls = {"n": 0}

    def flaky(self, path: str, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(f"injected failure on write {fail_at}")
        real(self, path, data)

    monkeypatch.setattr(type(orders.io), "write_bytes", flaky)
    with pytest.raises(OSError, match="injected failure"):
        orders.append(make_orders(500, start=1000, seed=9), producer_id="p", sequence=1)
    monkeypatch.undo()
    assert orders.snapshot() == before
    assert orders.io.list() == files_before, "written segments of the failed batch are removed"
    retry = orders.append(make_orders(500, start=1000, seed=9), producer_id="p", sequence=1)
    assert retry.rows == 500


def test_conflicting_append_removes_its_segments(orders, monkeypatch) -> None:
    real = orders.commit_append

    def schema_changes_first(*args: object, **kwargs: object) -> object:
        orders.add_column("note", pa.string())  # a concurrent schema change
        return real(*args, **kwargs)

    monkeypatch.setattr(orders, "commit_append", schema_changes_first)
    with pytest.raises(CommitConflictError, match="schema changed"):
        orders.append(make_orders(10))
    assert orders.io.list("data") == [], "a certainly-uncommitted batch cleans up after itself"
    assert orders.snapshot().num_rows == 0


def test_failing_publish_leaves_no_version(orders, monkeypatch) -> None:
    def broken(self, path: str, data: bytes) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(type(orders.io), "put_if_absent", broken)
    with pytest.raises(OSError, match="disk gone"):
        orders.append(make_orders(50))
    monkeypatch.undo()
    assert orders.versions() == [1]
    # The outcome of a failed publish is unknown to the writer, so its segments stay
    # (deleting them could break a commit that did land); vacuum removes them later.
    orphans = set(orders.io.list("data"))
    assert orphans
    assert orders.verify().ok
    deleted = set(orders.vacuum(grace_period_s=0).deleted)
    assert orphans <= deleted
    assert all(p.startswith("metadata/manifests/") for p in deleted - orphans), (
        "the unpublished version's manifest is an orphan too"
    )
