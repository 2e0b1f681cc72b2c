"""Rule: order a chain of inner joins by expected size, so the largest input probes, the
most selective joins come first and no cartesian product is built where a key
connects the tables.

Before / after (``FROM part, supplier, partsupp WHERE p_partkey = ps_partkey AND
s_suppkey = ps_suppkey AND p_size = 15``, written in an order that pairs part
with supplier first)::

    Join inner on=[s_suppkey = ps_suppkey]          Project [part..., supplier..., partsupp...]
      Join cross                                      Join inner on=[ps_suppkey = s_suppkey]
        Scan part filter=(p_size = 15)     ->           Join inner on=[ps_partkey = p_partkey]
        Scan supplier        (1K rows)                    Scan partsupp     (80K rows)
      Scan partsupp          (80K rows)                   Scan part filter=(p_size = 15)
                                                        Scan supplier

The inputs of a tree of inner and cross joins are taken apart with every join
condition; the largest input (by the manifests: an upper bound of rows) starts,
and the input joined next is the one an equality links to what is joined so far
whose join gives the fewest rows: rows times rows over the key's distinct
values, each input's rows expected after its filters (``p_size = 15`` keeps
about 1 in 50 parts, so part comes before supplier; see
:mod:`hasivu_compute.plan.optimizer.estimates`). A cross join only when nothing
links. Each condition is applied at the first join where all its columns are
there; a projection restores the original column order. Runs after pruning
(sizes come from the pruned scans); without a size for every input the tree is
left as written.
"""

from __future__ import annotations

from collections.abc import Callable

from hasivu_compute.expr.nodes import Call
from hasivu_compute.plan._expr import Column, Expr, columns_referenced, conjoin, split_conjunction
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import Join, PlanNode, Project
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.estimates import Estimator, KeyValues, matching_values
from hasivu_compute.plan.optimizer.rules.join_strategy import estimated_rows
from hasivu_compute.plan.optimizer.rules.joins import normalize_join

#: A join key column's values by its plan name (None: not known).
Distinct = Callable[[str], KeyValues | None]


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


#: An equality between two inputs' columns, with the columns it reads.
Link = tuple[Expr, frozenset[str]]


def _equalities(conditions: list[Expr]) -> list[Link]:
    return [(c, columns_referenced(c)) for c in conditions if getattr(c, "fn", None) == "eq"]


def _links(link: Link, joined: frozenset[str], names: frozenset[str]) -> bool:
    """Whether ``link`` is an equality between what is joined and the next input."""
    refs = link[1]
    return bool(refs & joined) and bool(refs & names) and refs <= joined | names


#: Most inputs ordered by trying every order (dynamic programming over subsets);
#: beyond it, greedily by the next join's rows.
MAX_EXHAUSTIVE = 10


def _order(
    first: int,
    sizes: list[float],
    names: list[frozenset[str]],
    equalities: list[Link],
    distinct: Distinct,
) -> list[int]:
    """``first`` (the largest input: it probes), then the order of the others whose
    joins give the fewest rows in total (every intermediate result counted), each
    next input linked by an equality to what is joined when one is (a cross join
    only when nothing links). A join that keeps many rows but opens the way to a
    selective one can win over one that looks best alone (TPC-H Q7: supplier, then
    the filtered nation, before orders)."""
    if len(sizes) > MAX_EXHAUSTIVE:
        return _greedy(first, sizes, names, equalities, distinct)
    # per set of joined inputs: (total rows so far, rows now, order) of its best order
    layer: dict[frozenset[int], tuple[float, float, list[int]]] = {
        frozenset([first]): (0.0, sizes[first], [first])
    }
    for _ in range(len(sizes) - 1):
        following: dict[frozenset[int], tuple[float, float, list[int]]] = {}
        for joined, (cost, rows, order) in layer.items():
            for i, out in _next(joined, rows, sizes, names, equalities, distinct).items():
                key = joined | {i}
                candidate = (cost + out, out, [*order, i])
                if key not in following or _rank(candidate, sizes) < _rank(following[key], sizes):
                    following[key] = candidate
        layer = following
    ((_, _, best),) = layer.values()
    return best


def _rank(
    candidate: tuple[float, float, list[int]], sizes: list[float]
) -> tuple[float, list[float], list[int]]:
    """Fewest rows in total; on a tie smaller inputs first, then the written order."""
    cost, _, order = candidate
    return (cost, [sizes[i] for i in order], order)


