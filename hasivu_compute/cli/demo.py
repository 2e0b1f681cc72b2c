"""``hasivu demo``: the whole engine in two minutes on a laptop.

Generates the school-meals orders (deterministic), streams them through the
ingest actors with a progress bar, loads the schools and menu_items dimensions,
and answers the dashboard's questions with the DataFrame API and SQL (joins
with the dimensions included), printing each answer with its cold and warm time,
rows scanned per second and what pruning skipped.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from hasivu_compute.cli.render import arrow_table

BATCH_ROWS = 500_000
PARTITIONS = 16


@dataclass(frozen=True, slots=True)
class Answer:
    """One dashboard question, answered."""

    title: str
    table: pa.Table
    cold_s: float
    warm_s: float
    rows_scanned: int
    bytes_scanned: int
    pruning: str
    shards: int


def _questions(c: Any, school: int, week_start: dt.date) -> list[tuple[str, Any]]:
    from hasivu_compute.expr import col, count

    orders = c.table("orders")
    paid = orders.filter(col("status") == "paid")
    return [
        (
            "Revenue by school and month (top 10)",
            paid.group_by("school_id", col("meal_date").month().alias("month"))
            .agg(col("amount").sum().alias("revenue"), count().alias("orders"))
            .sort("revenue", descending=True)
            .limit(10),
        ),
        (
            "Top menu items",
            c.sql_df(
                "SELECT o.item_id, m.name, count(*) AS orders, sum(o.quantity) AS portions, "
                "sum(o.amount) AS revenue FROM orders o JOIN menu_items m ON o.item_id = m.item_id "
                "GROUP BY o.item_id, m.name ORDER BY orders DESC, o.item_id LIMIT 10"
            ),
        ),
        (
            f"School {school}, week of {week_start.isoformat()}",
            orders.filter(
                (col("school_id") == school)
                & col("meal_date").between(week_start, week_start + dt.timedelta(days=6))
            )
            .group_by("meal_date")
            .agg(count().alias("orders"), col("amount").sum().alias("revenue"))
            .sort("meal_date"),
        ),
        (
            "Participation rate (lowest 10 schools)",
            c.sql_df(
                "WITH p AS (SELECT school_id, count(DISTINCT student_id) AS students_ordering "
                "FROM orders WHERE status = 'paid' GROUP BY school_id) "
                "SELECT s.school_id, s.enrolment, p.students_ordering, "
                "round(100.0 * p.students_ordering / s.enrolment, 1) AS participation_pct "
                "FROM p JOIN schools s ON p.school_id = s.school_id "
                "ORDER BY participation_pct, s.school_id LIMIT 10"
            ),
        ),
        (
            f"School {school}: favourite item per week (window)",
            c.sql_df(
                "SELECT week, item_id, orders FROM (SELECT CAST(date_trunc('week', meal_date) AS DATE) AS week, "
                "item_id, count(*) AS orders, rank() OVER (PARTITION BY "
                "CAST(date_trunc('week', meal_date) AS DATE) ORDER BY count(*) DESC, item_id) "
                "AS r "
                f"FROM orders WHERE school_id = {school} AND status = 'paid' "
                "GROUP BY week, item_id) WHERE r = 1 ORDER BY week LIMIT 10"
            ),
        ),
        (
            "SQL: orders by status",
            c.sql_df(
                "SELECT status, count(*) AS orders, sum(amount) AS amount "
                "FROM orders GROUP BY status ORDER BY orders DESC"
            ),
        ),
    ]


def _answer(c: Any, title: str, frame: Any) -> Answer:
    runner = c.runtime.query_runner()
    started = time.perf_counter()
    runner.run(frame.plan)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    result = runner.run(frame.plan)
    warm = time.perf_counter() - started
    stats = result.stats
    return Answer(
        title=title,
        table=result.table,
        cold_s=cold,
        warm_s=warm,
        rows_scanned=stats.rows_scanned,
        bytes_scanned=stats.bytes_scanned,
        pruning=stats.pruning_text,
        shards=stats.shards_used,
    )


def _load_dimensions(c: Any, n_schools: int, seed: int) -> None:
    """The dimension tables the questions join with (small: one call and a flush each)."""
    from hasivu_compute.datagen import menu_items, schools

    for name, table in (("schools", schools(n_schools, seed)), ("menu_items", menu_items(seed))):
        c.create_table(name, table.schema, if_not_exists=True)
        c.ingest(name, table, producer_id=f"demo-{name}", sequence=1)
        c.flush(name)


def _print_answer(console: Console, answer: Answer, shown: pa.Table) -> None:
    console.print(arrow_table(shown, title=f"[bold]{answer.title}[/]", max_rows=10))
    rate = answer.rows_scanned / answer.cold_s if answer.cold_s > 0 else 0.0
    console.print(
        f"  cold {answer.cold_s * 1e3:,.1f} ms · warm {answer.warm_s * 1e3:,.1f} ms · "
        f"scanned {answer.rows_scanned:,} rows ({answer.bytes_scanned / 1e6:,.1f} MB decoded) · "
        f"{rate / 1e6:,.1f} M rows/s · {answer.shards} shard(s) · {answer.pruning}\n"
    )


def run_demo(
    console: Console,
    n_orders: int = 3_000_000,
    n_schools: int = 500,
    data_dir: str | None = None,
    address: str | None = None,
    keep: bool = False,
    seed: int = 0,
) -> list[Answer]:
    """Generate, ingest and query the school-meals data; returns the answers."""
    from hasivu_compute.datagen import ORDERS_SCHEMA, iter_orders
    from hasivu_compute.sdk import connect

    folder = data_dir or tempfile.mkdtemp(prefix="hasivu-demo-")
    total = time.perf_counter()
    try:
        console.rule("[bold]HASIVU compute demo")
        started = time.perf_counter()
        with connect(address=address, data_dir=folder) as c:
            console.print(
                f"connected ({c.runtime.mode}) in {time.perf_counter() - started:.1f}s · "
                f"{len(c.runtime.shards)} shards · data in {folder}"
            )
            c.runtime.ingest_actors()  # start them now: they warm up while data is generated
            c.create_table(
                "orders", ORDERS_SCHEMA, partition_by=[("school_id", f"bucket[{PARTITIONS}]")]
            )
            batches = iter_orders(
                n_orders,
                batch_rows=min(BATCH_ROWS, max(n_orders, 1)),
                seed=seed,
                n_schools=n_schools,
            )
            result = c.ingest(
                "orders", batches, producer_id="demo-generator", total_rows=n_orders, progress=True
            )
            console.print(
                f"ingested [bold]{result.rows:,}[/] orders in {result.seconds:.1f}s "
                f"({result.rows_per_second / 1e3:,.0f} K rows/s, {result.batches} batches, "
                f"snapshot v{result.version})"
            )
            _load_dimensions(c, n_schools, seed)
            console.print("loaded the schools and menu_items dimensions\n")
            answers = [_answer(c, t, f) for t, f in _questions(c, 17, dt.date(2025, 3, 3))]
            for answer in answers:
                _print_answer(console, answer, answer.table)
            _summary(console, answers, time.perf_counter() - total)
            return answers
    finally:
        if not keep and data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def _summary(console: Console, answers: list[Answer], seconds: float) -> None:
    table = Table(title="[bold]Timings", title_justify="left")
    for name in ("question", "cold ms", "warm ms", "rows scanned", "pruning"):
        table.add_column(name, justify="left" if name in {"question", "pruning"} else "right")
    for a in answers:
        table.add_row(
            a.title,
            f"{a.cold_s * 1e3:,.1f}",
            f"{a.warm_s * 1e3:,.1f}",
            f"{a.rows_scanned:,}",
            a.pruning,
        )
    console.print(table)
    console.print(f"demo finished in [bold]{seconds:.1f}s[/]")
