"""Lower the joins of a FROM clause: ``JOIN ... ON``, ``USING``, ``NATURAL``, comma joins.

Each table in the FROM clause keeps its columns under plan names that cannot
collide (``o.school_id``, ``s.school_id``); :class:`~hasivu_compute.sql.names.Field`
records how a user names each (``o.school_id``, or ``school_id`` when only one
table has it), so the SELECT above resolves names exactly as DuckDB does and
a bare name found in two tables is refused as ambiguous.

A comma join (``FROM a, b WHERE a.k = b.k``) is a cross join here; the optimizer
moves the WHERE equality into the join as its hash key. ``USING (k)`` joins on
``a.k = b.k`` and shows ``k`` once: the left copy, or ``COALESCE(a.k, b.k)`` for
RIGHT and FULL joins (where the left copy may be NULL).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import coalesce
from hasivu_compute.expr.nodes import Alias, Column, Expr
from hasivu_compute.plan._expr import conjoin
from hasivu_compute.plan.nodes import Join, Project
from hasivu_compute.sql.names import Field, Relation, Resolver
from hasivu_compute.sql.parsing import SqlText

__all__ = ["JOIN_ARGS", "join_type", "joinable", "joined"]

#: Arguments of a sqlglot Join the lowering reads; any other that is set is refused.
JOIN_ARGS = frozenset({"this", "on", "using", "kind", "side", "method"})
_SIDES = {"LEFT": "left", "RIGHT": "right", "FULL": "full"}
_KINDS = {"CROSS": "cross", "SEMI": "semi", "ANTI": "anti", "INNER": "inner", "OUTER": ""}

#: ``lower(expression, resolver)``: a sqlglot expression lowered against a FROM relation.
LowerOn = Callable[[exp.Expr, Resolver], Expr]


def join_type(node: exp.Join, source: SqlText) -> str:
    """``inner``, ``left``, ... for a sqlglot join (``cross`` for a comma join)."""
    method = (node.args.get("method") or "").upper()
    if method and method != "NATURAL":
        raise source.unsupported(node, f"{method} JOIN", keyword=method)
    side = (node.args.get("side") or "").upper()
    kind = (node.args.get("kind") or "").upper()
    if kind and kind not in _KINDS:
        raise source.unsupported(node, f"{kind} JOIN", keyword=kind)
    if side:
        if kind in ("CROSS", "SEMI", "ANTI"):
            raise source.unsupported(node, f"{side} {kind} JOIN", keyword=side)
        return _SIDES[side]
    if kind:
        return _KINDS[kind] or "inner"
    has_condition = node.args.get("on") is not None or node.args.get("using")
    return "inner" if has_condition or method else "cross"


def joinable(relation: Relation, index: int, source: SqlText, node: exp.Expr) -> Relation:
    """``relation`` (a table, CTE or derived table) with plan names that cannot collide."""
    if relation.fields is not None:
        return relation
    if relation.columns is None:
        raise source.unsupported(
            node, f"a join with a table of unknown columns ({relation.unknown_because})"
        )
    qualifier = min(relation.qualifiers) if relation.qualifiers else f"#{index}"
    fields = tuple(Field(qualifier, c, f"{qualifier}.{c}") for c in relation.columns)
    plan = Project(
        relation.plan,
        tuple(Alias(Column(c), f.internal) for c, f in zip(relation.columns, fields, strict=True)),
    )
    return Relation(plan, tuple(f.internal for f in fields), frozenset({qualifier}), fields=fields)


def joined(
    left: Relation,
    right: Relation,
    node: exp.Join,
    how: str,
    source: SqlText,
    lower_on: LowerOn,
) -> Relation:
    """``left`` joined with ``right`` (both from :func:`joinable`) as ``node`` says."""
    assert left.fields is not None and right.fields is not None
    twice = left.qualifiers & right.qualifiers
    if twice:
        name = sorted(twice)[0]
        raise BindError(
            f"table name {name!r} is used twice in FROM{source.where(node)}; give one an alias"
        )
    both = Relation(
        left.plan,
        left.columns,
        left.qualifiers | right.qualifiers,
        fields=left.fields + right.fields,
    )
    using = _using(node, left, right, source)
    if using is not None:
        return _join_using(left, right, using, how, both)
    on = node.args.get("on")
    condition = None
    if on is not None:
        if how == "cross":
            raise source.unsupported(on, "CROSS JOIN with ON", keyword="ON")
        condition = lower_on(on, Resolver(both, {}, source))
    elif how not in ("cross", "inner"):
        raise BindError(f"{how.upper()} JOIN needs ON or USING{source.where(node)}")
    plan = Join(left.plan, right.plan, how, condition=condition)
    fields = both.fields if how not in ("semi", "anti") else left.fields
    assert fields is not None
    qualifiers = both.qualifiers if how not in ("semi", "anti") else left.qualifiers
    return Relation(plan, tuple(f.internal for f in fields), qualifiers, fields=fields)


def _using(
    node: exp.Join, left: Relation, right: Relation, source: SqlText
) -> list[tuple[Field, Field]] | None:
    """The ``(left field, right field)`` pairs of ``USING (...)`` or ``NATURAL``."""
    assert left.fields is not None and right.fields is not None
    names: list[str]
    if (node.args.get("method") or "").upper() == "NATURAL":
        right_names = {f.name.lower() for f in right.fields}
        names = [f.name for f in left.fields if f.unqualified and f.name.lower() in right_names]
    elif node.args.get("using"):
        names = [ident.name for ident in node.args["using"]]
    else:
        return None
    pairs = []
    for name in names:
        ours = [f for f in left.fields if f.unqualified and f.name.lower() == name.lower()]
        theirs = [f for f in right.fields if f.name.lower() == name.lower()]
        if len(ours) != 1 or len(theirs) != 1:
            side = "left" if len(ours) != 1 else "right"
            count = "no" if not (ours if side == "left" else theirs) else "more than one"
            raise BindError(
                f"USING column {name!r}: {count} column of that name on the {side} side"
                f"{source.where(node)}"
            )
        pairs.append((ours[0], theirs[0]))
    return pairs


def _join_using(
    left: Relation, right: Relation, pairs: list[tuple[Field, Field]], how: str, both: Relation
) -> Relation:
    assert left.fields is not None and right.fields is not None
    condition = conjoin(Column(a.internal) == Column(b.internal) for a, b in pairs)
    plan: Join | Project = Join(left.plan, right.plan, how, condition=condition)
    hidden = {b.internal for _, b in pairs}
    if how in ("semi", "anti"):
        return Relation(plan, left.columns, left.qualifiers, fields=left.fields)
    merged = how in ("right", "full")
    fields: list[Field] = []
    for f in left.fields:
        pair = next((b for a, b in pairs if a.internal == f.internal), None)
        if pair is not None and merged:
            fields.append(Field(None, f.name, f"#using.{f.name}"))
            fields.append(Field(f.qualifier, f.name, f.internal, unqualified=False, in_star=False))
        else:
            fields.append(f)
    for f in right.fields:
        hide = f.internal in hidden
        fields.append(
            Field(
                f.qualifier,
                f.name,
                f.internal,
                unqualified=not hide and f.unqualified,
                in_star=not hide and f.in_star,
            )
        )
    if merged:
        exprs: list[Expr] = []
        for f in fields:
            if f.qualifier is None and f.internal.startswith("#using."):
                a, b = next((a, b) for a, b in pairs if a.name == f.name)
                exprs.append(Alias(coalesce(Column(a.internal), Column(b.internal)), f.internal))
            else:
                exprs.append(Column(f.internal))
        plan = Project(plan, tuple(exprs))
    return Relation(plan, tuple(f.internal for f in fields), both.qualifiers, fields=tuple(fields))
