"""Child process for the crash and concurrency tests (run as a script, never imported).

Usage: python _table_worker.py ROOT MODE ARG
  ROOT zygote -    import everything once, then for each "run SEQ" line on stdin fork a
                   child that appends one batch as producer "crash" with sequence SEQ
                   ("compact SEQ": a child that compacts the table in full)
                   (prints "started PID", "done PID" from the child; reaps it on the
                   next stdin line and prints "exit PID STATUS")
  ROOT race NAME   wait for "go" on stdin, then append 10 batches as producer NAME

Forking from a zygote that has done nothing but import keeps 40 crash runs fast on a
busy machine (no interpreter start-up per run) and is safe: no thread exists yet.
"""

from __future__ import annotations

import os
import sys


def _batch(n: int, seed: int):  # -> pa.Table
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    base = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
    return pa.table(
        {
            "order_id": pa.array(np.arange(seed * n, seed * n + n), pa.int64()),
            "school_id": pa.array(rng.integers(1, 50, size=n), pa.int32()),
            "ordered_at": pa.array(
                base + rng.integers(0, 60 * 86_400_000_000, size=n), pa.timestamp("us", tz="UTC")
            ),
            "amount": pa.array(rng.random(n)),
            "status": pa.array(rng.choice(["paid", "pending"], size=n)),
        }
    )


def main(argv: list[str]) -> None:
    from hasivu_compute._core.errors import CommitConflictError
    from hasivu_compute.storage.fileio import FileIO
    from hasivu_compute.table.catalog import Catalog

    root, mode, arg = argv
    table = Catalog(FileIO.from_uri(root)).load_table("t")
    _batch(10, 0)  # first-use costs paid once, before forking (no threads started)
    if mode == "zygote":
        print("ready", flush=True)
        for line in sys.stdin:
            pid = os.fork()
            if pid == 0:
                kind, seq = line.split()
                _crash_child(root, int(seq), compact=kind == "compact")
            # Reap only when told: until then the pid stays ours (a zombie at worst), so the
            # test's kill can never hit a recycled pid.
            sys.stdin.readline()
            _, status = os.waitpid(pid, 0)
            print(f"exit {pid} {status}", flush=True)
        return
    print("ready", flush=True)
    sys.stdin.readline()
    for seq in range(1, 11):
        try:
            result = table.append(_batch(200, seq), producer_id=arg, sequence=seq)
            print(f"ok {seq} {result.version} {result.rows}", flush=True)
        except CommitConflictError as exc:
            print(f"conflict {seq} {exc}", flush=True)


def _crash_child(root: str, seq: int, compact: bool = False) -> None:
    try:
        from hasivu_compute.storage.fileio import FileIO
        from hasivu_compute.table.catalog import Catalog
        from hasivu_compute.table.compaction import CompactionPolicy

        table = Catalog(FileIO.from_uri(root)).load_table("t")
        if compact:
            print(f"started {os.getpid()}", flush=True)
            done = table.compact(CompactionPolicy(target_rows=1500))
            print(f"done {os.getpid()} {done.version}", flush=True)
            return
        data = _batch(2000, seq)
        print(f"started {os.getpid()}", flush=True)
        result = table.append(data, producer_id="crash", sequence=seq)
        print(f"done {os.getpid()} {result.version}", flush=True)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
