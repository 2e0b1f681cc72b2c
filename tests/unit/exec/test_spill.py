"""Joins over the memory budget spill hash parts to disk and still give DuckDB's answer,
for every join type, with NULL, duplicate, skewed, string and float keys; the spill
folder is gone afterwards, also when the join fails half-way."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from hasivu_compute.exec import spill
from hasivu_compute.exec.spill import JoinBudget, SpillStats, join_within_budget
from hasivu_compute.expr import col
from hasivu_compute.plan.binder import bind_plan
from hasivu_compute.plan.nodes import Join, Scan


def _tables(n: int, keys: int, seed: int, skew: bool = False) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)

    def side(rows: int, tag: str) -> pa.Table:
        k = rng.integers(0, keys, rows)
        if skew:
            k[rng.random(rows) < 0.7] = 7  # one key holds most rows
        mask = rng.random(rows) < 0.05
        return pa.table(
            {
                f"{tag}k": pa.array(k, pa.int64(), mask=mask),
                f"{tag}s": pa.array([f"s{v}" for v in k], mask=rng.random(rows) < 0.05),
                f"{tag}f": pa.array((k % 13).astype(np.float64) / 2),
                f"{tag}v": pa.array(rng.normal(size=rows)),
            }
        )

    return side(n, "l"), side(n // 2, "r")


def _join(left: pa.Table, right: pa.Table, how: str, keys: list[tuple[str, str]]) -> Join:
    node = Join(
        Scan("l"),
        Scan("r"),
        how,
        tuple(col(a) for a, _ in keys),
        tuple(col(b) for _, b in keys),
    )
    schemas = {"l": left.schema, "r": right.schema}
    bound = bind_plan(node, lambda name, version: schemas[name])
    assert isinstance(bound, Join)
    return bound


def _duck(left: pa.Table, right: pa.Table, how: str, keys: list[tuple[str, str]]) -> pa.Table:
    con = duckdb.connect()
    con.register("l", left)
    con.register("r", right)
    on = " AND ".join(f"l.{a} = r.{b}" for a, b in keys)
    if how in ("semi", "anti"):
        word = "EXISTS" if how == "semi" else "NOT EXISTS"
        return con.sql(
            f"SELECT * FROM l WHERE {word} (SELECT 1 FROM r WHERE {on})"
        ).to_arrow_table()
    return con.sql(f"SELECT * FROM l {how.upper()} JOIN r ON {on}").to_arrow_table()


def _rows(table: pa.Table) -> list[tuple]:
    return sorted(zip(*(c.to_pylist() for c in table.columns), strict=True), key=repr)


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "semi", "anti"])
@pytest.mark.parametrize(
    "keys",
    [[("lk", "rk")], [("ls", "rs")], [("lf", "rf"), ("lk", "rk")]],
    ids=["int", "str", "float+int"],
)
def test_spilled_join_equals_duckdb(tmp_path, how: str, keys) -> None:
    left, right = _tables(20_000, 3_000, seed=len(how) + len(keys))
    node = _join(left, right, how, keys)
    stats = SpillStats()
    budget = JoinBudget(max_bytes=right.nbytes // 6, spill_dir=str(tmp_path))
    out = join_within_budget(left, right, node, budget, stats)
    assert stats.parts >= 8 and stats.bytes_written > 0, "the build side went to disk"
    assert _rows(out) == _rows(_duck(left, right, how, keys))
    assert list(tmp_path.iterdir()) == [], "no spill file is left behind"


def test_skewed_keys_are_cut_again_and_still_exact(tmp_path) -> None:
    left, right = _tables(1_500, 500, seed=3, skew=True)  # the hot key: ~0.5M pairs
    node = _join(left, right, "left", [("lk", "rk")])
    stats = SpillStats()
    out = join_within_budget(left, right, node, JoinBudget(right.nbytes // 8, str(tmp_path)), stats)
    assert stats.levels == spill.MAX_LEVELS, "the hot key's part was cut as far as allowed"
    assert _rows(out) == _rows(_duck(left, right, "left", [("lk", "rk")]))
    assert list(tmp_path.iterdir()) == []


def test_within_budget_nothing_is_written(tmp_path) -> None:
    left, right = _tables(2_000, 100, seed=5)
    stats = SpillStats()
    node = _join(left, right, "inner", [("lk", "rk")])
    join_within_budget(left, right, node, JoinBudget(right.nbytes * 2, str(tmp_path)), stats)
    assert stats.parts == 0 and list(tmp_path.iterdir()) == []


def test_a_join_failing_half_way_removes_its_spill_files(tmp_path, monkeypatch) -> None:
    from hasivu_compute.exec import join as join_module

    left, right = _tables(20_000, 3_000, seed=9)
    node = _join(left, right, "inner", [("lk", "rk")])
    calls = {"n": 0}
    real = join_module.join_tables

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError("simulated: the third part does not fit")
        return real(*args, **kwargs)

    monkeypatch.setattr(join_module, "join_tables", failing)
    with pytest.raises(MemoryError):
        join_within_budget(
            left, right, node, JoinBudget(right.nbytes // 6, str(tmp_path)), SpillStats()
        )
    assert calls["n"] == 3
    assert list(tmp_path.iterdir()) == []
