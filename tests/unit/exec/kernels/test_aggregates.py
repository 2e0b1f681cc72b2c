"""Aggregates: partial / combine / finalize over random splits equal the one-shot result
and DuckDB; sketch-based ones stay within their error bounds."""

from __future__ import annotations

import itertools
import math
import random

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import BindError
from hasivu_compute.exec import aggregate, split_aggregate
from hasivu_compute.expr import (
    AGGREGATES,
    Expr,
    aggregate_function,
    col,
    count,
)

from .conftest import SCHEMA, normalize, tables

EXACT: list[tuple[Expr, str]] = [
    (count().alias("n"), "count(*)"),
    (col("i").count().alias("n_i"), "count(i)"),
    (col("s").count_distinct().alias("cd_s"), "count(DISTINCT s)"),
    (col("j").count_distinct().alias("cd_j"), "count(DISTINCT j)"),
    (col("i").sum().alias("sum_i"), "sum(i)"),
    (col("f").sum().alias("sum_f"), "sum(f)"),
    (col("j").mean().alias("avg_j"), "avg(j)"),
    (col("s").min().alias("min_s"), "min(s)"),
    (col("d").max().alias("max_d"), "max(d)"),
    (col("ts").min().alias("min_ts"), "min(ts)"),
    (col("b").max().alias("max_b"), "max(b)"),
    (col("f").var().alias("var_f"), "var_samp(f)"),
    (col("f").std(ddof=0).alias("sdp_f"), "stddev_pop(f)"),
    (col("i").var(ddof=0).alias("varp_i"), "var_pop(i)"),
    (col("j").std().alias("sd_j"), "stddev_samp(j)"),
    ((col("i").sum() / count()).alias("ratio"), "sum(i) / count(*)"),
]
KEYS: list[tuple[list[Expr], list[str], str]] = [
    ([], [], ""),
    ([col("s")], ["s"], "s"),
    ([col("b"), col("s")], ["b", "s"], "b, s"),
    ([(col("i") % 3).alias("k")], ["k"], "i % 3"),
    ([(col("f") * 0).alias("k")], ["k"], "f * 0"),  # -0.0 and 0.0 are one group
]
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _close(a: object, b: object) -> bool:
    a, b = normalize(a), normalize(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)  # type: ignore[arg-type]
    return a == b


def _by_key(table: pa.Table, names: list[str]) -> dict[tuple[object, ...], dict[str, object]]:
    rows = table.to_pylist()
    return {tuple(r[n] for n in names): r for r in rows}


def _split(table: pa.Table, rng: random.Random) -> list[pa.Table]:
    n = table.num_rows
    cuts = sorted(rng.sample(range(1, n), k=min(n - 1, rng.randint(0, 4)))) if n > 1 else []
    bounds = [0, *cuts, n]
    return [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]


def _distributed(steps, parts: list[pa.Table], rng: random.Random) -> pa.Table:  # type: ignore[no-untyped-def]
    """Partials per part, combined in a random tree (as shards and gatherers would)."""
    partials = [steps.partial(p) for p in parts]
    while len(partials) > 1:
        k = rng.randint(2, len(partials))
        rng.shuffle(partials)
        partials = [steps.combine(partials[:k]), *partials[k:]]
    combined = steps.combine(partials) if rng.random() < 0.5 else partials[0]
    return steps.finalize(combined)


