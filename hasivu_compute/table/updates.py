"""Table changes as records: updates, requirements, and the pure ``apply``.

A commit is a tuple of update records plus a tuple of requirements (after
pyiceberg's ``table/update``). Requirements are checked against the latest
snapshot at publish time; if another committer got there first, the commit is
rebased: the requirements are checked again on the new latest snapshot and the
same updates applied to it. ``apply(update, snapshot) -> snapshot`` is pure, so a
rebase is just a second fold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from hasivu_compute._core.errors import CommitConflictError, SchemaMismatchError
from hasivu_compute.schema.schema import Field, TableSchema
from hasivu_compute.table.metadata import DataFile, Snapshot
from hasivu_compute.table.producers import CallKey, CommittedCall, ProducerRecord

# --- updates ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddDataFiles:
    """Add segment files (an append, or the new half of a rewrite)."""

    files: tuple[DataFile, ...]


@dataclass(frozen=True, slots=True)
class RemoveDataFiles:
    """Remove segment files from the live set (rewrite, delete); files stay until vacuum."""

    paths: frozenset[str]


@dataclass(frozen=True, slots=True)
class RecordCall:
    """Record an ingest call's key and digest in its producer's record (same commit as its rows)."""

    key: CallKey


@dataclass(frozen=True, slots=True)
class SetLogLsn:
    """Record that the write-ahead log's rows up to ``lsn`` are in the table's files."""

    lsn: int


@dataclass(frozen=True, slots=True)
class AddColumn:
    """Add a nullable column; old files read it as nulls."""

    name: str
    type: pa.DataType
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RenameColumn:
    """Rename a column (data is stored by field id, so nothing is rewritten)."""

    field_id: int
    new_name: str


@dataclass(frozen=True, slots=True)
class DropColumn:
    """Drop a column; its id is never reused and old files keep the bytes until rewritten."""

    field_id: int


@dataclass(frozen=True, slots=True)
class WidenColumn:
    """Widen a column's type (int to a wider int, float32 to float64); old files are cast on read."""

    field_id: int
    new_type: pa.DataType


@dataclass(frozen=True, slots=True)
class SetSummary:
    """Summary entries describing the commit."""

    items: tuple[tuple[str, str], ...]


Update = (
    AddDataFiles
    | RemoveDataFiles
    | RecordCall
    | SetLogLsn
    | AddColumn
    | RenameColumn
    | DropColumn
    | WidenColumn
    | SetSummary
)

# --- requirements -------------------------------------------------------------------


class DuplicateCallError(CommitConflictError):
    """The call's ingest key is already committed with the same rows: the call is a retry.

    Appends catch it and acknowledge the call as a duplicate instead of failing.
    """

    def __init__(self, key: CallKey, committed: CommittedCall) -> None:
        super().__init__(
            f"producer {key.producer_id!r} call {key.sequence} is already committed "
            f"(version {committed.version})"
        )
        self.key = key
        self.committed = committed


class DuplicateAppendError(CommitConflictError):
    """An append's files are live already: its first attempt was published.

    Attributes:
        complete: every file is live (a plain retry); False means a broken state
            no committer produces (some files of one append live, others not).
    """

    def __init__(self, message: str, *, complete: bool) -> None:
        super().__init__(message)
        self.complete = complete


@dataclass(frozen=True, slots=True)
class AssertSchemaId:
    """The schema must not have changed since the files were written / the change was planned."""

    schema_id: int


@dataclass(frozen=True, slots=True)
class AssertCallNew:
    """The call's key must not be committed yet (see :meth:`ProducerRecord.check`)."""

    key: CallKey
    table: str = ""


@dataclass(frozen=True, slots=True)
class AssertFilesNew:
    """Files to be added must not be live yet: a retried commit whose first attempt was
    published (its reply lost) is recognised instead of adding the files twice."""

    paths: frozenset[str]


@dataclass(frozen=True, slots=True)
class AssertFilesLive:
    """Files to be removed must still be live (nobody removed them concurrently)."""

    paths: frozenset[str]


@dataclass(frozen=True, slots=True)
class AssertLogLsn:
    """The log position must still be ``lsn``: a flush never applies log rows twice."""

    lsn: int


@dataclass(frozen=True, slots=True)
class AssertVersion:
    """No commit at all may have happened since ``version`` (strictest requirement)."""

    version: int


Requirement = (
    AssertSchemaId | AssertCallNew | AssertFilesNew | AssertFilesLive | AssertLogLsn | AssertVersion
)


