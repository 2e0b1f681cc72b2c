"""Bytes on disk: encodings, segment writer/reader, zone maps and bloom filters, FileIO.

The public segment API lives in :mod:`hasivu_compute.storage.segment`
(:func:`encode_segment`, :class:`SegmentReader`, :class:`WriteOptions`,
:class:`SegmentInfo`, :class:`ColumnChunkStats`) and is re-exported here.
"""

from hasivu_compute._core.allocator import tune_allocator
from hasivu_compute.storage.segment import (
    ColumnChunkStats,
    SegmentInfo,
    SegmentReader,
    WriteOptions,
    encode_segment,
)

# Decoding churns through short-lived buffers: keep their pages (see _core.allocator).
tune_allocator()

__all__ = ["ColumnChunkStats", "SegmentInfo", "SegmentReader", "WriteOptions", "encode_segment"]
