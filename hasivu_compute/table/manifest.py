"""Version files: one small checksummed JSON file per version, published put-if-absent.

Layout under a table folder::

    metadata/v00000001.json   version 1 (create_table)
    metadata/v00000002.json   version 2 ...
    metadata/manifests/m-*.json   data-file manifests, shared by versions
    metadata/producers/p-*.json   producer buckets (ingest keys), shared by versions
    data/<partition dirs>/<uuid>.hseg

A version file holds the schema, partition spec and summary, and names its data
files and producers through manifest and bucket files that later versions reuse
(:mod:`hasivu_compute.table.manifest_files`): a commit writes what it changed,
not the whole table. Version files of the first format (every file inline) are
still read.

A manifest file is exactly ``{"checksum":"<16 hex>","manifest":<body>}`` where the
checksum is the xxh64 of the body's bytes as stored, so a flipped byte or a
truncation anywhere is caught before the JSON is trusted. The version file name
is the lock: publishing version N is a put-if-absent of ``vN.json``, so two
committers can never both publish N. The latest version is found by listing (no
pointer file that could be wrong: ``metadata/version-hint.txt`` is only a starting
point for probing forward, derivable from the listing and never trusted alone).
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import xxhash

from hasivu_compute._core.errors import (
    ChecksumError,
    FileExistsConflict,
    SnapshotNotFoundError,
    StorageError,
    TableNotFoundError,
)
from hasivu_compute._core.lru import LruCache
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.manifest_files import plan_storage, resolve, write_all
from hasivu_compute.table.metadata import Snapshot, Tombstone

FORMAT = "hasivu-table"
FORMAT_VERSION = 2
METADATA_DIR = "metadata"
DATA_DIR = "data"
HINT_PATH = f"{METADATA_DIR}/version-hint.txt"
CACHED_SNAPSHOTS = 8
_VERSION_RE = re.compile(r"^v(\d{8,})\.json$")
_PREFIX = b'{"checksum":"'
_MIDDLE = b'","manifest":'
_SUFFIX = b"}"


def version_path(version: int) -> str:
    """Path of a version's manifest, relative to the table folder."""
    return f"{METADATA_DIR}/v{version:08d}.json"


def encode_manifest(entry: Snapshot | Tombstone) -> bytes:
    """Version-file bytes of a snapshot or a tombstone, with the embedded checksum.

    A snapshot is written as its header: it must carry its own manifest and bucket
    refs (:func:`~hasivu_compute.table.manifest_files.plan_storage` gives them).
    """
    body_obj: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
    body_obj.update(entry.header_json() if isinstance(entry, Snapshot) else entry.to_json())
    body = json.dumps(body_obj, separators=(",", ":"), allow_nan=False).encode()
    digest = f"{xxhash.xxh64_intdigest(body):016x}".encode()
    return _PREFIX + digest + _MIDDLE + body + _SUFFIX


def decode_manifest(data: bytes, path: str) -> Snapshot | Tombstone:
    """Check a manifest's checksum, then parse it.

    Raises:
        ChecksumError: truncated, corrupted or not a manifest at all.
    """
    head = len(_PREFIX) + 16 + len(_MIDDLE)
    if (
        len(data) < head + len(_SUFFIX)
        or not data.startswith(_PREFIX)
        or data[len(_PREFIX) + 16 : head] != _MIDDLE
        or not data.endswith(_SUFFIX)
    ):
        raise ChecksumError("manifest is truncated or not a manifest", path=path)
    body = data[head : -len(_SUFFIX)]
    try:
        expected = int(data[len(_PREFIX) : len(_PREFIX) + 16], 16)
    except ValueError as exc:
        raise ChecksumError("manifest checksum field is corrupted", path=path) from exc
    if xxhash.xxh64_intdigest(body) != expected:
        raise ChecksumError("manifest checksum mismatch", path=path)
    known = _DECODED.get(expected, body)
    if known is not None:
        return known
    entry = _parse_body(body, path)
    _DECODED.put(expected, body, entry)
    return entry


