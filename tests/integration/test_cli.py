"""``hasivu demo`` end to end on a small data set (joins the session's Ray)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_demo_answers_every_dashboard_question(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hasivu_compute.cli.main import main

    status = main(["demo", "--orders", "30000", "--schools", "40", "--data-dir", str(tmp_path)])
    out = " ".join(capsys.readouterr().out.split())  # rich wraps lines at the terminal width
    assert status == 0, out
    for title in (
        "Revenue by school and month",
        "Top menu items",
        "week of",
        "Participation",
        "SQL",
    ):
        assert title in out, f"missing answer: {title}\n{out}"
    assert "ingested 30,000 orders" in out
    assert re.search(r"partitions 1 of 1[0-9]", out), (
        "the one-school question must prune to one partition"
    )
    assert "demo finished" in out


def test_cli_reports_errors_without_traceback(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hasivu_compute.cli.main import main

    status = main(["sql", "SELECT * FROM nowhere", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "TableNotFoundError" in out and "Traceback" not in out
