"""Aggregate calls in SQL: finding them, naming them and lowering them to ``AggCall``.

An aggregate query is lowered as ``Aggregate(keys, aggs)`` followed by the
expressions of the SELECT list, HAVING and ORDER BY rewritten over the
Aggregate's output columns. This module finds every aggregate call in those
clauses once (equal calls share one output column) and refuses windows,
subqueries and nested aggregates on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlglot import exp

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr.nodes import AggCall, Expr, Literal, make_options
from hasivu_compute.sql.aggregate_calls import (
    QUANTILE_NODES,
    lower_filtered,
    lower_quantile,
    lower_string_agg,
)
from hasivu_compute.sql.clauses import refuse_unread
from hasivu_compute.sql.lower_expr import (
    SUBQUERY_HINT,
    Scope,
    function_hint,
    lower_expr,
)
from hasivu_compute.sql.parsing import SqlText

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "GROUPING_NODES",
    "contains_aggregate",
    "find_aggregates",
    "is_aggregate_call",
    "lower_aggregate",
    "normal_key",
    "window_inputs",
]

#: The aggregate functions SQL can call (named in errors about the others).
AGGREGATE_FUNCTIONS = (
    *("count", "sum", "avg", "min", "max", "var_samp", "var_pop", "variance", "stddev"),
    *("stddev_samp", "stddev_pop", "approx_count_distinct", "approx_quantile", "median"),
    *("quantile_cont", "quantile_disc", "quantile", "string_agg", "group_concat", "listagg"),
)

_SIMPLE: dict[type[exp.Expr], str] = {
    exp.Sum: "sum",
    exp.Avg: "avg",
    exp.Min: "min",
    exp.Max: "max",
    exp.Variance: "var_samp",
    exp.VariancePop: "var_pop",
    exp.Stddev: "stddev_samp",
    exp.StddevSamp: "stddev_samp",
    exp.StddevPop: "stddev_pop",
    exp.ApproxDistinct: "approx_count_distinct",
}


#: sqlglot arguments each aggregate reads; others that are set are refused (``min(x, 2)``
#: is DuckDB's list of the two smallest values, not ``min(x)``).
_ONE_ARGUMENT = frozenset({"this", "expressions"})  # extra expressions: refused below, by count
_READ: dict[type[exp.Expr], frozenset[str]] = {
    exp.Count: frozenset({"this", "expressions", "big_int"}),  # big_int: DuckDB's count type
    exp.ApproxQuantile: frozenset({"this", "quantile"}),
    exp.Median: frozenset({"this"}),
    exp.PercentileCont: frozenset({"this", "expression"}),
    exp.PercentileDisc: frozenset({"this", "expression"}),
    exp.Quantile: frozenset({"this", "quantile"}),
}
#: GROUPING() is an AggFunc to sqlglot; to us a constant per grouping set (``grouping_sets``).
GROUPING_NODES = (exp.Grouping, exp.GroupingId)


def _sql_name(node: exp.Expr, source: SqlText) -> str:
    """The aggregate's name as written (``median``, not sqlglot's ``MEDIAN``)."""
    name = source.function_name(node) if isinstance(node, exp.Func) else None
    return name if name is not None else node.key.lower()


def normal_key(node: exp.Expr, resolve: Callable[[exp.Column], str | None] | None = None) -> str:
    """A text key equal for expressions that mean the same (parentheses, qualifiers, case).

    ``resolve`` names the input column a reference reads (None: not an input column):
    then ``f.g`` and ``d.g`` of a join stay two keys while ``g`` and ``t.g`` of one
    table are one. Without it (or where it answers None) the qualifier is dropped.
    """

    def strip(sub: exp.Expr) -> exp.Expr:
        if isinstance(sub, exp.Paren):
            inner: exp.Expr = sub.this
            return inner
        if isinstance(sub, exp.Column) and not isinstance(sub.this, exp.Star):
            name = resolve(sub) if resolve is not None else None
            if name is not None:
                return exp.column(name, quoted=True)
            if sub.args.get("table") is not None:
                return exp.column(sub.this.copy())
        return sub

    def fold(sub: exp.Expr) -> exp.Expr:
        # DuckDB matches names case-insensitively, quoted or not
        if isinstance(sub, exp.Identifier):
            return exp.Identifier(this=sub.name.lower(), quoted=False)
        return sub

    copy = node.copy().transform(strip).transform(fold)
    return str(copy.sql(dialect="duckdb", normalize=True))


def find_aggregates(node: exp.Expr, source: SqlText) -> Iterator[exp.Expr]:
    """The aggregate calls in ``node`` (outermost first), refusing what we cannot lower.

    Raises:
        UnsupportedSQLError: a subquery.
        BindError: an aggregate call inside another aggregate call.
    """
    if isinstance(node, exp.Window):  # its head is not a group aggregate; its inputs may hold some
        for part in window_inputs(node):
            yield from find_aggregates(part, source)
        return
    if isinstance(node, exp.WithinGroup):
        hint = "write quantile_cont(x, q) / string_agg(s, sep ORDER BY k) instead"
        raise source.unsupported(node, "WITHIN GROUP (ORDER BY ...)", keyword="WITHIN", hint=hint)
    if isinstance(node, exp.Subquery | exp.Select | exp.Exists):
        raise source.unsupported(node, "subquery in an expression", hint=SUBQUERY_HINT)
    if isinstance(node, GROUPING_NODES):
        return
    if is_aggregate_call(node):
        call = node.this if isinstance(node, exp.Filter) else node
        inside = [*call.iter_expressions()]
        if isinstance(node, exp.Filter):
            inside.append(node.expression)
        for inner in inside:
            for sub in inner.walk():
                if isinstance(sub, exp.AggFunc):
                    raise BindError(
                        f"aggregate {sub.sql(dialect='duckdb')} nested inside "
                        f"{node.sql(dialect='duckdb')}{source.where(sub)}"
                    )
        yield node
        return
    for child in node.iter_expressions():
        yield from find_aggregates(child, source)


def window_inputs(node: exp.Window) -> list[exp.Expr]:
    """What a window call reads below the window: its function's arguments and its
    partition and order keys (where group aggregates may appear: ``sum(sum(x)) OVER ()``)."""
    head = node.this
    while isinstance(head, exp.IgnoreNulls | exp.RespectNulls):
        head = head.this
    if isinstance(head, exp.Filter):
        head = head.this
    parts = list(head.iter_expressions()) + list(node.args.get("partition_by") or [])
    order = node.args.get("order")
    return parts + ([order] if order is not None else [])


def contains_aggregate(node: exp.Expr) -> bool:
    """Whether ``node`` calls a group aggregate (a window function's head is not one)."""
    if isinstance(node, exp.Window):
        return any(contains_aggregate(p) for p in window_inputs(node))
    if isinstance(node, exp.AggFunc):
        return True
    return any(contains_aggregate(c) for c in node.iter_expressions())


def is_aggregate_call(node: exp.Expr) -> bool:
    """Whether ``node`` is one aggregate call of the SELECT: ``agg(...)`` or
    ``agg(...) FILTER (WHERE ...)`` (GROUPING() is not one)."""
    if isinstance(node, exp.Filter):
        return isinstance(node.this, exp.AggFunc) and not isinstance(node.this, GROUPING_NODES)
    return isinstance(node, exp.AggFunc) and not isinstance(node, GROUPING_NODES)


def lower_aggregate(node: exp.Expr, scope: Scope) -> AggCall:
    """``AggCall`` of one SQL aggregate; arguments are lowered in ``scope`` (input columns)."""
    source = scope.source
    if isinstance(node, exp.Filter):
        return lower_filtered(lower_aggregate(node.this, scope), node, scope)
    if type(node) in QUANTILE_NODES:
        refuse_unread(node, _READ[type(node)], source)
        return lower_quantile(node, scope)
    if isinstance(node, exp.GroupConcat):
        return lower_string_agg(node, scope)
    fn = _SIMPLE.get(type(node))
    if fn is None and not isinstance(node, exp.Count | exp.ApproxQuantile):
        name = _sql_name(node, source)
        hint = function_hint(name, AGGREGATE_FUNCTIONS)
        raise source.unsupported(node, f"aggregate function {name}()", hint=hint)
    refuse_unread(node, _READ.get(type(node), _ONE_ARGUMENT), source)
    if isinstance(node, exp.Count):
        return _count(node, scope)
    if isinstance(node, exp.ApproxQuantile):
        return _approx_quantile(node, scope)
    assert fn is not None
    arg = node.this
    if isinstance(arg, exp.Order):
        hint = "ORDER BY inside an aggregate is supported in string_agg(); drop it here"
        raise source.unsupported(node, f"{_sql_name(node, source)}(... ORDER BY ...)", hint=hint)
    if isinstance(arg, exp.Distinct):
        hint = "only count(DISTINCT x) is supported"
        raise source.unsupported(node, f"{_sql_name(node, source)}(DISTINCT ...)", hint=hint)
    if node.expressions or arg is None:
        count = len(node.expressions) + 1
        raise source.unsupported(node, f"{_sql_name(node, source)}() with {count} arguments")
    return AggCall(fn, (lower_expr(arg, scope),))


def _count(node: exp.Count, scope: Scope) -> AggCall:
    arg = node.this
    if arg is None or isinstance(arg, exp.Star):
        return AggCall("count", ())
    if isinstance(arg, exp.Distinct):
        if len(arg.expressions) != 1:
            raise scope.source.unsupported(node, "count(DISTINCT) over several columns")
        return AggCall("count", (lower_expr(arg.expressions[0], scope),), distinct=True)
    if node.expressions:
        raise scope.source.unsupported(node, "count() with several arguments")
    return AggCall("count", (lower_expr(arg, scope),))


def _approx_quantile(node: exp.ApproxQuantile, scope: Scope) -> AggCall:
    quantile = node.args.get("quantile")
    value = lower_expr(quantile, scope) if quantile is not None else None
    if not isinstance(value, Literal) or isinstance(value.value, bool):
        raise scope.source.unsupported(node, "approx_quantile with a non-constant quantile")
    try:
        q = float(value.value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise scope.source.unsupported(node, "approx_quantile with a list of quantiles") from None
    if not 0.0 <= q <= 1.0:
        raise BindError(
            f"approx_quantile: quantile must be in [0, 1], got {q}{scope.source.where(node)}"
        )
    args: tuple[Expr, ...] = (lower_expr(node.this, scope),)
    return AggCall("approx_quantile", args, options=make_options(q=q))
