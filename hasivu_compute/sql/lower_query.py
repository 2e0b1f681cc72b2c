"""Lower sqlglot queries (SELECT, UNION, INTERSECT/EXCEPT, CTEs, derived tables) to plans.

One SELECT becomes, bottom-up::

    Scan / derived table
      -> Filter(WHERE)
      -> Aggregate(keys, aggs)          only for aggregate queries
      -> Filter(HAVING)
      -> Project(select list + hidden ORDER BY columns)
      -> Distinct -> Sort -> Limit
      -> Project(select list)            only when hidden ORDER BY columns were added

Aggregate calls found anywhere above the Aggregate (SELECT list, HAVING,
ORDER BY) are computed by the Aggregate under internal names and referenced by
name above it; group keys are referenced the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from sqlglot import exp

from hasivu_compute._core.errors import BindError, ParseError, UnsupportedSQLError
from hasivu_compute.expr.nodes import Alias, Column, Expr
from hasivu_compute.plan.nodes import (
    Distinct,
    Filter,
    Limit,
    PlanNode,
    Project,
    Scan,
    Sort,
    SortKey,
    Union,
    one_row,
)
from hasivu_compute.sql.clauses import refuse_unread, table_version, unsupported_arg
from hasivu_compute.sql.joins import JOIN_ARGS, join_type, joinable, joined
from hasivu_compute.sql.lower_expr import SUBQUERY_HINT, Scope, lower_expr
from hasivu_compute.sql.names import Field, Relation, Resolver, find_name
from hasivu_compute.sql.parsing import SqlText
from hasivu_compute.sql.select_agg import AggregateLowering
from hasivu_compute.sql.set_ops import lower_set_operation
from hasivu_compute.sql.subqueries import (
    has_having_subquery,
    has_select_subquery,
    has_where_subquery,
    lower_having_subqueries,
    lower_select_subqueries,
    lower_where_subqueries,
)
from hasivu_compute.sql.windows import WindowLowering, has_windows

__all__ = ["QueryLowering", "SchemaLookup"]

#: Column names of a table (at a version, None: the current one), or None when unknown.
SchemaLookup = Callable[[str, int | None], tuple[str, ...] | None]

_SELECT_ARGS = frozenset(
    {
        "with_",
        "expressions",
        "distinct",
        "from_",
        "joins",
        "where",
        "group",
        "having",
        "order",
        "limit",
        "offset",
        "qualify",
        "windows",
    }
)
#: Arguments the lowering reads, per node kind; any other that is set is refused.
_UNION_ARGS = frozenset({"this", "expression", "distinct", "with_", "order", "limit", "offset"})
_QUERY_SUBQUERY_ARGS = frozenset({"this", "with_", "order", "limit", "offset"})
_FROM_SUBQUERY_ARGS = frozenset({"this", "alias", "order", "limit", "offset"})
_TABLE_ARGS = frozenset({"this", "alias", "db", "catalog", "when", "version"})
_ALIAS_ARGS = frozenset({"this", "columns"})
_WITH_ARGS = frozenset({"expressions", "recursive"})
_CTE_ARGS = frozenset({"this", "alias", "materialized"})
_ORDER_ARGS = frozenset({"expressions"})
_ORDERED_ARGS = frozenset({"this", "desc", "nulls_first"})
_LIMIT_ARGS = frozenset({"this", "expression", "limit_options"})
_OFFSET_ARGS = frozenset({"this", "expression"})
#: Clauses of a SELECT that may hold a subquery we refuse, with their names for errors.
_SUBQUERY_CLAUSES = (
    ("expressions", "the SELECT list"),
    ("where", "WHERE"),
    ("group", "GROUP BY"),
    ("having", "HAVING"),
    ("order", "ORDER BY"),
)


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One output column of a SELECT: its name and the (unaliased) sqlglot expression."""

    name: str
    node: exp.Expr


