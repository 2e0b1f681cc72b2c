"""TPC-H, all 22 queries, our engine beside DuckDB, Polars, Daft and Dask on the same files.

Run: ``python -m benchmarks.tpch [--scale 1] [--repeats 3] [--queries 1,3,...]
[--engines hasivu,duckdb,polars,daft,dask]``.

* Data: the eight tables generated once per scale with ``tpchgen-cli`` into
  ``benchmarks/data/tpch/sf<scale>/`` and read by every engine from the same Parquet copy
  (``common.tpch_portable_path``: decimals as float64, ``string_view`` as string, so Dask
  and Daft read the same types as the others).
* Engines (``tpch_engines.py``), each in a process of its own (memory peaks do not mix),
  loaded one after the other, then taking turns query by query (the first engine rotating)
  so that a busy minute on this shared machine does not fall on one engine only:
  **hasivu** (``hc.connect(data_dir=...)`` — an embedded Ray — the tables ingested through
  ``Connection.ingest``, timed apart, then ``Connection.sql``), **duckdb** (views over
  ``read_parquet``; the reference), **polars** (``SQLContext`` over ``scan_parquet``),
  **daft** (``daft.sql``; DataFrame code for Q21), **dask** (DataFrame code,
  ``tpch_dask.py``). The SQL engines run the SQL of ``tests/differential/tpch_queries.py``.
* Each query: a warm-up, then the median of ``--repeats`` runs (a query whose warm-up
  passes ``--budget`` seconds is run once). Peak memory: the resident set of the engine's
  process plus every process it started (Ray's), sampled every 20 ms during the query.
* Every answer is compared with DuckDB's by the rules of ``tests/differential/compare.py``
  (bag of rows with a float tolerance, plus the order of the ORDER BY columns; our answers
  also by column names and types, the peers' by values). A query an engine cannot run is
  "n/a" with the reason.

Saved to ``results/tpch_sf<scale>.json``, ``.md`` and ``_explain.md`` (our plans, analyzed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks import common
from benchmarks.tpch_engines import ENGINES, PROTOCOL, QUERIES, run_worker

ALL_ENGINES = ("hasivu", "duckdb", "polars", "daft", "dask")


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after a warm-up")
    parser.add_argument("--queries", default="", help="comma-separated query numbers (all)")
    parser.add_argument("--engines", default=",".join(ALL_ENGINES), help="engines to run")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="a warm-up longer than this: one run only"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per query turn")
    parser.add_argument("--load-timeout", type=float, default=1800.0, help="seconds per load")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.numbers = [int(q) for q in args.queries.split(",") if q] or sorted(QUERIES)
    unknown = [q for q in args.numbers if q not in QUERIES]
    if unknown:
        parser.error(f"no TPC-H query {unknown}; the queries are 1..22")
    args.engine_list = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in args.engine_list if e not in ENGINES]
    if bad:
        parser.error(f"unknown engine {bad}; choose from {list(ENGINES)}")
    if "duckdb" not in args.engine_list:  # the reference answers and times
        args.engine_list.insert(0, "duckdb")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def data_paths(scale: float) -> dict[str, Path]:
    """The eight tables at ``scale`` (generated once by tpchgen-cli, then cached)."""
    return {t: common.tpch_portable_path(t, scale) for t in common.TPCH_TABLES}


def order_columns(number: int, names: list[str]) -> tuple[int, ...]:
    """Positions (in the answer) of the query's ORDER BY columns."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(QUERIES[number], read="duckdb")
    order = tree.args.get("order")
    if order is None:
        return ()
    out = []
    for item in order.expressions:
        key = item.this
        name = key.alias_or_name if isinstance(key, exp.Column | exp.Alias) else key.sql()
        out.append(names.index(name))
    return tuple(out)


# --- running the engines -----------------------------------------------------------------


