"""Scatter/gather: run a plan's fragments on the shards that own their partitions.

A query is bound and optimized on the driver (pruning happens there, from
snapshot statistics, without reading data), cut into fragments, and each
exchange's fragments are regrouped by the shard that owns their partition on
the ring: one fragment per shard and exchange, sent only to shards that hold
unpruned partitions.  Partial results come back as Arrow tables through the
object store and are merged on the driver.

Failure rule: every fragment's partial result is present, or the query raises.
A fragment whose shard died is retried (Ray retries on the restarted actor
first; then we send it to the next shard on the ring, which can read the same
immutable files); after ``max_attempts`` the query raises
:class:`QueryFailedError`.  Never a silent subset.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pyarrow as pa
import ray
from ray.exceptions import GetTimeoutError, RayTaskError

from hasivu_compute._core.errors import QueryFailedError
from hasivu_compute.runtime import waits
from hasivu_compute.runtime.ring import HashRing, routing_key
from hasivu_compute.runtime.shard import FragmentStats
from hasivu_compute.runtime.writers import ACTOR_FAILURES, unwrap_task_error

RETRY_BACKOFF_S = 0.2
STALE_ATTEMPTS = 3

# (shard, fragment, its bytes, the buffer blocks its pieces read)
_Work = tuple[int, Any, bytes, dict[Any, Any]]


class _StaleBuffer(Exception):
    """The buffered writes moved past a query's pinned versions: plan it again."""


