"""A table: snapshots over immutable segment files, changed only by commits.

Every change (append, rewrite, schema evolution) is a commit of update records
plus requirements (:mod:`hasivu_compute.table.updates`), published as the next
version's manifest with put-if-absent and rebased on conflict
(:mod:`hasivu_compute.table.commit`). Reads pick one snapshot and see exactly it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence

import pyarrow as pa

from hasivu_compute._core.errors import (
    CommitConflictError,
    IngestKeyConflictError,
    InvalidDataError,
    SchemaMismatchError,
    StorageError,
)
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.schema.storable import check_column_storable
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import SegmentReader, WriteOptions
from hasivu_compute.table import maintenance
from hasivu_compute.table.commit import DEFAULT_MAX_ATTEMPTS, commit
from hasivu_compute.table.compaction import CompactionPolicy, CompactionResult, compact_table
from hasivu_compute.table.digest import digest_of
from hasivu_compute.table.manifest import ManifestStore
from hasivu_compute.table.metadata import CommitResult, DataFile, Snapshot
from hasivu_compute.table.producers import CallKey, ProducerRecord
from hasivu_compute.table.reading import read_segment
from hasivu_compute.table.updates import (
    AddColumn,
    AddDataFiles,
    AssertCallNew,
    AssertFilesLive,
    AssertFilesNew,
    AssertLogLsn,
    AssertSchemaId,
    DropColumn,
    DuplicateAppendError,
    DuplicateCallError,
    RecordCall,
    RemoveDataFiles,
    RenameColumn,
    Requirement,
    SetLogLsn,
    SetSummary,
    Update,
    WidenColumn,
    apply_all,
)
from hasivu_compute.table.validate import BatchLike, validate_batch
from hasivu_compute.table.writing import DEFAULT_SEGMENT_ROWS, write_data_files


class Table:
    """One table in a folder (or S3 prefix) of its own; cheap to create, holds no locks.

    Args:
        name: table name.
        io: FileIO rooted at the table folder.
        write_options: segment encoding options for appends.
        segment_rows: split a partition's rows into segments of at most this many rows.
        max_commit_attempts: publishes to try before a commit gives up.
    """

    def __init__(
        self,
        name: str,
        io: FileIO,
        *,
        write_options: WriteOptions | None = None,
        segment_rows: int = DEFAULT_SEGMENT_ROWS,
        max_commit_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.name = name
        self.io = io
        self.write_options = write_options
        self.segment_rows = segment_rows
        self.max_commit_attempts = max_commit_attempts
        self._store = ManifestStore(io, name)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {self.io.uri!r})"

    # --- snapshots ----------------------------------------------------------------

    def snapshot(self, version: int | None = None) -> Snapshot:
        """The snapshot of ``version`` (time travel), or the current one.

        Raises:
            SnapshotNotFoundError: the version never existed or has expired.
            ChecksumError: the manifest is corrupted.
        """
        return self._store.latest() if version is None else self._store.load(version)

    def refresh(self) -> Snapshot:
        """The current snapshot, read from storage now."""
        return self._store.latest()

    def snapshot_as_of(self, timestamp_ms: int) -> Snapshot:
        """The newest retained snapshot committed at or before ``timestamp_ms``."""
        return maintenance.snapshot_as_of(self._store, timestamp_ms)

    def versions(self) -> list[int]:
        """Versions that can still be read (not expired), ascending."""
        return self._store.retained_versions()

    def history(self) -> list[tuple[int, int | None, Mapping[str, str]]]:
        """``(version, timestamp_ms, summary)`` of every version; expired ones have
        ``None`` and an empty summary."""
        out: list[tuple[int, int | None, Mapping[str, str]]] = []
        for v in self._store.versions():
            entry = self._store.load_entry(v)
            if isinstance(entry, Snapshot):
                out.append((v, entry.timestamp_ms, entry.summary))
            else:
                out.append((v, None, {}))
        return out

    @property
    def schema(self) -> TableSchema:
        """The current schema."""
        return self.snapshot().schema

    # --- writing ------------------------------------------------------------------

    def write_data_files(self, data: BatchLike, *, base: Snapshot | None = None) -> list[DataFile]:
        """Validate, partition, encode and write ``data`` as segments (not committed yet).

        Raises:
            SchemaMismatchError / InvalidDataError: the batch does not fit the schema;
                nothing is written.
        """
        snap = base if base is not None else self.snapshot()
        return self._write_valid(validate_batch(snap.schema, data), snap)

    def _write_valid(self, valid: pa.Table, snap: Snapshot) -> list[DataFile]:
        if valid.num_rows == 0:
            return []
        return write_data_files(
            self.io, snap, valid, options=self.write_options, segment_rows=self.segment_rows
        )

    def commit_append(self, files: Sequence[DataFile], key: CallKey | None = None) -> CommitResult:
        """Commit written files as a new version (exactly once per ingest key).

        Files must come from :meth:`write_data_files` of this table. With ``key``
        the commit records the call in its producer's record; a key already
        committed with the same rows is acknowledged as a duplicate (the result
        names the version that holds them) and nothing is applied.

        Raises:
            IngestKeyConflictError: ``key`` was committed with other rows (or is too
                old to tell); nothing was applied.
            CommitConflictError: the schema changed since the files were written, or
                the commit lost every race.
        """
        files = tuple(files)
        rows = sum(f.num_rows for f in files)
        base = self.snapshot()
        if not files and key is None:
            return CommitResult(base.version, 0)  # nothing to record: no empty versions
        updates: list[Update] = [AddDataFiles(files)]
        # Files written under another schema than the table's current one never commit.
        schema_ids = {f.schema_id for f in files} or {base.schema.schema_id}
        requirements: list[Requirement] = [AssertSchemaId(i) for i in sorted(schema_ids)]
        summary = [
            ("operation", "append"),
            ("added-files", str(len(files))),
            ("added-rows", str(rows)),
        ]
        if files:
            requirements.append(AssertFilesNew(frozenset(f.path for f in files)))
        if key is not None:
            updates.append(RecordCall(key))
            requirements.append(AssertCallNew(key, self.name))
            summary += [("producer", key.producer_id), ("sequence", str(key.sequence))]
        updates.append(SetSummary(tuple(summary)))
        try:
            snap = self._commit(updates, requirements, base)
        except DuplicateCallError as dup:
            return CommitResult(dup.committed.version, 0, duplicate=True)
        except DuplicateAppendError as dup:
            if not dup.complete:
                raise
            # Our own earlier attempt (its reply was lost): the files are in, once.
            return CommitResult(self.snapshot().version, rows, files=files)
        return CommitResult(snap.version, rows, files=files)

    def commit_flush(
        self, files: Sequence[DataFile], keys: Sequence[CallKey], from_lsn: int, to_lsn: int
    ) -> CommitResult:
        """Commit the write-ahead log's rows ``(from_lsn, to_lsn]`` (written as ``files``) with
        their calls' keys, as one version that records the new log position.

        Raises:
            CommitConflictError: the log was flushed concurrently (the position is no
                longer ``from_lsn``) or the schema changed; nothing was applied.
        """
        files = tuple(files)
        rows = sum(f.num_rows for f in files)
        base = self.snapshot()
        updates: list[Update] = [AddDataFiles(files), *(RecordCall(k) for k in keys)]
        updates.append(SetLogLsn(to_lsn))
        summary = [
            ("operation", "flush"),
            ("added-files", str(len(files))),
            ("added-rows", str(rows)),
            ("calls", str(len(keys))),
            ("log-lsn", str(to_lsn)),
        ]
        producers = sorted({k.producer_id for k in keys})
        if len(producers) == 1:  # history names the producer (and call) when there is one
            summary.append(("producer", producers[0]))
            if len(keys) == 1:
                summary.append(("sequence", str(keys[0].sequence)))
        elif producers:
            summary.append(("producers", str(len(producers))))
        updates.append(SetSummary(tuple(summary)))
        requirements: list[Requirement] = [AssertLogLsn(from_lsn)]
        if files:
            requirements.append(AssertFilesNew(frozenset(f.path for f in files)))
        requirements += [AssertSchemaId(i) for i in sorted({f.schema_id for f in files})]
        snap = self._commit(updates, requirements, base)
        return CommitResult(snap.version, rows, files=files)

    def call_status(self, key: CallKey) -> CommitResult | None:
        """A duplicate result if ``key`` is committed with the same rows, None if it is new.

        Raises:
            IngestKeyConflictError: ``key`` was committed with other rows (or is too old).
        """
        record = self.snapshot().producers.get(key.producer_id, ProducerRecord())
        found = record.check(key, self.name)
        return None if found is None else CommitResult(found.version, 0, duplicate=True)

    def append(
        self, data: BatchLike, producer_id: str | None = None, sequence: int | None = None
    ) -> CommitResult:
        """Validate, write and commit ``data`` as one new version.

        A retried ``(producer_id, sequence)`` with the same rows is acknowledged as
        a duplicate without writing anything; other rows under a used key raise
        :class:`IngestKeyConflictError`; a bad batch raises and leaves the table
        unchanged.
        """
        check_call_key(producer_id, sequence)
        base = self.snapshot()
        valid = validate_batch(base.schema, data)
        key = None
        if producer_id is not None and sequence is not None:
            key = CallKey(producer_id, sequence, digest_of(valid), valid.num_rows)
            known = self.call_status(key)
            if known is not None:
                return known
        files = self._write_valid(valid, base)
        try:
            result = self.commit_append(files, key)
        except (CommitConflictError, IngestKeyConflictError):
            self.discard_files(files)  # certainly not committed
            raise
        # Any other failure may have happened after the manifest was published (e.g. a
        # lost reply from S3): the files stay; if unreferenced, vacuum removes them later.
        if result.duplicate:
            self.discard_files(files)
        return result

    def commit_rewrite(
        self, remove: Sequence[DataFile], add: Sequence[DataFile], *, operation: str = "rewrite"
    ) -> Snapshot:
        """Replace live files by new ones in one version (compaction, deletes, erasure).

        Raises:
            CommitConflictError: a file to remove is no longer live, or the schema
                changed since ``add`` was written.
        """
        base = self.snapshot()
        paths = frozenset(f.path for f in remove)
        # New files first: a retried rewrite whose first attempt was published (its reply
        # lost) finds its files live and succeeds, instead of failing on the removed ones
        # and having the caller delete files that are in fact committed.
        requirements: list[Requirement] = [AssertFilesNew(frozenset(f.path for f in add))]
        requirements.append(AssertFilesLive(paths))
        requirements += [AssertSchemaId(i) for i in {f.schema_id for f in add}]
        summary = (
            ("operation", operation),
            ("removed-files", str(len(paths))),
            ("added-files", str(len(add))),
        )
        updates: list[Update] = [
            RemoveDataFiles(paths),
            AddDataFiles(tuple(add)),
            SetSummary(summary),
        ]
        try:
            return self._commit(updates, requirements, base)
        except DuplicateAppendError as dup:
            if not dup.complete or not add:
                raise
            return self.snapshot()  # our own earlier attempt: applied once

    # --- reading ------------------------------------------------------------------

    def open_segment(self, f: DataFile) -> SegmentReader:
        """A reader over one data file (every byte it uses is checksum-verified).

        Raises:
            StorageError: the file is missing (vacuumed under an expired snapshot, or lost).
            ChecksumError: the file is damaged.
        """
        try:
            source = self.io.open_input(f.path)
        except FileNotFoundError as exc:
            raise StorageError(
                f"data file {f.path!r} of table {self.name!r} is missing (expired and vacuumed, "
                "or lost); run verify() on the table"
            ) from exc
        return SegmentReader(source, f.path, cache_key=(self.io.uri, f.path, f.checksum))

    def read_file(
        self,
        f: DataFile,
        snapshot: Snapshot,
        columns: Sequence[str] | None = None,
        chunks: Sequence[int] | None = None,
        dictionary: Collection[str] = (),
    ) -> pa.Table:
        """Columns (by current names of ``snapshot.schema``) of one file, schema-evolved;
        string columns named in ``dictionary`` come back dictionary-typed."""
        return read_segment(self.open_segment(f), snapshot.schema, columns, chunks, dictionary)

    def read(self, version: int | None = None, columns: Sequence[str] | None = None) -> pa.Table:
        """All rows of a version (default: current), optionally only some columns."""
        snap = self.snapshot(version)
        names = list(snap.schema.names) if columns is None else list(columns)
        for n in names:
            snap.schema.field(n)  # unknown names fail before any I/O
        parts = [self.read_file(f, snap, names) for f in snap.data_files]
        if not parts:
            fields = [snap.schema.field(n).to_arrow() for n in names]
            return pa.schema(fields).empty_table()
        return pa.concat_tables(parts)

    # --- schema evolution ---------------------------------------------------------

    def add_column(
        self, name: str, dtype: pa.DataType, *, tags: frozenset[str] = frozenset()
    ) -> Snapshot:
        """Add a nullable column; existing rows read it as null."""
        check_column_storable(name, dtype)
        return self._schema_change(AddColumn(name, dtype, frozenset(tags)))

    def rename_column(self, name: str, new_name: str) -> Snapshot:
        """Rename a column; no data is rewritten."""
        return self._schema_change(RenameColumn(self.schema.field(name).id, new_name))

    def drop_column(self, name: str) -> Snapshot:
        """Drop a column (not a partition source); older versions still have it."""
        return self._schema_change(DropColumn(self.schema.field(name).id))

    def widen_column(self, name: str, dtype: pa.DataType) -> Snapshot:
        """Widen a column's type (int to wider int, float32 to float64); old files cast on read."""
        return self._schema_change(WidenColumn(self.schema.field(name).id, dtype))

    def alter(self, changes: Sequence[SchemaChange]) -> Snapshot:
        """Apply several schema changes as one version (all or none).

        ``changes`` are ``("add", name, type)``, ``("rename", name, new_name)``,
        ``("drop", name)`` and ``("widen", name, type)``, applied in order (a
        later change sees the names an earlier one gave).

        Raises:
            SchemaMismatchError: a change does not apply (unknown or taken name,
                a partition source dropped, a type that is not a widening).
        """
        base = self.snapshot()
        draft = base
        updates: list[Update] = []
        for change in changes:
            update = _schema_update(draft, change)
            draft = apply_all([update], draft)  # names resolve against earlier changes
            updates.append(update)
        if not updates:
            return base
        ops = ",".join(str(c[0]) for c in changes)
        summary = SetSummary((("operation", f"alter:{ops}"),))
        return self._commit([*updates, summary], [AssertSchemaId(base.schema.schema_id)], base)

    def _schema_change(self, update: Update) -> Snapshot:
        base = self.snapshot()
        summary = SetSummary((("operation", f"schema:{type(update).__name__}"),))
        return self._commit([update, summary], [AssertSchemaId(base.schema.schema_id)], base)

    # --- maintenance --------------------------------------------------------------

    def expire_snapshots(
        self, *, keep_last: int = 1, older_than_ms: int | None = None
    ) -> list[int]:
        """Expire old versions (see :func:`maintenance.expire_snapshots`); returns them."""
        return maintenance.expire_snapshots(
            self._store, keep_last=keep_last, older_than_ms=older_than_ms
        )

    def vacuum(
        self, *, grace_period_s: float = maintenance.DEFAULT_GRACE_S, now_s: float | None = None
    ) -> maintenance.VacuumResult:
        """Delete files no retained snapshot references (orphans only after the grace period)."""
        return maintenance.vacuum(self._store, grace_period_s=grace_period_s, now_s=now_s)

    def compact(
        self, policy: CompactionPolicy | None = None, mode: str = "full"
    ) -> CompactionResult:
        """Merge small files (see :mod:`hasivu_compute.table.compaction`)."""
        return compact_table(self, policy, mode)

    def verify(self, *, deep: bool = True) -> maintenance.VerifyReport:
        """Check every manifest and data file of the table; see the report's ``problems``."""
        return maintenance.verify_table(self._store, deep=deep)

    # --- internals ----------------------------------------------------------------

    def _commit(
        self, updates: Sequence[Update], requirements: Sequence[Requirement], base: Snapshot
    ) -> Snapshot:
        return commit(
            self._store, updates, requirements, base=base, max_attempts=self.max_commit_attempts
        )

    def discard_files(self, files: Sequence[DataFile]) -> None:
        """Delete written files that will never be committed (best effort: anything
        left is an orphan that vacuum removes after its grace period)."""
        for f in files:
            with contextlib.suppress(Exception):
                self.io.delete(f.path)


