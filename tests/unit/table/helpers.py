"""Builders shared by the table tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa

from hasivu_compute.schema.partition import PartitionSpec
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.storage.stats import ColumnChunkStats
from hasivu_compute.table.metadata import DataFile, Snapshot


def fake_file(
    path: str, rows: int = 10, schema_id: int = 0, partition: tuple[object, ...] = ()
) -> DataFile:
    """A DataFile record (no bytes behind it) for manifest and commit tests."""
    return DataFile(
        path=path,
        partition=partition,
        num_rows=rows,
        size_bytes=100,
        field_ids=(1, 2),
        stats={
            1: ColumnChunkStats(rows, 0, 1, rows),
            2: ColumnChunkStats(rows, 1, Decimal("1.50"), Decimal("9.99"), has_bloom=True),
        },
        checksum=0xDEADBEEF12345678,
        schema_id=schema_id,
    )


def forget_parsed_manifests() -> None:
    """Drop the process-wide caches of parsed manifests, as a fresh process starts.

    ``publish()`` seeds them with the very objects it wrote, so without this a read-back
    in the same process hands out the published snapshot itself, and a test comparing
    it with the snapshot it published compares a value with itself: no byte decoded.
    """
    from hasivu_compute.table import manifest, manifest_files

    manifest._DECODED._entries.clear()
    manifest_files._FILES.clear()
    manifest_files._BUCKETS.clear()


def first_snapshot(spec: PartitionSpec | None = None) -> Snapshot:
    schema = TableSchema.from_arrow(
        pa.schema([("id", pa.int64()), ("amount", pa.decimal128(10, 2))])
    )
    return Snapshot(
        version=1,
        parent=None,
        timestamp_ms=1_700_000_000_000,
        schema=schema,
        spec=spec or PartitionSpec(),
        data_files=(),
        producers={},
        summary={"operation": "create"},
        last_column_id=2,
    )


UTC = dt.UTC

ORDERS = pa.schema(
    [
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("school_id", pa.int32()),
        pa.field("ordered_at", pa.timestamp("us", tz="UTC")),
        pa.field("amount", pa.float64()),
        pa.field("status", pa.string()),
    ]
)
PARTITION_BY = [("school_id", "bucket[4]"), ("ordered_at", "month")]


def make_orders(n: int, start: int = 0, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
    offsets = rng.integers(0, 90 * 86_400_000_000, size=n)
    return pa.table(
        {
            "order_id": pa.array(np.arange(start, start + n), pa.int64()),
            "school_id": pa.array(rng.integers(1, 50, size=n), pa.int32()),
            "ordered_at": pa.array(base + offsets, pa.timestamp("us", tz="UTC")),
            "amount": pa.array(np.round(rng.random(n) * 100, 2)),
            "status": pa.array(rng.choice(["paid", "pending", "refunded"], size=n)),
        }
    )
