"""GROUP BY ROLLUP / CUBE / GROUPING SETS and GROUPING(), as a union of plain aggregates.

The items of a GROUP BY multiply (DuckDB, SQL:1999): ``GROUP BY a, ROLLUP(b, c)``
is the grouping sets ``{a, b, c}, {a, b}, {a}``; ``CUBE(b, c)`` is every subset;
``GROUPING SETS (...)`` lists them (and may nest ROLLUP / CUBE); a parenthesised
list inside ROLLUP or CUBE is one element. A set is a *set* of keys (``GROUPING
SETS ((a, a))`` is ``{a}``) but the list of sets keeps duplicates, and so does the
answer: ``GROUPING SETS ((a), (a))`` returns every group twice, as DuckDB does.

Each set becomes ``Aggregate(input, its keys, every aggregate)`` projected to all
the keys, NULL for the keys it does not group by, plus one constant column per
``GROUPING(...)`` call; the projections are concatenated (UNION ALL). So a NULL in
a key column is either a group of NULL values or "not grouped by this key", which
``GROUPING(k)`` (1 when not grouped) tells apart, exactly as in DuckDB. Each
aggregate is a plain one, so it splits into partial / final steps as usual; the
price is reading the input once per set.

``GROUPING(a, b, ...)`` (also ``grouping_id``) is the bit mask of the keys not
grouped by, the first argument the most significant bit; with a plain GROUP BY it
is 0; every argument must be a group key.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr.nodes import AggCall, Alias, Column, Expr, lit
from hasivu_compute.plan._expr import output_name
from hasivu_compute.plan.nodes import Aggregate, PlanNode, Project, Union
from hasivu_compute.sql.parsing import SqlText

__all__ = ["MAX_GROUPING_SETS", "Grouping", "GroupingCall", "group_items", "grouping_union"]

#: More sets than this are refused: each one reads the input once.
MAX_GROUPING_SETS = 256

_SET_NODES = (exp.Rollup, exp.Cube, exp.GroupingSets)


@dataclass(frozen=True, slots=True)
class Grouping:
    """The GROUP BY of one SELECT.

    Attributes:
        exprs: every grouped expression as written (resolution is the caller's).
        sets: per grouping set, the positions in ``exprs`` it groups by; None for a
            plain GROUP BY (one set of every expression).
    """

    exprs: tuple[exp.Expr, ...]
    sets: tuple[tuple[int, ...], ...] | None


@dataclass(frozen=True, slots=True)
class GroupingCall:
    """One ``GROUPING(...)`` of the query: its output column and the keys it names."""

    name: str
    keys: tuple[str, ...]

    def value(self, grouped: frozenset[str]) -> int:
        """The bit mask for a set grouping by ``grouped`` (1 = not grouped by the key)."""
        width = len(self.keys)
        return sum(1 << (width - 1 - i) for i, k in enumerate(self.keys) if k not in grouped)


def group_items(items: Sequence[exp.Expr], source: SqlText) -> Grouping:
    """The grouping sets of a GROUP BY's items (see the module docstring)."""
    if not any(isinstance(i, _SET_NODES) for i in items):
        return Grouping(tuple(items), None)
    exprs: list[exp.Expr] = []
    per_item = [_item_sets(item, source) for item in items]
    count = 1
    for sets in per_item:
        count *= len(sets)
    if count > MAX_GROUPING_SETS:
        raise source.unsupported(
            items[0],
            f"GROUP BY with {count} grouping sets (at most {MAX_GROUPING_SETS})",
            hint="each grouping set reads the input once; split the query",
        )
    out: list[tuple[int, ...]] = []
    for combination in itertools.product(*per_item):
        positions: list[int] = []
        for part in combination:
            for expr in part:
                position = _position_of(expr, exprs)
                if position not in positions:
                    positions.append(position)
        out.append(tuple(positions))
    return Grouping(tuple(exprs), tuple(out))


def _position_of(expr: exp.Expr, exprs: list[exp.Expr]) -> int:
    for i, known in enumerate(exprs):
        if known is expr:
            return i
    exprs.append(expr)
    return len(exprs) - 1


def _item_sets(item: exp.Expr, source: SqlText) -> list[list[exp.Expr]]:
    """The sets one GROUP BY item contributes (a plain expression: one set of itself)."""
    if isinstance(item, exp.Rollup):
        elements = [_element(e) for e in item.expressions]
        return [_concat(elements[:n]) for n in range(len(elements), -1, -1)]
    if isinstance(item, exp.Cube):
        elements = [_element(e) for e in item.expressions]
        return [
            _concat([e for i, e in enumerate(elements) if mask >> i & 1])
            for mask in range(1 << len(elements))
        ]
    if isinstance(item, exp.GroupingSets):
        sets: list[list[exp.Expr]] = []
        for element in item.expressions:
            if isinstance(element, exp.GroupingSets):
                raise source.unsupported(element, "GROUPING SETS inside GROUPING SETS")
            if isinstance(element, _SET_NODES):
                sets.extend(_item_sets(element, source))
            else:
                sets.append(_element(element))
        return sets
    return [_element(item)]


def _element(node: exp.Expr) -> list[exp.Expr]:
    """The expressions of one element: ``(a, b)`` is two, ``(a)`` and ``a`` one, ``()`` none."""
    if isinstance(node, exp.Tuple):
        return list(node.expressions)
    if isinstance(node, exp.Paren):
        return [node.this]
    return [node]


def _concat(parts: Sequence[list[exp.Expr]]) -> list[exp.Expr]:
    return [e for part in parts for e in part]


def grouping_union(
    plan: PlanNode,
    keys: Sequence[Expr],
    aggs: Sequence[Expr],
    sets: Sequence[frozenset[str]],
    calls: Sequence[GroupingCall],
) -> PlanNode:
    """UNION ALL of one aggregate per grouping set (``sets`` hold key output names)."""
    names = [output_name(k) for k in keys]
    computed = list(aggs) or [Alias(AggCall("count", ()), "__agg_rows")]
    parts: list[PlanNode] = []
    for grouped in sets:
        kept = tuple(k for k, n in zip(keys, names, strict=True) if n in grouped)
        aggregate = Aggregate(plan, kept, tuple(computed))
        exprs: list[Expr] = [Column(n) if n in grouped else Alias(lit(None), n) for n in names]
        exprs += [Column(output_name(a)) for a in computed]
        exprs += [Alias(lit(call.value(grouped)), call.name) for call in calls]
        parts.append(Project(aggregate, tuple(exprs)))
    return parts[0] if len(parts) == 1 else Union(tuple(parts))


def grouping_keys(
    node: exp.Expr, key_name: Callable[[exp.Expr], str | None], source: SqlText
) -> tuple[str, ...]:
    """The key names a ``GROUPING(...)`` call names (BindError for a non-key argument)."""
    args = node.expressions
    if not args:
        raise BindError(f"GROUPING() needs at least one group key{source.where(node)}")
    out = []
    for arg in args:
        name = key_name(arg)
        if name is None:
            raise BindError(
                f"GROUPING() argument {arg.sql(dialect='duckdb')!r}{source.where(arg)} must be "
                "a GROUP BY expression"
            )
        out.append(name)
    return tuple(out)
