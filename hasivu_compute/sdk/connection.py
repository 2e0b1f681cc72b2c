"""``hc.connect()``: the entry point of the Python SDK.

A :class:`Connection` is a context manager over a
:class:`~hasivu_compute.runtime.session.Runtime`: tables, ingest, SQL and lazy
DataFrames.  Everything here is thin: plans are built by the plan package,
executed by the runtime.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

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
                (``("school_id", "bucket[16]")``, ``("meal_date", "month")``).
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