def check(requirement: Requirement, base: Snapshot) -> None:
    """Raise :class:`CommitConflictError` if ``requirement`` does not hold on ``base``."""
    if isinstance(requirement, AssertSchemaId):
        if base.schema.schema_id != requirement.schema_id:
            raise CommitConflictError(
                f"schema changed concurrently (expected schema {requirement.schema_id}, "
                f"table is at schema {base.schema.schema_id} in version {base.version}); "
                "validate the batch again and retry"
            )
    elif isinstance(requirement, AssertCallNew):
        key = requirement.key
        record = base.producers.get(key.producer_id, ProducerRecord())
        found = record.check(key, requirement.table)  # raises on a conflicting reuse
        if found is not None:
            raise DuplicateCallError(key, found)
    elif isinstance(requirement, AssertFilesNew):
        live = requirement.paths & frozenset(f.path for f in base.data_files)
        if live:
            raise DuplicateAppendError(
                f"{len(live)} of {len(requirement.paths)} file(s) are live already "
                f"(e.g. {min(live)}) in version {base.version}",
                complete=live == requirement.paths,
            )
    elif isinstance(requirement, AssertFilesLive):
        gone = sorted(requirement.paths - {f.path for f in base.data_files})
        if gone:
            raise CommitConflictError(
                f"{len(gone)} file(s) were removed concurrently (e.g. {gone[0]}) in version "
                f"{base.version}"
            )
    elif isinstance(requirement, AssertLogLsn):
        if base.log_lsn != requirement.lsn:
            raise CommitConflictError(
                f"the log was flushed concurrently (position {base.log_lsn}, expected "
                f"{requirement.lsn}) in version {base.version}"
            )
    elif base.version != requirement.version:
        raise CommitConflictError(
            f"table moved from version {requirement.version} to {base.version} concurrently"
        )


# --- apply --------------------------------------------------------------------------


def apply(update: Update, snapshot: Snapshot) -> Snapshot:
    """The snapshot with ``update`` applied (pure; raises on an invalid schema change)."""
    if isinstance(update, AddDataFiles):
        return dataclasses.replace(snapshot, data_files=snapshot.data_files + update.files)
    if isinstance(update, RemoveDataFiles):
        kept = tuple(f for f in snapshot.data_files if f.path not in update.paths)
        return dataclasses.replace(snapshot, data_files=kept)
    if isinstance(update, RecordCall):
        key = update.key
        producers = dict(snapshot.producers)
        record = producers.get(key.producer_id, ProducerRecord())
        call = CommittedCall(key.sequence, key.digest, key.rows, snapshot.version)
        producers[key.producer_id] = record.with_call(call)
        return dataclasses.replace(snapshot, producers=producers)
    if isinstance(update, SetLogLsn):
        return dataclasses.replace(snapshot, log_lsn=max(snapshot.log_lsn, update.lsn))
    if isinstance(update, SetSummary):
        summary = dict(snapshot.summary)
        summary.update(update.items)
        return dataclasses.replace(snapshot, summary=summary)
    return _apply_schema_change(update, snapshot)


def apply_all(updates: Iterable[Update], snapshot: Snapshot) -> Snapshot:
    """Fold :func:`apply` over ``updates``."""
    for update in updates:
        snapshot = apply(update, snapshot)
    return snapshot


def _with_fields(snapshot: Snapshot, fields: Iterable[Field], last_id: int) -> Snapshot:
    schema = TableSchema(tuple(fields), snapshot.schema.schema_id + 1)
    return dataclasses.replace(snapshot, schema=schema, last_column_id=last_id)


def _apply_schema_change(
    update: AddColumn | RenameColumn | DropColumn | WidenColumn, snapshot: Snapshot
) -> Snapshot:
    schema = snapshot.schema
    last_id = max(snapshot.last_column_id, schema.max_field_id())
    if isinstance(update, AddColumn):
        _require_free_name(schema, update.name)
        new = Field(last_id + 1, update.name, update.type, True, update.tags)
        return _with_fields(snapshot, (*schema.fields, new), last_id + 1)
    old = schema.by_id(update.field_id)
    if isinstance(update, RenameColumn):
        if update.new_name == old.name:
            return snapshot
        _require_free_name(schema, update.new_name)
        new = dataclasses.replace(old, name=update.new_name)
    elif isinstance(update, DropColumn):
        if old.id in snapshot.spec.source_ids():
            raise SchemaMismatchError(
                f"column {old.name!r} is a partition source and cannot be dropped", column=old.name
            )
        if len(schema.fields) == 1:
            raise SchemaMismatchError(f"cannot drop {old.name!r}, the only column", column=old.name)
        kept = [f for f in schema.fields if f.id != old.id]
        return _with_fields(snapshot, kept, last_id)
    else:
        if not is_widening(old.type, update.new_type):
            raise SchemaMismatchError(
                f"column {old.name!r}: {old.type} -> {update.new_type} is not a widening "
                "(allowed: int to a wider int, float32 to float64)",
                column=old.name,
            )
        new = dataclasses.replace(old, type=update.new_type)
    fields = [new if f.id == old.id else f for f in schema.fields]
    return _with_fields(snapshot, fields, last_id)


def _require_free_name(schema: TableSchema, name: str) -> None:
    if not name:
        raise SchemaMismatchError("a column name must not be empty")
    if schema.has(name):
        raise SchemaMismatchError(f"column {name!r} already exists", column=name)


def is_widening(old: pa.DataType, new: pa.DataType) -> bool:
    """Whether every ``old`` value is exactly representable as ``new`` (and types differ)."""
    if old == new:
        return False
    if pa.types.is_integer(old) and pa.types.is_integer(new):
        if pa.types.is_signed_integer(old) == pa.types.is_signed_integer(new):
            return bool(new.bit_width > old.bit_width)
        return pa.types.is_unsigned_integer(old) and bool(new.bit_width > old.bit_width)
    if pa.types.is_floating(old) and pa.types.is_floating(new):
        return bool(new.bit_width > old.bit_width)
    return False
