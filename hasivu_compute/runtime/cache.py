"""Byte-budgeted LRU cache of decoded columns, kept by each shard.

A warm query should do no I/O and no decompression: shards keep the columns they
decoded, keyed by (file, schema id, column, chunks), until the byte budget is
spent; the least recently used entries go first.  Segment files are immutable,
so an entry never goes stale; it only becomes unreachable when its file is
vacuumed, and then ages out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of one cache (since creation)."""

    entries: int
    bytes: int
    budget: int
    hits: int
    misses: int
    evictions: int


def _nbytes(value: pa.Array | pa.ChunkedArray) -> int:
    return int(value.nbytes)


class ColumnCache:
    """LRU of Arrow column values under a byte budget (thread-safe).

    Args:
        budget_bytes: the most bytes kept; 0 disables caching.
    """

    def __init__(self, budget_bytes: int) -> None:
        if budget_bytes < 0:
            raise ValueError(f"cache budget must be >= 0 bytes, got {budget_bytes}")
        self._budget = budget_bytes
        self._entries: OrderedDict[Hashable, tuple[pa.Array | pa.ChunkedArray, int]] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> pa.Array | pa.ChunkedArray | None:
        """The cached value (and mark it recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return entry[0]

    def put(self, key: Hashable, value: pa.Array | pa.ChunkedArray) -> None:
        """Keep ``value``; evict least recently used entries to stay within budget."""
        size = _nbytes(value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self._budget:
                return  # larger than the whole budget: caching it would evict everything
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self._budget:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
                self._evictions += 1

    def clear(self) -> None:
        """Drop every entry (counters are kept)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def stats(self) -> CacheStats:
        """Current size and counters."""
        with self._lock:
            return CacheStats(
                entries=len(self._entries),
                bytes=self._bytes,
                budget=self._budget,
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
            )
