"""Subqueries in WHERE, turned into joins before the WHERE is lowered.

Each top-level conjunct of the WHERE is looked at:

* ``x IN (SELECT y ...)`` becomes a SEMI join on ``x = y`` (a NULL ``x`` matches
  nothing, so the row goes, as IN's NULL would drop it);
* ``x NOT IN (SELECT y ...)`` becomes an ANTI join on ``x = y`` plus SQL's NULL
  rule: the row stays only if the subquery is empty, or ``x`` is not NULL and the
  subquery has no NULL (its row count and non-NULL count come from a one-row
  aggregate joined to every row);
* ``[NOT] EXISTS (SELECT ... WHERE inner.a = outer.b AND ...)`` becomes a SEMI
  (ANTI) join on the correlated equalities; other correlated conditions
  (``inner.c <> outer.d``) become the join's condition, and the subquery's own
  conditions stay inside it. Without correlation it is a one-row ``count(*)``
  tested against 0;
* a scalar subquery anywhere in the WHERE (``amount > (SELECT avg(amount) ...)``)
  must be an aggregate without GROUP BY (one row, always); its value is joined
  to every row as a hidden column that the predicate reads. Correlated on
  equalities (``... FROM u WHERE u.k = t.k``), it becomes a LEFT join with the
  subquery grouped by its inner keys (a missing group reads NULL, or 0 for a
  bare ``count``).

In a scalar subquery a correlated condition other than an equality, ``ANY``/``ALL``,
and a subquery in the SELECT list are refused with their position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlglot import exp

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import count
from hasivu_compute.expr.nodes import Alias, Column, Expr
from hasivu_compute.plan.nodes import Aggregate, Join, PlanNode, Project
from hasivu_compute.sql.joins import joinable
from hasivu_compute.sql.names import Field, Relation, Resolver

if TYPE_CHECKING:
    from hasivu_compute.sql.lower_query import QueryLowering

__all__ = [
    "has_having_subquery",
    "has_where_subquery",
    "lower_having_subqueries",
    "lower_where_subqueries",
]

_HINT = (
    "rewrite the correlation as a join (a subquery in FROM grouped by the key), "
    "or compute the subquery first"
)


def has_where_subquery(node: exp.Select) -> bool:
    """Whether the SELECT's WHERE holds a subquery."""
    where = node.args.get("where")
    return where is not None and any(
        isinstance(n, exp.Subquery | exp.Select | exp.Exists) for n in where.this.walk()
    )


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    node = node.unnest() if isinstance(node, exp.Paren) else node
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


@dataclass
class _State:
    """The FROM relation as subqueries are joined to it."""

    lowering: QueryLowering
    ctes: Mapping[str, Relation]
    relation: Relation
    hidden: int = 0

    def resolver(self) -> Resolver:
        return Resolver(self.relation, {}, self.lowering.source)

    def lower(self, node: exp.Expr) -> Expr:
        return self.lowering.lower_scalar(node, self.resolver())

    def name(self, kind: str) -> str:
        self.hidden += 1
        return f"__{kind}{self.hidden}"

    def join(self, plan: PlanNode) -> None:
        self.relation = replace(self.relation, plan=plan)

    def add_hidden(self, right: PlanNode, names: list[str]) -> None:
        """Cross join a one-row plan whose columns are ``names``; they become hidden fields."""
        plan = Join(self.relation.plan, right, "cross")
        fields = tuple(Field(None, n, n, in_star=False) for n in names)
        assert self.relation.fields is not None
        self.relation = Relation(
            plan,
            (self.relation.columns or ()) + tuple(names),
            self.relation.qualifiers,
            fields=self.relation.fields + fields,
        )


