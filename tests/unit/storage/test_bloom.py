"""Bloom filters: exact XXH64, no false negatives, modest false positives, typed probes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute.storage.index.bloom import estimate_distinct, from_hashes
from hasivu_compute.storage.index.xxh64 import xxh64_binary, xxh64_u64
from hasivu_compute.storage.segment import SegmentReader, WriteOptions, encode_segment


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50), st.integers(0, 2**32))
def test_vectorised_xxh64_of_ints_matches_xxhash(values: list[int], seed: int) -> None:
    arr = np.array(values, dtype=np.int64)
    got = xxh64_u64(arr, seed)
    assert [int(h) for h in got] == [xxhash.xxh64_intdigest(v.tobytes(), seed) for v in arr]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.binary(max_size=150), max_size=40), st.integers(0, 2**32))
def test_vectorised_xxh64_of_strings_matches_xxhash(values: list[bytes], seed: int) -> None:
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(v) for v in values])
    data = np.frombuffer(b"".join(values), dtype=np.uint8)
    got = xxh64_binary(offsets, data, seed)
    assert [int(h) for h in got] == [xxhash.xxh64_intdigest(v, seed) for v in values]


def test_false_positive_rate_is_near_target() -> None:
    rng = np.random.default_rng(1)
    members = xxh64_u64(rng.integers(0, 2**40, 20_000))
    bloom = from_hashes(np.unique(members), 0.01)
    assert bloom.contains_hashes(members).all(), "a bloom filter never forgets a member"
    others = xxh64_u64(rng.integers(2**41, 2**42, 50_000))
    assert bloom.contains_hashes(others).mean() < 0.02


def _segment(table: pa.Table, fids: list[int], **kw: object) -> SegmentReader:
    data, _ = encode_segment(table, fids, WriteOptions(**kw))  # type: ignore[arg-type]
    return SegmentReader(pa.BufferReader(data), "seg")


def test_might_contain_for_each_key_type() -> None:
    n = 5000
    ids = np.arange(n, dtype=np.int64) * 7919 % 1_000_003
    day0 = dt.date(2025, 1, 1)
    table = pa.table(
        {
            "id": pa.array(ids),
            "name": pa.array([f"s{i}" for i in ids]),
            "day": pa.array([day0 + dt.timedelta(days=int(i % 3000)) for i in ids], pa.date32()),
            "at": pa.array(ids * 1_000_000, pa.timestamp("us", tz="UTC")),
            "amt": pa.array([Decimal(int(i)).scaleb(-2) for i in ids], pa.decimal128(12, 2)),
            "view": pa.array([f"v{i}" for i in ids]).cast(pa.string_view()),
        }
    )
    fids = [1, 2, 3, 4, 5, 6]
    reader = _segment(table, fids, chunk_rows=2500, bloom_columns=frozenset(fids))
    assert all(reader.chunk_stats(0, f).has_bloom for f in fids)
    first = int(ids[0])
    assert reader.might_contain(0, 1, [first])
    assert reader.might_contain(0, 2, [f"s{first}"])
    assert reader.might_contain(0, 3, [day0 + dt.timedelta(days=first % 3000)])
    assert reader.might_contain(0, 4, [dt.datetime.fromtimestamp(first, dt.UTC)])
    assert reader.might_contain(0, 5, [Decimal(first).scaleb(-2)])
    assert reader.might_contain(0, 6, [f"v{first}"])
    # no false negatives for any stored value
    for c, (lo, hi) in enumerate([(0, 2500), (2500, 5000)]):
        chunk_ids = ids[lo:hi]
        assert reader.might_contain(c, 1, chunk_ids.tolist())
    absent = [int(x) for x in range(2_000_000, 2_000_200)]
    hits = sum(reader.might_contain(0, 1, [a]) for a in absent)
    assert hits <= 10, "absent keys should mostly be rejected"
    absent_names = [f"nobody-{i}" for i in range(200)]
    name_hits = sum(reader.might_contain(0, 2, [name]) for name in absent_names)
    assert name_hits <= 10, "absent strings should mostly be rejected"
    assert not reader.might_contain(0, 1, [None])
    assert reader.might_contain(0, 1, ["not an int"]), "unjudgeable probes must answer True"


def test_no_bloom_means_true_and_auto_skips_low_cardinality() -> None:
    n = 5000
    table = pa.table(
        {"status": pa.array(["paid", "open"] * (n // 2)), "seq": pa.array(np.arange(n))}
    )
    reader = _segment(table, [1, 2])
    assert not reader.chunk_stats(0, 1).has_bloom, "two distinct values need no bloom"
    assert not reader.chunk_stats(0, 2).has_bloom, "a sorted block is pruned by its zone map"
    assert reader.might_contain(0, 1, ["anything"])


def test_automatic_bloom_on_keys_is_capped_and_never_forgets() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    keys = rng.integers(0, 2**40, n)
    text = pa.array([f"a fairly long free-text comment number {i}" for i in range(n)])
    table = pa.table({"key": pa.array(keys), "text": text})
    reader = _segment(table, [1, 2])
    stats = reader.chunk_stats(0, 1)
    assert stats.has_bloom, "an unsorted high-cardinality integer column is a lookup key"
    assert not reader.chunk_stats(0, 2).has_bloom, "long free text gets no automatic bloom"
    block = reader._blocks[0][0]
    assert block.bloom is not None
    assert block.bloom.length <= 0.15 * block.region.length + 8
    assert reader.might_contain(0, 1, keys[:500].tolist())
    assert all(reader.might_contain(0, 1, [int(k)]) for k in keys[::997])
    absent = rng.integers(2**41, 2**42, 300)
    assert sum(reader.might_contain(0, 1, [int(a)]) for a in absent) < 150, (
        "a capped bloom still prunes"
    )


def test_distinct_estimate_is_exact_when_small_and_close_when_large() -> None:
    rng = np.random.default_rng(11)
    small = xxh64_u64(rng.integers(0, 1500, 4000))
    assert estimate_distinct(small) == len(np.unique(small))
    for distinct, rows in ((20_000, 64_000), (60_000, 64_000), (3_000, 64_000)):
        hashes = xxh64_u64(rng.permutation(np.arange(rows) % distinct))
        estimate = estimate_distinct(hashes)
        assert abs(estimate - distinct) <= 0.12 * distinct, (distinct, estimate)


def test_bloom_of_a_clustered_key_column_holds_every_key() -> None:
    """Clustered ids (a sample of the first rows sees few of them) still get a bloom."""
    rng = np.random.default_rng(12)
    ids = np.sort(rng.integers(0, 200, 60_000)) * 1000 + rng.integers(0, 100, 60_000)
    shuffled = ids.reshape(-1, 600)[:, rng.permutation(600)].ravel()
    reader = _segment(pa.table({"k": pa.array(shuffled)}), [1])
    assert reader.chunk_stats(0, 1).has_bloom
    assert all(reader.might_contain(0, 1, [int(k)]) for k in np.unique(shuffled)[::37])