def _parse_body(body: bytes, path: str) -> Snapshot | Tombstone:
    try:
        obj = json.loads(body)
        if obj.get("format") != FORMAT:
            raise ValueError(f"unknown format {obj.get('format')!r}")
        if obj.get("expired"):
            return Tombstone.from_json(obj)
        return Snapshot.from_json(obj)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # A body that passes the checksum but does not parse was written by a bug or a
        # newer format; still never data to trust.
        raise ChecksumError(f"manifest body is unreadable: {exc}", path=path) from exc


class _DecodedManifests:
    """Process-wide cache of parsed manifests, keyed by their verified content.

    Parsing a manifest (JSON plus every file's column stats) costs ~20 ms per 64
    files, and each query opens its tables afresh, so without this a query on a
    640-file table spent ~200 ms of driver time re-parsing the same bytes. The key
    is the content (checksum, and the bytes compared on a hit), never the path or
    version: a dropped and re-created table reuses version numbers, and a cache
    keyed by version would hand out the old table's snapshot.
    """

    def __init__(self, capacity: int) -> None:
        self._entries: LruCache[tuple[bytes, Snapshot | Tombstone]] = LruCache(capacity)

    def get(self, digest: int, body: bytes) -> Snapshot | Tombstone | None:
        hit = self._entries.get(digest)
        if hit is None or hit[0] != body:
            return None
        return hit[1]

    def put(self, digest: int, body: bytes, entry: Snapshot | Tombstone) -> None:
        self._entries.put(digest, (body, entry))


_DECODED = _DecodedManifests(capacity=64)


def _unresolved(snapshot: Snapshot) -> bool:
    """A format-2 snapshot whose files and producers were not read from their files yet."""
    return bool(
        (snapshot.manifests and not snapshot.data_files)
        or (snapshot.producer_refs and not snapshot.producers)
    )


def _remember_published(data: bytes, snapshot: Snapshot) -> None:
    """Enter freshly encoded manifest bytes into the content cache (they decode to ``snapshot``)."""
    head = len(_PREFIX) + 16 + len(_MIDDLE)
    body = data[head : -len(_SUFFIX)]
    _DECODED.put(int(data[len(_PREFIX) : len(_PREFIX) + 16], 16), body, snapshot)


