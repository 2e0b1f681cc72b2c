"""One ingest call on the driver side: all or nothing, keyed, bounded, out-of-order writers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import IngestKeyConflictError, SchemaMismatchError
from hasivu_compute.runtime.ingest import iter_user_batches, split_rows, to_arrow_table
from hasivu_compute.runtime.ingest_pipeline import CallSpec, IngestPipeline, Slice
from hasivu_compute.runtime.values import CommitAck, WrittenBatch
from hasivu_compute.table.producers import CallKey, ProducerRecord

SCHEMA = pa.schema([("x", pa.int64())])


class FakeTable:
    """A table's commit log: files per version plus each producer's record."""

    def __init__(self) -> None:
        self.commits: list[list[Any]] = []
        self.producers: dict[str, ProducerRecord] = {}
        self.deleted: list[Any] = []

    def commit(self, files: Sequence[Any], key: CallKey | None) -> CommitAck:
        from hasivu_compute.table.producers import CommittedCall

        if key is not None:
            record = self.producers.get(key.producer_id, ProducerRecord())
            found = record.check(key, "t")
            if found is not None:
                return CommitAck("t", found.version, 0, duplicate=True)
            call = CommittedCall(key.sequence, key.digest, key.rows, len(self.commits) + 1)
            self.producers[key.producer_id] = record.with_call(call)
        self.commits.append(list(files))
        return CommitAck("t", len(self.commits), sum(f[1] for f in files), duplicate=False)

    def committed(self, producer: str, sequence: int) -> Any:
        return self.producers.get(producer, ProducerRecord()).lookup(producer, sequence, "t")

    def rows(self) -> int:
        return sum(f[1] for files in self.commits for f in files)


class OutOfOrderWriter:
    """Finishes batches out of submission order (what parallel actors may do)."""

    def __init__(self, table: FakeTable, fail_on: int | None = None) -> None:
        self.table = table
        self.fail_on = fail_on
        self.submitted: list[int] = []
        self.written: list[Any] = []

    def submit(self, index: int, batch: pa.Table) -> Any:
        self.submitted.append(index)
        return (index, batch.num_rows)

    def done(self, handle: Any) -> bool:
        return handle[0] % 2 == 1  # odd batches finish "first"

    def result(self, handle: Any) -> WrittenBatch:
        index, rows = handle
        if index == self.fail_on:
            raise SchemaMismatchError("column 'x' row 3: expected int64", column="x", row=3)
        files = ((f"file-{index}-{len(self.written)}", rows),)
        self.written.extend(files)
        return WrittenBatch(index, files, rows)

    def discard(self, files: Sequence[Any]) -> None:
        self.table.deleted.extend(files)


def _batches(n: int, rows: int = 10, start: int = 0) -> Iterator[pa.Table]:
    for i in range(n):
        lo = start + i * rows
        yield pa.table({"x": pa.array(range(lo, lo + rows), pa.int64())})


def _validate(batch: pa.Table, offset: int) -> pa.Table:
    from hasivu_compute.schema.schema import TableSchema
    from hasivu_compute.table.validate import validate_batch

    return validate_batch(TableSchema.from_arrow(SCHEMA), batch, offset)


def _run(table: FakeTable, batches: Any, producer: str | None = "p", seq: int | None = 0, **kw):
    writer = kw.pop("writer", None) or OutOfOrderWriter(table)
    committed = None if producer is None else table.committed(producer, seq)
    pipe = IngestPipeline(
        CallSpec("t", producer, seq, committed), writer, table.commit, _validate, **kw
    )
    return pipe, writer, pipe.run(iter(batches))


def test_a_call_commits_once_with_every_batch_even_if_writes_finish_out_of_order() -> None:
    table = FakeTable()
    _, _, result = _run(table, _batches(7), max_inflight=3)
    assert len(table.commits) == 1, "one call is one commit"
    assert sorted(f[0].split("-")[1] for f in table.commits[0]) == sorted(map(str, range(7)))
    assert (result.rows, result.batches, result.duplicate, result.version) == (70, 7, False, 1)


def test_inflight_batches_are_bounded() -> None:
    pipe, _, _ = _run(FakeTable(), _batches(20), max_inflight=2)
    assert pipe.max_seen_inflight <= 2


def test_a_retry_is_recognised_whatever_its_batching_and_writes_nothing() -> None:
    table = FakeTable()
    _run(table, _batches(5))
    one = pa.concat_tables(list(_batches(5)))
    for cut in ([one], [one.slice(0, 7), one.slice(7)], list(_batches(25, rows=2))):
        writer = OutOfOrderWriter(table)
        _, _, again = _run(table, cut, writer=writer)
        assert writer.submitted == [], "a committed call must not be written again"
        assert (again.rows, again.duplicate, again.duplicate_rows, again.version) == (
            0,
            True,
            50,
            1,
        )
    assert table.rows() == 50


def test_the_next_call_under_the_same_producer_writes_all_its_rows() -> None:
    table = FakeTable()
    for seq in range(40):
        _, _, result = _run(table, _batches(1, rows=25, start=seq * 25), seq=seq)
        assert result.rows == 25 and not result.duplicate
    assert table.rows() == 1000, "no call under a reused producer id may vanish"


def test_other_rows_under_a_used_key_are_refused_and_nothing_is_written() -> None:
    table = FakeTable()
    _run(table, _batches(2))
    writer = OutOfOrderWriter(table)
    with pytest.raises(IngestKeyConflictError) as info:
        _run(table, _batches(2, start=1000), writer=writer)
    assert writer.submitted == [] and table.rows() == 20
    assert info.value.producer_id == "p" and info.value.sequence == 0 and info.value.version == 1
    assert "call 0" in str(info.value) and "sequence" in str(info.value)


def test_a_bad_batch_commits_nothing_and_deletes_what_was_written() -> None:
    table = FakeTable()
    good = list(_batches(4))
    bad = pa.table({"x": ["1", "2", "3", "four"]})
    with pytest.raises(SchemaMismatchError) as info:
        _run(table, [Slice(b, i) for i, b in enumerate([*good, bad])], max_inflight=2)
    assert "batch 4" in str(info.value) and info.value.row == 3, str(info.value)
    assert "nothing of this call was committed" in str(info.value)
    assert table.commits == [] and len(table.deleted) == 4, "written files of the call go"
    _, _, result = _run(table, good)
    assert result.rows == 40, "the same key is still free after a failed call"


def test_rows_are_named_in_the_callers_batch_when_it_was_sliced() -> None:
    table = FakeTable()
    whole = pa.table({"x": [str(i) for i in range(100)]})
    whole = whole.set_column(0, "x", pa.array([*map(str, range(57)), "oops", *map(str, range(42))]))
    slices = [Slice(whole.slice(o, 20), None, o) for o in range(0, 100, 20)]
    with pytest.raises(SchemaMismatchError) as info:
        _run(table, slices)
    assert info.value.row == 57 and "row 57" in str(info.value) and "batch" not in str(info.value)


def test_a_failed_write_deletes_the_files_and_names_the_batch() -> None:
    table = FakeTable()
    writer = OutOfOrderWriter(table, fail_on=3)
    with pytest.raises(SchemaMismatchError, match="batch 3"):
        _run(table, _batches(6), writer=writer, max_inflight=2)
    assert table.commits == []
    assert sorted(table.deleted) == sorted(writer.written), "every written file is deleted"


def test_anonymous_calls_are_never_deduplicated() -> None:
    table = FakeTable()
    _run(table, _batches(2), producer=None, seq=None)
    _, _, again = _run(table, _batches(2), producer=None, seq=None)
    assert again.rows == 20 and table.rows() == 40 and table.producers == {}


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
