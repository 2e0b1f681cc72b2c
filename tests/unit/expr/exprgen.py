"""Random expressions paired with equivalent DuckDB SQL (shared by several tests)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import strategies as st

from hasivu_compute.expr import Expr, coalesce, col, lit, when

from .conftest import WORDS

Pair = tuple[Expr, str]


def _num_leaf(draw: st.DrawFn) -> Pair:
    kind = draw(st.sampled_from(["i", "j", "f", "int", "float"]))
    if kind == "int":
        v = draw(st.integers(-50, 50))
        return lit(v), f"({v})"
    if kind == "float":
        x = draw(st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 2)))
        return lit(x), f"({x!r}::DOUBLE)"
    return col(kind), kind


@st.composite
def numeric(draw: st.DrawFn, depth: int = 2) -> Pair:
    """Numeric expressions that never produce NaN / inf (safe to compare)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return _num_leaf(draw)
    ops = ["+", "-", "*", "neg", "abs", "coalesce", "case", "round", "mod", "floor", "ceil", "sqrt"]
    op = draw(st.sampled_from(ops))
    a, sa = draw(numeric(depth - 1))
    if op == "floor":
        return a.floor(), f"floor({sa})"
    if op == "ceil":
        return a.ceil(), f"ceil({sa})"
    if op == "sqrt":
        return a.abs().sqrt(), f"sqrt(abs({sa}))"
    if op == "neg":
        return -a, f"(-{sa})"
    if op == "abs":
        return a.abs(), f"abs({sa})"
    if op == "round":
        return a.round(1), f"round({sa}, 1)"
    if op == "mod":
        k = draw(st.integers(1, 7))
        return a % k, f"({sa} % {k})"
    b, sb = draw(numeric(depth - 1))
    if op == "coalesce":
        return coalesce(a, b), f"coalesce({sa}, {sb})"
    if op == "case":
        c, sc = draw(boolean(0))
        x, sx = _num_leaf(draw)
        y, sy = _num_leaf(draw)
        return when(c).then(x).otherwise(y), f"(CASE WHEN {sc} THEN {sx} ELSE {sy} END)"
    ops = {"+": a + b, "-": a - b, "*": a * b}
    return ops[op], f"({sa} {op} {sb})"


def _string_pred(draw: st.DrawFn) -> Pair:
    s = col("s")
    kinds = ["like", "ilike", "starts", "contains", "eq", "lower", "upper", "trim"]
    kind = draw(st.sampled_from(kinds))
    word = draw(st.sampled_from(WORDS))
    pat = draw(st.sampled_from(["a%", "%b%", "_b%", "%", "x\\_y", "%c", "A%", "ñ%", "__"]))
    if kind == "like":
        return s.like(pat), f"(s LIKE '{pat}')"
    if kind == "ilike":
        return s.like(pat, case_insensitive=True), f"(s ILIKE '{pat}')"
    if kind == "starts":
        return s.starts_with(word), f"starts_with(s, '{word}')"
    if kind == "contains":
        return s.contains(word), f"contains(s, '{word}')"
    if kind == "lower":
        return s.lower() == word, f"(lower(s) = '{word}')"
    if kind == "trim":
        return s.trim() == word, f"(trim(s) = '{word}')"
    if kind == "upper":
        return s.upper() < word.upper(), f"(upper(s) < '{word.upper()}')"
    return s >= word, f"(s >= '{word}')"


def _temporal_pred(draw: st.DrawFn) -> Pair:
    kind = draw(st.sampled_from(["year", "month", "day", "hour", "trunc", "dow", "date_cmp"]))
    k = draw(st.integers(0, 25))
    if kind == "year":
        return col("d").year() >= 2019 + k % 8, f"(year(d) >= {2019 + k % 8})"
    if kind == "month":
        return col("ts").month() == k % 12 + 1, f"(month(ts) = {k % 12 + 1})"
    if kind == "day":
        return col("d").day() < k, f"(day(d) < {k})"
    if kind == "hour":
        return col("ts").hour() > k % 24, f"(hour(ts) > {k % 24})"
    if kind == "dow":
        return col("d").extract("dow") == k % 7, f"(extract('dow' FROM d) = {k % 7})"
    if kind == "trunc":
        e = col("d").date_trunc("month") == col("d")
        return e, "(CAST(date_trunc('month', d) AS DATE) = d)"
    return col("d") > "2023-06-15", "(d > DATE '2023-06-15')"


@st.composite
def boolean(draw: st.DrawFn, depth: int = 2) -> Pair:
    """Predicates, including NULL-producing ones, combined with Kleene logic."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from(["cmp", "null", "in", "between", "b", "lit", "str", "time"]))
        if kind == "str":
            return _string_pred(draw)
        if kind == "time":
            return _temporal_pred(draw)
        if kind == "b":
            return col("b"), "b"
        if kind == "lit":
            v = draw(st.sampled_from([True, False, None]))
            return lit(v, pa.bool_()), {True: "TRUE", False: "FALSE", None: "NULL::BOOLEAN"}[v]
        a, sa = draw(numeric(1))
        if kind == "null":
            return a.is_null(), f"({sa} IS NULL)"
        if kind == "in":
            vals = draw(st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=1, max_size=4))
            sql = ", ".join("NULL" if v is None else str(v) for v in vals)
            return a.is_in(vals), f"({sa} IN ({sql}))"
        if kind == "between":
            lo, hi = sorted(draw(st.lists(st.integers(-100, 100), min_size=2, max_size=2)))
            return a.between(lo, hi), f"({sa} BETWEEN {lo} AND {hi})"
        b, sb = draw(numeric(1))
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        ops = {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
        return ops[op], f"({sa} {op} {sb})"
    op = draw(st.sampled_from(["and", "or", "not"]))
    a, sa = draw(boolean(depth - 1))
    if op == "not":
        return ~a, f"(NOT {sa})"
    b, sb = draw(boolean(depth - 1))
    return (a & b, f"({sa} AND {sb})") if op == "and" else (a | b, f"({sa} OR {sb})")