def _next(
    joined: frozenset[int],
    rows: float,
    sizes: list[float],
    names: list[frozenset[str]],
    equalities: list[Link],
    distinct: Distinct,
) -> dict[int, float]:
    """The inputs that may be joined next with the rows each join gives: those an
    equality links to ``joined``, or every other one (as a cross join) if none is."""
    have = frozenset().union(*(names[i] for i in joined))
    rest = [i for i in range(len(sizes)) if i not in joined]
    out: dict[int, float] = {}
    for i in rest:
        links = [link[0] for link in equalities if _links(link, have, names[i])]
        if links:
            out[i] = _joined_rows(rows, sizes[i], links, distinct)
    return out or {i: rows * max(1.0, sizes[i]) for i in rest}


def _greedy(
    first: int,
    sizes: list[float],
    names: list[frozenset[str]],
    equalities: list[Link],
    distinct: Distinct,
) -> list[int]:
    """``first``, then each time the input whose join gives the fewest rows."""
    order = [first]
    rows = sizes[first]
    while len(order) < len(sizes):
        costs = _next(frozenset(order), rows, sizes, names, equalities, distinct)
        pick = min(costs, key=lambda i: (costs[i], sizes[i], i))
        rows = costs[pick]
        order.append(pick)
    return order


def _joined_rows(rows: float, size: float, links: list[Expr], distinct: Distinct) -> float:
    """Rows of joining ``rows`` rows with an input of ``size`` rows on equalities
    ``links``: each row meets ``size / d`` rows on a key with ``d`` matching values
    (:func:`~hasivu_compute.plan.optimizer.estimates.matching_values`), taking the
    most selective key."""
    best = rows * size
    for link in links:
        assert isinstance(link, Call) and len(link.args) == 2  # _links: an equality
        d = matching_values(*(distinct(_name(side)) for side in link.args))
        estimate = rows * size / d if d else rows * max(1.0, size / max(rows, 1.0))
        best = min(best, estimate)
    return max(1.0, best)


def _name(expr: Expr) -> str:
    """The one column a key expression reads (under a cast), else no name."""
    refs = columns_referenced(expr)
    return next(iter(refs)) if len(refs) == 1 else ""


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


def _rewrite(node: PlanNode, ctx: OptimizerContext, estimator: Estimator) -> PlanNode:
    if isinstance(node, Join) and node.how in ("inner", "cross") and node.strategy == "gather":
        leaves: list[PlanNode] = []
        conditions: list[Expr] = []
        _flatten(node, leaves, conditions)
        bounds = [estimated_rows(leaf, ctx.source) for leaf in leaves]
        if len(leaves) >= 3 and all(b is not None for b in bounds):
            fixed = [_rewrite(leaf, ctx, estimator) for leaf in leaves]
            names = [frozenset(output_schema(leaf).names) for leaf in fixed]
            sizes = [_expected(estimator, leaf, b) for leaf, b in zip(fixed, bounds, strict=True)]
            first = max(range(len(leaves)), key=lambda i: (bounds[i] or 0, -i))
            equalities = _equalities(conditions)
            order = _order(first, sizes, names, equalities, _distinct(fixed, estimator))
            unchanged = all(a is b for a, b in zip(fixed, leaves, strict=True))
            if order == list(range(len(leaves))) and unchanged:
                return node
            plan = _build(fixed, order, conditions)
            return Project(plan, tuple(Column(n) for n in output_schema(node).names))
    kids = node.children()
    if not kids:
        return node
    new = [_rewrite(k, ctx, estimator) for k in kids]
    if all(a is b for a, b in zip(new, kids, strict=True)):
        return node
    return node.with_children(new)


def _expected(estimator: Estimator, leaf: PlanNode, bound: int | None) -> float:
    """The leaf's expected rows after its filters, at most the manifests' bound."""
    expected = estimator.rows(leaf)
    limit = float(bound or 0)
    return limit if expected is None else min(expected, limit)


def _distinct(leaves: list[PlanNode], estimator: Estimator) -> Distinct:
    """Distinct values of a join key column (by its plan name) in the table of the leaf
    that has it, from the zone maps (``c_nationkey`` in 0..24 has at most 25 values,
    so joining on it multiplies rows); None when not known."""
    owner: dict[str, PlanNode] = {}
    for leaf in leaves:
        for name in output_schema(leaf).names:
            owner.setdefault(name, leaf)

    found: dict[str, KeyValues | None] = {}

    def count(name: str) -> KeyValues | None:
        if name not in found:  # asked once per key and order tried: look up once
            leaf = owner.get(name)
            found[name] = None if leaf is None else estimator.key_values(leaf, Column(name))
        return found[name]

    return count


def reorder_joins(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Order each tree of inner joins by expected size (see the module docstring)."""
    return _rewrite(plan, ctx, Estimator(ctx.source))


__all__ = ["reorder_joins"]
