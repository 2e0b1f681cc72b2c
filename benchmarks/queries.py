"""The benchmark query suite: what each query asks, its reference SQL, and how answers compare.

Every peer (DuckDB, Polars, Dask, Daft, Ray Data, our engine) implements the same
:class:`QuerySpec` over the same files described by :class:`DataPaths` and returns a
``pa.Table`` with the columns listed in ``QuerySpec.columns``. :func:`normalize` makes answers
comparable (column types, row order) and :func:`assert_same_answer` checks two peers agree,
with a float tolerance because engines sum in different orders.

Queries:
* ``tpch_q1`` / ``tpch_q6``: TPC-H Q1 and Q6 on ``lineitem`` (decimals read as float64).
* ``school_one_month``: revenue, orders and distinct students of one school in one month.
* ``school_month``: the same per school x month (``month`` = yyyymm int), with count distinct.
* ``top_students``: the 100 students who spent most (spend rounded to cents; ties by id).
All school queries count paid orders only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True, slots=True)
class DataPaths:
    """The files a benchmark run reads (Parquet), and the sizes they were generated with."""

    sf: float
    n_orders: int
    lineitem: Path
    orders: Path

    def for_dataset(self, dataset: str) -> Path:
        """The file a query's dataset lives in."""
        return {"tpch": self.lineitem, "school": self.orders}[dataset]


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """One benchmark query.

    Attributes:
        name: short id, used as the row label in result tables.
        dataset: ``"tpch"`` (table ``lineitem``) or ``"school"`` (table ``orders``).
        sql: the reference SQL (DuckDB dialect) over that table name.
        columns: output column names, in order, with their canonical Arrow types.
        sort_keys: keys that make the answer's row order canonical for comparison.
        params: query parameters (dates, school id) that peers read instead of hard-coding.
        ordered: whether the row order is part of the answer (top-k).
    """

    name: str
    dataset: str
    sql: str
    columns: tuple[tuple[str, pa.DataType], ...]
    sort_keys: tuple[str, ...] = ()
    params: Mapping[str, object] = field(default_factory=dict)
    ordered: bool = False
    description: str = ""

    @property
    def table(self) -> str:
        """The SQL table name the query reads."""
        return "lineitem" if self.dataset == "tpch" else "orders"


F64, I64 = pa.float64(), pa.int64()

Q1_CUTOFF = date(1998, 9, 2)  # DATE '1998-12-01' - INTERVAL 90 DAY
TPCH_Q1 = QuerySpec(
    name="tpch_q1",
    dataset="tpch",
    description="TPC-H Q1: pricing summary report (scan + 8 aggregates over 4 groups)",
    sql="""
SELECT l_returnflag, l_linestatus,
       sum(l_quantity) AS sum_qty,
       sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
       avg(l_quantity) AS avg_qty,
       avg(l_extendedprice) AS avg_price,
       avg(l_discount) AS avg_disc,
       count(*) AS count_order
FROM lineitem
WHERE l_shipdate <= DATE '1998-09-02'
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus""",
    columns=(
        ("l_returnflag", pa.string()),
        ("l_linestatus", pa.string()),
        ("sum_qty", F64),
        ("sum_base_price", F64),
        ("sum_disc_price", F64),
        ("sum_charge", F64),
        ("avg_qty", F64),
        ("avg_price", F64),
        ("avg_disc", F64),
        ("count_order", I64),
    ),
    sort_keys=("l_returnflag", "l_linestatus"),
    params=MappingProxyType({"cutoff": Q1_CUTOFF}),
)

TPCH_Q6 = QuerySpec(
    name="tpch_q6",
    dataset="tpch",
    description="TPC-H Q6: forecast revenue change (selective filter + one sum)",
    sql="""
SELECT sum(l_extendedprice * l_discount) AS revenue
FROM lineitem
WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24""",
    columns=(("revenue", F64),),
    params=MappingProxyType(
        {
            "lo": date(1994, 1, 1),
            "hi": date(1995, 1, 1),
            "disc_lo": 0.05,
            "disc_hi": 0.07,
            "qty": 24,
        }
    ),
)

