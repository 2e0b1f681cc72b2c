"""Lowering of supported SQL to logical plans (shape and expressions)."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import AggCall, Alias, Call, Cast, Column, InList, Literal
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Filter,
    Limit,
    Project,
    Scan,
    Sort,
    Union,
    walk,
)
from hasivu_compute.plan.render import render
from hasivu_compute.sql import to_plan

SCHEMA = {
    "t": pa.schema([("a", pa.int64()), ("b", pa.int64()), ("g", pa.string()), ("d", pa.date32())])
}


def plan_text(sql: str, schema: object = SCHEMA) -> str:
    return render(to_plan(sql, schema=schema))  # type: ignore[arg-type]


def nodes_of(sql: str, kind: type, schema: object = SCHEMA) -> list:
    return [n for n in walk(to_plan(sql, schema=schema)) if isinstance(n, kind)]  # type: ignore[arg-type]


def test_select_where_order_limit_shape() -> None:
    plan = to_plan("SELECT a, b + 1 AS c FROM t WHERE g = 'x' ORDER BY c DESC LIMIT 5 OFFSET 2")
    assert isinstance(plan, Limit) and (plan.limit, plan.offset) == (5, 2)
    sort = plan.child
    assert isinstance(sort, Sort)
    key = sort.keys[0]
    assert key.expr.same_as(Column("c")) and key.descending and key.nulls_first is False
    project = sort.child
    assert isinstance(project, Project)
    assert project.exprs[1].same_as(Alias(Call("add", (Column("b"), Literal(1, pa.int64()))), "c"))
    assert isinstance(project.child, Filter) and isinstance(project.child.child, Scan)


def test_nulls_first_last_are_explicit() -> None:
    (sort,) = nodes_of("SELECT a FROM t ORDER BY a DESC NULLS FIRST, b ASC NULLS LAST, g", Sort)
    flags = [(k.descending, k.nulls_first) for k in sort.keys]
    assert flags == [(True, True), (False, False), (False, False)]


def test_aggregates_in_having_and_order_by_are_extracted_once() -> None:
    text = plan_text(
        "SELECT g, sum(a) AS s FROM t GROUP BY g HAVING sum(a) > 3 AND count(*) > 1 ORDER BY max(b)"
    )
    (agg,) = nodes_of(
        "SELECT g, sum(a) AS s FROM t GROUP BY g HAVING sum(a) > 3 AND count(*) > 1 ORDER BY max(b)",
        Aggregate,
    )
    fns = [a.child.fn for a in agg.aggs]
    assert fns == ["sum", "count", "max"], text
    assert [str(k) for k in agg.keys] == ["g"]
    assert "Filter ((__agg_0 > 3) AND (__agg_1 > 1))" in text
    assert "__agg_2 AS __order_0" in text


def test_group_by_position_alias_and_expression_agree() -> None:
    expected = None
    for group in ("1", "y", "year(d)"):
        (agg,) = nodes_of(f"SELECT year(d) AS y, count(*) FROM t GROUP BY {group}", Aggregate)
        keys = tuple(str(k) for k in agg.keys)
        expected = expected or keys
        assert keys == expected, group
    assert expected is not None and "__group_0" in expected[0]


def test_group_by_prefers_input_column_over_alias() -> None:
    # DuckDB: GROUP BY a groups by the input column a, not by the alias a = a + 1
    (agg,) = nodes_of("SELECT a + 1 AS a FROM t GROUP BY a", Aggregate)
    assert [str(k) for k in agg.keys] == ["a"]


def test_order_by_bare_alias_wins_over_input_column() -> None:
    (sort,) = nodes_of("SELECT a AS b, b AS a FROM t ORDER BY a", Sort)
    assert sort.keys[0].expr.same_as(Column("a"))  # the output column a (= input b)
    (project,) = [
        p
        for p in nodes_of("SELECT a AS b, b AS a FROM t ORDER BY a + 0", Project)
        if any("__order" in str(e) for e in p.exprs)
    ]
    assert "(a + 0) AS __order_0" in [str(e) for e in project.exprs]


def test_order_by_expression_matching_select_item_needs_no_hidden_column() -> None:
    text = plan_text("SELECT a + b AS s FROM t ORDER BY a + b")
    assert "__order" not in text
    text = plan_text("SELECT g, count(*) FROM t GROUP BY g ORDER BY count(*) DESC")
    assert "__order" not in text


def test_hidden_order_column_is_dropped_again() -> None:
    plan = to_plan("SELECT a FROM t ORDER BY b LIMIT 3", schema=SCHEMA)
    assert isinstance(plan, Project) and [str(e) for e in plan.exprs] == ["a"]


def test_select_star_expands_with_schema_and_passes_through_without() -> None:
    assert [str(e) for e in nodes_of("SELECT * FROM t", Project)[0].exprs] == [
        "a AS a",
        "b AS b",
        "g AS g",
        "d AS d",
    ]
    plan = to_plan("SELECT * FROM t WHERE a > 1")
    assert isinstance(plan, Filter) and isinstance(plan.child, Scan)


def test_count_distinct_and_approx_aggregates() -> None:
    (agg,) = nodes_of(
        "SELECT count(DISTINCT g), approx_count_distinct(a), approx_quantile(b, 0.9), count(*) FROM t",
        Aggregate,
    )
    calls = [a.child for a in agg.aggs]
    assert all(isinstance(c, AggCall) for c in calls)
    assert (calls[0].fn, calls[0].distinct) == ("count", True)
    assert calls[1].fn == "approx_count_distinct"
    assert (calls[2].fn, calls[2].option("q")) == ("approx_quantile", 0.9)
    assert (calls[3].fn, calls[3].args) == ("count", ())
    assert agg.keys == ()


def test_in_between_like_is_null_case_cast() -> None:
    (flt,) = nodes_of(
        "SELECT a FROM t WHERE a IN (1, 2, NULL) AND b NOT BETWEEN 1 AND 3 "
        "AND g ILIKE 'x%' AND d IS NOT NULL AND CAST(a AS DOUBLE) > 1.5 "
        "AND CASE WHEN a > 1 THEN 'p' ELSE 'n' END = 'p'",
        Filter,
    )
    text = str(flt.predicate)
    assert "(a IN (1, 2, NULL))" in text
    assert "(NOT (b BETWEEN 1 AND 3))" in text
    assert "(d IS NOT NULL)" in text
    assert "CASE WHEN (a > 1) THEN 'p' ELSE 'n' END" in text
    found = [n for n in _expr_walk(flt.predicate) if isinstance(n, Cast)]
    assert found and found[0].dtype == pa.float64()
    assert any(isinstance(n, InList) for n in _expr_walk(flt.predicate))


def _expr_walk(expr):  # type: ignore[no-untyped-def]
    yield expr
    for child in expr.children():
        yield from _expr_walk(child)


def test_division_is_floating_point_like_duckdb() -> None:
    (project,) = nodes_of("SELECT a / b AS r, a // b AS i FROM t", Project)
    ratio = project.exprs[0].child
    assert ratio.fn == "divide" and all(isinstance(a, Cast) for a in ratio.args)
    assert project.exprs[1].child.fn == "int_divide"


def test_numeric_literals_follow_duckdb_types() -> None:
    (project,) = nodes_of("SELECT 1 AS i, 1.25 AS d, 1e2 AS f, -3 AS n FROM t", Project)
    values = [e.child.value for e in project.exprs]
    assert values == [1, decimal.Decimal("1.25"), 100.0, -3]
    assert isinstance(values[2], float)


def test_date_literal_minus_interval_is_folded() -> None:
    (flt,) = nodes_of(
        "SELECT a FROM t WHERE d <= DATE '1998-12-01' - INTERVAL '90' DAY "
        "AND d < DATE '2020-01-31' + INTERVAL 1 MONTH",
        Filter,
    )
    literals = [n.value for n in _expr_walk(flt.predicate) if isinstance(n, Literal)]
    assert literals == [dt.date(1998, 9, 2), dt.date(2020, 2, 29)]


def test_date_functions() -> None:
    (project,) = nodes_of(
        "SELECT year(d), month(d), extract(day FROM d), date_trunc('month', d), quarter(d) FROM t",
        Project,
    )
    calls = [e.child for e in project.exprs]
    assert [(c.fn, c.options) for c in calls[:3]] == [
        ("extract", (("field", "year"),)),
        ("extract", (("field", "month"),)),
        ("extract", (("field", "day"),)),
    ]
    assert calls[3].fn == "date_trunc" and calls[3].option("unit") == "month"


def test_cte_and_derived_table() -> None:
    sql = (
        "WITH c AS (SELECT g, a * 2 AS v FROM t WHERE a > 0) "
        "SELECT s.g, sum(s.v) AS total FROM (SELECT * FROM c) AS s GROUP BY s.g"
    )
    text = plan_text(sql)
    assert text.count("Scan t") == 1
    assert "Aggregate keys=[g] aggs=[sum(v) AS __agg_0]" in text


def test_union_all_and_union() -> None:
    plan = to_plan("SELECT a FROM t UNION ALL SELECT b FROM t UNION ALL SELECT a FROM t ORDER BY 1")
    assert isinstance(plan, Sort) and isinstance(plan.child, Union)
    assert len(plan.child.inputs) == 3
    plan = to_plan("SELECT a FROM t UNION SELECT b FROM t")
    assert isinstance(plan, Distinct) and isinstance(plan.child, Union)


def test_distinct_then_sort() -> None:
    plan = to_plan("SELECT DISTINCT g FROM t ORDER BY g")
    assert isinstance(plan, Sort) and isinstance(plan.child, Distinct)


def test_having_alias_without_schema_is_the_alias() -> None:
    # above an Aggregate a name that is not a group key can only be the alias
    text = plan_text("SELECT g, count(*) AS n FROM t GROUP BY g HAVING n > 1", schema=None)
    assert "Filter (__agg_0 > 1)" in text


def test_group_by_alias_without_schema_when_only_alias_reading_is_valid() -> None:
    text = plan_text("SELECT year(d) AS y, count(*) FROM t GROUP BY y", schema=None)
    assert "year(d) AS __group_0" in text


def test_qualified_columns() -> None:
    text = plan_text("SELECT x.a FROM t AS x WHERE t2.a > 1".replace("t2", "x"))
    assert "Filter (a > 1)" in text
    with pytest.raises(BindError, match="unknown table 'u'"):
        to_plan("SELECT u.a FROM t")


def test_unknown_column_suggests_near_matches() -> None:
    with pytest.raises(BindError, match="did you mean"):
        to_plan("SELECT aa FROM t", schema=SCHEMA)


def test_ungrouped_column_is_an_error_with_position() -> None:
    with pytest.raises(BindError, match=r"'b' at line 1, column 11 must appear in GROUP BY"):
        to_plan("SELECT a, b FROM t GROUP BY a")


def test_aggregate_in_where_is_an_error() -> None:
    with pytest.raises(BindError, match="not allowed in WHERE"):
        to_plan("SELECT a FROM t WHERE sum(a) > 1")


def test_group_by_all() -> None:
    (agg,) = nodes_of("SELECT g, year(d) AS y, count(*) FROM t GROUP BY ALL", Aggregate)
    assert len(agg.keys) == 2


def test_case_insensitive_names_follow_schema_case() -> None:
    (project,) = nodes_of("SELECT A, G FROM T", Project)
    assert [str(e) for e in project.exprs] == ["a AS a", "g AS g"]


def test_group_key_matching_ignores_quotes_case_and_qualifiers() -> None:
    text = plan_text('SELECT x."A", count(*) FROM t AS x GROUP BY a')
    assert "Project [a AS a, __agg_0 AS COUNT(*)]" in text
    (agg,) = nodes_of("SELECT * FROM t GROUP BY a, b, g, d", Aggregate)
    assert [str(k) for k in agg.keys] == ["a", "b", "g", "d"] and agg.aggs == ()


def test_is_distinct_from_never_returns_null() -> None:
    (project,) = nodes_of(
        "SELECT a IS NOT DISTINCT FROM b AS s, a IS DISTINCT FROM b AS d FROM t", Project
    )
    same, different = (e.child for e in project.exprs)
    assert "CASE WHEN ((a IS NULL) AND (b IS NULL)) THEN TRUE" in str(same)
    assert different.fn == "not"


def test_limit_all_group_by_empty_and_having_without_aggregates() -> None:
    plan = to_plan("SELECT a FROM t LIMIT ALL OFFSET 3")
    assert isinstance(plan, Limit) and (plan.limit, plan.offset) == (None, 3)
    (agg,) = nodes_of("SELECT count(*) + 1 FROM t GROUP BY ()", Aggregate)
    assert agg.keys == ()
    (agg,) = nodes_of("SELECT 1 FROM t HAVING 1 = 1", Aggregate)
    assert agg.keys == () and len(agg.aggs) == 1  # one group even with nothing to aggregate


def test_duplicate_cte_name_is_an_error() -> None:
    with pytest.raises(BindError, match="defined twice"):
        to_plan("WITH c AS (SELECT a FROM t), c AS (SELECT b FROM t) SELECT * FROM c")


def test_math_and_string_functions() -> None:
    (project,) = nodes_of(
        "SELECT floor(a), ceil(a), sqrt(a), trim(g), ltrim(g), rtrim(g), contains(g, 'x') FROM t",
        Project,
    )
    assert [e.child.fn for e in project.exprs] == [
        "floor",
        "ceil",
        "sqrt",
        "trim",
        "ltrim",
        "rtrim",
        "contains",
    ]


def test_interval_on_a_column_is_a_duration() -> None:
    (project,) = nodes_of(
        "SELECT d + INTERVAL 36 HOUR AS e, d - INTERVAL 2 WEEK AS f FROM t", Project
    )
    plus, minus = (e.child for e in project.exprs)
    assert plus.fn == "add" and plus.args[1].same_as(
        Literal(dt.timedelta(hours=36), pa.duration("us"))
    )
    assert minus.fn == "subtract" and minus.args[1].value == dt.timedelta(weeks=2)
