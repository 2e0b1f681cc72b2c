"""The reusable parts of a version: data-file manifests and producer buckets.

A version file names the table's live data files through a list of
**manifests**, each an immutable, checksummed file listing some of them with
their statistics, and its producers' ingest keys through **producer buckets**
(producers spread over ``PRODUCER_BUCKETS`` files by a hash of their id). A
commit writes only what changed: one new manifest with the files it adds (and
the survivors of any manifest it removed files from), and the buckets of the
producers it records calls for; every other manifest and bucket is reused by
reference. So a commit costs O(changed files and producers), not O(table): with
10K files an append used to rewrite and re-parse a ~15 MB version file.

Many small appends would leave many small manifests, and a fresh reader opens
each one; when a version would name more than ``MAX_MANIFESTS``, the small ones
are merged into the new manifest (amortised: once per that many commits). A
commit that removes files (compaction) keeps a manifest that still holds mostly
live files and names the removed ones in the version instead: rewriting the
survivors made every reader parse them again after every merge (the driver's
first call after a day's commit took 21 -> 56 ms over a school year).

Files are written under unique names before the version that names them is
published, so a crash leaves at most unreferenced files, which vacuum removes.
Parsed contents are cached per process by (path, checksum): immutable content,
so a cache hit is always right, and each commit parses only what it wrote.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import xxhash

from hasivu_compute._core.errors import ChecksumError, StorageError
from hasivu_compute._core.lru import LruCache
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.metadata import DataFile, ManifestRef, ProducerRef, Snapshot
from hasivu_compute.table.producers import ProducerRecord

MANIFEST_DIR = "metadata/manifests"
PRODUCER_DIR = "metadata/producers"
MANIFEST_FORMAT = "hasivu-manifest"
PRODUCERS_FORMAT = "hasivu-producers"
PRODUCER_BUCKETS = 16
MAX_MANIFESTS = 16
SMALL_MANIFEST_FILES = 4096
_PREFIX = b'{"checksum":"'
_MIDDLE = b'","body":'
_SUFFIX = b"}"
_HEAD = len(_PREFIX) + 16 + len(_MIDDLE)


def wrap(body: Mapping[str, Any]) -> tuple[bytes, int]:
    """File bytes holding ``body`` as JSON with its xxh64 checksum in front, and the checksum."""
    raw = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    digest = xxhash.xxh64_intdigest(raw)
    return _PREFIX + f"{digest:016x}".encode() + _MIDDLE + raw + _SUFFIX, digest


def unwrap(data: bytes, path: str, expected: int) -> Any:
    """The JSON body of a wrapped file, after checking it is the one a version named.

    Raises:
        ChecksumError: truncated, corrupted, or not the file the version names.
    """
    if len(data) < _HEAD + 1 or not data.startswith(_PREFIX) or not data.endswith(_SUFFIX):
        raise ChecksumError("manifest file is truncated or not a manifest file", path=path)
    raw = data[_HEAD : -len(_SUFFIX)]
    if xxhash.xxh64_intdigest(raw) != expected or data[len(_PREFIX) : len(_PREFIX) + 16] != (
        f"{expected:016x}".encode()
    ):
        raise ChecksumError("manifest file checksum mismatch", path=path)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ChecksumError(f"manifest file body is unreadable: {exc}", path=path) from exc


_FILES: LruCache[tuple[DataFile, ...]] = LruCache(512)
_BUCKETS: LruCache[dict[str, ProducerRecord]] = LruCache(256)


def bucket_of(producer_id: str) -> int:
    """The producer bucket a producer's record lives in."""
    return xxhash.xxh64_intdigest(producer_id.encode("utf-8")) % PRODUCER_BUCKETS


def _read(io: FileIO, path: str, checksum: int) -> Any:
    try:
        data = io.read_bytes(path)
    except FileNotFoundError as exc:
        raise StorageError(f"manifest file {path!r} is missing; run verify() on the table") from exc
    return unwrap(data, path, checksum)


