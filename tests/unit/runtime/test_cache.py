"""The shard column cache keeps recently used columns under a byte budget."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute.runtime.cache import ColumnCache


def _col(n: int) -> pa.Array:
    return pa.array(range(n), pa.int64())  # 8 bytes per value


def test_hit_and_miss_are_counted() -> None:
    cache = ColumnCache(1_000)
    assert cache.get("a") is None
    cache.put("a", _col(10))
    assert cache.get("a").equals(_col(10))
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.bytes) == (1, 1, 1, 80)


def test_least_recently_used_is_evicted_first() -> None:
    cache = ColumnCache(200)  # room for two 80-byte columns
    cache.put("a", _col(10))
    cache.put("b", _col(10))
    cache.get("a")  # a is now more recent than b
    cache.put("c", _col(10))
    assert cache.get("b") is None, "b was least recently used and must be evicted"
    assert cache.get("a") is not None and cache.get("c") is not None
    assert cache.stats().bytes <= 200
    assert cache.stats().evictions == 1


def test_value_larger_than_budget_is_not_kept() -> None:
    cache = ColumnCache(100)
    cache.put("a", _col(5))
    cache.put("big", _col(100))
    assert cache.get("big") is None
    assert cache.get("a") is not None, "an oversized value must not flush the cache"


def test_zero_budget_disables_and_negative_is_rejected() -> None:
    cache = ColumnCache(0)
    cache.put("a", _col(1))
    assert cache.get("a") is None
    with pytest.raises(ValueError):
        ColumnCache(-1)


def test_replacing_a_key_keeps_byte_count_exact() -> None:
    cache = ColumnCache(1_000)
    cache.put("a", _col(10))
    cache.put("a", _col(20))
    assert cache.stats().bytes == 160
    cache.clear()
    assert cache.stats().bytes == 0
