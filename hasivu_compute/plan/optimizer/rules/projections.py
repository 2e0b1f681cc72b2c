"""Rule: read and compute only the columns someone above needs.

Before / after::

    Aggregate keys=[item_id] aggs=[sum(amount) AS revenue]
      Scan orders                      ->   Scan orders columns=[item_id, amount]

Required column names flow top-down: a Project drops expressions nobody reads
(and merges into a Project below it when no computed expression would run twice),
an Aggregate drops aggregates nobody reads (keys always stay: they define the
groups), a Join asks each input for what is needed of it plus its keys and the
columns of its condition, a Union keeps the same positions in every input, and each scan keeps
only what is required (at least one column, so row counts survive). The
scan's pushed filter is separate: its columns are read for filtering even when
they are not output. The root keeps its full output, so the schema never changes.
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.expr.visitors import walk
from hasivu_compute.plan._expr import (
    Alias,
    BoundColumn,
    Column,
    Expr,
    columns_referenced,
    output_name,
    strip_alias,
    substitute,
)
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Aggregate,
    Exchange,
    Filter,
    FinalAggregate,
    Join,
    Limit,
    PlanNode,
    Project,
    Repeat,
    Scan,
    Sort,
    Union,
    Window,
)
from hasivu_compute.plan.optimizer import OptimizerContext

Need = frozenset[str] | None  # None: every output column is needed


def _refs(exprs: tuple[Expr, ...]) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for e in exprs:
        out |= columns_referenced(e)
    return out


def _scan(node: Scan, need: Need) -> PlanNode:
    if need is None:
        return node
    assert node.table_schema is not None
    current = node.columns if node.columns is not None else tuple(node.table_schema.names)
    kept = tuple(c for c in current if c in need) or current[:1]
    if kept == current:
        return node
    return replace(node, columns=kept)


def _project(node: Project, need: Need) -> PlanNode:
    exprs = node.exprs
    if need is not None:
        exprs = tuple(e for e in exprs if output_name(e) in need) or exprs[:1]
    merged = _merge(exprs, node.child)
    if merged is not None:
        return _project(merged, None)
    child = _prune(node.child, _refs(exprs))
    if child is node.child and len(exprs) == len(node.exprs):
        return node
    return Project(child, exprs)


def _merge(exprs: tuple[Expr, ...], child: PlanNode) -> Project | None:
    """``Project(exprs)`` over ``Project(inner)`` as one projection, or None.

    Merged only when no computed inner expression would be evaluated twice.
    """
    if not isinstance(child, Project):
        return None
    inner = {output_name(e): strip_alias(e) for e in child.exprs}
    uses: dict[str, int] = {}
    for e in exprs:
        for node in walk(e):
            if isinstance(node, (Column, BoundColumn)):
                uses[node.name] = uses.get(node.name, 0) + 1
    for name, n in uses.items():
        if n > 1 and not isinstance(inner.get(name), (Column, BoundColumn)):
            return None
    out = []
    for e in exprs:
        new = substitute(e, inner)
        name = output_name(e)
        out.append(new if output_name(new) == name else Alias(strip_alias(new), name))
    return Project(child.child, tuple(out))


def _aggregate(node: Aggregate, need: Need) -> PlanNode:
    aggs = node.aggs
    if need is not None and type(node) is Aggregate:
        aggs = tuple(a for a in aggs if output_name(a) in need)
        if not aggs and not node.keys:
            aggs = node.aggs[:1]
    child = _prune(node.child, _refs(node.keys) | _refs(aggs))
    if child is node.child and len(aggs) == len(node.aggs):
        return node
    return replace(node, child=child, aggs=aggs)


def _union(node: Union, need: Need) -> PlanNode:
    names = output_schema(node.inputs[0]).names
    if need is None or all(n in need for n in names):
        kids = [_prune(c, None) for c in node.inputs]
    else:
        keep = [i for i, n in enumerate(names) if n in need] or [0]
        kids = []
        for child in node.inputs:
            child_names = output_schema(child).names
            cols: tuple[Expr, ...] = tuple(Column(child_names[i]) for i in keep)
            kids.append(_prune(Project(child, cols), None))
    if all(a is b for a, b in zip(kids, node.inputs, strict=True)):
        return node
    return Union(tuple(kids))


def _join(node: Join, need: Need) -> PlanNode:
    if need is None:
        return node.with_children([_prune(node.left, None), _prune(node.right, None)])
    uses = need | _refs(node.left_keys) | _refs(node.right_keys)
    if node.condition is not None:
        uses |= columns_referenced(node.condition)
    left = _prune(node.left, uses & frozenset(output_schema(node.left).names))
    right = _prune(node.right, uses & frozenset(output_schema(node.right).names))
    return node.with_children([left, right])


def _window(node: Window, need: Need) -> PlanNode:
    funcs = node.funcs
    if need is not None:
        funcs = tuple(f for f in funcs if output_name(f) in need)
    if not funcs:
        return _prune(node.child, need)
    made = {output_name(f) for f in funcs}
    child_need = None if need is None else (need - made) | _refs(funcs)
    child = _prune(node.child, child_need)
    if child is node.child and len(funcs) == len(node.funcs):
        return node
    return replace(node, child=child, funcs=funcs)


def _prune(node: PlanNode, need: Need) -> PlanNode:
    if isinstance(node, Scan):
        return _scan(node, need)
    if isinstance(node, Project):
        return _project(node, need)
    if isinstance(node, Aggregate) and not isinstance(node, FinalAggregate):
        return _aggregate(node, need)
    if isinstance(node, Union):
        return _union(node, need)
    if isinstance(node, Join):
        return _join(node, need)
    if isinstance(node, Window):
        return _window(node, need)
    if isinstance(node, Filter | Repeat):
        used = columns_referenced(node.predicate if isinstance(node, Filter) else node.times)
        return node.with_children([_prune(node.child, None if need is None else need | used)])
    if isinstance(node, Sort):
        keys = _refs(tuple(k.expr for k in node.keys))
        return node.with_children([_prune(node.child, None if need is None else need | keys)])
    if isinstance(node, (Limit, Exchange)):
        return node.with_children([_prune(node.child, need)])
    # Distinct and FinalAggregate (whose input is partial state) need every input column.
    return node.with_children([_prune(c, None) for c in node.children()])


def prune_projections(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Drop unused columns and expressions; scans read only required columns.

    Example:
        >>> import pyarrow as pa
        >>> from hasivu_compute.expr import col
        >>> from hasivu_compute.plan.binder import bind_plan
        >>> from hasivu_compute.plan.nodes import Project, Scan
        >>> from hasivu_compute.plan.render import render
        >>> schema = pa.schema([("a", pa.int64()), ("b", pa.int64())])
        >>> p = bind_plan(Project(Scan("t"), ((col("b") + 1).alias("c"),)),
        ...               lambda n, v: schema)
        >>> print(render(prune_projections(p, OptimizerContext())))
        Project [(b + 1) AS c]
          Scan t columns=[b]
    """
    return _prune(plan, None)
