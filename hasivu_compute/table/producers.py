"""Ingest keys: which calls of each producer a table holds, so none is lost or applied twice.

A producer numbers its calls: ``(producer_id, sequence)`` names one call, and
the commit that makes the call's rows visible records the key with a digest of
the rows (:mod:`hasivu_compute.table.digest`) in the same snapshot. Later calls
under the same key are then answered from the record:

* the same rows again (a retry, however it was batched): a duplicate, nothing
  is written, and the answer names the version that holds them;
* other rows: :class:`IngestKeyConflictError`, nothing is written. Reusing a
  key is a producer bug (a restarted counter, a shared id) and must never make
  new data vanish silently.

Calls may arrive out of order and with gaps (several threads of one producer):
the record keeps every committed call among the producer's ``KEPT_CALLS``
highest sequences, so a sequence in that window is known exactly (committed
or not). A sequence below the window cannot be told apart from a retry of a
long-forgotten call, and is refused too.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hasivu_compute._core.errors import IngestKeyConflictError

KEPT_CALLS = 32


@dataclass(frozen=True, slots=True)
class CallKey:
    """One ingest call's identity and content.

    Attributes:
        producer_id: the producer (a POS feed, a job).
        sequence: the producer's number for this call (>= 0).
        digest: :class:`~hasivu_compute.table.digest.CallDigest` of the call's rows.
        rows: rows in the call.
    """

    producer_id: str
    sequence: int
    digest: str
    rows: int


@dataclass(frozen=True, slots=True)
class CommittedCall:
    """A call a snapshot records: its sequence, digest, rows and the version that added it."""

    sequence: int
    digest: str
    rows: int
    version: int

    def to_json(self) -> list[Any]:
        """``[sequence, digest, rows, version]``."""
        return [self.sequence, self.digest, self.rows, self.version]

    @classmethod
    def from_json(cls, obj: list[Any]) -> CommittedCall:
        """Inverse of :meth:`to_json`."""
        return cls(int(obj[0]), str(obj[1]), int(obj[2]), int(obj[3]))


@dataclass(frozen=True, slots=True)
class ProducerRecord:
    """What a snapshot knows of one producer.

    Attributes:
        last: highest sequence ever committed (-1: none).
        calls: the committed calls among the highest ``KEPT_CALLS`` sequences, ascending.
    """

    last: int = -1
    calls: tuple[CommittedCall, ...] = ()

    def find(self, sequence: int) -> CommittedCall | None:
        """The committed call with ``sequence``, if the record still holds it."""
        seqs = [c.sequence for c in self.calls]
        i = bisect.bisect_left(seqs, sequence)
        if i < len(seqs) and seqs[i] == sequence:
            return self.calls[i]
        return None

    def lookup(
        self, producer_id: str, sequence: int, table: str, kept: int = KEPT_CALLS
    ) -> CommittedCall | None:
        """The committed call with ``sequence`` (None: never committed).

        Raises:
            IngestKeyConflictError: ``sequence`` is below the calls this record keeps,
                so whether it was committed cannot be told.
        """
        found = self.find(sequence)
        if found is None and len(self.calls) >= kept and sequence < self.calls[0].sequence:
            raise IngestKeyConflictError(
                f"table {table!r}: producer {producer_id!r} call {sequence} is older "
                f"than the {kept} most recent calls this table remembers (from "
                f"{self.calls[0].sequence}, last {self.last}), so a retry of it cannot be told "
                "from new data; nothing was written. Send new data under a new sequence",
                producer_id=producer_id,
                sequence=sequence,
                version=None,
            )
        return found

    def check(self, key: CallKey, table: str, kept: int = KEPT_CALLS) -> CommittedCall | None:
        """The committed call ``key`` repeats (None: the call is new).

        Raises:
            IngestKeyConflictError: the key was used for other rows, or is too old
                to tell.
        """
        found = self.lookup(key.producer_id, key.sequence, table, kept)
        if found is not None and (found.digest != key.digest or found.rows != key.rows):
            raise key_conflict(
                key, table, found.rows, f"committed in version {found.version}", found.version
            )
        return found

    def with_call(self, call: CommittedCall, kept: int = KEPT_CALLS) -> ProducerRecord:
        """The record after committing ``call`` (keeps the ``kept`` highest sequences)."""
        others = (c for c in self.calls if c.sequence != call.sequence)
        calls = sorted((*others, call), key=lambda c: c.sequence)
        return ProducerRecord(max(self.last, call.sequence), tuple(calls[-kept:]))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"last": self.last, "calls": [c.to_json() for c in self.calls]}

    @classmethod
    def from_json(cls, obj: object) -> ProducerRecord:
        """Inverse of :meth:`to_json`; a bare int is a record of the older format
        (the last committed *batch* position, unrelated to call sequences)."""
        if isinstance(obj, int):
            return cls(last=-1, calls=())
        assert isinstance(obj, Mapping)
        return cls(int(obj["last"]), tuple(CommittedCall.from_json(c) for c in obj["calls"]))


def key_conflict(
    key: CallKey, table: str, rows: int, where: str, version: int | None = None
) -> IngestKeyConflictError:
    """The error for a call whose key was used for other rows (``where``: "committed in
    version 4", "acknowledged, not yet flushed")."""
    return IngestKeyConflictError(
        f"table {table!r}: producer {key.producer_id!r} call {key.sequence} was {where} "
        f"with other data ({rows} rows, this call has {key.rows}); nothing was written. "
        "Number each call of a producer with its own sequence (a retry must resend the "
        "same rows)",
        producer_id=key.producer_id,
        sequence=key.sequence,
        version=version,
    )


__all__ = ["KEPT_CALLS", "CallKey", "CommittedCall", "ProducerRecord", "key_conflict"]
