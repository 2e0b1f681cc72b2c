"""Manifests: exact round trip, embedded checksum catches any flipped byte or truncation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import tempfile
from pathlib import Path

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import (
    ChecksumError,
    FileExistsConflict,
    SnapshotNotFoundError,
    TableNotFoundError,
)
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.stats import ColumnChunkStats
from hasivu_compute.table.manifest import (
    HINT_PATH,
    ManifestStore,
    decode_manifest,
    encode_manifest,
    version_path,
)
from hasivu_compute.table.metadata import Snapshot, Tombstone
from hasivu_compute.table.producers import CommittedCall, ProducerRecord

from .helpers import UTC, fake_file, first_snapshot, forget_parsed_manifests

RECORD = ProducerRecord(4, (CommittedCall(3, "00ff", 10, 2), CommittedCall(4, "0abc", 0, 2)))


def test_records_of_the_older_format_are_read_as_unknown_calls() -> None:
    assert ProducerRecord.from_json(4) == ProducerRecord()


def sample():
    snap = first_snapshot()
    files = (
        fake_file("data/a.hseg", partition=()),
        fake_file("data/b.hseg", rows=3),
    )
    return dataclasses.replace(
        snap, version=2, parent=1, data_files=files, producers={"p1": RECORD}
    )


def _roundtrip(snap: Snapshot) -> Snapshot:
    """``snap`` published into a fresh store and decoded from its bytes by another store
    (refs dropped)."""
    with tempfile.TemporaryDirectory() as folder:
        io = FileIO.from_uri(folder)
        published = ManifestStore(io, "t").publish(snap)
        forget_parsed_manifests()
        again = ManifestStore(io, "t").load(snap.version)
        assert again is not published, "read back from storage, not from memory"
    return dataclasses.replace(again, manifests=(), producer_refs=())


def test_roundtrip_exact() -> None:
    snap = sample()
    assert _roundtrip(snap) == snap
    tomb = Tombstone(3, 123, ("data/x.hseg",))
    assert decode_manifest(encode_manifest(tomb), "x") == tomb


def test_version_files_of_the_first_format_are_still_read() -> None:
    import json

    from hasivu_compute.table.manifest import FORMAT

    snap = dataclasses.replace(sample(), producers={})
    body = {"format": FORMAT, "format_version": 1, **snap.to_json()}
    body["producers"] = {"p1": 4}
    raw = json.dumps(body, separators=(",", ":")).encode()
    data = b'{"checksum":"' + f"{xxhash.xxh64_intdigest(raw):016x}".encode() + b'","manifest":'
    old = decode_manifest(data + raw + b"}", "v1")
    assert isinstance(old, Snapshot) and old.data_files == sample().data_files
    assert old.producers == {"p1": ProducerRecord()}


def test_partition_values_keep_python_types() -> None:
    snap = first_snapshot()
    when = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    f = fake_file("data/p.hseg", partition=(when, None, "x", 3, b"\x00"))
    snap = dataclasses.replace(snap, data_files=(f,))
    again = _roundtrip(snap)
    assert again.data_files[0].partition == (when, None, "x", 3, b"\x00")


def test_every_single_byte_flip_is_detected() -> None:
    data = encode_manifest(sample())
    rng = random.Random(7)
    positions = rng.sample(range(len(data)), 200)
    for pos in positions:
        corrupted = bytearray(data)
        corrupted[pos] ^= 1 << rng.randrange(8)
        with pytest.raises(ChecksumError):
            decode_manifest(bytes(corrupted), "m")


def test_every_truncation_is_detected() -> None:
    data = encode_manifest(sample())
    for cut in list(range(0, 40)) + list(range(len(data) - 40, len(data))):
        with pytest.raises(ChecksumError):
            decode_manifest(data[:cut], "m")


def test_store_publish_load_latest(tmp_path: Path) -> None:
    store = ManifestStore(FileIO.from_uri(str(tmp_path)), "t")
    with pytest.raises(TableNotFoundError):
        store.latest()
    first = first_snapshot()
    store.publish(first)
    store.publish(first)  # the very same bytes: a retried publish, idempotent
    with pytest.raises(FileExistsConflict):
        store.publish(dataclasses.replace(first, timestamp_ms=first.timestamp_ms + 1))
    second = store.publish(sample())
    assert second.data_files == sample().data_files and len(second.manifests) == 1
    fresh = ManifestStore(FileIO.from_uri(str(tmp_path)), "t")
    assert fresh.versions() == [1, 2]
    assert fresh.latest() == second
    assert fresh.load(1) == first
    with pytest.raises(SnapshotNotFoundError):
        fresh.load(9)


def test_store_ignores_temporary_and_foreign_files(tmp_path: Path) -> None:
    io = FileIO.from_uri(str(tmp_path))
    store = ManifestStore(io, "t")
    store.publish(first_snapshot())
    io.write_bytes("metadata/v00000002.json.tmp-123", b"half")
    io.write_bytes("metadata/notes.txt", b"x")
    assert store.versions() == [1]


def test_corrupt_manifest_surfaces_checksum_error(tmp_path: Path) -> None:
    io = FileIO.from_uri(str(tmp_path))
    ManifestStore(io, "t").publish(first_snapshot())
    path = tmp_path / version_path(1)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x20
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError) as err:
        ManifestStore(io, "t").latest()
    assert err.value.path == version_path(1)


def test_tombstone_makes_version_unreadable_but_keeps_the_name(tmp_path: Path) -> None:
    store = ManifestStore(FileIO.from_uri(str(tmp_path)), "t")
    store.publish(first_snapshot())
    store.publish(sample())
    store.expire(Tombstone(1, 5))
    with pytest.raises(SnapshotNotFoundError, match="expired"):
        store.load(1)
    assert store.retained_versions() == [2]
    with pytest.raises(FileExistsConflict):
        store.publish(first_snapshot())


def test_version_hint_is_only_a_shortcut(tmp_path: Path) -> None:
    io = FileIO.from_uri(str(tmp_path))
    store = ManifestStore(io, "t")
    store.publish(first_snapshot())
    store.publish(sample())
    assert io.read_bytes(HINT_PATH) == b"2"
    for stale in (b"1", b"garbage", b"99", b""):
        io.write_bytes(HINT_PATH, stale)
        assert ManifestStore(io, "t").latest_version() == 2, stale
    io.delete(HINT_PATH)
    assert ManifestStore(io, "t").latest_version() == 2


def test_snapshot_cache_is_bounded(tmp_path: Path) -> None:
    from hasivu_compute.table.manifest import CACHED_SNAPSHOTS

    store = ManifestStore(FileIO.from_uri(str(tmp_path)), "t")
    snap = first_snapshot()
    for v in range(1, CACHED_SNAPSHOTS * 2 + 1):
        store.publish(dataclasses.replace(snap, version=v, parent=v - 1 or None))
    assert len(store._cache) == CACHED_SNAPSHOTS
    assert store.load(1).version == 1, "an evicted version is read again from storage"
    assert store._cache.get(CACHED_SNAPSHOTS * 2) is not None, "the newest stays cached"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.binary(max_size=10),
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)


@settings(max_examples=60, deadline=None)
@given(lo=scalars, hi=scalars, part=st.lists(scalars, max_size=3), nulls=st.integers(0, 5))
def test_manifest_roundtrip_property(lo, hi, part, nulls) -> None:
    f = dataclasses.replace(
        fake_file("data/x.hseg", partition=tuple(part)),
        stats={7: ColumnChunkStats(10, nulls, lo, hi, has_nan=nulls == 3)},
    )
    snap = dataclasses.replace(
        first_snapshot(),
        data_files=(f,),
        producers={"p": ProducerRecord(nulls, (CommittedCall(nulls, "ab", 3, 1),))},
    )
    assert _roundtrip(snap) == snap


def test_parsed_manifests_are_reused_by_content_not_by_version(tmp_path: Path) -> None:
    import pyarrow as pa

    from hasivu_compute.table.catalog import Catalog
    from hasivu_compute.table.manifest import decode_manifest, encode_manifest

    snap = ManifestStore(FileIO.from_uri(str(tmp_path / "x")), "x").publish(sample())
    data = encode_manifest(snap)
    assert decode_manifest(data, "a") is decode_manifest(data, "b"), "same bytes: parsed once"

    catalog = Catalog(FileIO.from_uri(str(tmp_path)))
    schema = pa.schema([("k", pa.int64())])
    first = catalog.create_table("t", schema)
    first.append(pa.table({"k": [1, 2, 3]}, schema=schema))
    old = catalog.load_table("t").snapshot()
    catalog.drop_table("t")
    second = catalog.create_table("t", schema)
    second.append(pa.table({"k": [7]}, schema=schema))
    new = catalog.load_table("t").snapshot()
    assert new.version == old.version, "a re-created table reuses version numbers"
    assert new.summary != old.summary or new.data_files != old.data_files, (
        "the re-created table's snapshot must not be the dropped table's cached one"
    )
    assert catalog.load_table("t").read().column("k").to_pylist() == [7]
