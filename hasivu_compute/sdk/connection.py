"""``hc.connect()``: the entry point of the Python SDK.

A :class:`Connection` is a context manager over a
:class:`~hasivu_compute.runtime.session.Runtime`: tables, ingest, SQL and lazy
DataFrames.  Everything here is thin: plans are built by the plan package,
executed by the runtime.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from hasivu_compute._core.errors import ConfigError
from hasivu_compute.plan.nodes import PlanNode
from hasivu_compute.runtime.session import Runtime
from hasivu_compute.runtime.values import IngestResult
from hasivu_compute.sdk.dataframe import DataFrame


class Connection:
    """A session with a hasivu_compute warehouse (embedded or on a cluster).

    Use as a context manager, or call :meth:`close`; closing stops only what
    :func:`connect` started (its actors, and the local Ray instance if it
    started one).
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    # --- lifecycle ---------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        """The Ray side of this connection (actors, pids) for operations and tests."""
        return self._runtime

    @property
    def data_dir(self) -> str:
        """Where the tables live (local folder or URI)."""
        return self._runtime.data_uri

    def close(self) -> None:
        """Stop what :func:`connect` started; idempotent."""
        self._runtime.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Connection(data_dir={self.data_dir!r}, mode={self._runtime.mode!r})"

    # --- tables ------------------------------------------------------------------

    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        partition_by: Sequence[str | tuple[str, str]] | None = None,
        if_not_exists: bool = False,
    ) -> DataFrame:
        """Create a table and return a DataFrame over it.

        Args:
            name: table name.
            schema: Arrow schema of the rows.
            partition_by: columns (``"school_id"``) or ``(column, transform)`` pairs
                (``("school_id", "bucket[16]")``, ``("meal_date", "month")``). A bare
                name lets the engine choose: a key like ``school_id`` is hashed into
                ``HASIVU_DEFAULT_BUCKETS`` (16) clusters, each sorted by the key, so a
                one-school query reads one cluster's range of that school; a date is
                one partition per day; ``("school_id", "identity")`` forces one
                partition (and so one file per flush) per value.
            if_not_exists: do nothing if the table exists (else TableExistsError).
        """
        self._runtime.create_table(name, schema, partition_by, if_not_exists)
        return self.table(name)

    def tables(self) -> list[str]:
        """Names of all tables."""
        return self._runtime.tables()

    def drop_table(self, name: str) -> None:
        """Drop table ``name`` (TableNotFoundError if absent)."""
        self._runtime.drop_table(name)

    def table(self, name: str, version: int | None = None) -> DataFrame:
        """A lazy DataFrame over table ``name`` (``version`` = time travel)."""
        from hasivu_compute.plan.builder import scan

        return DataFrame(self, scan(name, version))

    # --- writes ------------------------------------------------------------------

    def ingest(
        self,
        name: str,
        data: object,
        producer_id: str | None = None,
        *,
        sequence: int | None = None,
        batch_rows: int | None = None,
        progress: bool | None = None,
        total_rows: int | None = None,
    ) -> IngestResult:
        """Append ``data`` as one call: all of it is committed, or none of it.

        A producer that may retry names each call with an ingest key: its
        ``producer_id`` and a ``sequence`` it numbers its calls with (0, 1, 2...;
        gaps and out-of-order calls are fine). A retry of a committed call (the
        same rows, however batched) writes nothing and returns ``duplicate=True``;
        different rows under a used key raise :class:`IngestKeyConflictError`.
        ``producer_id`` without ``sequence`` is call 0 of that producer: right for
        a one-off load, refused for a second, different call.

        Args:
            name: table name.
            data: a pyarrow Table or RecordBatch, a pandas DataFrame, or an
                iterable of those (streamed with bounded memory).
            producer_id: who sends the call (a POS feed, a job); None: an
                anonymous call that is never deduplicated.
            sequence: the producer's number for this call (>= 0).
            batch_rows: rows per batch when one big table is split.
            progress: show a progress bar (default: only for long inputs).
            total_rows: expected rows of an iterable input (for the progress bar).

        Raises:
            SchemaMismatchError / InvalidDataError: a batch does not fit the schema
                (the message names batch, column and row); nothing was committed.
            IngestKeyConflictError: the key holds other rows; nothing was written.
        """
        kwargs: dict[str, Any] = {"progress": progress, "total_rows": total_rows}
        if batch_rows is not None:
            kwargs["batch_rows"] = batch_rows
        return self._runtime.ingest(name, data, producer_id, sequence, **kwargs)

    def flush(self, name: str) -> int | None:
        """Write every acknowledged small call of ``name`` into segments now.

        Small calls (up to ``HASIVU_LOG_MAX_CALL_ROWS`` rows) are acknowledged once
        durable in the table's write-ahead log and are in every query's answer at
        once; the coordinator flushes them into segments by rows or age on its own.
        Returns the version that holds them all (None if nothing was waiting), for
        time travel or an export that must include them.
        """
        return self._runtime.flush(name)

    # --- table upkeep ------------------------------------------------------------

    def alter_table(
        self,
        name: str,
        *,
        add_columns: Mapping[str, pa.DataType | str] | None = None,
        rename_columns: Mapping[str, str] | None = None,
        drop_columns: Sequence[str] | None = None,
        widen_columns: Mapping[str, pa.DataType | str] | None = None,
    ) -> int:
        """Change a table's schema as one new version (all changes or none); returns it.

        Nothing is rewritten: columns are stored by id, so a rename is a name
        change, an added column reads as NULL in older rows, a widened one (int
        to a wider int, float32 to float64) is cast on read, and a dropped one
        stays readable by time travel. Changes apply in the order drop, rename,
        widen, add.

        Raises:
            SchemaMismatchError: an unknown or taken name, a partition column
                dropped, or a type change that is not a widening.
        """
        changes: list[tuple[object, ...]] = [("drop", c) for c in drop_columns or ()]
        changes += [("rename", old, new) for old, new in (rename_columns or {}).items()]
        changes += [("widen", c, t) for c, t in (widen_columns or {}).items()]
        changes += [("add", c, t) for c, t in (add_columns or {}).items()]
        return int(self._runtime.call_coordinator("alter_table", name, changes, retry=False))

    def history(self, name: str) -> pa.Table:
        """One row per version of ``name``: version, committed_at, operation, producer,
        sequence, added_rows, added_files, removed_files, expired."""
        return self._runtime.history(name)

    def compact(self, name: str, *, target_rows: int | None = None, mode: str = "full") -> Any:
        """Merge each partition's small files into files of up to ``target_rows`` rows.

        Readers are never blocked (they keep the version they read) and writers
        keep committing; a compaction that dies leaves the table as it was. The
        coordinator also compacts on its own (size-tiered, ``mode="tiered"``) once
        a table has ``HASIVU_COMPACT_MIN_FILES`` small files (0 switches that off).

        Returns:
            A CompactionResult: files before/after, rows rewritten, merges, version.
        """
        return self._runtime.compact(name, target_rows=target_rows, mode=mode)

    def expire_snapshots(
        self,
        name: str,
        *,
        keep_last: int = 1,
        older_than: dt.datetime | dt.timedelta | None = None,
    ) -> list[int]:
        """Expire old versions (time travel to them ends; ``vacuum`` then frees their
        files). Keeps the ``keep_last`` newest; with ``older_than``, only versions
        committed before that time (or that long ago) expire. Returns the versions."""
        cutoff = _cutoff_ms(older_than)
        return list(self._runtime.call_coordinator("expire_snapshots", name, keep_last, cutoff))

    def vacuum(self, name: str, *, grace_period_s: float = 3600.0) -> Any:
        """Delete files no retained version needs: those of expired versions at once,
        unreferenced ones (of crashed writers) once older than ``grace_period_s``."""
        return self._runtime.call_coordinator("vacuum", name, grace_period_s)

    def verify(self, name: str, *, deep: bool = True) -> Any:
        """Check every version, manifest and data file of ``name`` (``deep``: every byte);
        the report's ``ok`` and ``problems`` say what was found."""
        return self._runtime.verify(name, deep=deep)

    # --- queries -----------------------------------------------------------------

    def sql(self, text: str) -> pa.Table:
        """Run a SQL query (DuckDB/Postgres dialect subset) and return its rows."""
        return self.execute(self.sql_plan(text))

    def sql_df(self, text: str) -> DataFrame:
        """A lazy DataFrame over a SQL query (chain more steps, or explain it)."""
        return DataFrame(self, self.sql_plan(text))

    def sql_plan(self, text: str) -> PlanNode:
        """The logical plan of a SQL query (table schemas come from the catalog).

        Repeated text gives the same plan object while the tables' columns are
        unchanged, so the runtime also reuses its prepared (bound, optimized,
        pruned) form until a table changes.
        """
        return self._runtime.sql_plan(text)  # type: ignore[no-any-return]

    def execute(self, plan: PlanNode) -> pa.Table:
        """Run a logical plan on the shards and return its rows."""
        return self._runtime.query_runner().execute(plan)

    def explain(self, plan: PlanNode, analyze: bool = False, stage: str | None = None) -> str:
        """The plan as text (with pruning); ``analyze`` runs it and adds per-shard stats."""
        return self._runtime.query_runner().explain(plan, analyze=analyze, stage=stage)

    def output_schema(self, plan: PlanNode) -> pa.Schema:
        """The Arrow schema ``plan`` produces."""
        return self._runtime.query_runner().output_schema(plan)


