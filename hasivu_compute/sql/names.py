"""Name resolution inside one SELECT: input columns, table qualifiers and select aliases.

DuckDB's rules, which the lowering follows:

* WHERE, GROUP BY, HAVING and expressions in ORDER BY see input columns first
  and fall back to a SELECT alias only when no input column has that name;
* a bare name in ORDER BY (``ORDER BY revenue``) is an output column first.

When the input's columns are unknown (``to_plan`` was not given schemas and the
FROM clause is a table) a name that is also an alias could be either, so it is
refused instead of guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from hasivu_compute._core.errors import BindError, near_matches
from hasivu_compute.expr.nodes import Column, Expr
from hasivu_compute.plan.nodes import PlanNode
from hasivu_compute.sql.parsing import SqlText

__all__ = ["Field", "Relation", "Resolver"]


@dataclass(frozen=True, slots=True)
class Field:
    """A column of a joined FROM clause: how the user names it, and its plan column.

    Attributes:
        qualifier: the lower-cased table name or alias it comes from (None: a USING
            column of a FULL join, which is neither side's).
        name: the column's name as stored.
        internal: the plan's (unique) name for it.
        unqualified: whether a bare name finds it (the right copy of a USING
            column does not: the bare name is the merged column).
        in_star: whether ``SELECT *`` lists it.
    """

    qualifier: str | None
    name: str
    internal: str
    unqualified: bool = True
    in_star: bool = True


@dataclass(frozen=True, slots=True)
class Relation:
    """A lowered FROM item or query.

    Attributes:
        plan: the plan producing its rows.
        columns: output column names, or None when unknown (a table without schema).
        qualifiers: lower-cased names usable in ``qualifier.column``.
        unknown_because: when ``columns`` is None, what the user can do about it
            (for messages of what is refused then).
        fields: for a join, every column with its table (``columns`` are then
            the plan's internal names); None for one table or query.
    """

    plan: PlanNode
    columns: tuple[str, ...] | None
    qualifiers: frozenset[str] = frozenset()
    unknown_because: str = "table schema unknown: pass schema= to to_plan"
    fields: tuple[Field, ...] | None = None


def find_name(name: str, names: tuple[str, ...]) -> str | None:
    """The entry of ``names`` matching ``name``: exactly, else case-insensitively (DuckDB)."""
    if name in names:
        return name
    folded = [n for n in names if n.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


@dataclass(frozen=True, slots=True)
class Resolver:
    """Resolves column references of one SELECT against its FROM relation and aliases."""

    relation: Relation
    aliases: Mapping[str, exp.Expr]  # lower-cased explicit alias -> aliased expression
    source: SqlText

    def column(self, node: exp.Column) -> Expr:
        """An input column reference (qualifier checked, name matched to the input's case)."""
        if node.args.get("db") is not None or node.args.get("catalog") is not None:
            raise self.source.unsupported(node, "column reference with a schema/catalog prefix")
        qualifier = node.table
        if self.relation.fields is not None:
            return Column(self._joined(node, qualifier.lower()).internal)
        if qualifier and qualifier.lower() not in self.relation.qualifiers:
            known = ", ".join(sorted(self.relation.qualifiers)) or "none"
            raise BindError(
                f"unknown table {qualifier!r} in {node.sql(dialect='duckdb')}"
                f"{self.source.where(node)}; tables in FROM: {known}"
            )
        columns = self.relation.columns
        if columns is None:
            return Column(node.name)
        found = find_name(node.name, columns)
        if found is None:
            hint = near_matches(node.name, columns)
            extra = f"; did you mean {', '.join(hint)}?" if hint else ""
            raise BindError(f"unknown column {node.name!r}{self.source.where(node)}{extra}")
        return Column(found)

    def _joined(self, node: exp.Column, qualifier: str) -> Field:
        """The field of a joined FROM clause that ``node`` names."""
        fields = self.relation.fields or ()
        if qualifier and qualifier not in self.relation.qualifiers:
            known = ", ".join(sorted(self.relation.qualifiers))
            raise BindError(
                f"unknown table {node.table!r} in {node.sql(dialect='duckdb')}"
                f"{self.source.where(node)}; tables in FROM: {known}"
            )
        if qualifier:
            pool = [f for f in fields if f.qualifier == qualifier]
        else:
            pool = [f for f in fields if f.unqualified]
        found = [f for f in pool if f.name == node.name]
        if not found:
            found = [f for f in pool if f.name.lower() == node.name.lower()]
        if len(found) == 1:
            return found[0]
        if found:
            options = " or ".join(f"{f.qualifier}.{f.name}" for f in found)
            raise BindError(
                f"column {node.name!r} is ambiguous{self.source.where(node)}: "
                f"it is in several tables; name one: {options}"
            )
        hint = near_matches(node.name, tuple(f.name for f in pool))
        extra = f"; did you mean {', '.join(hint)}?" if hint else ""
        raise BindError(
            f"unknown column {node.sql(dialect='duckdb')}{self.source.where(node)}{extra}"
        )

    def is_input_column(self, node: exp.Column) -> bool | None:
        """Whether an unqualified name is an input column (None: unknown)."""
        if self.relation.fields is not None:
            return any(
                f.unqualified and f.name.lower() == node.name.lower() for f in self.relation.fields
            )
        if self.relation.columns is None:
            return None
        return find_name(node.name, self.relation.columns) is not None

    def alias_target(
        self,
        node: exp.Expr,
        *,
        group_keys: frozenset[str] | None = None,
        other_group_columns: frozenset[str] | None = None,
    ) -> exp.Expr | None:
        """The aliased expression a bare name refers to, per DuckDB's input-first rule.

        Args:
            node: the reference.
            group_keys: above an Aggregate (HAVING, ORDER BY): the lower-cased plain
                column group keys. Outside aggregate arguments a name that is not a
                group key cannot be an input column there, so it must be the alias.
            other_group_columns: in GROUP BY: the other plain column keys. When the
                alias's expression uses a column outside them, grouping by an input
                column of that name would make the query invalid, so it is the alias.
        """
        if not isinstance(node, exp.Column) or node.table or isinstance(node.this, exp.Star):
            return None
        name = node.name.lower()
        target = self.aliases.get(name)
        if target is None:
            return None
        is_input = self.is_input_column(node)
        if is_input is not None:
            return None if is_input else target
        used = {c.name.lower() for c in target.find_all(exp.Column)}
        if name in used:  # the alias's own expression reads an input column of that name
            return None
        if group_keys is not None and node.find_ancestor(exp.AggFunc) is None:
            return None if name in group_keys else target
        if other_group_columns is not None and used - other_group_columns - {name}:
            return target
        raise self.source.unsupported(
            node,
            f"name {node.name!r} is a SELECT alias and may also be an input column "
            f"({self.relation.unknown_because}; or rename the alias)",
        )

    def substitute_aliases(
        self, node: exp.Expr, group_keys: frozenset[str] | None = None
    ) -> exp.Expr:
        """``node`` with alias references replaced by the aliased expressions."""

        def replace(sub: exp.Expr) -> exp.Expr:
            target = self.alias_target(sub, group_keys=group_keys)
            return exp.Paren(this=target.copy()) if target is not None else sub

        return node.copy().transform(replace)
