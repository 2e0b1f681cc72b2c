"""Turn a validated batch into segment files, one or more per partition.

Rows are routed to partitions with one vectorised group-by over the partition
values (no per-row Python); each partition's rows are taken, encoded by the
storage layer, and written under a fresh uuid name. Files are written before the
commit and become visible only when a snapshot references them; a crash in
between leaves orphans that vacuum removes after its grace period.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions, encode_segment
from hasivu_compute.table.manifest import DATA_DIR
from hasivu_compute.table.metadata import DataFile, Snapshot

DEFAULT_SEGMENT_ROWS = 1 << 20
SEGMENT_SUFFIX = ".hseg"
_MAX_CODE = 1 << 62


def split_by_partition(
    data: pa.Table, snapshot: Snapshot
) -> Iterator[tuple[tuple[object, ...], pa.Table]]:
    """Yield ``(partition values, rows)`` for every partition present in ``data``.

    Each row gets one integer partition code (dictionary codes of the partition
    values, combined mixed-radix); one stable argsort and one ``take`` group the
    rows, and each partition is a zero-copy slice of the result.
    """
    spec = snapshot.spec
    if not spec.fields or data.num_rows == 0:
        if data.num_rows or not spec.fields:
            yield (), data
        return
    values = spec.partition_values(data, snapshot.schema)
    codes = _partition_codes(values)
    # numpy's stable sort is a radix sort for 16-bit keys: O(n), ~10x faster on 1M rows.
    keys16 = codes.astype(np.uint16) if int(codes.max()) < (1 << 16) else codes
    order = np.argsort(keys16, kind="stable")
    ordered = codes[order]
    bounds = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [data.num_rows]))
    grouped = data if len(starts) == 1 else data.take(pa.array(order))
    firsts = values.take(pa.array(order[starts]))
    keys = [firsts.column(i).to_pylist() for i in range(firsts.num_columns)]
    for g, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        yield tuple(k[g] for k in keys), grouped.slice(start, end - start)


def _partition_codes(values: pa.Table) -> np.ndarray[Any, Any]:
    """One int64 per row, equal exactly when all partition values are equal (nulls too)."""
    codes: np.ndarray[Any, Any] | None = None
    for column in values.columns:
        encoded = column.combine_chunks().dictionary_encode(null_encoding="encode")
        idx = encoded.indices.to_numpy().astype(np.int64)
        radix = max(len(encoded.dictionary), 1)
        if codes is None:
            codes = idx
            continue
        if int(codes.max(initial=0)) >= _MAX_CODE // radix:
            codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)  # re-densify
        codes = codes * radix + idx
    assert codes is not None
    return codes


def write_data_files(
    io: FileIO,
    snapshot: Snapshot,
    data: pa.Table,
    *,
    options: WriteOptions | None = None,
    segment_rows: int = DEFAULT_SEGMENT_ROWS,
) -> list[DataFile]:
    """Encode and write validated ``data`` (columns of ``snapshot.schema``) as segments."""
    files: list[DataFile] = []
    try:
        _write_all(io, snapshot, data, options or WriteOptions(), segment_rows, files)
    except BaseException:
        # Nothing of a failed batch may stay behind (best effort; vacuum gets the rest).
        for f in files:
            with contextlib.suppress(Exception):
                io.delete(f.path)
        raise
    return files


def _write_all(
    io: FileIO,
    snapshot: Snapshot,
    data: pa.Table,
    opts: WriteOptions,
    segment_rows: int,
    files: list[DataFile],
) -> None:
    field_ids = snapshot.schema.field_ids
    for partition, rows in split_by_partition(data, snapshot):
        folder = snapshot.spec.path(partition)
        prefix = f"{DATA_DIR}/{folder}" if folder else DATA_DIR
        for start in range(0, rows.num_rows, segment_rows):
            part = rows.slice(start, segment_rows)
            payload, info = encode_segment(part, field_ids, opts)
            path = f"{prefix}/{uuid.uuid4().hex}{SEGMENT_SUFFIX}"
            io.write_bytes(path, payload)
            files.append(
                DataFile(
                    path=path,
                    partition=partition,
                    num_rows=info.num_rows,
                    size_bytes=info.size_bytes,
                    field_ids=tuple(info.field_ids),
                    stats=dict(info.stats),
                    checksum=info.checksum,
                    schema_id=snapshot.schema.schema_id,
                )
            )
