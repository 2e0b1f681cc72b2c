"""Tables: snapshots, manifests, commits, time travel, schema evolution, maintenance."""

from __future__ import annotations

from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.maintenance import VacuumResult, VerifyReport
from hasivu_compute.table.metadata import CommitResult, DataFile, Snapshot
from hasivu_compute.table.table import Table
from hasivu_compute.table.validate import validate_batch

__all__ = [
    "Catalog",
    "CommitResult",
    "DataFile",
    "Snapshot",
    "Table",
    "VacuumResult",
    "VerifyReport",
    "validate_batch",
]
