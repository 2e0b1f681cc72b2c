"""Content digests of ingest calls: the same rows give the same digest however they are cut.

An ingest key (``producer_id``, ``sequence``) names one call. A retry of that
call must be recognised, and a *different* call sent under a used key must be
refused, so the commit records a digest of the call's rows next to its key. The
digest is computed over the validated columns (the table's types, so a retry
from pandas and from Arrow agree) as one stream per column, and the stream does
not depend on how the rows were cut into batches or chunks: a retry with
another ``batch_rows`` gives the same digest.

Per column the stream holds the values in row order (NULL slots zeroed, since
Arrow leaves their bytes undefined), the global positions of NULLs, and for
strings and binaries the value lengths and bytes apart. xxh3-128 hashes it at
memory speed; the column digests, names and types and the row count are hashed
together at the end.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from hasivu_compute.storage.physical import is_offset_binary

_FIXED, _BINARY, _BOOL, _OTHER = range(4)


def _kind(dtype: pa.DataType) -> int:
    if pa.types.is_dictionary(dtype):
        return _kind(dtype.value_type)
    if is_offset_binary(dtype):
        return _BINARY
    if pa.types.is_boolean(dtype):
        return _BOOL
    return _FIXED if _fixed_width(dtype) else _OTHER


class _ColumnHasher:
    """The order-preserving stream of one column's values, NULL positions and lengths.

    The NULL and length streams get a hasher of their own only once they have
    something to say (a NULL seen, a string column): most columns of a call are
    null-free numbers, and three hashers each cost a third of the digest.
    """

    __slots__ = ("kind", "lengths", "nulls", "rows", "values")

    def __init__(self, dtype: pa.DataType) -> None:
        self.kind = _kind(dtype)
        self.values = xxhash.xxh3_128()
        self.nulls: Any = None
        self.lengths: Any = xxhash.xxh3_128() if self.kind == _BINARY else None
        self.rows = 0

    def update(self, arr: pa.Array) -> None:
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        valid = None
        if arr.null_count:
            valid = arr.is_valid().to_numpy(zero_copy_only=False)
            positions = np.flatnonzero(~valid).astype(np.int64) + self.rows
            if self.nulls is None:
                self.nulls = xxhash.xxh3_128()
            self.nulls.update(positions.tobytes())
        kind = self.kind
        if kind == _FIXED:
            self.values.update(_fixed_bytes(arr, valid))
        elif kind == _BINARY:
            if valid is not None:
                arr = pc.fill_null(arr, pa.scalar(b"" if _is_bytes(arr.type) else "", arr.type))
            self._update_binary(arr)
        elif kind == _BOOL:
            if valid is not None:
                arr = pc.fill_null(arr, False)
            self.values.update(arr.to_numpy(zero_copy_only=False).astype(np.uint8).tobytes())
        else:  # nested or exotic types: their Python values, in order (slow, rare)
            self.values.update(repr(arr.to_pylist()).encode("utf-8"))
        self.rows += len(arr)

    def _update_binary(self, arr: pa.Array) -> None:
        large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
        dtype = np.int64 if large else np.int32
        offsets = np.frombuffer(arr.buffers()[1], dtype=dtype)[
            arr.offset : arr.offset + len(arr) + 1
        ]
        self.lengths.update(np.diff(offsets).astype(np.int64).tobytes())
        data = arr.buffers()[2]
        if data is not None and len(offsets):
            self.values.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])

    def digest(self) -> bytes:
        out = self.values.digest()
        if self.nulls is not None:
            out += b"N" + self.nulls.digest()
        if self.lengths is not None:
            out += b"L" + self.lengths.digest()
        return out


def _fixed_width(dtype: pa.DataType) -> bool:
    try:
        return dtype.bit_width % 8 == 0 and not pa.types.is_nested(dtype)
    except ValueError:  # no fixed bit width
        return False


def _fixed_bytes(arr: pa.Array, valid: np.ndarray[Any, Any] | None) -> bytes | memoryview:
    """The values buffer of a fixed-width array, NULL slots zeroed (their bytes are undefined)."""
    width = arr.type.bit_width // 8
    buf = arr.buffers()[1]
    if buf is None or len(arr) == 0:
        return b""
    raw = memoryview(buf)[arr.offset * width : (arr.offset + len(arr)) * width]
    if valid is None:
        return raw
    values = np.frombuffer(raw, dtype=np.uint8).reshape(len(arr), width).copy()
    values[~valid] = 0
    return values.tobytes()


def _is_bytes(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype))


class CallDigest:
    """Digest of one call's validated batches, fed in order (see module docstring).

    Example:
        >>> import pyarrow as pa
        >>> t = pa.table({"a": [1, 2, 3], "s": ["x", None, "z"]})
        >>> one, two = CallDigest(), CallDigest()
        >>> one.update(t)
        >>> two.update(t.slice(0, 1)); two.update(t.slice(1))
        >>> one.hexdigest() == two.hexdigest()
        True
    """

    def __init__(self) -> None:
        self._columns: list[_ColumnHasher] | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0

    def update(self, table: pa.Table | pa.RecordBatch) -> None:
        """Add the next rows of the call (columns in the table's order and types)."""
        if self._columns is None:
            self._schema = table.schema
            self._columns = [_ColumnHasher(f.type) for f in table.schema]
        for hasher, column in zip(self._columns, table.columns, strict=True):
            chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
            for chunk in chunks:
                hasher.update(chunk)
        self.rows += table.num_rows

    def hexdigest(self) -> str:
        """32 hex digits naming the rows fed so far (and their column names and types)."""
        final = xxhash.xxh3_128()
        final.update(str(self.rows).encode())
        if self._schema is not None and self._columns is not None:
            for field, hasher in zip(self._schema, self._columns, strict=True):
                final.update(f"{field.name}:{field.type}".encode())
                final.update(hasher.digest())
        return final.hexdigest()


def digest_of(table: pa.Table) -> str:
    """The :class:`CallDigest` of one table."""
    digest = CallDigest()
    digest.update(table)
    return digest.hexdigest()


__all__ = ["CallDigest", "digest_of"]
