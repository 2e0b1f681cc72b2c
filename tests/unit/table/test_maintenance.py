"""Expire snapshots, vacuum unreferenced files, verify a whole table."""

from __future__ import annotations

import os
import time

import pytest

from hasivu_compute._core.errors import (
    CommitConflictError,
    FileExistsConflict,
    SnapshotNotFoundError,
    StorageError,
)
from hasivu_compute.table.manifest import ManifestStore, version_path

from .helpers import make_orders


def flip_byte(path: str, where, mask: int) -> None:
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    raw[where(len(raw))] ^= mask
    with open(path, "wb") as f:
        f.write(bytes(raw))


def test_expire_keeps_latest_and_blocks_the_freed_version_numbers(orders) -> None:
    for i in range(4):
        orders.append(make_orders(20, start=20 * i, seed=i))
    stale = orders.snapshot(2)
    expired = orders.expire_snapshots(keep_last=2)
    assert expired == [1, 2, 3]
    assert orders.versions() == [4, 5]
    with pytest.raises(SnapshotNotFoundError, match="expired"):
        orders.read(version=3)
    assert orders.read().num_rows == 80
    # A committer that planned against expired version 2 must not publish version 3 again.
    store = ManifestStore(orders.io, "orders")
    with pytest.raises(FileExistsConflict):
        store.publish(
            stale.__class__(**{**{s: getattr(stale, s) for s in stale.__slots__}, "version": 3})
        )
    assert orders.expire_snapshots(keep_last=1) == [4]
    assert orders.versions() == [5]
    assert orders.expire_snapshots(keep_last=1) == []
    assert orders.verify().ok
    history = orders.history()
    assert [h[0] for h in history] == [1, 2, 3, 4, 5]
    assert history[0][1] is None and history[-1][2]["operation"] == "append"


def test_expire_older_than(orders) -> None:
    orders.append(make_orders(5))
    cutoff = orders.snapshot().timestamp_ms
    time.sleep(0.01)
    orders.append(make_orders(5, start=5))
    orders.append(make_orders(5, start=10))
    assert orders.expire_snapshots(keep_last=1, older_than_ms=cutoff) == [1]
    assert orders.versions() == [2, 3, 4]


def test_vacuum_deletes_dropped_files_now_and_orphans_after_grace(orders) -> None:
    orders.append(make_orders(100))
    old_files = orders.snapshot().data_files
    old_manifests = {m.path for m in orders.snapshot().manifests}
    new_files = orders.write_data_files(make_orders(100, start=1000))
    orders.commit_rewrite(remove=old_files, add=new_files)
    orphan = "data/orphan-from-crashed-writer.hseg"
    orders.io.write_bytes(orphan, b"partial")
    fresh = "data/in-flight-writer.hseg"
    orders.io.write_bytes(fresh, b"in flight")
    old_time = time.time() - 7200
    os.utime(os.path.join(orders.io.root, orphan), (old_time, old_time))
    orders.io.write_bytes("metadata/v00000009.json.tmp-dead", b"x")
    os.utime(os.path.join(orders.io.root, "metadata/v00000009.json.tmp-dead"), (old_time, old_time))

    before_expire = orders.vacuum(grace_period_s=3600)
    assert set(before_expire.deleted) == {orphan, "metadata/v00000009.json.tmp-dead"}
    assert all(orders.io.exists(f.path) for f in old_files), "version 2 still references them"

    orders.expire_snapshots(keep_last=1)
    result = orders.vacuum(grace_period_s=3600)
    assert set(result.deleted) == {f.path for f in old_files} | old_manifests, (
        "data and manifest files only expired versions needed go at once"
    )
    assert result.kept_young == (fresh,)
    live = {m.path for m in orders.snapshot().manifests}
    assert live and all(orders.io.exists(p) for p in live)
    assert orders.read().num_rows == 100
    assert orders.verify().ok
    later = orders.vacuum(grace_period_s=3600, now_s=time.time() + 7200)
    assert later.deleted == (fresh,)
    assert all(orders.io.exists(f.path) for f in orders.snapshot().data_files)


def test_rewrite_conflicts_when_files_already_removed(orders) -> None:
    orders.append(make_orders(10))
    files = orders.snapshot().data_files
    orders.commit_rewrite(remove=files, add=[])
    with pytest.raises(CommitConflictError, match="removed concurrently"):
        orders.commit_rewrite(remove=files, add=[])


def test_verify_reports_missing_and_corrupted_files(orders) -> None:
    orders.append(make_orders(200))
    report = orders.verify()
    assert report.ok and report.files_checked == len(orders.snapshot().data_files)
    files = orders.snapshot().data_files
    orders.io.delete(files[0].path)
    path = os.path.join(orders.io.root, files[1].path)
    flip_byte(path, lambda n: n // 2, 0xFF)
    report = orders.verify()
    assert not report.ok
    with pytest.raises(StorageError, match="missing"):
        orders.read()
    text = " ".join(report.problems)
    assert files[0].path in text and "missing" in text
    assert files[1].path in text and "checksum" in text
    with pytest.raises(Exception, match="verification failed"):
        report.raise_if_failed()


def test_verify_reports_corrupt_or_missing_manifest(orders) -> None:
    orders.append(make_orders(10))
    orders.append(make_orders(10, start=10))
    path = os.path.join(orders.io.root, version_path(2))
    flip_byte(path, lambda _n: 30, 0x01)
    report = orders.verify()
    assert any("version 2" in p and "ChecksumError" in p for p in report.problems), report.problems
    os.unlink(path)
    report = orders.verify()
    assert any("not contiguous" in p for p in report.problems)
