"""Routing rows to partitions: every row lands exactly once, in its own partition."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute.schema.partition import PartitionSpec, apply_transform
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.table.metadata import Snapshot
from hasivu_compute.table.writing import split_by_partition

SCHEMA = TableSchema.from_arrow(
    pa.schema([("k", pa.int64()), ("s", pa.string()), ("d", pa.date32()), ("row", pa.int64())])
)
SPECS = [
    [("k", "bucket[3]"), "s"],
    ["s", ("d", "month")],
    [("d", "day")],
    [("k", "bucket[1000]"), ("s", "bucket[7]"), ("d", "month")],
]


def snapshot(spec_index: int) -> Snapshot:
    spec = PartitionSpec.build(SCHEMA, SPECS[spec_index])
    return Snapshot(1, None, 0, SCHEMA, spec, (), {}, {}, 4)


rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(-50, 50)),
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""])),
        st.one_of(st.none(), st.dates(dt.date(1960, 1, 1), dt.date(2030, 12, 31))),
    ),
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(data=rows, spec_index=st.integers(0, len(SPECS) - 1))
def test_every_row_lands_once_in_its_partition(data: list[tuple], spec_index: int) -> None:
    snap = snapshot(spec_index)
    table = pa.table(
        {
            "k": pa.array([r[0] for r in data], pa.int64()),
            "s": pa.array([r[1] for r in data], pa.string()),
            "d": pa.array([r[2] for r in data], pa.date32()),
            "row": pa.array(range(len(data)), pa.int64()),
        }
    )
    seen: list[int] = []
    keys = set()
    for key, part in split_by_partition(table, snap):
        assert part.num_rows > 0
        assert key not in keys, "one group per partition"
        keys.add(key)
        for pf, value in zip(snap.spec.fields, key, strict=True):
            source = SCHEMA.by_id(pf.source_id).name
            got = apply_transform(pf.transform, part.column(source)).to_pylist()
            assert got == [value] * part.num_rows
        seen.extend(part.column("row").to_pylist())
    assert sorted(seen) == list(range(len(data)))
