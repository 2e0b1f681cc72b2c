"""Star-schema joins on the school data, our engine beside the peers in one run.

Run: ``python -m benchmarks.joins [--quick] [--rows N]``. ``orders`` (the fact, default
5M rows over 1,000 schools and 2025) joins the ``schools``, ``menu_items`` and ``students``
dimensions from the generator. Every peer reads the same Parquet files; the SQL peers run
the very same SQL text:

* **hasivu**: the public API, ``Connection.sql`` on the embedded Ray cluster; ``orders``
  partitioned ``bucket[16](school_id)``, the dimensions as tables of their own.
* **duckdb_parquet** (the reference), **polars** (``SQLContext`` over ``scan_parquet``),
  **daft** (``daft.sql`` over ``read_parquet``), **dask** (``merge`` + ``groupby`` by hand).

Queries:

* ``region_revenue``: paid revenue and orders per district (orders x schools).
* ``state_category_month``: revenue per state and menu category in March
  (orders x schools x menu_items).
* ``one_school_items``: one school's orders per menu item (orders x menu_items).
* ``free_meal_grades``: orders per grade of free-meal-eligible students (orders x
  students: a 300K-row dimension).
* ``first_orders``: each student's first order (``row_number()`` over
  ``PARTITION BY school_id, student_id``: runs on the shards, as ``orders`` is
  partitioned by school), counted and summed per school.
* ``first_orders_by_student``: the same window partitioned by ``student_id`` alone, as
  a user may write it: every order travels to the driver first.
* ``top_schools_per_district``: the three schools with the most revenue in each
  district (``rank()`` over grouped, joined rows).

Every answer is compared with DuckDB's before it is timed; best of 3 after a warm-up,
reported as a ratio to DuckDB-on-Parquet. Saved to ``results/joins.json`` and ``joins.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import common

QUERIES: dict[str, str] = {
    "region_revenue": (
        "SELECT s.district AS district, count(*) AS orders, sum(o.amount) AS revenue "
        "FROM orders o JOIN schools s ON o.school_id = s.school_id "
        "WHERE o.status = 'paid' GROUP BY s.district"
    ),
    "state_category_month": (
        "SELECT s.state AS state, m.category AS category, sum(o.amount) AS revenue "
        "FROM orders o JOIN schools s ON o.school_id = s.school_id "
        "JOIN menu_items m ON o.item_id = m.item_id "
        "WHERE o.meal_date >= DATE '2025-03-01' AND o.meal_date < DATE '2025-04-01' "
        "GROUP BY s.state, m.category"
    ),
    "one_school_items": (
        "SELECT m.name AS item, count(*) AS orders, sum(o.amount) AS revenue "
        "FROM orders o JOIN menu_items m ON o.item_id = m.item_id "
        "WHERE o.school_id = 42 GROUP BY m.name"
    ),
    "free_meal_grades": (
        "SELECT st.grade AS grade, count(*) AS orders "
        "FROM orders o JOIN students st ON o.student_id = st.student_id "
        "WHERE st.is_free_meal_eligible GROUP BY st.grade"
    ),
    "first_orders": (
        "SELECT school_id, count(*) AS students, sum(amount) AS first_spend FROM "
        "(SELECT school_id, amount, row_number() OVER (PARTITION BY school_id, student_id "
        "ORDER BY ordered_at, order_id) AS nth FROM orders) WHERE nth = 1 GROUP BY school_id"
    ),
    "first_orders_by_student": (
        "SELECT count(*) AS students, sum(amount) AS first_spend FROM "
        "(SELECT amount, row_number() OVER (PARTITION BY student_id "
        "ORDER BY ordered_at, order_id) AS nth FROM orders) WHERE nth = 1"
    ),
    "top_schools_per_district": (
        "SELECT district, school_id, revenue FROM (SELECT s.district AS district, "
        "o.school_id AS school_id, sum(o.amount) AS revenue, rank() OVER (PARTITION BY "
        "s.district ORDER BY sum(o.amount) DESC) AS r FROM orders o JOIN schools s "
        "ON o.school_id = s.school_id GROUP BY s.district, o.school_id) WHERE r <= 3"
    ),
}
DIMENSIONS = ("schools", "menu_items", "students")


def _paths(rows: int) -> dict[str, Path]:
    paths = {"orders": common.school_orders_path(rows)}
    paths.update({d: common.school_dimension_path(d) for d in DIMENSIONS})
    return paths


def _canonical(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples with floats rounded (engines sum in different orders)."""
    rows = []
    for row in zip(*(c.to_pylist() for c in table.columns), strict=True):
        rows.append(tuple(round(v, 4) if isinstance(v, float) else v for v in row))
    return sorted(rows, key=repr)


