"""The aggregate part of a SELECT: GROUP BY keys, aggregate extraction, HAVING.

Produces ``Aggregate(keys, aggs)`` (+ ``Filter`` for HAVING) and the
:class:`Scope` in which the SELECT list and ORDER BY are lowered above it: there
an aggregate call or a group-key expression becomes a reference to the
Aggregate's output column, and any other input column is an error (it is
neither grouped nor aggregated). With ROLLUP / CUBE / GROUPING SETS the Aggregate
is a union of one per grouping set, and GROUPING() a column of constants
(:mod:`hasivu_compute.sql.grouping_sets`). Expressions are matched by a text key
whose column references name the input column they read (``g`` and ``t.g`` are one
key, ``f.g`` and ``d.g`` of a join two).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.expr.nodes import AggCall, Alias, Column, Expr, lit
from hasivu_compute.plan.nodes import Aggregate, Filter, Join, PlanNode
from hasivu_compute.sql.aggregates import (
    GROUPING_NODES,
    contains_aggregate,
    find_aggregates,
    is_aggregate_call,
    lower_aggregate,
    normal_key,
)
from hasivu_compute.sql.clauses import refuse_unread, unsupported_arg
from hasivu_compute.sql.grouping_sets import (
    GroupingCall,
    group_items,
    grouping_keys,
    grouping_union,
)
from hasivu_compute.sql.lower_expr import Scope, lower_expr
from hasivu_compute.sql.names import Resolver, find_name
from hasivu_compute.sql.parsing import SqlText

if TYPE_CHECKING:
    from hasivu_compute.sql.lower_query import SelectItem

__all__ = ["AggregateLowering"]


class AggregateLowering:
    """Lowers the grouping of one SELECT; see the module docstring."""

    def __init__(
        self, source: SqlText, resolver: Resolver, items: Sequence[SelectItem] | None
    ) -> None:
        self.source = source
        self.resolver = resolver
        self.items = items
        self.input_scope = Scope(source, resolver.column, _no_intercept)
        self.key_names: dict[str, str] = {}
        self.agg_names: dict[str, str] = {}
        self.group_columns: frozenset[str] = frozenset()
        self.grouping_names: dict[str, str] = {}

    def applies(self, node: exp.Select) -> bool:
        """Whether the SELECT aggregates (GROUP BY, HAVING or an aggregate call anywhere)."""
        if node.args.get("group") is not None or node.args.get("having") is not None:
            return True
        order = node.args.get("order")
        clauses = [i.node for i in self.items or []] + ([order] if order is not None else [])
        return any(_has_aggregate(c) for c in clauses)

    def substitute(self, node: exp.Expr) -> exp.Expr:
        """Alias substitution for clauses above the Aggregate (HAVING, ORDER BY)."""
        return self.resolver.substitute_aliases(node, self.group_columns)

    def lower(
        self,
        node: exp.Select,
        plan: PlanNode,
        having_sides: Sequence[tuple[str, PlanNode]] = (),
    ) -> tuple[PlanNode, Scope]:
        """``Aggregate`` (+ HAVING filter) over ``plan`` and the scope for what sits above.

        ``having_sides``: one-row plans the HAVING reads by name (its scalar subqueries),
        joined to the groups first."""
        if self.items is None:
            raise self.source.unsupported(
                node.expressions[0], "SELECT * in an aggregate query over a table of unknown schema"
            )
        groups, sets = self._group_expressions(node)
        self.group_columns = frozenset(
            g.name.lower() for g in groups if isinstance(g, exp.Column) and not g.table
        )
        keys = [k for k in (self._key(g, i) for i, g in enumerate(groups)) if k is not None]
        aggs = []
        for call in self._aggregate_calls(node):
            key = self._key_of(call)
            if key not in self.agg_names:
                name = f"__agg_{len(self.agg_names)}"
                self.agg_names[key] = name
                aggs.append(Alias(lower_aggregate(call, self.input_scope), name))
        calls = self._grouping_calls(node, bool(groups), sets is not None)
        out: PlanNode
        if sets is not None:
            named = [frozenset(self.key_names[self._key_of(groups[i])] for i in s) for s in sets]
            out = grouping_union(plan, keys, aggs, named, calls)
        else:
            if not keys and not aggs:  # `SELECT 1 FROM t HAVING 1 = 1`: one group, no values
                aggs.append(Alias(AggCall("count", ()), "__agg_rows"))
            out = Aggregate(plan, tuple(keys), tuple(aggs))
        for name, side in having_sides:
            out = Join(out, side, "cross")
            self.key_names[self._key_of(exp.column(name, quoted=True))] = name
        scope = Scope(self.source, self.resolver.column, self._intercept)
        having = node.args.get("having")
        if having is not None:
            predicate = self.substitute(having.this)
            out = Filter(out, lower_expr(predicate, scope))
        return out, scope

    # --- group keys -------------------------------------------------------------------

    def _group_expressions(
        self, node: exp.Select
    ) -> tuple[list[exp.Expr], tuple[tuple[int, ...], ...] | None]:
        """The resolved GROUP BY expressions and, for ROLLUP / CUBE / GROUPING SETS, the
        grouping sets as positions in them (None: a plain GROUP BY)."""
        group = node.args.get("group")
        if group is None:
            return [], None
        keywords = {
            "grouping_sets": "GROUPING",
            "cube": "CUBE",
            "rollup": "ROLLUP",
            "totals": "TOTALS",
        }
        for arg, keyword in keywords.items():
            value = group.args.get(arg)
            if value:
                target = value[0] if isinstance(value, list) else group
                name = f"GROUP BY {arg.upper().replace('_', ' ')}"
                raise self.source.unsupported(target, name, keyword=keyword)
        assert self.items is not None
        refuse_unread(group, _GROUP_ARGS, self.source)
        if group.args.get("all"):
            if group.expressions:  # DuckDB: a syntax error; dropping them changes the groups
                raise unsupported_arg(group, "expressions", self.source)
            return [i.node for i in self.items if not _has_aggregate(i.node)], None
        items = [e for e in group.expressions if not _is_empty_tuple(e)]  # GROUP BY ()
        grouping = group_items(items, self.source)
        return self._resolved(list(grouping.exprs)), grouping.sets

    def _resolved(self, expressions: list[exp.Expr]) -> list[exp.Expr]:
        """GROUP BY expressions with positions and SELECT aliases resolved (DuckDB rules)."""
        out = []
        plain = [e.name.lower() for e in expressions if isinstance(e, exp.Column)]
        for expr in expressions:
            others = frozenset(
                p for p in plain if not isinstance(expr, exp.Column) or p != expr.name.lower()
            )
            target = self.resolver.alias_target(expr, other_group_columns=others)
            if isinstance(expr, exp.Literal) and not expr.is_string:
                out.append(self._positional(expr))
            elif target is not None:
                out.append(target)
            else:
                out.append(self.resolver.substitute_aliases(expr))
        for expr in out:
            if _has_aggregate(expr):
                raise BindError(f"GROUP BY cannot contain an aggregate{self.source.where(expr)}")
        return out

    def _grouping_calls(
        self, node: exp.Select, grouped: bool, with_sets: bool
    ) -> list[GroupingCall]:
        """The GROUPING() calls of the SELECT list, HAVING and ORDER BY, checked; with
        grouping sets each gets an output column (constant per set), else it is 0."""
        calls: list[GroupingCall] = []
        for clause in self._clauses_above(node):
            for sub in clause.walk():
                if not isinstance(sub, GROUPING_NODES) or self._key_of(sub) in self.grouping_names:
                    continue
                if not grouped:
                    raise BindError(
                        f"GROUPING() needs a GROUP BY{self.source.where(sub)}: without groups "
                        "there is nothing to tell apart"
                    )
                keys = grouping_keys(sub, self._key_name, self.source)
                if not with_sets:
                    continue
                name = f"__grouping_{len(calls)}"
                self.grouping_names[self._key_of(sub)] = name
                calls.append(GroupingCall(name, keys))
        return calls

    def _key_name(self, node: exp.Expr) -> str | None:
        name = self.key_names.get(self._key_of(node))
        if name is None:
            target = self.resolver.alias_target(node)
            name = self.key_names.get(self._key_of(target)) if target is not None else None
        return name

    def _clauses_above(self, node: exp.Select) -> Iterator[exp.Expr]:
        """SELECT items, HAVING and ORDER BY keys as lowered above the Aggregate."""
        for item in self.items or []:
            yield item.node
        having = node.args.get("having")
        if having is not None:
            yield self.substitute(having.this)
        order = node.args.get("order")
        for ordered in order.expressions if order is not None else []:
            yield self.substitute(ordered.this)

    def _key_of(self, node: exp.Expr) -> str:
        """:func:`normal_key` with column references resolved to the input columns."""
        return normal_key(node, self._input_column)

    def _input_column(self, node: exp.Column) -> str | None:
        try:
            found = self.resolver.column(node)
        except (BindError, UnsupportedSQLError):
            return None  # not an input column here (an alias, a HAVING subquery's output)
        return found.name if isinstance(found, Column) else None

    def _positional(self, literal: exp.Literal) -> exp.Expr:
        assert self.items is not None
        text = literal.this
        if not text.isdigit() or not 1 <= int(text) <= len(self.items):
            raise BindError(
                f"GROUP BY position {text} is not in 1..{len(self.items)}{self.source.where(literal)}"
            )
        return self.items[int(text) - 1].node

    def _key(self, node: exp.Expr, index: int) -> Expr | None:
        key = self._key_of(node)
        if key in self.key_names:
            return None
        lowered = lower_expr(node, self.input_scope)
        if isinstance(lowered, Column) and lowered.name not in self.key_names.values():
            self.key_names[key] = lowered.name
            return lowered
        name = f"__group_{index}"
        self.key_names[key] = name
        return Alias(lowered, name)

    # --- aggregate calls --------------------------------------------------------------

    def _aggregate_calls(self, node: exp.Select) -> Iterator[exp.Expr]:
        for item in self.items or []:
            yield from find_aggregates(item.node, self.source)
        having = node.args.get("having")
        if having is not None:
            yield from find_aggregates(self.substitute(having.this), self.source)
        order = node.args.get("order")
        for ordered in order.expressions if order is not None else []:
            if self._is_output_reference(ordered.this):
                continue
            yield from find_aggregates(self.substitute(ordered.this), self.source)

    def _is_output_reference(self, node: exp.Expr) -> bool:
        if isinstance(node, exp.Literal) and not node.is_string:
            return True
        if isinstance(node, exp.Column) and not node.table and self.items is not None:
            return find_name(node.name, tuple(i.name for i in self.items)) is not None
        return False

    def _intercept(self, node: exp.Expr) -> Expr | None:
        if isinstance(node, GROUPING_NODES):
            name = self.grouping_names.get(self._key_of(node))
            return Column(name) if name is not None else lit(0)  # plain GROUP BY: all grouped
        if is_aggregate_call(node):
            return Column(self.agg_names[self._key_of(node)])
        if isinstance(node, exp.Literal | exp.Boolean | exp.Null):
            return None
        name = self.key_names.get(self._key_of(node))
        if name is not None:
            return Column(name)
        if isinstance(node, exp.Column):
            raise BindError(
                f"column {node.sql(dialect='duckdb')!r}{self.source.where(node)} must appear in "
                "GROUP BY or be used in an aggregate function"
            )
        return None


_GROUP_ARGS = frozenset({"expressions", "all"})


def _is_empty_tuple(node: exp.Expr) -> bool:
    return isinstance(node, exp.Tuple) and not node.expressions


def _has_aggregate(node: exp.Expr) -> bool:
    """Whether ``node`` holds an aggregate call or GROUPING() (both make a SELECT grouped);
    a window function's own head is not one."""
    return contains_aggregate(node)


def _no_intercept(node: exp.Expr) -> Expr | None:
    return None