@SETTINGS
@given(table=tables(max_rows=40), keys=st.sampled_from(KEYS), seed=st.integers(0, 2**32))
def test_split_aggregation_equals_one_shot_and_duckdb(
    table: pa.Table, keys: tuple[list[Expr], list[str], str], seed: int
) -> None:
    key_exprs, key_names, key_sql = keys
    aggs = [e for e, _ in EXACT]
    rng = random.Random(seed)
    steps = split_aggregate(key_exprs, aggs, table.schema)
    one_shot = aggregate(table, key_exprs, aggs)
    split = _distributed(steps, _split(table, rng), rng)
    assert one_shot.schema == steps.output_schema
    assert split.schema == steps.output_schema

    select = ", ".join([f"{sql} AS {e.name}" for e, sql in EXACT])  # type: ignore[attr-defined]
    sql = f"SELECT {key_sql + ' AS ' + key_names[0] + ', ' if len(key_names) == 1 else ''}"
    if len(key_names) > 1:
        sql = f"SELECT {key_sql}, "
    sql += f"{select} FROM t" + (f" GROUP BY {key_sql}" if key_sql else "")
    expected = _duckdb(table, sql)

    want = _by_key(expected, key_names)
    for name, got in (("one-shot", one_shot), ("split", split)):
        rows = _by_key(got, key_names)
        assert rows.keys() == want.keys(), f"{name}: groups differ"
        for key, row in rows.items():
            for e, agg_sql in EXACT:
                out = e.name  # type: ignore[attr-defined]
                assert _close(row[out], want[key][out]), (
                    f"{name} {agg_sql} group {key}: ours={row[out]!r} duckdb={want[key][out]!r}"
                )


@SETTINGS
@given(table=tables(max_rows=60), keys=st.sampled_from(KEYS[:2]), seed=st.integers(0, 2**32))
def test_sketches_within_error_bounds(
    table: pa.Table, keys: tuple[list[Expr], list[str], str], seed: int
) -> None:
    key_exprs, key_names, _ = keys
    q = random.Random(seed).choice([0.0, 0.25, 0.5, 0.9, 1.0])
    aggs = [
        col("j").approx_count_distinct().alias("acd"),
        col("s").approx_count_distinct().alias("acd_s"),
        col("f").approx_quantile(q).alias("q"),
        col("j").count_distinct().alias("cd"),
        col("s").count_distinct().alias("cd_s"),
    ]
    steps = split_aggregate(key_exprs, aggs, table.schema)
    rng = random.Random(seed)
    result = _distributed(steps, _split(table, rng), rng)
    groups = {}
    for row in table.to_pylist():
        groups.setdefault(tuple(row[n] for n in key_names), []).append(row)
    for row in result.to_pylist():
        members = groups.get(tuple(row[n] for n in key_names), [])
        for approx, exact in (("acd", "cd"), ("acd_s", "cd_s")):
            assert abs(row[approx] - row[exact]) <= 0.05 * row[exact] + 1, (approx, row)
        values = sorted(r["f"] for r in members if r["f"] is not None)
        if not values:
            assert row["q"] is None
            continue
        below = sum(v < row["q"] for v in values)
        at_or_below = sum(v <= row["q"] for v in values)
        assert row["q"] in values, "small inputs: KLL keeps every item"
        assert below - 1 <= q * len(values) <= at_or_below + 1, (q, values, row["q"])


def test_empty_input_without_keys_gives_one_row() -> None:
    empty = pa.table({"x": pa.array([], pa.int64())})
    aggs = [
        count().alias("n"),
        col("x").sum().alias("s"),
        col("x").count_distinct().alias("cd"),
        col("x").mean().alias("m"),
        col("x").approx_count_distinct().alias("acd"),
        col("x").approx_quantile(0.5).alias("q"),
        col("x").var().alias("v"),
    ]
    out = aggregate(empty, [], aggs).to_pylist()
    assert out == [{"n": 0, "s": None, "cd": 0, "m": None, "acd": 0, "q": None, "v": None}]
    steps = split_aggregate([], aggs, empty.schema)
    assert steps.finalize(steps.combine([])).to_pylist() == out
    grouped = aggregate(empty, ["x"], [count().alias("n")])
    assert grouped.num_rows == 0