class _Worker:
    """One engine's child process: started and loaded, then asked one query at a time."""

    def __init__(self, engine: str, args: argparse.Namespace, out: Path) -> None:
        self.engine = engine
        cmd = [sys.executable, "-m", "benchmarks.tpch", "--worker", engine, "--out", str(out)]
        cmd += ["--scale", f"{args.scale:g}", "--repeats", str(args.repeats)]
        cmd += ["--budget", str(args.budget)]
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
        self.log_path = out / f"{engine}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - open for the process's lifetime
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(PROTOCOL):
                self._events.put(json.loads(line[len(PROTOCOL) :]))
        self._events.put(None)  # the process closed its stdout: it ended

    def wait(self, kind: str, timeout: float) -> dict[str, Any] | str:
        """The next ``kind`` event, or why there is none (the process ended / timed out)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                return f"engine process ended (exit {self.proc.wait()}): {self._tail()}"
            if event.get("event") == kind:
                return event
        self.stop()
        return f"no answer within {timeout:.0f} s; engine process stopped"

    def ask(self, number: int, timeout: float) -> dict[str, Any] | str:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(f"Q {number}\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return f"engine process ended (exit {self.proc.wait()}): {self._tail()}"
        return self.wait("query", timeout)

    def _tail(self) -> str:
        self._log.flush()
        return " ".join(self.log_path.read_text(errors="replace")[-300:].split())

    def stop(self) -> None:
        """END, then Ctrl-C (our connection closes on it), then kill: this process and
        every process it started, by pid."""
        import psutil

        if self.proc.poll() is None:
            try:
                kids = psutil.Process(self.proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                kids = []
            with contextlib.suppress(BrokenPipeError, OSError, AssertionError):
                assert self.proc.stdin is not None
                self.proc.stdin.write("END\n")
                self.proc.stdin.close()
            for signal_to_send in (signal.SIGINT, signal.SIGKILL):
                try:
                    self.proc.wait(timeout=120)
                    break
                except subprocess.TimeoutExpired:
                    self.proc.send_signal(signal_to_send)
            self.proc.wait()
            for kid in kids:
                with contextlib.suppress(psutil.NoSuchProcess):
                    kid.kill()
        self._log.close()


def _run_engines(args: argparse.Namespace, out: Path) -> dict[str, dict[str, Any]]:
    """Load each engine in turn, then run every query on each engine in turn (the first
    engine rotating), so no engine gets all the machine's quiet or busy minutes."""
    reports: dict[str, dict[str, Any]] = {}
    workers: dict[str, _Worker] = {}
    try:
        for engine in ["duckdb"] + [e for e in args.engine_list if e != "duckdb"]:
            print(f"== loading {engine}", flush=True)
            worker = _Worker(engine, args, out)
            loaded = worker.wait("loaded", args.load_timeout)
            if isinstance(loaded, str):
                reports[engine] = {"queries": {}, "load_failed": loaded}
                worker.stop()
                continue
            reports[engine] = {**loaded, "queries": {}}
            workers[engine] = worker
        for i, number in enumerate(args.numbers):
            turn = list(workers)[i % len(workers) :] + list(workers)[: i % len(workers)]
            for engine in turn:
                reply = workers[engine].ask(number, args.timeout)
                q = {"status": "n/a", "reason": reply} if isinstance(reply, str) else reply
                reports[engine]["queries"][str(number)] = q
                shown = f"{q['median_s'] * 1e3:,.1f} ms" if q["status"] == "ok" else q["status"]
                print(f"Q{number} {engine}: {shown}", flush=True)
    finally:
        for worker in workers.values():
            worker.stop()
    for report in reports.values():
        for number in args.numbers:
            report["queries"].setdefault(
                str(number), {"status": "n/a", "reason": report.get("load_failed", "not run")}
            )
    return reports


def _read_answer(out: Path, engine: str, number: int) -> pa.Table:
    with pa.memory_map(str(out / engine / f"q{number}.arrow")) as source:
        return pa.ipc.open_file(source).read_all()