class ManifestStore:
    """Reads and publishes the manifests of one table (``io`` is rooted at the table)."""

    def __init__(self, io: FileIO, table_name: str) -> None:
        self.io = io
        self.table_name = table_name
        # Snapshots are immutable, so caching is safe; bounded, because a long-lived
        # committer would otherwise keep every version's file list in memory.
        self._cache: LruCache[Snapshot] = LruCache(CACHED_SNAPSHOTS)

    def versions(self) -> list[int]:
        """Every version with a manifest file (expired ones included), ascending."""
        out = []
        for path in self.io.list(METADATA_DIR):
            m = _VERSION_RE.match(path.rsplit("/", 1)[-1])
            if m:
                out.append(int(m.group(1)))
        return sorted(out)

    def latest_version(self) -> int:
        """The highest published version; :class:`TableNotFoundError` if none.

        Starts from the hint file and probes forward (a couple of existence checks
        instead of listing every version); without a usable hint, lists.
        """
        hint = self._read_hint()
        if hint is not None and self.io.exists(version_path(hint)):
            version = hint
            while self.io.exists(version_path(version + 1)):
                version += 1
            return version
        versions = self.versions()
        if not versions:
            raise TableNotFoundError(f"table {self.table_name!r} does not exist")
        return versions[-1]

    def claimed_checksum(self, version: int) -> int | None:
        """The checksum ``version``'s manifest names in its first bytes (not verified here).

        It names the manifest's content for the price of a 29-byte read, so a
        process can tell whether the snapshot it holds for ``version`` is still the
        one on storage (a dropped and re-created table reuses version numbers)
        without reading and hashing the whole file (1.2 MB, ~1 ms at 768 files).
        Whoever *uses* a snapshot still gets it from :meth:`load_entry`, which
        verifies every byte. None if the file is missing or not a manifest.
        """
        head = len(_PREFIX) + 16
        try:
            with self.io.open_input(version_path(version)) as f:
                data = bytes(f.read_at(head, 0))
        except (FileNotFoundError, StorageError, OSError):
            return None
        if len(data) != head or not data.startswith(_PREFIX):
            return None
        try:
            return int(data[len(_PREFIX) :], 16)
        except ValueError:
            return None

    def _holds(self, path: str, data: bytes) -> bool:
        try:
            return self.io.read_bytes(path) == data
        except (StorageError, OSError):
            return False

    def _cached(self, version: int) -> Snapshot | None:
        return self._cache.get(version)

    def _remember(self, snapshot: Snapshot) -> None:
        self._cache.put(snapshot.version, snapshot)

    def _read_hint(self) -> int | None:
        try:
            return int(self.io.read_bytes(HINT_PATH).decode("ascii"))
        except (FileNotFoundError, ValueError, UnicodeDecodeError, OSError):
            return None

    def _write_hint(self, version: int) -> None:
        # Only ever a shortcut: it is written after the version file exists, and a stale,
        # missing or broken hint just costs a listing.
        with contextlib.suppress(Exception):
            self.io.write_bytes(HINT_PATH, str(version).encode("ascii"))

    def load_entry(self, version: int, *, use_cache: bool = True) -> Snapshot | Tombstone:
        """The manifest of ``version`` (snapshot or tombstone), checksum-verified, with the
        data files and producers of the manifest and bucket files it names.

        Snapshots are immutable, so they are cached; ``use_cache=False`` re-reads the
        bytes (verification must look at storage, not at memory).
        """
        cached = self._cached(version) if use_cache else None
        if cached is not None:
            return cached
        path = version_path(version)
        try:
            data = self.io.read_bytes(path)
        except FileNotFoundError as exc:
            raise SnapshotNotFoundError(
                f"table {self.table_name!r} has no version {version}"
            ) from exc
        entry = decode_manifest(data, path)
        if entry.version != version:
            raise ChecksumError(f"manifest claims version {entry.version}", path=path)
        if isinstance(entry, Snapshot):
            if _unresolved(entry):
                entry = resolve(self.io, entry)
                _remember_published(data, entry)
            self._remember(entry)
        return entry

    def load(self, version: int) -> Snapshot:
        """The snapshot of ``version``; :class:`SnapshotNotFoundError` if absent or expired."""
        entry = self.load_entry(version)
        if isinstance(entry, Tombstone):
            raise SnapshotNotFoundError(
                f"version {version} of table {self.table_name!r} has expired; "
                f"retained versions: {self.retained_versions()}"
            )
        return entry

    def latest(self) -> Snapshot:
        """The current snapshot (the highest version; never a tombstone)."""
        return self.load(self.latest_version())

    def retained_versions(self) -> list[int]:
        """Versions that can still be read (not expired), ascending."""
        return [v for v in self.versions() if isinstance(self.load_entry(v), Snapshot)]

    def publish(self, snapshot: Snapshot) -> Snapshot:
        """Publish a new version; :class:`FileExistsConflict` if another committer took it.

        The manifest and bucket files the version needs are written first (unique
        names; a lost race leaves them unreferenced, for vacuum). A put whose reply
        was lost (the client retried and got "exists", or gave up with an error) is
        resolved by reading the version back: if it holds exactly our bytes, the
        publish did happen and is reported as a success, so a commit is never
        applied twice nor reported failed when it landed.

        Returns:
            The snapshot as stored: its own manifest refs, files in manifest order.
        """
        snapshot, writes = plan_storage(self.io, snapshot)
        write_all(self.io, writes)
        path = version_path(snapshot.version)
        data = encode_manifest(snapshot)
        try:
            self.io.put_if_absent(path, data)
        except (FileExistsConflict, StorageError, OSError):
            if not self._holds(path, data):
                raise
        self._remember(snapshot)
        # The committer's next commit (often from a fresh Table handle) reads these very
        # bytes back: seeding the content cache saves re-parsing them, which took ~35% of
        # the coordinator's time in a 640-file ingest (JSON parse of every file's stats).
        _remember_published(data, snapshot)
        self._write_hint(snapshot.version)
        return snapshot

    def expire(self, tombstone: Tombstone) -> None:
        """Replace a version's manifest by a tombstone (atomically; the name stays taken)."""
        self.io.write_bytes(version_path(tombstone.version), encode_manifest(tombstone))
        self._cache.pop(tombstone.version)
