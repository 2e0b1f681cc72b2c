"""Table upkeep: expire old snapshots, vacuum unreferenced files, verify a whole table.

Expiring a version replaces its manifest by a small tombstone instead of deleting
it: the name stays taken, so a committer that planned against a very old version
can never publish into the freed slot (its put-if-absent still fails and it
rebases onto the real latest version). Vacuum deletes data files that no retained
snapshot references: at once if an expired snapshot dropped them, and otherwise
(orphans of crashed or in-flight writers) only once they are older than a grace
period, because an in-flight writer's files are unreferenced until it commits.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import xxhash

from hasivu_compute._core.errors import HasivuError, SnapshotNotFoundError
from hasivu_compute.storage.fileio import FileIO, is_temporary
from hasivu_compute.storage.segment import SegmentReader
from hasivu_compute.table.commit import now_ms
from hasivu_compute.table.manifest import DATA_DIR, METADATA_DIR, ManifestStore
from hasivu_compute.table.manifest_files import MANIFEST_DIR, PRODUCER_DIR, unwrap
from hasivu_compute.table.metadata import DataFile, Snapshot, Tombstone

DEFAULT_GRACE_S = 3600.0


@dataclass(frozen=True, slots=True)
class VacuumResult:
    """Files vacuum deleted, and unreferenced files it kept because they are too young."""

    deleted: tuple[str, ...]
    kept_young: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify_table` checked and every problem found (empty = healthy)."""

    versions: tuple[int, ...]
    files_checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def raise_if_failed(self) -> None:
        """Raise :class:`HasivuError` listing the problems, if any."""
        if self.problems:
            raise HasivuError("table verification failed: " + "; ".join(self.problems))


def expire_snapshots(
    store: ManifestStore, *, keep_last: int = 1, older_than_ms: int | None = None
) -> list[int]:
    """Expire retained versions except the ``keep_last`` newest (and the current one).

    Args:
        store: the table's manifests.
        keep_last: how many of the newest retained versions to keep (at least 1).
        older_than_ms: if set, only versions committed before this time expire.

    Returns:
        The versions expired by this call.
    """
    keep_last = max(1, keep_last)
    retained = store.retained_versions()
    candidates = retained[:-keep_last]
    snapshots = {v: store.load(v) for v in retained}
    doomed = [
        v for v in candidates if older_than_ms is None or snapshots[v].timestamp_ms < older_than_ms
    ]
    survivors = [v for v in retained if v not in doomed]
    still_live = set().union(*(_stored_paths(snapshots[v]) for v in survivors))
    stamp = now_ms()
    for v in doomed:
        dropped = sorted(_stored_paths(snapshots[v]) - still_live)
        store.expire(Tombstone(version=v, expired_at_ms=stamp, dropped_files=tuple(dropped)))
    return doomed


def vacuum(
    store: ManifestStore,
    *,
    grace_period_s: float = DEFAULT_GRACE_S,
    now_s: float | None = None,
) -> VacuumResult:
    """Delete data, manifest and producer files no retained snapshot references (see
    module docstring)."""
    io = store.io
    now = time.time() if now_s is None else now_s
    referenced: set[str] = set()
    dropped: set[str] = set()
    for v in store.versions():
        entry = store.load_entry(v)
        if isinstance(entry, Snapshot):
            referenced |= _stored_paths(entry)
        else:
            dropped |= set(entry.dropped_files)
    deleted: list[str] = []
    young: list[str] = []
    for status in io.list_status(DATA_DIR) + io.list_status(METADATA_DIR):
        path = status.path
        if path in referenced or _kept_metadata(path):
            continue
        if path in dropped or now - status.mtime_s >= grace_period_s:
            io.delete(path)
            deleted.append(path)
        else:
            young.append(path)
    return VacuumResult(tuple(deleted), tuple(young))


def _kept_metadata(path: str) -> bool:
    """Version files and the hint are never vacuumed; unreferenced manifest and producer
    files (of expired versions, or of commits that lost a race) are, like data files."""
    if not path.startswith(METADATA_DIR) or is_temporary(path):
        return False
    return not path.startswith((MANIFEST_DIR, PRODUCER_DIR))


def verify_table(store: ManifestStore, *, deep: bool = True) -> VerifyReport:
    """Check every manifest and every referenced data file of a table.

    Checks manifests (checksums, contiguous versions, parent links, producer
    high-water marks never going back, schema ids), and for each referenced file:
    that it exists with the recorded size, and with ``deep`` that its bytes match
    the recorded xxh64 and that every column block decodes (block checksums).
    """
    problems: list[str] = []
    versions = store.versions()
    if not versions:
        return VerifyReport((), 0, (f"table {store.table_name!r} has no manifests",))
    if versions != list(range(versions[0], versions[-1] + 1)) or versions[0] != 1:
        problems.append(f"version files are not contiguous from 1: {versions}")
    snapshots: list[Snapshot] = []
    for v in versions:
        try:
            entry = store.load_entry(v, use_cache=False)
        except (HasivuError, OSError) as exc:
            problems.append(f"version {v}: {type(exc).__name__}: {exc}")
            continue
        if isinstance(entry, Snapshot):
            snapshots.append(entry)
    if versions and not any(s.version == versions[-1] for s in snapshots):
        problems.append(f"latest version {versions[-1]} is not a readable snapshot")
    problems.extend(_check_chain(snapshots))
    problems.extend(_check_metadata_files(store.io, snapshots))
    files: dict[str, DataFile] = {}
    for snap in snapshots:
        problems.extend(_check_snapshot(snap))
        for f in snap.data_files:
            files.setdefault(f.path, f)
    for f in files.values():
        problems.extend(_check_file(store.io, f, deep))
    return VerifyReport(tuple(versions), len(files), tuple(problems))