SchemaChange = tuple[object, ...]


def _schema_update(snapshot: Snapshot, change: SchemaChange) -> Update:
    """The update record of one ``alter`` change, against ``snapshot``'s names."""
    kind, *args = change
    if kind == "add" and len(args) == 2:
        dtype = _arrow_type(args[1], str(args[0]))
        check_column_storable(str(args[0]), dtype)
        return AddColumn(str(args[0]), dtype)
    if kind == "rename" and len(args) == 2:
        return RenameColumn(_field_id(snapshot, str(args[0])), str(args[1]))
    if kind == "drop" and len(args) == 1:
        return DropColumn(_field_id(snapshot, str(args[0])))
    if kind == "widen" and len(args) == 2:
        return WidenColumn(_field_id(snapshot, str(args[0])), _arrow_type(args[1], str(args[0])))
    raise SchemaMismatchError(
        f"unknown schema change {change!r}: use ('add', name, type), ('rename', name, new), "
        "('drop', name) or ('widen', name, type)"
    )


def _field_id(snapshot: Snapshot, name: str) -> int:
    if not snapshot.schema.has(name):
        raise SchemaMismatchError(
            f"no column {name!r} to change; the table has {list(snapshot.schema.names)}",
            column=name,
        )
    return snapshot.schema.field(name).id


