"""Zone-map pruning never skips a chunk that holds a matching row (property), and prunes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute.exec import evaluate_column
from hasivu_compute.expr import (
    ROWS_CANNOT_MATCH,
    ROWS_MIGHT_MATCH,
    Expr,
    bind,
    col,
    lit,
    zone_map_evaluator,
)

from .conftest import ROW, SCHEMA, WORDS


@dataclass(frozen=True)
class Stats:
    """Same fields as storage's ColumnChunkStats."""

    row_count: int
    null_count: int
    min: object
    max: object
    has_nan: bool = False


def stats_of(chunk: pa.Table) -> dict[str, Stats]:
    out = {}
    for name in chunk.column_names:
        column = chunk[name]
        mm = pc.min_max(column)
        out[name] = Stats(len(column), column.null_count, mm["min"].as_py(), mm["max"].as_py())
    return out


def exact_bloom(chunk: pa.Table):  # type: ignore[no-untyped-def]
    def might_contain(column: str, values: Sequence[object]) -> bool:
        present = set(chunk[column].to_pylist())
        return any(v in present for v in values)

    return might_contain


_VALUES = {
    "i": st.integers(-1100, 1100),
    "j": st.integers(-(10**6), 10**6),
    "f": st.floats(-1e4, 1e4, allow_nan=False),
    "s": st.sampled_from([*WORDS, "zz", "B"]),
    "d": st.dates(dt.date(2018, 6, 1), dt.date(2027, 6, 1)),
    "b": st.booleans(),
}


def _value(draw: st.DrawFn, name: str, pool: dict[str, list[object]]) -> object:
    """Mostly a value present in the data (boundaries matter), sometimes any value."""
    present = [v for v in pool.get(name, []) if v is not None]
    if present and draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(present))
    return draw(_VALUES[name])


@st.composite
def leaf(draw: st.DrawFn, pool: dict[str, list[object]]) -> Expr:
    name = draw(st.sampled_from(sorted(_VALUES)))
    c = col(name)
    value = _value(draw, name, pool)
    kinds = ["cmp", "cmp", "cmp", "between", "in", "null", "notnull", "cross", "bare", "prefix"]
    kind = draw(st.sampled_from(kinds))
    if kind == "prefix":
        word = str(_value(draw, "s", pool))
        prefix = word[: draw(st.integers(0, len(word)))]
        if draw(st.booleans()):
            return col("s").starts_with(prefix)
        return col("s").like(prefix.replace("%", "").replace("_", "") + "%")
    if kind == "cmp":
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        ops = {
            "=": c == value,
            "!=": c != value,
            "<": c < value,
            "<=": c <= value,
            ">": c > value,
            ">=": c >= value,
        }
        return ops[op] if draw(st.booleans()) else _flip(op, value, c)
    if kind == "between":
        other = _value(draw, name, pool)
        lo, hi = sorted([value, other])  # type: ignore[type-var]
        return c.between(lo, hi)
    if kind == "in":
        values = [_value(draw, name, pool) for _ in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            values.append(None)
        return c.is_in(values)
    if kind == "null":
        return c.is_null()
    if kind == "notnull":
        return c.is_not_null()
    if kind == "cross" and name in ("i", "j"):
        return c > draw(st.floats(-1e3, 1e3, allow_nan=False))  # int column vs float: cast
    return col("b") if kind == "bare" else (col("d") < col("ts"))


def _flip(op: str, value: object, c: Expr) -> Expr:
    v = lit(value)
    ops = {"=": v == c, "!=": v != c, "<": v < c, "<=": v <= c, ">": v > c, ">=": v >= c}
    return ops[op]


@st.composite
def predicate(draw: st.DrawFn, pool: dict[str, list[object]], depth: int = 3) -> Expr:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(leaf(pool))
    op = draw(st.sampled_from(["and", "or", "not"]))
    a = draw(predicate(pool, depth - 1))
    if op == "not":
        return ~a
    b = draw(predicate(pool, depth - 1))
    return a & b if op == "and" else a | b


@st.composite
def chunked(draw: st.DrawFn) -> list[pa.Table]:
    rows = draw(st.lists(ROW, min_size=1, max_size=40))
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(rows) - 1)), max_size=4))))
    bounds = [0, *[c for c in cuts if c < len(rows)], len(rows)]
    return [table.slice(a, b - a) for a, b in itertools.pairwise(bounds) if b > a]


@settings(max_examples=300, deadline=None)
@given(chunks=chunked(), data=st.data(), use_bloom=st.booleans())
def test_never_prunes_a_chunk_with_a_matching_row(
    chunks: list[pa.Table], data: st.DataObject, use_bloom: bool
) -> None:
    pool = pa.concat_tables(chunks).to_pydict()
    pred = data.draw(predicate(pool), label="predicate")
    bound = bind(pred, SCHEMA)
    might_match = zone_map_evaluator(bound)
    for index, chunk in enumerate(chunks):
        matches = evaluate_column(bound, chunk).to_pylist()
        if True in matches:
            bloom = exact_bloom(chunk) if use_bloom else None
            assert might_match(stats_of(chunk), bloom) == ROWS_MIGHT_MATCH, (
                f"chunk {index} holds a row matching {bound} but was pruned"
            )


S = pa.schema([("x", pa.int64()), ("s", pa.string()), ("f", pa.float64())])
X = {"x": Stats(100, 10, 10, 20), "s": Stats(100, 0, "b", "d"), "f": Stats(100, 0, 1.0, 2.0)}


