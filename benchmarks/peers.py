"""Peer implementations of the query suite, and the command that runs and compares them.

``PEERS`` maps a peer name to ``fn(spec, data) -> pa.Table``; ``PEER_SETUP`` optionally maps it
to a start-up hook (start Ray, load tables) that is timed apart from the queries. Adding our
engine is one function::

    def _teardown_hasivu() -> dict[str, object]:
    conn = _HASIVU.pop("conn", None)
    if conn is not None:
        conn.close()  # type: ignore[attr-defined]
    return {"ingest_s": _HASIVU.get("ingest_s")}


def hasivu(spec: QuerySpec, data: DataPaths) -> pa.Table: ...
    PEERS["hasivu"] = hasivu

Run ``python -m benchmarks.peers --sf 1 --orders 10000000`` (or ``--quick``: SF 0.1, 1M orders).
Each peer runs in its own process (Daft allows one runner per process, Ray and Dask keep state,
and the memory figure is then that peer's alone); answers come back as Arrow IPC files and are
cross-checked against the reference peer before the tables are printed and saved.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import pyarrow as pa

from benchmarks.queries import (
    QUERIES,
    SCHOOL_MONTH,
    SCHOOL_ONE_MONTH,
    TOP_STUDENTS,
    TPCH_Q1,
    TPCH_Q6,
    DataPaths,
    QuerySpec,
    month_key,
    table_sql,
)

PeerFn = Callable[[QuerySpec, DataPaths], pa.Table]
SetupFn = Callable[[DataPaths], None]

Q1_SUMS = (
    ("sum_qty", "l_quantity"),
    ("sum_base_price", "l_extendedprice"),
    ("sum_disc_price", "disc_price"),
    ("sum_charge", "charge"),
)
Q1_MEANS = (("avg_qty", "l_quantity"), ("avg_price", "l_extendedprice"), ("avg_disc", "l_discount"))
Q1_COLUMNS = [
    "l_returnflag",
    "l_linestatus",
    "l_quantity",
    "l_extendedprice",
    "l_discount",
    "l_tax",
    "l_shipdate",
]
Q6_COLUMNS = ["l_extendedprice", "l_discount", "l_quantity", "l_shipdate"]
SCHOOL_COLUMNS = ["school_id", "student_id", "meal_date", "amount", "status"]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- DuckDB -------------------------------------------------------------------------------


@functools.cache
def _duckdb_parquet_con():  # type: ignore[no-untyped-def]
    import duckdb

    return duckdb.connect()


def duckdb_parquet(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """DuckDB reading the Parquet file on every query."""
    source = f"read_parquet('{data.for_dataset(spec.dataset)}')"
    return _duckdb_parquet_con().sql(table_sql(spec, source)).to_arrow_table()


@functools.cache
def _duckdb_native_con(data: DataPaths):  # type: ignore[no-untyped-def]
    import duckdb

    con = duckdb.connect()
    con.sql(f"CREATE TABLE lineitem AS SELECT * FROM read_parquet('{data.lineitem}')")
    con.sql(f"CREATE TABLE orders AS SELECT * FROM read_parquet('{data.orders}')")
    return con


def _setup_duckdb_native(data: DataPaths) -> None:
    _duckdb_native_con(data)


def duckdb_native(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """DuckDB on tables loaded into its own in-memory storage (load time is set-up)."""
    return _duckdb_native_con(data).sql(spec.sql).to_arrow_table()


# --- Polars -------------------------------------------------------------------------------


def _pl_q1(lf, p):  # type: ignore[no-untyped-def]
    import polars as pl

    c = pl.col
    price, disc = c("l_extendedprice"), c("l_discount")
    return (
        lf.filter(c("l_shipdate") <= p["cutoff"])
        .with_columns(disc_price=price * (1 - disc), charge=price * (1 - disc) * (1 + c("l_tax")))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            *(c(src).sum().alias(name) for name, src in Q1_SUMS),
            *(c(src).mean().alias(name) for name, src in Q1_MEANS),
            pl.len().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def _pl_q6(lf, p):  # type: ignore[no-untyped-def]
    import polars as pl

    c = pl.col
    return lf.filter(
        (c("l_shipdate") >= p["lo"])
        & (c("l_shipdate") < p["hi"])
        & c("l_discount").is_between(p["disc_lo"], p["disc_hi"])
        & (c("l_quantity") < p["qty"])
    ).select(revenue=(c("l_extendedprice") * c("l_discount")).sum())


def _pl_one_month(lf, p):  # type: ignore[no-untyped-def]
    import polars as pl

    c = pl.col
    return lf.filter(
        (c("school_id") == p["school_id"])
        & (c("meal_date") >= p["lo"])
        & (c("meal_date") < p["hi"])
        & (c("status") == "paid")
    ).select(orders=pl.len(), revenue=c("amount").sum(), students=c("student_id").n_unique())


def _pl_school_month(lf, p):  # type: ignore[no-untyped-def]
    import polars as pl

    c = pl.col
    month = (c("meal_date").dt.year() * 100 + c("meal_date").dt.month()).cast(pl.Int32)
    return (
        lf.filter(c("status") == "paid")
        .with_columns(month=month)
        .group_by("school_id", "month")
        .agg(orders=pl.len(), revenue=c("amount").sum(), students=c("student_id").n_unique())
        .sort("school_id", "month")
    )


def _pl_top_students(lf, p):  # type: ignore[no-untyped-def]
    import polars as pl

    c = pl.col
    return (
        lf.filter(c("status") == "paid")
        .group_by("student_id")
        .agg(spend=c("amount").sum().round(2), orders=pl.len())
        .sort(["spend", "student_id"], descending=[True, False])
        .head(p["n"])
    )


_POLARS = {
    TPCH_Q1.name: _pl_q1,
    TPCH_Q6.name: _pl_q6,
    SCHOOL_ONE_MONTH.name: _pl_one_month,
    SCHOOL_MONTH.name: _pl_school_month,
    TOP_STUDENTS.name: _pl_top_students,
}


def polars_lazy(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """Polars lazy ``scan_parquet`` + ``collect`` (all cores)."""
    import polars as pl

    lf = pl.scan_parquet(data.for_dataset(spec.dataset))
    return _POLARS[spec.name](lf, spec.params).collect().to_arrow()


# --- Dask ---------------------------------------------------------------------------------


def _pandas_to_arrow(df) -> pa.Table:  # type: ignore[no-untyped-def]
    return pa.Table.from_pandas(df.reset_index(), preserve_index=False)


def _dask_tpch(spec: QuerySpec, path: str) -> pa.Table:
    import dask.dataframe as dd

    p = spec.params
    if spec is TPCH_Q1:
        df = dd.read_parquet(path, columns=Q1_COLUMNS)
        df = df[df.l_shipdate <= p["cutoff"]]
        price, disc = df.l_extendedprice, df.l_discount
        df = df.assign(disc_price=price * (1 - disc), charge=price * (1 - disc) * (1 + df.l_tax))
        aggs = {name: (src, "sum") for name, src in Q1_SUMS}
        aggs |= {name: (src, "mean") for name, src in Q1_MEANS}
        aggs["count_order"] = ("l_quantity", "count")
        g = df.groupby(["l_returnflag", "l_linestatus"]).agg(**aggs).compute()
        return _pandas_to_arrow(g.sort_index())
    df = dd.read_parquet(path, columns=Q6_COLUMNS)
    m = (
        (df.l_shipdate >= p["lo"])
        & (df.l_shipdate < p["hi"])
        & df.l_discount.between(p["disc_lo"], p["disc_hi"])
        & (df.l_quantity < p["qty"])
    )
    f = df[m]
    return pa.table({"revenue": [float((f.l_extendedprice * f.l_discount).sum().compute())]})


def _dask_school(spec: QuerySpec, path: str) -> pa.Table:
    import dask
    import dask.dataframe as dd
    import pandas as pd

    p = spec.params
    df = dd.read_parquet(path, columns=SCHOOL_COLUMNS)
    df = df[df.status == "paid"]
    if spec is SCHOOL_ONE_MONTH:
        f = df[
            (df.school_id == p["school_id"]) & (df.meal_date >= p["lo"]) & (df.meal_date < p["hi"])
        ]
        n, revenue, students = dask.compute(
            f.amount.count(), f.amount.sum(), f.student_id.nunique()
        )
        return pa.table(
            {"orders": [int(n)], "revenue": [float(revenue)], "students": [int(students)]}
        )
    if spec is SCHOOL_MONTH:
        df = df.assign(month=df.meal_date.dt.year * 100 + df.meal_date.dt.month)
        g = df.groupby(["school_id", "month"])
        sums, distinct = dask.compute(g.amount.agg(["count", "sum"]), g.student_id.nunique())
        out = sums.rename(columns={"count": "orders", "sum": "revenue"})
        return _pandas_to_arrow(out.join(distinct.rename("students")).sort_index())
    if spec is TOP_STUDENTS:
        g = df.groupby("student_id").amount.agg(["sum", "count"]).compute()
        g = pd.DataFrame({"spend": g["sum"].round(2), "orders": g["count"]})
        g = g.reset_index().sort_values(["spend", "student_id"], ascending=[False, True])
        return pa.Table.from_pandas(g.head(p["n"]), preserve_index=False)
    raise KeyError(f"dask: no implementation of {spec.name}")


def dask_dataframe(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """Dask DataFrame ``read_parquet`` on the local threaded scheduler."""
    import dask

    path = str(data.for_dataset(spec.dataset))
    with dask.config.set(scheduler="threads", num_workers=_cpus()):
        return _dask_tpch(spec, path) if spec.dataset == "tpch" else _dask_school(spec, path)


# --- Daft ---------------------------------------------------------------------------------


def _daft_tpch(df, spec: QuerySpec):  # type: ignore[no-untyped-def]
    from daft import col, lit

    p = spec.params
    if spec is TPCH_Q1:
        price, disc = col("l_extendedprice"), col("l_discount")
        derived = {
            "disc_price": price * (1 - disc),
            "charge": price * (1 - disc) * (1 + col("l_tax")),
        }
        return (
            df.where(col("l_shipdate") <= lit(p["cutoff"]))
            .with_columns(derived)
            .groupby("l_returnflag", "l_linestatus")
            .agg(
                *(col(src).sum().alias(name) for name, src in Q1_SUMS),
                *(col(src).mean().alias(name) for name, src in Q1_MEANS),
                col("l_quantity").count().alias("count_order"),
            )
            .sort(["l_returnflag", "l_linestatus"])
        )
    return df.where(
        (col("l_shipdate") >= lit(p["lo"]))
        & (col("l_shipdate") < lit(p["hi"]))
        & col("l_discount").between(p["disc_lo"], p["disc_hi"])
        & (col("l_quantity") < p["qty"])
    ).agg((col("l_extendedprice") * col("l_discount")).sum().alias("revenue"))


def _daft_school(df, spec: QuerySpec):  # type: ignore[no-untyped-def]
    from daft import col, lit

    p = spec.params
    paid = df.where(col("status") == "paid")
    aggs = (
        col("amount").count().alias("orders"),
        col("amount").sum().alias("revenue"),
        col("student_id").count_distinct().alias("students"),
    )
    if spec is SCHOOL_ONE_MONTH:
        return paid.where(
            (col("school_id") == p["school_id"])
            & (col("meal_date") >= lit(p["lo"]))
            & (col("meal_date") < lit(p["hi"]))
        ).agg(*aggs)
    if spec is SCHOOL_MONTH:
        month = col("meal_date").year() * 100 + col("meal_date").month()
        return (
            paid.with_column("month", month)
            .groupby("school_id", "month")
            .agg(*aggs)
            .sort(["school_id", "month"])
        )
    if spec is TOP_STUDENTS:
        return (
            paid.groupby("student_id")
            .agg(col("amount").sum().alias("spend"), col("amount").count().alias("orders"))
            .with_column("spend", col("spend").round(2))
            .sort(["spend", "student_id"], desc=[True, False])
            .limit(p["n"])
        )
    raise KeyError(f"daft: no implementation of {spec.name}")


def _daft_query(spec: QuerySpec, data: DataPaths) -> pa.Table:
    import daft

    df = daft.read_parquet(str(data.for_dataset(spec.dataset)))
    out = _daft_tpch(df, spec) if spec.dataset == "tpch" else _daft_school(df, spec)
    return out.to_arrow()


def daft_native(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """Daft with its native (local, multi-threaded) runner."""
    return _daft_query(spec, data)


def daft_ray(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """Daft with its Ray runner on a local Ray instance."""
    return _daft_query(spec, data)


def _setup_daft_native(_data: DataPaths) -> None:
    import daft

    daft.set_runner_native()


def _init_local_ray() -> None:
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    for attempt in range(3):  # a loaded box can miss Ray's fixed 30 s raylet start-up wait
        if ray.is_initialized():
            return
        try:
            ray.init(
                num_cpus=_cpus(),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise


def _setup_daft_ray(_data: DataPaths) -> None:
    import daft

    _init_local_ray()
    daft.set_runner_ray(noop_if_initialized=True)


# --- Ray Data -----------------------------------------------------------------------------


def _arrow_of(ds) -> pa.Table:  # type: ignore[no-untyped-def]
    import ray

    tables = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows or t.num_columns]
    return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})


def _ray_prepare(spec: QuerySpec):  # type: ignore[no-untyped-def]
    """The per-batch filter/projection step of a query, as a pyarrow function for map_batches."""
    import pyarrow.compute as pc

    p = spec.params

    def q1(t: pa.Table) -> pa.Table:
        t = t.filter(pc.less_equal(t["l_shipdate"], pa.scalar(p["cutoff"], pa.date32())))
        price, disc = t["l_extendedprice"], t["l_discount"]
        disc_price = pc.multiply(price, pc.subtract(1.0, disc))
        charge = pc.multiply(disc_price, pc.add(1.0, t["l_tax"]))
        return t.append_column("disc_price", disc_price).append_column("charge", charge)

    def q6(t: pa.Table) -> pa.Table:
        d = t["l_shipdate"]
        m = pc.and_(
            pc.and_(pc.greater_equal(d, pa.scalar(p["lo"])), pc.less(d, pa.scalar(p["hi"]))),
            pc.and_(
                pc.and_(
                    pc.greater_equal(t["l_discount"], p["disc_lo"]),
                    pc.less_equal(t["l_discount"], p["disc_hi"]),
                ),
                pc.less(t["l_quantity"], p["qty"]),
            ),
        )
        f = t.filter(m)
        return pa.table({"rev": pc.multiply(f["l_extendedprice"], f["l_discount"])})

    def school(t: pa.Table) -> pa.Table:
        m = pc.equal(t["status"], "paid")
        if spec is SCHOOL_ONE_MONTH:
            d = t["meal_date"]
            m = pc.and_(m, pc.equal(t["school_id"], p["school_id"]))
            m = pc.and_(
                m, pc.and_(pc.greater_equal(d, pa.scalar(p["lo"])), pc.less(d, pa.scalar(p["hi"])))
            )
        f = t.filter(m)
        return f.select(["school_id", "student_id", "amount"]).append_column(
            "month", month_key(f["meal_date"])
        )

    return {TPCH_Q1.name: q1, TPCH_Q6.name: q6}.get(spec.name, school)


def ray_data(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """Ray Data: ``read_parquet`` + ``map_batches`` (pyarrow filter) + ``groupby().aggregate()``."""
    import ray.data
    from ray.data.aggregate import Count, CountDistinct, Mean, Sum

    columns = {TPCH_Q1.name: Q1_COLUMNS, TPCH_Q6.name: Q6_COLUMNS}.get(spec.name, SCHOOL_COLUMNS)
    ds = ray.data.read_parquet(str(data.for_dataset(spec.dataset)), columns=columns)
    ds = ds.map_batches(_ray_prepare(spec), batch_format="pyarrow", zero_copy_batch=True)
    if spec is TPCH_Q1:
        aggs = [Sum(src, alias_name=name) for name, src in Q1_SUMS]
        aggs += [Mean(src, alias_name=name) for name, src in Q1_MEANS]
        aggs.append(Count(alias_name="count_order"))
        return _arrow_of(ds.groupby(["l_returnflag", "l_linestatus"]).aggregate(*aggs))
    if spec is TPCH_Q6:
        return pa.table({"revenue": [float(ds.sum("rev") or 0.0)]})
    school_aggs = (
        Count(alias_name="orders"),
        Sum("amount", alias_name="revenue"),
        CountDistinct("student_id", alias_name="students"),
    )
    if spec is SCHOOL_ONE_MONTH:
        row = ds.aggregate(*school_aggs)
        return pa.table({k: [row[k]] for k in ("orders", "revenue", "students")})
    if spec is SCHOOL_MONTH:
        return _arrow_of(ds.groupby(["school_id", "month"]).aggregate(*school_aggs))
    if spec is TOP_STUDENTS:
        g = ds.groupby("student_id").aggregate(
            Sum("amount", alias_name="spend"), Count(alias_name="orders")
        )
        g = g.map_batches(_round_spend, batch_format="pyarrow")
        return _arrow_of(
            g.sort(["spend", "student_id"], descending=[True, False]).limit(spec.params["n"])
        )
    raise KeyError(f"ray_data: no implementation of {spec.name}")


def _round_spend(t: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    return t.set_column(t.schema.get_field_index("spend"), "spend", pc.round(t["spend"], 2))


def _setup_ray_data(_data: DataPaths) -> None:
    _init_local_ray()
    import ray.data
    from ray.data.context import ShuffleStrategy

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    # The default hash shuffle starts aggregator actors (new processes) for every aggregation,
    # 200 partitions' worth: meant for clusters. On this 2-core box the task-based sort shuffle
    # measured 2x faster on a groupby and ~10x on a global sum; a tuned user would pick it.
    ctx.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    ctx.default_hash_shuffle_parallelism = _cpus()
    ctx.max_hash_shuffle_aggregators = _cpus()


# --- hasivu_compute (our engine) ----------------------------------------------------------

_HASIVU: dict[str, object] = {}


def _setup_hasivu(data: DataPaths) -> None:
    """Embedded cluster in a temporary folder; both tables created and ingested once.

    ``orders`` is partitioned by ``bucket[16]`` of ``school_id``, the layout ``hasivu demo``
    uses (one partition per school would make ~1,000 tiny partitions); rows are clustered by
    school inside a bucket, so the one-school query touches one partition and few chunks;
    ``lineitem`` is unpartitioned. Ingest time is recorded in ``_HASIVU["ingest_s"]``.
    """
    import atexit
    import shutil
    import tempfile
    import time

    import pyarrow.parquet as pq

    import hasivu_compute as hc

    folder = tempfile.mkdtemp(prefix="hc-bench-")
    conn = hc.connect(data_dir=folder, num_cpus=_cpus())
    atexit.register(shutil.rmtree, folder, True)
    ingest_s = {}
    for name, path, partition_by in (
        ("lineitem", data.lineitem, None),
        ("orders", data.orders, [("school_id", "bucket[16]")]),
    ):
        conn.create_table(name, pq.read_schema(path), partition_by=partition_by)
        pf = pq.ParquetFile(path)
        t0 = time.perf_counter()
        conn.ingest(
            name,
            pf.iter_batches(batch_size=1 << 20),
            progress=False,
            total_rows=pf.metadata.num_rows,
        )
        ingest_s[name] = time.perf_counter() - t0
    _HASIVU.update(conn=conn, ingest_s=ingest_s)


def _teardown_hasivu() -> dict[str, object]:
    conn = _HASIVU.pop("conn", None)
    if conn is not None:
        conn.close()  # type: ignore[attr-defined]
    return {"ingest_s": _HASIVU.get("ingest_s")}


def hasivu(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """Our engine: the reference SQL through ``Connection.sql`` on the embedded cluster."""
    if "conn" not in _HASIVU:
        _setup_hasivu(data)
    return _HASIVU["conn"].sql(spec.sql)  # type: ignore[attr-defined]


def _setup_hasivu_local(data: DataPaths) -> None:
    """The single-process engine (no Ray) on the same layout as ``hasivu``.

    Tables are written with ``Table.append`` in 1M-row batches into a temporary
    catalog; queries run through ``exec.execute`` (all fragments in this process,
    a small thread pool). This is the query-engine figure of the planner issue;
    ``hasivu`` adds the Ray scatter/gather on top of the same fragments.
    """
    import atexit
    import shutil
    import tempfile
    import time

    import pyarrow.parquet as pq

    from hasivu_compute.storage.fileio import FileIO
    from hasivu_compute.table.catalog import Catalog

    folder = tempfile.mkdtemp(prefix="hc-bench-local-")
    atexit.register(shutil.rmtree, folder, True)
    catalog = Catalog(FileIO.from_uri(folder))
    schemas: dict[str, pa.Schema] = {}
    ingest_s = {}
    for name, path, partition_by in (
        ("lineitem", data.lineitem, None),
        ("orders", data.orders, [("school_id", "bucket[16]")]),
    ):
        pf = pq.ParquetFile(path)
        schemas[name] = pf.schema_arrow
        table = catalog.create_table(name, pf.schema_arrow, partition_by=partition_by or ())
        t0 = time.perf_counter()
        for batch in pf.iter_batches(batch_size=1 << 20):
            table.append(pa.Table.from_batches([batch]))
        ingest_s[name] = time.perf_counter() - t0
    _HASIVU_LOCAL.update(catalog=catalog, schemas=schemas, ingest_s=ingest_s)


_HASIVU_LOCAL: dict[str, object] = {}


def hasivu_local(spec: QuerySpec, data: DataPaths) -> pa.Table:
    """Our engine in one process: SQL -> plan -> ``exec.execute`` over the catalog."""
    from hasivu_compute.exec import execute
    from hasivu_compute.sql import to_plan

    if "catalog" not in _HASIVU_LOCAL:
        _setup_hasivu_local(data)
    plan = to_plan(spec.sql, schema=_HASIVU_LOCAL["schemas"])  # type: ignore[arg-type]
    return execute(plan, _HASIVU_LOCAL["catalog"])  # type: ignore[arg-type]


# --- registry -----------------------------------------------------------------------------

PEERS: dict[str, PeerFn] = {
    "hasivu": hasivu,
    "hasivu_local": hasivu_local,
    "duckdb_native": duckdb_native,
    "duckdb_parquet": duckdb_parquet,
    "polars": polars_lazy,
    "dask": dask_dataframe,
    "daft_native": daft_native,
    "daft_ray": daft_ray,
    "ray_data": ray_data,
}
PEER_SETUP: dict[str, SetupFn] = {
    "hasivu": _setup_hasivu,
    "hasivu_local": _setup_hasivu_local,
    "duckdb_native": _setup_duckdb_native,
    "daft_native": _setup_daft_native,
    "daft_ray": _setup_daft_ray,
    "ray_data": _setup_ray_data,
}
# Called once after the queries; what it returns is saved with the peer's report.
PEER_TEARDOWN: dict[str, Callable[[], dict[str, object]]] = {
    "hasivu": _teardown_hasivu,
    "hasivu_local": lambda: {"ingest_s": _HASIVU_LOCAL.get("ingest_s")},
}
REFERENCE_PEERS = ("duckdb_native", "duckdb_parquet", "polars")

__all__ = [
    "PEERS",
    "PEER_SETUP",
    "PEER_TEARDOWN",
    "QUERIES",
    "REFERENCE_PEERS",
    "DataPaths",
    "QuerySpec",
]


if __name__ == "__main__":
    from benchmarks.run_peers import main

    raise SystemExit(main())
