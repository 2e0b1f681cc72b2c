"""Routing rows to partitions: every row lands exactly once, in its own partition."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute.schema.partition import PartitionSpec, apply_transform
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.table.metadata import Snapshot
from hasivu_compute.table.writing import split_by_partition

SCHEMA = TableSchema.from_arrow(
    pa.schema([("k", pa.int64()), ("s", pa.string()), ("d", pa.date32()), ("row", pa.int64())])
)
SPECS = [
    [("k", "bucket[3]"), "s"],
    ["s", ("d", "month")],
    [("d", "day")],
    [("k", "bucket[1000]"), ("s", "bucket[7]"), ("d", "month")],
]


def snapshot(spec_index: int) -> Snapshot:
    spec = PartitionSpec.build(SCHEMA, SPECS[spec_index])
    return Snapshot(1, None, 0, SCHEMA, spec, (), {}, {}, 4)


rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(-50, 50)),
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""])),
        st.one_of(st.none(), st.dates(dt.date(1960, 1, 1), dt.date(2030, 12, 31))),
    ),
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(data=rows, spec_index=st.integers(0, len(SPECS) - 1))
def test_every_row_lands_once_in_its_partition(data: list[tuple], spec_index: int) -> None:
    snap = snapshot(spec_index)
    table = pa.table(
        {
            "k": pa.array([r[0] for r in data], pa.int64()),
            "s": pa.array([r[1] for r in data], pa.string()),
            "d": pa.array([r[2] for r in data], pa.date32()),
            "row": pa.array(range(len(data)), pa.int64()),
        }
    )
    seen: list[int] = []
    keys = set()
    for key, part in split_by_partition(table, snap):
        assert part.num_rows > 0
        assert key not in keys, "one group per partition"
        keys.add(key)
        for pf, value in zip(snap.spec.fields, key, strict=True):
            source = SCHEMA.by_id(pf.source_id).name
            got = apply_transform(pf.transform, part.column(source)).to_pylist()
            assert got == [value] * part.num_rows
        seen.extend(part.column("row").to_pylist())
    assert sorted(seen) == list(range(len(data)))


@settings(max_examples=40, deadline=None)
@given(data=rows)
def test_rows_are_clustered_by_bucket_source_inside_each_partition(data: list[tuple]) -> None:
    snap = snapshot(0)  # bucket[3] of k, then identity s: rows sorted by k inside a partition
    table = pa.table(
        {
            "k": pa.array([r[0] for r in data], pa.int64()),
            "s": pa.array([r[1] for r in data], pa.string()),
            "d": pa.array([r[2] for r in data], pa.date32()),
            "row": pa.array(range(len(data)), pa.int64()),
        }
    )
    for _key, part in split_by_partition(table, snap):
        ks = part.column("k").to_pylist()
        present = [k for k in ks if k is not None]
        assert present == sorted(present), "bucket source column must be sorted in its partition"
        assert ks[: len(present)] == present, "nulls go last"
        for k in set(present):  # ties keep input order (stable), so appends stay in order
            rows_of_k = [
                r for r, kk in zip(part.column("row").to_pylist(), ks, strict=True) if kk == k
            ]
            assert rows_of_k == sorted(rows_of_k)


def test_clustering_lets_chunk_zone_maps_isolate_one_key(tmp_path) -> None:
    from hasivu_compute.storage.fileio import FileIO
    from hasivu_compute.storage.segment import WriteOptions
    from hasivu_compute.table.writing import write_data_files

    n = 40_000
    table = pa.table(
        {
            "k": pa.array([(i * 7919) % 500 for i in range(n)], pa.int64()),  # keys well mixed
            "s": pa.array(["x"] * n, pa.string()),
            "d": pa.array([dt.date(2025, 1, 1)] * n, pa.date32()),
            "row": pa.array(range(n), pa.int64()),
        }
    )
    spec = PartitionSpec.build(SCHEMA, [("k", "bucket[2]")])
    snap = Snapshot(1, None, 0, SCHEMA, spec, (), {}, {}, 4)
    io = FileIO.from_uri(str(tmp_path))
    files = write_data_files(io, snap, table, options=WriteOptions(chunk_rows=1_000))
    k_id = SCHEMA.field("k").id
    chunks_total = 0
    chunks_with_key = 0
    from hasivu_compute.storage.segment import SegmentReader

    for f in files:
        reader = SegmentReader(io.open_input(f.path), f.path)
        for c in range(reader.num_chunks):
            chunks_total += 1
            st_ = reader.chunk_stats(c, k_id)
            if st_.min <= 123 <= st_.max:
                chunks_with_key += 1
    assert chunks_total >= 40
    assert chunks_with_key <= 2, "clustered by k: one key spans at most two 1,000-row chunks"


def test_composite_cluster_order_equals_arrow_stable_sort() -> None:
    """The radix order used for integer-like cluster columns is exactly Arrow's stable sort."""
    import numpy as np
    import pyarrow.compute as pc

    from hasivu_compute.table.writing import _cluster_order

    rng = np.random.default_rng(7)
    n = 20_000
    codes = rng.integers(0, 16, n)
    columns = {
        "int32 narrow": pa.array(rng.integers(0, 1_000, n), pa.int32()),
        "int64 wide": pa.array(rng.integers(-(2**40), 2**40, n), pa.int64()),
        "int8": pa.array(rng.integers(-100, 100, n), pa.int8()),
        "date32": pa.array(rng.integers(19_000, 20_000, n), pa.int32()).cast(pa.date32()),
        "timestamp tz": pa.array(rng.integers(0, 2**50, n)).cast(pa.timestamp("us", tz="UTC")),
        "with nulls (Arrow fallback)": pa.array([None if i % 5 == 0 else i % 9 for i in range(n)]),
        "strings (Arrow fallback)": pa.array([f"s{i % 13}" for i in range(n)]),
    }
    for name, column in columns.items():
        got = _cluster_order(pa.table({"c": column}), codes, ["c"])
        keyed = pa.table([pa.array(codes), column], names=["p", "c"])
        ref = pc.sort_indices(keyed, sort_keys=[("p", "ascending"), ("c", "ascending")])
        assert np.array_equal(got, ref.to_numpy()), name