def _same(a: pa.Table, b: pa.Table) -> bool:
    left, right = _canonical(a), _canonical(b)
    if len(left) != len(right):
        return False
    for x, y in zip(left, right, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) and isinstance(v, float):
                if not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-6):
                    return False
            elif u != v:
                return False
    return True


# --- peers ------------------------------------------------------------------------


def _duckdb(paths: dict[str, Path]) -> Callable[[str], pa.Table]:
    import duckdb

    con = duckdb.connect()
    for name, path in paths.items():
        con.sql(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return lambda sql: con.sql(sql).to_arrow_table()


def _polars(paths: dict[str, Path]) -> Callable[[str], pa.Table]:
    import polars as pl

    ctx = pl.SQLContext({name: pl.scan_parquet(path) for name, path in paths.items()})
    return lambda sql: ctx.execute(sql).collect().to_arrow()


def _daft(paths: dict[str, Path]) -> Callable[[str], pa.Table]:
    import daft

    frames = {name: daft.read_parquet(str(path)) for name, path in paths.items()}
    return lambda sql: daft.sql(sql, register_globals=False, **frames).to_arrow()


def _dask(paths: dict[str, Path]) -> Callable[[str], pa.Table]:
    import dask
    import dask.dataframe as dd

    dask.config.set(scheduler="threads")

    def read(name: str, columns: list[str]) -> Any:
        return dd.read_parquet(str(paths[name]), columns=columns)

    def run(name: str) -> pa.Table:
        if name == "region_revenue":
            o = read("orders", ["school_id", "amount", "status"])
            o = o[o.status == "paid"]
            j = o.merge(read("schools", ["school_id", "district"]), on="school_id")
            out = j.groupby("district").agg(orders=("amount", "count"), revenue=("amount", "sum"))
        elif name == "state_category_month":
            o = read("orders", ["school_id", "item_id", "meal_date", "amount"])
            start, stop = dt.date(2025, 3, 1), dt.date(2025, 4, 1)
            o = o[(o.meal_date >= start) & (o.meal_date < stop)]
            j = o.merge(read("schools", ["school_id", "state"]), on="school_id")
            j = j.merge(read("menu_items", ["item_id", "category"]), on="item_id")
            out = j.groupby(["state", "category"]).agg(revenue=("amount", "sum"))
        elif name == "one_school_items":
            o = read("orders", ["school_id", "item_id", "amount"])
            o = o[o.school_id == 42]
            m = read("menu_items", ["item_id", "name"]).rename(columns={"name": "item"})
            j = o.merge(m, on="item_id")
            out = j.groupby("item").agg(orders=("amount", "count"), revenue=("amount", "sum"))
        elif name == "free_meal_grades":
            o = read("orders", ["student_id"])
            st = read("students", ["student_id", "grade", "is_free_meal_eligible"])
            j = o.merge(st[st.is_free_meal_eligible], on="student_id")
            out = j.groupby("grade").agg(orders=("student_id", "count"))
        elif name in ("first_orders", "first_orders_by_student"):
            return _dask_first_orders(read, by_school=name == "first_orders")
        else:
            o = read("orders", ["school_id", "amount"])
            j = o.merge(read("schools", ["school_id", "district"]), on="school_id")
            sums = j.groupby(["district", "school_id"]).agg(revenue=("amount", "sum")).compute()
            sums = sums.reset_index()
            r = sums.groupby("district")["revenue"].rank(method="min", ascending=False)
            top = sums[r <= 3][["district", "school_id", "revenue"]]
            return pa.Table.from_pandas(top, preserve_index=False)
        return pa.Table.from_pandas(out.compute().reset_index(), preserve_index=False)

    return run


def _dask_first_orders(read: Callable[[str, list[str]], Any], by_school: bool) -> pa.Table:
    """Each student's first order (by time, then id): shuffle by student, sort in place."""
    o = read("orders", ["order_id", "school_id", "student_id", "ordered_at", "amount"])

    def first(frame: Any) -> Any:
        ordered = frame.sort_values(["student_id", "ordered_at", "order_id"])
        return ordered.drop_duplicates("student_id")

    firsts = o.shuffle("student_id").map_partitions(first)
    if by_school:
        out = firsts.groupby("school_id").agg(
            students=("student_id", "count"), first_spend=("amount", "sum")
        )
        return pa.Table.from_pandas(out.compute().reset_index(), preserve_index=False)
    done = firsts.compute()
    return pa.table({"students": [len(done)], "first_spend": [float(done.amount.sum())]})


class _Hasivu:
    """The embedded cluster with the benchmark's tables loaded through the public API."""

    def __init__(self, paths: dict[str, Path]) -> None:
        import hasivu_compute as hc

        self.folder = Path(tempfile.mkdtemp(prefix="hasivu-joins-"))
        self.conn = hc.connect(data_dir=self.folder)
        for name, path in paths.items():
            file = pq.ParquetFile(path)
            spec = [("school_id", "bucket[16]")] if name == "orders" else None
            self.conn.create_table(name, file.schema_arrow, partition_by=spec)
            for i in range(file.num_row_groups):
                part = file.read_row_group(i)
                self.conn.ingest(name, part, producer_id=f"load-{name}", sequence=i)
            self.conn.flush(name)

    def __call__(self, sql: str) -> pa.Table:
        return self.conn.sql(sql)

    def close(self) -> None:
        self.conn.close()
        shutil.rmtree(self.folder, ignore_errors=True)


PEERS: dict[str, Callable[[dict[str, Path]], Callable[[str], pa.Table]]] = {
    "duckdb_parquet": _duckdb,
    "polars": _polars,
    "daft": _daft,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300K orders")
    parser.add_argument("--rows", type=int, default=None, help="orders rows (default 5M)")
    args = parser.parse_args()
    rows = args.rows or (300_000 if args.quick else 5_000_000)
    paths = _paths(rows)
    reference = _duckdb(paths)
    expected = {name: reference(sql) for name, sql in QUERIES.items()}
    results: dict[str, dict[str, Any]] = {name: {} for name in QUERIES}
    runners: dict[str, Callable[[str], pa.Table]] = {}
    ours = _Hasivu(paths)
    try:
        runners["hasivu"] = ours
        runners.update({peer: make(paths) for peer, make in PEERS.items()})
        dask_run = _dask(paths)
        for name, sql in QUERIES.items():
            for peer, run in runners.items():
                results[name][peer] = _measure(lambda run=run, sql=sql: run(sql), expected[name])
            results[name]["dask"] = _measure(lambda name=name: dask_run(name), expected[name])
            explain = ours.conn.explain(ours.conn.sql_plan(sql))
            results[name]["hasivu"]["strategies"] = sorted(
                {part.split()[0] for part in explain.split("strategy=")[1:]}
            )
            shown = {p: r.get("seconds", r.get("error")) for p, r in results[name].items()}
            print(name, shown, flush=True)
    finally:
        ours.close()
    _report(rows, results)


def _measure(run: Callable[[], pa.Table], expected: pa.Table) -> dict[str, Any]:
    """Best time and whether the answer is DuckDB's; a peer that cannot run the query
    is recorded with its error (not dropped)."""
    try:
        timing, answer = common.timeit(run, budget_s=60)
    except Exception as e:  # a peer's own error type: recorded, the run goes on
        return {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"}
    return {"seconds": timing.best_s, "same": _same(answer, expected)}


def _report(rows: int, results: dict[str, dict[str, Any]]) -> None:
    peers = ["hasivu", "duckdb_parquet", "polars", "daft", "dask"]
    lines = [
        f"# Star-schema joins: {rows:,} orders x schools, menu_items, students",
        "",
        "Best of 3 after a warm-up; in brackets the ratio to DuckDB on Parquet. "
        "Every answer was compared with DuckDB's (a wrong one is marked); n/a: the peer "
        "refused the query (its error is in joins.json).",
        "",
        "| query | " + " | ".join(peers) + " | hasivu strategy |",
        "|---|" + "---:|" * len(peers) + "---|",
    ]
    for name, by_peer in results.items():
        base = by_peer["duckdb_parquet"]["seconds"]
        cells = []
        for peer in peers:
            r = by_peer[peer]
            if "error" in r:
                cells.append("n/a (cannot run it)")
                continue
            mark = "" if r["same"] else " WRONG"
            cells.append(f"{r['seconds'] * 1e3:.1f} ms ({r['seconds'] / base:.2f}x){mark}")
        strategy = ", ".join(by_peer["hasivu"].get("strategies", []))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {strategy} |")
    text = "\n".join(lines) + "\n"
    print(text)
    common.write_markdown("joins", text)
    common.save_results(
        "joins", {"rows": rows, "results": results, "machine": common.machine_info()}
    )


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    main()
