"""Sending batches to ingest actors, with retry on a dead actor.

A batch is put in the object store once; the driver keeps its reference until
the batch is written, so after an actor dies the same batch is sent to the
next actor (Ray restarts the dead one).  Writing is idempotent: a second
attempt writes new files and the first attempt's files, never committed, are
orphans that vacuum removes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import ray
from ray.exceptions import GetTimeoutError, ObjectLostError, RayActorError, RayTaskError

from hasivu_compute._core.errors import HasivuError, IngestError
from hasivu_compute.runtime import waits
from hasivu_compute.runtime.values import WrittenBatch

# Errors that mean "the worker (or the node holding its result) went away", not
# "the input is bad": the work is safe to send again.
ACTOR_FAILURES: tuple[type[BaseException], ...] = (RayActorError, ObjectLostError)
try:  # present in recent Ray: an actor that is restarting, or one pinned to a node
    # that is gone (shards use hard node affinity, see session.spread_strategy)
    from ray.exceptions import ActorUnavailableError, ActorUnschedulableError

    ACTOR_FAILURES = (*ACTOR_FAILURES, ActorUnavailableError, ActorUnschedulableError)
except ImportError:  # pragma: no cover - older Ray
    pass


def unwrap_task_error(exc: RayTaskError) -> BaseException:
    """The user-facing error inside a Ray task failure (our typed errors pass through)."""
    cause = exc.cause
    if isinstance(cause, HasivuError):
        return cause
    return exc


@dataclass(slots=True)
class _Attempt:
    index: int
    batch: ray.ObjectRef
    result: ray.ObjectRef
    actor: int
    attempts: int


class ActorBatchWriter:
    """A :class:`~hasivu_compute.runtime.ingest_pipeline.BatchWriter` over ingest actors.

    Args:
        actors: ingest actor handles (batches go round-robin by index).
        table: table name.
        discard: deletes written files that will never be committed.
        max_attempts: attempts per batch before giving up with :class:`IngestError`.
        timeout_s: longest wait for one attempt.
    """

    def __init__(
        self,
        actors: list[Any],
        table: str,
        discard: Callable[[Sequence[Any]], None],
        max_attempts: int = 4,
        timeout_s: float = 600.0,
    ) -> None:
        self._actors = actors
        self._table = table
        self._discard = discard
        self._max_attempts = max_attempts
        self._timeout = timeout_s
        self.retries = 0

    def _send(self, attempt: _Attempt) -> None:
        actor = self._actors[attempt.actor % len(self._actors)]
        attempt.result = actor.call.remote("write", self._table, attempt.index, attempt.batch)

    def submit(self, index: int, batch: pa.Table) -> _Attempt:
        """Put the batch in the object store and send it to an actor."""
        attempt = _Attempt(index, ray.put(batch), None, index, 1)  # type: ignore[arg-type]
        self._send(attempt)
        return attempt

    def discard(self, files: Sequence[Any]) -> None:
        """Delete written files that will never be committed (best effort)."""
        if files:
            self._discard(files)

    def done(self, handle: _Attempt) -> bool:
        """Whether the attempt has finished (successfully or not)."""
        ready, _ = ray.wait([handle.result], timeout=0)
        return bool(ready)

    def result(self, handle: _Attempt) -> WrittenBatch:
        """The written files; re-sends the batch to the next actor if its actor died."""
        while True:
            try:
                return waits.get(handle.result, timeout_s=self._timeout)  # type: ignore[no-any-return]
            except ACTOR_FAILURES as exc:
                if handle.attempts >= self._max_attempts:
                    raise IngestError(
                        f"batch {handle.index} of {self._table!r} failed on "
                        f"{handle.attempts} ingest actors; nothing of it was committed: {exc}"
                    ) from exc
                self.retries += 1
                handle.attempts += 1
                handle.actor += 1
                self._send(handle)
            except RayTaskError as exc:
                raise unwrap_task_error(exc) from None
            except GetTimeoutError as exc:
                raise IngestError(
                    f"batch {handle.index} of {self._table!r} took more than {self._timeout}s"
                ) from exc
