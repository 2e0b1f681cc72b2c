"""TPC-H, all 22 queries, our engine beside DuckDB, Polars, Daft and Dask on the same files.

Run: ``python -m benchmarks.tpch [--scale 1] [--repeats 3] [--queries 1,3,...]
[--engines hasivu,duckdb,polars,daft,dask]``.

* Data: the eight tables generated once per scale with ``tpchgen-cli`` into
  ``benchmarks/data/tpch/sf<scale>/`` and read by every engine from the same Parquet copy
  (``common.tpch_portable_path``: decimals as float64, ``string_view`` as string, so Dask
  and Daft read the same types as the others).
* Engines (``tpch_engines.py``), each in a process of its own, one after the other:
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

Saved to ``results/tpch_sf<scale>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks import common
from benchmarks.tpch_engines import ENGINES, QUERIES, run_worker

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
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per engine")
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


def _run_engine(engine: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """One engine in a child process; its report, or every query n/a if the process failed."""
    cmd = [sys.executable, "-m", "benchmarks.tpch", "--worker", engine, "--out", str(out)]
    cmd += ["--scale", f"{args.scale:g}", "--repeats", str(args.repeats)]
    cmd += ["--queries", ",".join(map(str, args.numbers)), "--budget", str(args.budget)]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    t0 = time.perf_counter()
    print(f"== {engine}", flush=True)
    try:
        proc = subprocess.run(cmd, env=env, timeout=args.timeout, capture_output=True, text=True)
        failure = None if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr[-400:]}"
        sys.stdout.write(proc.stdout)
    except subprocess.TimeoutExpired:
        failure = f"engine process passed the {args.timeout:.0f} s timeout"
    path = out / f"{engine}.json"
    report = json.loads(path.read_text()) if path.exists() else {"queries": {}}
    report["wall_s"] = time.perf_counter() - t0
    for number in args.numbers:
        if str(number) not in report["queries"]:
            reason = failure or "not run"
            report["queries"][str(number)] = {"status": "n/a", "reason": reason}
    return report


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
    for engine, report in reports.items():
        qs = report["queries"]
        ratios = [
            qs[str(n)]["median_s"] / duck[str(n)]["median_s"]
            for n in numbers
            if qs[str(n)]["status"] == "ok"
        ]
        out["geomean_ratio_to_duckdb"][engine] = {
            "geomean": math.exp(statistics.fmean(math.log(r) for r in ratios)) if ratios else None,
            "queries": len(ratios),
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
    lines += ["", "| engine | process wall time | CPU steal during it | idle RSS after load |"]
    lines.append("|---|---:|---:|---:|")
    for engine, report in reports.items():
        steal = report.get("steal_share")
        lines.append(
            f"| {engine} | {report.get('wall_s', 0):.0f} s | {_fmt(steal, '{:.0%}')} "
            f"| {_fmt(report.get('idle_rss_bytes'), '{:,.0f} MiB', 2**20)} |"
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
                f"{load.get('connect_s', 0):.1f} s apart): {load.get('load_s', 0):.1f} s ({per}); "
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
        run_worker(args.worker, data_paths(args.scale), args.numbers, args)
        return 0
    t0 = time.perf_counter()
    paths = data_paths(args.scale)
    print(f"data ready in {time.perf_counter() - t0:.1f} s: {paths['lineitem'].parent}", flush=True)
    out = Path(tempfile.mkdtemp(prefix="tpch-bench-"))
    try:
        ordered = ["duckdb"] + [e for e in args.engine_list if e != "duckdb"]
        reports = {e: _run_engine(e, args, out) for e in ordered}
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
        "machine_note": _machine_note(),
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


def _machine_note() -> str:
    cpus = os.cpu_count()
    load = os.getloadavg()
    return (
        f"{cpus} vCPUs shared with other engineers' work (load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}), so times are noisy: compare ratios "
        "within this run"
    )


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    raise SystemExit(main())
