"""The coordinator, ingest and shard classes without Ray: routing fragments by the ring
and merging their partials gives exactly the single-process answer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from hasivu_compute.expr import col, count
from hasivu_compute.plan.builder import scan
from hasivu_compute.runtime.coordinator import Coordinator, open_catalog
from hasivu_compute.runtime.fragments import merge_partials, prepare_plans
from hasivu_compute.runtime.ingest import IngestWorker
from hasivu_compute.runtime.query import QueryResult, QueryStats, assign_fragments, format_analyze
from hasivu_compute.runtime.ring import HashRing
from hasivu_compute.runtime.shard import ShardWorker
from hasivu_compute.sdk.dataframe import DataFrame
from hasivu_compute.table.digest import digest_of
from hasivu_compute.table.producers import CallKey

SCHEMA = pa.schema([("school_id", pa.int32()), ("amount", pa.float64()), ("day", pa.int32())])


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    data = str(tmp_path / "wh")
    coordinator = Coordinator(data)
    coordinator.create_table("o", SCHEMA, [("school_id", "bucket[8]")])
    worker = IngestWorker(data)
    keys = []
    for seq, batch in enumerate(_batches()):
        written = worker.write("o", seq, batch)
        key = CallKey("feed", seq, digest_of(batch), batch.num_rows)
        ack = coordinator.commit("o", written.files, key)
        assert not ack.duplicate
        keys.append(key)
    again = worker.write("o", 2, batch)
    assert coordinator.commit("o", again.files, keys[2]).duplicate, "a retried call"
    version = open_catalog(data).load_table("o").snapshot().version
    lost_reply = coordinator.commit("o", written.files, keys[2])
    assert (lost_reply.duplicate, lost_reply.rows) == (False, 6_000), "our own files: success"
    assert open_catalog(data).load_table("o").snapshot().version == version, "applied once"
    assert coordinator.committed_call("o", "feed", 2).rows == 6_000
    assert coordinator.committed_call("o", "feed", 3) is None
    return data


def _batches() -> list[pa.Table]:
    """The three calls the warehouse holds (the third one also retried)."""
    ids = np.arange(6_000)
    return [
        pa.table(
            {
                "school_id": pa.array((ids + seq) % 37, pa.int32()),
                "amount": (ids * (seq + 1)).astype(np.float64),
                "day": pa.array(ids // 100 + seq * 60, pa.int32()),
            }
        )
        for seq in range(3)
    ]


def _duckdb(sql: str) -> pa.Table:
    """DuckDB's answer over the rows the warehouse holds (an oracle outside our engine)."""
    con = duckdb.connect()
    con.register("o", pa.concat_tables(_batches()))
    return con.sql(sql).to_arrow_table()


def _distributed(data: str, frame: DataFrame, shards: list[ShardWorker]) -> tuple[pa.Table, list]:
    plans = prepare_plans(frame.plan, open_catalog(data))
    ring = HashRing(tuple(range(len(shards))))
    partials, stats = [], []
    for shard, fragments in assign_fragments(plans.physical.fragments, ring).items():
        for fragment in fragments:
            table, fstats = shards[shard].run(fragment)
            partials.append(table)
            stats.append(fstats)
    return merge_partials(plans, partials), stats


