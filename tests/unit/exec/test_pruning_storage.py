"""Pruning on real segments (zone maps + bloom filters) never drops a matching row."""

from __future__ import annotations

import os
import tempfile

from hc_fixtures import assert_same_bag
from hc_strategies import PARTITIONINGS, SCHEMA, predicates, tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasivu_compute.exec import execute, prepare
from hasivu_compute.exec.operators import filter_table
from hasivu_compute.expr import Expr
from hasivu_compute.plan import LogicalPlanBuilder, Scan, walk
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table import Catalog

# Blooms on b (field 2) and s (field 4) so equality / IN probes are exercised.
OPTIONS = WriteOptions(chunk_rows=4, bloom_columns=frozenset({2, 4}))


@settings(
    max_examples=int(os.environ.get("HC_PROPERTY_EXAMPLES", "40")) // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    data=tables(max_rows=24),
    partitioning=st.sampled_from(PARTITIONINGS),
    pred=predicates(["p", "b", "c", "s"], depth=2),
)
def test_no_skipped_chunk_holds_a_matching_row(data, partitioning, pred: Expr) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as root:
        cat = Catalog(FileIO.from_uri(root), write_options=OPTIONS)
        table = cat.create_table("t", SCHEMA, partitioning)
        half = data.num_rows // 2
        for part in (data.slice(0, half), data.slice(half)):
            if part.num_rows:
                table.append(part)
        plan = LogicalPlanBuilder.scan("t").filter(pred).plan
        plans = prepare(plan, cat)
        scan = next(n for n in walk(plans.optimized) if isinstance(n, Scan))
        assert scan.filter is not None and scan.files is not None
        kept = {sf.file.path: sf.chunks for sf in scan.files}
        snap = table.snapshot()
        for f in snap.data_files:
            segment = table.open_segment(f)
            for chunk in range(segment.num_chunks):
                chunks = kept.get(f.path, ())
                if chunks is None or chunk in chunks:
                    continue
                rows = table.read_file(f, snap, list(SCHEMA.names), [chunk])
                matching = filter_table(rows, scan.filter)
                assert matching.num_rows == 0, (
                    f"zone map / bloom skipped chunk {chunk} of {f.path} holding "
                    f"{matching.to_pylist()} for {scan.filter}"
                )
        assert_same_bag(execute(plan, cat), filter_table(table.read(), scan.filter))
