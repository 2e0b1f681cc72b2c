"""Damaged segment bytes raise ChecksumError naming file/column/chunk; never wrong data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import ChecksumError
from hasivu_compute.storage.segment import SegmentReader, WriteOptions, encode_segment

N = 3000
RNG = np.random.default_rng(3)
TABLE = pa.table(
    {
        "id": pa.array(np.arange(N, dtype=np.int64)),
        "price": pa.array(RNG.integers(0, 10_000, N) / 100),
        "name": pa.array([f"student-{i % 997}" for i in range(N)]),
        "ok": pa.array(RNG.random(N) < 0.3),
    }
)
FIDS = [1, 2, 3, 4]
DATA, INFO = encode_segment(
    TABLE, FIDS, WriteOptions(chunk_rows=1000, bloom_columns=frozenset({1, 3}))
)
PATH = "mem://segment-0001"


def _open(data: bytes) -> SegmentReader:
    return SegmentReader(pa.BufferReader(data), PATH)


def _block_of(reader: SegmentReader, offset: int) -> tuple[int, int, str] | None:
    """(chunk, field id, kind) whose region holds ``offset``, or None for footer/trailer."""
    for c, row in enumerate(reader._blocks):
        for fid, block in zip(reader.field_ids, row, strict=True):
            r = block.region
            if r.offset <= offset < r.offset + r.length:
                return c, fid, "block"
            b = block.bloom
            if b is not None and b.offset <= offset < b.offset + b.length:
                return c, fid, "bloom"
    return None


@settings(max_examples=40, deadline=None)
@given(offset=st.integers(0, len(DATA) - 1), bit=st.integers(0, 7))
def test_flipped_byte_is_detected_and_the_rest_stays_readable(offset: int, bit: int) -> None:
    damaged = bytearray(DATA)
    damaged[offset] ^= 1 << bit
    where = _block_of(_open(DATA), offset)
    if where is None:  # footer or trailer: the whole file is refused on open
        with pytest.raises(ChecksumError) as info:
            _open(bytes(damaged))
        assert info.value.path == PATH
        return
    chunk, fid, kind = where
    reader = _open(bytes(damaged))
    if kind == "bloom":
        with pytest.raises(ChecksumError) as info:
            reader.might_contain(chunk, fid, [5] if fid == 1 else ["student-5"])
    else:
        with pytest.raises(ChecksumError) as info:
            reader.read([fid], chunks=[chunk])
        with pytest.raises(ChecksumError):
            reader.read(FIDS)
    assert (info.value.path, info.value.column, info.value.chunk) == (PATH, str(fid), chunk)
    assert f"chunk={chunk}" in str(info.value) and PATH in str(info.value)
    # every other block is intact and exact
    others = [f for f in FIDS if f != fid]
    assert reader.read(others).equals(_open(DATA).read(others))
    rest = [c for c in range(reader.num_chunks) if c != chunk]
    assert reader.read(FIDS, chunks=rest).equals(_open(DATA).read(FIDS, chunks=rest))


@settings(max_examples=20, deadline=None)
@given(keep=st.integers(0, len(DATA) - 1))
def test_truncated_segment_is_refused(keep: int) -> None:
    with pytest.raises(ChecksumError) as info:
        _open(DATA[:keep])
    assert info.value.path == PATH


def test_every_region_is_covered_by_a_checksum() -> None:
    """Blocks and blooms (each with its checksum) tile the file from byte 0 up to the
    footer, and the footer (checksummed in the trailer) and the trailer end it: no byte
    of the file lies outside a checked region."""
    from hasivu_compute.storage.footer import TRAILER

    reader = _open(DATA)
    regions = [b.region for row in reader._blocks for b in row]
    regions += [b.bloom for row in reader._blocks for b in row if b.bloom is not None]
    assert any(b.bloom is not None for row in reader._blocks for b in row), "blooms are covered"
    end = 0
    for region in sorted(regions, key=lambda r: r.offset):
        assert region.offset == end, f"gap or overlap at byte {end}"
        end += region.length
    footer_length, _, _ = TRAILER.unpack(DATA[-TRAILER.size :])
    assert end + footer_length + TRAILER.size == len(DATA)


def test_intact_segment_reads_back_exactly() -> None:
    out = _open(DATA).read(FIDS)
    for i in range(TABLE.num_columns):
        assert out.column(i).combine_chunks().equals(TABLE.column(i).combine_chunks())