# name -> (the query as a DataFrame, the same query in SQL for DuckDB; every answer is in a
# total order and its sums are of whole numbers, so the rows compare exactly)
QUERIES = {
    "group by partition key": (
        lambda df: (
            df.group_by("school_id")
            .agg(col("amount").sum().alias("s"), count().alias("n"))
            .sort("school_id")
        ),
        "SELECT school_id, sum(amount) AS s, count(*) AS n FROM o GROUP BY school_id "
        "ORDER BY school_id",
    ),
    "one school": (
        lambda df: df.filter(col("school_id") == 5).agg(count().alias("n")),
        "SELECT count(*) AS n FROM o WHERE school_id = 5",
    ),
    "nothing matches": (
        lambda df: df.filter(col("school_id") == 5_000).agg(
            count().alias("n"), col("amount").sum().alias("s")
        ),
        "SELECT count(*) AS n, sum(amount) AS s FROM o WHERE school_id = 5000",
    ),
    "top 3": (
        lambda df: df.sort("amount", descending=True).limit(3),
        "SELECT * FROM o ORDER BY amount DESC LIMIT 3",
    ),
    "distinct days": (
        lambda df: df.select("day").distinct().sort("day"),
        "SELECT DISTINCT day FROM o ORDER BY day",
    ),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_scattered_answer_equals_single_process_answer(warehouse: str, name: str) -> None:
    from hasivu_compute.exec import execute

    build, sql = QUERIES[name]
    frame = build(DataFrame(None, scan("o")))  # type: ignore[arg-type]
    shards = [ShardWorker(warehouse, 1 << 24, None, i) for i in range(3)]
    got, _ = _distributed(warehouse, frame, shards)
    expected = execute(frame.plan, open_catalog(warehouse))
    assert got.equals(expected), f"{name}: {got.to_pydict()} != {expected.to_pydict()}"
    # both run the same fragments and merge: DuckDB is the answer neither of them computed
    oracle = _duckdb(sql)
    assert got.column_names == oracle.column_names
    assert got.to_pylist() == oracle.to_pylist(), f"{name}: {got.to_pydict()}"


def test_one_school_touches_one_shard_and_warm_reads_hit_the_cache(warehouse: str) -> None:
    frame = DataFrame(None, scan("o")).filter(col("school_id") == 5).agg(count().alias("n"))  # type: ignore[arg-type]
    shards = [ShardWorker(warehouse, 1 << 24, None, i) for i in range(3)]
    _, cold = _distributed(warehouse, frame, shards)
    assert len(cold) == 1, "a one-school query must be routed to the one shard owning it"
    assert cold[0].cache_misses > 0 and cold[0].cache_hits == 0
    _, warm = _distributed(warehouse, frame, shards)
    assert warm[0].cache_hits > 0 and warm[0].cache_misses == 0, "warm query does no I/O"
    assert warm[0].bytes_from_storage == 0
    text = format_analyze(
        QueryResult(pa.table({"n": [1]}), QueryStats(tuple(warm), ("o: x",), 0, 0, 0, 0))
    )
    assert "shard" in text and "rows scanned" in text


def test_whole_partition_fragments_stay_whole_on_regroup(warehouse: str) -> None:
    plans = prepare_plans(
        DataFrame(None, scan("o")).group_by("school_id").agg(count().alias("n")).plan,  # type: ignore[arg-type]
        open_catalog(warehouse),
    )
    groups = assign_fragments(plans.physical.fragments, HashRing((0, 1, 2)))
    owner: dict[tuple, int] = {}
    for shard, fragments in groups.items():
        for fragment in fragments:
            for sf in fragment.files:
                assert owner.setdefault(tuple(sf.file.partition), shard) == shard
    total = sum(len(f.files) for f in plans.physical.fragments)
    assert sum(len(f.files) for fr in groups.values() for f in fr) == total, (
        "no file lost or doubled"
    )


def test_ingest_worker_encodes_with_the_settings_it_is_given(tmp_path: Path) -> None:
    """HASIVU_ZSTD_LEVEL / CHUNK_ROWS / BLOOM_* reach the processes that write segments."""
    from hasivu_compute._core.config import load_settings
    from hasivu_compute.runtime.coordinator import write_options
    from hasivu_compute.storage.segment import SegmentReader

    settings = load_settings(zstd_level=5, chunk_rows=1_000, bloom_min_distinct_ratio=1.0)
    options = write_options(settings)
    assert (options.zstd_level, options.chunk_rows, options.bloom_min_distinct_ratio) == (
        5,
        1_000,
        1.0,
    )
    data = str(tmp_path / "wh")
    Coordinator(data).create_table("o", SCHEMA)
    ids = np.arange(5_000)
    batch = pa.table(
        {
            "school_id": pa.array(ids % 2_000, pa.int32()),  # 40% distinct: below 1.0
            "amount": ids.astype(np.float64),
            "day": pa.array(ids, pa.int32()),
        }
    )
    written = IngestWorker(data, None, options).write("o", 0, batch)
    io = open_catalog(data).load_table("o").io
    reader = SegmentReader(io.open_input(written.files[0].path), written.files[0].path)
    assert reader.chunk_row_counts() == (1_000,) * 5
    assert not reader.chunk_stats(0, 1).has_bloom, "the ratio setting is applied"
    default = IngestWorker(data).write("o", 1, batch).files[0]
    reader = SegmentReader(io.open_input(default.path), default.path)
    assert reader.chunk_row_counts() == (5_000,)
    assert reader.chunk_stats(0, 1).has_bloom


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT school_id % 5 AS b, median(amount) AS m, quantile_disc(day, 0.3) AS q, "
        "count(*) FILTER (WHERE day > 50) AS f FROM o GROUP BY ROLLUP (b) ORDER BY b NULLS FIRST",
        "SELECT day FROM o WHERE school_id < 10 INTERSECT ALL SELECT day FROM o "
        "WHERE school_id > 30 ORDER BY day",
        "SELECT day FROM o EXCEPT SELECT day FROM o WHERE amount > 5000 ORDER BY day",
    ],
)
def test_holistic_aggregates_and_set_operations_merge_across_shards(
    warehouse: str, sql: str
) -> None:
    from hasivu_compute.sql import to_plan

    frame = DataFrame(None, to_plan(sql, schema={"o": SCHEMA}))  # type: ignore[arg-type]
    shards = [ShardWorker(warehouse, 1 << 24, None, i) for i in range(3)]
    got, stats = _distributed(warehouse, frame, shards)
    assert len(stats) > 1, "the query must run on several fragments"
    assert got.to_pylist() == _duckdb(sql).to_pylist()
