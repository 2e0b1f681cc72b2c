"""Segment format vs Parquet (pyarrow, zstd): size, encode speed, full decode speed.

Run: ``python -m benchmarks.storage`` (TPC-H lineitem SF1 and 10M school orders) or
``python -m benchmarks.storage --quick`` (SF 0.1 and 1M orders).

Both formats encode the same in-memory Arrow table into memory and decode it back in the
same process, alternating runs so that load from other processes hits both alike; the best
run of each counts. Targets: size <= 0.80x Parquet, decode speed >= 1.0x, encode speed
>= 0.5x. The table is printed and saved to ``benchmarks/results/storage.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import common
from hasivu_compute.storage.segment import SegmentReader, WriteOptions, encode_segment

TARGETS = {"size_ratio": 0.80, "decode_speed": 1.0, "encode_speed": 0.5}


def _best(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _parquet_write(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _parquet_read(buf: pa.Buffer) -> pa.Table:
    return pq.read_table(pa.BufferReader(buf))


def _ours_write(table: pa.Table, options: WriteOptions) -> bytes:
    data, _info = encode_segment(table, list(range(table.num_columns)), options)
    return data


def _ours_read(data: bytes, ncols: int) -> pa.Table:
    return SegmentReader(pa.BufferReader(data), "bench").read(list(range(ncols)))


def _equal(a: pa.Table, b: pa.Table) -> bool:
    return all(
        x.combine_chunks().equals(y.combine_chunks())
        for x, y in zip(a.columns, b.columns, strict=True)
    )


def bench_dataset(
    name: str, table: pa.Table, repeat: int, options: WriteOptions
) -> dict[str, object]:
    """Encode/decode ``table`` with both formats ``repeat`` times (alternating); best runs count."""
    pq_buf = _parquet_write(table)
    ours = _ours_write(table, options)
    assert _equal(_ours_read(ours, table.num_columns), table), f"{name}: round trip differs"
    w_pq = w_ours = r_pq = r_ours = float("inf")
    for _ in range(repeat):
        w_pq = min(w_pq, _best(lambda: _parquet_write(table)))
        w_ours = min(w_ours, _best(lambda: _ours_write(table, options)))
        r_pq = min(r_pq, _best(lambda: _parquet_read(pq_buf)))
        r_ours = min(r_ours, _best(lambda: _ours_read(ours, table.num_columns)))
    result: dict[str, object] = {
        "dataset": name,
        "rows": table.num_rows,
        "parquet_bytes": pq_buf.size,
        "ours_bytes": len(ours),
        "parquet_write_s": w_pq,
        "ours_write_s": w_ours,
        "parquet_read_s": r_pq,
        "ours_read_s": r_ours,
        "size_ratio": len(ours) / pq_buf.size,
        "encode_speed": w_pq / w_ours,
        "decode_speed": r_pq / r_ours,
        "zstd_level": options.zstd_level,
        "chunk_rows": options.chunk_rows,
    }
    result["meets_targets"] = (
        result["size_ratio"] <= TARGETS["size_ratio"]  # type: ignore[operator]
        and result["decode_speed"] >= TARGETS["decode_speed"]  # type: ignore[operator]
        and result["encode_speed"] >= TARGETS["encode_speed"]  # type: ignore[operator]
    )
    return result


def _rows_for_table(results: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for r in results:
        ds = r["dataset"]
        for metric, pq_key, ours_key, unit in (
            ("size MB", "parquet_bytes", "ours_bytes", 1e-6),
            ("encode s", "parquet_write_s", "ours_write_s", 1.0),
            ("decode s", "parquet_read_s", "ours_read_s", 1.0),
        ):
            for peer, key in (("parquet-zstd", pq_key), ("hasivu-segment", ours_key)):
                value = r[key]
                assert isinstance(value, int | float)
                rows.append({"query": f"{ds} {metric}", "peer": peer, "value": value * unit})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.storage", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="TPC-H SF 0.1 and 1M orders")
    ap.add_argument("--repeat", type=int, default=2, help="alternating timed runs (best counts)")
    ap.add_argument("--zstd-level", type=int, default=WriteOptions().zstd_level)
    args = ap.parse_args(argv)
    sf, n_orders = (0.1, 1_000_000) if args.quick else (1.0, 10_000_000)
    options = WriteOptions(zstd_level=args.zstd_level)
    results = []
    for name, load in (
        (f"lineitem-sf{sf:g}", lambda: common.tpch("lineitem", sf)),
        (f"orders-{n_orders // 1_000_000}M", lambda: common.school_orders(n_orders)),
    ):
        table = load()
        results.append(bench_dataset(name, table, args.repeat, options))
        del table
    common.print_ratio_table(
        _rows_for_table(results),
        title="segment vs Parquet-zstd (ratio to Parquet)",
        value_key="value",
        baseline="parquet-zstd",
        unit="",
    )
    for r in results:
        print(
            f"{r['dataset']}: size {r['size_ratio']:.3f}x Parquet (target <= 0.80), "
            f"decode speed {r['decode_speed']:.2f}x (>= 1.0), "
            f"encode speed {r['encode_speed']:.2f}x (>= 0.5)"
        )
    path = common.save_results("storage", {"targets": TARGETS, "datasets": results})
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
