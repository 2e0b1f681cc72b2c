"""Segments give back exactly what was written: every type x encoding, nulls, edge cases."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasivu_compute.storage.encodings.registry import ALL_ENCODINGS
from hasivu_compute.storage.segment import SegmentReader, WriteOptions, encode_segment
from tests.unit.storage._strategies import SUPPORTED_TYPES, arrays


def roundtrip(
    table: pa.Table, options: WriteOptions | None = None
) -> tuple[pa.Table, SegmentReader]:
    fids = list(range(10, 10 + table.num_columns))
    data, info = encode_segment(table, fids, options or WriteOptions())
    assert info.size_bytes == len(data)
    assert info.num_rows == table.num_rows
    reader = SegmentReader(pa.BufferReader(data), "mem://seg")
    out = reader.read(fids)
    return out, reader


def assert_same(expected: pa.Array | pa.ChunkedArray, actual: pa.ChunkedArray) -> None:
    """Exact equality including NaN payloads and -0.0 (compare raw bits for floats)."""
    exp = expected.combine_chunks() if isinstance(expected, pa.ChunkedArray) else expected
    got = actual.combine_chunks()
    assert got.type == exp.type
    assert len(got) == len(exp)
    assert got.is_null().equals(exp.is_null())
    if pa.types.is_floating(exp.type):
        width = np.int64 if pa.types.is_float64(exp.type) else np.int32
        mask = ~np.asarray(exp.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        e = exp.fill_null(0).to_numpy(zero_copy_only=False).view(width)
        g = got.fill_null(0).to_numpy(zero_copy_only=False).view(width)
        assert np.array_equal(e[mask], g[mask])
    else:
        assert got.equals(exp), (exp, got)


@pytest.mark.parametrize("arrow_type", SUPPORTED_TYPES, ids=str)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_every_type_and_encoding(arrow_type: pa.DataType, data: st.DataObject) -> None:
    arr = data.draw(arrays(arrow_type))
    encodings = data.draw(st.one_of(st.none(), st.sampled_from(ALL_ENCODINGS).map(lambda e: (e,))))
    chunk_rows = data.draw(st.sampled_from([1, 7, 64, 65_536]))
    options = WriteOptions(chunk_rows=chunk_rows, encodings=encodings, zstd_level=1)
    table = pa.table({"x": arr, "y": pa.array(np.arange(len(arr)))})
    out, reader = roundtrip(table, options)
    assert_same(arr, out.column(0))
    assert_same(table.column(1), out.column(1))
    assert reader.field_type(10) == arrow_type
    assert sum(reader.chunk_row_counts()) == len(arr)


def _forced(values: pa.Array, encoding: str) -> str:
    """Write ``values`` allowing only ``encoding`` and return the encoding actually used."""
    out, reader = roundtrip(pa.table({"x": values}), WriteOptions(encodings=(encoding,)))
    assert_same(values, out.column(0))
    return reader.encoding(0, 10)


N = 10_000
RNG = np.random.default_rng(7)
INT_CASES = {
    "plain": pa.array(RNG.integers(-(2**62), 2**62, N)),
    "for": pa.array(RNG.integers(1000, 1200, N)),
    "bitpack": pa.array(RNG.integers(-5000, 5000, N)),
    "delta": pa.array(np.cumsum(RNG.integers(-3, 9, N))),
    "rle": pa.array(np.repeat(RNG.integers(0, 2**40, N // 100), 100)),
    "dictionary": pa.array(RNG.choice([-(2**63), 5, 2**63 - 1], N)),
}


@pytest.mark.parametrize("encoding", sorted(INT_CASES))
@pytest.mark.parametrize(
    "arrow_type",
    [pa.int64(), pa.date32(), pa.timestamp("us", tz="UTC"), pa.decimal128(18, 3)],
    ids=str,
)
def test_each_integer_encoding_is_used_and_exact(encoding: str, arrow_type: pa.DataType) -> None:
    raw = INT_CASES[encoding]
    if pa.types.is_date32(arrow_type):
        values = pa.array(raw.to_numpy() % 2_000_000).cast(pa.int32()).cast(arrow_type)
    elif pa.types.is_decimal(arrow_type):
        ints = raw.to_numpy() % 10**17
        values = pa.array([decimal.Decimal(int(i)).scaleb(-3) for i in ints], arrow_type)
    else:
        values = raw.cast(arrow_type)
    mask = RNG.random(N) < 0.05
    if encoding != "rle":
        values = pc.if_else(pa.array(mask), pa.scalar(None, arrow_type), values)
    used = _forced(values, encoding)
    assert used == encoding, used


FLOAT_CASES = {
    "plain": pa.array(RNG.standard_normal(N)),
    "shuffle": pa.array(RNG.standard_normal(N) * 1e-3 + 1.0),
    "scaled": pa.array(RNG.integers(0, 100_000, N) / 100),
    "dictionary": pa.array(RNG.choice([1.5, float("nan"), -0.0, float("inf")], N)),
    "rle": pa.array(np.repeat(RNG.standard_normal(N // 50), 50)),
}


@pytest.mark.parametrize("encoding", sorted(FLOAT_CASES))
@pytest.mark.parametrize("arrow_type", [pa.float64(), pa.float32()], ids=str)
def test_each_float_encoding_is_used_and_exact(encoding: str, arrow_type: pa.DataType) -> None:
    values = FLOAT_CASES[encoding].cast(arrow_type)
    if arrow_type == pa.float32() and encoding == "scaled":
        values = pa.array(RNG.integers(0, 1000, N) / 4, pa.float32())  # exact in float32
        used = _forced(values, encoding)
        assert used.startswith("scaled:"), f"quarters are exact at scale 2: {used}"
        return
    assert _forced(values, encoding).startswith(encoding)


@pytest.mark.parametrize("encoding", ["plain", "dictionary"])
@pytest.mark.parametrize(
    "arrow_type", [pa.string(), pa.large_string(), pa.string_view(), pa.binary()], ids=str
)
def test_each_string_encoding_is_used_and_exact(encoding: str, arrow_type: pa.DataType) -> None:
    words = ["paid", "pending", "refunded", "", "ü€😀", "x" * 5000]
    mask = RNG.random(N) < 0.1
    values = pa.array(RNG.choice(words, N).tolist(), pa.string(), mask=mask)
    values = (
        values.cast(arrow_type) if not pa.types.is_binary(arrow_type) else values.cast(pa.binary())
    )
    assert _forced(values, encoding) == encoding


@pytest.mark.parametrize("encoding", ["plain", "rle"])
def test_bool_encodings(encoding: str) -> None:
    values = pa.array(np.repeat(RNG.random(N // 10) < 0.5, 10), mask=RNG.random(N) < 0.1)
    assert _forced(values, encoding) == encoding


def test_auto_choice_picks_compact_encodings() -> None:
    n = 200_000
    table = pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64) + 10**12),
            "price": pa.array(RNG.integers(100, 10_000, n) / 100),
            "status": pa.array(RNG.choice(["paid", "pending", "refunded"], n)),
            "small": pa.array(RNG.integers(0, 100, n).astype(np.int32)),
        }
    )
    out, reader = roundtrip(table)
    for name in table.column_names:
        assert_same(table.column(name), out.column(table.column_names.index(name)))
    assert reader.encoding(0, 10) in ("delta", "rle")
    assert reader.encoding(0, 11).startswith("scaled")
    assert reader.encoding(0, 12) == "dictionary"
    data, _ = encode_segment(table, [1, 2, 3, 4])
    assert len(data) < n * 3, (
        "sequential ids, 2-decimal prices and enums must compress far below plain"
    )


def test_empty_table_and_all_null_and_empty_strings() -> None:
    empty = pa.table({"a": pa.array([], pa.int32()), "s": pa.array([], pa.string())})
    out, reader = roundtrip(empty)
    assert out.num_rows == 0 and reader.num_chunks == 0
    assert out.schema.field(0).type == pa.int32() and out.schema.field(1).type == pa.string()
    nulls = pa.table(
        {
            "a": pa.nulls(100, pa.int64()),
            "f": pa.nulls(100, pa.float64()),
            "s": pa.nulls(100, pa.string()),
            "b": pa.nulls(100, pa.bool_()),
            "d": pa.nulls(100, pa.decimal128(10, 2)),
            "z": pa.array([""] * 100),
            "n": pa.nulls(100),
        }
    )
    out, reader = roundtrip(nulls, WriteOptions(chunk_rows=30))
    for i in range(nulls.num_columns):
        assert_same(nulls.column(i), out.column(i))
    stats = reader.chunk_stats(0, 10)
    assert (stats.row_count, stats.null_count, stats.min, stats.max) == (30, 30, None, None)


def test_extremes_and_special_floats() -> None:
    table = pa.table(
        {
            "i64": pa.array([-(2**63), 2**63 - 1, 0, None]),
            "u64": pa.array([0, 2**64 - 1, 1, None], pa.uint64()),
            "f": pa.array([float("nan"), float("inf"), float("-inf"), -0.0]),
            "d": pa.array(
                [decimal.Decimal("9" * 38), decimal.Decimal("-" + "9" * 38), None, 0],
                pa.decimal128(38, 0),
            ),
            "ts": pa.array(
                [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59), None, None],
                pa.timestamp("us"),
            ),
        }
    )
    out, reader = roundtrip(table)
    for i in range(table.num_columns):
        assert_same(table.column(i), out.column(i))
    f = reader.chunk_stats(0, 12)
    assert f.has_nan and f.min == float("-inf") and f.max == float("inf")
    assert reader.chunk_stats(0, 10).min == -(2**63)
    assert reader.chunk_stats(0, 13).max == decimal.Decimal("9" * 38)


def test_read_subset_of_columns_and_chunks() -> None:
    n = 1000
    table = pa.table({"a": pa.array(np.arange(n)), "b": pa.array([str(i) for i in range(n)])})
    data, info = encode_segment(table, [5, 9], WriteOptions(chunk_rows=300))
    reader = SegmentReader(pa.BufferReader(data), "seg")
    assert reader.num_chunks == info.num_chunks == 4
    assert reader.chunk_row_counts() == (300, 300, 300, 100)
    part = reader.read([9], chunks=[1, 3])
    assert part.column_names == ["9"]
    assert part.column(0).to_pylist() == [str(i) for i in range(300, 600)] + [
        str(i) for i in range(900, 1000)
    ]
    stats = reader.chunk_stats(2, 5)
    assert (stats.min, stats.max, stats.row_count) == (600, 899, 300)
    assert info.stats[5].min == 0 and info.stats[5].max == n - 1
    assert info.stats[9].row_count == n


def test_scaled_choice_falls_back_when_data_outside_the_sample_breaks_it() -> None:
    values = np.round(RNG.integers(0, 10**6, 50_000) / 100, 2)
    values[25_000 + 3000] = 1.0 / 3.0  # between the sampled slices
    out, reader = roundtrip(pa.table({"p": pa.array(values)}))
    assert_same(pa.array(values), out.column(0))
    assert not reader.encoding(0, 10).startswith("scaled")


class _RecordingSource:
    """A random-access source that records which byte ranges were read."""

    def __init__(self, data: bytes) -> None:
        self._inner = pa.BufferReader(data)
        self.reads: list[tuple[int, int]] = []

    def size(self) -> int:
        return int(self._inner.size())

    def read_at(self, nbytes: int, offset: int) -> pa.Buffer:
        self.reads.append((offset, offset + nbytes))
        return self._inner.read_at(nbytes, offset)


def test_reader_fetches_only_requested_blocks() -> None:
    n = 300_000
    table = pa.table(
        {
            "a": pa.array(RNG.integers(0, 2**40, n)),
            "b": pa.array(RNG.standard_normal(n)),
            "c": pa.array(RNG.integers(0, 2**40, n)),
        }
    )
    data, _ = encode_segment(
        table, [1, 2, 3], WriteOptions(chunk_rows=100_000, bloom_columns=frozenset())
    )
    source = _RecordingSource(data)
    reader = SegmentReader(source, "seg")
    source.reads.clear()
    out = reader.read([2], chunks=[1])
    assert out.column(0).to_pylist() == table.column(1).slice(100_000, 100_000).to_pylist()
    wanted = reader._blocks[1][1].region
    fetched = sum(end - start for start, end in source.reads)
    assert fetched == wanted.length, "only the one requested block may be fetched"
    assert source.reads == [(wanted.offset, wanted.offset + wanted.length)]


def test_later_chunks_reuse_a_pick_only_where_it_still_applies() -> None:
    money = np.round(RNG.integers(0, 10**6, 6000) / 100, 2)
    noise = RNG.standard_normal(6000)
    noise[::97] = np.nan
    values = np.concatenate([money, noise])
    ids = np.concatenate([np.arange(6000), RNG.integers(0, 2**60, 6000)])
    labels = ["paid", "open"] * 3000 + [f"free text {i}" for i in range(6000)]
    table = pa.table({"v": pa.array(values), "id": pa.array(ids), "s": pa.array(labels)})
    out, reader = roundtrip(table, WriteOptions(chunk_rows=1000))
    for i in range(table.num_columns):
        assert_same(table.column(i), out.column(i))
    assert reader.encoding(1, 10).startswith(("scaled", "dictionary")), (
        "chunk 1 reuses chunk 0's pick"
    )
    assert not reader.encoding(9, 10).startswith("scaled"), "NaN breaks scaling: trials run again"
    assert reader.encoding(9, 12) == "plain", "all-distinct strings cannot stay dictionary-coded"


@pytest.mark.parametrize("value_type", [pa.string(), pa.large_binary()], ids=str)
def test_dictionary_input_is_stored_as_its_values(value_type: pa.DataType) -> None:
    """A batch-wide dictionary (with entries some blocks never use, nulls and a slice
    offset) reads back as plain values; each block keeps only the entries it uses."""
    words = ["zeta", "alpha", "mid", "beta", "unused-anywhere"]
    n = 150_000
    idx = np.where(np.arange(n) < 70_000, RNG.integers(0, 2, n), RNG.integers(2, 4, n))
    mask = RNG.random(n) < 0.05
    dictionary = pa.array(words).cast(value_type)
    arr = pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32(), mask=mask), dictionary)
    arr = arr.slice(5)
    plain = arr.dictionary.take(arr.indices)
    options = WriteOptions(chunk_rows=65_536, bloom_columns=frozenset({10}))
    out, reader = roundtrip(pa.table({"s": arr}), options)
    assert reader.field_type(10) == value_type
    assert_same(plain, out.column(0))
    first, last = reader.chunk_stats(0, 10), reader.chunk_stats(2, 10)
    as_value = (lambda w: w) if pa.types.is_string(value_type) else (lambda w: w.encode())
    assert (first.min, first.max) == (as_value("alpha"), as_value("zeta"))
    assert (last.min, last.max) == (as_value("beta"), as_value("mid"))
    assert first.null_count == int(pc.sum(plain.slice(0, 65_536).is_null()).as_py())
    assert reader.encoding(0, 10) == "dictionary"
    assert not reader.might_contain(0, 10, [as_value("unused-anywhere")])
    assert reader.might_contain(2, 10, [as_value("mid")])


def test_dictionary_input_honours_allowed_encodings_and_all_null() -> None:
    values = pa.array(["a", None, "b", "a"] * 1000).dictionary_encode()
    out, reader = roundtrip(pa.table({"s": values}), WriteOptions(encodings=("plain",)))
    assert reader.encoding(0, 10) == "plain"
    assert_same(values.cast(pa.string()), out.column(0))
    nulls = pa.DictionaryArray.from_arrays(pa.nulls(10, pa.int8()), pa.array([], pa.string()))
    out, _ = roundtrip(pa.table({"s": nulls}))
    assert out.column(0).null_count == 10
    assert out.column(0).type == pa.string()
