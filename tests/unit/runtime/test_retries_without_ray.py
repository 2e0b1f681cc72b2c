"""Retry rules of scatter/gather and batch writing, with Ray replaced by a fake.

A dead shard's fragment goes to the next shard; when every attempt fails the
query raises QueryFailedError — a partial answer is never returned.  A dead
ingest actor's batch goes to the next actor; a bad batch is not retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from ray.exceptions import ActorDiedError

from hasivu_compute._core.errors import IngestError, QueryFailedError, SchemaMismatchError
from hasivu_compute.runtime import query as query_mod
from hasivu_compute.runtime import waits as waits_mod
from hasivu_compute.runtime import writers as writers_mod
from hasivu_compute.runtime.shard import FragmentStats
from hasivu_compute.runtime.values import WrittenBatch


@dataclass
class FakeActor:
    """An actor handle whose calls return tokens; ``dead`` actors fail every call."""

    index: int
    dead: bool = False
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def call(self) -> SimpleNamespace:
        return SimpleNamespace(remote=self._remote)

    def _remote(self, method: str, *args: Any) -> tuple[str, int, tuple[Any, ...]]:
        self.calls.append((method, *args))
        return ("ref", self.index, (method, *args))


class FakeRay:
    """``ray.get`` / ``ray.put`` / ``ray.wait`` over FakeActor tokens."""

    def __init__(self, actors: list[FakeActor], answer: Any) -> None:
        self.actors = actors
        self.answer = answer

    def get(self, ref: Any, timeout: float | None = None) -> Any:
        _, index, call = ref
        if self.actors[index].dead:
            raise ActorDiedError()
        return self.answer(index, call)

    def put(self, value: Any) -> Any:
        return value

    def wait(self, refs: list[Any], timeout: float = 0) -> tuple[list[Any], list[Any]]:
        return refs, []


def _stats(shard: int) -> FragmentStats:
    return FragmentStats(shard, 0.0, 1, 1, 8, 8, 1, 0, 1, 0)


def _task(shard: int) -> Any:
    fragment = SimpleNamespace(fragment_id=0, table="t", exchange_id=0)
    payload = b"fragment bytes"
    return query_mod._Task(fragment, payload, shard, ("ref", shard, ("run_encoded", payload)), 1)


def _runner(actors: list[FakeActor], monkeypatch: pytest.MonkeyPatch) -> Any:
    fake = FakeRay(actors, lambda index, call: (pa.table({"shard": [index]}), _stats(index)))
    monkeypatch.setattr(waits_mod, "ray", fake)
    monkeypatch.setattr(query_mod, "RETRY_BACKOFF_S", 0.0)
    return query_mod.QueryRunner(catalog=None, shards=actors, max_attempts=3)


def test_fragment_of_a_dead_shard_runs_on_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    actors = [FakeActor(0, dead=True), FakeActor(1), FakeActor(2)]
    runner = _runner(actors, monkeypatch)
    table, stats, retries = runner._wait(_task(0))
    assert table.column("shard").to_pylist() == [1] and stats.shard == 1 and retries == 1
    assert actors[1].calls and actors[1].calls[0] == ("run_encoded", b"fragment bytes")


def test_all_shards_dead_is_a_typed_error_not_a_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    actors = [FakeActor(i, dead=True) for i in range(3)]
    runner = _runner(actors, monkeypatch)
    with pytest.raises(QueryFailedError, match="no partial answer"):
        runner._wait(_task(0))


def _writer(actors: list[FakeActor], monkeypatch: pytest.MonkeyPatch, answer: Any) -> Any:
    monkeypatch.setattr(writers_mod, "ray", FakeRay(actors, answer))
    monkeypatch.setattr(waits_mod, "ray", FakeRay(actors, answer))
    return writers_mod.ActorBatchWriter(actors, "orders", lambda files: None, max_attempts=2)


def test_batch_of_a_dead_ingest_actor_goes_to_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    actors = [FakeActor(0, dead=True), FakeActor(1)]
    writer = _writer(actors, monkeypatch, lambda i, call: WrittenBatch(call[2], ("f",), 3))
    handle = writer.submit(0, pa.table({"a": [1, 2, 3]}))
    assert writer.done(handle)
    written = writer.result(handle)
    assert (written.index, written.rows, writer.retries) == (0, 3, 1)


def test_ingest_gives_up_with_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    actors = [FakeActor(0, dead=True), FakeActor(1, dead=True)]
    writer = _writer(actors, monkeypatch, lambda i, call: None)
    handle = writer.submit(4, pa.table({"a": [1]}))
    with pytest.raises(IngestError, match="batch 4"):
        writer.result(handle)


def test_typed_errors_inside_tasks_pass_through() -> None:
    from ray.exceptions import RayTaskError

    cause = SchemaMismatchError("column 'a' row 2: bad", column="a", row=2)
    wrapped = RayTaskError("write", "traceback", cause)
    assert writers_mod.unwrap_task_error(wrapped) is cause
