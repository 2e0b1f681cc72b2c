"""Reading segments: open by footer, fetch only requested blocks, verify, decode in parallel.

Every byte is checked before use: the trailer and footer on open, each block
and bloom filter when fetched. A damaged block raises :class:`ChecksumError`
naming the file, column (field id) and chunk; the other blocks of the segment
stay readable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from hasivu_compute._core.errors import ChecksumError, InvalidDataError, StorageError
from hasivu_compute._core.lru import LruCache
from hasivu_compute.storage._pool import run_all
from hasivu_compute.storage.block import decode_block, dictionary_type
from hasivu_compute.storage.encodings.base import Meta
from hasivu_compute.storage.footer import (
    TRAILER,
    checksum,
    parse_trailer,
    schema_from_b64,
    unpack_footer,
)
from hasivu_compute.storage.index.bloom import BloomFilter, probe_hashes
from hasivu_compute.storage.physical import Physical, physical_of
from hasivu_compute.storage.stats import ColumnChunkStats

COALESCE_GAP = 64 * 1024
INLINE_VALUES = (
    1 << 18
)  # smaller reads decode inline: thread hand-offs cost more than they save  # read through gaps this small rather than issue another request


class RandomAccessSource(Protocol):
    """What a reader needs from a file: its size and positioned reads."""

    def size(self) -> int: ...

    def read_at(self, nbytes: int, offset: int) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Region:
    offset: int
    length: int
    checksum: int


@dataclass(frozen=True, slots=True)
class _Block:
    region: _Region
    meta: Meta
    stats_json: dict[str, Any]
    bloom: _Region | None
    bloom_params: tuple[int, int]


_LAYOUT_FIELDS = (
    "num_rows",
    "_chunk_rows",
    "num_chunks",
    "field_ids",
    "_types",
    "_phys",
    "_index",
    "_blocks",
    "_stats",
    "_blooms",
)
# Parsed, verified footers of immutable segment files.
#
# Why: opening a segment parses its JSON footer and checks the block layout
# (~2.5 ms for a 16-column, 16-chunk file on the development VM); a query that
# plans and then scans the same files paid it twice per file per query. The key
# is the caller's identity of the file (its content checksum) plus its size, and
# block bytes are still checksum-verified on every read, so a file damaged after
# its footer was cached is still detected.
_LAYOUTS: LruCache[dict[str, Any]] = LruCache(capacity=4096)


class SegmentReader:
    """Reads one segment file through a random-access ``source``.

    Args:
        source: an object with ``size()`` and ``read_at(nbytes, offset)`` (a
            ``pyarrow.NativeFile`` / ``pa.BufferReader``).
        path: the file's name, used in error messages.
        cache_key: an identity of the file's content (e.g. its path and checksum);
            with it, the parsed footer is shared by every reader of the same file
            in this process (zone maps and bloom filters included).

    Raises:
        ChecksumError: the trailer or footer is damaged or the file is truncated.
    """

    def __init__(
        self, source: RandomAccessSource, path: str, cache_key: Hashable | None = None
    ) -> None:
        self.path = path
        self._source = source
        size = int(source.size())
        key = None if cache_key is None else (cache_key, size)
        known = None if key is None else _LAYOUTS.get(key)
        if known is not None:
            self._adopt(known)
            return
        if size < TRAILER.size:
            raise ChecksumError(f"segment is truncated ({size} bytes)", path=path)
        where = parse_trailer(self._read(size - TRAILER.size, TRAILER.size), size, path)
        footer = unpack_footer(self._read(where.offset, where.length), where, path)
        try:
            self._load(footer)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ChecksumError(f"segment footer is inconsistent: {exc}", path=path) from exc
        self._check_layout(where.offset)
        self._stats: dict[tuple[int, int], ColumnChunkStats] = {}
        self._blooms: dict[tuple[int, int], BloomFilter] = {}
        if key is not None:
            _LAYOUTS.put(key, {name: getattr(self, name) for name in _LAYOUT_FIELDS})

    def _adopt(self, layout: dict[str, Any]) -> None:
        for name, value in layout.items():
            setattr(self, name, value)

    def _load(self, footer: dict[str, Any]) -> None:
        self.num_rows: int = int(footer["rows"])
        self._chunk_rows = tuple(int(r) for r in footer["chunks"])
        self.num_chunks: int = len(self._chunk_rows)
        self.field_ids: tuple[int, ...] = tuple(int(f) for f in footer["fields"])
        schema = schema_from_b64(footer["schema"])
        self._types = {fid: schema.field(i).type for i, fid in enumerate(self.field_ids)}
        self._phys: dict[int, Physical] = {
            fid: physical_of(t, str(fid)) for fid, t in self._types.items()
        }
        self._index = {fid: i for i, fid in enumerate(self.field_ids)}
        self._blocks: list[list[_Block]] = []
        for row in footer["blocks"]:
            if len(row) != len(self.field_ids):
                raise ValueError("chunk row has the wrong number of blocks")
            self._blocks.append([_parse_block(entry) for entry in row])
        if len(self._blocks) != self.num_chunks or sum(self._chunk_rows) != self.num_rows:
            raise ValueError("chunk counts disagree")

    def _check_layout(self, footer_offset: int) -> None:
        """Blocks and blooms must tile ``[0, footer)`` exactly, so no byte goes unchecked."""
        regions = [b.region for row in self._blocks for b in row]
        regions += [b.bloom for row in self._blocks for b in row if b.bloom is not None]
        regions.sort(key=lambda r: r.offset)
        end = 0
        for region in regions:
            if region.offset != end or region.length < 0:
                raise ChecksumError("segment layout has gaps or overlaps", path=self.path)
            end += region.length
        if end != footer_offset:
            raise ChecksumError("segment layout does not reach the footer", path=self.path)

    def _read(self, offset: int, nbytes: int) -> bytes:
        data = self._source.read_at(nbytes, offset)
        raw = data.to_pybytes() if isinstance(data, pa.Buffer) else bytes(data)
        if len(raw) != nbytes:
            raise ChecksumError(
                f"short read at {offset}: {len(raw)} of {nbytes} bytes", path=self.path
            )
        return raw

    def field_type(self, field_id: int) -> pa.DataType:
        """The exact Arrow type stored for ``field_id``."""
        self._check_field(field_id)
        return self._types[field_id]

    def chunk_row_counts(self) -> tuple[int, ...]:
        """Rows per chunk, in order."""
        return self._chunk_rows

    def chunk_stats(self, chunk: int, field_id: int) -> ColumnChunkStats:
        """Zone map of one block (from the verified footer, no block I/O)."""
        key = (self._check_chunk(chunk), self._check_field(field_id))
        found = self._stats.get(key)
        if found is None:
            block = self._blocks[chunk][self._index[field_id]]
            found = self._stats[key] = ColumnChunkStats.from_json(block.stats_json)
        return found

    def encoding(self, chunk: int, field_id: int) -> str:
        """The encoding chosen for one block, e.g. ``"delta"`` or ``"scaled:bitpack"`` (diagnostics)."""
        block = self._blocks[self._check_chunk(chunk)][self._index[self._check_field(field_id)]]
        return _describe(block.meta["enc"])

    def might_contain(self, chunk: int, field_id: int, values: Sequence[object]) -> bool:
        """Whether the block may hold any of ``values`` (bloom check; ``True`` without a bloom)."""
        block = self._blocks[self._check_chunk(chunk)][self._index[self._check_field(field_id)]]
        if block.bloom is None:
            return True
        hashes = probe_hashes(values, self._types[field_id], self._phys[field_id])
        if hashes is None:
            return True
        bloom = self._bloom(chunk, field_id, block)
        return bool(np.any(bloom.contains_hashes(hashes)))

    def _bloom(self, chunk: int, field_id: int, block: _Block) -> BloomFilter:
        key = (chunk, field_id)
        found = self._blooms.get(key)
        if found is None:
            assert block.bloom is not None
            data = self._read(block.bloom.offset, block.bloom.length)
            self._verify(data, block.bloom, field_id, chunk, "bloom filter")
            found = self._blooms[key] = BloomFilter(data, *block.bloom_params)
        return found

    def _verify(
        self, data: bytes | memoryview, region: _Region, field_id: int, chunk: int, what: str
    ) -> None:
        if len(data) != region.length or checksum(data) != region.checksum:
            raise ChecksumError(
                f"{what} checksum mismatch", path=self.path, column=str(field_id), chunk=chunk
            )

    def read(
        self,
        field_ids: Sequence[int],
        chunks: Sequence[int] | None = None,
        dictionary: Collection[int] = (),
    ) -> pa.Table:
        """Decode the given columns of the given chunks (all chunks by default).

        Columns are named ``str(field_id)``, in the order requested; each column
        has one Arrow chunk per segment chunk read. String/binary columns whose
        id is in ``dictionary`` come back as ``dictionary<int32, type>`` arrays
        (other types ignore it).
        """
        fids = [self._check_field(f) for f in field_ids]
        as_dict = {f for f in dictionary if f in self._types and dictionary_type(self._types[f])}
        picked = (
            list(range(self.num_chunks))
            if chunks is None
            else [self._check_chunk(c) for c in chunks]
        )
        wanted = [(c, fid) for c in picked for fid in fids]
        fetched = self._fetch([self._blocks[c][self._index[fid]].region for c, fid in wanted])
        tasks: list[Callable[[], pa.Array]] = [
            functools.partial(self._decode, c, fid, data, fid in as_dict)
            for (c, fid), data in zip(wanted, fetched, strict=True)
        ]
        small = sum(self._chunk_rows[c] for c in picked) * len(fids) < INLINE_VALUES
        arrays = [t() for t in tasks] if small else run_all(tasks)
        columns = []
        for j, fid in enumerate(fids):
            parts = arrays[j :: len(fids)] if fids else []
            kind = dictionary_type(self._types[fid]) if fid in as_dict else self._types[fid]
            columns.append(pa.chunked_array(parts, type=kind))
        return pa.table(columns, names=[str(fid) for fid in fids]) if fids else pa.table({})

    def _decode(
        self, chunk: int, field_id: int, data: memoryview, as_dictionary: bool = False
    ) -> pa.Array:
        block = self._blocks[chunk][self._index[field_id]]
        self._verify(data, block.region, field_id, chunk, "column block")
        stats = self.chunk_stats(chunk, field_id)
        try:
            arr = decode_block(
                data,
                block.meta,
                self._types[field_id],
                self._phys[field_id],
                stats.null_count,
                as_dictionary,
            )
        except (
            StorageError,
            ValueError,
            KeyError,
            TypeError,
            IndexError,
            pa.ArrowException,
        ) as exc:
            raise StorageError(
                f"cannot decode block (file={self.path}, column={field_id}, chunk={chunk}): {exc}"
            ) from exc
        if len(arr) != self._chunk_rows[chunk]:
            raise StorageError(
                f"block decoded {len(arr)} rows, expected {self._chunk_rows[chunk]} (file={self.path})"
            )
        return arr

    def _fetch(self, regions: Sequence[_Region]) -> list[memoryview]:
        """Read the regions with few requests (nearby regions share one read)."""
        order = sorted(range(len(regions)), key=lambda i: regions[i].offset)
        out: list[memoryview | None] = [None] * len(regions)
        i = 0
        while i < len(order):
            j = i
            start = regions[order[i]].offset
            end = start + regions[order[i]].length
            while j + 1 < len(order) and regions[order[j + 1]].offset <= end + COALESCE_GAP:
                j += 1
                nxt = regions[order[j]]
                end = max(end, nxt.offset + nxt.length)
            data = self._source.read_at(end - start, start)
            view = memoryview(data)
            for k in order[i : j + 1]:
                r = regions[k]
                out[k] = view[r.offset - start : r.offset - start + r.length]
            i = j + 1
        return [v if v is not None else memoryview(b"") for v in out]

    def _check_field(self, field_id: int) -> int:
        if field_id not in self._index:
            raise InvalidDataError(
                f"field id {field_id} is not stored in {self.path}; stored: {list(self.field_ids)}"
            )
        return field_id

    def _check_chunk(self, chunk: int) -> int:
        if not 0 <= chunk < self.num_chunks:
            raise InvalidDataError(
                f"chunk {chunk} out of range 0..{self.num_chunks - 1} in {self.path}"
            )
        return chunk


def _describe(meta: Meta) -> str:
    """Encoding name, descending into single-child wrappers (scaled, dec64)."""
    name = str(meta["e"])
    children = meta.get("c", [])
    if name in ("scaled", "dec64", "dec128") and children:
        return f"{name}:{_describe(children[0])}" if name != "dec64" else _describe(children[0])
    return name


def _region(entry: dict[str, Any]) -> _Region:
    return _Region(int(entry["o"]), int(entry["l"]), int(entry["h"]))


def _parse_block(entry: dict[str, Any]) -> _Block:
    bloom = entry.get("bf")
    return _Block(
        region=_region(entry),
        meta={k: entry[k] for k in ("v", "r", "z", "enc")},
        stats_json=entry["s"],
        bloom=None if bloom is None else _region(bloom),
        bloom_params=(0, 0) if bloom is None else (int(bloom["m"]), int(bloom["k"])),
    )