@dataclass(slots=True)
class Projection:
    """The SELECT list being lowered, plus hidden columns that ORDER BY needs."""

    names: list[str]
    exprs: list[Expr]
    hidden: list[str] = field(default_factory=list)

    def add_hidden(self, expr: Expr) -> str:
        name = f"__order_{len(self.hidden)}"
        self.hidden.append(name)
        self.exprs.append(Alias(expr, name))
        return name


class QueryLowering:
    """Lowers one parsed statement; holds the SQL text (positions) and the schema lookup."""

    def __init__(self, source: SqlText, schema_of: SchemaLookup) -> None:
        self.source = source
        self.schema_of = schema_of

    # --- queries --------------------------------------------------------------------

    def query(self, node: exp.Expr, ctes: Mapping[str, Relation]) -> Relation:
        """Lower a query expression (SELECT / UNION ALL / parenthesised query)."""
        ctes = self._with(node, ctes)
        if isinstance(node, exp.Select):
            return self.select(node, ctes)
        if isinstance(node, exp.Union):
            return self.union(node, ctes)
        if isinstance(node, exp.Subquery):
            refuse_unread(node, _QUERY_SUBQUERY_ARGS, self.source)
            inner = self.query(node.this, ctes)
            return self._modifiers_over_outputs(node, inner)
        if isinstance(node, exp.Intersect | exp.Except):
            return self._modifiers_over_outputs(node, lower_set_operation(self, node, ctes))
        raise self.source.unsupported(node, f"statement {node.key.upper()}")

    def _with(self, node: exp.Expr, ctes: Mapping[str, Relation]) -> Mapping[str, Relation]:
        with_ = node.args.get("with_")
        if with_ is None:
            return ctes
        if with_.args.get("recursive"):
            raise self.source.unsupported(with_, "WITH RECURSIVE", keyword="WITH")
        refuse_unread(with_, _WITH_ARGS, self.source)
        scope = dict(ctes)
        defined: set[str] = set()
        for cte in with_.expressions:
            if cte.args.get("materialized") is not None:
                raise self.source.unsupported(cte, "MATERIALIZED CTE")
            refuse_unread(cte, _CTE_ARGS, self.source)
            name = cte.alias_or_name.lower()
            if name in defined:
                raise BindError(
                    f"CTE {cte.alias_or_name!r} is defined twice{self.source.where(cte)}"
                )
            defined.add(name)
            relation = self.query(cte.this, scope)
            scope[name] = self._aliased(relation, cte.args.get("alias"))
        return scope

    def union(self, node: exp.Union, ctes: Mapping[str, Relation]) -> Relation:
        """UNION ALL (and UNION, as DISTINCT over UNION ALL); names from the first input."""
        refuse_unread(node, _UNION_ARGS, self.source)
        distinct = bool(node.args.get("distinct"))
        inputs = self._union_inputs(node, ctes, distinct)
        known = [r.columns for r in inputs if r.columns is not None]
        widths = {len(c) for c in known}
        if len(widths) > 1:
            raise BindError(
                f"UNION inputs have different column counts {sorted(widths)}{self.source.where(node)}"
            )
        plan: PlanNode = Union(tuple(r.plan for r in inputs))
        if distinct:
            plan = Distinct(plan)
        relation = Relation(plan, inputs[0].columns, unknown_because=inputs[0].unknown_because)
        return self._modifiers_over_outputs(node, relation)

    def _union_inputs(
        self, node: exp.Union, ctes: Mapping[str, Relation], distinct: bool
    ) -> list[Relation]:
        parts: list[Relation] = []
        for side in (node.this, node.expression):
            same_kind = (
                isinstance(side, exp.Union)
                and type(side) is exp.Union
                and bool(side.args.get("distinct")) == distinct
                and not distinct
                and not any(side.args.get(a) for a in ("order", "limit", "offset", "with_"))
            )
            if same_kind:
                parts.extend(self._union_inputs(side, ctes, distinct))
            else:
                parts.append(self.query(side, ctes))
        return parts

    # --- FROM -----------------------------------------------------------------------

    def from_(self, node: exp.Select, ctes: Mapping[str, Relation]) -> Relation:
        """The relation of the FROM clause: one table, CTE or derived table, or their joins."""
        clause = node.args.get("from_")
        if clause is None:  # SELECT 1 + 2: one row of no columns
            if node.args.get("joins"):
                raise self.source.unsupported(node, "JOIN without FROM")
            return Relation(one_row(), ())
        relation = self._from_item(clause.this, ctes)
        joins = node.args.get("joins") or []
        if joins:
            relation = joinable(relation, 0, self.source, clause.this)
        for index, join in enumerate(joins, start=1):
            refuse_unread(join, JOIN_ARGS, self.source)
            how = join_type(join, self.source)
            right = joinable(self._from_item(join.this, ctes), index, self.source, join.this)
            relation = joined(relation, right, join, how, self.source, self._on)
        return relation

    def _on(self, condition: exp.Expr, resolver: Resolver) -> Expr:
        """A join condition, lowered against the tables joined so far."""
        for sub in condition.walk():
            if isinstance(sub, exp.Subquery | exp.Select | exp.Exists):
                raise self._subquery_error(sub, "a join condition")
            if isinstance(sub, exp.AggFunc):
                raise BindError(
                    f"aggregate {sub.sql(dialect='duckdb')} is not allowed in a join condition"
                    f"{self.source.where(sub)}"
                )
        return lower_expr(condition, Scope(self.source, resolver.column, _no_intercept))

    def lower_scalar(self, node: exp.Expr, resolver: Resolver) -> Expr:
        """A row-level expression (no aggregates) against ``resolver``'s relation."""
        return lower_expr(node, Scope(self.source, resolver.column, _no_intercept))

    def _from_item(self, item: exp.Expr, ctes: Mapping[str, Relation]) -> Relation:
        if isinstance(item, exp.Table):
            return self._table(item, ctes)
        if isinstance(item, exp.Subquery):
            refuse_unread(item, _FROM_SUBQUERY_ARGS, self.source)
            relation = self.query(item.this, ctes)
            return self._modifiers_over_outputs(
                item, self._aliased(relation, item.args.get("alias"))
            )
        raise self.source.unsupported(item, f"FROM {item.key.upper()}")

    def _table(self, node: exp.Table, ctes: Mapping[str, Relation]) -> Relation:
        refuse_unread(node, _TABLE_ARGS, self.source)
        version = table_version(node, self.source)
        if not isinstance(node.this, exp.Identifier):
            raise self.source.unsupported(node, f"table function {node.this.sql(dialect='duckdb')}")
        if node.args.get("db") is not None or node.args.get("catalog") is not None:
            raise self.source.unsupported(node, "table name with a schema/catalog prefix")
        name = node.name
        cte = ctes.get(name.lower())
        if cte is not None and version is not None:
            line, col = self.source.keyword_after(frozenset({"AT", "FOR", "VERSION"}), node)
            raise UnsupportedSQLError("time travel on a CTE (only on tables)", line=line, col=col)
        if cte is not None:
            relation = replace(cte, qualifiers=frozenset({name.lower()}))
        elif version is not None and self.schema_of(name, version) is None:
            # an older version may have other columns (renamed, added, dropped); when the
            # lookup cannot tell them, leave them to the binder, which reads that version's
            # schema (what needs the column list is then refused, not guessed)
            why = f"the columns of version {version} are known only when the plan is bound"
            relation = Relation(Scan(name, version=version), None, frozenset({name.lower()}), why)
        else:
            columns = self.schema_of(name, version)
            relation = Relation(Scan(name, version=version), columns, frozenset({name.lower()}))
        return self._aliased(relation, node.args.get("alias"))

    def _aliased(self, relation: Relation, alias: exp.TableAlias | None) -> Relation:
        if alias is None:
            return relation
        refuse_unread(alias, _ALIAS_ARGS, self.source)
        if alias.this is not None and not isinstance(alias.this, exp.Identifier):
            line, col = self.source.position(alias)
            if line is None:
                line, col = self.source.last_keyword(frozenset({"@", "$", "?", ":"}))
            raise UnsupportedSQLError("table alias that is not a name", line=line, col=col)
        qualifiers = frozenset({alias.name.lower()}) if alias.name else relation.qualifiers
        renames = [c.name for c in alias.args.get("columns") or []]
        if not renames:
            return replace(relation, qualifiers=qualifiers)
        if relation.columns is None:
            raise self.source.unsupported(alias, "column aliases over a table of unknown schema")
        if len(renames) > len(relation.columns):
            raise BindError(
                f"{len(renames)} column aliases for {len(relation.columns)} columns{self.source.where(alias)}"
            )
        names = tuple(renames) + relation.columns[len(renames) :]
        exprs = tuple(
            Alias(Column(old), new) for old, new in zip(relation.columns, names, strict=True)
        )
        return Relation(Project(relation.plan, exprs), names, qualifiers)

    # --- SELECT -----------------------------------------------------------------------

    def select(self, node: exp.Select, ctes: Mapping[str, Relation]) -> Relation:
        """Lower one SELECT (see the module docstring for the plan shape)."""
        refuse_unread(node, _SELECT_ARGS, self.source)
        distinct = node.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            raise self.source.unsupported(distinct, "DISTINCT ON", keyword="DISTINCT")
        relation = self.from_(node, ctes)
        if has_where_subquery(node):
            relation, node = lower_where_subqueries(self, node, relation, ctes)
        having_sides: list[tuple[str, PlanNode]] = []
        if has_having_subquery(node):
            node, having_sides = lower_having_subqueries(self, node, ctes)
        if has_select_subquery(node):
            relation, node = lower_select_subqueries(self, node, relation, ctes, having_sides)
        if not node.expressions:  # DuckDB: "SELECT clause without selection list"
            line, col = self.source.position(node)
            hint = "name what to return: SELECT * or SELECT a, b"
            raise ParseError(
                "syntax error: SELECT without a column list", line=line, col=col, hint=hint
            )
        self._refuse_subqueries(node)
        items = self._select_items(node, relation)
        if items is not None:
            _expand_order_all(node, len(items))
        aliases = {e.alias.lower(): e.this for e in node.expressions if isinstance(e, exp.Alias)}
        resolver = Resolver(relation, aliases, self.source)
        plan = relation.plan
        where = node.args.get("where")
        if where is not None:
            plan = Filter(plan, self._where(where.this, resolver))
        aggregate = AggregateLowering(self.source, resolver, items)
        substitute: Callable[[exp.Expr], exp.Expr] = resolver.substitute_aliases
        if aggregate.applies(node):
            plan, scope = aggregate.lower(node, plan, having_sides)
            substitute = aggregate.substitute
        else:
            scope = Scope(self.source, resolver.column, _no_intercept)
        if has_windows(node) or node.args.get("qualify") is not None:
            if items is None:
                raise self.source.unsupported(
                    node.expressions[0], "window functions over a table of unknown schema"
                )
            windows = WindowLowering(self.source, scope, node.args.get("windows") or [])
            build, scope = windows.lower(node, [i.node for i in items], substitute)
            plan = build(plan)
        if items is None:  # SELECT * over a table of unknown schema
            return self._passthrough(node, plan, scope, relation.unknown_because)
        return self._finish(node, plan, items, substitute, scope)

    def _refuse_subqueries(self, node: exp.Select) -> None:
        """Refuse a subquery outside FROM, naming its kind and clause (before anything
        mistakes the aggregate inside ``(SELECT max(a) ...)`` for one of this SELECT)."""
        for arg, clause in _SUBQUERY_CLAUSES:
            value = node.args.get(arg)
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, exp.Expr):
                    continue
                for sub in item.walk():
                    if isinstance(sub, exp.Subquery | exp.Select | exp.Exists):
                        raise self._subquery_error(sub, clause)

    def _subquery_error(self, sub: exp.Expr, clause: str) -> UnsupportedSQLError:
        parent = sub.parent
        target: exp.Expr
        if isinstance(sub, exp.Exists):
            target, kind = sub, "EXISTS (subquery)"
        elif isinstance(parent, exp.In):
            target, kind = parent, "IN (subquery)"
        elif isinstance(parent, exp.Any | exp.All):
            target, kind = parent, f"{parent.key.upper()} (subquery)"
        else:
            target, kind = sub, "scalar subquery"
        return self.source.unsupported(target, f"{kind} in {clause}", hint=SUBQUERY_HINT)

    def _where(self, predicate: exp.Expr, resolver: Resolver) -> Expr:
        resolved = resolver.substitute_aliases(predicate)
        for sub in resolved.walk():
            if isinstance(sub, exp.AggFunc):
                raise BindError(
                    f"aggregate {sub.sql(dialect='duckdb')} is not allowed in WHERE"
                    f"{self.source.where(sub)}; use HAVING"
                )
        return lower_expr(resolved, Scope(self.source, resolver.column, _no_intercept))

    def _select_items(self, node: exp.Select, relation: Relation) -> list[SelectItem] | None:
        items: list[SelectItem] = []
        used: set[str] = set()
        for expr in node.expressions:
            if _is_star(expr) and relation.fields is not None:
                self._expand_star(expr, relation, len(node.expressions))  # checks the qualifier
                for f in _star_fields(expr, relation.fields):
                    ref = exp.column(f.name, table=f.qualifier, quoted=True)
                    items.append(
                        SelectItem(
                            _unique(f.name, used),
                            ref if f.qualifier else exp.column(f.name, quoted=True),
                        )
                    )
                continue
            if _is_star(expr):
                expanded = self._expand_star(expr, relation, len(node.expressions))
                if expanded is None:
                    return None
                for name in expanded:
                    items.append(SelectItem(_unique(name, used), exp.column(name, quoted=True)))
                continue
            if isinstance(expr, exp.Alias):
                name, inner = expr.alias, expr.this
            elif isinstance(expr, exp.Column):
                name, inner = expr.name, expr
                if relation.columns is not None:
                    name = find_name(expr.name, relation.columns) or expr.name
            else:
                name, inner = expr.sql(dialect="duckdb"), expr
            items.append(SelectItem(_unique(name, used), inner))
        return items

    def _expand_star(
        self, node: exp.Expr, relation: Relation, count: int
    ) -> tuple[str, ...] | None:
        star = node.this if isinstance(node, exp.Column) else node
        if any(star.args.get(a) for a in ("except_", "replace", "rename", "ilike")):
            raise self.source.unsupported(node, "* EXCLUDE / REPLACE / RENAME")
        if isinstance(node, exp.Column) and node.table.lower() not in relation.qualifiers:
            raise BindError(
                f"unknown table {node.table!r} in {node.sql()}{self.source.where(node)}"
            )
        if relation.columns is not None:
            return relation.columns
        if count == 1:
            return None
        raise self.source.unsupported(
            node, f"* next to other SELECT items ({relation.unknown_because}; name the columns)"
        )

    # --- ORDER BY / DISTINCT / LIMIT --------------------------------------------------

    def _finish(
        self,
        node: exp.Select,
        plan: PlanNode,
        items: list[SelectItem],
        substitute: Callable[[exp.Expr], exp.Expr],
        scope: Scope,
    ) -> Relation:
        projection = Projection(
            [i.name for i in items],
            [Alias(lower_expr(i.node, scope), i.name) for i in items],
        )
        distinct = node.args.get("distinct") is not None
        keys = self._order_keys(node, items, projection, substitute, scope, distinct)
        plan = Project(plan, tuple(projection.exprs))
        if distinct:
            plan = Distinct(plan)
        if keys:
            plan = Sort(plan, tuple(keys))
        plan = self._limit(node, plan)
        if projection.hidden:
            plan = Project(plan, tuple(Column(n) for n in projection.names))
        return Relation(plan, tuple(projection.names))

    def _order_keys(
        self,
        node: exp.Expr,
        items: list[SelectItem],
        projection: Projection,
        substitute: Callable[[exp.Expr], exp.Expr],
        scope: Scope,
        distinct: bool,
    ) -> list[SortKey]:
        order = self._checked_order(node)
        if order is None:
            return []
        keys = []
        for ordered in order.expressions:
            name = self._output_reference(ordered.this, items)
            if name is None:
                resolved = substitute(ordered.this)
                lowered = lower_expr(resolved, scope)
                name = _matching_output(lowered, projection)
                if name is None:
                    if distinct:
                        raise BindError(
                            "ORDER BY expression must be in the SELECT list with DISTINCT"
                            f"{self.source.where(ordered)}"
                        )
                    name = projection.add_hidden(lowered)
            keys.append(_sort_key(Column(name), ordered))
        return keys

    def _output_reference(self, node: exp.Expr, items: list[SelectItem]) -> str | None:
        """The output column an ORDER BY key names by position or by bare name, if any."""
        if isinstance(node, exp.Literal) and not node.is_string:
            position = _position(node, len(items), "ORDER BY", self.source)
            return items[position].name
        if isinstance(node, exp.Column) and not node.table and not isinstance(node.this, exp.Star):
            return find_name(node.name, tuple(i.name for i in items))
        return None

    def _checked_order(self, node: exp.Expr) -> exp.Order | None:
        """``node``'s ORDER BY, refusing what the sort keys do not express (WITH FILL ...)."""
        order = node.args.get("order")
        if order is None:
            return None
        refuse_unread(order, _ORDER_ARGS, self.source)
        for ordered in order.expressions:
            refuse_unread(ordered, _ORDERED_ARGS, self.source)
        assert isinstance(order, exp.Order)
        return order

    def _limit(self, node: exp.Expr, plan: PlanNode) -> PlanNode:
        limit = node.args.get("limit")
        offset = node.args.get("offset")
        if limit is None and offset is None:
            return plan
        count = self._constant_int(limit, "LIMIT") if limit is not None else None
        skip = (self._constant_int(offset, "OFFSET") or 0) if offset is not None else 0
        return Limit(plan, count, skip)

    def _constant_int(self, clause: exp.Expr, name: str) -> int | None:
        if not isinstance(clause, exp.Limit | exp.Offset):
            keyword = clause.key.upper()
            raise self.source.unsupported(clause, f"{name} form {keyword}", keyword=keyword)
        if isinstance(clause, exp.Limit) and clause.expressions:
            raise self.source.unsupported(clause, "LIMIT BY", keyword="LIMIT")
        refuse_unread(clause, _LIMIT_ARGS if name == "LIMIT" else _OFFSET_ARGS, self.source)
        options = clause.args.get("limit_options")
        for flag, words in (("percent", "LIMIT ... PERCENT"), ("with_ties", "LIMIT ... WITH TIES")):
            if options is not None and options.args.get(flag):
                raise self.source.unsupported(clause, words, keyword="LIMIT")
        value = clause.expression
        if name == "LIMIT" and isinstance(value, exp.Var) and value.name.upper() == "ALL":
            return None
        if not (isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit()):
            raise self.source.unsupported(
                value or clause, f"{name} with a non-constant or negative value"
            )
        return int(value.this)

    def _passthrough(
        self, node: exp.Select, plan: PlanNode, scope: Scope, unknown_because: str
    ) -> Relation:
        """``SELECT * FROM t`` with t's columns unknown: no projection at all."""
        if node.args.get("distinct") is not None:
            plan = Distinct(plan)
        order = self._checked_order(node)
        if order is not None:
            keys = []
            for ordered in order.expressions:
                if isinstance(ordered.this, exp.Literal) and not ordered.this.is_string:
                    raise self.source.unsupported(
                        ordered, f"ORDER BY position over SELECT * ({unknown_because})"
                    )
                keys.append(_sort_key(lower_expr(ordered.this, scope), ordered))
            plan = Sort(plan, tuple(keys))
        return Relation(self._limit(node, plan), None, unknown_because=unknown_because)

    def _modifiers_over_outputs(self, node: exp.Expr, relation: Relation) -> Relation:
        """ORDER BY / LIMIT attached to a UNION or parenthesised query: over its outputs."""
        if not any(node.args.get(a) for a in ("order", "limit", "offset")):
            return relation
        for arg in ("where", "group", "having", "qualify"):
            if node.args.get(arg):
                raise unsupported_arg(node, arg, self.source)
        plan = relation.plan
        if relation.columns is not None:
            _expand_order_all(node, len(relation.columns))
        order = self._checked_order(node)
        if order is not None:
            outputs = Resolver(replace(relation, qualifiers=frozenset()), {}, self.source)
            scope = Scope(self.source, outputs.column, _no_intercept)
            keys = []
            for ordered in order.expressions:
                if isinstance(ordered.this, exp.Literal) and not ordered.this.is_string:
                    if relation.columns is None:
                        raise self.source.unsupported(ordered, "ORDER BY position (unknown schema)")
                    pos = _position(ordered.this, len(relation.columns), "ORDER BY", self.source)
                    keys.append(_sort_key(Column(relation.columns[pos]), ordered))
                else:
                    keys.append(_sort_key(lower_expr(ordered.this, scope), ordered))
            plan = Sort(plan, tuple(keys))
        return replace(relation, plan=self._limit(node, plan))


