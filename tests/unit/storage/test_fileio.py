"""FileIO over a local folder: atomic writes, put-if-absent, listing, deletes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from hasivu_compute._core.errors import ConfigError, FileExistsConflict
from hasivu_compute.storage.fileio import FileIO, is_temporary


@pytest.fixture
def io(tmp_path: Path) -> FileIO:
    return FileIO.from_uri(str(tmp_path / "root"))


def test_write_read_roundtrip_and_random_access(io: FileIO) -> None:
    io.write_bytes("a/b/c.bin", b"hello world")
    assert io.read_bytes("a/b/c.bin") == b"hello world"
    with io.open_input("a/b/c.bin") as f:
        assert f.size() == 11
        assert bytes(f.read_at(5, 6)) == b"world"
    assert io.exists("a/b/c.bin")
    assert not io.exists("a/b/missing.bin")


def test_read_missing_raises_file_not_found(io: FileIO) -> None:
    with pytest.raises(FileNotFoundError):
        io.read_bytes("nope.json")


def test_put_if_absent_never_overwrites(io: FileIO) -> None:
    io.put_if_absent("m/v1.json", b"first")
    with pytest.raises(FileExistsConflict):
        io.put_if_absent("m/v1.json", b"second")
    assert io.read_bytes("m/v1.json") == b"first"
    # no temporary files are left behind by either call
    assert io.list("m") == ["m/v1.json"]


def test_put_if_absent_race_has_exactly_one_winner(io: FileIO) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(8)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            io.put_if_absent("race/v.json", f"writer {i}".encode())
            winners.append(i)
        except FileExistsConflict:
            pass

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1, "exactly one put-if-absent must win"
    assert io.read_bytes("race/v.json") == f"writer {winners[0]}".encode()


def test_list_is_recursive_sorted_and_relative(io: FileIO) -> None:
    for p in ["x/2.bin", "x/1.bin", "x/y/3.bin", "z.bin"]:
        io.write_bytes(p, b".")
    assert io.list("x") == ["x/1.bin", "x/2.bin", "x/y/3.bin"]
    assert io.list() == ["x/1.bin", "x/2.bin", "x/y/3.bin", "z.bin"]
    assert io.list("missing") == []
    assert io.list_dirs() == ["x"]
    statuses = io.list_status("x/y")
    assert statuses[0].size == 1 and statuses[0].mtime_s > 0


def test_delete_is_idempotent_and_delete_tree(io: FileIO) -> None:
    io.write_bytes("t/a.bin", b"1")
    io.delete("t/a.bin")
    io.delete("t/a.bin")
    assert not io.exists("t/a.bin")
    io.write_bytes("u/v/w.bin", b"1")
    io.delete_tree("u")
    assert io.list("u") == []
    io.delete_tree("u")


def test_child_is_rooted_below(io: FileIO) -> None:
    child = io.child("tables/orders")
    child.write_bytes("data/f.bin", b"x")
    assert io.read_bytes("tables/orders/data/f.bin") == b"x"
    assert child.list() == ["data/f.bin"]


def test_write_bytes_leaves_no_partial_file_on_failure(io: FileIO, monkeypatch) -> None:
    def boom(*_a: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        io.write_bytes("d/f.bin", b"data")
    assert io.list("d") == [], "neither the target nor a temporary file may remain"


def test_temporary_names_are_recognised() -> None:
    assert is_temporary("metadata/v00000001.json.tmp-abc")
    assert not is_temporary("metadata/v00000001.json")


def test_local_uri_rejects_s3_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        FileIO.from_uri(str(tmp_path), endpoint_override="x")
    with pytest.raises(ConfigError):
        FileIO.from_uri("s3://")


def test_file_uri_prefix(tmp_path: Path) -> None:
    io = FileIO.from_uri(f"file://{tmp_path}/f")
    io.write_bytes("a", b"1")
    assert (tmp_path / "f" / "a").read_bytes() == b"1"
    assert io.is_local and io.uri == str(tmp_path / "f")
