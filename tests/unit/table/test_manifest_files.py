"""Two-level metadata: a commit writes what it changed, and versions share the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from hasivu_compute._core.errors import ChecksumError
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.commit import commit
from hasivu_compute.table.manifest import ManifestStore, version_path
from hasivu_compute.table.manifest_files import (
    MANIFEST_DIR,
    MAX_MANIFESTS,
    PRODUCER_DIR,
    bucket_of,
)
from hasivu_compute.table.producers import CallKey
from hasivu_compute.table.updates import AddDataFiles, RecordCall, RemoveDataFiles

from .helpers import fake_file, first_snapshot, forget_parsed_manifests


@pytest.fixture
def store(tmp_path: Path) -> ManifestStore:
    s = ManifestStore(FileIO.from_uri(str(tmp_path)), "t")
    s.publish(first_snapshot())
    return s


def _files(store: ManifestStore, folder: str) -> set[str]:
    return set(store.io.list(folder))


def _append(store: ManifestStore, name: str, producer: str | None = None, seq: int = 0) -> object:
    updates: list[object] = [AddDataFiles((fake_file(f"data/{name}.hseg"),))]
    if producer is not None:
        updates.append(RecordCall(CallKey(producer, seq, f"d-{name}", 10)))
    return commit(store, updates, [])  # type: ignore[arg-type]


def test_an_append_writes_one_small_manifest_and_a_small_version_file(
    store: ManifestStore,
) -> None:
    sizes = []
    for i in range(40):
        before = _files(store, MANIFEST_DIR)
        snap = _append(store, f"f{i}")
        written = _files(store, MANIFEST_DIR) - before
        assert len(written) == 1, "one new manifest per append, whatever the table holds"
        sizes.append(len(store.io.read_bytes(version_path(snap.version))))  # type: ignore[attr-defined]
    # A version names at most MAX_MANIFESTS manifests (~130 bytes each), however many files.
    assert max(sizes) < min(sizes) + MAX_MANIFESTS * 150, f"bounded version files: {sizes}"
    latest = ManifestStore(store.io, "t").latest()
    assert [f.path for f in latest.data_files] == [f"data/f{i}.hseg" for i in range(40)]
    assert len(latest.manifests) <= MAX_MANIFESTS, "small manifests are merged"
    assert sum(m.files for m in latest.manifests) == 40


def test_removing_files_rewrites_only_the_manifests_that_held_them(store: ManifestStore) -> None:
    for i in range(4):
        _append(store, f"f{i}")
    before = store.latest()
    after = commit(store, [RemoveDataFiles(frozenset({"data/f1.hseg"}))], [])
    kept = set(before.manifests) & set(after.manifests)
    assert len(kept) == 3, "manifests without a removed file are reused by reference"
    fresh = ManifestStore(store.io, "t").latest()
    assert [f.path for f in fresh.data_files] == ["data/f0.hseg", "data/f2.hseg", "data/f3.hseg"]


def test_a_call_rewrites_only_its_producers_bucket(store: ManifestStore) -> None:
    producers = [f"pos-{i}" for i in range(40)]
    for seq, producer in enumerate(producers):
        _append(store, f"f{seq}", producer, seq)
    before = store.latest()
    assert len(before.producer_refs) > 4
    written_before = _files(store, PRODUCER_DIR)
    after = _append(store, "g", "pos-7", 99)
    assert len(_files(store, PRODUCER_DIR) - written_before) == 1
    changed = set(after.producer_refs) - set(before.producer_refs)  # type: ignore[attr-defined]
    assert {ref.bucket for ref in changed} == {bucket_of("pos-7")}
    fresh = ManifestStore(store.io, "t").latest()
    assert set(fresh.producers) == set(producers)
    assert fresh.producers["pos-7"].last == 99 and fresh.producers["pos-3"].last == 3


def test_a_damaged_manifest_file_is_caught_and_named(store: ManifestStore, tmp_path: Path) -> None:
    snap = _append(store, "f0", "p", 0)
    ref = snap.manifests[0]  # type: ignore[attr-defined]
    path = tmp_path / ref.path
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    from hasivu_compute.table import manifest, manifest_files
    from hasivu_compute.table.maintenance import verify_table

    report = verify_table(ManifestStore(store.io, "t"))
    assert any(ref.path in p and "checksum" in p for p in report.problems), report.problems
    manifest_files._FILES.clear()  # a fresh process: nothing parsed yet
    manifest._DECODED._entries.clear()
    with pytest.raises(ChecksumError) as info:
        ManifestStore(store.io, "t").load(snap.version)  # type: ignore[attr-defined]
    assert info.value.path == ref.path


def test_a_published_snapshot_is_what_a_reader_loads(store: ManifestStore) -> None:
    for i in range(3):
        snap = _append(store, f"f{i}", "p", i)
    forget_parsed_manifests()  # else the reader is handed the published object itself
    loaded = ManifestStore(store.io, "t").latest()
    assert loaded is not snap, "decoded from the version, manifest and bucket files"
    assert loaded == snap
    assert [f.path for f in loaded.data_files] == ["data/f0.hseg", "data/f1.hseg", "data/f2.hseg"]
    assert [c.sequence for c in loaded.producers["p"].calls] == [0, 1, 2]


def test_removing_a_few_files_keeps_the_manifest_and_names_them(store: ManifestStore) -> None:
    files = tuple(fake_file(f"data/f{i}.hseg") for i in range(10))
    first = commit(store, [AddDataFiles(files)], [])
    (ref,) = first.manifests
    written = _files(store, MANIFEST_DIR)
    after = commit(store, [RemoveDataFiles(frozenset({"data/f3.hseg", "data/f7.hseg"}))], [])
    assert _files(store, MANIFEST_DIR) == written, "no manifest rewritten for 2 of 10 files"
    (kept,) = after.manifests
    assert kept.path == ref.path and kept.removed == ("data/f3.hseg", "data/f7.hseg")
    forget_parsed_manifests()
    fresh = ManifestStore(store.io, "t").latest()
    assert [f.path for f in fresh.data_files] == [
        f"data/f{i}.hseg" for i in range(10) if i not in (3, 7)
    ]
    gone = commit(store, [RemoveDataFiles(frozenset(f"data/f{i}.hseg" for i in range(6)))], [])
    assert all(m.path != ref.path for m in gone.manifests), "mostly removed: rewritten"
    forget_parsed_manifests()
    assert [f.path for f in ManifestStore(store.io, "t").latest().data_files] == [
        "data/f6.hseg",
        "data/f8.hseg",
        "data/f9.hseg",
    ]