SCHOOL_ID = 42
MONTH_START, MONTH_END = date(2025, 3, 1), date(2025, 4, 1)
SCHOOL_ONE_MONTH = QuerySpec(
    name="school_one_month",
    dataset="school",
    description="one school x one month: orders, revenue, distinct students (paid orders)",
    sql=f"""
SELECT count(*) AS orders, sum(amount) AS revenue, count(DISTINCT student_id) AS students
FROM orders
WHERE school_id = {SCHOOL_ID} AND meal_date >= DATE '{MONTH_START}' AND meal_date < DATE '{MONTH_END}'
  AND status = 'paid'""",
    columns=(("orders", I64), ("revenue", F64), ("students", I64)),
    params=MappingProxyType({"school_id": SCHOOL_ID, "lo": MONTH_START, "hi": MONTH_END}),
)

SCHOOL_MONTH = QuerySpec(
    name="school_month",
    dataset="school",
    description="per school x month: orders, revenue, count distinct students (paid orders)",
    sql="""
SELECT school_id, (year(meal_date) * 100 + month(meal_date))::INTEGER AS month,
       count(*) AS orders, sum(amount) AS revenue, count(DISTINCT student_id) AS students
FROM orders
WHERE status = 'paid'
GROUP BY ALL
ORDER BY school_id, month""",
    columns=(
        ("school_id", pa.int32()),
        ("month", pa.int32()),
        ("orders", I64),
        ("revenue", F64),
        ("students", I64),
    ),
    sort_keys=("school_id", "month"),
)

TOP_N = 100
TOP_STUDENTS = QuerySpec(
    name="top_students",
    dataset="school",
    description=f"top {TOP_N} students by spend (paid orders; spend rounded to cents, ties by id)",
    sql=f"""
SELECT student_id, round(sum(amount), 2) AS spend, count(*) AS orders
FROM orders
WHERE status = 'paid'
GROUP BY student_id
ORDER BY spend DESC, student_id
LIMIT {TOP_N}""",
    columns=(("student_id", I64), ("spend", F64), ("orders", I64)),
    params=MappingProxyType({"n": TOP_N}),
    ordered=True,
)

QUERIES: Mapping[str, QuerySpec] = MappingProxyType(
    {q.name: q for q in (TPCH_Q1, TPCH_Q6, SCHOOL_ONE_MONTH, SCHOOL_MONTH, TOP_STUDENTS)}
)


def normalize(spec: QuerySpec, result: pa.Table) -> pa.Table:
    """Select and cast the spec's columns (by name) and sort by its keys, so peers compare.

    Raises:
        KeyError: a required output column is missing from ``result``.
    """
    arrays = []
    for name, typ in spec.columns:
        if name not in result.column_names:
            raise KeyError(f"{spec.name}: result lacks column {name!r} (has {result.column_names})")
        column = result[name]
        if pa.types.is_string_view(column.type) or pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        arrays.append(column.cast(typ))
    table = pa.table(arrays, names=[n for n, _ in spec.columns])
    if spec.sort_keys and not spec.ordered:
        table = table.sort_by([(k, "ascending") for k in spec.sort_keys])
    return table.combine_chunks()


def _close(a: object, b: object, rel: float, abs_tol: float) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_same_answer(
    spec: QuerySpec, expected: pa.Table, got: pa.Table, *, rel: float = 1e-9, abs_tol: float = 1e-6
) -> None:
    """Raise ``AssertionError`` naming the first differing row/column of two normalised answers."""
    if expected.num_rows != got.num_rows:
        raise AssertionError(f"{spec.name}: {got.num_rows} rows, expected {expected.num_rows}")
    for name, _ in spec.columns:
        exp, act = expected[name].to_pylist(), got[name].to_pylist()
        for i, (a, b) in enumerate(zip(exp, act, strict=True)):
            if not _close(a, b, rel, abs_tol):
                raise AssertionError(
                    f"{spec.name}: row {i} column {name!r}: got {b!r}, expected {a!r}"
                )


def table_sql(spec: QuerySpec, source: str) -> str:
    """The reference SQL with its table name replaced by ``source`` (a view or ``read_parquet``)."""
    return spec.sql.replace(f"FROM {spec.table}", f"FROM {source}")


def month_key(meal_date: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    """``year * 100 + month`` as int32 (the ``month`` column of ``school_month``)."""
    return pc.add(pc.multiply(pc.year(meal_date), 100), pc.month(meal_date)).cast(pa.int32())
