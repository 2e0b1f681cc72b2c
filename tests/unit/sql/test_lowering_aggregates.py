"""Lowering of quantiles, string_agg, FILTER, grouping sets and INTERSECT / EXCEPT (shapes)."""

from __future__ import annotations

import pyarrow as pa

from hasivu_compute.expr import AggCall, Case, Literal
from hasivu_compute.plan.nodes import Aggregate, Filter, Project, Repeat, Union, walk
from hasivu_compute.sql import to_plan

SCHEMA = {
    "t": pa.schema([("a", pa.int64()), ("b", pa.int64()), ("g", pa.string())]),
    "u": pa.schema([("a", pa.int64()), ("c", pa.int64())]),
}


def _nodes(sql: str, kind: type) -> list:  # type: ignore[type-arg]
    return [n for n in walk(to_plan(sql, schema=SCHEMA)) if isinstance(n, kind)]


def _calls(sql: str) -> list[AggCall]:
    (agg,) = _nodes(sql, Aggregate)
    return [a.child for a in agg.aggs]


def test_quantile_calls_carry_their_constant_quantiles() -> None:
    calls = _calls(
        "SELECT median(a), quantile_cont(a, -0.25), quantile_disc(g, [0.1, 0.9]), "
        "quantile(b, 1) FROM t"
    )
    assert [(c.fn, c.option("q")) for c in calls] == [
        ("median", None),
        ("quantile_cont", -0.25),
        ("quantile_disc", (0.1, 0.9)),
        ("quantile_disc", 1.0),
    ]


def test_string_agg_passes_order_keys_as_arguments() -> None:
    (call,) = _calls("SELECT listagg(g, '; ' ORDER BY a DESC, b NULLS FIRST) FROM t")
    assert call.fn == "string_agg" and len(call.args) == 3
    assert call.option("sep") == "; "
    assert call.option("order") == ((True, False), (False, True))
    (plain,) = _calls("SELECT group_concat(g) FROM t")
    assert (plain.option("sep"), plain.option("order")) == (",", ())


def test_filter_masks_the_first_argument() -> None:
    star, dist = _calls(
        "SELECT count(*) FILTER (WHERE a > 1), count(DISTINCT g) FILTER (WHERE b < 0) FROM t"
    )
    assert star.fn == "count" and isinstance(star.args[0], Case)
    assert isinstance(star.args[0].branches[0][1], Literal)  # CASE WHEN a > 1 THEN 1 END
    assert dist.distinct and isinstance(dist.args[0], Case)


def test_rollup_is_a_union_of_one_aggregate_per_set() -> None:
    sql = "SELECT a, g, grouping(a, g) AS gid, count(*) FROM t GROUP BY ROLLUP (a, g)"
    (union,) = _nodes(sql, Union)
    assert len(union.inputs) == 3
    keys = sorted(len(n.keys) for n in _nodes(sql, Aggregate))
    assert keys == [0, 1, 2]
    constants = [
        e.child.value
        for part in union.inputs
        for e in part.exprs
        if getattr(e, "name", "").startswith("__grouping")
    ]
    assert constants == [0, 1, 3]


def test_grouping_with_a_plain_group_by_is_zero() -> None:
    project = _nodes("SELECT a, grouping(a) FROM t GROUP BY a", Project)[0]
    assert any(isinstance(e.child, Literal) and e.child.value == 0 for e in project.exprs)
    assert not _nodes("SELECT a, grouping(a) FROM t GROUP BY a", Union)


def test_set_operations_count_both_sides() -> None:
    sql = "SELECT a FROM t INTERSECT SELECT a FROM u"
    (agg,) = _nodes(sql, Aggregate)
    assert [c.child.fn for c in agg.aggs] == ["sum", "sum"]
    assert _nodes(sql, Filter) and not _nodes(sql, Repeat)
    assert _nodes("SELECT a FROM t EXCEPT ALL SELECT a FROM u", Repeat)
    assert _nodes("SELECT a FROM t INTERSECT ALL SELECT a FROM u", Repeat)