def lower_where_subqueries(
    lowering: QueryLowering, node: exp.Select, relation: Relation, ctes: Mapping[str, Relation]
) -> tuple[Relation, exp.Select]:
    """The FROM relation with the WHERE's subqueries joined in, and ``node`` with a WHERE
    that reads their results instead (see the module docstring)."""
    source = lowering.source
    state = _State(lowering, ctes, joinable(relation, 0, source, node))
    kept: list[exp.Expr] = []
    for part in _conjuncts(node.args["where"].this):
        negated = isinstance(part, exp.Not)
        inner = part.this.unnest() if negated else part
        if isinstance(inner, exp.In) and inner.args.get("query") is not None:
            kept.extend(_in(state, inner, negated))
        elif isinstance(inner, exp.Exists):
            kept.extend(_exists(state, inner, negated))
        else:
            kept.append(_scalars(state, part))
    out = node.copy()
    if kept:
        out.set("where", exp.Where(this=exp.and_(*kept, copy=False)))
    else:
        out.set("where", None)
    return state.relation, out


def _query(state: _State, sub: exp.Expr) -> Relation:
    return _uncorrelated(state.lowering, state.ctes, sub, "correlated subquery")


def _uncorrelated(
    lowering: QueryLowering, ctes: Mapping[str, Relation], sub: exp.Expr, construct: str
) -> Relation:
    """The subquery lowered on its own; a name it cannot resolve there reads the outer
    query, which is refused as ``construct``."""
    query = sub.this if isinstance(sub, exp.Subquery) else sub
    try:
        return lowering.query(query, ctes)
    except BindError as error:
        if "unknown" not in str(error):
            raise
        raise lowering.source.unsupported(
            sub, f"{construct} (it reads a column of the outer query)", hint=_HINT
        ) from error


def _one_row(select: exp.Expr) -> bool:
    """Whether ``select`` always returns exactly one row: one aggregate, no GROUP BY."""
    return (
        isinstance(select, exp.Select)
        and select.args.get("group") is None
        and len(select.expressions) == 1
        and select.expressions[0].find(exp.AggFunc) is not None
        and not any(select.args.get(a) for a in ("limit", "offset", "having"))
    )


def _one_column(state: _State, relation: Relation, sub: exp.Expr, kind: str) -> str:
    if relation.columns is None or len(relation.columns) != 1:
        width = "an unknown number of" if relation.columns is None else len(relation.columns)
        raise BindError(
            f"{kind} subquery returns {width} columns, it must return one"
            f"{state.lowering.source.where(sub)}"
        )
    return relation.columns[0]


def _in(state: _State, node: exp.In, negated: bool) -> list[exp.Expr]:
    sub = node.args["query"]
    relation = _query(state, sub)
    column = _one_column(state, relation, sub, "IN")
    key = state.name("in")
    right = Project(relation.plan, (Alias(Column(column), key),))
    outer = state.lower(node.this)
    how = "anti" if negated else "semi"
    state.join(Join(state.relation.plan, right, how, (outer,), (Column(key),)))
    if not negated:
        return []
    rows, values = state.name("rows"), state.name("values")
    counts = Aggregate(right, (), (count().alias(rows), count(Column(key)).alias(values)))
    state.add_hidden(counts, [rows, values])
    empty = exp.EQ(this=exp.column(rows, quoted=True), expression=exp.Literal.number(0))
    clean = exp.and_(
        exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.Null())),
        exp.EQ(this=exp.column(values, quoted=True), expression=exp.column(rows, quoted=True)),
    )
    return [exp.Paren(this=exp.or_(empty, exp.Paren(this=clean)))]


def _exists(state: _State, node: exp.Exists, negated: bool) -> list[exp.Expr]:
    select = node.this
    if not isinstance(select, exp.Select):
        raise state.lowering.source.unsupported(node, "EXISTS over a set operation")
    found = _correlation(state, select)
    correlated = bool(found.pairs or found.residual)
    aggregated = any(e.find(exp.AggFunc) is not None for e in select.expressions)
    if correlated and (
        aggregated or any(select.args.get(a) for a in ("group", "having", "limit", "offset"))
    ):
        raise state.lowering.source.unsupported(
            node, "correlated EXISTS over an aggregate, GROUP BY, HAVING or LIMIT", hint=_HINT
        )
    body = select.copy()
    local = found.local
    body.set("where", exp.Where(this=exp.and_(*local, copy=False)) if local else None)
    if not correlated:
        relation = _query(state, body)
        n = state.name("exists")
        state.add_hidden(Aggregate(relation.plan, (), (count().alias(n),)), [n])
        test = exp.EQ if negated else exp.GT
        return [test(this=exp.column(n, quoted=True), expression=exp.Literal.number(0))]
    keys = [state.name("key") for _ in found.pairs]
    outputs = [
        exp.alias_(inner.copy(), k, quoted=True)
        for (inner, _), k in zip(found.pairs, keys, strict=True)
    ]
    condition = _residual(state, found, outputs)
    body.set("expressions", outputs)
    body.set("distinct", None)
    relation = _query(state, body)
    outer = tuple(state.lower(o) for _, o in found.pairs)
    how = "anti" if negated else "semi"
    right = tuple(Column(k) for k in keys)
    state.join(Join(state.relation.plan, relation.plan, how, outer, right, condition))
    return []