def _check_answers(reports: dict[str, dict[str, Any]], out: Path, numbers: list[int]) -> None:
    """Mark every engine's answer equal / not equal to DuckDB's (in place)."""
    from compare import difference  # tests/differential, put on sys.path by tpch_engines

    for number in numbers:
        ref_q = reports["duckdb"]["queries"][str(number)]
        if ref_q["status"] != "ok":
            raise RuntimeError(f"DuckDB (the reference) failed Q{number}: {ref_q.get('reason')}")
        expected = _read_answer(out, "duckdb", number)
        ref_q["equal"] = True
        positions = order_columns(number, expected.column_names)
        for engine, report in reports.items():
            q = report["queries"][str(number)]
            if engine == "duckdb" or q["status"] != "ok":
                continue
            answer = _read_answer(out, engine, number)
            problem = difference(answer, expected, positions, check_types=engine == "hasivu")
            q["equal"] = problem is None
            q["rows"] = answer.num_rows
            if problem is not None:
                q["difference"] = problem


# --- the report ----------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.1f}"


def _cell(q: dict[str, Any], base: float) -> str:
    if q["status"] != "ok":
        return "n/a"
    mark = "" if q.get("equal", False) else " ≠"
    one = "¹" if q.get("single_run_only") else ""
    method = "ᵈᶠ" if q.get("method") == "dataframe" else ""
    return f"{_ms(q['median_s'])}{one}{method} ({q['median_s'] / base:.2f}x){mark}"


def summarise(reports: dict[str, dict[str, Any]], numbers: list[int]) -> dict[str, Any]:
    """Geometric mean ratios to DuckDB, where we trail Dask/Daft, memory ratios."""
    duck = reports["duckdb"]["queries"]
    out: dict[str, Any] = {"geomean_ratio_to_duckdb": {}, "peak_rss_bytes": {}}
    common_numbers = [
        n for n in numbers if all(r["queries"][str(n)]["status"] == "ok" for r in reports.values())
    ]
    out["queries_every_engine_ran"] = common_numbers

    def geomean(qs: dict[str, Any], among: list[int]) -> float | None:
        ratios = [
            qs[str(n)]["median_s"] / duck[str(n)]["median_s"]
            for n in among
            if qs[str(n)]["status"] == "ok"
        ]
        return math.exp(statistics.fmean(math.log(r) for r in ratios)) if ratios else None

    for engine, report in reports.items():
        qs = report["queries"]
        out["geomean_ratio_to_duckdb"][engine] = {
            "geomean": geomean(qs, numbers),
            "geomean_common": geomean(qs, common_numbers),
            "queries": sum(1 for n in numbers if qs[str(n)]["status"] == "ok"),
            "equal": sum(1 for n in numbers if qs[str(n)].get("equal")),
        }
        peaks = [qs[str(n)]["peak_rss_bytes"] for n in numbers if qs[str(n)]["status"] == "ok"]
        out["peak_rss_bytes"][engine] = max(peaks) if peaks else None
    if "hasivu" in reports:
        ours = reports["hasivu"]["queries"]
        for peer in ("dask", "daft"):
            if peer not in reports:
                continue
            theirs = reports[peer]["queries"]
            out[f"slower_than_{peer}"] = [
                n
                for n in numbers
                if ours[str(n)]["status"] == "ok"
                and theirs[str(n)]["status"] == "ok"
                and ours[str(n)]["median_s"] > theirs[str(n)]["median_s"]
            ]
        base = out["peak_rss_bytes"].get("duckdb")
        mine = out["peak_rss_bytes"].get("hasivu")
        out["hasivu_peak_rss_ratio_to_duckdb"] = mine / base if mine and base else None
    return out


