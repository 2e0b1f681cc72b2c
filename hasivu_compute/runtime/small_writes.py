"""The driver side of a small ingest call: validate, digest, one coordinator call.

A call of at most ``HASIVU_LOG_MAX_CALL_ROWS`` rows given as one table is
validated here (errors name the caller's column and row) and sent to the
coordinator, which acknowledges it once it is durable in the table's
write-ahead log (see :mod:`hasivu_compute.runtime.tablelog`). The next query
sees its rows; a flush later writes them as segments.

A keyed call is retried across a coordinator restart: the restarted
coordinator replays the log, so a call that was already durable is recognised
by its key. An anonymous call is not retried (its first attempt may have
landed); the error says so and how to make the call safe to retry.
"""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa

from hasivu_compute._core.errors import ClusterError
from hasivu_compute.runtime.tablelog import LogAck, SchemaChangedError
from hasivu_compute.runtime.values import IngestResult
from hasivu_compute.table.digest import digest_of
from hasivu_compute.table.producers import CallKey
from hasivu_compute.table.validate import validate_batch

SCHEMA_RETRIES = 3


def ingest_small(
    runtime: Any, name: str, data: pa.Table, producer_id: str | None, sequence: int | None
) -> IngestResult:
    """Append one small call through the table's log (see the module docstring).

    Raises:
        SchemaMismatchError / InvalidDataError: the rows do not fit; nothing written.
        IngestKeyConflictError: the key holds other rows; nothing written.
        ClusterError: the coordinator failed an anonymous call (it may have landed).
    """
    started = time.perf_counter()
    for attempt in range(SCHEMA_RETRIES):
        snapshot = runtime.current_snapshot(name)
        valid = validate_batch(snapshot.schema, data)
        digest = digest_of(valid)
        key = None
        if producer_id is not None and sequence is not None:
            key = CallKey(producer_id, sequence, digest, valid.num_rows)
        try:
            ack = _send(runtime, name, key, valid, snapshot.schema.schema_id)
        except SchemaChangedError:
            if attempt + 1 == SCHEMA_RETRIES:
                raise
            continue
        return _result(name, ack, producer_id, sequence, digest, started)
    raise AssertionError("unreachable")  # pragma: no cover


def _send(runtime: Any, name: str, key: CallKey | None, data: pa.Table, schema_id: int) -> LogAck:
    try:
        ack: LogAck = runtime.call_coordinator(
            "append_small", name, key, data, schema_id, retry=key is not None
        )
    except ClusterError as exc:
        if key is not None:
            raise
        raise ClusterError(
            f"the coordinator failed while writing {data.num_rows} rows into {name!r}; the "
            "call may or may not have been applied (it had no producer_id). Send calls with "
            "producer_id and sequence to make retries exactly-once"
        ) from exc
    return ack


def _result(
    name: str,
    ack: LogAck,
    producer_id: str | None,
    sequence: int | None,
    digest: str,
    started: float,
) -> IngestResult:
    return IngestResult(
        table=name,
        rows=0 if ack.duplicate else ack.rows,
        version=ack.version,
        batches=0 if ack.duplicate else 1,
        producer_id=producer_id,
        sequence=sequence,
        duplicate=ack.duplicate,
        duplicate_rows=ack.rows if ack.duplicate else 0,
        digest=digest,
        seconds=time.perf_counter() - started,
        lsn=ack.lsn,
    )


__all__ = ["ingest_small"]
