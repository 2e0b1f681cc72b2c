"""Segment file layout: blocks, then a zstd-compressed JSON footer, then a trailer.

::

    [block 0,0][block 0,1]...[bloom ...][block 1,0]...   every region xxh64-checked
    [footer: zstd(JSON)]                                  xxh64 in the trailer
    [trailer: footer length u64 | footer xxh64 u64 | MAGIC 8 bytes]

The footer lists, per chunk and column, each block's offset, length, checksum,
encoding tree and zone map; the Arrow schema of the stored fields is kept as
IPC bytes so types (timezones, decimal precision, string flavours) come back
exactly. Regions tile the file with no gaps, so every byte is covered by a
checksum.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import xxhash
import zstandard

from hasivu_compute._core.errors import ChecksumError

MAGIC = b"HCSEG\x00\x01\x00"
FORMAT_VERSION = 1
TRAILER = struct.Struct("<QQ8s")


def checksum(data: bytes | memoryview) -> int:
    """xxh64 (seed 0) of ``data``."""
    return xxhash.xxh64_intdigest(data)


def schema_to_b64(schema: pa.Schema) -> str:
    """The Arrow schema as base64 IPC bytes."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def schema_from_b64(text: str) -> pa.Schema:
    """Inverse of :func:`schema_to_b64`."""
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def pack_footer(footer: dict[str, Any], level: int) -> bytes:
    """Footer bytes + trailer, ready to append after the blocks."""
    body = zstandard.ZstdCompressor(level=max(level, 3)).compress(
        json.dumps(footer, separators=(",", ":"), allow_nan=False).encode("utf-8")
    )
    return body + TRAILER.pack(len(body), checksum(body), MAGIC)


@dataclass(frozen=True, slots=True)
class FooterLocation:
    """Where the footer lies in a file, from the trailer."""

    offset: int
    length: int
    checksum: int


def parse_trailer(trailer: bytes, size: int, path: str) -> FooterLocation:
    """Validate the trailer of a ``size``-byte file; ``ChecksumError`` if damaged or truncated."""
    if len(trailer) != TRAILER.size:
        raise ChecksumError("segment is truncated (no trailer)", path=path)
    length, footer_sum, magic = TRAILER.unpack(trailer)
    if magic != MAGIC:
        raise ChecksumError(
            "segment trailer magic mismatch (truncated or not a segment)", path=path
        )
    offset = size - TRAILER.size - length
    if offset < 0:
        raise ChecksumError("segment footer length runs past the file start", path=path)
    return FooterLocation(offset, length, footer_sum)


def unpack_footer(body: bytes, where: FooterLocation, path: str) -> dict[str, Any]:
    """Verify and parse the footer bytes."""
    if len(body) != where.length or checksum(body) != where.checksum:
        raise ChecksumError("segment footer checksum mismatch", path=path)
    try:
        footer = json.loads(zstandard.ZstdDecompressor().decompress(body))
    except (zstandard.ZstdError, ValueError) as exc:  # pragma: no cover - checksum passed
        raise ChecksumError(f"segment footer unreadable: {exc}", path=path) from exc
    if not isinstance(footer, dict) or footer.get("format") != FORMAT_VERSION:
        raise ChecksumError("segment footer has an unknown format version", path=path)
    return footer