def load_files(io: FileIO, ref: ManifestRef) -> tuple[DataFile, ...]:
    """The data files a manifest lists (cached by path and checksum)."""
    key = (ref.path, ref.checksum)
    hit = _FILES.get(key)
    if hit is not None:
        return hit
    body = _read(io, ref.path, ref.checksum)
    try:
        if body.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown format {body.get('format')!r}")
        files = tuple(DataFile.from_json(f) for f in body["files"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ChecksumError(f"manifest is unreadable: {exc}", path=ref.path) from exc
    if len(files) != ref.files:
        raise ChecksumError(
            f"manifest lists {len(files)} files, version says {ref.files}", path=ref.path
        )
    _FILES.put(key, files)
    return files


def live_files(io: FileIO, ref: ManifestRef) -> tuple[DataFile, ...]:
    """The files of a manifest that are live in the version naming it (``ref.removed`` out)."""
    files = load_files(io, ref)
    if not ref.removed:
        return files
    gone = set(ref.removed)
    return tuple(f for f in files if f.path not in gone)


def load_bucket(io: FileIO, ref: ProducerRef) -> dict[str, ProducerRecord]:
    """The producer records of one bucket (cached by path and checksum)."""
    key = (ref.path, ref.checksum)
    hit = _BUCKETS.get(key)
    if hit is not None:
        return hit
    body = _read(io, ref.path, ref.checksum)
    try:
        if body.get("format") != PRODUCERS_FORMAT:
            raise ValueError(f"unknown format {body.get('format')!r}")
        records = {str(k): ProducerRecord.from_json(v) for k, v in body["producers"].items()}
    except (ValueError, KeyError, TypeError, AttributeError, AssertionError) as exc:
        raise ChecksumError(f"producer bucket is unreadable: {exc}", path=ref.path) from exc
    _BUCKETS.put(key, records)
    return records


def resolve(io: FileIO, snapshot: Snapshot) -> Snapshot:
    """``snapshot`` (parsed from a version file, refs only) with its files and producers read."""
    files: list[DataFile] = []
    for ref in snapshot.manifests:
        files.extend(live_files(io, ref))
    producers: dict[str, ProducerRecord] = {}
    for pref in snapshot.producer_refs:
        producers.update(load_bucket(io, pref))
    return dataclasses.replace(snapshot, data_files=tuple(files), producers=producers)


@dataclass(frozen=True, slots=True)
class _Write:
    path: str
    data: bytes


def plan_storage(io: FileIO, snapshot: Snapshot) -> tuple[Snapshot, list[_Write]]:
    """The manifests and buckets ``snapshot`` needs, reusing its parent's where unchanged.

    ``snapshot.manifests`` / ``producer_refs`` are still the parent's (inherited
    when the commit built it); the result carries its own, with ``data_files``
    in manifest order, plus the files to write before the version is published.
    """
    writes: list[_Write] = []
    manifests, ordered = _plan_manifests(io, snapshot, writes)
    buckets = _plan_buckets(io, snapshot, writes)
    stored = dataclasses.replace(
        snapshot, data_files=ordered, manifests=manifests, producer_refs=buckets
    )
    return stored, writes


def _plan_manifests(
    io: FileIO, snapshot: Snapshot, writes: list[_Write]
) -> tuple[tuple[ManifestRef, ...], tuple[DataFile, ...]]:
    live = {f.path for f in snapshot.data_files}
    kept: list[tuple[ManifestRef, tuple[DataFile, ...]]] = []
    covered: set[str] = set()
    for ref in snapshot.manifests:
        files = load_files(io, ref)
        survivors = tuple(f for f in files if f.path in live)
        gone = len(files) - len(survivors)
        if gone * 2 > len(files):
            continue  # mostly removed: its survivors go into the new manifest
        if gone:  # reuse the file, naming what is no longer live in it
            removed = tuple(sorted(f.path for f in files if f.path not in live))
            ref = dataclasses.replace(ref, removed=removed, rows=sum(f.num_rows for f in survivors))
        kept.append((ref, survivors))
        covered.update(f.path for f in survivors)
    fresh = [f for f in snapshot.data_files if f.path not in covered]
    if len(kept) + bool(fresh) > MAX_MANIFESTS:
        small = [(r, fs) for r, fs in kept if len(fs) < SMALL_MANIFEST_FILES]
        if len(small) > 1 or fresh:
            kept = [(r, fs) for r, fs in kept if len(fs) >= SMALL_MANIFEST_FILES]
            fresh = [f for _, fs in small for f in fs] + fresh
    refs = [r for r, _ in kept]
    ordered = [f for _, fs in kept for f in fs]
    if fresh:
        refs.append(_manifest(fresh, snapshot.version, writes))
        ordered.extend(fresh)
    return tuple(refs), tuple(ordered)


def _manifest(files: Sequence[DataFile], version: int, writes: list[_Write]) -> ManifestRef:
    body = {"format": MANIFEST_FORMAT, "files": [f.to_json() for f in files]}
    data, checksum = wrap(body)
    path = f"{MANIFEST_DIR}/m-{version:08d}-{uuid.uuid4().hex}.json"
    writes.append(_Write(path, data))
    ref = ManifestRef(path, checksum, len(files), sum(f.num_rows for f in files))
    _FILES.put((path, checksum), tuple(files))
    return ref


def _plan_buckets(io: FileIO, snapshot: Snapshot, writes: list[_Write]) -> tuple[ProducerRef, ...]:
    wanted: dict[int, dict[str, ProducerRecord]] = {}
    for producer, record in snapshot.producers.items():
        wanted.setdefault(bucket_of(producer), {})[producer] = record
    old = {ref.bucket: ref for ref in snapshot.producer_refs}
    refs: list[ProducerRef] = []
    for bucket in sorted(wanted):
        records = wanted[bucket]
        ref = old.get(bucket)
        if ref is not None and _same(load_bucket(io, ref), records):
            refs.append(ref)
            continue
        body = {
            "format": PRODUCERS_FORMAT,
            "producers": {k: v.to_json() for k, v in sorted(records.items())},
        }
        data, checksum = wrap(body)
        path = f"{PRODUCER_DIR}/p-{snapshot.version:08d}-{bucket:02d}-{uuid.uuid4().hex}.json"
        writes.append(_Write(path, data))
        refs.append(ProducerRef(bucket, path, checksum, len(records)))
        _BUCKETS.put((path, checksum), dict(records))
    return tuple(refs)


def _same(stored: Mapping[str, ProducerRecord], wanted: Mapping[str, ProducerRecord]) -> bool:
    """Whether a stored bucket holds exactly ``wanted`` (records unchanged by a commit are the
    very objects loaded from it, so identity answers almost always)."""
    if stored.keys() != wanted.keys():
        return False
    return all(stored[k] is v or stored[k] == v for k, v in wanted.items())


def write_all(io: FileIO, writes: Iterable[_Write]) -> None:
    """Write the planned files (unique names: a plain write, no put-if-absent needed)."""
    for w in writes:
        io.write_bytes(w.path, w.data)


__all__ = [
    "MANIFEST_DIR",
    "PRODUCER_DIR",
    "bucket_of",
    "load_bucket",
    "load_files",
    "plan_storage",
    "resolve",
    "unwrap",
    "wrap",
    "write_all",
]