def markdown(reports: dict[str, dict[str, Any]], numbers: list[int], meta: dict[str, Any]) -> str:
    engines = list(reports)
    summary = meta["summary"]
    lines = [
        f"# TPC-H SF{meta['scale']:g}: our engine beside DuckDB, Polars, Daft and Dask",
        "",
        f"Run {meta['date']} on {meta['machine_note']}. Median of {meta['repeats']} warm runs "
        "after a warm-up, in ms; in brackets the ratio to DuckDB on the same Parquet files. "
        "≠: the answer differs from DuckDB's; ¹: the warm-up passed the budget, one run only; "
        "ᵈᶠ: DataFrame code instead of SQL.",
        "",
        "| query | " + " | ".join(engines) + " | hasivu = DuckDB |",
        "|---|" + "---:|" * len(engines) + "---|",
    ]
    for n in numbers:
        base = reports["duckdb"]["queries"][str(n)]["median_s"]
        cells = [_cell(reports[e]["queries"][str(n)], base) for e in engines]
        ours = reports.get("hasivu", {}).get("queries", {}).get(str(n), {})
        lines.append(f"| Q{n} | " + " | ".join(cells) + f" | {_equal_word(ours)} |")
    geo = summary["geomean_ratio_to_duckdb"]
    lines += ["", "| | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    lines.append(
        "| geomean ratio to DuckDB | "
        + " | ".join(_fmt(geo[e]["geomean"], "{:.2f}x") for e in engines)
        + " |"
    )
    if len(summary["queries_every_engine_ran"]) < len(numbers):
        lines.append(
            f"| geomean over the {len(summary['queries_every_engine_ran'])} queries every "
            "engine ran | "
            + " | ".join(_fmt(geo[e]["geomean_common"], "{:.2f}x") for e in engines)
            + " |"
        )
    lines.append(
        "| queries run / equal to DuckDB | "
        + " | ".join(f"{geo[e]['queries']} / {geo[e]['equal']}" for e in engines)
        + " |"
    )
    peaks = summary["peak_rss_bytes"]
    lines.append(
        "| peak RSS (MiB) | " + " | ".join(_fmt(peaks[e], "{:,.0f}", 2**20) for e in engines) + " |"
    )
    lines += _memory_and_load_lines(reports, numbers, summary)
    lines += [
        "",
        "| engine | start + load | idle RSS | idle PSS | idle CPU (cores) | most CPU steal in a query |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for engine, report in reports.items():
        steals = [q["steal_share"] for q in report["queries"].values() if q.get("steal_share")]
        lines.append(
            f"| {engine} | {_fmt(report.get('load_s'), '{:.1f} s')} "
            f"| {_fmt(report.get('idle_rss_bytes'), '{:,.0f} MiB', 2**20)} "
            f"| {_fmt(report.get('idle_pss_bytes'), '{:,.0f} MiB', 2**20)} "
            f"| {_fmt(report.get('idle_cpu_share'), '{:.2f}')} "
            f"| {_fmt(max(steals, default=None), '{:.0%}')} |"
        )
    notes = [_na_line(reports, n) for n in numbers]
    lines += [line for line in notes if line]
    return "\n".join(lines) + "\n"


def explain_text(report: dict[str, Any], numbers: list[int]) -> str:
    """Our ``explain(analyze=True)`` of every query (a run after the timed ones)."""
    parts = ["# TPC-H: our plans with analyze (the run after the timed ones)\n"]
    for n in numbers:
        q = report["queries"][str(n)]
        text = q.get("explain_analyze", q.get("reason", ""))
        median = f"{q['median_s'] * 1e3:.1f} ms" if q["status"] == "ok" else "n/a"
        parts.append(f"## Q{n} (median {median})\n\n```\n{text}\n```\n")
    return "\n".join(parts)


def _equal_word(q: dict[str, Any]) -> str:
    if not q:
        return "—"
    if q["status"] != "ok":
        return f"n/a: {q.get('reason', '')[:80]}"
    return "equal" if q.get("equal") else f"NOT equal: {q.get('difference', '')[:80]}"


def _fmt(value: float | None, spec: str, scale: float = 1.0) -> str:
    return "—" if value is None else spec.format(value / scale)


def _memory_and_load_lines(
    reports: dict[str, dict[str, Any]], numbers: list[int], summary: dict[str, Any]
) -> list[str]:
    lines = [""]
    if "hasivu" in reports:
        ours = reports["hasivu"]
        load = ours.get("load", {})
        workers = max(
            (q.get("peak_rss_workers_bytes", 0) for q in ours["queries"].values()), default=0
        )
        ratio = summary.get("hasivu_peak_rss_ratio_to_duckdb")
        lines.append(
            f"Our peak RSS counts the driver and every process of the embedded Ray "
            f"({max((q.get('processes', 0) for q in ours['queries'].values()), default=0)} "
            f"processes; the driver and Ray's worker/actor processes alone: "
            f"{workers / 2**20:,.0f} MiB; idle after loading: "
            f"{ours.get('idle_rss_bytes', 0) / 2**20:,.0f} MiB RSS, "
            f"{ours.get('idle_pss_bytes', 0) / 2**20:,.0f} MiB PSS, i.e. with shared pages "
            f"counted once); ratio to DuckDB's peak {_fmt(ratio, '{:.1f}x')}. "
            "Peers: one process each, sampled the same way."
        )
        if load:
            per = ", ".join(f"{t} {v['seconds']:.1f} s" for t, v in load.get("tables", {}).items())
            lines += [
                "",
                f"Load into our warehouse (create_table + ingest + flush, Ray start-up "
                f"{load.get('connect_s', 0):.1f} s apart; the first table's time includes starting "
                f"the ingest actors): {load.get('load_s', 0):.1f} s ({per}); "
                f"partitioned: {load.get('partition_by')}, the other tables unpartitioned.",
            ]
        for peer in ("dask", "daft"):
            if f"slower_than_{peer}" in summary:
                slower = summary[f"slower_than_{peer}"]
                lines.append(f"\nQueries where we are slower than {peer}: {slower or 'none'}.")
    return lines


def _na_line(reports: dict[str, dict[str, Any]], number: int) -> str:
    parts = [
        f"{e}: {r['queries'][str(number)].get('reason', '')}"
        for e, r in reports.items()
        if r["queries"][str(number)]["status"] != "ok"
    ]
    return f"\nQ{number} n/a — " + "; ".join(parts) if parts else ""


# --- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.worker:
        run_worker(args.worker, data_paths(args.scale), args)
        return 0
    t0 = time.perf_counter()
    paths = data_paths(args.scale)
    print(f"data ready in {time.perf_counter() - t0:.1f} s: {paths['lineitem'].parent}", flush=True)
    out = Path(tempfile.mkdtemp(prefix="tpch-bench-"))
    try:
        reports = _run_engines(args, out)
        _check_answers(reports, out, args.numbers)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    shown = [e for e in ALL_ENGINES if e in reports]
    reports = {e: reports[e] for e in shown}
    summary = summarise(reports, args.numbers)
    meta = {
        "scale": args.scale,
        "repeats": args.repeats,
        "date": time.strftime("%Y-%m-%d"),
        "machine_note": _machine_note(reports),
        "summary": summary,
        "wall_s": time.perf_counter() - t0,
    }
    text = markdown(reports, args.numbers, meta)
    print(text)
    name = f"tpch_sf{args.scale:g}"
    common.write_markdown(name, text)
    if "hasivu" in reports:
        common.write_markdown(f"{name}_explain", explain_text(reports["hasivu"], args.numbers))
    common.save_results(name, {**meta, "queries": args.numbers, "engines": reports})
    return 0


def _machine_note(reports: dict[str, dict[str, Any]]) -> str:
    loads = [
        q["load_avg_1m_before"]
        for r in reports.values()
        for q in r["queries"].values()
        if "load_avg_1m_before" in q
    ]
    seen = f"{min(loads):.1f} to {max(loads):.1f}" if loads else "unknown"
    return (
        f"{os.cpu_count()} vCPUs shared with other engineers' work (1-minute load average "
        f"{seen} when a query started), so times are noisy; the engines took turns query by "
        "query, so compare ratios within this run"
    )


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    raise SystemExit(main())