def test_segments_of_one_batch_reuse_the_first_segments_encodings(tmp_path, monkeypatch) -> None:
    from hasivu_compute.storage.fileio import FileIO
    from hasivu_compute.table import writing

    calls: list[object] = []
    real = writing.encode_segment_with_hints

    def spy(rows, fids, opts, hints=None):  # type: ignore[no-untyped-def]
        out = real(rows, fids, opts, hints)
        calls.append((hints, out[2]))
        return out

    monkeypatch.setattr(writing, "encode_segment_with_hints", spy)
    n = 4_000
    table = pa.table(
        {
            "k": pa.array([(i * 31) % 97 for i in range(n)], pa.int64()),
            "s": pa.array(["x", "y"] * (n // 2), pa.string()),
            "d": pa.array([dt.date(2025, 1, 1)] * n, pa.date32()),
            "row": pa.array(range(n), pa.int64()),
        }
    )
    spec = PartitionSpec.build(SCHEMA, [("k", "bucket[5]")])
    snap = Snapshot(1, None, 0, SCHEMA, spec, (), {}, {}, 4)
    files = writing.write_data_files(FileIO.from_uri(str(tmp_path)), snap, table)
    assert len(files) == 5 and sum(f.num_rows for f in files) == n
    unhinted = [chosen for hints, chosen in calls if hints is None]
    assert len(unhinted) == 1, "only the batch's first segment tries every encoding"
    assert all(hints == unhinted[0] for hints, _ in calls if hints is not None)


def test_low_cardinality_strings_are_gathered_as_dictionaries_and_read_back_plain(
    tmp_path,
) -> None:
    import numpy as np

    from hasivu_compute.storage.fileio import FileIO
    from hasivu_compute.storage.segment import SegmentReader
    from hasivu_compute.table.writing import dictionary_strings, write_data_files

    rng = np.random.default_rng(3)
    n = 30_000
    words = np.array(["paid", "open", "void"])
    status = pa.array(words[rng.integers(0, 3, n)].tolist(), mask=rng.random(n) < 0.1)
    repeats_then_not = ["same"] * 5_000 + [f"id-{i}" for i in range(n - 5_000)]
    table = pa.table(
        {
            "k": pa.array(rng.integers(0, 100, n), pa.int64()),
            "s": pa.chunked_array([status.slice(0, 7_000), status.slice(7_000)]),
            "d": pa.array([dt.date(2025, 1, 1)] * n, pa.date32()),
            "row": pa.array(range(n), pa.int64()),
        }
    )
    prepared = dictionary_strings(table)()
    assert pa.types.is_dictionary(prepared.column("s").type)
    assert prepared.column("s").to_pylist() == status.to_pylist()
    mixed = table.set_column(1, "s", pa.array(repeats_then_not))
    assert dictionary_strings(mixed)().column("s").type == pa.string(), (
        "a column that only starts repetitive stays plain"
    )

    spec = PartitionSpec.build(SCHEMA, [("k", "bucket[4]")])
    snap = Snapshot(1, None, 0, SCHEMA, spec, (), {}, {}, 4)
    io = FileIO.from_uri(str(tmp_path))
    files = write_data_files(io, snap, table)
    s_id, row_id = SCHEMA.field("s").id, SCHEMA.field("row").id
    back: dict[int, object] = {}
    for f in files:
        reader = SegmentReader(io.open_input(f.path), f.path)
        assert reader.field_type(s_id) == pa.string()
        part = reader.read([row_id, s_id])
        back.update(zip(part.column(0).to_pylist(), part.column(1).to_pylist(), strict=True))
        present = {v for v in part.column(1).to_pylist() if v is not None}
        assert (f.stats[s_id].min, f.stats[s_id].max) == (min(present), max(present))
    assert [back[i] for i in range(n)] == status.to_pylist()
