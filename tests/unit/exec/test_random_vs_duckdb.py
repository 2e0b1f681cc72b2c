"""Random plans on random data: execute() against DuckDB running the same query as SQL.

An oracle independent of our operators: each random plan (from ``strategies.py``)
is also rendered as nested SQL subqueries and run by DuckDB over the same rows.
"""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
from hc_fixtures import assert_same_bag
from hc_memtable import MemCatalog
from hc_strategies import PARTITIONINGS, SCHEMA, plans, tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasivu_compute.exec import execute
from hasivu_compute.expr import Expr
from hasivu_compute.plan import (
    Aggregate,
    Distinct,
    Filter,
    Limit,
    PlanNode,
    Project,
    Scan,
    Sort,
    Union,
)


def _e(expr: Expr) -> str:
    return str(expr).replace("count_star()", "count(*)")


def _as(expr: Expr) -> str:
    name = getattr(expr, "name", None)
    return _e(expr) if name is None or " AS " in _e(expr) else f"{_e(expr)} AS {name}"


def _order(node: Sort) -> str:
    keys = []
    for k in node.keys:
        nulls = "NULLS FIRST" if k.nulls_first else "NULLS LAST"
        keys.append(f"{_e(k.expr)} {'DESC' if k.descending else 'ASC'} {nulls}")
    return "ORDER BY " + ", ".join(keys)


def to_sql(node: PlanNode) -> str:
    """Nested SELECTs equivalent to an unbound plan built by ``strategies.plans``."""
    if isinstance(node, Scan):
        return f"SELECT * FROM {node.table}"
    if isinstance(node, Union):
        return " UNION ALL ".join(f"({to_sql(c)})" for c in node.inputs)
    if isinstance(node, Limit) and isinstance(node.child, Sort):
        sort = node.child
        return (
            f"SELECT * FROM ({to_sql(sort.child)}) {_order(sort)} "
            f"LIMIT {node.limit} OFFSET {node.offset}"
        )
    child = f"({to_sql(node.children()[0])})"
    if isinstance(node, Filter):
        return f"SELECT * FROM {child} WHERE {_e(node.predicate)}"
    if isinstance(node, Project):
        return f"SELECT {', '.join(_as(e) for e in node.exprs)} FROM {child}"
    if isinstance(node, Aggregate):
        cols = ", ".join(_as(e) for e in node.keys + node.aggs)
        group = f" GROUP BY {', '.join(_e(k) for k in node.keys)}" if node.keys else ""
        return f"SELECT {cols} FROM {child}{group}"
    if isinstance(node, Distinct):
        return f"SELECT DISTINCT * FROM {child}"
    if isinstance(node, Sort):
        return f"SELECT * FROM {child} {_order(node)}"
    assert isinstance(node, Limit)
    return f"SELECT * FROM {child} LIMIT {node.limit} OFFSET {node.offset}"


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[MemCatalog, pa.Table]:
    data = draw(tables())
    cat = MemCatalog()
    t = cat.create_table("t", SCHEMA, draw(st.sampled_from(PARTITIONINGS)), chunk_rows=3)
    half = data.num_rows // 2
    t.append(data.slice(0, half))
    t.append(data.slice(half))
    return cat, data


@settings(
    max_examples=int(os.environ.get("HC_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(catalog=catalogs(), plan=plans())
def test_random_plans_match_duckdb(catalog: tuple[MemCatalog, pa.Table], plan: PlanNode) -> None:
    cat, data = catalog
    got = execute(plan, cat)
    con = duckdb.connect()
    con.register("t", data)
    sql = to_sql(plan)
    want = con.sql(sql).to_arrow_table()
    assert got.column_names == want.column_names, sql
    unordered_limit = any(
        isinstance(n, Limit) and not isinstance(n.children()[0], Sort) for n in _walk(plan)
    )
    if unordered_limit:
        assert got.num_rows == want.num_rows, sql
        return
    ordered = isinstance(plan, Sort) or (isinstance(plan, Limit) and isinstance(plan.child, Sort))
    try:
        assert_same_bag(got, want, ordered=ordered)
    except AssertionError as exc:
        raise AssertionError(f"{sql}\nours: {got.to_pylist()}\nduckdb: {want.to_pylist()}") from exc


def _walk(node: PlanNode) -> list[PlanNode]:
    out = [node]
    for c in node.children():
        out.extend(_walk(c))
    return out
