"""Commits as records: pure apply, requirements, optimistic publish with rebase."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import (
    BindError,
    CommitConflictError,
    IngestKeyConflictError,
    SchemaMismatchError,
)
from hasivu_compute.schema.partition import PartitionSpec
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.commit import commit
from hasivu_compute.table.manifest import ManifestStore
from hasivu_compute.table.producers import CallKey, CommittedCall
from hasivu_compute.table.updates import (
    AddColumn,
    AddDataFiles,
    AssertCallNew,
    AssertFilesLive,
    AssertFilesNew,
    AssertSchemaId,
    AssertVersion,
    DropColumn,
    DuplicateAppendError,
    DuplicateCallError,
    RecordCall,
    RemoveDataFiles,
    RenameColumn,
    WidenColumn,
    apply,
    apply_all,
    check,
    is_widening,
)

from .helpers import fake_file, first_snapshot


@pytest.fixture
def store(tmp_path: Path) -> ManifestStore:
    s = ManifestStore(FileIO.from_uri(str(tmp_path)), "t")
    s.publish(first_snapshot())
    return s


def test_apply_is_pure() -> None:
    base = first_snapshot()
    f = fake_file("data/a.hseg")
    after = apply(AddDataFiles((f,)), base)
    assert base.data_files == () and after.data_files == (f,)
    after = apply(RecordCall(CallKey("p", 3, "d3", 1)), after)
    assert after.producers["p"].find(3) == CommittedCall(3, "d3", 1, 1) and base.producers == {}
    after = apply(RemoveDataFiles(frozenset({"data/a.hseg"})), after)
    assert after.data_files == ()


def test_schema_changes_bump_schema_id_and_never_reuse_ids() -> None:
    base = first_snapshot()
    s = apply_all(
        [AddColumn("note", pa.string()), DropColumn(3), AddColumn("note2", pa.string())], base
    )
    assert [f.id for f in s.schema.fields] == [1, 2, 4], "dropped id 3 must not be reused"
    assert s.schema.schema_id == 3 and s.last_column_id == 4
    s = apply(RenameColumn(1, "order_id"), s)
    assert s.schema.by_id(1).name == "order_id"
    s = apply_all([AddColumn("small", pa.int32()), WidenColumn(5, pa.int64())], s)
    assert s.schema.field("small").type == pa.int64()
    assert s.schema.field("note2").nullable


def test_invalid_schema_changes_raise() -> None:
    base = first_snapshot()
    with pytest.raises(SchemaMismatchError, match="already exists"):
        apply(AddColumn("id", pa.int8()), base)
    with pytest.raises(SchemaMismatchError, match="already exists"):
        apply(RenameColumn(1, "amount"), base)
    with pytest.raises(SchemaMismatchError, match="not a widening"):
        apply(WidenColumn(1, pa.int32()), base)
    with pytest.raises(BindError):
        apply(DropColumn(42), base)
    schema = base.schema
    spec = PartitionSpec.build(schema, ["id"])
    with pytest.raises(SchemaMismatchError, match="partition source"):
        apply(DropColumn(1), dataclasses.replace(base, spec=spec))


def test_widening_rules() -> None:
    assert is_widening(pa.int32(), pa.int64())
    assert is_widening(pa.uint8(), pa.int16())
    assert is_widening(pa.float32(), pa.float64())
    assert not is_widening(pa.int64(), pa.int32())
    assert not is_widening(pa.int8(), pa.uint64())
    assert not is_widening(pa.int64(), pa.float64())
    assert not is_widening(pa.int64(), pa.int64())


def test_requirements() -> None:
    base = apply(RecordCall(CallKey("p", 5, "d5", 10)), first_snapshot())
    check(AssertCallNew(CallKey("p", 6, "d6", 10)), base)
    check(AssertCallNew(CallKey("p", 4, "d4", 10)), base)  # an earlier call, never committed
    check(AssertCallNew(CallKey("q", 5, "d5", 10)), base)
    with pytest.raises(DuplicateCallError) as err:
        check(AssertCallNew(CallKey("p", 5, "d5", 10)), base)
    assert err.value.committed.sequence == 5
    with pytest.raises(IngestKeyConflictError, match="other data"):
        check(AssertCallNew(CallKey("p", 5, "other", 10), "orders"), base)
    with pytest.raises(DuplicateAppendError):
        check(
            AssertFilesNew(frozenset({"data/a.hseg"})),
            apply(AddDataFiles((fake_file("data/a.hseg"),)), base),
        )
    with pytest.raises(CommitConflictError, match="schema changed"):
        check(AssertSchemaId(1), base)
    with pytest.raises(CommitConflictError, match="removed concurrently"):
        check(AssertFilesLive(frozenset({"data/x"})), base)
    with pytest.raises(CommitConflictError):
        check(AssertVersion(2), base)


def test_commit_publishes_next_version(store: ManifestStore) -> None:
    snap = commit(store, [AddDataFiles((fake_file("data/a.hseg"),))], [AssertSchemaId(0)])
    assert (snap.version, snap.parent) == (2, 1)
    assert store.latest() == snap
    assert ManifestStore(store.io, "t").latest() == snap


def test_stale_base_rebases_onto_latest(store: ManifestStore) -> None:
    stale = store.latest()
    commit(store, [AddDataFiles((fake_file("data/a.hseg"),))], [])
    snap = commit(
        store, [AddDataFiles((fake_file("data/b.hseg"),))], [AssertSchemaId(0)], base=stale
    )
    assert snap.version == 3
    assert [f.path for f in snap.data_files] == ["data/a.hseg", "data/b.hseg"], "rebase keeps both"


def test_rebase_rechecks_requirements(store: ManifestStore) -> None:
    stale = store.latest()
    commit(store, [AddColumn("x", pa.int8())], [AssertSchemaId(0)])
    with pytest.raises(CommitConflictError, match="schema changed"):
        commit(store, [AddDataFiles((fake_file("data/b.hseg"),))], [AssertSchemaId(0)], base=stale)
    assert store.versions() == [1, 2], "a failed commit publishes nothing"


def test_duplicate_detected_after_rebase(
    store: ManifestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also when both commits land in the same millisecond: their manifests must still
    differ, or the loser would take the winner's file for its own lost-reply write."""
    import hasivu_compute.table.commit as commit_module

    monkeypatch.setattr(commit_module, "now_ms", lambda: 1_700_000_000_000)
    stale = store.latest()
    key = CallKey("p", 1, "d", 1)
    commit(store, [RecordCall(key)], [AssertCallNew(key)])
    with pytest.raises(DuplicateCallError):
        commit(store, [RecordCall(key)], [AssertCallNew(key)], base=stale)


