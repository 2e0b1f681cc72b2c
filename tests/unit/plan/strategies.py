"""Hypothesis strategies: random tables and random plans over them (tests only)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import strategies as st

from hasivu_compute.expr import Expr, col, count, lit
from hasivu_compute.plan import LogicalPlanBuilder, PlanNode

SCHEMA = pa.schema([("p", pa.int32()), ("b", pa.int64()), ("c", pa.float64()), ("s", pa.string())])
STRINGS = ["a", "b", "bb", "c", "zz"]
PARTITIONINGS = [
    [("p", "identity")],
    ["p"],  # a bare name: the engine's default layout (hashed clusters)
    [("b", "bucket[3]")],
    [("s", "bucket[2]"), ("p", "identity")],
    [],
]


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 30) -> pa.Table:
    n = draw(st.integers(0, max_rows))
    p = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    b = draw(st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=n, max_size=n))
    c = draw(
        st.lists(
            st.one_of(st.none(), st.floats(-4, 4, allow_nan=False).map(lambda x: round(x, 2))),
            min_size=n,
            max_size=n,
        )
    )
    s = draw(st.lists(st.one_of(st.none(), st.sampled_from(STRINGS)), min_size=n, max_size=n))
    return pa.table({"p": p, "b": b, "c": c, "s": s}, schema=SCHEMA)


def _atom(draw: st.DrawFn, columns: list[str]) -> Expr:
    name = draw(st.sampled_from(columns))
    kind = draw(st.sampled_from(["cmp", "in", "null", "between"]))
    if name == "s":
        value: object = draw(st.sampled_from([*STRINGS, "b0"]))
    elif name == "c":
        value = draw(st.floats(-4, 4, allow_nan=False).map(lambda x: round(x, 1)))
    else:
        value = draw(st.integers(-6, 6))
    c = col(name)
    if kind == "in":
        other = draw(st.sampled_from(STRINGS)) if name == "s" else draw(st.integers(-3, 3))
        values = [value, other]
        return c.is_in(values)
    if kind == "null":
        return c.is_null() if draw(st.booleans()) else c.is_not_null()
    if kind == "between":
        other = draw(st.sampled_from(STRINGS)) if name == "s" else draw(st.integers(-4, 4))
        lo, hi = sorted([value, other], key=lambda v: (str(type(v)), v))
        return c.between(lo, hi)
    op = draw(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]))
    return {
        "eq": c == value,
        "ne": c != value,
        "lt": c < value,
        "le": c <= value,
        "gt": c > value,
        "ge": c >= value,
    }[op]


@st.composite
def predicates(draw: st.DrawFn, columns: list[str], depth: int = 2) -> Expr:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return _atom(draw, columns)
    a = draw(predicates(columns, depth - 1))
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return ~a
    b = draw(predicates(columns, depth - 1))
    return (a & b) if kind == "and" else (a | b)


@st.composite
def pipelines(draw: st.DrawFn, table: str) -> tuple[LogicalPlanBuilder, list[str]]:
    b = LogicalPlanBuilder.scan(table)
    cols = ["p", "b", "c", "s"]
    if draw(st.booleans()):
        b = b.filter(draw(predicates(cols)))
    if draw(st.booleans()):
        keep = draw(st.lists(st.sampled_from(cols), min_size=1, max_size=4, unique=True))
        exprs: list[Expr | str] = list(keep)
        if "b" in keep and draw(st.booleans()):
            exprs.append((col("b") * 2 + lit(1)).alias("b2"))
        b = b.select(*exprs)
        cols = [e if isinstance(e, str) else "b2" for e in exprs]
        if draw(st.booleans()):
            b = b.filter(draw(predicates([c for c in cols if c != "b2"] or cols)))
    return b, cols


AGGS = {
    "b": lambda: [col("b").sum().alias("sum_b"), col("b").count_distinct().alias("nd_b")],
    "c": lambda: [col("c").min().alias("min_c"), col("c").mean().alias("avg_c")],
    "s": lambda: [col("s").max().alias("max_s")],
    "p": lambda: [col("p").count().alias("cnt_p")],
}


@st.composite
def plans(draw: st.DrawFn, table: str = "t") -> PlanNode:
    b, cols = draw(pipelines(table))
    if draw(st.integers(0, 3)) == 0:
        other, other_cols = draw(pipelines(table))
        if other_cols == cols:
            b = b.union_all(other)
    terminal = draw(st.sampled_from(["none", "agg", "distinct"]))
    if terminal == "agg":
        keys = draw(st.lists(st.sampled_from(cols), max_size=2, unique=True))
        aggs: list[Expr] = [count().alias("n")]
        for c in cols:
            if c not in keys and c in AGGS and draw(st.booleans()):
                aggs.extend(AGGS[c]())
        b = b.group_by(*keys).agg(*aggs)
        cols = keys + [a.name for a in aggs]  # type: ignore[attr-defined]
        if draw(st.booleans()):
            b = b.filter(col("n") > draw(st.integers(0, 3)))
    elif terminal == "distinct":
        b = b.distinct()
    if draw(st.integers(0, 3)) > 0:
        b = b.sort(*cols, descending=draw(st.booleans()))
        if draw(st.integers(0, 3)) > 0:
            b = b.limit(draw(st.integers(0, 6)), offset=draw(st.integers(0, 3)))
    elif draw(st.booleans()):
        # An unordered limit: which rows is unspecified, how many is not.
        b = b.limit(draw(st.integers(0, 6)), offset=draw(st.integers(0, 2)))
        if draw(st.booleans()):
            b = b.select(*cols[:1])
    return b.plan