def test_large_partial_merge_matches_one_shot() -> None:
    rng = random.Random(7)
    n = 20_000
    table = pa.table(
        {
            "k": [rng.randrange(50) for _ in range(n)],
            "v": [rng.gauss(1e6, 3.0) for _ in range(n)],
            "u": [rng.randrange(5_000) for _ in range(n)],
        }
    )
    aggs = [
        col("v").var().alias("var"),
        col("u").count_distinct().alias("cd"),
        col("u").approx_count_distinct().alias("acd"),
        col("v").approx_quantile(0.5).alias("median"),
    ]
    steps = split_aggregate(["k"], aggs, table.schema)
    parts = [table.slice(i, 2_500) for i in range(0, n, 2_500)]
    split = steps.finalize(steps.combine([steps.partial(p) for p in parts])).sort_by("k")
    one = aggregate(table, ["k"], aggs).sort_by("k")
    for a, b in zip(split.to_pylist(), one.to_pylist(), strict=True):
        assert math.isclose(a["var"], b["var"], rel_tol=1e-6), "Chan merge keeps precision"
        assert a["cd"] == b["cd"]
        assert abs(a["acd"] - b["cd"]) <= 0.05 * b["cd"], "HLL lg_k=12 error ~1.6%"
        values = sorted(
            r["v"] for r in table.filter(pa.compute.equal(table["k"], a["k"])).to_pylist()
        )
        rank = sum(v <= a["median"] for v in values) / len(values)
        assert abs(rank - 0.5) <= 0.03, "KLL k=200 rank error ~1.3%"


def test_registry_and_errors() -> None:
    assert set(AGGREGATES) >= {
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "var_samp",
        "var_pop",
        "stddev_samp",
        "stddev_pop",
        "approx_count_distinct",
        "approx_quantile",
    }
    assert aggregate_function("mean").name == "avg"
    assert aggregate_function("STDDEV").name == "stddev_samp"
    with pytest.raises(BindError, match="did you mean 'sum'"):
        aggregate_function("summ")
    schema = pa.schema([("a", pa.int64()), ("b", pa.int64())])
    with pytest.raises(BindError, match="group key"):
        split_aggregate(["a"], [(col("b") + col("a").sum()).alias("x")], schema)
    with pytest.raises(BindError, match="duplicate output column"):
        split_aggregate([], [col("a").sum(), col("a").sum()], schema)
    steps = split_aggregate(["a"], [(col("a") * 2 + col("b").sum()).alias("x")], schema)
    t = pa.table({"a": [1, 1, 2], "b": [10, 20, 30]})
    assert sorted(steps.finalize(steps.partial(t)).to_pylist(), key=lambda r: r["a"]) == [
        {"a": 1, "x": 32},
        {"a": 2, "x": 34},
    ]
    assert split_aggregate([], [count()], schema).exact
    assert not split_aggregate([], [col("a").approx_count_distinct()], schema).exact


def test_schema_is_stable_for_partials_of_any_input() -> None:
    steps = split_aggregate(["s"], [col("f").sum().alias("x")], SCHEMA)
    empty = SCHEMA.empty_table()
    assert steps.partial(empty).schema == steps.partial_schema
    assert steps.combine([steps.partial(empty)]).schema == steps.partial_schema


def test_arrow_fallback_for_distinct_states_matches_polars_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hasivu_compute.exec.kernels import aggsteps

    rng = random.Random(3)
    table = pa.table(
        {
            "k": [rng.choice(["a", "b", None]) for _ in range(300)],
            "v": [rng.choice([None, *range(40)]) for _ in range(300)],
        }
    )
    aggs = [col("v").count_distinct().alias("cd"), col("v").sum().alias("s")]
    steps = split_aggregate(["k"], aggs, table.schema)

    def run() -> list[dict[str, object]]:
        parts = [steps.partial(table.slice(i, 70)) for i in range(0, 300, 70)]
        out = steps.finalize(steps.combine(parts))
        return sorted(out.to_pylist(), key=lambda r: str(r["k"]))

    expected = run()
    one_shot = sorted(aggregate(table, ["k"], aggs).to_pylist(), key=lambda r: str(r["k"]))
    assert one_shot == expected, "one-shot n_unique path equals partial/combine/finalize"

    def refuse(*_args: object) -> pa.Table:
        raise TypeError("pretend Polars lacks this type")

    monkeypatch.setattr(aggsteps, "_polars_group", refuse)
    assert run() == expected
    fallback = sorted(aggregate(table, ["k"], aggs).to_pylist(), key=lambda r: str(r["k"]))
    assert fallback == expected


