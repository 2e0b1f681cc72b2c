"""The join kernel and plan, in one process, against DuckDB on the same rows.

Random small tables (keys with NULLs and duplicates, empty sides, float keys with
NaN and -0.0, string keys) joined every way; the pair-blocking of key-less joins
is exercised with a tiny block.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hc_fixtures import assert_same_bag
from hc_memtable import MemCatalog

from hasivu_compute._core.errors import BindError, PlanError
from hasivu_compute.exec import execute
from hasivu_compute.exec import join as join_module
from hasivu_compute.expr import col
from hasivu_compute.plan.binder import bind_plan, output_schema
from hasivu_compute.plan.nodes import Join, Scan
from hasivu_compute.plan.source import CatalogSource
from hasivu_compute.sql import to_plan

TYPES = ("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "SEMI JOIN", "ANTI JOIN")


def _tables(seed: int, n_left: int, n_right: int) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)

    def side(n: int, prefix: str) -> pa.Table:
        k = rng.integers(0, 6, size=n)
        s = rng.choice(np.array(["x", "y", "z", ""], dtype=object), size=n)
        f = rng.choice(np.array([0.0, -0.0, 1.5, np.nan, 2.0]), size=n)
        return pa.table(
            {
                f"{prefix}k": pa.array(k, mask=rng.random(n) < 0.15, type=pa.int64()),
                f"{prefix}s": pa.array(s, mask=rng.random(n) < 0.1, type=pa.string()),
                f"{prefix}f": pa.array(f, mask=rng.random(n) < 0.1, type=pa.float64()),
                f"{prefix}v": pa.array(rng.integers(-50, 50, size=n), type=pa.int32()),
            }
        )

    return side(n_left, "a"), side(n_right, "b")


def _catalog(left: pa.Table, right: pa.Table) -> MemCatalog:
    cat = MemCatalog()
    spec = [("ak", "identity")] if pa.types.is_integer(left.schema.field("ak").type) else []
    lt = cat.create_table("l", left.schema, spec, chunk_rows=3)
    lt.append(left.slice(0, left.num_rows // 2))
    lt.append(left.slice(left.num_rows // 2))
    cat.create_table("r", right.schema, (), chunk_rows=4).append(right)
    return cat


def _check(cat: MemCatalog, left: pa.Table, right: pa.Table, sql: str) -> pa.Table:
    schemas = {"l": left.schema, "r": right.schema}
    ours = execute(to_plan(sql, schema=schemas), cat)
    duck = duckdb.connect()
    duck.register("l", left)
    duck.register("r", right)
    expected = duck.sql(sql).to_arrow_table()
    assert_same_bag(ours, expected)
    return ours


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", TYPES)
def test_every_join_type_on_random_keys_matches_duckdb(seed: int, kind: str) -> None:
    sizes = [(40, 30), (0, 12), (15, 0), (25, 25), (1, 40), (33, 7)][seed]
    left, right = _tables(seed, *sizes)
    cat = _catalog(left, right)
    out = "l.*" if kind in ("SEMI JOIN", "ANTI JOIN") else "l.*, r.*"
    for on in ("l.ak = r.bk", "l.as = r.bs", "l.af = r.bf", "l.ak = r.bk AND l.as = r.bs"):
        _check(cat, left, right, f"SELECT {out} FROM l {kind} r ON {on}")
        _check(cat, left, right, f"SELECT {out} FROM l {kind} r ON {on} AND l.av < r.bv")


@pytest.mark.parametrize("kind", TYPES)
def test_joins_without_equal_keys_test_every_pair_in_blocks(monkeypatch, kind: str) -> None:
    monkeypatch.setattr(join_module, "PAIR_BLOCK", 7)  # many blocks, a partial last one
    left, right = _tables(99, 23, 17)
    cat = _catalog(left, right)
    out = "l.*" if kind in ("SEMI JOIN", "ANTI JOIN") else "l.*, r.*"
    _check(cat, left, right, f"SELECT {out} FROM l {kind} r ON l.av < r.bv")
    _check(cat, left, right, f"SELECT {out} FROM l {kind} r ON l.ak = r.bk OR l.av > r.bv")


def test_cross_join_pairs_every_row() -> None:
    left, right = _tables(5, 9, 4)
    out = _check(_catalog(left, right), left, right, "SELECT * FROM l CROSS JOIN r")
    assert out.num_rows == 36


def test_float_keys_compare_by_value() -> None:
    left = pa.table({"ak": [0.0, -0.0, float("nan"), None, 1.0], "x": list(range(5))})
    right = pa.table({"bk": [-0.0, float("nan"), None, 2.0]})
    out = _check(
        _catalog(left, right), left, right, "SELECT l.x, r.bk FROM l JOIN r ON l.ak = r.bk"
    )
    assert sorted(out.column("x").to_pylist()) == [0, 1, 2], "0.0 = -0.0 and NaN = NaN"


def _bound(plan, cat: MemCatalog):
    return bind_plan(plan, CatalogSource(cat).resolve)


def test_join_binding_coerces_keys_and_marks_the_outer_side_nullable() -> None:
    left = pa.table({"ak": pa.array([1], pa.int32()), "av": pa.array([1], pa.int64())})
    right = pa.table({"bk": pa.array([1], pa.int64())})
    cat = MemCatalog()
    cat.create_table("l", pa.schema([pa.field("ak", pa.int32(), False), ("av", pa.int64())]))
    cat.create_table("r", pa.schema([pa.field("bk", pa.int64(), False)]))
    del left, right
    plan = Join(Scan("l"), Scan("r"), "left", (col("ak"),), (col("bk"),))
    bound = _bound(plan, cat)
    assert bound.left_keys[0].dtype == pa.int64(), "the int32 key is cast to int64"
    schema = output_schema(bound)
    assert schema.field("ak").nullable is False and schema.field("bk").nullable is True
    full = output_schema(
        _bound(Join(Scan("l"), Scan("r"), "full", (col("ak"),), (col("bk"),)), cat)
    )
    assert full.field("ak").nullable and full.field("bk").nullable
    semi = output_schema(
        _bound(Join(Scan("l"), Scan("r"), "semi", (col("ak"),), (col("bk"),)), cat)
    )
    assert semi.names == ["ak", "av"]


def test_join_mistakes_in_plans_are_typed() -> None:
    cat = MemCatalog()
    cat.create_table("l", pa.schema([("k", pa.int64()), ("s", pa.string())]))
    cat.create_table("r", pa.schema([("k", pa.int64()), ("d", pa.date32())]))
    with pytest.raises(BindError, match=r"\['k'\] are on both sides"):
        _bound(Join(Scan("l"), Scan("r"), "inner", (col("k"),), (col("k"),)), cat)
    with pytest.raises(BindError, match="do not compare"):
        _bound(Join(Scan("l"), Scan("r", columns=("d",)), "semi", (col("s"),), (col("d"),)), cat)
    with pytest.raises(PlanError, match="how must be one of"):
        Join(Scan("l"), Scan("r"), "outer")
    with pytest.raises(PlanError, match="1 left keys but 0 right keys"):
        Join(Scan("l"), Scan("r"), "inner", (col("k"),), ())
    with pytest.raises(PlanError, match="cross join takes no keys"):
        Join(Scan("l"), Scan("r"), "cross", (col("k"),), (col("k"),))


def _optimized(sql: str, cat: MemCatalog, schemas: dict, buffered=None):
    from hasivu_compute.plan.optimizer import OptimizerContext, optimize

    source = CatalogSource(cat, buffered)
    bound = bind_plan(to_plan(sql, schema=schemas), source.resolve)
    return optimize(bound, OptimizerContext(source=source))


def _strategy_catalog() -> tuple[MemCatalog, dict]:
    big, small = _tables(3, 60, 6)
    cat = _catalog(big, small)
    return cat, {"l": big.schema, "r": small.schema}


def test_the_small_side_is_broadcast_and_an_inner_join_is_turned_around_for_it() -> None:
    from hasivu_compute.plan.render import render

    cat, schemas = _strategy_catalog()
    text = render(_optimized("SELECT l.av, r.bv FROM l JOIN r ON l.ak = r.bk", cat, schemas))
    assert "strategy=broadcast build_rows<=6" in text, text
    turned = render(_optimized("SELECT l.av, r.bv FROM r JOIN l ON l.ak = r.bk", cat, schemas))
    assert "strategy=broadcast build_rows<=6" in turned, "the small left side became the build"
    right = render(_optimized("SELECT l.av FROM r RIGHT JOIN l ON l.ak = r.bk", cat, schemas))
    assert "Join left" in right and "strategy=broadcast" in right, right
    full = render(_optimized("SELECT l.av FROM l FULL JOIN r ON l.ak = r.bk", cat, schemas))
    assert "strategy=gather" in full, "a full join keeps unmatched build rows: gathered"


def test_rows_still_in_the_log_buffer_count_in_the_estimate(monkeypatch) -> None:
    from hasivu_compute.plan.optimizer.rules import join_strategy
    from hasivu_compute.plan.render import render

    cat, schemas = _strategy_catalog()
    sql = "SELECT l.av, r.bv FROM l JOIN r ON l.ak = r.bk"
    monkeypatch.setattr(join_strategy, "BROADCAST_ROWS", 100)
    buffered = {"l": 0, "r": 500}
    text = render(_optimized(sql, cat, schemas, lambda t: buffered[t]))
    assert "build_rows<=60" in text, "r holds 506 rows with its buffer: l (60) is the build"
    buffered["r"] = 5_000
    buffered["l"] = 5_000
    assert "strategy=gather" in render(_optimized(sql, cat, schemas, lambda t: buffered[t]))


def test_a_comma_join_written_badly_is_ordered_by_size_and_stays_exact() -> None:
    """``FROM s, m, b`` where s and m share no key: as written, s x m would be a cross
    join; ordered by size, b (the largest) probes and every join has a key."""
    from hasivu_compute.plan.render import render

    big, small = _tables(11, 60, 8)
    mid = pa.table({"mk": pa.array(range(10), pa.int64()), "mv": pa.array(range(10), pa.int32())})
    cat = _catalog(big, small)
    cat.create_table("m", mid.schema, (), chunk_rows=4).append(mid)
    schemas = {"l": big.schema, "r": small.schema, "m": mid.schema}
    sql = "SELECT r.bs, m.mv, l.av FROM r, m, l WHERE l.ak = r.bk AND l.av = m.mv AND r.bv > -40"
    text = render(_optimized(sql, cat, schemas))
    assert "cross" not in text, text
    first_scan = text[text.index("Scan") :].split("\n")[0]
    assert first_scan.startswith("Scan l"), "the largest input is the probe side\n" + text
    ours = execute(to_plan(sql, schema=schemas), cat)
    duck = duckdb.connect()
    duck.register("l", big)
    duck.register("r", small)
    duck.register("m", mid)
    assert_same_bag(ours, duck.sql(sql).to_arrow_table())
    assert ours.column_names == ["bs", "mv", "av"], "the columns keep the order written"
