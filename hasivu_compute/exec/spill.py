"""Joins under a memory budget: hash-partition both inputs to local disk, join part by part.

When the build side (the right input) of a keyed join takes more bytes than the
budget, both inputs are cut into ``k`` parts by a hash of their join keys and
written as Arrow IPC files under a fresh temporary folder (a grace hash join):
rows with equal keys land in the same part, so joining part ``i`` of the left
with part ``i`` of the right, for each ``i``, gives exactly the whole join, for
every join type (a row is unmatched in the whole join iff it is unmatched in its
part). Only one pair of parts is in memory at a time; ``k`` is chosen so a build
part fits the budget, and a part still too large (skewed keys) is cut again with
another hash seed. The folder is removed when the join ends, failed or not.

Joins without keys (cross joins, inequality conditions) cannot be partitioned by
hash; they run in blocks (``join.PAIR_BLOCK``) as before.
"""

from __future__ import annotations

import functools
import math
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from hasivu_compute.exec.kernels.evaluate import evaluate_column
from hasivu_compute.exec.kernels.floats import canonical_floats
from hasivu_compute.plan.nodes import Join
from hasivu_compute.schema.partition import hash_values

__all__ = [
    "JoinBudget",
    "SpillStats",
    "current_budget",
    "join_budget",
    "join_within_budget",
]

#: Parts a spilled join cuts each input into at most (per level).
MAX_PARTS = 256
#: Times a part that is still too large is cut again before it is joined as it is.
MAX_LEVELS = 3
_BATCH_ROWS = 64_000


@dataclass(frozen=True, slots=True)
class JoinBudget:
    """Bytes a join's build side may hold in memory; beyond it, parts spill to
    ``spill_dir`` (None: the system temporary folder)."""

    max_bytes: int
    spill_dir: str | None = None


@dataclass(slots=True)
class SpillStats:
    """What the last spilled join did (for ``explain analyze`` and tests)."""

    parts: int = 0
    bytes_written: int = 0
    levels: int = 0


def join_within_budget(
    left: pa.Table, right: pa.Table, node: Join, budget: JoinBudget | None, stats: SpillStats
) -> pa.Table:
    """``left`` joined with ``right`` (see ``join.join_tables``), spilling when the build
    side exceeds ``budget`` (see the module docstring)."""
    from hasivu_compute.exec.join import join_tables

    if budget is None or not node.left_keys or right.nbytes <= budget.max_bytes:
        return join_tables(left, right, node)
    root = Path(tempfile.mkdtemp(prefix="hasivu-spill-", dir=budget.spill_dir))
    try:
        return _partitioned(left, right, node, budget, stats, root, level=0)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _partitioned(
    left: pa.Table,
    right: pa.Table,
    node: Join,
    budget: JoinBudget,
    stats: SpillStats,
    folder: Path,
    level: int,
) -> pa.Table:
    from hasivu_compute.exec.join import join_tables

    parts = min(MAX_PARTS, max(2, 1 << math.ceil(math.log2(2 * right.nbytes / budget.max_bytes))))
    stats.levels = max(stats.levels, level + 1)
    stats.parts += parts
    left_files = _spill(left, node.left_keys, parts, level, folder / f"l{level}")
    right_files = _spill(right, node.right_keys, parts, level, folder / f"r{level}")
    stats.bytes_written += sum(f.stat().st_size for f in left_files + right_files if f.exists())
    del left, right  # the caller's references may remain; ours go
    outputs: list[pa.Table] = []
    for i in range(parts):
        part_l, part_r = _read(left_files[i]), _read(right_files[i])
        left_files[i].unlink(missing_ok=True)
        right_files[i].unlink(missing_ok=True)
        if part_r.nbytes > budget.max_bytes and level + 1 < MAX_LEVELS and part_r.num_rows > 1:
            sub = folder / f"p{level}_{i}"
            sub.mkdir()
            outputs.append(_partitioned(part_l, part_r, node, budget, stats, sub, level + 1))
        else:
            outputs.append(join_tables(part_l, part_r, node))
    return pa.concat_tables(outputs)  # parts >= 2: never empty


def _part_of(table: pa.Table, keys: tuple, parts: int, level: int) -> np.ndarray:
    """Which part each row goes to: a hash of its key values (seeded by ``level``)."""
    combined = np.full(table.num_rows, np.uint64(level * 0x9E3779B97F4A7C15 % (1 << 64)))
    with np.errstate(over="ignore"):
        for key in keys:
            values = evaluate_column(key, table)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            if pa.types.is_floating(values.type):
                values = canonical_floats(values)
            combined = combined * np.uint64(0x100000001B3) ^ hash_values(values)
        combined ^= combined >> np.uint64(29)
    return (combined % np.uint64(parts)).astype(np.int64)


def _spill(table: pa.Table, keys: tuple, parts: int, level: int, folder: Path) -> list[Path]:
    """Write ``table``'s rows into ``parts`` IPC files by key hash, a batch at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"part-{i:03d}.arrow" for i in range(parts)]
    writers = [ipc.new_file(str(p), table.schema) for p in paths]
    try:
        for start in range(0, table.num_rows, _BATCH_ROWS):
            batch = table.slice(start, _BATCH_ROWS)
            target = _part_of(batch, keys, parts, level)
            order = np.argsort(target, kind="stable")
            bounds = np.searchsorted(target[order], np.arange(parts + 1))
            sorted_batch = batch.take(pa.array(order))
            for i in range(parts):
                lo, hi = int(bounds[i]), int(bounds[i + 1])
                if hi > lo:
                    writers[i].write_table(sorted_batch.slice(lo, hi - lo))
    finally:
        for w in writers:
            w.close()
    return paths


def _read(path: Path) -> pa.Table:
    with ipc.open_file(str(path)) as reader:
        table: pa.Table = reader.read_all()
    return table


_BUDGET: ContextVar[tuple[JoinBudget, SpillStats] | None] = ContextVar(
    "hasivu_join_budget", default=None
)


@functools.cache
def _configured() -> JoinBudget:
    from hasivu_compute._core.config import load_settings

    settings = load_settings()
    return JoinBudget(settings.join_memory_bytes, settings.spill_dir)


def current_budget() -> tuple[JoinBudget, SpillStats]:
    """The join memory budget in force and where to count spills: those set by
    :func:`join_budget`, else the ``HASIVU_JOIN_MEMORY_BYTES`` / ``HASIVU_SPILL_DIR``
    settings (read once) and a throw-away count."""
    found = _BUDGET.get()
    return found if found is not None else (_configured(), SpillStats())


@contextmanager
def join_budget(budget: JoinBudget) -> Iterator[SpillStats]:
    """Run the joins inside the ``with`` block under ``budget``; yields their spill count."""
    stats = SpillStats()
    token = _BUDGET.set((budget, stats))
    try:
        yield stats
    finally:
        _BUDGET.reset(token)
