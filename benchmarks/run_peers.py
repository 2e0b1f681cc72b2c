"""Runner behind ``python -m benchmarks.peers``: one process per peer, cross-check, report.

The parent prepares (and caches) the data, then starts ``python -m benchmarks.run_peers
--worker <peer>`` for each peer. A worker times its peer's start-up, runs every query
(warm-up, then best of N), writes timings as JSON and answers as Arrow IPC files, and exits.
The parent checks every answer against the reference peer, prints a ratio table and saves
``benchmarks/results/peers_<size>.json`` and ``.md``. It exits non-zero if two peers disagree.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from benchmarks import common
from benchmarks.queries import QUERIES, DataPaths, assert_same_answer, normalize


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    ap.add_argument("--sf", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    ap.add_argument(
        "--orders", type=int, default=10_000_000, help="school orders rows (default 10M)"
    )
    ap.add_argument("--quick", action="store_true", help="SF 0.1 and 1M orders")
    ap.add_argument("--peers", default="", help="comma-separated subset of peers (default: all)")
    ap.add_argument(
        "--queries", default="", help="comma-separated subset of queries (default: all)"
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per query (best is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs before timing")
    ap.add_argument("--budget", type=float, default=30.0, help="seconds of timed runs per query")
    ap.add_argument(
        "--peer-timeout", type=float, default=600.0, help="seconds before a peer is killed"
    )
    ap.add_argument("--name", default="", help="result file name (default peers_sf<sf>_<orders>)")
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.sf, args.orders = 0.1, 1_000_000
    return args


def prepare_data(sf: float, n_orders: int) -> DataPaths:
    """Generate (once) and return the files every peer reads."""
    return DataPaths(
        sf=sf,
        n_orders=n_orders,
        lineitem=common.tpch_portable_path("lineitem", sf),
        orders=common.school_orders_path(n_orders),
    )


def _selected(text: str, known: Sequence[str], what: str) -> list[str]:
    if not text:
        return list(known)
    chosen = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {unknown}; choose from {list(known)}")
    return chosen


# --- worker (one peer, in its own process) ----------------------------------------------------


def _write_report(
    out: Path, peer: str, report: dict[str, object], queries: dict[str, object]
) -> None:
    report["queries"] = queries
    tmp = out / f"{peer}.json.tmp"
    tmp.write_text(json.dumps(report, default=str))
    os.replace(tmp, out / f"{peer}.json")


def _worker(args: argparse.Namespace) -> int:
    from benchmarks.peers import PEER_SETUP, PEER_TEARDOWN, PEERS

    with contextlib.suppress(Exception):
        pa.jemalloc_set_decay_ms(0)  # return freed memory at once so RSS deltas mean something
    peer, out = args.worker, Path(args.out)
    data = prepare_data(args.sf, args.orders)
    report: dict[str, object] = {"peer": peer, "setup_s": None, "setup_error": None, "queries": {}}
    t0 = time.perf_counter()
    try:
        setup = PEER_SETUP.get(peer)
        if setup is not None:
            setup(data)
        report["setup_s"] = time.perf_counter() - t0
    except Exception as exc:
        report["setup_error"] = f"{type(exc).__name__}: {exc}"
        report["setup_traceback"] = traceback.format_exc(limit=8)
    queries: dict[str, object] = {}
    if report["setup_error"] is None:
        for qname in _selected(args.queries, list(QUERIES), "queries"):
            spec = QUERIES[qname]
            try:
                timing, result = common.timeit(
                    lambda spec=spec: PEERS[peer](spec, data),
                    repeat=args.repeat,
                    warmup=args.warmup,
                    budget_s=args.budget,
                )
                path = str(out / f"{peer}.{qname}.arrow")
                with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, result.schema) as writer:
                    writer.write_table(result)
                queries[qname] = {
                    "timing": timing.to_dict(),
                    "rows": result.num_rows,
                    "error": None,
                }
            except Exception as exc:
                queries[qname] = {
                    "error": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=6),
                }
            _write_report(out, peer, report, queries)  # after each query: survives a timeout
    teardown = PEER_TEARDOWN.get(peer)
    if teardown is not None:
        try:
            report["info"] = teardown()
        except Exception as exc:
            report["info"] = {"teardown_error": f"{type(exc).__name__}: {exc}"}
    _write_report(out, peer, report, queries)
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    return 0


# --- parent ---------------------------------------------------------------------------------


def _run_worker(peer: str, args: argparse.Namespace, out: Path) -> dict[str, object]:
    cmd = [
        sys.executable, "-m", "benchmarks.run_peers", "--worker", peer, "--out", str(out),
        "--sf", f"{args.sf:g}", "--orders", str(args.orders), "--repeat", str(args.repeat),
        "--warmup", str(args.warmup), "--queries", args.queries, "--budget", f"{args.budget:g}",
    ]  # fmt: skip
    env = dict(os.environ, RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    t0 = time.perf_counter()
    # own session: on timeout the whole group (the worker and any Ray processes it started) goes
    child = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root,
        start_new_session=True,
    )  # fmt: skip
    try:
        _, stderr = child.communicate(timeout=args.peer_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        stderr = None
    wall = time.perf_counter() - t0
    report_path = out / f"{peer}.json"
    if stderr is None:
        partial = json.loads(report_path.read_text()) if report_path.exists() else {"queries": {}}
        return {**partial, "peer": peer, "error": f"timed out after {args.peer_timeout:.0f} s"}
    if not report_path.exists():
        tail = stderr.strip().splitlines()[-15:]
        return {
            "peer": peer,
            "error": f"worker exited {child.returncode}",
            "stderr_tail": tail,
            "queries": {},
        }
    report = json.loads(report_path.read_text())
    report["process_wall_s"] = wall
    return report


def _answer(out: Path, peer: str, qname: str) -> pa.Table | None:
    path = out / f"{peer}.{qname}.arrow"
    if not path.exists():
        return None
    with pa.memory_map(str(path)) as src:
        return pa.ipc.open_file(src).read_all()


def _cross_check(
    out: Path, peers: list[str], queries: list[str]
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Per query and peer: "reference", "ok", or the disagreement; plus the list of failures."""
    from benchmarks.peers import REFERENCE_PEERS

    verdicts: dict[str, dict[str, str]] = {}
    failures: list[str] = []
    for qname in queries:
        spec = QUERIES[qname]
        answers = {p: a for p in peers if (a := _answer(out, p, qname)) is not None}
        ref = next((p for p in (*REFERENCE_PEERS, *peers) if p in answers), None)
        verdicts[qname] = {}
        if ref is None:
            continue
        expected = normalize(spec, answers[ref])
        for p, a in answers.items():
            try:
                assert_same_answer(spec, expected, normalize(spec, a))
                verdicts[qname][p] = "reference" if p == ref else "ok"
            except (AssertionError, KeyError, pa.ArrowInvalid) as exc:
                verdicts[qname][p] = f"DIFFERS from {ref}: {exc}"
                failures.append(f"{qname}/{p}: {exc}")
    return verdicts, failures


