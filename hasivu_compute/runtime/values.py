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
        duplicate: the call's key was already committed with the same rows: nothing
            was written.
    """

    table: str
    version: int
    rows: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class WrittenBatch:
    """Files written for one batch of a call, not yet committed (a picklable value)."""

    index: int
    files: tuple[Any, ...]
    rows: int


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ``ingest`` call did.

    Attributes:
        table: table name.
        rows: rows this call wrote (0 when it was recognised as already committed).
        version: the snapshot version that holds the call's rows (for a duplicate,
            the version that committed them first; None if nothing was ever committed).
        batches: batches this call wrote.
        producer_id: the producer id the call was recorded under (None: anonymous).
        sequence: the call's sequence under ``producer_id``.
        duplicate: the key was already committed with the same rows: nothing was
            written (a retried call).
        duplicate_rows: rows of the earlier commit of this call (when ``duplicate``).
        digest: content digest of the call's rows (what a retry is compared by).
        seconds: wall time of the call.
        lsn: for a small call acknowledged from the table's write-ahead log, the log
            record that holds it (its rows are in the next query's answer, and in a
            version once flushed: ``version`` is then None); None for a call written
            straight to segments.
    """

    table: str
    rows: int
    version: int | None
    batches: int
    producer_id: str | None
    sequence: int | None
    duplicate: bool
    duplicate_rows: int
    digest: str
    seconds: float
    lsn: int | None = None

    @property
    def rows_per_second(self) -> float:
        """Written rows per second of wall time."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0