def test_gives_up_after_bounded_attempts(
    store: ManifestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hasivu_compute._core.errors import FileExistsConflict

    def always_taken(_snapshot: object) -> None:
        raise FileExistsConflict("taken")

    monkeypatch.setattr(store, "publish", always_taken)
    with pytest.raises(CommitConflictError, match="gave up after 3 attempts"):
        commit(store, [], [], max_attempts=3)


def test_threads_committing_at_once_all_land_contiguously(tmp_path: Path) -> None:
    io = FileIO.from_uri(str(tmp_path))
    ManifestStore(io, "t").publish(first_snapshot())
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        store = ManifestStore(io, "t")
        try:
            for i in range(10):
                commit(
                    store,
                    [
                        AddDataFiles((fake_file(f"data/{w}-{i}.hseg"),)),
                        RecordCall(CallKey(f"w{w}", i, f"d{i}", 1)),
                    ],
                    [AssertCallNew(CallKey(f"w{w}", i, f"d{i}", 1))],
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = ManifestStore(io, "t")
    assert store.versions() == list(range(1, 42))
    latest = store.latest()
    assert len(latest.data_files) == 40
    assert {p: r.last for p, r in latest.producers.items()} == {f"w{w}": 9 for w in range(4)}
    assert all(len(r.calls) == 10 for r in latest.producers.values())
    for v in range(2, 42):
        assert store.load(v).parent == v - 1


@pytest.mark.parametrize("reply", ["exists", "error"])
def test_lost_reply_after_a_landed_publish_is_a_success(
    store: ManifestStore, monkeypatch: pytest.MonkeyPatch, reply: str
) -> None:
    from hasivu_compute._core.errors import FileExistsConflict, StorageError

    real = type(store.io).put_if_absent

    def lands_then_fails(self: FileIO, path: str, data: bytes) -> None:
        real(self, path, data)  # the write lands...
        # ...but the reply is lost: a client retry sees "exists", or the call times out.
        raise FileExistsConflict("retry saw it") if reply == "exists" else StorageError("timeout")

    monkeypatch.setattr(type(store.io), "put_if_absent", lands_then_fails)
    snap = commit(store, [AddDataFiles((fake_file("data/a.hseg"),))], [])
    monkeypatch.undo()
    assert snap.version == 2
    assert store.versions() == [1, 2], "applied exactly once"
    assert ManifestStore(store.io, "t").latest() == snap


def test_publish_failure_that_did_not_land_is_raised(
    store: ManifestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hasivu_compute._core.errors import StorageError

    def fails(self: FileIO, path: str, data: bytes) -> None:
        raise StorageError("network down")

    monkeypatch.setattr(type(store.io), "put_if_absent", fails)
    with pytest.raises(StorageError, match="network down"):
        commit(store, [AddDataFiles((fake_file("data/a.hseg"),))], [])
    monkeypatch.undo()
    assert store.versions() == [1]