def _residual(state: _State, found: _Correlation, outputs: list[exp.Expr]) -> Expr | None:
    """The correlated conditions other than equalities, as a join condition: each inner
    column they read becomes an output of the subquery (appended to ``outputs``), read
    next to the outer query's columns (``l2.l_suppkey <> l1.l_suppkey`` in TPC-H Q21)."""
    if not found.residual:
        return None
    names: dict[tuple[str, str], str] = {}
    parts = []
    for part in found.residual:
        part = part.copy()
        for column in list(part.find_all(exp.Column)):
            if found.is_outer(column):
                continue
            key = (column.table.lower(), column.name.lower())
            if key not in names:
                names[key] = state.name("inner")
                outputs.append(exp.alias_(column.copy(), names[key], quoted=True))
            column.replace(exp.column(names[key], quoted=True))
        parts.append(part)
    hidden = tuple(Field(None, n, n, in_star=False) for n in names.values())
    assert state.relation.fields is not None
    both = replace(state.relation, fields=state.relation.fields + hidden)
    resolver = Resolver(both, {}, state.lowering.source)
    return state.lowering.lower_scalar(exp.and_(*parts, copy=False), resolver)


@dataclass(frozen=True)
class _Correlation:
    """A subquery's WHERE split: correlated ``(inner, outer)`` equalities, conditions on
    its own tables, other conditions that read the outer query, and which column
    references are outer ones."""

    pairs: list[tuple[exp.Expr, exp.Expr]]
    local: list[exp.Expr]
    residual: list[exp.Expr]
    is_outer: Callable[[exp.Column], bool]


def _correlation(state: _State, select: exp.Select) -> _Correlation:
    inner_rel = state.lowering.from_(select, state.ctes)
    inner_names = {n.lower() for n in _names(inner_rel)}
    outer_names = {f.name.lower() for f in state.relation.fields or () if f.unqualified}

    def is_outer(column: exp.Column) -> bool:
        qualifier = column.table.lower()
        if qualifier:
            return qualifier not in inner_rel.qualifiers
        name = column.name.lower()
        return name not in inner_names and name in outer_names

    found = _Correlation([], [], [], is_outer)
    where = select.args.get("where")
    for part in _conjuncts(where.this) if where is not None else []:
        if not any(is_outer(c) for c in part.find_all(exp.Column)):
            found.local.append(part)
            continue
        sides = _equality_sides(part, is_outer)
        if sides is None:
            found.residual.append(part)
        else:
            found.pairs.append(sides)
    return found


def _names(relation: Relation) -> list[str]:
    if relation.fields is not None:
        return [f.name for f in relation.fields]
    return list(relation.columns or ())


def _equality_sides(
    part: exp.Expr, is_outer: Callable[[exp.Column], bool]
) -> tuple[exp.Expr, exp.Expr] | None:
    """``(inner side, outer side)`` when ``part`` is ``inner expression = outer expression``."""
    if not isinstance(part, exp.EQ):
        return None
    left_outer = [c for c in part.this.find_all(exp.Column) if is_outer(c)]
    right_outer = [c for c in part.expression.find_all(exp.Column) if is_outer(c)]
    left_all = list(part.this.find_all(exp.Column))
    right_all = list(part.expression.find_all(exp.Column))
    if right_outer and len(right_outer) == len(right_all) and not left_outer and left_all:
        return part.this, part.expression
    if left_outer and len(left_outer) == len(left_all) and not right_outer and right_all:
        return part.expression, part.this
    return None


