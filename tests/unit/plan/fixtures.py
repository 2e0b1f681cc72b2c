"""Shared test data for plan and exec tests: a small in-memory catalog.

Loaded by the conftests as module ``hc_fixtures`` (tests only).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hc_memtable import MemCatalog

ORDERS = pa.schema(
    [
        ("order_id", pa.int64()),
        ("school_id", pa.int32()),
        ("item_id", pa.int32()),
        ("student_id", pa.int64()),
        ("amount", pa.float64()),
        ("status", pa.string()),
        ("meal_date", pa.date32()),
    ]
)


def orders_batch(start: int, n: int) -> pa.Table:
    """Deterministic rows: order ids ascending, 4 schools, 5 items, some null amounts."""
    ids = list(range(start, start + n))
    return pa.table(
        {
            "order_id": ids,
            "school_id": pa.array([i % 4 + 1 for i in ids], pa.int32()),
            "item_id": pa.array([i % 5 for i in ids], pa.int32()),
            "student_id": [i % 7 + (i % 4) * 100 for i in ids],
            "amount": [None if i % 9 == 0 else float(i % 13) * 1.5 for i in ids],
            "status": [("paid", "pending", "refunded")[i % 3] for i in ids],
            "meal_date": [dt.date(2025, 1 + (i // 10) % 6, 1 + i % 28) for i in ids],
        },
        schema=ORDERS,
    )


def make_catalog() -> MemCatalog:
    """orders (partitioned by school_id; 2 appends), visits (bucket x month), refunds (unpartitioned)."""
    cat = MemCatalog()
    orders = cat.create_table("orders", ORDERS, [("school_id", "identity")], chunk_rows=4)
    orders.append(orders_batch(0, 24))
    orders.append(orders_batch(24, 16))
    visits = cat.create_table(
        "visits", ORDERS, [("student_id", "bucket[4]"), ("meal_date", "month")], chunk_rows=4
    )
    visits.append(orders_batch(0, 30))
    refunds = cat.create_table("refunds", ORDERS, (), chunk_rows=5)
    refunds.append(orders_batch(100, 12))
    refunds.append(orders_batch(112, 12))
    return cat


def table_data(cat: MemCatalog, name: str) -> pa.Table:
    """Every row of the current snapshot of ``name``."""
    t = cat.load_table(name)
    parts = [pa.concat_tables(t.files[f.path]) for f in t.snapshot().data_files]
    return pa.concat_tables(parts) if parts else t.schema.to_arrow().empty_table()


def _norm(value: object) -> tuple[int, object]:
    if value is None:
        return (0, "")
    if isinstance(value, float):
        if value != value:
            return (1, "nan")
        return (2, round(value, 6) + 0.0)
    return (3, value)


def rows_bag(table: pa.Table) -> list[tuple[tuple[int, object], ...]]:
    """Rows as comparable tuples, sorted (a bag), floats rounded to 6 decimals."""
    return sorted(
        (tuple(_norm(v) for v in row.values()) for row in table.to_pylist()),
        key=lambda r: tuple((k, str(type(v)), str(v)) for k, v in r),
    )


def assert_same_bag(actual: pa.Table, expected: pa.Table, ordered: bool = False) -> None:
    """Same rows (as a bag, or in order when ``ordered``), float tolerance 1e-6."""
    assert actual.num_rows == expected.num_rows, f"{actual.num_rows} rows vs {expected.num_rows}"
    if ordered:
        a = [tuple(_norm(v) for v in r.values()) for r in actual.to_pylist()]
        b = [tuple(_norm(v) for v in r.values()) for r in expected.to_pylist()]
        assert a == b
    else:
        assert rows_bag(actual) == rows_bag(expected)
