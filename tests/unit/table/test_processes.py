"""Real failures with real processes: SIGKILL mid-commit, and two committers racing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.manifest import ManifestStore
from hasivu_compute.table.metadata import Snapshot

from .helpers import ORDERS

WORKER = str(Path(__file__).with_name("_table_worker.py"))


def _spawn(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, str(root), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"worker failed to start: {line!r}"


def _read_until(proc: subprocess.Popen[str], prefix: str) -> list[str]:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        assert line, f"worker ended while waiting for {prefix!r}"
        if line.startswith(prefix):
            return line.split()


def _run_child(zygote: subprocess.Popen[str], seq: int) -> int:
    assert zygote.stdin is not None
    zygote.stdin.write(f"run {seq}\n")
    zygote.stdin.flush()
    return int(_read_until(zygote, "started")[1])


def _reap(zygote: subprocess.Popen[str]) -> list[str]:
    assert zygote.stdin is not None
    zygote.stdin.write("reap\n")
    zygote.stdin.flush()
    return _read_until(zygote, "exit")


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_old_or_new_version(tmp_path: Path) -> None:
    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    # Few partitions per append keep the 40 deep verifications quick.
    catalog.create_table("t", ORDERS, partition_by=[("school_id", "bucket[2]")])
    rng = random.Random(2024)
    zygote = _spawn(tmp_path, "zygote", "-")
    try:
        _ready(zygote)
        # Calibrate: how long does one append take in a child, from "started" to done?
        durations = []
        for seq in (1, 2, 3):
            _run_child(zygote, seq)
            started = time.perf_counter()
            _read_until(zygote, "done")
            durations.append(time.perf_counter() - started)
            assert _reap(zygote)[2] == "0"
        append_s = max(durations)

        outcomes = {"old": 0, "new": 0}
        for run in range(4, 44):
            before = catalog.load_table("t").snapshot()
            pid = _run_child(zygote, run)
            # Up to twice the append time: kills land before, during and after the commit.
            time.sleep(rng.uniform(0, append_s * 2))
            os.kill(pid, signal.SIGKILL)  # our own child, not yet reaped
            _reap(zygote)
            _check_after_crash(catalog, before, run, outcomes)
    finally:
        zygote.kill()
        zygote.communicate(timeout=60)
    # Orphans of killed writers are removed once past the grace period; the table stays whole.
    table = catalog.load_table("t")
    table.vacuum(grace_period_s=0)
    assert table.verify().ok
    referenced = {f.path for f in table.snapshot().data_files}
    assert set(table.io.list("data")) == referenced
    print(f"crash outcomes: {outcomes}, append {append_s:.3f}s")
    assert outcomes["old"] > 0, "some kills must land before the commit"
    assert outcomes["new"] > 0, "some kills must land after the commit"


def _check_after_crash(
    catalog: Catalog, before: Snapshot, run: int, outcomes: dict[str, int]
) -> None:
    table = catalog.load_table("t")
    after = table.snapshot()
    assert after.version in (before.version, before.version + 1), f"run {run}"
    if after.version == before.version:
        outcomes["old"] += 1
        assert after == before
    else:
        outcomes["new"] += 1
        assert after.num_rows == before.num_rows + 2000
        assert after.producers["crash"].last == run
    report = table.verify()
    assert report.ok, f"run {run}: {report.problems}"
    assert table.read(columns=["order_id"]).num_rows == after.num_rows


@pytest.mark.slow
def test_two_processes_committing_at_once(tmp_path: Path) -> None:
    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    catalog.create_table("t", ORDERS, partition_by=[("school_id", "bucket[2]")])
    procs = {name: _spawn(tmp_path, "race", name) for name in ("a", "b")}
    for p in procs.values():
        _ready(p)
    for p in procs.values():
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = {}
    for name, p in procs.items():
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        results[name] = [line.split() for line in out.splitlines()]

    store = ManifestStore(FileIO.from_uri(str(tmp_path)).child("t"), "t")
    versions = store.versions()
    committed = [(name, r) for name, rs in results.items() for r in rs if r[0] == "ok"]
    # each racer retries a lost race (rebase) up to 25 times: all 2 x 10 appends land, so
    # the checks below are about real commits (with none, every one of them would hold)
    assert len(committed) == 20, results
    assert versions == list(range(1, len(committed) + 2)), "versions are contiguous"
    for v in versions[1:]:
        assert store.load(v).parent == v - 1
    for name, (_, seq, version, rows) in committed:
        snap = store.load(int(version))
        # The manifest at the version a committer was told it got is its own: nothing overwritten.
        assert snap.summary["producer"] == name and snap.summary["sequence"] == seq
        assert snap.summary["added-rows"] == rows
    latest = store.latest()
    assert latest.num_rows == 200 * len(committed)
    for name, rs in results.items():
        oks = [int(r[1]) for r in rs if r[0] == "ok"]
        if oks:
            assert latest.producers[name].last == max(oks)
            assert {c.sequence for c in latest.producers[name].calls} == set(oks)
    catalog_table = catalog.load_table("t")
    assert catalog_table.verify().ok
    assert catalog_table.read().num_rows == latest.num_rows


@pytest.mark.slow
def test_sigkill_during_compaction_never_changes_the_rows(tmp_path: Path) -> None:
    from .helpers import make_orders

    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    table = catalog.create_table("t", ORDERS, partition_by=[("school_id", "bucket[2]")])
    rng = random.Random(7)
    zygote = _spawn(tmp_path, "zygote", "-")
    rows = 0
    try:
        _ready(zygote)
        outcomes = {"killed": 0, "finished": 0}
        for run in range(12):
            for i in range(6):  # small files for the compaction to merge
                table.append(make_orders(150, start=rows, seed=run * 10 + i))
                rows += 150
            _run_child(zygote, run)  # a child's append, so the zygote's imports are warm
            _read_until(zygote, "done")
            _reap(zygote)
            rows += 2000
            expected = sorted(table.read(columns=["order_id"]).column("order_id").to_pylist())
            assert zygote.stdin is not None
            zygote.stdin.write(f"compact {run}\n")
            zygote.stdin.flush()
            pid = int(_read_until(zygote, "started")[1])
            time.sleep(rng.uniform(0, 0.3))
            os.kill(pid, signal.SIGKILL)
            status = _reap(zygote)[2]
            outcomes["killed" if status != "0" else "finished"] += 1
            after = catalog.load_table("t")
            got = sorted(after.read(columns=["order_id"]).column("order_id").to_pylist())
            assert got == expected, f"run {run}: compaction must never change the rows"
            assert after.verify().ok, f"run {run}"
    finally:
        zygote.kill()
        zygote.communicate(timeout=60)
    table = catalog.load_table("t")
    table.expire_snapshots(keep_last=1)
    table.vacuum(grace_period_s=0)
    assert set(table.io.list("data")) == {f.path for f in table.snapshot().data_files}, (
        "killed compactions leave only orphans, and vacuum removes them"
    )
    print(f"compaction kill outcomes: {outcomes}")
    assert outcomes["killed"] > 0, "some kills must land mid-compaction"