def _scalars(state: _State, part: exp.Expr) -> exp.Expr:
    """``part`` with each scalar subquery replaced by a hidden column holding its value."""
    found = [s for s in part.find_all(exp.Subquery) if not isinstance(s.parent, exp.In)]
    if isinstance(part, exp.Subquery):
        found = [part]
    out = part
    for sub in found:
        if isinstance(sub.parent, exp.Any | exp.All):
            kind = f"{sub.parent.key.upper()} (subquery)"
            raise state.lowering.source.unsupported(sub.parent, kind, hint=_HINT)
        select = sub.this
        if not _one_row(select):
            raise state.lowering.source.unsupported(
                sub,
                "scalar subquery that may return several rows (only an aggregate without "
                "GROUP BY is known to return one)",
                hint=_HINT,
            )
        found = _correlation(state, select)
        if found.residual:
            raise state.lowering.source.unsupported(
                found.residual[0],
                "correlated condition other than inner = outer in a scalar subquery",
                hint=_HINT,
            )
        if found.pairs:
            replacement = _correlated_scalar(state, sub, select, found.pairs, found.local)
        else:
            relation = _query(state, sub)
            column = _one_column(state, relation, sub, "scalar")
            name = state.name("scalar")
            state.add_hidden(Project(relation.plan, (Alias(Column(column), name),)), [name])
            replacement = exp.column(name, quoted=True)
        if sub is out:
            out = replacement
        else:
            sub.replace(replacement)
    return out


def _correlated_scalar(
    state: _State,
    sub: exp.Subquery,
    select: exp.Select,
    pairs: list[tuple[exp.Expr, exp.Expr]],
    local: list[exp.Expr],
) -> exp.Expr:
    """A correlated aggregate as a LEFT join with the subquery grouped by its inner keys:
    ``x > (SELECT avg(y) FROM u WHERE u.k = t.k)`` reads ``avg(y)`` of ``t.k``'s group
    (NULL where there is none, and 0 for a bare ``count``, as the subquery would give)."""
    value = select.expressions[0]
    value = value.this if isinstance(value, exp.Alias) else value
    bare_count = isinstance(value, exp.Count)
    if not bare_count and any(isinstance(n, exp.Count) for n in value.walk()):
        raise state.lowering.source.unsupported(
            sub, "correlated subquery with count() inside an expression", hint=_HINT
        )
    keys = [state.name("key") for _ in pairs]
    name = state.name("scalar")
    body = select.copy()
    body.set("where", exp.Where(this=exp.and_(*local, copy=False)) if local else None)
    body.set(
        "expressions",
        [exp.alias_(i.copy(), k, quoted=True) for (i, _), k in zip(pairs, keys, strict=True)]
        + [exp.alias_(value.copy(), name, quoted=True)],
    )
    body.set("group", exp.Group(expressions=[i.copy() for i, _ in pairs]))
    relation = _query(state, body)
    outer = tuple(state.lower(o) for _, o in pairs)
    plan = Join(state.relation.plan, relation.plan, "left", outer, tuple(Column(k) for k in keys))
    assert state.relation.fields is not None
    hidden = tuple(Field(None, n, n, in_star=False) for n in [*keys, name])
    state.relation = Relation(
        plan,
        (state.relation.columns or ()) + tuple(keys) + (name,),
        state.relation.qualifiers,
        fields=state.relation.fields + hidden,
    )
    column = exp.column(name, quoted=True)
    if bare_count:
        return exp.Coalesce(this=column, expressions=[exp.Literal.number(0)])
    return column


def has_having_subquery(node: exp.Select) -> bool:
    """Whether the SELECT's HAVING holds a subquery."""
    having = node.args.get("having")
    return having is not None and any(
        isinstance(n, exp.Subquery | exp.Select | exp.Exists) for n in having.this.walk()
    )


