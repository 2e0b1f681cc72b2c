"""Partition specs and their transforms, computed column-at-a-time.

Transforms (after Iceberg's): ``identity``; ``bucket[N]`` = xxh64 of the value's
canonical bytes mod N; ``month`` = months since 1970-01; ``day`` = days since
1970-01-01. Canonical bytes make a bucket independent of the column's width, so
widening ``int32`` to ``int64`` keeps every row in its bucket: integers, dates and
timestamps hash as 8-byte little-endian int64, strings and binaries as their bytes.

Everything is vectorised: integers are hashed with a numpy XXH64 of one 8-byte
lane; strings and binaries hash only their distinct values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from hasivu_compute._core.errors import BindError, SchemaMismatchError
from hasivu_compute.schema.schema import TableSchema

_BUCKET_RE = re.compile(r"^bucket\[(\d+)\]$")
DEFAULT_BUCKETS = 16


def default_transform(dtype: pa.DataType, buckets: int = DEFAULT_BUCKETS) -> str:
    """The transform a bare column name in ``partition_by`` gets.

    Partitioning by a key with hundreds or thousands of values (a school, a
    student) one partition per value writes a file per value per flush: for 500
    schools, 500 files of ~2K rows per 1M rows, ~10x the time of 16 files, and
    as many files to open for every full scan. So such keys are hashed into
    ``buckets`` clusters instead; the writer sorts each cluster by the key, so
    one value's rows are a contiguous range that chunk zone maps prune to, and a
    one-school query still reads one cluster on one shard. Dates stay one
    partition per day (a day's feed is one partition); timestamps go by day.
    ``("col", "identity")`` still asks for one partition per value.

    Example:
        >>> default_transform(pa.int32())
        'bucket[16]'
        >>> default_transform(pa.date32())
        'identity'
    """
    if pa.types.is_integer(dtype) or _hashes_as_bytes(dtype):
        return f"bucket[{buckets}]"
    if pa.types.is_timestamp(dtype):
        return "day"
    return "identity"


_EPOCH = dt.date(1970, 1, 1)

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)


@dataclass(frozen=True, slots=True)
class PartitionField:
    """One partition column: ``transform`` applied to the column with id ``source_id``."""

    source_id: int
    transform: str
    name: str

    def __post_init__(self) -> None:
        parse_transform(self.transform)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"source_id": self.source_id, "transform": self.transform, "name": self.name}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> PartitionField:
        """Inverse of :meth:`to_json`."""
        return cls(int(obj["source_id"]), str(obj["transform"]), str(obj["name"]))


@dataclass(frozen=True, slots=True)
class PartitionSpec:
    """How rows are grouped into partitions (an empty spec = one partition)."""

    fields: tuple[PartitionField, ...] = ()

    @classmethod
    def build(
        cls,
        schema: TableSchema,
        partition_by: Sequence[str | tuple[str, str]],
        default_buckets: int = DEFAULT_BUCKETS,
    ) -> PartitionSpec:
        """Spec from ``["col", ("col", "bucket[16]"), ("ts", "month")]``.

        A bare name lets the engine choose (:func:`default_transform`): a tenant-like
        key (integer, string, binary) is hashed into ``default_buckets`` clusters, a
        date is partitioned by value, a timestamp by day. Partition field names are
        ``col`` for identity and ``col_<transform>`` otherwise.

        Raises:
            BindError: unknown column, or a transform that does not fit the column type.
        """
        fields = []
        for item in partition_by:
            if isinstance(item, str):
                name = item
                transform = default_transform(schema.field(name).type, default_buckets)
            else:
                name, transform = item
            source = schema.field(name)
            check_transform_type(transform, source.type, name)
            kind, _ = parse_transform(transform)
            pname = name if kind == "identity" else f"{name}_{kind}"
            fields.append(PartitionField(source.id, transform, pname))
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise BindError(f"duplicate partition fields {names}")
        return cls(tuple(fields))

    def partition_values(self, table: pa.Table, schema: TableSchema) -> pa.Table:
        """One column per partition field, named after it, computed from ``table``.

        ``table`` has columns named as in ``schema`` (validated data).
        """
        cols = []
        for pf in self.fields:
            source = schema.by_id(pf.source_id)
            cols.append(apply_transform(pf.transform, table.column(source.name)))
        return pa.table(cols, names=[pf.name for pf in self.fields]) if cols else pa.table({})

    def result_type(self, pf: PartitionField, schema: TableSchema) -> pa.DataType:
        """The type of a partition value of ``pf``."""
        kind, _ = parse_transform(pf.transform)
        return schema.by_id(pf.source_id).type if kind == "identity" else pa.int64()

    def path(self, values: Sequence[object]) -> str:
        """Folder path of a partition, e.g. ``school_id_bucket=3/ordered_at_month=2025-01``."""
        parts = []
        for pf, value in zip(self.fields, values, strict=True):
            parts.append(f"{pf.name}={format_partition_value(pf.transform, value)}")
        return "/".join(parts)

    def source_ids(self) -> frozenset[int]:
        """Ids of the columns the spec reads."""
        return frozenset(pf.source_id for pf in self.fields)

    def to_json(self) -> list[dict[str, Any]]:
        """A JSON-ready list."""
        return [pf.to_json() for pf in self.fields]

    @classmethod
    def from_json(cls, obj: Sequence[Mapping[str, Any]]) -> PartitionSpec:
        """Inverse of :meth:`to_json`."""
        return cls(tuple(PartitionField.from_json(o) for o in obj))


def parse_transform(transform: str) -> tuple[str, int]:
    """``("identity", 0)``, ``("bucket", N)``, ``("month", 0)`` or ``("day", 0)``."""
    if transform in ("identity", "month", "day"):
        return transform, 0
    m = _BUCKET_RE.match(transform)
    if m and int(m.group(1)) > 0:
        return "bucket", int(m.group(1))
    raise BindError(
        f"unknown partition transform {transform!r}; use identity, bucket[N] (N > 0), month or day"
    )


def check_transform_type(transform: str, dtype: pa.DataType, column: str) -> None:
    """Raise :class:`BindError` if ``transform`` cannot apply to a column of ``dtype``."""
    kind, _ = parse_transform(transform)
    if kind == "identity":
        if pa.types.is_nested(dtype) or pa.types.is_floating(dtype):
            raise BindError(f"column {column!r} of type {dtype} cannot be an identity partition")
        return
    if kind in ("month", "day"):
        if not (pa.types.is_timestamp(dtype) or pa.types.is_date(dtype)):
            raise BindError(
                f"{kind} partition needs a date or timestamp; column {column!r} is {dtype}"
            )
        return
    if not (_hashes_as_int(dtype) or _hashes_as_bytes(dtype)):
        raise BindError(
            f"bucket partition needs an integer, date, timestamp, string or binary column; "
            f"column {column!r} is {dtype}"
        )


def apply_transform(transform: str, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The partition value of every row of ``values`` (nulls stay null)."""
    kind, n = parse_transform(transform)
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if kind == "identity":
        return arr
    if kind == "day":
        return _days_since_epoch(arr)
    if kind == "month":
        days = _days_since_epoch(arr)
        months = months_from_days(days.fill_null(0).to_numpy())
        return pa.array(months, type=pa.int64(), mask=_null_mask(days))
    return _bucket(arr, n)


def transform_scalar(transform: str, value: object, dtype: pa.DataType) -> object:
    """The partition value of one Python value (for pruning a literal)."""
    result = apply_transform(transform, pa.array([value], type=dtype))
    return result[0].as_py()


def format_partition_value(transform: str, value: object) -> str:
    """Human-readable, path-safe rendering of a partition value."""
    if value is None:
        return "__null__"
    kind, _ = parse_transform(transform)
    if kind == "month" and isinstance(value, int):
        year, month = divmod(value, 12)
        return f"{1970 + year:04d}-{month + 1:02d}"
    if kind == "day" and isinstance(value, int):
        return (_EPOCH + dt.timedelta(days=value)).isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return quote(str(value), safe="")


def xxh64_int64(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """XXH64 (seed 0) of each int64 as 8 little-endian bytes, vectorised.

    Equal to ``xxhash.xxh64_intdigest(int(v).to_bytes(8, "little", signed=True))``;
    computed in place on one uint64 buffer (XXH64's path for an 8-byte input).
    """
    h = values.astype("<i8", copy=True).view(np.uint64)
    tmp = np.empty_like(h)
    with np.errstate(over="ignore"):
        h *= _P2
        _rotl_inplace(h, 31, tmp)
        h *= _P1
        h ^= _P5 + np.uint64(8)
        _rotl_inplace(h, 27, tmp)
        h *= _P1
        h += _P4
        for shift, prime in ((33, _P2), (29, _P3)):
            np.right_shift(h, np.uint64(shift), out=tmp)
            h ^= tmp
            h *= prime
        np.right_shift(h, np.uint64(32), out=tmp)
        h ^= tmp
    return h


def _rotl_inplace(x: np.ndarray[Any, Any], r: int, tmp: np.ndarray[Any, Any]) -> None:
    np.right_shift(x, np.uint64(64 - r), out=tmp)
    x <<= np.uint64(r)
    x |= tmp


def months_from_days(days: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Months since 1970-01 of days since 1970-01-01 (proleptic Gregorian), vectorised.

    numpy's calendar conversion measured faster than integer civil-from-days arithmetic.
    """
    months: np.ndarray[Any, Any] = (
        days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    )
    return months


def _hashes_as_int(dtype: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(dtype) or pa.types.is_date(dtype) or pa.types.is_timestamp(dtype)
    )


def _hashes_as_bytes(dtype: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_binary(dtype)
        or pa.types.is_large_binary(dtype)
        or dtype == pa.string_view()
        or dtype == pa.binary_view()
    )


def _null_mask(arr: pa.Array) -> np.ndarray[Any, Any] | None:
    if arr.null_count == 0:
        return None
    mask: np.ndarray[Any, Any] = pc.is_null(arr).to_numpy(zero_copy_only=False)
    return mask


def _as_int64(arr: pa.Array) -> np.ndarray[Any, Any]:
    """Integer-like values as int64 numpy (nulls as 0); dates as days, timestamps raw."""
    if pa.types.is_date32(arr.type):
        arr = arr.cast(pa.int32())
    elif pa.types.is_date64(arr.type) or pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.int64())
    elif pa.types.is_uint64(arr.type):
        arr = arr.view(pa.int64())
    out: np.ndarray[Any, Any] = arr.fill_null(0).to_numpy().astype(np.int64)
    return out


def _days_since_epoch(arr: pa.Array) -> pa.Array:
    dtype = arr.type
    raw = _as_int64(arr)
    if pa.types.is_date32(dtype):
        days = raw
    elif pa.types.is_date64(dtype):
        days = np.floor_divide(raw, 86_400_000)
    elif pa.types.is_timestamp(dtype):
        per_day = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
        days = np.floor_divide(raw, per_day[dtype.unit])
    else:
        raise SchemaMismatchError(f"day/month partition needs a date or timestamp, got {dtype}")
    return pa.array(days, type=pa.int64(), mask=_null_mask(arr))


def _bucket(arr: pa.Array, n: int) -> pa.Array:
    if _hashes_as_int(arr.type):
        hashes = xxh64_int64(_as_int64(arr))
    elif _hashes_as_bytes(arr.type):
        hashes = _hash_distinct_bytes(arr)
    else:
        raise SchemaMismatchError(f"bucket partition cannot hash values of type {arr.type}")
    buckets = (hashes % np.uint64(n)).astype(np.int64)
    return pa.array(buckets, type=pa.int64(), mask=_null_mask(arr))


def hash_values(arr: pa.Array) -> np.ndarray[Any, Any]:
    """A uint64 hash per value, equal for equal values of one type (NULLs hash as 0's
    value; callers that care mask them). Integers, dates and timestamps hash as int64,
    strings and binaries by their bytes, floats by their bits (canonicalise -0.0 and
    NaN first), anything else by its text."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if _hashes_as_int(arr.type):
        return xxh64_int64(_as_int64(arr))
    if _hashes_as_bytes(arr.type):
        return _hash_distinct_bytes(arr)
    if pa.types.is_floating(arr.type):
        bits = arr.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        return xxh64_int64(np.ascontiguousarray(bits).view(np.int64))
    if pa.types.is_boolean(arr.type):
        return xxh64_int64(_as_int64(arr.cast(pa.int8())))
    return _hash_distinct_bytes(arr.cast(pa.string()))


def _hash_distinct_bytes(arr: pa.Array) -> np.ndarray[Any, Any]:
    if arr.type == pa.string_view():
        arr = arr.cast(pa.string())
    elif arr.type == pa.binary_view():
        arr = arr.cast(pa.binary())
    encoded = arr.dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    table = np.fromiter(
        (xxhash.xxh64_intdigest(v.encode() if isinstance(v, str) else v) for v in distinct),
        dtype=np.uint64,
        count=len(distinct),
    )
    indices = encoded.indices.fill_null(0).to_numpy()
    if len(table) == 0:
        return np.zeros(len(arr), dtype=np.uint64)
    hashes: np.ndarray[Any, Any] = table[indices]
    return hashes