def _paths(files: Iterable[DataFile]) -> set[str]:
    return {f.path for f in files}


def _stored_paths(snapshot: Snapshot) -> set[str]:
    """Data, manifest and producer files a snapshot needs."""
    paths = _paths(snapshot.data_files)
    paths.update(m.path for m in snapshot.manifests)
    paths.update(p.path for p in snapshot.producer_refs)
    return paths


def _check_chain(snapshots: list[Snapshot]) -> list[str]:
    problems = []
    for prev, cur in itertools.pairwise(snapshots):
        if cur.parent != cur.version - 1:
            problems.append(f"version {cur.version}: parent is {cur.parent}")
        if cur.version != prev.version + 1:
            continue  # an expired version sits between them
        for producer, record in prev.producers.items():
            later = cur.producers.get(producer)
            if later is None or later.last < record.last:
                problems.append(f"version {cur.version}: producer {producer!r} went back")
        if cur.schema.schema_id < prev.schema.schema_id:
            problems.append(f"version {cur.version}: schema id went back")
    return problems


def _check_metadata_files(io: FileIO, snapshots: list[Snapshot]) -> list[str]:
    """Re-read every manifest and producer file the snapshots name, past every cache."""
    refs = {(m.path, m.checksum) for s in snapshots for m in s.manifests}
    refs |= {(p.path, p.checksum) for s in snapshots for p in s.producer_refs}
    problems = []
    for path, checksum in sorted(refs):
        try:
            unwrap(io.read_bytes(path), path, checksum)
        except FileNotFoundError:
            problems.append(f"{path}: referenced manifest file is missing")
        except (HasivuError, OSError) as exc:
            problems.append(f"{path}: {type(exc).__name__}: {exc}")
    return problems


def _check_snapshot(snap: Snapshot) -> list[str]:
    problems = []
    ids = snap.schema.field_ids
    if ids and max(ids) > max(snap.last_column_id, 0):
        problems.append(f"version {snap.version}: field id above last_column_id")
    for pf in snap.spec.fields:
        if pf.source_id not in ids:
            problems.append(f"version {snap.version}: partition source {pf.source_id} missing")
    paths = [f.path for f in snap.data_files]
    if len(set(paths)) != len(paths):
        problems.append(f"version {snap.version}: a data file is listed twice")
    for f in snap.data_files:
        if len(f.partition) != len(snap.spec.fields):
            problems.append(f"version {snap.version}: {f.path} has a malformed partition")
        if f.schema_id > snap.schema.schema_id or max(f.field_ids, default=0) > snap.last_column_id:
            problems.append(f"version {snap.version}: {f.path} is from a future schema")
    return problems


def _check_file(io: FileIO, f: DataFile, deep: bool) -> list[str]:
    try:
        if not deep:
            with io.open_input(f.path) as handle:
                size = handle.size()
            return [] if size == f.size_bytes else [f"{f.path}: size {size} != {f.size_bytes}"]
        data = io.read_bytes(f.path)
    except FileNotFoundError:
        return [f"{f.path}: referenced data file is missing"]
    except (HasivuError, OSError) as exc:
        return [f"{f.path}: {type(exc).__name__}: {exc}"]
    if len(data) != f.size_bytes:
        return [f"{f.path}: size {len(data)} != recorded {f.size_bytes}"]
    if xxhash.xxh64_intdigest(data) != f.checksum:
        return [f"{f.path}: file checksum mismatch (corrupted)"]
    try:
        reader = SegmentReader(pa.BufferReader(data), f.path)
        table = reader.read(list(reader.field_ids))
    except (HasivuError, OSError, pa.ArrowException) as exc:
        return [f"{f.path}: {type(exc).__name__}: {exc}"]
    if table.num_rows != f.num_rows or tuple(reader.field_ids) != f.field_ids:
        return [f"{f.path}: rows or columns differ from the manifest"]
    return []


def snapshot_as_of(store: ManifestStore, timestamp_ms: int) -> Snapshot:
    """The newest retained snapshot committed at or before ``timestamp_ms``."""
    for v in reversed(store.retained_versions()):
        snap = store.load(v)
        if snap.timestamp_ms <= timestamp_ms:
            return snap
    raise SnapshotNotFoundError(
        f"table {store.table_name!r} has no retained version at {timestamp_ms}"
    )