def lower_having_subqueries(
    lowering: QueryLowering, node: exp.Select, ctes: Mapping[str, Relation]
) -> tuple[exp.Select, list[tuple[str, PlanNode]]]:
    """``node`` with each scalar subquery of its HAVING replaced by a column name, and
    the one-row plans giving those columns (joined to the groups before HAVING):
    ``HAVING sum(v) > (SELECT sum(v) * 0.0001 FROM ...)`` (TPC-H Q11). Only
    uncorrelated aggregates without GROUP BY are taken; anything else is refused."""
    out = node.copy()
    sides: list[tuple[str, PlanNode]] = []
    _one_row_sides(lowering, ctes, out.args["having"].this, "HAVING", sides)
    return out, sides


def _one_row_sides(
    lowering: QueryLowering,
    ctes: Mapping[str, Relation],
    clause: exp.Expr,
    where: str,
    sides: list[tuple[str, PlanNode]],
) -> None:
    """Replace each uncorrelated one-row subquery in ``clause`` (in place) by a column
    ``__having<n>`` and append the plan giving it to ``sides``."""
    for found in list(clause.find_all(exp.Subquery, exp.Exists)):
        if isinstance(found, exp.Exists) or isinstance(found.parent, exp.In | exp.Any | exp.All):
            target = found if isinstance(found, exp.Exists) else found.parent
            kind = "EXISTS" if isinstance(found, exp.Exists) else target.key.upper()
            raise lowering.source.unsupported(target, f"{kind} (subquery) in {where}", hint=_HINT)
        if not _one_row(found.this):
            raise lowering.source.unsupported(
                found, f"subquery in {where} other than an aggregate without GROUP BY", hint=_HINT
            )
        relation = _uncorrelated(lowering, ctes, found, f"correlated subquery in {where}")
        assert relation.columns is not None
        name = f"__having{len(sides) + 1}"
        sides.append((name, Project(relation.plan, (Alias(Column(relation.columns[0]), name),))))
        found.replace(exp.column(name, quoted=True))


def has_select_subquery(node: exp.Select) -> bool:
    """Whether the SELECT list holds a scalar subquery (IN / EXISTS there stay refused)."""
    return any(
        isinstance(n, exp.Subquery) and not isinstance(n.parent, exp.In | exp.Any | exp.All)
        for item in node.expressions
        for n in item.walk()
    )


def _grouped(node: exp.Select) -> bool:
    """Whether the SELECT aggregates, looking past its subqueries' own aggregates."""
    if node.args.get("group") is not None or node.args.get("having") is not None:
        return True
    from hasivu_compute.sql.aggregates import contains_aggregate

    for item in node.expressions:
        outer = exp.Alias(this=item.copy(), alias=exp.to_identifier("item"))  # never a subquery
        for sub in list(outer.find_all(exp.Subquery)):
            sub.replace(exp.Null())
        if contains_aggregate(outer):
            return True
    return False


def lower_select_subqueries(
    lowering: QueryLowering,
    node: exp.Select,
    relation: Relation,
    ctes: Mapping[str, Relation],
    sides: list[tuple[str, PlanNode]],
) -> tuple[Relation, exp.Select]:
    """Scalar subqueries in the SELECT list. Without grouping each becomes a hidden
    column of the FROM relation, as in WHERE (correlated on equalities or not:
    ``SELECT name, (SELECT count(*) FROM orders o WHERE o.school_id = s.id) FROM
    schools s``); in a grouped SELECT, uncorrelated one-row subqueries are joined to the
    groups like HAVING's (appended to ``sides``). Items keep their output names."""
    out = node.copy()
    items = []
    if _grouped(out):
        for item in out.expressions:
            named = _keep_name(item)
            _one_row_sides(lowering, ctes, named, "the SELECT list of a grouped query", sides)
            items.append(named)
        out.set("expressions", items)
        return relation, out
    state = _State(lowering, ctes, joinable(relation, 0, lowering.source, out))
    for item in out.expressions:
        items.append(_scalars(state, _keep_name(item)))
    out.set("expressions", items)
    return state.relation, out


def _keep_name(item: exp.Expr) -> exp.Expr:
    """``item`` aliased to its own text, so replacing a subquery keeps the column name."""
    if isinstance(item, exp.Alias) or not any(isinstance(n, exp.Subquery) for n in item.walk()):
        return item
    text = item.sql(dialect="duckdb")
    return exp.Alias(this=item, alias=exp.to_identifier(text, quoted=True))
