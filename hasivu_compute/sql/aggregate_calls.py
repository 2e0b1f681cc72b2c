"""Lowering of the aggregates with extra syntax: exact quantiles, string_agg, FILTER.

* ``median(x)``, ``quantile_cont(x, q)``, ``quantile_disc(x, q)`` / ``quantile(x, q)``:
  ``q`` is a number literal in [-1, 1] (negative: counted from the top, as DuckDB)
  or a list of them (``[0.25, 0.75]``, one result list per group).
* ``string_agg(s [, sep] [ORDER BY k [DESC] [NULLS FIRST], ...])``, also spelled
  ``group_concat`` and ``listagg``: ``sep`` a string literal (default ``','``) or
  NULL; the ORDER BY keys travel as extra arguments of the ``AggCall``.
* ``agg(...) FILTER (WHERE cond)`` on any aggregate: the aggregate over its first
  argument masked by ``CASE WHEN cond THEN x END`` (``count(*)`` counts
  ``CASE WHEN cond THEN 1 END``). Exact because every aggregate here skips NULL
  inputs, and a NULL ``cond`` is not taken, as FILTER counts it false.
"""

from __future__ import annotations

from sqlglot import exp

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr.nodes import AggCall, Case, Expr, lit, make_options
from hasivu_compute.sql.clauses import refuse_unread
from hasivu_compute.sql.lower_expr import Scope, lower_expr

__all__ = ["QUANTILE_NODES", "lower_filtered", "lower_quantile", "lower_string_agg"]

#: sqlglot node -> registry name of the exact quantile aggregates.
QUANTILE_NODES: dict[type[exp.Expr], str] = {
    exp.Median: "median",
    exp.PercentileCont: "quantile_cont",
    exp.PercentileDisc: "quantile_disc",
    exp.Quantile: "quantile_disc",  # DuckDB: quantile() is quantile_disc()
}
_ORDERED_ARGS = frozenset({"this", "desc", "nulls_first"})
_FILTER_ARGS = frozenset({"this", "expression"})
_WHERE_ARGS = frozenset({"this"})


def _written(node: exp.Expr, scope: Scope, default: str) -> str:
    name = scope.source.function_name(node) if isinstance(node, exp.Func) else None
    return (name or default).lower()


def _refuse_distinct(node: exp.Expr, scope: Scope, name: str) -> None:
    if isinstance(node.this, exp.Distinct):
        hint = "only count(DISTINCT x) is supported; aggregate over SELECT DISTINCT instead"
        raise scope.source.unsupported(node, f"{name}(DISTINCT ...)", hint=hint)


def lower_quantile(node: exp.Expr, scope: Scope) -> AggCall:
    """``AggCall`` of median / quantile_cont / quantile_disc / quantile."""
    fn = QUANTILE_NODES[type(node)]
    name = _written(node, scope, fn)
    _refuse_distinct(node, scope, name)
    value = lower_expr(node.this, scope)
    if fn == "median":
        return AggCall(fn, (value,))
    q_node = node.args.get("quantile") if isinstance(node, exp.Quantile) else node.expression
    if q_node is None:
        raise BindError(f"{name}() needs a quantile argument{scope.source.where(node)}")
    q = _quantiles(q_node, name, scope)
    return AggCall(fn, (value,), options=make_options(q=q))


def _quantiles(node: exp.Expr, name: str, scope: Scope) -> float | tuple[float, ...]:
    """The constant quantile(s) of a quantile call, checked to be in [-1, 1]."""
    if not isinstance(node, exp.Array):
        return _quantile(node, name, scope)
    values = tuple(_quantile(item, name, scope) for item in node.expressions)
    if len({v < 0 for v in values}) > 1:  # DuckDB: one direction per call
        raise BindError(
            f"{name}(): the quantiles must be all >= 0 or all < 0, got "
            f"{list(values)}{scope.source.where(node)}"
        )
    return values


def _quantile(node: exp.Expr, name: str, scope: Scope) -> float:
    where = scope.source.where(node)
    if isinstance(node, exp.Null):
        raise BindError(f"{name}(): the quantile must not be NULL{where}")
    negative = isinstance(node, exp.Neg)
    literal = node.this if negative else node
    if not isinstance(literal, exp.Literal) or literal.is_string:
        hint = "write the quantile as a number literal such as 0.25, or a list [0.25, 0.75]"
        raise scope.source.unsupported(node, f"{name}() with a non-constant quantile", hint=hint)
    value = -float(literal.this) if negative else float(literal.this)
    if not -1.0 <= value <= 1.0:
        raise BindError(
            f"{name}(): the quantile must be in [0, 1] (or in [-1, 0) to count from the "
            f"top), got {value}{where}"
        )
    return value


def lower_string_agg(node: exp.GroupConcat, scope: Scope) -> AggCall:
    """``AggCall`` of string_agg / group_concat / listagg."""
    name = _written(node, scope, "string_agg")
    refuse_unread(node, frozenset({"this", "separator"}), scope.source)
    _refuse_distinct(node, scope, name)
    value_node = node.this
    keys: list[Expr] = []
    order: list[tuple[bool, bool]] = []
    if isinstance(value_node, exp.Order):
        refuse_unread(value_node, frozenset({"this", "expressions"}), scope.source)
        for ordered in value_node.expressions:
            refuse_unread(ordered, _ORDERED_ARGS, scope.source)
            keys.append(lower_expr(ordered.this, scope))
            order.append((bool(ordered.args.get("desc")), bool(ordered.args.get("nulls_first"))))
        value_node = value_node.this
    separator = node.args.get("separator")
    sep: str | None = ","
    if isinstance(separator, exp.Null):
        sep = None
    elif isinstance(separator, exp.Literal) and separator.is_string:
        sep = separator.this
    elif separator is not None:
        hint = "write the separator as a string literal such as ', '"
        raise scope.source.unsupported(
            separator, f"{name}() with a non-constant separator", hint=hint
        )
    args = (lower_expr(value_node, scope), *keys)
    return AggCall("string_agg", args, options=make_options(sep=sep, order=tuple(order)))


def lower_filtered(call: AggCall, node: exp.Filter, scope: Scope) -> AggCall:
    """``call`` restricted to the rows where the FILTER condition of ``node`` is TRUE."""
    refuse_unread(node, _FILTER_ARGS, scope.source)
    where = node.expression
    refuse_unread(where, _WHERE_ARGS, scope.source)
    condition = lower_expr(where.this, scope)
    if not call.args:  # count(*): count the rows that pass
        return AggCall("count", (Case(((condition, lit(1)),)),))
    masked = Case(((condition, call.args[0]),))
    return AggCall(call.fn, (masked, *call.args[1:]), call.distinct, call.options)