def _decide(e: Expr, stats: dict[str, Stats] = X, bloom=None) -> bool:  # type: ignore[no-untyped-def]
    return zone_map_evaluator(bind(e, S))(stats, bloom)


def test_prunes_out_of_range_comparisons() -> None:
    assert _decide(col("x") > 20) == ROWS_CANNOT_MATCH, "max = 20: nothing is > 20"
    assert _decide(col("x") >= 20) == ROWS_MIGHT_MATCH
    assert _decide(col("x") > 15) == ROWS_MIGHT_MATCH
    assert _decide(col("x") < 11) == ROWS_MIGHT_MATCH
    assert _decide(col("x") != 15) == ROWS_MIGHT_MATCH
    assert _decide(col("x") < 10) == ROWS_CANNOT_MATCH, "min = 10: nothing is < 10"
    assert _decide(col("x") == 5) == ROWS_CANNOT_MATCH
    assert _decide(col("x").between(21, 30)) == ROWS_CANNOT_MATCH
    assert _decide(col("x").between(15, 30)) == ROWS_MIGHT_MATCH
    assert _decide(col("x").is_in([1, 2, 30])) == ROWS_CANNOT_MATCH
    assert _decide(col("s") == "a") == ROWS_CANNOT_MATCH
    assert _decide(col("s").is_in(["c"])) == ROWS_MIGHT_MATCH
    assert _decide(col("x") > 25.5) == ROWS_CANNOT_MATCH, "int column under a cast to double"


def test_prefix_predicates() -> None:
    assert _decide(col("s").starts_with("a")) == ROWS_CANNOT_MATCH, "all strings >= 'b'"
    assert _decide(col("s").starts_with("e")) == ROWS_CANNOT_MATCH, "all strings <= 'd'"
    assert _decide(col("s").starts_with("c")) == ROWS_MIGHT_MATCH
    assert _decide(col("s").like("a%")) == ROWS_CANNOT_MATCH
    assert _decide(col("s").like("a%b")) == ROWS_MIGHT_MATCH, "not a pure prefix pattern"
    same = {"s": Stats(5, 0, "abc", "abd")}
    assert _decide(~col("s").starts_with("ab"), same) == ROWS_CANNOT_MATCH
    assert _decide(~col("s").starts_with("abc"), same) == ROWS_MIGHT_MATCH


def test_null_semantics() -> None:
    all_null = {"x": Stats(5, 5, None, None)}
    assert _decide(col("x") == 1, all_null) == ROWS_CANNOT_MATCH
    assert _decide(~(col("x") == 1), all_null) == ROWS_CANNOT_MATCH, "NOT NULL is NULL"
    assert _decide(col("x").is_null(), all_null) == ROWS_MIGHT_MATCH
    assert _decide(col("x").is_not_null(), all_null) == ROWS_CANNOT_MATCH
    no_nulls = {"x": Stats(5, 0, 1, 3)}
    assert _decide(col("x").is_null(), no_nulls) == ROWS_CANNOT_MATCH
    assert _decide(~col("x").is_in([1, None]), no_nulls) == ROWS_CANNOT_MATCH, (
        "NOT IN with a NULL in the list is never TRUE"
    )
    assert _decide(col("x") == lit(None, pa.int64()), no_nulls) == ROWS_CANNOT_MATCH


def test_not_and_or_compose() -> None:
    assert _decide(~(col("x") <= 20)) == ROWS_CANNOT_MATCH
    assert _decide(~(col("x") < 20)) == ROWS_MIGHT_MATCH
    assert _decide((col("x") > 20) | (col("s") == "a")) == ROWS_CANNOT_MATCH
    assert _decide((col("x") > 20) | (col("s") == "c")) == ROWS_MIGHT_MATCH
    assert _decide((col("x") > 15) & (col("s") == "a")) == ROWS_CANNOT_MATCH
    constant = {"x": Stats(10, 0, 7, 7)}
    assert _decide(col("x") != 7, constant) == ROWS_CANNOT_MATCH
    assert _decide(~(col("x") == 7), constant) == ROWS_CANNOT_MATCH


def test_unknowns_never_prune() -> None:
    assert _decide(col("x") > 100, {}) == ROWS_MIGHT_MATCH, "no stats for the column"
    untracked = {"x": Stats(10, 0, None, None)}
    assert _decide(col("x") > 100, untracked) == ROWS_MIGHT_MATCH
    nan = {"f": Stats(10, 0, 1.0, 2.0, has_nan=True)}
    assert _decide(col("f") > 5.0, nan) == ROWS_MIGHT_MATCH, "NaN rows: bounds unreliable"
    assert _decide(col("x") + 1 > 100) == ROWS_MIGHT_MATCH, "expressions are not analysed"
    assert _decide(col("x") > col("f")) == ROWS_MIGHT_MATCH


def test_bloom_probe_is_consulted_for_equality_and_in() -> None:
    def nothing(column: str, values: Sequence[object]) -> bool:
        return False

    assert _decide(col("x") == 15, bloom=nothing) == ROWS_CANNOT_MATCH, "bloom says absent"
    assert _decide(col("x").is_in([12, 15]), bloom=nothing) == ROWS_CANNOT_MATCH
    assert _decide(col("x") > 15, bloom=nothing) == ROWS_MIGHT_MATCH, "bloom only answers ="
    assert _decide(~(col("x") == 15), bloom=nothing) == ROWS_MIGHT_MATCH


def test_empty_chunk_never_matches() -> None:
    assert _decide(col("x").is_null(), {"x": Stats(0, 0, None, None)}) == ROWS_CANNOT_MATCH
