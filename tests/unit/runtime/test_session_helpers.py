"""Connection helpers that need no Ray: data locations, coordinator names, Ray environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hasivu_compute._core.config import load_settings
from hasivu_compute.runtime.cluster import apply_env, ray_env_vars
from hasivu_compute.runtime.session import coordinator_name, resolve_data_uri


def test_local_paths_become_absolute_and_uris_are_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert resolve_data_uri("wh", settings) == str(tmp_path / "wh")
    assert resolve_data_uri("s3://bucket/prefix/", settings) == "s3://bucket/prefix"
    monkeypatch.setenv("HASIVU_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_uri(None, load_settings()) == str(tmp_path / "env")


def test_one_coordinator_name_per_location() -> None:
    # every process (drivers, jobs, actors) must derive the same name: a constant per location
    assert coordinator_name("/a") == "hasivu-coordinator-0bcfa9bbb5ba"
    assert coordinator_name("/a") != coordinator_name("/b")
    assert coordinator_name("/a").startswith("hasivu-coordinator-")


def test_ray_env_is_consistent_and_never_reports_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "1")
    env = apply_env(load_settings())
    assert env == {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"
    assert ray_env_vars(load_settings()) == env


def test_cli_renders_arrow_tables() -> None:
    import pyarrow as pa
    from rich.console import Console

    from hasivu_compute.cli.render import arrow_table

    console = Console(record=True, width=100)
    console.print(arrow_table(pa.table({"school": [1, 2], "revenue": [1234.5, None]}), "t", 1))
    text = console.export_text()
    assert "1,234.50" in text and "1 more rows" in text


def test_a_progress_bar_only_for_long_work() -> None:
    from hasivu_compute.runtime.session import PROGRESS_MIN_ROWS, _NoBar, _progress_bar

    assert isinstance(_progress_bar("t", 300, None), _NoBar), "a 300-row call shows no bar"
    assert isinstance(_progress_bar("t", PROGRESS_MIN_ROWS - 1, None), _NoBar)
    assert isinstance(_progress_bar("t", 10**9, False), _NoBar), "progress=False: never"
    long = _progress_bar("t", PROGRESS_MIN_ROWS, None)
    try:
        assert not isinstance(long, _NoBar), "a long call gets a bar (after a delay)"
    finally:
        long.close()
    shown = _progress_bar("t", 10, True)
    try:
        assert not isinstance(shown, _NoBar), "progress=True shows it whatever the size"
    finally:
        shown.close()


def test_hasivu_tables_reads_the_catalog_without_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow as pa
    import ray

    from hasivu_compute.cli.main import main
    from hasivu_compute.storage.fileio import FileIO
    from hasivu_compute.table.catalog import Catalog

    def no_ray(*args: object, **kwargs: object) -> None:
        raise AssertionError("hasivu tables must not start Ray")

    monkeypatch.setattr(ray, "init", no_ray)
    Catalog(FileIO.from_uri(str(tmp_path / "wh"))).create_table(
        "orders", pa.schema([("a", pa.int8())])
    )
    assert main(["tables", "--data-dir", str(tmp_path / "wh")]) == 0
    assert capsys.readouterr().out.split() == ["orders"]
    assert main(["tables", "--data-dir", str(tmp_path / "typo")]) == 1
    assert "no warehouse at" in capsys.readouterr().out
    assert not (tmp_path / "typo").exists()
