"""Shared benchmark plumbing: cached data sets, timing, memory, result files and tables.

Data is generated once and cached as Parquet under ``benchmarks/data/`` (gitignored; override
with ``HASIVU_BENCH_DATA``): TPC-H tables with ``tpchgen-cli``, school-meals orders with
:mod:`hasivu_compute.datagen`. Generation writes to a temporary file and renames it into place
under a file lock, so concurrent benchmark processes never see half-written files.

Timing reports wall time, best of N runs after warm-up runs. Memory is the peak resident set
of *this* process during the call minus its resident set before (peers that compute in other
processes, such as Ray workers, are not counted; the result says which method measured it).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from hasivu_compute.datagen import school

T = TypeVar("T")

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("HASIVU_BENCH_DATA", BENCH_DIR / "data"))
RESULTS_DIR = BENCH_DIR / "results"
TPCH_TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
SCHOOL_TABLES = ("schools", "students", "menu_items", "kitchens")
PEER_PACKAGES = (
    "numpy",
    "pyarrow",
    "duckdb",
    "polars",
    "dask",
    "daft",
    "ray",
    "pandas",
    "hasivu_compute",
)


# --- cached data sets ---------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(name: str) -> Iterator[None]:
    """Serialise generation of one data set across processes (a second caller waits, then reuses)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sf_label(sf: float) -> str:
    return f"sf{sf:g}"


def _tpchgen() -> str:
    beside_python = Path(sys.executable).parent / "tpchgen-cli"
    found = str(beside_python) if beside_python.exists() else shutil.which("tpchgen-cli")
    if not found:
        raise FileNotFoundError(
            "tpchgen-cli not found: install the 'bench' extra (pip install tpchgen-cli)"
        )
    return found


def tpch_parquet_path(table: str, sf: float) -> Path:
    """Path of the cached TPC-H ``table`` at scale factor ``sf`` (one Parquet file), generating it
    with ``tpchgen-cli`` on first use (SF1 lineitem takes a few seconds)."""
    if table not in TPCH_TABLES:
        raise ValueError(f"unknown TPC-H table {table!r}; expected one of {TPCH_TABLES}")
    if sf <= 0:
        raise ValueError(f"scale factor must be positive, got {sf!r}")
    final = DATA_DIR / "tpch" / _sf_label(sf) / f"{table}.parquet"
    if final.exists():
        return final
    with _file_lock(f"tpch-{_sf_label(sf)}-{table}"):
        if final.exists():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=final.parent, prefix=".gen-") as tmp:
            cmd = [
                _tpchgen(),
                "parquet",
                "-s",
                f"{sf:g}",
                "-T",
                table,
                "-o",
                tmp,
                "-q",
                "--no-progress",
            ]
            subprocess.run(cmd, check=True, capture_output=True)
            os.replace(Path(tmp) / f"{table}.parquet", final)
    return final


def tpch(table: str, sf: float) -> pa.Table:
    """The TPC-H ``table`` at scale factor ``sf`` as an Arrow table (generated once, cached)."""
    return pq.read_table(tpch_parquet_path(table, sf))


def _portable_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_decimal(t):
        return pa.float64()
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        return pa.string()
    return t


def tpch_portable_path(table: str, sf: float) -> Path:
    """A copy of the TPC-H table that every peer reads the same way: decimals as float64,
    ``string_view`` as ``string`` (Dask/pandas and Ray Data trip over the originals).

    Benchmarks compare peers on this copy; ``tpch_parquet_path`` keeps the original types.
    """
    source = tpch_parquet_path(table, sf)
    final = source.with_name(f"{table}.portable.parquet")
    if final.exists():
        return final
    with _file_lock(f"tpch-{_sf_label(sf)}-{table}-portable"):
        if not final.exists():
            pf = pq.ParquetFile(source)
            schema = pa.schema(
                [pa.field(f.name, _portable_type(f.type), f.nullable) for f in pf.schema_arrow]
            )
            batches = (
                pa.Table.from_batches([rb]).cast(schema).combine_chunks().to_batches()[0]
                for rb in pf.iter_batches(batch_size=1 << 20)
            )
            _write_parquet_atomic(final, batches, schema)
    return final


def _write_parquet_atomic(
    final: Path, batches: Iterator[pa.RecordBatch], schema: pa.Schema
) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".gen-", suffix=".parquet")
    os.close(fd)
    try:
        with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
            for rb in batches:
                writer.write_batch(rb, row_group_size=1 << 20)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def school_orders_path(n_rows: int, seed: int = 0) -> Path:
    """Path of the cached school-meals orders Parquet file (row groups of 1M rows), generated
    with :func:`hasivu_compute.datagen.iter_orders` in bounded memory on first use."""
    final = DATA_DIR / "school" / f"orders_{n_rows}_seed{seed}.parquet"
    if final.exists():
        return final
    with _file_lock(final.stem):
        if not final.exists():
            batches = school.iter_orders(n_rows, batch_rows=1 << 20, seed=seed)
            _write_parquet_atomic(final, batches, school.ORDERS_SCHEMA)
    return final


