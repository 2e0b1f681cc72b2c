"""Rule: constant folding and boolean simplification of every expression.

Before / after::

    Filter ((1 + 1) = 2) AND (school_id = 17)        Scan orders filter=(school_id = 17)
      Scan orders                              ->    (after predicate push-down)
    Filter (school_id = 17)
      Scan orders

A filter that folds to TRUE disappears; one that folds to FALSE or NULL stays (it
keeps no row, and evaluating a constant is free).
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.plan._expr import Alias, BoundColumn, Column, Expr, Literal, is_true, simplify
from hasivu_compute.plan.nodes import (
    Aggregate,
    Filter,
    Join,
    PlanNode,
    Project,
    Scan,
    Sort,
    transform_up,
)
from hasivu_compute.plan.optimizer import OptimizerContext


def _simplified(exprs: tuple[Expr, ...]) -> tuple[Expr, ...] | None:
    out = tuple(_output_kept(e, simplify(e)) for e in exprs)
    if all(a.same_as(b) for a, b in zip(out, exprs, strict=True)):
        return None
    return out


def _output_kept(before: Expr, after: Expr) -> Expr:
    """``after``, unless it turned an output expression into a bare column reference
    (``flag AND TRUE`` -> ``flag``): a column can be NOT NULL where the expression is
    typed nullable (``may_be_null``), and a rule must not change the output schema."""
    if _is_reference(after) and not _is_reference(before):
        return before
    return after


def _is_reference(expr: Expr) -> bool:
    while isinstance(expr, Alias):
        expr = expr.child
    return isinstance(expr, BoundColumn | Column)


def _one(expr: Expr) -> Expr:
    new = simplify(expr)
    return expr if new.same_as(expr) else new


def _rewrite(node: PlanNode) -> PlanNode:
    if isinstance(node, Filter):
        pred = _one(node.predicate)
        if is_true(pred):
            return node.child
        return node if pred is node.predicate else replace(node, predicate=pred)
    if isinstance(node, Scan) and node.filter is not None:
        pred = _one(node.filter)
        if pred is node.filter:
            return node
        return replace(node, filter=None if is_true(pred) else pred)
    if isinstance(node, Project):
        exprs = _simplified(node.exprs)
        return node if exprs is None else replace(node, exprs=exprs)
    if isinstance(node, Aggregate):
        keys = _simplified(node.keys)
        aggs = _simplified(node.aggs)
        if keys is None and aggs is None:
            return node
        return replace(node, keys=keys or node.keys, aggs=aggs or node.aggs)
    if isinstance(node, Join) and node.condition is not None:
        cond = _one(node.condition)
        if cond is node.condition:
            return node
        return replace(node, condition=None if is_true(cond) else cond)
    if isinstance(node, Sort):
        new_keys = tuple(replace(k, expr=_one(k.expr)) for k in node.keys)
        unchanged = all(a.expr is b.expr for a, b in zip(new_keys, node.keys, strict=True))
        if unchanged and not any(isinstance(k.expr, Literal) for k in node.keys):
            return node
        # A constant key orders nothing; a sort with only constant keys is a no-op.
        kept = tuple(k for k in new_keys if not isinstance(k.expr, Literal))
        return replace(node, keys=kept) if kept else node.child
    return node


def simplify_expressions(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Fold constants and simplify boolean logic in every node's expressions.

    Example:
        >>> import pyarrow as pa
        >>> from hasivu_compute.expr import col, lit
        >>> from hasivu_compute.plan.binder import bind_plan
        >>> from hasivu_compute.plan.nodes import Filter, Scan
        >>> from hasivu_compute.plan.render import render
        >>> p = bind_plan(Filter(Scan("t"), (col("a") > 1) & (lit(1) == 1)),
        ...               lambda n, v: pa.schema([("a", pa.int64())]))
        >>> print(render(simplify_expressions(p, OptimizerContext())))
        Filter (a > 1)
          Scan t
    """
    return transform_up(plan, _rewrite)
