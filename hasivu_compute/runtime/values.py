"""Picklable result values passed between the driver and the actors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CommitAck:
    """What the coordinator answers for one commit (a picklable value).

    Attributes:
        table: table name.
        version: the snapshot version that holds the batch (the existing one for a duplicate).
        rows: rows added by this commit (0 for a duplicate).
        duplicate: the (producer, sequence) was already committed: nothing was written.
    """

    table: str
    version: int
    rows: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class WrittenBatch:
    """Files written for one batch, not yet committed (a picklable value)."""

    sequence: int
    files: tuple[Any, ...]
    rows: int


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ``ingest`` call did.

    Attributes:
        table: table name.
        rows: rows committed by this call (excluding batches already committed before).
        version: the table's snapshot version after the call (None if nothing was ever committed).
        batches: batches committed by this call.
        skipped_batches: batches recognised as already committed (a retried call).
        skipped_rows: rows of those batches.
        producer_id: the producer id the batches were recorded under.
        seconds: wall time of the call.
    """

    table: str
    rows: int
    version: int | None
    batches: int
    skipped_batches: int
    skipped_rows: int
    producer_id: str
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Committed rows per second of wall time."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0
