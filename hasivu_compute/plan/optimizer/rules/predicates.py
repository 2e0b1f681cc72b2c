"""Rule: push filters down towards (and into) the scan.

Before / after::

    Filter (school_id = 17)                  Project [item_id, (amount * 2) AS a2]
      Project [item_id, (amount * 2) AS a2]  ->  Scan orders filter=(school_id = 17)
        Scan orders

A filter moves below Project (column references replaced by the projected
expressions), Sort, Distinct, Exchange and every input of a Union; the conjuncts
of a filter over an Aggregate that only mention group keys move below it (a
HAVING on keys is a WHERE); filters over a join go to the side they name, or
into the join as hash keys (see :mod:`.joins`). Adjacent filters merge, and a filter directly over a
scan becomes the scan's pushed predicate, where pruning can use it. Nothing moves
below a Limit (that would change which rows are kept).
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.plan._expr import (
    BoundColumn,
    Column,
    Expr,
    WindowCall,
    columns_referenced,
    conjoin,
    split_conjunction,
    strip_alias,
    substitute,
    unalias,
)
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Exchange,
    Filter,
    Join,
    PartialAggregate,
    PlanNode,
    Project,
    Scan,
    Sort,
    Union,
    Window,
    transform_down,
)
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.rules.joins import filter_over_join, normalize_join


def _and(a: Expr | None, b: Expr) -> Expr:
    return b if a is None else (a & b)


def _through_project(pred: Expr, project: Project) -> Expr:
    mapping = {_name(e): strip_alias(e) for e in project.exprs}
    return substitute(pred, mapping)


def _name(expr: Expr) -> str:
    from hasivu_compute.plan._expr import output_name

    return output_name(expr)


def _through_union(pred: Expr, union: Union) -> list[Expr]:
    first = output_schema(union.inputs[0]).names
    out = []
    for child in union.inputs:
        names = output_schema(child).names
        mapping: dict[str, Expr] = {
            a: Column(b) for a, b in zip(first, names, strict=True) if a != b
        }
        out.append(substitute(pred, mapping) if mapping else pred)
    return out


def _over_aggregate(node: Filter, agg: Aggregate) -> PlanNode:
    if not agg.keys or isinstance(agg, PartialAggregate) or type(agg) is not Aggregate:
        return node
    keys = {_name(k): strip_alias(k) for k in agg.keys}
    down: list[Expr] = []
    up: list[Expr] = []
    for part in split_conjunction(node.predicate):
        refs = columns_referenced(part)
        (down if refs and refs <= keys.keys() else up).append(part)
    if not down:
        return node
    pushed = Filter(agg.child, substitute(_conj(down), keys))
    new_agg = replace(agg, child=pushed)
    rest = conjoin(up)
    return new_agg if rest is None else Filter(new_agg, rest)


def _conj(parts: list[Expr]) -> Expr:
    out = conjoin(parts)
    assert out is not None
    return out


def _push(node: PlanNode) -> PlanNode:
    if isinstance(node, Join):
        return normalize_join(node)
    if not isinstance(node, Filter):
        return node
    child, pred = node.child, node.predicate
    if isinstance(child, Filter):
        return Filter(child.child, child.predicate & pred)
    if isinstance(child, Scan):
        return replace(child, filter=_and(child.filter, pred))
    if isinstance(child, Project):
        return replace(child, child=Filter(child.child, _through_project(pred, child)))
    if isinstance(child, (Sort, Distinct, Exchange)):
        return child.with_children([Filter(child.child, pred)])
    if isinstance(child, Union):
        preds = _through_union(pred, child)
        return Union(tuple(Filter(c, p) for c, p in zip(child.inputs, preds, strict=True)))
    if isinstance(child, Aggregate):
        return _over_aggregate(node, child)
    if isinstance(child, Join):
        return filter_over_join(node, child)
    if isinstance(child, Window):
        return _over_window(node, child)
    return node


def _over_window(node: Filter, window: Window) -> PlanNode:
    """Conjuncts that read only columns every window call partitions by go below the
    Window: they keep or drop whole partitions, so no window value changes."""
    shared: set[str] | None = None
    for f in window.funcs:
        call = unalias(f)
        assert isinstance(call, WindowCall)
        keys = {k.name for k in call.partition_by if isinstance(k, Column | BoundColumn)}
        shared = keys if shared is None else shared & keys
    down: list[Expr] = []
    up: list[Expr] = []
    for part in split_conjunction(node.predicate):
        refs = columns_referenced(part)
        (down if refs and shared and refs <= shared else up).append(part)
    if not down:
        return node
    moved = replace(window, child=Filter(window.child, _conj(down)))
    rest = conjoin(up)
    return moved if rest is None else Filter(moved, rest)


def push_down_predicates(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Move every filter as far down as it can go, into the scan when possible.

    Example:
        >>> import pyarrow as pa
        >>> from hasivu_compute.expr import col
        >>> from hasivu_compute.plan.binder import bind_plan
        >>> from hasivu_compute.plan.nodes import Filter, Project, Scan
        >>> from hasivu_compute.plan.render import render
        >>> schema = pa.schema([("a", pa.int64()), ("b", pa.int64())])
        >>> p = bind_plan(Filter(Project(Scan("t"), (col("a"),)), col("a") > 1),
        ...               lambda n, v: schema)
        >>> print(render(push_down_predicates(p, OptimizerContext())))
        Project [a]
          Scan t filter=(a > 1)
    """
    return transform_down(plan, _push_here)


def _push_here(node: PlanNode) -> PlanNode:
    # Repeat at this position so merged filters keep moving in the same pass.
    for _ in range(64):
        new = _push(node)
        if new is node or not isinstance(new, Filter):
            return new
        node = new
    return node
