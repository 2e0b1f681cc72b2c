"""Shard workers: run plan fragments over the partitions they own, from a hot column cache.

:class:`ShardWorker` is the plain class inside each shard actor.  It reads
segment columns through :class:`CachedReader`, which keeps decoded columns in a
byte-budgeted LRU (segments are immutable, so a cached column never goes stale)
and counts what a fragment touched, for ``explain(analyze=True)``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from hasivu_compute.runtime.cache import CacheStats, ColumnCache
from hasivu_compute.runtime.coordinator import open_catalog
from hasivu_compute.runtime.fragments import FragmentDecoder
from hasivu_compute.runtime.tablelog import Piece


@dataclass(frozen=True, slots=True)
class FragmentStats:
    """What one fragment did on one shard (a picklable value).

    Attributes:
        shard: shard index.
        seconds: wall time of the fragment on the shard.
        files: segment files read.
        rows_scanned: rows of the columns read (before filters).
        bytes_scanned: decoded bytes of the columns read.
        bytes_from_storage: decoded bytes that were not in the cache (I/O + decode).
        rows_out: rows of the partial result.
        cache_hits / cache_misses: column lookups answered / not answered by the cache.
        pid: shard process id.
    """

    shard: int
    seconds: float
    files: int
    rows_scanned: int
    bytes_scanned: int
    bytes_from_storage: int
    rows_out: int
    cache_hits: int
    cache_misses: int
    pid: int


class _Counters:
    __slots__ = ("bytes", "files", "hits", "misses", "rows", "storage_bytes")

    def __init__(self) -> None:
        self.files = self.rows = self.bytes = self.storage_bytes = self.hits = self.misses = 0


class CachedReader:
    """Reads segment columns by current name, through a shared :class:`ColumnCache`.

    Args:
        catalog: the catalog the tables live in.
        cache: the shard's column cache.
    """

    def __init__(self, catalog: Any, cache: ColumnCache) -> None:
        self._catalog = catalog
        self._cache = cache
        self._tables: dict[str, Any] = {}
        # (table, version) -> (snapshot, paths of its live files)
        self._snapshots: dict[tuple[str, int], tuple[Any, frozenset[str]]] = {}
        self._lock = threading.Lock()
        self.counters = _Counters()
        self.blocks: dict[Any, pa.Table] = {}  # buffer blocks of the fragment being run

    def reset_counters(self) -> _Counters:
        """Start counting a new fragment; returns the counters of the previous one."""
        old, self.counters = self.counters, _Counters()
        return old

    def _table(self, name: str) -> Any:
        with self._lock:
            table = self._tables.get(name)
        if table is None:
            table = self._catalog.load_table(name)
            with self._lock:
                self._tables[name] = table
        return table

    def _forget_handle(self, name: str) -> None:
        with self._lock:
            self._tables.pop(name, None)

    def forget_table(self, name: str) -> None:
        """Drop cached table handles and snapshots of ``name`` (after a drop)."""
        self._forget_handle(name)
        with self._lock:
            for key in [k for k in self._snapshots if k[0] == name]:
                del self._snapshots[key]

    def snapshot(self, name: str, version: int | None, path: str | None = None) -> Any:
        """Snapshot ``version`` of table ``name``, holding data file ``path`` if given.

        Snapshots are immutable, so they are cached, but ``(name, version)`` alone
        does not name one: a table dropped and re-created by another connection
        (whose drop this shard never heard of) reaches the same versions with other
        content. Data file names are unique, so a cached snapshot that lacks the
        file a fragment reads is stale and is loaded again.
        """
        if version is None:
            return self._table(name).refresh()
        key = (name, version)
        with self._lock:
            cached = self._snapshots.get(key)
        if cached is not None and (path is None or path in cached[1]):
            return cached[0]
        if cached is not None:  # the table was re-created: its old handle caches old manifests
            self._forget_handle(name)
        try:
            snap = self._table(name).snapshot(version)
        except Exception:  # a handle loaded before this version existed: reload once
            self._forget_handle(name)
            snap = self._table(name).snapshot(version)
        paths = frozenset(f.path for f in snap.data_files)
        with self._lock:
            self._snapshots[key] = (snap, paths)
        return snap

    def read(
        self,
        table: str,
        version: int | None,
        scan_file: Any,
        columns: Sequence[str],
        dictionary: frozenset[str] = frozenset(),
    ) -> pa.Table:
        """Columns ``columns`` (current names) of one data file at snapshot ``version``,
        only its surviving chunks (``scan_file.chunks``; None = all); string columns in
        ``dictionary`` dictionary-typed (cached apart from their plain form)."""
        from hasivu_compute.table.reading import read_segment

        data_file = scan_file.file
        if isinstance(data_file, Piece):
            return self._read_piece(data_file, columns, dictionary)
        columns = list(columns)
        snap = self.snapshot(table, version, data_file.path)
        schema = snap.schema
        chunk_key = None if scan_file.chunks is None else tuple(scan_file.chunks)
        keys = [
            (table, data_file.path, schema.schema_id, c, chunk_key, c in dictionary)
            for c in columns
        ]
        found = {c: self._cache.get(k) for c, k in zip(columns, keys, strict=True)}
        missing = [c for c in columns if found[c] is None]
        counters = self.counters
        counters.files += 1
        counters.hits += len(columns) - len(missing)
        counters.misses += len(missing)
        if missing:
            reader = self._table(table).open_segment(data_file)
            fresh = read_segment(
                reader, schema, missing, chunk_key, [c for c in missing if c in dictionary]
            )
            for name in missing:
                value = fresh.column(name)
                found[name] = value
                self._cache.put(keys[columns.index(name)], value)
                counters.storage_bytes += value.nbytes
        fields = [schema.field(c).to_arrow() for c in columns]
        fields = [f.with_type(found[f.name].type) for f in fields]  # dictionary form kept
        out = pa.Table.from_arrays([found[c] for c in columns], schema=pa.schema(fields))
        counters.rows += out.num_rows
        counters.bytes += out.nbytes
        return out

    def _read_piece(
        self, piece: Piece, columns: Sequence[str], dictionary: frozenset[str]
    ) -> pa.Table:
        """Rows of a table's write-ahead log buffer (a slice of a block the query sent)."""
        block = self.blocks[piece.block].slice(piece.offset, piece.num_rows)
        out = block.select(list(columns))
        for name in dictionary:
            if name in out.column_names and not pa.types.is_dictionary(out.schema.field(name).type):
                i = out.column_names.index(name)
                out = out.set_column(i, name, out.column(i).dictionary_encode())
        counters = self.counters
        counters.files += 1
        counters.rows += out.num_rows
        counters.bytes += out.nbytes
        return out


