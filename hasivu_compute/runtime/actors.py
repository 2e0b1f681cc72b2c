"""Ray actor shells: each hosts one plain object and forwards method calls to it.

All behaviour lives in the plain classes (:class:`Coordinator`,
:class:`ShardWorker`, :class:`IngestWorker`), which unit tests drive without
Ray; a shell only adds what Ray needs to know: process id and node for
fault-injection tests, restart policy and placement (set at creation).
"""

from __future__ import annotations

import gc
import os
from typing import Any

import ray


class _Host:
    """Builds ``cls(*args, **kwargs)`` in the actor process and forwards calls to it."""

    def __init__(self, cls: type, *args: Any, **kwargs: Any) -> None:
        self._obj = cls(*args, **kwargs)
        # An actor starts with ~120K long-lived objects (Ray, Arrow, sqlglot, our modules)
        # that every full collection would rescan: 50-100 ms during which the actor
        # answers nothing (it was the p99 of small-write acks). Moving them out of the
        # collector's reach once, after start-up, keeps full collections to what the
        # actor allocates later; they never become garbage, so nothing is kept that
        # would otherwise be freed.
        gc.collect()
        gc.freeze()

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``obj.method(*args, **kwargs)`` inside the actor."""
        return getattr(self._obj, method)(*args, **kwargs)

    def pid(self) -> int:
        """The actor's worker process id."""
        return os.getpid()

    def node_id(self) -> str:
        """The Ray node the actor runs on."""
        return str(ray.get_runtime_context().get_node_id())


@ray.remote
class CoordinatorActor(_Host):
    """Hosts the :class:`~hasivu_compute.runtime.coordinator.Coordinator`."""


@ray.remote
class ShardActor(_Host):
    """Hosts a :class:`~hasivu_compute.runtime.shard.ShardWorker`."""


@ray.remote
class IngestActor(_Host):
    """Hosts an :class:`~hasivu_compute.runtime.ingest.IngestWorker`."""


@ray.remote
class BackgroundActor(_Host):
    """Hosts the coordinator's :class:`~hasivu_compute.runtime.background.BackgroundWorker`."""
