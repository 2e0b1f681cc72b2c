"""The driver's plan cache: repeated queries skip planning, and any table change is seen
by the very next query (new rows, new columns, a re-created table)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from hasivu_compute.runtime import query as query_mod
from hasivu_compute.runtime import waits as waits_mod
from hasivu_compute.runtime.coordinator import Coordinator, open_catalog
from hasivu_compute.runtime.fragments import FragmentDecoder
from hasivu_compute.runtime.ingest import IngestWorker
from hasivu_compute.runtime.plans import PlanCache
from hasivu_compute.runtime.shard import ShardWorker
from hasivu_compute.sql import to_plan
from hasivu_compute.table.current import CurrentSnapshots

SCHEMA = pa.schema([("school_id", pa.int32()), ("amount", pa.float64())])
SQL = "SELECT count(*) AS n, sum(amount) AS s FROM o WHERE school_id = 5"


class _LocalShard:
    """A shard actor handle whose calls run a ShardWorker in this process."""

    def __init__(self, worker: ShardWorker) -> None:
        self.worker = worker
        self.payloads: list[bytes] = []

    @property
    def call(self) -> SimpleNamespace:
        return SimpleNamespace(remote=self._remote)

    def _remote(self, method: str, *args: Any) -> Any:
        if method == "run_encoded":
            self.payloads.append(args[0])
        return getattr(self.worker, method)(*args)


class _LocalRay:
    @staticmethod
    def get(ref: Any, timeout: float | None = None) -> Any:
        return ref


class _Env:
    def __init__(self, data: str) -> None:
        self.data = data
        self.coordinator = Coordinator(data)
        self.worker = IngestWorker(data)
        self.seq = 0
        catalog = open_catalog(data)
        self.cache = PlanCache(CurrentSnapshots(catalog))
        self.shards = [_LocalShard(ShardWorker(data, 1 << 24, None, i)) for i in range(2)]
        self.runner = query_mod.QueryRunner(catalog, self.shards, plan_cache=self.cache)
        self.lowerings = 0

    def append(self, school_ids: list[int], amount: float) -> None:
        batch = pa.table(
            {
                "school_id": pa.array(school_ids, pa.int32()),
                "amount": np.full(len(school_ids), amount),
            }
        )
        written = self.worker.write("o", self.seq, batch)
        self.coordinator.commit("o", written.files)
        self.seq += 1

    def lower(self, text: str, schema: Any, today: Any = None) -> Any:
        self.lowerings += 1
        return to_plan(text, schema=schema, today=today)

    def sql(self, text: str = SQL) -> dict[str, list[Any]]:
        plan = self.cache.lowered(text, self.lower)
        return self.runner.execute(plan).to_pydict()  # type: ignore[no-any-return]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> _Env:
    monkeypatch.setattr(waits_mod, "ray", _LocalRay)
    out = _Env(str(tmp_path / "wh"))
    out.coordinator.create_table("o", SCHEMA, [("school_id", "bucket[4]")])
    out.append([5, 5, 6], 2.0)
    return out


def test_repeated_query_is_planned_once_and_sends_the_same_bytes(env: _Env) -> None:
    first = env.sql()
    assert first == {"n": [2], "s": [4.0]}
    assert env.sql() == first and env.sql() == first
    assert env.lowerings == 1, "same text and same columns: lowered once"
    assert (env.cache.misses, env.cache.hits) == (1, 2), "prepared once, reused twice"
    sent = [p for shard in env.shards for p in shard.payloads]
    assert len(sent) == 3 and len(set(sent)) == 1, "the fragment is serialized once"


def test_a_commit_is_seen_by_the_next_query(env: _Env) -> None:
    assert env.sql() == {"n": [2], "s": [4.0]}
    env.append([5, 7], 10.0)
    assert env.sql() == {"n": [3], "s": [14.0]}, "new rows must be visible at once"
    assert env.cache.misses == 2
    assert env.lowerings == 1, "a commit without a schema change keeps the lowered plan"


def test_a_schema_change_is_seen_by_the_next_query(env: _Env) -> None:
    text = "SELECT * FROM o WHERE school_id = 6"
    assert env.sql(text) == {"school_id": [6], "amount": [2.0]}
    open_catalog(env.data).load_table("o").add_column("note", pa.string())
    assert env.sql(text) == {"school_id": [6], "amount": [2.0], "note": [None]}
    assert env.lowerings == 2, "new column names: lowered again"


def test_a_recreated_table_is_not_answered_from_the_old_plan(env: _Env) -> None:
    assert env.sql() == {"n": [2], "s": [4.0]}
    env.coordinator.drop_table("o")
    for shard in env.shards:
        shard.worker.forget_table("o")
    env.coordinator.create_table("o", SCHEMA, [("school_id", "bucket[4]")])
    env.seq = 0
    env.append([5], 1.0)  # version 2 again, other content
    assert env.sql() == {"n": [1], "s": [1.0]}


def test_shards_never_told_of_a_drop_still_read_the_recreated_table(env: _Env) -> None:
    """Another connection drops and re-creates the table (its shards get no
    ``forget_table``): same name and version numbers, columns in another order."""
    assert env.sql() == {"n": [2], "s": [4.0]}
    env.coordinator.drop_table("o")
    swapped = pa.schema([("amount", pa.float64()), ("school_id", pa.int32())])
    env.coordinator.create_table("o", swapped, [("school_id", "bucket[4]")])
    written = env.worker.write("o", 0, pa.table({"amount": [1.5, 3.5], "school_id": [5, 5]}))
    env.coordinator.commit("o", written.files)  # version 2 again
    assert env.sql() == {"n": [2], "s": [5.0]}
    env.coordinator.commit(
        "o",
        env.worker.write("o", 1, pa.table({"amount": [9.0], "school_id": [5]})).files,
    )
    assert env.sql() == {"n": [3], "s": [14.0]}


def test_fragments_travel_without_zone_maps_and_decode_once(env: _Env) -> None:
    prepared = env.runner.prepare_query(env.cache.lowered(SQL, env.lower))
    (_shard, fragment, payload), *_ = prepared.tasks
    assert any(sf.file.stats for sf in fragment.files)
    decoder = FragmentDecoder()
    decoded = decoder.decode(payload)
    assert all(not sf.file.stats for sf in decoded.files), "zone maps stay on the driver"
    assert [sf.file.path for sf in decoded.files] == [sf.file.path for sf in fragment.files]
    assert decoder.decode(bytes(payload)) is decoded, "equal bytes: decoded once"


def test_a_plan_holding_current_date_is_lowered_again_the_next_day() -> None:
    """current_date is a literal of the plan (so every shard agrees): a cached plan must
    not answer tomorrow's query with today's date, and a plan without it stays cached."""
    import datetime as dt

    days = [dt.date(2024, 2, 28)]
    cache = PlanCache(SimpleNamespace(arrow_schema=lambda table: None), clock=lambda: days[0])  # type: ignore[arg-type]
    lowered: list[str] = []

    def lower(text: str, schema: Any, today: Any) -> Any:
        lowered.append(text)
        return to_plan(text, schema=schema, today=today)

    first = cache.lowered("SELECT current_date AS d", lower)
    assert cache.lowered("SELECT current_date AS d", lower) is first
    assert "2024-02-28" in str(first.exprs[0])  # type: ignore[attr-defined]
    cache.lowered("SELECT 1 AS one", lower)
    days[0] = dt.date(2024, 2, 29)
    second = cache.lowered("SELECT current_date AS d", lower)
    assert second is not first and "2024-02-29" in str(second.exprs[0])  # type: ignore[attr-defined]
    cache.lowered("SELECT 1 AS one", lower)
    assert lowered.count("SELECT 1 AS one") == 1, "a plan without current_date stays cached"


def test_a_query_without_from_and_the_new_functions_run_through_the_runtime(env: _Env) -> None:
    """SELECT without FROM has no fragment: the merge answers it on the driver."""
    import datetime as dt

    assert env.sql("SELECT 1 + 2 AS x, lpad('7', 3, '0') AS p") == {"x": [3], "p": ["007"]}
    today = dt.datetime.now(dt.UTC).date()
    assert env.sql("SELECT current_date AS d") == {"d": [today]}
    got = env.sql(
        "SELECT count(*) AS n, max(concat('s', school_id)) AS m FROM o "
        "WHERE school_id < greatest(6, 1)"
    )
    assert got == {"n": [2], "m": ["s5"]}
    joined = env.sql("SELECT o.school_id AS s FROM o, (SELECT 6 AS k) AS c WHERE o.school_id = c.k")
    assert joined == {"s": [6]}
