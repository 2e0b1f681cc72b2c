"""Table metadata values: data files, snapshots, commit results.

A :class:`Snapshot` is one committed version of a table, complete on its own: its
schema (with stable ids), partition spec, every live data file with statistics,
and the recent calls of every producer (ingest keys). Snapshots are immutable
values; a commit builds the next one with pure update functions
(:mod:`hasivu_compute.table.updates`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hasivu_compute.schema.partition import PartitionSpec
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.storage.stats import ColumnChunkStats, scalar_from_json, scalar_to_json
from hasivu_compute.table.producers import ProducerRecord


@dataclass(frozen=True, slots=True)
class DataFile:
    """One immutable segment file of a table.

    Attributes:
        path: relative to the table folder, e.g. ``data/month=2025-01/<uuid>.hseg``.
        partition: partition values, one per field of the table's partition spec.
        num_rows: rows in the file.
        size_bytes: file size.
        field_ids: columns stored in the file (ids of the schema it was written with).
        stats: per field id, zone map merged over the whole file.
        checksum: xxh64 of the whole file.
        schema_id: schema the file was written with.
    """

    path: str
    partition: tuple[object, ...]
    num_rows: int
    size_bytes: int
    field_ids: tuple[int, ...]
    stats: Mapping[int, ColumnChunkStats]
    checksum: int
    schema_id: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (scalars tagged so their Python types round-trip)."""
        return {
            "path": self.path,
            "partition": [scalar_to_json(v) if v is not None else None for v in self.partition],
            "num_rows": self.num_rows,
            "size_bytes": self.size_bytes,
            "field_ids": list(self.field_ids),
            "stats": {str(k): v.to_json() for k, v in sorted(self.stats.items())},
            "checksum": f"{self.checksum:016x}",
            "schema_id": self.schema_id,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> DataFile:
        """Inverse of :meth:`to_json`."""
        return cls(
            path=str(obj["path"]),
            partition=tuple(None if v is None else scalar_from_json(v) for v in obj["partition"]),
            num_rows=int(obj["num_rows"]),
            size_bytes=int(obj["size_bytes"]),
            field_ids=tuple(int(i) for i in obj["field_ids"]),
            stats={int(k): ColumnChunkStats.from_json(v) for k, v in obj["stats"].items()},
            checksum=int(obj["checksum"], 16),
            schema_id=int(obj["schema_id"]),
        )


@dataclass(frozen=True, slots=True)
class ManifestRef:
    """A manifest file a version lists its data files through (see ``table.manifest_files``).

    Attributes:
        path: relative to the table folder.
        checksum: xxh64 of the manifest's body (what the file must hold).
        files: data files the manifest file lists.
        rows: rows in its files that are still live.
        removed: paths it lists that are no longer live in this version (a rewrite or
            a compaction removed them): the manifest is reused as it is and readers
            skip these, instead of every reader parsing a rewritten copy.
    """

    path: str
    checksum: int
    files: int
    rows: int
    removed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = {
            "path": self.path,
            "checksum": f"{self.checksum:016x}",
            "files": self.files,
            "rows": self.rows,
        }
        if self.removed:
            out["removed"] = list(self.removed)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ManifestRef:
        """Inverse of :meth:`to_json`."""
        return cls(
            str(obj["path"]),
            int(obj["checksum"], 16),
            int(obj["files"]),
            int(obj["rows"]),
            tuple(str(p) for p in obj.get("removed", ())),
        )


@dataclass(frozen=True, slots=True)
class ProducerRef:
    """A producer bucket file holding the ingest keys of some producers."""

    bucket: int
    path: str
    checksum: int
    producers: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "bucket": self.bucket,
            "path": self.path,
            "checksum": f"{self.checksum:016x}",
            "producers": self.producers,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ProducerRef:
        """Inverse of :meth:`to_json`."""
        return cls(
            int(obj["bucket"]), str(obj["path"]), int(obj["checksum"], 16), int(obj["producers"])
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One committed version of a table (see module docstring).

    Attributes:
        version: 1 for the empty table made by ``create_table``, then +1 per commit.
        parent: the version this one was built on (``version - 1``), None for version 1.
        timestamp_ms: commit time, milliseconds since the epoch.
        schema: current schema.
        spec: partition spec.
        data_files: every live data file.
        producers: producer id -> its recent committed calls (ingest keys).
        summary: what the commit did (``operation``, ``added-rows``, ...).
        last_column_id: highest field id ever assigned (dropped ids are never reused).
        manifests: the manifest files ``data_files`` are stored in (a commit's draft
            still carries its parent's until it is published).
        producer_refs: the producer bucket files ``producers`` are stored in (idem).
        log_lsn: the write-ahead log position whose rows (and everything before) are in
            ``data_files`` (0: none; see ``table.wal``).
    """

    version: int
    parent: int | None
    timestamp_ms: int
    schema: TableSchema
    spec: PartitionSpec
    data_files: tuple[DataFile, ...]
    producers: Mapping[str, ProducerRecord]
    summary: Mapping[str, str]
    last_column_id: int = 0
    manifests: tuple[ManifestRef, ...] = ()
    producer_refs: tuple[ProducerRef, ...] = ()
    log_lsn: int = 0

    @property
    def num_rows(self) -> int:
        """Rows in all live data files."""
        return sum(f.num_rows for f in self.data_files)

    def partition_record(self, f: DataFile) -> dict[str, object]:
        """``{partition field name: value}`` of one data file."""
        return {pf.name: v for pf, v in zip(self.spec.fields, f.partition, strict=True)}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with every data file and producer inline (format 1)."""
        return {
            "version": self.version,
            "parent": self.parent,
            "timestamp_ms": self.timestamp_ms,
            "schema": self.schema.to_json(),
            "last_column_id": self.last_column_id,
            "spec": self.spec.to_json(),
            "producers": {k: v.to_json() for k, v in sorted(self.producers.items())},
            "summary": dict(sorted(self.summary.items())),
            "data_files": [f.to_json() for f in self.data_files],
        }

    def header_json(self) -> dict[str, Any]:
        """A JSON-ready dict naming files and producers by their manifest and bucket files
        (format 2; ``manifests`` and ``producer_refs`` must be this snapshot's own)."""
        return {
            "version": self.version,
            "parent": self.parent,
            "timestamp_ms": self.timestamp_ms,
            "schema": self.schema.to_json(),
            "last_column_id": self.last_column_id,
            "spec": self.spec.to_json(),
            "summary": dict(sorted(self.summary.items())),
            "manifests": [m.to_json() for m in self.manifests],
            "producer_buckets": [p.to_json() for p in self.producer_refs],
            "log_lsn": self.log_lsn,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Snapshot:
        """Inverse of :meth:`to_json` and of :meth:`header_json` (whose files and producers
        stay empty until read from the files it names: ``table.manifest_files.resolve``)."""
        parent = obj["parent"]
        if "manifests" in obj:
            return cls(
                version=int(obj["version"]),
                parent=None if parent is None else int(parent),
                timestamp_ms=int(obj["timestamp_ms"]),
                schema=TableSchema.from_json(obj["schema"]),
                spec=PartitionSpec.from_json(obj["spec"]),
                data_files=(),
                producers={},
                summary={str(k): str(v) for k, v in obj["summary"].items()},
                last_column_id=int(obj["last_column_id"]),
                manifests=tuple(ManifestRef.from_json(m) for m in obj["manifests"]),
                producer_refs=tuple(ProducerRef.from_json(p) for p in obj["producer_buckets"]),
                log_lsn=int(obj.get("log_lsn", 0)),
            )
        return cls(
            version=int(obj["version"]),
            parent=None if parent is None else int(parent),
            timestamp_ms=int(obj["timestamp_ms"]),
            schema=TableSchema.from_json(obj["schema"]),
            spec=PartitionSpec.from_json(obj["spec"]),
            data_files=tuple(DataFile.from_json(f) for f in obj["data_files"]),
            producers={str(k): ProducerRecord.from_json(v) for k, v in obj["producers"].items()},
            summary={str(k): str(v) for k, v in obj["summary"].items()},
            last_column_id=int(obj["last_column_id"]),
        )


@dataclass(frozen=True, slots=True)
class Tombstone:
    """What an expired version's manifest is replaced by.

    The version's file name stays taken, so a stale committer can never publish
    that version number again; ``dropped_files`` are data files only the expired
    snapshot referenced, which vacuum may delete at once.
    """

    version: int
    expired_at_ms: int
    dropped_files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with every data file and producer inline (format 1)."""
        return {
            "version": self.version,
            "expired": True,
            "expired_at_ms": self.expired_at_ms,
            "dropped_files": list(self.dropped_files),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Tombstone:
        """Inverse of :meth:`to_json`."""
        return cls(
            version=int(obj["version"]),
            expired_at_ms=int(obj["expired_at_ms"]),
            dropped_files=tuple(str(p) for p in obj["dropped_files"]),
        )


@dataclass(frozen=True, slots=True)
class CommitResult:
    """Outcome of an append: the version that holds the rows, and whether it was a retry.

    ``duplicate`` is True when the call's ingest key was already committed with
    the same rows: nothing was written and ``version`` is the version that holds them.
    """

    version: int
    rows: int
    duplicate: bool = False
    files: tuple[DataFile, ...] = field(default=())