def _arrow_type(value: object, column: str) -> pa.DataType:
    if isinstance(value, pa.DataType):
        return value
    if isinstance(value, str):
        try:
            return pa.type_for_alias(value)
        except (ValueError, KeyError) as exc:
            raise SchemaMismatchError(
                f"column {column!r}: unknown type {value!r} (e.g. 'int64', 'string')",
                column=column,
            ) from exc
    raise SchemaMismatchError(
        f"column {column!r}: expected a pyarrow type or a type name, got {value!r}", column=column
    )


def check_call_key(producer_id: str | None, sequence: int | None) -> None:
    """Raise :class:`InvalidDataError` unless the pair is a valid ingest key (or both None)."""
    if (producer_id is None) != (sequence is None):
        raise InvalidDataError("give both producer_id and sequence, or neither")
    if producer_id is not None and (not isinstance(producer_id, str) or not producer_id):
        raise InvalidDataError(f"producer_id must be a non-empty string, got {producer_id!r}")
    if sequence is not None and (isinstance(sequence, bool) or not isinstance(sequence, int)):
        raise InvalidDataError(f"sequence must be an int, got {type(sequence).__name__}")
    if sequence is not None and sequence < 0:
        raise InvalidDataError(f"sequence must be >= 0, got {sequence}")
