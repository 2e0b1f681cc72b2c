"""Rule: order a chain of inner joins by size, so the largest input probes and no
cartesian product is built where a key connects the tables.

Before / after (``FROM part, supplier, partsupp WHERE p_partkey = ps_partkey AND
s_suppkey = ps_suppkey``, written in an order that pairs part with supplier first)::

    Join inner on=[s_suppkey = ps_suppkey]          Project [part..., supplier..., partsupp...]
      Join cross                                      Join inner on=[ps_suppkey = s_suppkey]
        Scan part            (20K rows)      ->         Join inner on=[ps_partkey = p_partkey]
        Scan supplier        (1K rows)                    Scan partsupp     (80K rows)
      Scan partsupp          (80K rows)                   Scan part
                                                        Scan supplier

The inputs of a tree of inner and cross joins are taken apart with every join
condition; the largest input (by the manifests: an upper bound of rows) starts,
and the input joined next is the one an equality links to what is joined so far
whose join gives the fewest rows (rows times rows over the key's
distinct values, bounded from the zone maps; a cross join only when nothing
links). Each condition is applied
at the first join where all its columns are there; a projection restores the
original column order. Runs after pruning (sizes come from the pruned scans);
without a size for every input the tree is left as written.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from hasivu_compute.plan._expr import Column, Expr, columns_referenced, conjoin, split_conjunction
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import Join, PlanNode, Project, Scan
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.rules.join_strategy import estimated_rows
from hasivu_compute.plan.optimizer.rules.joins import normalize_join


def _flatten(node: PlanNode, leaves: list[PlanNode], conditions: list[Expr]) -> None:
    if isinstance(node, Join) and node.how in ("inner", "cross") and node.strategy == "gather":
        _flatten(node.left, leaves, conditions)
        _flatten(node.right, leaves, conditions)
        for a, b in zip(node.left_keys, node.right_keys, strict=True):
            conditions.append(a == b)
        if node.condition is not None:
            conditions.extend(split_conjunction(node.condition))
        return
    leaves.append(node)


def _links(condition: Expr, joined: frozenset[str], names: frozenset[str]) -> bool:
    """Whether ``condition`` is an equality between what is joined and the next input."""
    refs = columns_referenced(condition)
    return (
        bool(refs & joined)
        and bool(refs & names)
        and refs <= joined | names
        and getattr(condition, "fn", None) == "eq"
    )


Distinct = Callable[[str], int | None]


def _order(
    sizes: list[int],
    names: list[frozenset[str]],
    conditions: list[Expr],
    distinct: Distinct,
) -> list[int]:
    """Largest input first; then, of the inputs an equality links to what is joined, the
    one whose join gives the fewest rows (estimated below); a cross join only when
    nothing links."""
    order = [max(range(len(sizes)), key=lambda i: (sizes[i], -i))]
    rows = float(sizes[order[0]])
    while len(order) < len(sizes):
        joined = frozenset().union(*(names[i] for i in order))
        rest = [i for i in range(len(sizes)) if i not in order]
        costs = {}
        for i in rest:
            links = [c for c in conditions if _links(c, joined, names[i])]
            if links:
                costs[i] = _joined_rows(rows, sizes[i], links, distinct)
        if costs:
            pick = min(costs, key=lambda i: (costs[i], sizes[i], i))
            rows = costs[pick]
        else:
            pick = min(rest, key=lambda i: (sizes[i], i))
            rows *= max(1, sizes[pick])
        order.append(pick)
    return order


def _joined_rows(rows: float, size: int, links: list[Expr], distinct: Distinct) -> float:
    """Rows of a join on equalities ``links``: each row meets ``size / d`` rows on a key
    with ``d`` distinct values (the larger of the two sides' counts, known or not),
    taking the most selective key."""
    best = rows * size
    for link in links:
        counts = [distinct(n) for n in columns_referenced(link)]
        known = [c for c in counts if c]
        d = max(known) if known else None
        estimate = rows * size / d if d else rows * max(1.0, size / max(rows, 1.0))
        best = min(best, estimate)
    return best


def _build(leaves: list[PlanNode], order: list[int], conditions: list[Expr]) -> PlanNode:
    pending = list(conditions)
    plan = leaves[order[0]]
    joined = frozenset(output_schema(plan).names)
    for i in order[1:]:
        joined = joined | frozenset(output_schema(leaves[i]).names)
        ready = [c for c in pending if columns_referenced(c) <= joined]
        pending = [c for c in pending if all(c is not r for r in ready)]
        condition = conjoin(ready)
        how = "inner" if condition is not None else "cross"
        plan = normalize_join(Join(plan, leaves[i], how, condition=condition))
    return plan


def _rewrite(node: PlanNode, ctx: OptimizerContext) -> PlanNode:
    if isinstance(node, Join) and node.how in ("inner", "cross") and node.strategy == "gather":
        leaves: list[PlanNode] = []
        conditions: list[Expr] = []
        _flatten(node, leaves, conditions)
        sizes = [estimated_rows(leaf, ctx.source) for leaf in leaves]
        if len(leaves) >= 3 and all(s is not None for s in sizes):
            fixed = [_rewrite(leaf, ctx) for leaf in leaves]
            names = [frozenset(output_schema(leaf).names) for leaf in fixed]
            order = _order([s or 0 for s in sizes], names, conditions, _distinct(fixed, ctx))
            unchanged = all(a is b for a, b in zip(fixed, leaves, strict=True))
            if order == list(range(len(leaves))) and unchanged:
                return node
            plan = _build(fixed, order, conditions)
            return Project(plan, tuple(Column(n) for n in output_schema(node).names))
    kids = node.children()
    if not kids:
        return node
    new = [_rewrite(k, ctx) for k in kids]
    if all(a is b for a, b in zip(new, kids, strict=True)):
        return node
    return node.with_children(new)


def _distinct(leaves: list[PlanNode], ctx: OptimizerContext) -> Distinct:
    """An upper bound of distinct values of a column (by its plan name) from the zone
    maps: rows for any column, the value range for an integer one (``c_nationkey`` in
    0..24 has at most 25 values, so joining on it multiplies rows)."""
    from hasivu_compute.plan.optimizer.rules.split_aggregates import source_column

    cache: dict[str, int | None] = {}

    def count(name: str) -> int | None:
        if name in cache:
            return cache[name]
        found = None
        for leaf in leaves:
            if name in output_schema(leaf).names:
                found = source_column(leaf, name)
                break
        cache[name] = None if found is None else _column_distinct(found[0], found[1], ctx)
        return cache[name]

    return count


def _column_distinct(scan: Scan, column: str, ctx: OptimizerContext) -> int | None:
    if scan.files is None or scan.table_schema is None or ctx.source is None:
        return None
    rows = sum(sf.file.num_rows for sf in scan.files)
    dtype = scan.table_schema.field(column).type
    if not pa.types.is_integer(dtype) or not scan.files:
        return rows
    snapshot = ctx.source.snapshot(scan.table, scan.version)
    ids = [f.id for f in snapshot.schema.fields if f.name == column]
    lows: list[int] = []
    highs: list[int] = []
    for sf in scan.files:
        stats = sf.file.stats.get(ids[0]) if ids else None
        low = None if stats is None else stats.min
        high = None if stats is None else stats.max
        if not isinstance(low, int) or not isinstance(high, int):
            return rows
        lows.append(low)
        highs.append(high)
    span = max(highs) - min(lows) + 1
    return max(1, min(rows, span))


def reorder_joins(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Order each tree of inner joins by size (see the module docstring)."""
    return _rewrite(plan, ctx)


__all__ = ["reorder_joins"]
