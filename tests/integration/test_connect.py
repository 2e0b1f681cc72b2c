"""Connecting: embedded default, joining the session's Ray, and stopping only what we started."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_join_existing_ray_and_close_only_own_actors(ray_session: None, tmp_path: Path) -> None:
    import ray

    from hasivu_compute.runtime.session import coordinator_name
    from hasivu_compute.sdk import connect

    with connect(data_dir=tmp_path, num_shards=2) as c:
        assert c.runtime.mode == "joined"
        pids = c.runtime.shard_pids()
        assert len(set(pids)) == 2
        assert c.tables() == []
        name = coordinator_name(c.data_dir)
        assert name in _named_actors()
    assert ray.is_initialized(), "closing a joined connection must not stop the session's Ray"
    assert name not in _named_actors(), "the connection's coordinator must be stopped"
    for pid in pids:
        _assert_exits(pid)


def _named_actors() -> list[str]:
    import ray

    return [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]


def _assert_exits(pid: int, timeout: float = 30.0) -> None:
    import time

    import psutil

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    raise AssertionError(f"shard process {pid} still running after close()")


def test_embedded_default_starts_and_stops_its_own_ray(tmp_path: Path) -> None:
    # a fresh interpreter: hc.connect() with no address starts Ray, close() stops it
    script = textwrap.dedent(
        """
        import os, sys, psutil
        from hasivu_compute.sdk import connect
        import ray
        c = connect(num_cpus=1, num_shards=1)
        assert c.runtime.mode == "embedded", c.runtime.mode
        assert c.data_dir == os.path.abspath(os.environ["HASIVU_DATA_DIR"])
        assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"
        me = psutil.Process()
        started = [p.pid for p in me.children(recursive=True)]
        assert started, "embedded connect should have started Ray processes"
        c.close()
        assert not ray.is_initialized()
        gone, alive = psutil.wait_procs([psutil.Process(p) for p in started if psutil.pid_exists(p)], timeout=20)
        assert not alive, [p.pid for p in alive]
        print("OK")
        """
    )
    env = dict(os.environ, HASIVU_DATA_DIR=str(tmp_path / "embedded"))
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert "OK" in out