class ShardWorker:
    """Runs fragments (the body of a shard actor).

    Args:
        data_uri: where the tables live.
        cache_bytes: hot column budget of this shard.
        storage_options: extra FileIO options.
        index: this shard's index on the ring.
    """

    def __init__(
        self,
        data_uri: str,
        cache_bytes: int,
        storage_options: dict[str, Any] | None = None,
        index: int = 0,
    ) -> None:
        self.index = index
        self._cache = ColumnCache(cache_bytes)
        self.reader = CachedReader(open_catalog(data_uri, storage_options), self._cache)
        self.fragments_run = 0
        self._decoder = FragmentDecoder()

    def pid(self) -> int:
        """The OS process id (fault-injection tests kill it)."""
        return os.getpid()

    def forget_table(self, name: str) -> None:
        """Forget snapshots of a dropped table (its re-creation restarts at version 1)."""
        self.reader.forget_table(name)

    def cache_stats(self) -> CacheStats:
        """Size and counters of the hot column cache."""
        return self._cache.stats()

    def run_encoded(
        self,
        payload: bytes,
        blocks: dict[Any, Any] | None = None,
        broadcasts: dict[int, Any] | None = None,
    ) -> tuple[pa.Table, FragmentStats]:
        """Run a fragment sent as bytes (``runtime.fragments.encode_fragment``); a repeated
        query's fragment is unpickled once per shard, not on every call (~0.65 ms each).

        ``blocks`` are the write-ahead log buffer blocks its pieces read, ``broadcasts``
        the answers of its broadcast joins' right sides (both object-store references,
        read here without a copy)."""
        self.reader.blocks = _resolve(blocks or {})
        try:
            return self.run(self._decoder.decode(payload), _resolve(broadcasts or {}))
        finally:
            self.reader.blocks = {}

    def run(
        self, fragment: Any, broadcasts: dict[Any, pa.Table] | None = None
    ) -> tuple[pa.Table, FragmentStats]:
        """Run one fragment; returns its partial result and what it touched."""
        from hasivu_compute.runtime.fragments import run_on_reader

        started = time.perf_counter()
        self.reader.reset_counters()
        out = run_on_reader(fragment, self.reader, broadcasts)
        c = self.reader.counters
        self.fragments_run += 1
        stats = FragmentStats(
            shard=self.index,
            seconds=time.perf_counter() - started,
            files=c.files,
            rows_scanned=c.rows,
            bytes_scanned=c.bytes,
            bytes_from_storage=c.storage_bytes,
            rows_out=out.num_rows,
            cache_hits=c.hits,
            cache_misses=c.misses,
            pid=os.getpid(),
        )
        return out, stats


def _resolve(blocks: dict[Any, Any]) -> dict[Any, pa.Table]:
    """Buffer blocks by id: object-store references fetched (zero-copy), tables as they are."""
    if not blocks:
        return {}
    import ray

    refs = {k: v for k, v in blocks.items() if isinstance(v, ray.ObjectRef)}
    out = dict(blocks)
    if refs:
        out.update(zip(refs, ray.get(list(refs.values())), strict=True))
    return out
