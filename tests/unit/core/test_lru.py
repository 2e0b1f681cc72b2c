"""The shared bounded LRU map (_core.lru.LruCache)."""

from __future__ import annotations

import pytest

from hasivu_compute._core.lru import LruCache


def test_capacity_evicts_least_recently_used() -> None:
    cache: LruCache[int] = LruCache(capacity=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_pop_and_clear() -> None:
    cache: LruCache[str] = LruCache(capacity=3)
    cache.put(1, "x")
    cache.put(2, "y")
    assert cache.pop(1) == "x" and cache.pop(1) is None
    cache.clear()
    assert len(cache) == 0 and cache.get(2) is None


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        LruCache(0)