def _cutoff_ms(older_than: dt.datetime | dt.timedelta | None) -> int | None:
    if older_than is None:
        return None
    if isinstance(older_than, dt.timedelta):
        older_than = dt.datetime.now(dt.UTC) - older_than
    if not isinstance(older_than, dt.datetime):
        raise ConfigError(f"older_than must be a datetime or timedelta, got {older_than!r}")
    if older_than.tzinfo is None:
        older_than = older_than.replace(tzinfo=dt.UTC)
    return int(older_than.timestamp() * 1000)


def connect(
    address: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    num_shards: int | None = None,
    num_ingest_actors: int | None = None,
    shard_cache_bytes: int | None = None,
    storage_options: dict[str, Any] | None = None,
    num_cpus: int | None = None,
) -> Connection:
    """Connect to a warehouse.

    With no arguments this is the embedded default: a local Ray instance is
    started (or the one this process already runs is joined) and tables live in
    ``HASIVU_DATA_DIR`` (default ``~/.local/share/hasivu``).

    Args:
        address: an existing Ray cluster: ``"auto"`` or ``"ray://host:10001"``.
        data_dir: a local folder or ``"s3://bucket/prefix"``.
        num_shards: shard actors (default one per cluster CPU).
        num_ingest_actors: ingest actors (default one per CPU, at most 4).
        shard_cache_bytes: hot column budget per shard.
        storage_options: extra storage options (e.g. S3 ``endpoint_override``).
        num_cpus: CPUs of a locally started Ray instance.

    Example:
        >>> import hasivu_compute as hc  # doctest: +SKIP
        >>> with hc.connect() as c:  # doctest: +SKIP
        ...     c.tables()
    """
    runtime = Runtime(
        address,
        data_dir,
        num_shards=num_shards,
        num_ingest_actors=num_ingest_actors,
        shard_cache_bytes=shard_cache_bytes,
        storage_options=storage_options,
        num_cpus=num_cpus,
    )
    return Connection(runtime)
