"""Predicates and joins: equality conjuncts become hash keys, one-sided ones go to their side.

Before / after (``push_down_predicates`` calls these for every Filter over a Join
and every Join)::

    Filter ((o.school_id = s.id) AND (s.region = 'north'))
      Join cross                          Join inner on=[o.school_id = s.id]
        Scan orders              ->         Scan orders
        Scan schools                        Scan schools filter=(region = 'north')

Which conjunct may move where depends on the join type: a row of a preserved
side (the left of a LEFT join, both of a FULL join) must come out even when it
matches nothing, so a condition on it stays in the join; a filter *above* a
join may not move into the side that supplies NULLs for unmatched rows.
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.expr.nodes import Call, InList, Literal
from hasivu_compute.expr.visitors import split_disjunction
from hasivu_compute.plan._expr import Expr, columns_referenced, conjoin, same, split_conjunction
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import Filter, Join, PlanNode

#: Join types whose left / right input a filter above the join may move into.
ABOVE_TO_LEFT = frozenset({"inner", "left", "semi", "anti", "cross"})
ABOVE_TO_RIGHT = frozenset({"inner", "right", "cross"})
#: Join types whose left / right input a conjunct of the join condition may move into.
CONDITION_TO_LEFT = frozenset({"inner", "semi", "right"})
CONDITION_TO_RIGHT = frozenset({"inner", "left", "semi", "anti"})


def _sides(join: Join) -> tuple[frozenset[str], frozenset[str]]:
    return (
        frozenset(output_schema(join.left).names),
        frozenset(output_schema(join.right).names),
    )


def conjuncts(predicate: Expr) -> list[Expr]:
    """The conjuncts of ``predicate``, with what every branch of an OR requires taken out
    of it: ``(k = pk AND a) OR (k = pk AND b)`` gives ``k = pk`` and ``a OR b``, so a join
    written as a disjunction of cases (TPC-H Q19) still gets its hash key."""
    out: list[Expr] = []
    for part in split_conjunction(predicate):
        branches = split_disjunction(part)
        if len(branches) < 2:
            out.append(part)
            continue
        sets = [list(split_conjunction(b)) for b in branches]
        common = [c for c in sets[0] if all(any(same(c, o) for o in other) for other in sets[1:])]
        if not common:
            out.append(part)
            continue
        out.extend(common)
        rests = [[c for c in branch if not any(same(c, k) for k in common)] for branch in sets]
        if all(rests):  # a branch left with nothing is TRUE: the OR holds
            alternatives = [conjoin(r) for r in rests]
            either = alternatives[0]
            for alternative in alternatives[1:]:
                assert either is not None and alternative is not None
                either = either | alternative
            assert either is not None
            out.append(either)
    return out


def implied_by_or(predicate: Expr, names: frozenset[str]) -> Expr | None:
    """What an OR of ANDs requires of the columns ``names`` alone: the OR of each
    branch's conjuncts that read only ``names``; None when a branch has none (then
    nothing is implied). A row that fails it fails every branch, so it can be
    dropped before the join; the OR itself must still be checked after.

    ``(n1.n_name = 'FRANCE' AND n2.n_name = 'GERMANY') OR (n1.n_name = 'GERMANY' AND
    n2.n_name = 'FRANCE')`` implies ``n1.n_name IN ('FRANCE', 'GERMANY')`` (one
    column compared with constants in every branch becomes an IN list).
    """
    branches = split_disjunction(predicate)
    if len(branches) < 2:
        return None
    alternatives: list[Expr] = []
    for branch in branches:
        mine = [c for c in split_conjunction(branch) if _reads_only(c, names)]
        if not mine:
            return None
        alternatives.append(_conj(mine))
    listed = _in_list(alternatives)
    if listed is not None:
        return listed
    either = alternatives[0]
    for alternative in alternatives[1:]:
        either = either | alternative
    return either


def _reads_only(part: Expr, names: frozenset[str]) -> bool:
    refs = columns_referenced(part)
    return bool(refs) and refs <= names


def _conj(parts: list[Expr]) -> Expr:
    out = conjoin(parts)
    assert out is not None
    return out


def _in_list(alternatives: list[Expr]) -> Expr | None:
    """``x IN (a, b, ...)`` when every alternative is ``x = constant`` or ``x IN (...)``
    over the same ``x`` (constants of ``x``'s own type); otherwise None."""
    operand: Expr | None = None
    values: list[object] = []
    for alternative in alternatives:
        if isinstance(alternative, InList):
            this, found = alternative.child, list(alternative.values)
        elif (
            isinstance(alternative, Call)
            and alternative.fn == "eq"
            and isinstance(alternative.args[1], Literal)
            and getattr(alternative.args[0], "dtype", None) == alternative.args[1].dtype
        ):
            this, found = alternative.args[0], [alternative.args[1].value]
        else:
            return None
        if operand is not None and not same(operand, this):
            return None
        operand = this
        values.extend(v for v in found if v not in values)
    assert operand is not None
    return InList(operand, tuple(values))


def _filtered(node: PlanNode, parts: list[Expr]) -> PlanNode:
    pred = conjoin(parts)
    return node if pred is None else Filter(node, pred)


def filter_over_join(node: Filter, join: Join) -> PlanNode:
    """Move the conjuncts of ``node`` (a filter right above ``join``) where they may go."""
    left_names, right_names = _sides(join)
    to_left: list[Expr] = []
    to_right: list[Expr] = []
    into: list[Expr] = []
    stay: list[Expr] = []
    for part in conjuncts(node.predicate):
        refs = columns_referenced(part)
        if refs and refs <= left_names and join.how in ABOVE_TO_LEFT:
            to_left.append(part)
        elif refs and refs <= right_names and join.how in ABOVE_TO_RIGHT:
            to_right.append(part)
        elif refs and join.how in ("inner", "cross") and refs <= left_names | right_names:
            into.append(part)
        else:
            stay.append(part)
    if not (to_left or to_right or into):
        return node
    condition = conjoin(([join.condition] if join.condition is not None else []) + into)
    how = "inner" if join.how == "cross" and condition is not None else join.how
    moved = replace(
        join,
        left=_filtered(join.left, to_left),
        right=_filtered(join.right, to_right),
        how=how,
        condition=condition,
    )
    return _filtered(normalize_join(moved), stay)


def _equality(part: Expr, left: frozenset[str], right: frozenset[str]) -> tuple[Expr, Expr] | None:
    """``(left key, right key)`` when ``part`` is ``a = b`` with one side in each input."""
    if not (isinstance(part, Call) and part.fn == "eq" and len(part.args) == 2):
        return None
    a, b = part.args
    ra, rb = columns_referenced(a), columns_referenced(b)
    if ra and rb and ra <= left and rb <= right:
        return a, b
    if ra and rb and ra <= right and rb <= left:
        return b, a
    return None


def normalize_join(join: Join) -> Join:
    """``join`` with equality conjuncts of its condition as keys, and conjuncts on one
    input moved into that input where the join type allows."""
    if join.condition is None:
        return join
    left_names, right_names = _sides(join)
    left_keys, right_keys = list(join.left_keys), list(join.right_keys)
    to_left: list[Expr] = []
    to_right: list[Expr] = []
    rest: list[Expr] = []
    parts = conjuncts(join.condition)
    for part in parts:
        refs = columns_referenced(part)
        pair = _equality(part, left_names, right_names)
        if pair is not None:
            left_keys.append(pair[0])
            right_keys.append(pair[1])
        elif refs and refs <= left_names and join.how in CONDITION_TO_LEFT:
            to_left.append(part)
        elif refs and refs <= right_names and join.how in CONDITION_TO_RIGHT:
            to_right.append(part)
        else:
            rest.append(part)
    if len(rest) == len(parts) and len(parts) == len(split_conjunction(join.condition)):
        return join
    return replace(
        join,
        left=_filtered(join.left, to_left),
        right=_filtered(join.right, to_right),
        left_keys=tuple(left_keys),
        right_keys=tuple(right_keys),
        condition=conjoin(rest),
    )


__all__ = [
    "ABOVE_TO_LEFT",
    "ABOVE_TO_RIGHT",
    "CONDITION_TO_LEFT",
    "CONDITION_TO_RIGHT",
    "conjuncts",
    "filter_over_join",
    "implied_by_or",
    "normalize_join",
]
