"""A connection's runtime: the Ray handle, the actors it uses, and the calls the SDK makes.

``Runtime`` is what ``hc.connect()`` builds.  It starts or joins Ray, finds or
creates the coordinator (one per data location, named, restartable), creates its
shard actors (eagerly, so the first query is warm) and ingest actors (on first
ingest), and on ``close`` stops exactly what it started.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import ray
import xxhash
from ray.exceptions import ActorDiedError, RayTaskError

from hasivu_compute._core.config import Settings, load_settings
from hasivu_compute._core.errors import ClusterError, ConnectionClosedError, InvalidDataError
from hasivu_compute.runtime import waits
from hasivu_compute.runtime.actors import CoordinatorActor, IngestActor, ShardActor
from hasivu_compute.runtime.cluster import (
    NAMESPACE,
    RayHandle,
    cluster_cpus,
    leave,
    ray_env_vars,
    start_or_join,
)
from hasivu_compute.runtime.coordinator import Coordinator, open_catalog, write_options
from hasivu_compute.runtime.ingest import (
    DEFAULT_BATCH_ROWS,
    IngestWorker,
    is_single_batch,
    iter_user_batches,
    split_rows,
    to_arrow_table,
)
from hasivu_compute.runtime.ingest_pipeline import CallSpec, IngestPipeline, Slice
from hasivu_compute.runtime.plans import PlanCache
from hasivu_compute.runtime.shard import ShardWorker
from hasivu_compute.runtime.values import IngestResult
from hasivu_compute.runtime.writers import ACTOR_FAILURES, ActorBatchWriter, unwrap_task_error
from hasivu_compute.table.current import CurrentSnapshots
from hasivu_compute.table.table import check_call_key
from hasivu_compute.table.validate import validate_batch

COORDINATOR_WAIT_S = 120.0
COORDINATOR_THREADS = 32

# Connections of this process per data location: the coordinator of a location is shared by
# all of them and stopped (outside a cluster) when the last one closes, not when whichever
# connection created it closes. On a cluster it is detached: it outlives every driver.
_COORDINATOR_USERS: dict[str, int] = {}
_COORDINATOR_LOCK = threading.Lock()


def resolve_data_uri(data_dir: str | os.PathLike[str] | None, settings: Settings) -> str:
    """An absolute local path or a URI (``s3://``) every process can open."""
    raw = str(data_dir) if data_dir is not None else settings.data_dir
    if "://" in raw:
        return raw.rstrip("/")
    return os.path.abspath(os.path.expanduser(raw))


def coordinator_name(data_uri: str) -> str:
    """The coordinator's actor name: one per data location in the cluster."""
    return f"hasivu-coordinator-{xxhash.xxh64_hexdigest(data_uri.encode())[:12]}"


class Runtime:
    """The Ray side of a connection.

    Args:
        address: None for the embedded default, or a Ray address ("auto", "ray://...").
        data_dir: local folder or ``s3://bucket/prefix`` (default: settings).
        num_shards: shard actors (default: settings, else one per cluster CPU).
        num_ingest_actors: ingest actors (default: settings, else one per CPU, at most 4).
        shard_cache_bytes: per-shard hot column budget (default: settings).
        storage_options: extra FileIO options (S3 endpoint...).
        num_cpus: CPUs of a locally started Ray instance.
    """

    def __init__(
        self,
        address: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        num_shards: int | None = None,
        num_ingest_actors: int | None = None,
        shard_cache_bytes: int | None = None,
        storage_options: dict[str, Any] | None = None,
        num_cpus: int | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.data_uri = resolve_data_uri(data_dir, self.settings)
        self.storage_options = dict(storage_options or {})
        self._write_options = write_options(self.settings)
        self._catalog = open_catalog(self.data_uri, self.storage_options, self._write_options)
        self._view = CurrentSnapshots(self._catalog)
        self._plan_cache = PlanCache(self._view)
        self._runner: Any | None = None
        self._ray: RayHandle = start_or_join(address, self.settings, num_cpus)
        self._created: list[Any] = []
        self._closed = False
        with _COORDINATOR_LOCK:
            _COORDINATOR_USERS[self.data_uri] = _COORDINATOR_USERS.get(self.data_uri, 0) + 1
        self._lock = threading.Lock()
        self._batchers: dict[str, Any] = {}
        try:
            cpus = cluster_cpus()
            self._num_shards = num_shards or self.settings.num_shards or cpus
            self._num_ingest = num_ingest_actors or self.settings.num_ingest_actors or min(cpus, 4)
            self._cache_bytes = (
                self.settings.shard_cache_bytes if shard_cache_bytes is None else shard_cache_bytes
            )
            self._coordinator = self._find_or_create_coordinator()
            self.shards = self._create_shards()
            self._ingest: list[Any] | None = None
        except BaseException:
            self.close()
            raise

    # --- lifecycle ---------------------------------------------------------------

    @property
    def mode(self) -> str:
        """ "embedded", "joined" or "cluster"."""
        return self._ray.mode

    def _actor_options(self, **extra: Any) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "num_cpus": 0,
            "max_restarts": -1,
            "runtime_env": {"env_vars": ray_env_vars(self.settings)},
        }
        opts.update(extra)
        return opts

    def _find_or_create_coordinator(self) -> Any:
        name = coordinator_name(self.data_uri)
        try:
            return ray.get_actor(name, namespace=NAMESPACE)
        except ValueError:
            pass
        # Threaded: commits are optimistic and thread-safe, and a call that waits (for a
        # background compaction, a log flush) must not hold up every other table's commits.
        extra: dict[str, Any] = {"lifetime": "detached"} if self.mode == "cluster" else {}
        return CoordinatorActor.options(  # type: ignore[attr-defined]
            **self._actor_options(
                name=name,
                namespace=NAMESPACE,
                get_if_exists=True,
                max_concurrency=COORDINATOR_THREADS,
                **extra,
            )
        ).remote(Coordinator, self.data_uri, self.storage_options, self.settings)

    def _create_shards(self) -> list[Any]:
        shards = [
            ShardActor.options(  # type: ignore[attr-defined]
                # No retries inside Ray: a fragment of a dead shard is sent to the next
                # shard on the ring at once (see runtime/query.py), which reads the same
                # immutable files, instead of waiting ~2 s for the dead one to restart.
                **self._actor_options(
                    max_task_retries=0, scheduling_strategy=spread_strategy(index)
                )
            ).remote(ShardWorker, self.data_uri, self._cache_bytes, self.storage_options, index)
            for index in range(self._num_shards)
        ]
        self._created.extend(shards)
        return shards

    def ingest_actors(self) -> list[Any]:
        """The ingest actors (created on first use, once, whichever thread asks first)."""
        with self._lock:
            return self._ingest_actors()

    def _ingest_actors(self) -> list[Any]:
        if self._ingest is None:
            self._ingest = [
                IngestActor.options(  # type: ignore[attr-defined]
                    **self._actor_options(
                        max_task_retries=0, scheduling_strategy=spread_strategy(index)
                    )
                ).remote(IngestWorker, self.data_uri, self.storage_options, self._write_options)
                for index in range(self._num_ingest)
            ]
            self._created.extend(self._ingest)
        return self._ingest

    @property
    def coordinator(self) -> Any:
        """The coordinator actor handle."""
        return self._coordinator

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def check_open(self) -> None:
        """Raise :class:`ConnectionClosedError` at once if this connection cannot be used.

        A closed connection's actors are gone and a Ray shut down under it (by
        ``ray.shutdown()``) would be started again, empty, by the next call: both
        used to hang forever instead of failing.
        """
        if self._closed:
            raise ConnectionClosedError(
                f"this connection to {self.data_uri!r} was closed; open a new one with "
                "hc.connect(...)"
            )
        if not ray.is_initialized():
            raise ConnectionClosedError(
                f"Ray was shut down in this process under the connection to {self.data_uri!r} "
                "(ray.shutdown() was called); open a new one with hc.connect(...)"
            )

    def close(self) -> None:
        """Stop this connection's shard and ingest actors, the shared coordinator if this
        was the last connection of the process using it (outside a cluster), and Ray if
        a connection of this process started it and this was the last one; idempotent."""
        if self._closed:
            return
        self._closed = True
        with _COORDINATOR_LOCK:
            left = _COORDINATOR_USERS.get(self.data_uri, 1) - 1
            _COORDINATOR_USERS[self.data_uri] = max(0, left)
        if ray.is_initialized():
            doomed = list(self._created)
            if left <= 0 and self.mode != "cluster" and hasattr(self, "_coordinator"):
                doomed.append(self._coordinator)
            for handle in doomed:
                try:
                    ray.kill(handle, no_restart=True)
                except Exception:  # already gone: nothing to stop
                    continue
        self._created.clear()
        leave(self._ray)

    # --- coordinator calls -------------------------------------------------------

    def call_coordinator(self, method: str, *args: Any, retry: bool = True, **kwargs: Any) -> Any:
        """``Coordinator.method(...)`` on the actor; retried across a restart when ``retry``.

        Every coordinator method we retry is idempotent (reads, or commits keyed
        by producer and sequence), so a retry after a crash cannot apply twice.
        A restarting actor is waited for (with backoff, up to
        ``COORDINATOR_WAIT_S``); a dead one is found again or re-created.
        """
        self.check_open()
        deadline = time.monotonic() + COORDINATOR_WAIT_S
        delay = 0.1
        while True:
            try:
                ref = self._coordinator.call.remote(method, *args, **kwargs)
                return waits.get(ref, alive=self.check_open)
            except RayTaskError as exc:
                raise unwrap_task_error(exc) from None
            except ACTOR_FAILURES as exc:
                if not retry or time.monotonic() > deadline:
                    raise ClusterError(
                        f"the coordinator failed running {method!r}: {exc}; "
                        "committed data is safe in storage, retry the call"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                if isinstance(exc, ActorDiedError):
                    self._coordinator = self._find_or_create_coordinator()

    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        partition_by: Sequence[Any] | None = None,
        if_not_exists: bool = False,
    ) -> None:
        """Create a table through the coordinator (arguments checked here first)."""
        from hasivu_compute.table.catalog import check_create_args

        check_create_args(name, schema, partition_by)
        self.call_coordinator(
            "create_table", name, schema, partition_by, if_not_exists, retry=if_not_exists
        )

    def drop_table(self, name: str) -> None:
        """Drop a table through the coordinator, and make the shards forget it.

        Shards cache snapshots by (table, version); a table re-created under
        the same name starts again at version 1, so the old entries must go.
        """
        self.call_coordinator("drop_table", name, retry=False)
        self._view.forget(name)
        refs = [shard.call.remote("forget_table", name) for shard in self.shards]
        for ref in refs:
            try:
                ray.get(ref)
            except ACTOR_FAILURES:
                continue  # a restarted shard has an empty cache anyway

    def table_schema(self, name: str) -> pa.Schema | None:
        """The current Arrow schema of table ``name`` (None if there is no such table)."""
        return self._view.arrow_schema(name)

    def tables(self) -> list[str]:
        """Names of all tables."""
        return list(self.call_coordinator("list_tables"))

    # --- ingest ------------------------------------------------------------------

    def ingest(
        self,
        name: str,
        data: object,
        producer_id: str | None = None,
        sequence: int | None = None,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        max_inflight: int | None = None,
        progress: bool | None = None,
        total_rows: int | None = None,
    ) -> IngestResult:
        """Write ``data`` into table ``name`` as one call (see :class:`IngestPipeline`).

        ``producer_id`` without ``sequence`` names the producer's call 0: right for
        a one-off load, and a second, different call under it is refused.
        """
        self.check_open()
        name = self._catalog.stored_name(name)  # names match ignoring case, as in DuckDB
        if producer_id is not None and sequence is None:
            sequence = 0
        check_call_key(producer_id, sequence)
        if batch_rows < 1:
            raise InvalidDataError(f"batch_rows must be >= 1, got {batch_rows}")
        small = self._small_call(data)
        if small is not None:
            from hasivu_compute.runtime.small_writes import ingest_small

            return ingest_small(self, name, small, producer_id, sequence)
        table = self._catalog.load_table(name)
        schema = table.snapshot().schema
        committed = None
        if producer_id is not None:
            committed = self.call_coordinator("committed_call", name, producer_id, sequence)
        batches, total = self._plan_batches(data, batch_rows)
        actors = self.ingest_actors()
        writer = ActorBatchWriter(actors, name, table.discard_files)
        bar = _progress_bar(name, total if total is not None else total_rows, progress)
        try:
            pipeline = IngestPipeline(
                CallSpec(name, producer_id, sequence, committed),
                writer,
                lambda files, key: self.call_coordinator("commit", name, files, key),
                lambda batch, offset: validate_batch(schema, batch, offset),
                max_inflight=max_inflight or 2 * len(actors),
                on_rows=bar.update,
            )
            return pipeline.run(batches)
        finally:
            bar.close()

    def _small_call(self, data: object) -> pa.Table | None:
        """``data`` as one table when it is a small call (acknowledged from the log)."""
        limit = self.settings.log_max_call_rows
        if limit <= 0 or not is_single_batch(data):
            return None
        whole = to_arrow_table(data)
        return whole if 0 < whole.num_rows <= limit else None

    def small_batcher(self, name: str) -> Any:
        """The batcher of this process's small calls into ``name`` (one per table)."""
        from hasivu_compute.runtime.small_writes import SmallCallBatcher

        with self._lock:
            batcher = self._batchers.get(name)
            if batcher is None:

                def call(items: list[Any], retry: bool) -> list[Any]:
                    return self.call_coordinator(  # type: ignore[no-any-return]
                        "append_many", name, items, retry=retry
                    )

                batcher = self._batchers[name] = SmallCallBatcher(call)
            return batcher

    def current_snapshot(self, name: str) -> Any:
        """The current snapshot of ``name`` (two tiny reads while it is unchanged)."""
        return self._view.snapshot(name)

    def flush(self, name: str) -> int | None:
        """Write the acknowledged small calls of ``name`` as segments; their version."""
        return self.call_coordinator("flush", self._catalog.stored_name(name))  # type: ignore[no-any-return]

    def _plan_batches(self, data: object, batch_rows: int) -> tuple[Any, int | None]:
        """Batches to send, and the total row count when known."""
        if is_single_batch(data):
            whole = to_arrow_table(data)
            return _sliced([whole], batch_rows, labelled=False), whole.num_rows
        return _sliced(iter_user_batches(data), batch_rows, labelled=True), None

    # --- upkeep ------------------------------------------------------------------

    def compact(self, name: str, *, target_rows: int | None = None, mode: str = "full") -> Any:
        """Merge small files of ``name`` on the ingest actors (see ``runtime.upkeep``)."""
        from hasivu_compute.runtime.upkeep import actor_rewriter, policy_for
        from hasivu_compute.table.compaction import compact_table

        name = self._catalog.stored_name(name)
        table = self._catalog.load_table(name)
        policy = policy_for(self.settings, target_rows)
        rewriter = actor_rewriter(
            self.ingest_actors(), name, policy.target_rows, discard=table.discard_files
        )

        def commit_one(task: Any, added: list[Any]) -> int:
            return int(self.call_coordinator("commit_rewrite", name, task.files, added, "compact"))

        return compact_table(table, policy, mode, rewriter=rewriter, committer=commit_one)

    def history(self, name: str) -> pa.Table:
        """Every version of ``name``: when, operation, producer, rows, files."""
        from hasivu_compute.runtime.upkeep import history_table

        return history_table(self._catalog.load_table(name))

    def verify(self, name: str, deep: bool = True) -> Any:
        """Check every manifest and data file of ``name`` (read-only)."""
        return self._catalog.load_table(name).verify(deep=deep)

    # --- queries -----------------------------------------------------------------

    def query_runner(self) -> Any:
        """The scatter/gather executor over this runtime's shards (one per runtime: it
        holds the plan cache)."""
        self.check_open()
        if self._runner is None:
            from hasivu_compute.runtime.query import QueryRunner

            self._runner = QueryRunner(
                self._catalog,
                self.shards,
                plan_cache=self._plan_cache,
                views=lambda requests: self.call_coordinator("log_views", requests),
                alive=self.check_open,
                buffered=self._buffered_rows,
            )
        return self._runner

    def _buffered_rows(self, name: str) -> int:
        """Rows of table ``name`` acknowledged but not yet flushed (asked of the coordinator
        only while planning a join, for its size estimates)."""
        return int(self.call_coordinator("log_stats", name).get("buffered_rows") or 0)

    def sql_plan(self, text: str) -> Any:
        """The logical plan of SQL ``text``; the same plan object while the tables'
        column names are unchanged (so its prepared form is reused too)."""
        from hasivu_compute.sql import to_plan

        return self._plan_cache.lowered(
            text, lambda sql, schema, today: to_plan(sql, schema=schema, today=today)
        )

    def shard_pids(self) -> list[int]:
        """OS process ids of the shard actors (fault-injection tests kill them)."""
        return _pids(self.shards)

    def ingest_pids(self) -> list[int]:
        """OS process ids of the ingest actors."""
        return _pids(self.ingest_actors())

    def coordinator_pid(self) -> int:
        """OS process id of the coordinator actor."""
        return int(self.call_coordinator("pid"))


def _pids(actors: list[Any], wait_s: float = 60.0) -> list[int]:
    """Process ids of ``actors``, waiting for any that is restarting after a crash."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return [int(p) for p in ray.get([a.pid.remote() for a in actors])]
        except ACTOR_FAILURES:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _sliced(batches: Any, batch_rows: int, labelled: bool) -> Any:
    """Each user batch cut into slices of ``batch_rows``, as :class:`Slice` values
    (labelled with the user batch index only when the caller gave several)."""
    for index, batch in enumerate(batches):
        offset = 0
        for part in split_rows(batch, batch_rows):
            yield Slice(part, index if labelled else None, offset)
            offset += part.num_rows


def spread_strategy(index: int) -> Any:
    """Place the ``index``-th actor of a kind on the ``index``-th alive node.

    Ray's "SPREAD" is best effort and packs zero-CPU actors onto one node, and a
    *soft* affinity silently falls back to the driver's node whenever the target
    raylet is slow to report resources (seen on a loaded 2-core box), so the
    affinity is hard. The price: an actor whose node is removed cannot restart
    elsewhere; the query runner then routes its fragments to the next shard on
    the ring (see ``runtime/query.py``), so answers stay exact.
    """
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))
    if len(nodes) < 2:
        return "DEFAULT"
    return NodeAffinitySchedulingStrategy(node_id=nodes[index % len(nodes)], soft=False)


class _NoBar:
    def update(self, _n: int) -> None:
        return None

    def close(self) -> None:
        return None


PROGRESS_MIN_ROWS = 1_000_000
PROGRESS_DELAY_S = 2.0


def _progress_bar(name: str, total: int | None, progress: bool | None) -> Any:
    """A tqdm bar for long work only: by default, a call of a known size below
    ``PROGRESS_MIN_ROWS`` gets none, and any other shows one only once it has run
    ``PROGRESS_DELAY_S`` (a 300-row call used to print one when actors were starting);
    ``progress=True`` shows it at once, ``False`` never."""
    if progress is False or (progress is None and total is not None and total < PROGRESS_MIN_ROWS):
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"ingest {name}",
        unit="rows",
        unit_scale=True,
        delay=0.0 if progress else PROGRESS_DELAY_S,
        leave=False,
    )


__all__ = ["Runtime", "coordinator_name", "resolve_data_uri"]
