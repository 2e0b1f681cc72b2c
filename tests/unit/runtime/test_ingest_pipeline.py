"""Exactly-once ingest on the driver side: order, backpressure, retries, bad batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import SchemaMismatchError
from hasivu_compute.runtime.ingest import iter_user_batches, split_rows, to_arrow_table
from hasivu_compute.runtime.ingest_pipeline import IngestPipeline
from hasivu_compute.runtime.values import CommitAck, WrittenBatch


class FakeLog:
    """A table's commit log: files per version plus each producer's last sequence."""

    def __init__(self) -> None:
        self.commits: list[tuple[list[Any], int]] = []
        self.last: int | None = None

    def commit(self, files: Sequence[Any], sequence: int) -> CommitAck:
        if self.last is not None and sequence <= self.last:
            return CommitAck("t", len(self.commits), 0, duplicate=True)
        self.commits.append((list(files), sequence))
        self.last = sequence
        return CommitAck("t", len(self.commits), sum(f[1] for f in files), duplicate=False)


class OutOfOrderWriter:
    """Finishes batches in reverse submission order (what parallel actors may do)."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.handles: list[int] = []
        self.fail_on = fail_on
        self.submitted: list[int] = []

    def submit(self, sequence: int, batch: pa.Table) -> Any:
        self.submitted.append(sequence)
        return (sequence, batch.num_rows)

    def done(self, handle: Any) -> bool:
        return handle[0] % 2 == 1  # odd sequences finish "first"

    def result(self, handle: Any) -> WrittenBatch:
        sequence, rows = handle
        if sequence == self.fail_on:
            raise SchemaMismatchError("column 'x' row 3: expected int64", column="x", row=3)
        return WrittenBatch(sequence, ((f"file-{sequence}", rows),), rows)


def _batches(n: int, rows: int = 10) -> Iterator[pa.Table]:
    for i in range(n):
        yield pa.table({"x": pa.array(range(i * rows, (i + 1) * rows), pa.int64())})


def _run(log: FakeLog, writer: Any, n: int, **kw: Any):
    pipe = IngestPipeline("t", "p", writer, log.commit, log.last, **kw)
    return pipe, pipe.run(_batches(n))


def test_commits_follow_sequence_order_even_if_writes_finish_out_of_order() -> None:
    log = FakeLog()
    _, result = _run(log, OutOfOrderWriter(), 7, max_inflight=3)
    seqs = [s for _, s in log.commits]
    assert seqs == sorted(seqs)
    files = [f[0] for files, _ in log.commits for f in files]
    assert files == [f"file-{i}" for i in range(7)], "every batch exactly once, in order"
    assert (result.rows, result.batches, result.skipped_batches) == (70, 7, 0)


def test_inflight_batches_are_bounded() -> None:
    pipe, _ = _run(FakeLog(), OutOfOrderWriter(), 20, max_inflight=2)
    assert pipe.max_seen_inflight <= 2


def test_retried_call_skips_committed_batches_without_writing() -> None:
    log = FakeLog()
    _run(log, OutOfOrderWriter(), 5)
    writer = OutOfOrderWriter()
    _, again = _run(log, writer, 5)
    assert writer.submitted == [], "already committed batches must not be sent again"
    assert (again.rows, again.skipped_batches, again.skipped_rows) == (0, 5, 50)
    assert len(log.commits) == 1 or sum(len(f) for f, _ in log.commits) == 5


def test_resume_after_partial_failure_adds_only_the_rest() -> None:
    log = FakeLog()
    with pytest.raises(SchemaMismatchError) as info:
        _run(log, OutOfOrderWriter(fail_on=3), 6, max_inflight=2)
    assert "batch 3" in str(info.value) and info.value.column == "x" and info.value.row == 3
    assert log.last == 2, "batches before the bad one are committed, nothing after it"
    _, result = _run(log, OutOfOrderWriter(), 6)
    assert result.skipped_batches == 3 and result.rows == 30
    files = [f[0] for files, _ in log.commits for f in files]
    assert files == [f"file-{i}" for i in range(6)]


def test_conversions_and_splitting() -> None:
    import pandas as pd

    table = to_arrow_table(pd.DataFrame({"a": [1, 2, 3]}))
    assert table.column_names == ["a"]
    parts = list(split_rows(pa.table({"a": list(range(10))}), 4))
    assert [p.num_rows for p in parts] == [4, 4, 2]
    batches = list(iter_user_batches(iter([pa.record_batch({"a": [1]}), {"a": [2]}])))
    assert [b.num_rows for b in batches] == [1, 1]
    with pytest.raises(SchemaMismatchError):
        list(iter_user_batches(42))