def school_orders(n_rows: int, seed: int = 0) -> pa.Table:
    """``n_rows`` school-meals orders (default 1,000 schools over 2025), cached as Parquet."""
    return pq.read_table(school_orders_path(n_rows, seed))


def school_dimension_path(name: str, seed: int = 0) -> Path:
    """Path of a cached dimension table (``schools``, ``students``, ``menu_items``, ``kitchens``)."""
    if name not in SCHOOL_TABLES:
        raise ValueError(f"unknown school table {name!r}; expected one of {SCHOOL_TABLES}")
    final = DATA_DIR / "school" / f"{name}_seed{seed}.parquet"
    if not final.exists():
        with _file_lock(final.stem):
            if not final.exists():
                table: pa.Table = getattr(school, name)(seed=seed)
                _write_parquet_atomic(final, iter(table.to_batches()), table.schema)
    return final


# --- timing and memory --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock timings of one benchmarked call."""

    best_s: float
    median_s: float
    runs_s: tuple[float, ...]
    warmup_s: tuple[float, ...]
    peak_rss_delta_bytes: int | None
    memory_method: str
    cold: bool = False  # True: the warm-up alone overran the budget and is the only run

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _vm_hwm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("VmHWM not in /proc/self/status")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Context manager measuring the peak RSS growth of this process during its body.

    Uses the kernel's exact high-water mark when it can be reset (Linux); otherwise samples RSS
    every 5 ms with psutil in a thread; otherwise falls back to ``ru_maxrss`` (only counts growth
    above the process's earlier peak). ``method`` names what was used.
    """

    def __init__(self) -> None:
        self.delta_bytes: int | None = None
        self.method = "none"
        self._baseline = 0
        self._peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRSS:
        gc.collect()
        if _reset_peak():
            self.method = "linux-vmhwm"
            self._baseline = _rss_bytes()
            return self
        try:
            import psutil
        except ImportError:
            import resource

            self.method = "ru_maxrss"
            self._baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return self
        proc = psutil.Process()
        self.method = "psutil-sampled"
        self._baseline = self._peak = proc.memory_info().rss

        def sample() -> None:
            while not self._stop.wait(0.005):
                self._peak = max(self._peak, proc.memory_info().rss)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.method == "linux-vmhwm":
            self._peak = _vm_hwm_bytes()
        elif self.method == "ru_maxrss":
            import resource

            self._peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()
        self.delta_bytes = max(0, self._peak - self._baseline)


def timeit(
    fn: Callable[[], T], *, repeat: int = 3, warmup: int = 1, budget_s: float | None = None
) -> tuple[Timing, T]:
    """Run ``fn`` ``warmup`` times (not ranked), then up to ``repeat`` times; best wall time wins.

    With ``budget_s``, the timed runs are cut to what fits the budget judging by the slowest
    warm-up (at least one), and a warm-up longer than the whole budget is reported as the only
    (``cold``) run, so a peer needing a minute per query does not stall the suite.
    The peak-RSS delta is taken over the timed runs. Returns the timing and the last result.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    warm: list[float] = []
    result: T
    for i in range(warmup):
        t0 = time.perf_counter()
        result = fn()
        warm.append(time.perf_counter() - t0)
        if i < warmup - 1:
            del result
    if budget_s is not None and warm and max(warm) > budget_s:
        # one warm-up already overran the budget: report it rather than spend as long again
        return Timing(
            min(warm), statistics.median(warm), tuple(warm), (), None, "none", True
        ), result
    if budget_s is not None and warm and max(warm) > 0:
        repeat = max(1, min(repeat, int(budget_s // max(warm))))
    runs: list[float] = []
    with PeakRSS() as mem:
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = fn()
            runs.append(time.perf_counter() - t0)
    timing = Timing(
        best_s=min(runs),
        median_s=statistics.median(runs),
        runs_s=tuple(runs),
        warmup_s=tuple(warm),
        peak_rss_delta_bytes=mem.delta_bytes,
        memory_method=mem.method,
    )
    return timing, result


# --- machine info and results ---------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_times() -> tuple[int, int] | None:
    """``(steal, total)`` CPU ticks of the whole machine from ``/proc/stat`` (None elsewhere).

    On a shared VM the hypervisor takes a varying share of the CPU ("steal");
    the share during a step says how far its figures can be trusted.
    """
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    steal = fields[7] if len(fields) > 7 else 0
    return steal, sum(fields[:8])


def steal_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """Share of CPU time the hypervisor took between two :func:`cpu_times` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def machine_info() -> dict[str, object]:
    """Cores, memory and versions of the peers, recorded with every result file."""
    mem_total = None
    with contextlib.suppress(OSError, ValueError):
        mem_total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cpu_model = None
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu_model = next(
            (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), None
        )
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "memory_bytes": mem_total,
        "load_avg": os.getloadavg(),
        "versions": {p: _version(p) for p in PEER_PACKAGES},
    }


def save_results(name: str, payload: Mapping[str, object]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the payload, a UTC timestamp and machine info."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    doc = {
        "name": name,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "results": payload,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    os.replace(tmp, path)
    return path


# --- tables -------------------------------------------------------------------------------


def ratio_grid(
    rows: Sequence[Mapping[str, object]],
    *,
    row_key: str = "query",
    col_key: str = "peer",
    value_key: str = "best_s",
    baseline: str | None = None,
) -> tuple[list[str], list[str], dict[tuple[str, str], tuple[float, float]]]:
    """Pivot long rows into (row labels, column labels, {(row, col): (value, ratio)}).

    The ratio is value / baseline column's value in that row, or value / the row's minimum
    when ``baseline`` is None or missing from the row (so 1.00 marks the fastest).
    """
    row_labels: list[str] = []
    col_labels: list[str] = []
    values: dict[tuple[str, str], float] = {}
    for r in rows:
        rk, ck, v = str(r[row_key]), str(r[col_key]), r.get(value_key)
        if rk not in row_labels:
            row_labels.append(rk)
        if ck not in col_labels:
            col_labels.append(ck)
        if isinstance(v, int | float):
            values[(rk, ck)] = float(v)
    grid: dict[tuple[str, str], tuple[float, float]] = {}
    for rk in row_labels:
        in_row = {ck: values[(rk, ck)] for ck in col_labels if (rk, ck) in values}
        if not in_row:
            continue
        base = in_row.get(baseline) if baseline else None
        base = base if base else min(in_row.values())
        for ck, v in in_row.items():
            grid[(rk, ck)] = (v, v / base if base > 0 else float("nan"))
    return row_labels, col_labels, grid


def _cell(cell: tuple[float, float] | None, unit: str, ratios: bool = True) -> str:
    if cell is None:
        return "—"
    v, ratio = cell
    if not ratios:
        return f"{v * 1000:.1f} ms" if unit == "s" and v < 1 else f"{v:.3g} {unit}"
    if unit != "s":
        return f"{v:.3g} {unit} ({ratio:.2f}×)"
    return f"{v * 1000:.1f} ms ({ratio:.2f}×)" if v < 1 else f"{v:.2f} s ({ratio:.2f}×)"


def print_ratio_table(
    rows: Sequence[Mapping[str, object]],
    *,
    title: str | None = None,
    row_key: str = "query",
    col_key: str = "peer",
    value_key: str = "best_s",
    baseline: str | None = None,
    unit: str = "s",
) -> None:
    """Print a query × peer table of times with ratios to the baseline (or fastest) peer."""
    from rich.console import Console
    from rich.table import Table

    row_labels, col_labels, grid = ratio_grid(
        rows, row_key=row_key, col_key=col_key, value_key=value_key, baseline=baseline
    )
    table = Table(title=title)
    table.add_column(row_key)
    for c in col_labels:
        table.add_column(c, justify="right")
    for r in row_labels:
        table.add_row(r, *(_cell(grid.get((r, c)), unit) for c in col_labels))
    Console().print(table)


def markdown_table(
    rows: Sequence[Mapping[str, object]],
    *,
    row_key: str = "query",
    col_key: str = "peer",
    value_key: str = "best_s",
    baseline: str | None = None,
    unit: str = "s",
    ratios: bool = True,
) -> str:
    """The same table as :func:`print_ratio_table`, as GitHub markdown (``ratios=False``: values
    only, e.g. for memory, where a ratio to a near-zero figure says nothing)."""
    row_labels, col_labels, grid = ratio_grid(
        rows, row_key=row_key, col_key=col_key, value_key=value_key, baseline=baseline
    )
    lines = [
        "| " + " | ".join([row_key, *col_labels]) + " |",
        "|" + "---|" + "---:|" * len(col_labels),
    ]
    for r in row_labels:
        lines.append(
            "| "
            + " | ".join([r, *(_cell(grid.get((r, c)), unit, ratios) for c in col_labels)])
            + " |"
        )
    return "\n".join(lines) + "\n"


def write_markdown(name: str, text: str) -> Path:
    """Write ``benchmarks/results/<name>.md``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    path.write_text(text)
    return path
