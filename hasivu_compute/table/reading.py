"""Read segment files under a (possibly newer) schema.

Segments store columns by field id with the types they were written with. A
reader asks for columns by their current names; this module maps names to ids
and fills the gaps schema evolution leaves: a column added after the file was
written reads as nulls, a widened column is cast up, a renamed one simply has a
new name, a dropped one is never requested.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pyarrow as pa

from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.storage.block import dictionary_type
from hasivu_compute.storage.segment import SegmentReader


def read_segment(
    reader: SegmentReader,
    schema: TableSchema,
    columns: Sequence[str] | None = None,
    chunks: Sequence[int] | None = None,
    dictionary: Collection[str] = (),
) -> pa.Table:
    """Columns (current names; all by default) of one segment, typed as in ``schema``.

    String/binary columns named in ``dictionary`` are returned as
    ``dictionary<int32, type>`` (see :func:`read_type`).
    """
    names = list(schema.names) if columns is None else list(columns)
    fields = [schema.field(n) for n in names]
    present = set(reader.field_ids)
    wanted = [f.id for f in fields if f.id in present]
    as_dict = {schema.field(n).id for n in dictionary}
    if chunks is None:
        num_rows = reader.num_rows
    else:
        counts = reader.chunk_row_counts()
        num_rows = sum(counts[c] for c in chunks)
    stored = reader.read(wanted, chunks, as_dict) if wanted else None
    arrays: list[pa.Array | pa.ChunkedArray] = []
    out_fields = []
    for f in fields:
        kind = read_type(f.type, f.id in as_dict)
        out_fields.append(f.to_arrow().with_type(kind))
        if f.id in present and stored is not None:
            col = stored.column(str(f.id))
            arrays.append(col if col.type == kind else col.cast(kind))
        else:
            arrays.append(pa.nulls(num_rows, type=f.type).cast(kind))
    return pa.Table.from_arrays(arrays, schema=pa.schema(out_fields))


def read_type(dtype: pa.DataType, as_dictionary: bool) -> pa.DataType:
    """The Arrow type a column of ``dtype`` is read as (dictionary form when asked and possible)."""
    if not as_dictionary:
        return dtype
    return dictionary_type(dtype) or dtype
