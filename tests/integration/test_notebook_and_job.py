"""The quickstart notebook runs headless, and the example Ray job joins an existing cluster."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _session_address() -> str:
    import ray

    return str(ray.get_runtime_context().gcs_address)


def test_quickstart_notebook_executes(
    ray_session: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    # the kernel's hc.connect() joins the session's Ray instead of starting a second one
    monkeypatch.setenv("RAY_ADDRESS", _session_address())
    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell; stops its kernel
    text = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    assert "['orders']" in text, "c.tables() lists the table the notebook created"
    assert "(200000, 2)" in text, "the first ingest writes every row (rows, version)"
    assert "(0, True, 2)" in text, "the retried ingest must add nothing (rows, duplicate, version)"
    assert "{'now': 250000, 'version 2': 200000}" in text, "time travel counts each version"
    assert "Analyze:" in text and "read partitions 1 of 8" in text


def test_example_job_is_exactly_once(ray_session: None, tmp_path: Path) -> None:
    args = [
        sys.executable,
        str(ROOT / "jobs" / "school_month_revenue.py"),
        "--address",
        _session_address(),
        "--data-dir",
        str(tmp_path / "wh"),
        "--month",
        "2025-03",
        "--sample-orders",
        "20000",
    ]
    # one shard and one ingest actor per run: actor processes are what costs on 2 cores
    env = dict(os.environ, HASIVU_NUM_SHARDS="1", HASIVU_NUM_INGEST_ACTORS="1")
    outputs = []
    for _ in range(2):
        proc = subprocess.run(args, capture_output=True, text=True, timeout=240, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outputs.append(proc.stdout)
    schools = _paid_schools_in_march(20_000)
    first = re.search(
        r"^2025-03: (\d+) schools, wrote (\d+) rows \(version \w+\)$", outputs[0], re.M
    )
    assert first, outputs[0]
    assert int(first[1]) == int(first[2]) == schools, "one row per school with paid orders"
    again = re.search(
        r"^2025-03: (\d+) schools, already written \(version \w+\)$", outputs[1], re.M
    )
    assert again, outputs[1]
    assert int(again[1]) == schools, "re-running the job for the same month adds nothing"


def _paid_schools_in_march(n_orders: int) -> int:
    """Schools with a paid order in 2025-03 among the job's sample orders (DuckDB)."""
    import duckdb

    from hasivu_compute.datagen import orders

    con = duckdb.connect()
    con.register("orders", orders(n_orders))  # what --sample-orders generates
    return int(
        con.sql(
            "SELECT count(DISTINCT school_id) FROM orders WHERE status = 'paid' "
            "AND meal_date >= DATE '2025-03-01' AND meal_date < DATE '2025-04-01'"
        ).fetchall()[0][0]
    )
