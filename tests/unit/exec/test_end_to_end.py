"""End to end on the real table layer: create a table in tmp_path, append, query, explain."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hc_fixtures import ORDERS, assert_same_bag, orders_batch

from hasivu_compute.exec import CatalogReader, execute, merge, prepare, run_fragment
from hasivu_compute.expr import col, count
from hasivu_compute.plan import LogicalPlanBuilder, ScanFile
from hasivu_compute.plan.explain import explain
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table import Catalog

scan = LogicalPlanBuilder.scan


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(FileIO.from_uri(str(tmp_path)), write_options=WriteOptions(chunk_rows=8))
    orders = cat.create_table("orders", ORDERS, [("school_id", "identity")])
    orders.append(orders_batch(0, 200))
    orders.append(orders_batch(200, 100))
    return cat


class RecordingReader:
    """Counts what fragments decode (files, columns, chunks)."""

    def __init__(self, catalog: Catalog) -> None:
        self.inner = CatalogReader(catalog)
        self.calls: list[tuple[str, tuple[str, ...], tuple[int, ...] | None]] = []

    def read(
        self,
        table: str,
        version: int | None,
        scan_file: ScanFile,
        columns: Sequence[str],
        dictionary: frozenset[str] = frozenset(),
    ) -> pa.Table:
        self.calls.append((scan_file.file.path, tuple(columns), scan_file.chunks))
        return self.inner.read(table, version, scan_file, columns, dictionary)


def duck(catalog: Catalog, sql: str, version: int | None = None) -> pa.Table:
    con = duckdb.connect()
    con.register("orders", catalog.load_table("orders").read(version))
    return con.sql(sql).to_arrow_table()


def test_pruned_aggregate_matches_duckdb_and_decodes_only_survivors(catalog: Catalog) -> None:
    plan = (
        scan("orders")
        .filter((col("school_id") == 2) & (col("order_id") >= 250))
        .group_by("item_id")
        .agg(col("amount").sum().alias("s"), count().alias("n"))
        .plan
    )
    reader = RecordingReader(catalog)
    got = execute(plan, catalog, reader=reader)
    want = duck(
        catalog,
        "SELECT item_id, sum(amount) AS s, count(*) AS n FROM orders "
        "WHERE school_id = 2 AND order_id >= 250 GROUP BY item_id",
    )
    assert_same_bag(got, want)
    assert len(reader.calls) == 1, "partition + zone maps: one segment of 8 survives"
    path, columns, chunks = reader.calls[0]
    assert "school_id=2" in path
    assert set(columns) == {"item_id", "amount", "school_id", "order_id"}, "only needed columns"
    assert chunks is not None and len(chunks) < 4, "chunk zone maps skip chunks below 250"


def test_explain_shows_every_stage_and_pruning(catalog: Catalog) -> None:
    plan = scan("orders").filter(col("school_id") == 3).select("order_id").plan
    text = explain(plan, catalog)
    for header in ("== bound ==", "== optimized ==", "== physical ==", "== pruning =="):
        assert header in text
    assert "orders@3: read partitions 1 of 4, segments 2 of 8" in text
    assert "fragments: 1" in text


def test_time_travel_reads_the_older_snapshot(catalog: Catalog) -> None:
    plan = scan("orders", version=2).agg(count().alias("n")).plan
    assert execute(plan, catalog).to_pylist() == [{"n": 200}]
    assert execute(scan("orders").agg(count().alias("n")).plan, catalog).to_pylist() == [{"n": 300}]


def test_renamed_column_is_queried_by_its_new_name(catalog: Catalog) -> None:
    catalog.load_table("orders").rename_column("amount", "price")
    plan = scan("orders").filter(col("price") > 10).agg(count().alias("n")).plan
    got = execute(plan, catalog)
    want = duck(catalog, "SELECT count(*) AS n FROM orders WHERE price > 10")
    assert got.to_pylist() == want.to_pylist()


def test_per_school_count_distinct_finishes_in_fragments(catalog: Catalog) -> None:
    plan = (
        scan("orders")
        .group_by("school_id")
        .agg(col("student_id").count_distinct().alias("students"))
        .sort("students", "school_id", descending=True)
        .limit(2)
        .plan
    )
    plans = prepare(plan, catalog)
    frags = plans.physical.fragments
    assert len(frags) == 4 and all(f.whole_partitions for f in frags), "one fragment per school"
    partials = [run_fragment(pickle.loads(pickle.dumps(f)), CatalogReader(catalog)) for f in frags]
    assert all(p.num_rows <= 2 for p in partials), "top-k pushed into each fragment"
    got = merge(partials, plans.physical)
    want = duck(
        catalog,
        "SELECT school_id, count(DISTINCT student_id) AS students FROM orders "
        "GROUP BY school_id ORDER BY students DESC, school_id DESC LIMIT 2",
    )
    assert_same_bag(got, want, ordered=True)


def test_empty_table_global_aggregate(tmp_path: Path) -> None:
    cat = Catalog(FileIO.from_uri(str(tmp_path)))
    cat.create_table("orders", ORDERS, [("school_id", "identity")])
    got = execute(scan("orders").agg(count().alias("n"), col("amount").sum().alias("s")).plan, cat)
    assert got.to_pylist() == [{"n": 0, "s": None}]
    assert execute(scan("orders").plan, cat).num_rows == 0


def test_plain_limit_stops_reading_files_early(tmp_path: Path) -> None:
    cat = Catalog(FileIO.from_uri(str(tmp_path)))
    t = cat.create_table("log", ORDERS, [("status", "identity")])
    for start in range(0, 50, 10):
        batch = orders_batch(start, 10)
        t.append(batch.filter(pc.equal(batch["status"], "paid")))
    plan = scan("log").filter(col("amount").is_not_null()).limit(2).plan
    fragments = prepare(plan, cat).physical.fragments
    assert len(fragments) == 1 and len(fragments[0].files) == 5, "one partition, five files"
    reader = RecordingReader(cat)
    got = execute(plan, cat, reader=reader)
    assert got.num_rows == 2
    assert len(reader.calls) == 1, "the first file already holds 2 rows: stop there"


def test_segment_footers_are_cached_across_queries(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hasivu_compute.table.table import Table

    opened: list[str] = []
    original = Table.open_segment

    def counting(self: Table, f):  # type: ignore[no-untyped-def]
        opened.append(f.path)
        return original(self, f)

    monkeypatch.setattr(Table, "open_segment", counting)
    plan = scan("orders").filter(col("order_id") >= 290).plan
    first = execute(plan, catalog)
    planning_opens = len(opened)
    opened.clear()
    second = execute(plan, catalog)
    assert second.num_rows == first.num_rows == 10
    assert len(opened) < planning_opens, "the second query plans from cached chunk zone maps"


def test_added_column_prunes_files_written_before_it(catalog: Catalog) -> None:
    orders = catalog.load_table("orders")
    orders.add_column("tip", pa.float64())
    batch = orders_batch(300, 8).append_column("tip", pa.array([1.5] * 8))
    orders.append(batch)
    plan = scan("orders").filter(col("tip") > 1.0).select("order_id", "tip").plan
    text = explain(plan, catalog, "optimized")
    assert "segments 4 of 12" in text, f"old files read as all-null tip: skipped\n{text}"
    got = execute(plan, catalog)
    assert sorted(got.column("order_id").to_pylist()) == list(range(300, 308))
    nulls = execute(
        scan("orders").filter(col("tip").is_null()).agg(count().alias("n")).plan, catalog
    )
    assert nulls.to_pylist() == [{"n": 300}], "old rows still read as NULL tip"