def _expand_order_all(node: exp.Expr, count: int) -> None:
    """``ORDER BY ALL`` (DuckDB) -> ``ORDER BY 1, 2, ..., count`` with the same direction."""
    order = node.args.get("order")
    if order is None or len(order.expressions) != 1:
        return
    (ordered,) = order.expressions
    key = ordered.this
    if not (
        isinstance(key, exp.Var | exp.Column)
        and key.name.upper() == "ALL"
        and not key.args.get("table")
    ):
        return
    keys = []
    for position in range(1, count + 1):
        copy = ordered.copy()
        copy.set("this", exp.Literal.number(position))
        keys.append(copy)
    order.set("expressions", keys)


def _no_intercept(node: exp.Expr) -> Expr | None:
    return None


def _is_star(node: exp.Expr) -> bool:
    return isinstance(node, exp.Star) or (
        isinstance(node, exp.Column) and isinstance(node.this, exp.Star)
    )


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{name}_{n}"
    used.add(candidate.lower())
    return candidate


def _matching_output(expr: Expr, projection: Projection) -> str | None:
    for name, projected in zip(projection.names, projection.exprs, strict=False):
        inner = projected.child if isinstance(projected, Alias) else projected
        if inner.same_as(expr):
            return name
    return None


def _sort_key(expr: Expr, ordered: exp.Ordered) -> SortKey:
    descending = bool(ordered.args.get("desc"))
    nulls_first = bool(ordered.args.get("nulls_first"))
    return SortKey(expr, descending=descending, nulls_first=nulls_first)


def _position(node: exp.Literal, count: int, clause: str, source: SqlText) -> int:
    text = node.this
    if not text.isdigit() or not 1 <= int(text) <= count:
        raise BindError(f"{clause} position {text} is not in 1..{count}{source.where(node)}")
    return int(text) - 1


def _star_fields(node: exp.Expr, fields: tuple[Field, ...]) -> list[Field]:
    """The columns ``*`` (those a plain ``*`` lists) or ``t.*`` (all of table t) names."""
    if isinstance(node, exp.Column) and node.table:
        return [f for f in fields if f.qualifier == node.table.lower()]
    return [f for f in fields if f.in_star]
