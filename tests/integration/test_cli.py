"""``hasivu demo`` end to end on a small data set (joins the session's Ray)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

pytestmark = pytest.mark.integration


def test_demo_answers_every_dashboard_question(
    ray_session: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hasivu_compute.cli import demo
    from hasivu_compute.cli.main import main

    answers: dict[str, pa.Table] = {}
    real_run_demo = demo.run_demo

    def keep_answers(*args: Any, **kwargs: Any) -> Any:
        result = real_run_demo(*args, **kwargs)
        answers.update({a.title: a.table for a in result})
        return result

    monkeypatch.setattr(demo, "run_demo", keep_answers)
    status = main(["demo", "--orders", "30000", "--schools", "40", "--data-dir", str(tmp_path)])
    out = " ".join(capsys.readouterr().out.split())  # rich wraps lines at the terminal width
    assert status == 0, out
    for title in (
        "Revenue by school and month",
        "Top menu items",
        "week of",
        "Participation",
        "favourite item per week",
        "SQL",
    ):
        assert title in out, f"missing answer: {title}\n{out}"
    assert "ingested 30,000 orders" in out
    assert re.search(r"partitions 1 of 1[0-9]", out), (
        "the one-school question must prune to one partition"
    )
    assert "demo finished" in out
    _answers_match_duckdb(answers)
    top = answers["Revenue by school and month (top 10)"].column("revenue")[0].as_py()
    assert f"{top:,.2f}" in out, "the printed table shows the answer"


def _answers_match_duckdb(answers: dict[str, pa.Table]) -> None:
    """Each dashboard answer equals DuckDB's over the orders the demo generated."""
    import duckdb

    from hasivu_compute.datagen import menu_items, schools
    from hasivu_compute.datagen import orders as generate

    con = duckdb.connect()
    con.register("orders", generate(30_000, seed=0, n_schools=40))  # the demo's rows
    con.register("schools", schools(40, 0))
    con.register("menu_items", menu_items(0))
    paid = "FROM orders WHERE status = 'paid'"

    def duck(sql: str) -> list[dict[str, Any]]:
        return con.sql(sql).to_arrow_table().to_pylist()

    assert len(answers) == 6, sorted(answers)
    _same_rows(
        answers["Revenue by school and month (top 10)"],
        duck(
            "SELECT school_id, month(meal_date) AS month, sum(amount) AS revenue, "
            f"count(*) AS orders {paid} GROUP BY ALL ORDER BY revenue DESC LIMIT 10"
        ),
    )
    _same_rows(
        answers["Top menu items"],
        duck(
            "SELECT o.item_id, m.name, count(*) AS orders, sum(o.quantity) AS portions, "
            "sum(o.amount) AS revenue FROM orders o JOIN menu_items m ON o.item_id = m.item_id "
            "GROUP BY o.item_id, m.name ORDER BY orders DESC, o.item_id LIMIT 10"
        ),
    )
    week = answers["School 17, week of 2025-03-03"]
    assert week.num_rows > 0, "an empty week would prove nothing"
    _same_rows(
        week,
        duck(
            "SELECT meal_date, count(*) AS orders, sum(amount) AS revenue FROM orders "
            "WHERE school_id = 17 AND meal_date BETWEEN DATE '2025-03-03' AND DATE '2025-03-09' "
            "GROUP BY meal_date ORDER BY meal_date"
        ),
    )
    _same_rows(
        answers["Participation rate (lowest 10 schools)"],
        duck(
            "WITH p AS (SELECT school_id, count(DISTINCT student_id) AS students_ordering "
            f"{paid} GROUP BY school_id) "
            "SELECT s.school_id, s.enrolment, p.students_ordering, "
            "round(100.0 * p.students_ordering / s.enrolment, 1) AS participation_pct "
            "FROM p JOIN schools s ON p.school_id = s.school_id "
            "ORDER BY participation_pct, s.school_id LIMIT 10"
        ),
    )
    favourite = answers["School 17: favourite item per week (window)"]
    assert favourite.num_rows > 0
    _same_rows(
        favourite,
        duck(
            "SELECT week, item_id, orders FROM (SELECT CAST(date_trunc('week', meal_date) AS DATE) AS week, "
            "item_id, count(*) AS orders, rank() OVER (PARTITION BY CAST(date_trunc('week', "
            "meal_date) AS DATE) ORDER BY count(*) DESC, item_id) AS r FROM orders WHERE school_id = 17 "
            "AND status = 'paid' GROUP BY week, item_id) WHERE r = 1 ORDER BY week LIMIT 10"
        ),
    )
    _same_rows(
        answers["SQL: orders by status"],
        duck(
            "SELECT status, count(*) AS orders, sum(amount) AS amount FROM orders "
            "GROUP BY status ORDER BY orders DESC"
        ),
    )


def _same_rows(got: pa.Table, want: list[dict[str, Any]]) -> None:
    """Same rows in the same order; floats (sums in another order) to 1e-9."""
    rows = got.to_pylist()
    assert [list(r) for r in rows[:1]] == [list(r) for r in want[:1]], "column names"
    assert len(rows) == len(want), (rows, want)
    for mine, theirs in zip(rows, want, strict=True):
        for name, value in mine.items():
            expected = theirs[name]
            if isinstance(value, float):
                assert value == pytest.approx(expected, rel=1e-9), (name, mine, theirs)
            else:
                assert value == expected, (name, mine, theirs)


def test_cli_reports_errors_without_traceback(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hasivu_compute.cli.main import main

    status = main(["sql", "SELECT * FROM nowhere", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "TableNotFoundError" in out and "Traceback" not in out
