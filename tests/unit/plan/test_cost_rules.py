"""Rules that choose by estimates: eager aggregation only where grouping shrinks the rows,
join order by sizes after filters."""

from __future__ import annotations

import pyarrow as pa
from hc_memtable import MemCatalog

from hasivu_compute.plan.binder import bind_plan
from hasivu_compute.plan.optimizer import OptimizerContext, optimize
from hasivu_compute.plan.render import render
from hasivu_compute.plan.source import CatalogSource
from hasivu_compute.sql import to_plan

N = 2000


def _catalog() -> MemCatalog:
    """facts: unique ``id``, ``k`` with 20 values, ``j`` with 40, ``g`` with 1000;
    dims_a keyed by k (20 rows); dims_b keyed by j (40 rows, ``size`` in 0..9, ``bc``
    referencing dims_c); dims_g keyed by g (1000 rows); dims_c (40 rows, ``kind``
    unique)."""
    cat = MemCatalog()
    facts = pa.table(
        {
            "id": pa.array(range(N), pa.int64()),
            "k": pa.array([i % 20 for i in range(N)], pa.int64()),
            "j": pa.array([i % 40 for i in range(N)], pa.int64()),
            "x": pa.array([float(i % 7) for i in range(N)]),
            "g": pa.array([i % 1000 for i in range(N)], pa.int64()),
        }
    )
    cat.create_table("facts", facts.schema, chunk_rows=500).append(facts)
    a = pa.table({"ak": pa.array(range(20), pa.int64()), "label": [f"a{i % 3}" for i in range(20)]})
    cat.create_table("dims_a", a.schema).append(a)
    b = pa.table(
        {
            "bj": pa.array(range(40), pa.int64()),
            "size": pa.array([i % 10 for i in range(40)]),
            "bc": pa.array([i * 7 % 40 for i in range(40)], pa.int64()),
        }
    )
    cat.create_table("dims_b", b.schema).append(b)
    g = pa.table({"gk": pa.array(range(1000), pa.int64()), "gv": pa.array(range(1000))})
    cat.create_table("dims_g", g.schema).append(g)
    c = pa.table({"ck": pa.array(range(40), pa.int64()), "kind": pa.array(range(40))})
    cat.create_table("dims_c", c.schema).append(c)
    return cat


def _optimized(sql: str, with_source: bool = True) -> str:
    cat = _catalog()
    source = CatalogSource(cat)
    schemas = {name: t.schema.to_arrow() for name, t in cat.tables.items()}
    bound = bind_plan(to_plan(sql, schema=schemas), source.resolve)
    return render(optimize(bound, OptimizerContext(source if with_source else None)))


GROUP_BY_LABEL = (
    "SELECT a.label, sum(f.x) AS s FROM facts f JOIN dims_a a ON f.{key} = a.ak GROUP BY a.label"
)


def test_fact_rows_are_grouped_first_when_the_join_key_repeats() -> None:
    text = _optimized(GROUP_BY_LABEL.format(key="k"))
    assert "PreAggregate keys=[f.k]" in text, "2,000 rows in 20 groups: worth grouping first"


def test_fact_rows_are_not_grouped_by_a_key_that_hardly_repeats() -> None:
    text = _optimized(GROUP_BY_LABEL.format(key="id"))
    assert "PreAggregate" not in text, "2,000 groups of 2,000 rows: grouping saves nothing"


def test_without_statistics_nothing_is_grouped_first() -> None:
    text = _optimized(GROUP_BY_LABEL.format(key="k"), with_source=False)
    assert "PreAggregate" not in text, "no zone maps: no promise that grouping pays"


JOIN_THREE = (
    "SELECT f.id, a.label, b.size FROM facts f, dims_a a, dims_b b "
    "WHERE f.k = a.ak AND f.j = b.bj{extra}"
)


def test_a_selective_filter_on_a_dimension_makes_its_join_come_first() -> None:
    text = _optimized(JOIN_THREE.format(extra=" AND b.size = 3"))
    first, second = text.index("f.j = b.bj"), text.index("f.k = a.ak")
    assert second < first, f"dims_b keeps ~4 of 40 rows: it joins facts first\n{text}"


def test_without_filters_the_smaller_dimension_comes_first() -> None:
    text = _optimized(JOIN_THREE.format(extra=""))
    first, second = text.index("f.k = a.ak"), text.index("f.j = b.bj")
    assert second < first, f"equal join sizes: the smaller input (dims_a) first\n{text}"


def test_a_join_that_opens_the_way_to_a_selective_one_comes_first() -> None:
    sql = (
        "SELECT f.id FROM facts f, dims_g g, dims_b b, dims_c c WHERE f.g = g.gk "
        "AND f.j = b.bj AND b.bc = c.ck AND c.kind = 7 AND g.gv < 900"
    )
    text = _optimized(sql)
    g, c, b = (text.index(s) for s in ("f.g = g.gk", "b.bc = c.ck", "f.j = b.bj"))
    assert g < c < b, (
        "dims_g alone keeps 9 rows in 10, dims_b keeps all but opens dims_c (1 in 40): "
        f"b, c, then g\n{text}"
    )


def test_many_inputs_are_ordered_greedily_by_the_next_join(monkeypatch) -> None:
    from hasivu_compute.plan.optimizer.rules import join_order

    monkeypatch.setattr(join_order, "MAX_EXHAUSTIVE", 2)
    text = _optimized(JOIN_THREE.format(extra=" AND b.size = 3"))
    first, second = text.index("f.j = b.bj"), text.index("f.k = a.ak")
    assert second < first, f"greedy: dims_b (4 rows expected) joins facts first\n{text}"
