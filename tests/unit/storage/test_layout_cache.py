"""The process-wide cache of parsed segment footers (storage.reader._LAYOUTS)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import ChecksumError
from hasivu_compute.storage.segment import SegmentReader, WriteOptions, encode_segment


def _segment(rows: int) -> bytes:
    table = pa.table({"a": pa.array([i * i % 977 for i in range(rows)], pa.int64())})
    data, _ = encode_segment(table, [1], WriteOptions(chunk_rows=100))
    return data


class _CountingSource:
    """A BufferReader that counts positioned reads (the footer costs two)."""

    def __init__(self, data: bytes) -> None:
        self._inner = pa.BufferReader(data)
        self.reads = 0

    def size(self) -> int:
        return int(self._inner.size())

    def read_at(self, nbytes: int, offset: int) -> pa.Buffer:
        self.reads += 1
        return self._inner.read_at(nbytes, offset)


def test_second_open_with_the_same_key_reads_no_footer() -> None:
    data = _segment(250)
    first = _CountingSource(data)
    SegmentReader(first, "f.hseg", cache_key=("t", "f.hseg", 1))
    assert first.reads == 2  # trailer + footer
    again = _CountingSource(data)
    cached = SegmentReader(again, "f.hseg", cache_key=("t", "f.hseg", 1))
    assert again.reads == 0
    assert cached.num_rows == 250 and cached.chunk_row_counts() == (100, 100, 50)
    assert cached.read([1]).column(0).to_pylist() == [i * i % 977 for i in range(250)]


def test_without_a_key_or_with_another_size_the_footer_is_parsed() -> None:
    small, large = _segment(10), _segment(300)
    SegmentReader(_CountingSource(small), "g.hseg", cache_key=("t", "g.hseg", 2))
    other = _CountingSource(large)  # same key, different size: not the cached file
    assert SegmentReader(other, "g.hseg", cache_key=("t", "g.hseg", 2)).num_rows == 300
    assert other.reads == 2
    plain = _CountingSource(small)
    SegmentReader(plain, "g.hseg")
    assert plain.reads == 2


def test_a_damaged_block_is_still_detected_after_the_footer_was_cached() -> None:
    data = bytearray(_segment(250))
    SegmentReader(pa.BufferReader(bytes(data)), "h.hseg", cache_key=("t", "h.hseg", 3))
    data[5] ^= 0xFF  # inside the first block
    damaged = SegmentReader(pa.BufferReader(bytes(data)), "h.hseg", cache_key=("t", "h.hseg", 3))
    with pytest.raises(ChecksumError):
        damaged.read([1], [0])