@dataclass(frozen=True, slots=True)
class QueryStats:
    """What a distributed query did.

    Attributes:
        fragments: per shard-fragment statistics (one per shard and exchange).
        pruning: per scan, ``"table: partitions a/b, segments c/d, ..."``.
        plan_s / scatter_s / merge_s: wall time of planning, fragments, merge.
        retries: fragments re-sent after a shard failure.
    """

    fragments: tuple[FragmentStats, ...]
    pruning: tuple[str, ...]
    plan_s: float
    scatter_s: float
    merge_s: float
    retries: int

    @property
    def rows_scanned(self) -> int:
        """Rows of the columns read on all shards."""
        return sum(f.rows_scanned for f in self.fragments)

    @property
    def bytes_scanned(self) -> int:
        """Decoded bytes of the columns read on all shards."""
        return sum(f.bytes_scanned for f in self.fragments)

    @property
    def shards_used(self) -> int:
        """Distinct shards that ran a fragment."""
        return len({f.shard for f in self.fragments})

    @property
    def pruning_text(self) -> str:
        """Pruning of every scan on one line."""
        return "; ".join(self.pruning) if self.pruning else "no pruning information"


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Rows and statistics of one query."""

    table: pa.Table
    stats: QueryStats


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """Everything a query needs before it is sent, kept by the plan cache.

    Attributes:
        plans: the planner's stages (bound, optimized, physical).
        tasks: ``(shard, fragment, bytes sent)`` per shard and exchange.
        pruning: per scan, what pruning kept.
        schema: the bound plan's output schema (the merged result is cast to it).
        heads: scans of tables' current versions, pinned (their buffered small writes
            are added at run time, see ``runtime.buffered``).
    """

    plans: Any
    tasks: tuple[tuple[int, Any, bytes], ...]
    pruning: tuple[str, ...]
    schema: pa.Schema
    heads: tuple[Any, ...] = ()


@dataclass(slots=True)
class _Task:
    fragment: Any
    payload: bytes
    shard: int
    ref: Any
    attempts: int
    blocks: dict[Any, Any] = dataclasses.field(default_factory=dict)
    broadcasts: dict[int, Any] = dataclasses.field(default_factory=dict)


def assign_fragments(
    fragments: Sequence[Any],
    ring: HashRing,
    extra: Mapping[int, Sequence[Any]] | None = None,
) -> dict[Hashable, list[Any]]:
    """Regroup fragments into one per (shard, exchange), by the owner of each file's partition.

    Files of one partition always share a ring key (its leading value), so a
    fragment that must see whole partitions stays correct after regrouping. Keys
    are placed with bounded loads by rows (:meth:`HashRing.place`), so the shards
    get even work. Fragments without files (an empty table) go to no shard: see ``local``.

    ``extra`` adds scan files per exchange (a table's buffered rows) that go with
    their partition's files but weigh nothing in placement, so adding them never
    moves a file (and its cached columns) to another shard.
    """
    groups: dict[tuple[int, Hashable], list[Any]] = {}
    templates: dict[int, Any] = {}
    weights: dict[tuple[int, Hashable], int] = {}
    for fragment in fragments:
        templates.setdefault(fragment.exchange_id, fragment)
        for scan_file in fragment.files:
            key = _key_of(fragment, scan_file)
            groups.setdefault((fragment.exchange_id, key), []).append(scan_file)
            weights[(fragment.exchange_id, key)] = weights.get(
                (fragment.exchange_id, key), 0
            ) + int(getattr(scan_file.file, "num_rows", 1) or 1)
    for exchange, scan_files in (extra or {}).items():
        for scan_file in scan_files:
            key = _key_of(templates[exchange], scan_file)
            groups.setdefault((exchange, key), []).append(scan_file)
            weights.setdefault((exchange, key), 0)
    out: dict[Hashable, list[Any]] = {}
    for exchange, template in templates.items():
        mine = {key: w for (ex, key), w in weights.items() if ex == exchange}
        by_shard: dict[Hashable, list[Any]] = {}
        for key, shard in ring.place(mine).items():
            by_shard.setdefault(shard, []).extend(groups[(exchange, key)])
        for shard, files in by_shard.items():
            merged = dataclasses.replace(
                template, files=tuple(files), partition=_common_partition(files)
            )
            out.setdefault(shard, []).append(merged)
    return out


def _key_of(fragment: Any, scan_file: Any) -> Hashable:
    data_file = scan_file.file
    if fragment.whole_partitions and not data_file.partition:
        return ("p", ())  # one unpartitioned "partition": keep it whole
    return routing_key(tuple(data_file.partition), data_file.path)


def _common_partition(files: Sequence[Any]) -> tuple[object, ...] | None:
    parts = {tuple(sf.file.partition) for sf in files}
    return parts.pop() if len(parts) == 1 else None


class QueryRunner:
    """Runs logical plans on shard actors.

    Args:
        catalog: a driver-side catalog (reads snapshots for planning).
        shards: shard actor handles; shard ``i`` is ring node ``i``.
        max_attempts: attempts per fragment before :class:`QueryFailedError`.
        timeout_s: longest wait for one fragment attempt.
        plan_cache: reuse prepared queries while their tables are unchanged
            (:class:`~hasivu_compute.runtime.plans.PlanCache`); None prepares every time.
        views: asks the coordinator for tables' buffered small writes (None: no buffers).
        buffered: how many rows a table holds in its log buffer (for join sizes).
        alive: raises if the connection can no longer be used (checked while waiting).
    """

    def __init__(
        self,
        catalog: Any,
        shards: Sequence[Any],
        max_attempts: int = 3,
        timeout_s: float = 600.0,
        plan_cache: Any | None = None,
        views: Any | None = None,
        alive: Any | None = None,
        buffered: Any | None = None,
    ) -> None:
        self._catalog = catalog
        self._shards = list(shards)
        self.ring = HashRing(tuple(range(len(self._shards))))
        self._max_attempts = max_attempts
        self._timeout = timeout_s
        self.plan_cache = plan_cache
        self._views = views
        self._alive = alive
        self._buffered = buffered

    # --- planning ----------------------------------------------------------------

    def source(self) -> Any:
        """A fresh table source (one per query: it pins each table's current version)."""
        from hasivu_compute.plan.source import CatalogSource

        view = None if self.plan_cache is None else self.plan_cache.view
        return CatalogSource(self._catalog if view is None else view, self._buffered)

    def bind(self, plan: Any, source: Any | None = None) -> Any:
        """The plan with tables pinned to snapshots and names resolved."""
        from hasivu_compute.plan.binder import bind_plan

        source = source or self.source()
        return bind_plan(plan, source.resolve)

    def optimize(self, plan: Any) -> Any:
        """Bound and optimized (pruned, split into exchanges)."""
        return self.prepare(plan).optimized

    def output_schema(self, plan: Any) -> pa.Schema:
        """The Arrow schema ``plan`` produces (no data is read)."""
        from hasivu_compute.plan.binder import output_schema

        return output_schema(self.bind(plan))

    def prepare(self, plan: Any, source: Any | None = None) -> Any:
        """Every stage of ``plan``: bound, optimized, physical (fragments + merge)."""
        from hasivu_compute.runtime.fragments import prepare_plans

        return prepare_plans(plan, source or self.source())

    def prepare_query(self, plan: Any, heads: frozenset[str] | None = None) -> PreparedQuery:
        """Plans, per-shard fragments (serialized once) and pruning text of ``plan``;
        from the plan cache while the scanned tables are unchanged.

        ``heads``: set for a broadcast side (the tables its query reads at their current
        versions); which scans read buffered small writes is each scan's own ``head``
        flag, so a version the query named is never given them."""
        if self.plan_cache is None:
            return self._prepare_query(plan, heads)
        prepare = partial(self._prepare_query, heads=heads)
        return self.plan_cache.prepared(plan, prepare)  # type: ignore[no-any-return]

    def _prepare_query(self, plan: Any, heads: frozenset[str] | None = None) -> PreparedQuery:
        from hasivu_compute.plan.binder import output_schema
        from hasivu_compute.runtime.buffered import head_scans
        from hasivu_compute.runtime.fragments import encode_fragment, pruning_lines

        source = self.source()
        plans = self.prepare(plan, source)
        tasks = tuple(
            (int(shard), fragment, encode_fragment(fragment))
            for shard, fragments in sorted(
                assign_fragments(plans.physical.fragments, self.ring).items()
            )
            for fragment in fragments
        )
        found = head_scans(plans.physical.fragments, source)
        return PreparedQuery(
            plans, tasks, pruning_lines(plans.optimized), output_schema(plans.bound), found
        )

    # --- running -----------------------------------------------------------------

    def execute(self, plan: Any) -> pa.Table:
        """Run ``plan``; its rows."""
        return self.run(plan).table

    def run(self, plan: Any, heads: frozenset[str] | None = None) -> QueryResult:
        """Run ``plan``; rows and statistics (``heads``: see :meth:`prepare_query`)."""
        for _ in range(STALE_ATTEMPTS):
            try:
                return self._run(plan, heads)
            except _StaleBuffer:
                if heads is not None:
                    raise  # a broadcast side: the query it serves plans again
        raise QueryFailedError(
            f"the tables' buffered writes kept moving past the query's versions "
            f"({STALE_ATTEMPTS} attempts); run it again"
        )

    def _run(self, plan: Any, heads: frozenset[str] | None) -> QueryResult:
        from hasivu_compute.runtime.fragments import merge_partials

        started = time.perf_counter()
        prepared, tasks, buffered = self._prepare_run(plan, heads)
        planned = time.perf_counter()
        built, stats, retries = self._broadcasts(plan, prepared, heads)
        partials, more, retried = self._scatter_gather(tasks, built)
        stats, retries = stats + more, retries + retried
        gathered = time.perf_counter()
        table = merge_partials(prepared.plans, partials, prepared.schema)
        done = time.perf_counter()
        pruning = prepared.pruning
        if buffered.pieces:
            pruning = (*pruning, f"buffered: {buffered.rows:,} rows in {buffered.pieces} pieces")
        return QueryResult(
            table,
            QueryStats(
                fragments=tuple(stats),
                pruning=pruning,
                plan_s=planned - started,
                scatter_s=gathered - planned,
                merge_s=done - gathered,
                retries=retries,
            ),
        )

    def _prepare_run(
        self, plan: Any, heads: frozenset[str] | None = None
    ) -> tuple[PreparedQuery, list[_Work], Any]:
        """The prepared query, what each shard is sent (with the buffered small writes of
        head scans), and those buffered rows; re-prepared when the buffer has moved past
        the pinned versions (a broadcast side, whose versions its query pinned, raises
        :class:`_StaleBuffer` instead, so the query plans again)."""
        from hasivu_compute.runtime.buffered import NOTHING, blocks_for, buffered_rows
        from hasivu_compute.runtime.fragments import encode_fragment

        for _ in range(STALE_ATTEMPTS):
            prepared = self.prepare_query(plan, heads)
            buffered: Any = NOTHING
            if self._views is not None and prepared.heads:
                fragments = prepared.plans.physical.fragments
                buffered = buffered_rows(prepared.heads, fragments, self._views)
                if buffered is None and heads is not None:
                    raise _StaleBuffer
                if buffered is None:
                    continue  # pinned before a flush that dropped its rows: plan again
            if not buffered.extra:
                return prepared, [(s, f, p, {}) for s, f, p in prepared.tasks], buffered
            groups = assign_fragments(prepared.plans.physical.fragments, self.ring, buffered.extra)
            work = [
                (int(shard), f, encode_fragment(f), blocks_for(f, buffered.blocks))
                for shard, fragments in sorted(groups.items())
                for f in fragments
            ]
            return prepared, work, buffered
        raise _StaleBuffer

    def _broadcasts(
        self, plan: Any, prepared: PreparedQuery, heads: frozenset[str] | None
    ) -> tuple[dict[int, Any], list[FragmentStats], int]:
        """Answer each broadcast join's right side (a query of its own, through this same
        path, reading the buffered small writes of the tables its query reads them of)
        and put it in the object store once; the fragments that join with it get the
        reference, so every shard on a node reads one shared copy."""
        built: dict[int, Any] = {}
        stats: list[FragmentStats] = []
        retries = 0
        sides = prepared.plans.physical.broadcasts
        if not sides:
            return built, stats, retries
        if heads is None:
            from hasivu_compute.plan.nodes import scans

            heads = frozenset(s.table.casefold() for s in scans(plan) if s.version is None)
        for side in sides:
            result = self.run(side.plan, heads)
            built[side.broadcast_id] = ray.put(result.table)
            stats.extend(result.stats.fragments)
            retries += result.stats.retries
        return built, stats, retries

    def _scatter_gather(
        self, prepared: Sequence[_Work], built: dict[int, Any] | None = None
    ) -> tuple[list[pa.Table], list[FragmentStats], int]:
        """Send one fragment per (shard, exchange); wait for every one of them.

        Exchanges whose files were all pruned send nothing: the merge step sees
        no partials for them and produces the empty (or one-row global) answer.
        ``built``: the broadcast sides' object references, by broadcast id.
        """
        built = built or {}
        tasks = []
        for shard, fragment, payload, blocks in prepared:
            sides = {i: built[i] for i in fragment.broadcasts}
            ref = self._send(payload, shard, blocks, sides)
            tasks.append(_Task(fragment, payload, shard, ref, 1, blocks, sides))
        partials: list[pa.Table] = []
        stats: list[FragmentStats] = []
        retries = 0
        for task in tasks:
            table, fstats, extra = self._wait(task)
            retries += extra
            partials.append(table)
            stats.append(fstats)
        return partials, stats, retries

    def _send(
        self,
        payload: bytes,
        shard: int,
        blocks: dict[Any, Any] | None = None,
        broadcasts: dict[int, Any] | None = None,
    ) -> Any:
        if broadcasts:
            return self._shards[shard].call.remote("run_encoded", payload, blocks, broadcasts)
        if blocks:
            return self._shards[shard].call.remote("run_encoded", payload, blocks)
        return self._shards[shard].call.remote("run_encoded", payload)

    def _wait(self, task: _Task) -> tuple[pa.Table, FragmentStats, int]:
        retries = 0
        while True:
            try:
                table, fstats = waits.get(task.ref, timeout_s=self._timeout, alive=self._alive)
                return table, fstats, retries
            except RayTaskError as exc:
                raise unwrap_task_error(exc) from None
            except ACTOR_FAILURES as exc:
                if task.attempts >= self._max_attempts:
                    raise QueryFailedError(
                        f"fragment {task.fragment.fragment_id} of {task.fragment.table!r} failed "
                        f"on {task.attempts} shards (last: shard {task.shard}): {exc}; "
                        "no partial answer was returned"
                    ) from exc
                time.sleep(RETRY_BACKOFF_S * task.attempts)  # let Ray restart the actor
                task.attempts += 1
                task.shard = (task.shard + 1) % len(self._shards)
                task.ref = self._send(task.payload, task.shard, task.blocks, task.broadcasts)
                retries += 1
            except GetTimeoutError as exc:
                raise QueryFailedError(
                    f"fragment {task.fragment.fragment_id} took more than {self._timeout}s "
                    f"on shard {task.shard}"
                ) from exc

    # --- explain -----------------------------------------------------------------

    def explain(self, plan: Any, analyze: bool = False, stage: str | None = None) -> str:
        """The plan as text; ``analyze`` runs it and adds per-shard statistics."""
        from hasivu_compute.runtime.fragments import explain_text

        if not analyze:
            return explain_text(self, plan, stage)
        text = explain_text(self, plan, stage)
        result = self.run(plan)
        return text + "\n" + format_analyze(result)


def format_analyze(result: QueryResult) -> str:
    """The ``explain(analyze=True)`` section: timings, per-shard rows/bytes, pruning."""
    s = result.stats
    lines = [
        "Analyze:",
        f"  rows out: {result.table.num_rows:,}",
        f"  planning {s.plan_s * 1e3:.1f} ms, shards {s.scatter_s * 1e3:.1f} ms, "
        f"merge {s.merge_s * 1e3:.1f} ms, retries {s.retries}",
        f"  pruning: {s.pruning_text}",
        "  shard  files  rows scanned  bytes scanned  from storage  cache hit/miss  rows out    time",
    ]
    for f in sorted(s.fragments, key=lambda f: f.shard):
        lines.append(
            f"  {f.shard:>5}  {f.files:>5}  {f.rows_scanned:>12,}  {f.bytes_scanned:>13,}  "
            f"{f.bytes_from_storage:>12,}  {f.cache_hits:>7}/{f.cache_misses:<6}  "
            f"{f.rows_out:>8,}  {f.seconds * 1e3:>6.1f} ms"
        )
    if not s.fragments:
        lines.append("  (no shard ran: every file was pruned)")
    return "\n".join(lines)
