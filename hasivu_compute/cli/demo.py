"""``hasivu demo``: the whole engine in two minutes on a laptop.

Generates the school-meals orders (deterministic), streams them through the
ingest actors with a progress bar, and answers the dashboard's questions with
the DataFrame API and SQL, printing each answer with its cold and warm time,
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
import pyarrow.compute as pc
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
            orders.group_by("item_id")
            .agg(
                count().alias("orders"),
                col("quantity").sum().alias("portions"),
                col("amount").sum().alias("revenue"),
            )
            .sort("orders", descending=True)
            .limit(10),
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
            paid.group_by("school_id")
            .agg(col("student_id").count_distinct().alias("students_ordering"))
            .sort("school_id"),
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


def _participation(answer: Answer, n_schools: int) -> pa.Table:
    """Join the per-school counts with enrolment (a small dimension) and rank by rate."""
    from hasivu_compute.datagen import schools

    dims = schools(n_schools).select(["school_id", "enrolment"])
    joined = answer.table.join(dims, "school_id")
    rate = pc.divide(
        pc.cast(joined.column("students_ordering"), pa.float64()),
        pc.cast(joined.column("enrolment"), pa.float64()),
    )
    joined = joined.append_column("participation_pct", pc.round(pc.multiply(rate, 100.0), 1))
    return joined.sort_by([("participation_pct", "ascending")]).select(
        ["school_id", "enrolment", "students_ordering", "participation_pct"]
    )


def _top_items(answer: Answer) -> pa.Table:
    from hasivu_compute.datagen import menu_items

    names = menu_items().select(["item_id", "name"])
    joined = answer.table.join(names, "item_id")
    return joined.sort_by([("orders", "descending")]).select(
        ["item_id", "name", "orders", "portions", "revenue"]
    )


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
                f"snapshot v{result.version})\n"
            )
            answers = [_answer(c, t, f) for t, f in _questions(c, 17, dt.date(2025, 3, 3))]
            for answer in answers:
                shown = answer.table
                if answer.title.startswith("Top menu"):
                    shown = _top_items(answer)
                elif answer.title.startswith("Participation"):
                    shown = _participation(answer, n_schools)
                _print_answer(console, answer, shown)
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
