"""Connections and Ray's lifetime in one process: closing one connection never strands
another, a closed or orphaned connection fails at once, and Ctrl-C interrupts a wait.

Each scenario runs in a subprocess of its own, because it needs a process whose own
connection starts (and finally stops) Ray; the test stops that process by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TWO_CONNECTIONS = textwrap.dedent(
    """
    import sys, time
    import pyarrow as pa
    import ray
    import hasivu_compute as hc
    from ray.util.state import list_actors

    data = sys.argv[1]
    c1 = hc.connect(data_dir=data, num_shards=1, num_ingest_actors=1)
    assert c1.runtime.mode == "embedded"
    gcs = ray.get_runtime_context().gcs_address  # other Ray instances may run (the tests')
    names = {a.class_name for a in list_actors(address=gcs)}  # the state API answers
    assert "CoordinatorActor" in names and "ShardActor" in names, names
    c2 = hc.connect(data_dir=data, num_shards=1, num_ingest_actors=1)
    c1.create_table("t", pa.schema([("a", pa.int64())]))
    c1.ingest("t", pa.table({"a": list(range(100))}), producer_id="p", sequence=0)
    c1.close()  # it started Ray and created the shared coordinator
    assert ray.is_initialized(), "Ray stays up while another connection uses it"
    n = c2.sql("SELECT count(*) AS n FROM t").column("n")[0].as_py()
    assert n == 100, n
    t0 = time.perf_counter()
    try:
        c1.tables()
        raise SystemExit("a closed connection answered")
    except hc.ConnectionClosedError as exc:
        print("CLOSED", round(time.perf_counter() - t0, 3), exc, flush=True)
    c2.close()
    assert not ray.is_initialized(), "the last connection stops the Ray it started"
    c3 = hc.connect(data_dir=data, num_shards=1, num_ingest_actors=1)
    assert c3.table("t").count() == 100
    ray.shutdown()  # Ray shut down under a connection
    t0 = time.perf_counter()
    try:
        c3.sql("SELECT count(*) FROM t")
        raise SystemExit("an orphaned connection answered")
    except hc.ConnectionClosedError as exc:
        print("ORPHANED", round(time.perf_counter() - t0, 3), exc, flush=True)
    c3.close()
    print("OK", flush=True)
    """
)

LONG_INGEST = textwrap.dedent(
    """
    import sys
    import hasivu_compute as hc
    from hasivu_compute.datagen import ORDERS_SCHEMA, iter_orders

    c = hc.connect(data_dir=sys.argv[1], num_shards=1, num_ingest_actors=1)
    c.create_table("orders", ORDERS_SCHEMA, partition_by=["school_id"])
    print("STARTED", flush=True)
    try:
        c.ingest("orders", iter_orders(50_000_000, batch_rows=1_000_000), producer_id="big",
                 progress=False)
        print("FINISHED", flush=True)
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
    print("ROWS", c.table("orders").count(), flush=True)
    c.close()
    """
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}


def _run(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: this process and its Ray
            proc.wait(timeout=60)


def test_closing_one_connection_never_strands_another(tmp_path: Path) -> None:
    proc = _run(TWO_CONNECTIONS, str(tmp_path / "wh"))
    out, err = _stop(proc)
    assert proc.returncode == 0, err[-3000:]
    lines = {line.split()[0]: line for line in out.splitlines() if line}
    assert "OK" in lines, out
    for word in ("CLOSED", "ORPHANED"):
        seconds = float(lines[word].split()[1])
        assert seconds < 1.0, f"{word}: the error must come at once, took {seconds}s"
        assert "hc.connect" in lines[word], "the message says what to do"


def test_ctrl_c_interrupts_a_long_ingest_and_commits_nothing(tmp_path: Path) -> None:
    proc = _run(LONG_INGEST, str(tmp_path / "wh"))
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("STARTED"):
                break
        time.sleep(4.0)  # well into the ingest: batches are being written
        sent = time.perf_counter()
        os.kill(proc.pid, signal.SIGINT)
        rest = []
        for line in proc.stdout:
            rest.append(line)
            if line.startswith("INTERRUPTED") or line.startswith("FINISHED"):
                waited = time.perf_counter() - sent
                break
        out, err = _stop(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    text = "".join(rest) + out
    assert "INTERRUPTED" in text, text + err[-2000:]
    assert waited < 3.0, f"Ctrl-C took {waited:.1f}s to interrupt the call"
    assert "ROWS 0" in text, "an interrupted call commits nothing"
