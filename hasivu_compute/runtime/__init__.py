"""The Ray runtime: the only package that imports ray.

Plain classes (driven by unit tests without Ray): :class:`Coordinator`,
:class:`ShardWorker`, :class:`IngestWorker`, :class:`HashRing`,
:class:`IngestPipeline`; their actor shells live in :mod:`.actors`;
:class:`Runtime` (what ``hc.connect()`` builds) and :class:`QueryRunner`
(scatter/gather) use them.
"""

from __future__ import annotations

from hasivu_compute.runtime.cache import ColumnCache
from hasivu_compute.runtime.coordinator import Coordinator
from hasivu_compute.runtime.ingest import IngestWorker
from hasivu_compute.runtime.ingest_pipeline import IngestPipeline
from hasivu_compute.runtime.query import QueryResult, QueryRunner, QueryStats
from hasivu_compute.runtime.ring import HashRing
from hasivu_compute.runtime.session import Runtime
from hasivu_compute.runtime.shard import FragmentStats, ShardWorker
from hasivu_compute.runtime.values import CommitAck, IngestResult, WrittenBatch

__all__ = [
    "ColumnCache",
    "CommitAck",
    "Coordinator",
    "FragmentStats",
    "HashRing",
    "IngestPipeline",
    "IngestResult",
    "IngestWorker",
    "QueryResult",
    "QueryRunner",
    "QueryStats",
    "Runtime",
    "ShardWorker",
    "WrittenBatch",
]