def test_group_alignment_survives_a_different_group_order() -> None:
    from hasivu_compute.exec.kernels import aggsteps

    grouped = pa.table({"g": ["b", "a", None], "x": [1, 2, 3]})
    extra = pa.table({"g": [None, "a", "b"], "y": [[30], [20], [10]]})
    out = aggsteps._attach(grouped, extra, ["g"])
    rows = {r["g"]: (r["x"], r["y"]) for r in out.to_pylist()}
    assert rows == {"a": (2, [20]), "b": (1, [10]), None: (3, [30])}


def test_one_polars_pass_for_counts_and_sums_beside_count_distinct(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counts and int64/float64 sums join a count distinct in one Polars group-by;
    a group whose values are all NULL still sums to NULL (DuckDB), not 0."""
    from hasivu_compute.exec.kernels import aggsteps

    def no_second_pass(*_args: object) -> pa.Table:
        raise AssertionError("an Arrow group-by ran beside the Polars one")

    monkeypatch.setattr(aggsteps, "_attach", no_second_pass)
    table = pa.table(
        {
            "k": ["a", "a", "b", "b", "c", None],
            "i": pa.array([1, None, None, None, 5, 7], pa.int64()),
            "f": pa.array([0.5, 1.5, None, None, -2.0, 1.0], pa.float64()),
            "s": ["x", "y", "x", "x", None, "z"],
        }
    )
    aggs = [
        col("s").count_distinct().alias("cd"),
        col("i").sum().alias("si"),
        col("f").sum().alias("sf"),
        count().alias("n"),
        col("i").count().alias("ni"),
    ]
    got = aggregate(table, ["k"], aggs)
    expected = _duckdb(
        table,
        "SELECT k, count(DISTINCT s) AS cd, sum(i) AS si, sum(f) AS sf, count(*) AS n, "
        "count(i) AS ni FROM t GROUP BY k",
    )
    assert _rows(got) == _rows(expected.cast(got.schema))
    assert {r["k"]: r["si"] for r in got.to_pylist()}["b"] is None


@pytest.mark.parametrize("with_null_key", [False, True])
def test_several_integer_keys_packed_into_one(with_null_key: bool) -> None:
    """Null-free integer keys are grouped as one packed int64 (NULL keys: plain path)."""
    rng = random.Random(11)
    n = 2_000
    a = [rng.randint(-50, 50) for _ in range(n)]
    if with_null_key:
        a[7] = None  # type: ignore[call-overload]
    table = pa.table(
        {
            "a": pa.array(a, pa.int32()),
            "b": pa.array([rng.randint(0, 3) for _ in range(n)], pa.int8()),
            "c": pa.array([rng.randint(10**12, 10**12 + 5) for _ in range(n)], pa.int64()),
            "v": pa.array([rng.randint(0, 40) for _ in range(n)], pa.int64()),
        }
    )
    from hasivu_compute.exec.kernels import aggsteps

    assert (aggsteps._packed_key(table, ["a", "b", "c"]) is None) == with_null_key
    aggs = [col("v").count_distinct().alias("cd"), col("v").sum().alias("s"), count().alias("n")]
    got = aggregate(table, ["a", "b", "c"], aggs)
    expected = _duckdb(
        table,
        "SELECT a, b, c, count(DISTINCT v) AS cd, sum(v) AS s, count(*) AS n "
        "FROM t GROUP BY a, b, c",
    )
    assert _rows(got) == _rows(expected.cast(got.schema))


def _duckdb(table: pa.Table, sql: str) -> pa.Table:
    """The oracle's answer to ``sql`` over ``table`` registered as ``t``."""
    con = duckdb.connect()
    con.register("t", table)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def _rows(t: pa.Table) -> list[tuple[object, ...]]:
    """Rows as tuples in a fixed order (group order is not part of the answer)."""
    return sorted((tuple(r.values()) for r in t.to_pylist()), key=lambda r: tuple(map(str, r)))