def _rows(
    reports: dict[str, dict[str, object]], verdicts: dict[str, dict[str, str]]
) -> list[dict[str, object]]:
    rows = []
    for peer, rep in reports.items():
        for qname, q in dict(rep.get("queries") or {}).items():
            t = q.get("timing") or {}
            rss = t.get("peak_rss_delta_bytes")
            rows.append(
                {
                    "query": qname,
                    "peer": peer,
                    "best_s": t.get("best_s"),
                    "median_s": t.get("median_s"),
                    "first_run_s": (t.get("warmup_s") or t.get("runs_s") or [None])[0],
                    "timed_runs": len(t.get("runs_s") or ()),
                    "cold": t.get("cold"),
                    "peak_rss_mb": None if rss is None else rss / 2**20,
                    "rows": q.get("rows"),
                    "error": q.get("error"),
                    "check": verdicts.get(qname, {}).get(peer, "no answer"),
                }
            )
    return rows


def _markdown(
    args: argparse.Namespace, data: DataPaths, reports: dict, rows: list, failures: list
) -> str:
    info = common.machine_info()
    lines = [
        f"# Peers — TPC-H SF{args.sf:g} (lineitem), {args.orders:,} school orders\n",
        f"Machine: {info['cpu_count']} cores ({info['cpu_model']}), "
        f"{int(info['memory_bytes'] or 0) / 2**30:.0f} GiB; versions: "
        + ", ".join(f"{k} {v}" for k, v in dict(info["versions"]).items() if v)
        + f". Best of {args.repeat} after {args.warmup} warm-up; ratio to the fastest peer.\n",
        "## Wall time\n",
        common.markdown_table(rows),
        "## First (cold) run, before the timed runs\n",
        common.markdown_table(rows, value_key="first_run_s", ratios=False),
        "## Peak RSS growth of the peer's process (MiB; Ray workers not counted)\n",
        common.markdown_table(rows, value_key="peak_rss_mb", unit="MiB", ratios=False),
        "## Peer start-up (not in the query times)\n",
        "| peer | start-up | process wall | status |",
        "|---|---:|---:|---|",
    ]
    for peer, rep in reports.items():
        setup = rep.get("setup_s")
        status = rep.get("error") or rep.get("setup_error") or "ok"
        wall = rep.get("process_wall_s")
        lines.append(
            f"| {peer} | {'' if setup is None else f'{setup:.2f} s'} | "
            f"{'' if wall is None else f'{wall:.1f} s'} | {status} |"
        )
    cold = [f"{r['peer']}/{r['query']}" for r in rows if r.get("cold")]
    if cold:
        lines += ["", "Single cold run (the warm-up alone overran the budget): " + ", ".join(cold)]
    errors = [f"- {r['peer']} / {r['query']}: {r['error']}" for r in rows if r["error"]]
    lines += [
        "",
        "## Answers",
        "All answers agree with the reference." if not failures else "",
        *failures,
    ]
    if errors:
        lines += ["", "## Errors", *errors]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.peers``."""
    args = _parse(argv)
    if args.worker:
        return _worker(args)
    from benchmarks.peers import PEERS

    peers = _selected(args.peers, list(PEERS), "peers")
    queries = _selected(args.queries, list(QUERIES), "queries")
    t0 = time.perf_counter()
    data = prepare_data(args.sf, args.orders)
    print(
        f"data ready in {time.perf_counter() - t0:.1f} s: {data.lineitem}, {data.orders}",
        flush=True,
    )
    reports: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="hc-peers-") as tmp:
        out = Path(tmp)
        for peer in peers:
            t1 = time.perf_counter()
            reports[peer] = _run_worker(peer, args, out)
            status = reports[peer].get("error") or reports[peer].get("setup_error") or "ok"
            print(f"{peer:<15} {time.perf_counter() - t1:6.1f} s  {status}", flush=True)
        verdicts, failures = _cross_check(out, peers, queries)
    rows = _rows(reports, verdicts)
    name = args.name or f"peers_sf{args.sf:g}_{args.orders}"
    title = (
        f"TPC-H SF{args.sf:g} / {args.orders:,} orders — best of {args.repeat} (ratio to fastest)"
    )
    common.print_ratio_table(rows, title=title)
    payload = {
        "config": {k: v for k, v in vars(args).items() if k not in ("worker", "out")},
        "data": {"lineitem": str(data.lineitem), "orders": str(data.orders)},
        "rows": rows,
        "peers": reports,
        "answers_agree": not failures,
        "disagreements": failures,
    }
    json_path = common.save_results(name, payload)
    md_path = common.write_markdown(name, _markdown(args, data, reports, rows, failures))
    print(f"saved {json_path} and {md_path}")
    if failures:
        print("ANSWERS DIFFER:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
