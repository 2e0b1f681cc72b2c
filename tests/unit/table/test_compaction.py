"""Compaction: fewer files, the same rows, readers and writers never blocked, crash-safe."""

from __future__ import annotations

import threading

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hasivu_compute._core.errors import ConfigError
from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.compaction import CompactionPolicy, plan_compaction, tier

from .helpers import ORDERS, fake_file, first_snapshot, make_orders


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by("order_id")


@pytest.fixture
def orders(catalog: Catalog):
    return catalog.create_table("orders", ORDERS, partition_by=[("school_id", "bucket[4]")])


def _small_appends(table, n: int, rows: int = 200) -> pa.Table:
    for i in range(n):
        table.append(make_orders(rows, start=i * rows, seed=i))
    return table.read()


def test_full_compaction_merges_small_files_and_keeps_every_row(orders) -> None:
    expected = _small_appends(orders, 12)
    before = orders.snapshot()
    assert len(before.data_files) == 48
    result = orders.compact()
    after = orders.snapshot()
    assert (result.files_before, result.files_after) == (48, 4), "one file per bucket"
    assert result.rows_rewritten == expected.num_rows and result.tasks == 4
    assert after.summary["operation"] == "compact"
    assert _sorted(orders.read()).equals(_sorted(expected))
    assert orders.verify().ok
    assert orders.read(version=before.version).num_rows == expected.num_rows, (
        "a reader pinned to the old version still reads its files"
    )


def test_merged_files_are_clustered_by_the_bucket_source(orders) -> None:
    _small_appends(orders, 8)
    orders.compact()
    for f in orders.snapshot().data_files:
        ids = orders.read_file(f, orders.snapshot(), ["school_id"]).column("school_id")
        assert pc.all(pc.greater_equal(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py(), (
            "rows of a merged bucket are sorted by school_id, so chunk zone maps stay narrow"
        )


def test_large_files_are_left_alone_and_nothing_to_do_commits_nothing(orders) -> None:
    orders.append(make_orders(4000))
    version = orders.snapshot().version
    result = orders.compact(CompactionPolicy(target_rows=1000))
    assert result.tasks == 0 and result.version is None
    assert orders.snapshot().version == version


def test_schema_evolution_is_applied_when_files_are_merged(orders) -> None:
    _small_appends(orders, 3)
    orders.add_column("note", pa.string())
    orders.append(make_orders(200, start=10_000).append_column("note", pa.array(["n"] * 200)))
    orders.compact()
    out = orders.read()
    assert out.num_rows == 800 and out.column("note").null_count == 600
    assert {f.schema_id for f in orders.snapshot().data_files} == {orders.schema.schema_id}


def test_appends_racing_a_compaction_all_land(orders) -> None:
    _small_appends(orders, 10)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(10):
                orders.append(make_orders(100, start=100_000 + i * 100, seed=i))
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    orders.compact()
    thread.join()
    assert not errors
    ids = orders.read().column("order_id").to_pylist()
    assert len(ids) == len(set(ids)) == 2000 + 1000, "no row lost or doubled"
    assert orders.verify().ok


def test_a_failed_compaction_leaves_the_table_as_it_was(orders, monkeypatch) -> None:
    _small_appends(orders, 6)
    before = orders.snapshot()

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("killed before commit")

    monkeypatch.setattr(type(orders), "commit_rewrite", crash)
    with pytest.raises(OSError):
        orders.compact()
    monkeypatch.undo()
    assert orders.snapshot() == before
    deleted = set(orders.vacuum(grace_period_s=0).deleted)
    assert deleted and all(p not in {f.path for f in before.data_files} for p in deleted)
    assert orders.read().num_rows == 1200 and orders.verify().ok


def test_a_merge_whose_files_went_away_is_skipped(orders, monkeypatch) -> None:
    _small_appends(orders, 4)
    real = type(orders).commit_rewrite
    calls = {"n": 0}

    def other_compaction_first(self, remove, add, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # someone else rewrote these files just before us
            real(
                self,
                remove,
                self.write_data_files(
                    pa.concat_tables([self.read_file(f, self.snapshot()) for f in remove])
                ),
                operation="compact",
            )
        return real(self, remove, add, **kw)

    monkeypatch.setattr(type(orders), "commit_rewrite", other_compaction_first)
    result = orders.compact()
    assert result.skipped == 1 and result.tasks == 3
    assert orders.read().num_rows == 800 and orders.verify().ok


def test_tiered_compaction_bounds_files_and_rewrites(orders) -> None:
    policy = CompactionPolicy(target_rows=20_000, min_merge=4)
    rewritten = 0
    for i in range(64):
        orders.append(make_orders(100, start=i * 100, seed=i))  # 4 files of ~25 rows
        rewritten += orders.compact(policy, mode="tiered").rows_rewritten
    files = orders.snapshot().data_files
    levels = tier(6400) - tier(25) + 1  # tiers between one append's file and the whole bucket
    assert len(files) <= 4 * 3 * levels, f"at most 3 files per bucket and tier: {len(files)}"
    assert rewritten <= 6400 * levels, f"each row rewritten about once per tier: {rewritten}"
    assert orders.read().num_rows == 6400 and orders.verify().ok


def test_plan_modes_and_policy_checks() -> None:
    files = tuple(
        fake_file(f"data/{i}.hseg", rows=r, partition=(0,))
        for i, r in enumerate([10, 12, 11, 9, 5000, 300_000, 2_000_000])
    )
    snap = first_snapshot()
    import dataclasses

    snap = dataclasses.replace(snap, data_files=files)
    full = plan_compaction(snap, CompactionPolicy(target_rows=1 << 20))
    assert [len(t.files) for t in full] == [6], "every small file of the partition at once"
    tiered = plan_compaction(snap, CompactionPolicy(target_rows=1 << 20), mode="tiered")
    assert [sorted(f.num_rows for f in t.files) for t in tiered] == [[9, 10, 11, 12]]
    with pytest.raises(ConfigError):
        plan_compaction(snap, mode="sideways")
    with pytest.raises(ConfigError):
        CompactionPolicy(min_merge=1)


def test_a_cancelled_compaction_closes_its_rewriter_before_returning(orders) -> None:
    """A rewriter with merges in flight (on actors) must be told to wait for them before
    the compaction returns: the table may be dropped right after."""
    from hasivu_compute.table.compaction import compact_table, rewrite

    expected = _small_appends(orders, 12)
    events: list[str] = []

    def rewriter(snapshot, tasks):
        try:
            for task in tasks:
                events.append("merged")
                yield task, rewrite(orders, snapshot, task, 1_000_000)
        finally:
            events.append("closed")

    result = compact_table(orders, rewriter=rewriter, cancelled=lambda: events == ["merged"] * 2)
    events.append("returned")
    assert events == ["merged", "merged", "closed", "returned"]
    assert result.tasks == 1 and _sorted(orders.read()).equals(_sorted(expected))
    assert orders.verify().ok
