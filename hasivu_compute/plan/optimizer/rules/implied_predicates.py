"""Rule: an OR over both sides of a join filters each side by what it implies there.

Before / after (TPC-H Q7: the nation pair is only known in the final condition)::

    Join inner on=[c_nationkey = n2.n_nationkey]
        condition=((n1.n_name = 'FRANCE' AND n2.n_name = 'GERMANY')
                   OR (n1.n_name = 'GERMANY' AND n2.n_name = 'FRANCE'))
      Join ... Scan nation AS n1
      Scan nation AS n2
    ->
    Join inner on=[c_nationkey = n2.n_nationkey] condition=(the same OR)
      Filter (n1.n_name IN ('FRANCE', 'GERMANY'))
        Join ... Scan nation AS n1
      Filter (n2.n_name IN ('FRANCE', 'GERMANY'))
        Scan nation AS n2

Each branch of the OR must hold for a pair to be kept, so a row of one side
that fails every branch's conjuncts on that side alone can never be kept
(:func:`~.joins.implied_by_or`); the OR stays where it was. A side gets such a
filter only where a join condition (or a filter above the join) may move into
it: not the side whose unmatched rows an outer join keeps, nor, above an outer
join, the side that supplies NULLs. Runs once after predicate push-down (which
then moves the new filters to the scans, where pruning uses them), and adds
nothing a side already filters by, so optimizing a plan again changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.plan._expr import (
    Expr,
    columns_referenced,
    output_name,
    split_conjunction,
    strip_alias,
    substitute,
    unbind,
)
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Distinct,
    Exchange,
    Filter,
    Join,
    PlanNode,
    Project,
    Scan,
    Sort,
    transform_down,
)
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.rules.joins import (
    ABOVE_TO_LEFT,
    ABOVE_TO_RIGHT,
    CONDITION_TO_LEFT,
    CONDITION_TO_RIGHT,
    conjuncts,
    implied_by_or,
)


def _derive(node: PlanNode) -> PlanNode:
    if isinstance(node, Join) and node.condition is not None:
        return _imply(node, conjuncts(node.condition), CONDITION_TO_LEFT, CONDITION_TO_RIGHT)
    if isinstance(node, Filter) and isinstance(node.child, Join):
        join = _imply(node.child, conjuncts(node.predicate), ABOVE_TO_LEFT, ABOVE_TO_RIGHT)
        return node if join is node.child else replace(node, child=join)
    return node


def _imply(
    join: Join, parts: list[Expr], to_left: frozenset[str], to_right: frozenset[str]
) -> Join:
    """``join`` with each side filtered by what the ORs among ``parts`` imply for it."""
    left = frozenset(output_schema(join.left).names)
    right = frozenset(output_schema(join.right).names)
    add: dict[str, list[Expr]] = {"left": [], "right": []}
    for part in parts:
        refs = columns_referenced(part)
        if not (refs & left and refs & right):
            continue
        for side, names, allowed in (("left", left, to_left), ("right", right, to_right)):
            implied = implied_by_or(part, names) if join.how in allowed else None
            found = add[side]
            if implied is None or any(_text(implied) == _text(f) for f in found):
                continue
            if not _holds(getattr(join, side), implied):
                found.append(implied)
    if not (add["left"] or add["right"]):
        return join
    return replace(
        join, left=_filtered(join.left, add["left"]), right=_filtered(join.right, add["right"])
    )


def _filtered(node: PlanNode, parts: list[Expr]) -> PlanNode:
    for part in parts:
        node = Filter(node, part)
    return node


def _holds(node: PlanNode, predicate: Expr) -> bool:
    """Whether ``node`` already filters its rows by ``predicate`` (over its output), in a
    filter, a scan's pushed filter or a join condition on the way down to where
    push-down would have put it."""
    target = unbind(predicate)
    while True:
        wanted = _text(target)
        if isinstance(node, Filter | Scan | Join):
            found = node.predicate if isinstance(node, Filter) else None
            found = node.filter if isinstance(node, Scan) else found
            found = node.condition if isinstance(node, Join) else found
            if found is not None and any(_text(c) == wanted for c in split_conjunction(found)):
                return True
        if isinstance(node, Filter | Sort | Distinct | Exchange):
            node = node.children()[0]
        elif isinstance(node, Project):
            mapping = {output_name(e): unbind(strip_alias(e)) for e in node.exprs}
            target = substitute(target, mapping)
            node = node.child
        elif isinstance(node, Join):
            refs = columns_referenced(target)
            if refs <= frozenset(output_schema(node.left).names):
                node = node.left
            elif node.keeps_right and refs <= frozenset(output_schema(node.right).names):
                node = node.right
            else:
                return False
        else:
            return False


def _text(expr: Expr) -> str:
    """A predicate as written, by column names (bound or not, whatever the binder
    inferred): two predicates that read the same are the same filter here."""
    return str(unbind(expr))


def derive_implied_predicates(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Filter each join input by what an OR over both inputs implies for it (see the
    module docstring)."""
    return transform_down(plan, _derive)


__all__ = ["derive_implied_predicates"]
