"""Tables on S3, against a real S3 API: a moto server started here on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import ChecksumError, FileExistsConflict
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog

pytestmark = pytest.mark.integration

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("school_id", pa.int32()),
        pa.field("meal_date", pa.date32()),
        pa.field("amount", pa.float64()),
    ]
)


def batch(start: int, n: int) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "school_id": pa.array([i % 5 for i in ids], pa.int32()),
            "meal_date": pa.array([19_000 + i % 40 for i in ids], pa.int32()).cast(pa.date32()),
            "amount": pa.array([i * 0.5 for i in ids]),
        }
    )


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, Any]]:
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        options = {
            "endpoint_override": f"{host}:{port}",
            "scheme": "http",
            "access_key": "testing",
            "secret_key": "testing",
            "region": "us-east-1",
        }
        client = boto3.client(
            "s3",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket="lake")
        yield {"options": options, "client": client}
    finally:
        server.stop()


def fileio(s3: dict[str, Any], prefix: str) -> FileIO:
    return FileIO.from_uri(f"s3://lake/{prefix}", **s3["options"])


def test_fileio_basics_and_conditional_put(s3: dict[str, Any]) -> None:
    io = fileio(s3, "basics")
    io.write_bytes("a/b.bin", b"hello")
    assert io.read_bytes("a/b.bin") == b"hello"
    with io.open_input("a/b.bin") as f:
        assert bytes(f.read_at(3, 1)) == b"ell"
    io.put_if_absent("m/v1.json", b"first")
    with pytest.raises(FileExistsConflict):
        io.put_if_absent("m/v1.json", b"second")
    assert io.read_bytes("m/v1.json") == b"first"
    assert io.list() == ["a/b.bin", "m/v1.json"]
    assert io.list_dirs() == ["a", "m"]
    io.delete("a/b.bin")
    io.delete("a/b.bin")
    assert not io.exists("a/b.bin")


def test_conditional_put_race_has_one_winner(s3: dict[str, Any]) -> None:
    io = fileio(s3, "race")
    winners: list[int] = []
    barrier = threading.Barrier(6)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            io.put_if_absent("v.json", str(i).encode())
            winners.append(i)
        except FileExistsConflict:
            pass

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert io.read_bytes("v.json") == str(winners[0]).encode()


def test_table_lifecycle_on_s3(s3: dict[str, Any]) -> None:
    catalog = Catalog(fileio(s3, "warehouse"))
    table = catalog.create_table(
        "meals", SCHEMA, partition_by=[("school_id", "bucket[2]"), ("meal_date", "month")]
    )
    assert catalog.list_tables() == ["meals"]
    r1 = table.append(batch(0, 200), producer_id="p", sequence=1)
    assert r1.version == 2 and not r1.duplicate
    assert table.append(batch(0, 200), producer_id="p", sequence=1).duplicate
    table.add_column("note", pa.string())
    table.append(
        batch(200, 100).append_column("note", pa.array(["x"] * 100)), producer_id="p", sequence=2
    )

    reopened = Catalog(fileio(s3, "warehouse")).load_table("meals")
    out = reopened.read().sort_by("id")
    assert out.num_rows == 300
    assert out.column("note").null_count == 200
    assert reopened.read(version=2).num_rows == 200
    assert reopened.snapshot().producers["p"].last == 2
    assert reopened.verify().ok

    old_files = reopened.snapshot().data_files
    old_metadata = {m.path for m in reopened.snapshot().manifests}
    reopened.commit_rewrite(remove=old_files, add=reopened.write_data_files(reopened.read()))
    assert reopened.expire_snapshots(keep_last=1) == [1, 2, 3, 4]
    deleted = set(reopened.vacuum(grace_period_s=3600).deleted)
    assert {f.path for f in old_files} | old_metadata <= deleted
    assert all(p.startswith("metadata/") for p in deleted - {f.path for f in old_files})
    assert reopened.read().num_rows == 300
    assert reopened.verify().ok
    catalog.drop_table("meals")
    assert catalog.list_tables() == []


def test_concurrent_committers_on_s3(s3: dict[str, Any]) -> None:
    catalog = Catalog(fileio(s3, "concurrent"))
    catalog.create_table("t", SCHEMA)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        table = Catalog(fileio(s3, "concurrent")).load_table("t")
        try:
            for seq in range(1, 6):
                table.append(batch(w * 1000 + seq * 10, 10), producer_id=f"w{w}", sequence=seq)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    table = catalog.load_table("t")
    assert table.versions() == list(range(1, 17))
    assert table.read().num_rows == 150
    producers = table.snapshot().producers
    assert {p: r.last for p, r in producers.items()} == {"w0": 5, "w1": 5, "w2": 5}
    assert all([c.sequence for c in r.calls] == [1, 2, 3, 4, 5] for r in producers.values())


def test_corrupt_manifest_on_s3_is_a_checksum_error(s3: dict[str, Any]) -> None:
    catalog = Catalog(fileio(s3, "corrupt"))
    table = catalog.create_table("t", SCHEMA)
    table.append(batch(0, 10))
    client = s3["client"]
    key = "corrupt/t/metadata/v00000002.json"
    raw = bytearray(client.get_object(Bucket="lake", Key=key)["Body"].read())
    raw[len(raw) // 3] ^= 0x04
    client.put_object(Bucket="lake", Key=key, Body=bytes(raw))
    with pytest.raises(ChecksumError):
        catalog.load_table("t").read()
    assert not catalog.load_table("t").verify().ok
