"""The engines of the TPC-H benchmark, and the worker that runs one of them in its own process.

An engine is a class with ``load()`` (untimed by the query figures; its own timing is
reported), ``run(number) -> pa.Table``, ``method(number)`` (``"sql"`` or ``"dataframe"``)
and ``close()``. The worker (``python -m benchmarks.tpch --worker ENGINE``) loads it,
times every asked query (a warm-up, then the median of the repeats) while a thread samples
the resident memory of the process and of every process it started, writes each answer as
Arrow IPC and a JSON report for the parent to compare and tabulate. One engine per
process: memory peaks do not mix, and Daft's and Ray's process-wide state stays apart.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import common

DIFFERENTIAL = Path(__file__).resolve().parents[1] / "tests" / "differential"
if str(DIFFERENTIAL) not in sys.path:
    sys.path.insert(0, str(DIFFERENTIAL))

from tpch_queries import QUERIES  # noqa: E402

#: Our warehouse's layout. The README's advice for a bare integer column is its
#: ``bucket[16]`` hash (each bucket sorted by the key); the two large tables are bucketed
#: on the key they join on, the six small ones (at most 800K rows at SF1) stay unpartitioned.
HASIVU_PARTITIONS: dict[str, list[str]] = {"lineitem": ["l_orderkey"], "orders": ["o_orderkey"]}


class TreeRSS:
    """Peak resident memory of this process plus every process it started (Ray's included).

    A thread sums RSS every ``interval`` seconds; the process list (children, recursively)
    is refreshed every ``refresh`` seconds, because walking the whole process table each
    tick costs more than the sampling. ``peak_total`` counts every descendant (Ray's GCS
    and raylet too); ``peak_workers`` only this process and Ray's ``ray::`` worker/actor
    processes. Pages shared between processes (the object store, libraries) count once per
    process that maps them, as RSS does.
    """

    def __init__(self, interval: float = 0.02, refresh: float = 0.5) -> None:
        import psutil

        self._root = psutil.Process()
        self._interval, self._refresh = interval, refresh
        self._procs: list[tuple[Any, bool]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak_total = self.peak_workers = 0
        self.processes = 0

    def _list(self) -> list[tuple[Any, bool]]:
        out = [(self._root, True)]
        for p in self._root.children(recursive=True):
            try:
                out.append((p, p.name().startswith("ray::") or "default_worker" in p.name()))
            except Exception:  # ended between listing and naming
                continue
        return out

    def pss(self) -> int:
        """Proportional set size summed over the tree (shared pages split between their
        processes): what the processes hold together. Slow (reads smaps): a one-off reading."""
        total = 0
        for p, _ in self._list():
            try:
                total += p.memory_full_info().pss
            except Exception:  # ended, or its smaps is not readable
                continue
        return total

    def sample(self) -> tuple[int, int]:
        """One reading: (all processes, this process + Ray workers/actors), in bytes."""
        total = workers = 0
        for p, is_worker in self._procs or self._list():
            try:
                rss = p.memory_info().rss
            except Exception:  # the process ended
                continue
            total += rss
            workers += rss if is_worker else 0
        return total, workers

    def _loop(self) -> None:
        listed = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - listed >= self._refresh:
                self._procs, listed = self._list(), now
                self.processes = max(self.processes, len(self._procs))
            total, workers = self.sample()
            self.peak_total = max(self.peak_total, total)
            self.peak_workers = max(self.peak_workers, workers)
            self._stop.wait(self._interval)

    def __enter__(self) -> TreeRSS:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# --- engines -------------------------------------------------------------------------------


class DuckDB:
    """DuckDB over views of the Parquet files (the reference answers and times)."""

    def __init__(self, paths: dict[str, Path]) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.paths = paths

    def load(self) -> dict[str, Any]:
        for name, path in self.paths.items():
            self.con.sql(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
        return {}

    def method(self, number: int) -> str:
        return "sql"

    def run(self, number: int) -> pa.Table:
        return self.con.sql(QUERIES[number]).to_arrow_table()

    def close(self) -> None:
        self.con.close()


class Polars:
    """``pl.SQLContext`` over ``scan_parquet``: the same SQL text, lazily planned by Polars."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def load(self) -> dict[str, Any]:
        import polars as pl

        self.ctx = pl.SQLContext({n: pl.scan_parquet(p) for n, p in self.paths.items()})
        return {}

    def method(self, number: int) -> str:
        return "sql"

    def run(self, number: int) -> pa.Table:
        return self.ctx.execute(QUERIES[number]).collect().to_arrow()

    def close(self) -> None:
        pass


class Daft:
    """``daft.sql`` over ``read_parquet`` on Daft's native runner; DataFrame code where its SQL
    planner fails (Q21: a correlated ``NOT EXISTS`` with ``<>`` is pushed into the Parquet
    scan as a predicate and fails to bind: "Outer reference columns cannot be bound")."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def load(self) -> dict[str, Any]:
        import daft

        daft.set_runner_native()
        self.frames = {n: daft.read_parquet(str(p)) for n, p in self.paths.items()}
        return {}

    def method(self, number: int) -> str:
        return "dataframe" if number == 21 else "sql"

    def run(self, number: int) -> pa.Table:
        import daft

        if number == 21:
            return self._q21().to_arrow()
        return daft.sql(QUERIES[number], register_globals=False, **self.frames).to_arrow()

    def _q21(self) -> Any:
        """As ``tpch_dask.q21``: EXISTS another supplier = more than one distinct supplier on
        the order; NOT EXISTS another late one = exactly one distinct late supplier."""
        from daft import col

        f = self.frames
        li = f["lineitem"].select("l_orderkey", "l_suppkey", "l_commitdate", "l_receiptdate")
        suppliers = col("l_suppkey").count_distinct().alias("n")
        multi = li.groupby("l_orderkey").agg(suppliers).where(col("n") > 1).select("l_orderkey")
        late = li.where(col("l_receiptdate") > col("l_commitdate"))
        late = late.select("l_orderkey", "l_suppkey")
        alone = late.groupby("l_orderkey").agg(suppliers).where(col("n") == 1)
        nation = f["nation"].where(col("n_name") == "SAUDI ARABIA")
        s = f["supplier"].join(nation, left_on="s_nationkey", right_on="n_nationkey")
        o = f["orders"].where(col("o_orderstatus") == "F").select("o_orderkey")
        j = late.join(s.select("s_suppkey", "s_name"), left_on="l_suppkey", right_on="s_suppkey")
        j = j.join(o, left_on="l_orderkey", right_on="o_orderkey")
        j = j.join(multi, on="l_orderkey", how="semi")
        j = j.join(alone.select("l_orderkey"), on="l_orderkey", how="semi")
        out = j.groupby("s_name").agg(col("l_orderkey").count().alias("numwait"))
        return out.sort(["numwait", "s_name"], desc=[True, False]).limit(100)

    def close(self) -> None:
        pass


class Dask:
    """Dask DataFrame code (``benchmarks/tpch_dask.py``) on the threaded scheduler."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def load(self) -> dict[str, Any]:
        import dask

        dask.config.set(scheduler="threads", num_workers=os.cpu_count() or 2)
        return {}

    def method(self, number: int) -> str:
        return "dataframe"

    def run(self, number: int) -> pa.Table:
        import dask.dataframe as dd

        from benchmarks.tpch_dask import QUERIES as DASK_QUERIES

        def read(table: str, columns: list[str]) -> Any:
            return dd.read_parquet(str(self.paths[table]), columns=columns)

        return pa.Table.from_pandas(DASK_QUERIES[number](read), preserve_index=False)

    def close(self) -> None:
        pass


class Hasivu:
    """Our engine through the public API: an embedded cluster (local Ray) in a temporary data
    folder, the eight tables created and ingested from the same Parquet files, queries by
    ``Connection.sql``. Ray's dashboard is left off (``HASIVU_RAY_DASHBOARD=0``)."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths
        self.folder = Path(tempfile.mkdtemp(prefix="hasivu-tpch-"))
        self.conn: Any = None

    def load(self) -> dict[str, Any]:
        import hasivu_compute as hc

        os.environ.setdefault("HASIVU_RAY_DASHBOARD", "0")
        t0 = time.perf_counter()
        self.conn = hc.connect(data_dir=self.folder)
        info: dict[str, Any] = {"connect_s": time.perf_counter() - t0, "tables": {}}
        for name, path in self.paths.items():
            info["tables"][name] = self._ingest(name, path)
        info["load_s"] = sum(t["seconds"] for t in info["tables"].values())
        info["partition_by"] = HASIVU_PARTITIONS
        return info

    def _ingest(self, name: str, path: Path) -> dict[str, Any]:
        file = pq.ParquetFile(path)
        rows = file.metadata.num_rows
        t0 = time.perf_counter()
        self.conn.create_table(name, file.schema_arrow, partition_by=HASIVU_PARTITIONS.get(name))
        batches = file.iter_batches(batch_size=1 << 20)
        self.conn.ingest(name, batches, producer_id=f"tpch-{name}", total_rows=rows, progress=False)
        self.conn.flush(name)
        seconds = time.perf_counter() - t0
        return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}

    def method(self, number: int) -> str:
        return "sql"

    def run(self, number: int) -> pa.Table:
        return self.conn.sql(QUERIES[number])  # type: ignore[no-any-return]

    def explain(self, number: int) -> str:
        plan = self.conn.sql_plan(QUERIES[number])
        return self.conn.explain(plan, analyze=True)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        shutil.rmtree(self.folder, ignore_errors=True)


ENGINES: dict[str, type] = {
    "duckdb": DuckDB,
    "hasivu": Hasivu,
    "polars": Polars,
    "daft": Daft,
    "dask": Dask,
}


# --- the worker ----------------------------------------------------------------------------


def _time_query(engine: Any, number: int, repeats: int, budget_s: float) -> dict[str, Any]:
    """Warm-up + median of ``repeats``, with the peak memory of the whole process tree."""
    steal_before, load_before = common.cpu_times(), os.getloadavg()[0]
    with TreeRSS() as mem:
        timing, answer = common.timeit(
            lambda: engine.run(number), repeat=repeats, warmup=1, budget_s=budget_s
        )
    return {
        "status": "ok",
        "method": engine.method(number),
        "median_s": timing.median_s,
        "best_s": timing.best_s,
        "runs_s": list(timing.runs_s),
        "first_run_s": (timing.warmup_s or timing.runs_s)[0],
        "single_run_only": timing.cold,
        "peak_rss_bytes": mem.peak_total,
        "peak_rss_workers_bytes": mem.peak_workers,
        "processes": mem.processes,
        "steal_share": common.steal_share(steal_before, common.cpu_times()),
        "load_avg_1m_before": load_before,
        "_answer": answer,
    }


#: Prefix of the worker's protocol lines on stdout (anything else there is ignored).
PROTOCOL = "@@tpch@@ "


def _say(event: dict[str, Any]) -> None:
    sys.stdout.write(PROTOCOL + json.dumps(event, default=str) + "\n")
    sys.stdout.flush()


def _idle_cpu_share(seconds: float = 2.0) -> float:
    """CPU this process tree uses while it waits (Ray's daemons keep a pulse): the share of
    one core, so the others' runs can be judged for it."""
    import psutil

    def used() -> float:
        total = 0.0
        for p in [psutil.Process(), *psutil.Process().children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except Exception:  # the process ended
                continue
        return total

    before = used()
    time.sleep(seconds)
    return (used() - before) / seconds


def run_worker(engine_name: str, paths: dict[str, Path], args: Any) -> None:
    """Load one engine, then answer ``Q <number>`` lines on stdin until ``END``.

    The parent sends one query at a time to each engine in turn, so the engines share the
    machine's good and bad minutes; replies (and the load report) are protocol lines on
    stdout; the answers are written as Arrow IPC under ``<out>/<engine>/``.
    """
    answers = Path(args.out) / engine_name
    answers.mkdir(parents=True, exist_ok=True)
    engine = ENGINES[engine_name](paths)
    try:
        t0 = time.perf_counter()
        info = engine.load()
        loaded: dict[str, Any] = {"event": "loaded", "load": info}
        loaded["load_s"] = time.perf_counter() - t0
        with TreeRSS() as idle:
            loaded["idle_cpu_share"] = _idle_cpu_share()
        loaded["idle_rss_bytes"] = idle.peak_total
        loaded["idle_pss_bytes"] = idle.pss()
        _say(loaded)
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["END"]:
                break
            if len(words) == 2 and words[0] == "Q":
                number = int(words[1])
                _say(
                    {
                        "event": "query",
                        "number": number,
                        **_one_query(engine, number, answers, args),
                    }
                )
    finally:
        engine.close()
        _say({"event": "closed"})


def _one_query(engine: Any, number: int, answers: Path, args: Any) -> dict[str, Any]:
    try:
        result = _time_query(engine, number, args.repeats, args.budget)
    except Exception as exc:  # an engine that cannot run a query is reported, not fatal
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        reason = f"{type(exc).__name__}: {first_line}"
        traceback.print_exc()
        return {"status": "n/a", "method": engine.method(number), "reason": reason}
    answer: pa.Table = result.pop("_answer")
    path = str(answers / f"q{number}.arrow")
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, answer.schema) as writer:
        writer.write_table(answer)
    if hasattr(engine, "explain"):
        try:
            result["explain_analyze"] = engine.explain(number)
        except Exception as exc:  # explain is extra information only
            result["explain_analyze"] = f"explain failed: {type(exc).__name__}: {exc}"
    print(
        f"{type(engine).__name__} Q{number}: {result['median_s'] * 1e3:.1f} ms "
        f"peak {result['peak_rss_bytes'] / 2**20:.0f} MiB",
        file=sys.stderr,
        flush=True,
    )
    return result
