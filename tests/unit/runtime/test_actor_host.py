"""The actor shell without Ray: it builds its object and takes start-up objects out of
full garbage collections (they were a 50-100 ms pause in every actor)."""

from __future__ import annotations

import gc

from hasivu_compute.runtime.actors import _Host


class _Counter:
    def __init__(self, start: int) -> None:
        self.value = start

    def add(self, n: int) -> int:
        self.value += n
        return self.value


def test_the_host_builds_its_object_forwards_calls_and_freezes_the_start_up_heap() -> None:
    gc.unfreeze()
    try:
        before = gc.get_freeze_count()
        host = _Host(_Counter, 5)
        assert host.call("add", 2) == 7 and host.call("add", n=1) == 8
        frozen = gc.get_freeze_count()
        assert before == 0 and frozen > 10_000, "the imported modules' objects are frozen"
        assert len(gc.get_objects()) < frozen, "full collections scan fewer objects than before"
    finally:
        gc.unfreeze()
