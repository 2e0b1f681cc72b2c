"""INTERSECT and EXCEPT, DISTINCT and ALL, lowered to a count per distinct row.

Both inputs are tagged and concatenated, then grouped by every column (a
group-by treats NULLs as equal, as set operations do, and floats by value) while
counting each side's copies ``m`` (left) and ``n`` (right)::

    Project [left's column names]
      Repeat times=<copies>             ALL only
        Filter <keep>
          Aggregate keys=[c1, ...] aggs=[sum(__left) AS __m, sum(__right) AS __n]
            Union
              Project [c1, ..., 1 AS __left, 0 AS __right]   left query
              Project [c1, ..., 0 AS __left, 1 AS __right]   right query

===============  ==============  ==================
operation        keep            copies
===============  ==============  ==================
INTERSECT        m > 0, n > 0    1
EXCEPT           m > 0, n = 0    1
INTERSECT ALL    m > 0, n > 0    min(m, n)
EXCEPT ALL       m > n           m - n
===============  ==============  ==================

The aggregate splits into partial / final steps like any other, so each side's
rows are counted on the shards. Column names come from the left query; types
combine as in UNION (an incompatible pair is a ``BindError`` naming both columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlglot import exp

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.expr.nodes import AggCall, Alias, Case, Column, Expr, lit
from hasivu_compute.plan.nodes import Aggregate, Filter, PlanNode, Project, Repeat, Union
from hasivu_compute.sql.clauses import refuse_unread
from hasivu_compute.sql.names import Relation

if TYPE_CHECKING:
    from hasivu_compute.sql.lower_query import QueryLowering

__all__ = ["lower_set_operation"]

_ARGS = frozenset({"this", "expression", "distinct", "with_", "order", "limit", "offset"})
_LEFT, _RIGHT, _M, _N = "__set_left", "__set_right", "__set_m", "__set_n"


def lower_set_operation(
    lowering: QueryLowering, node: exp.Intersect | exp.Except, ctes: Mapping[str, Relation]
) -> Relation:
    """The relation of ``left INTERSECT|EXCEPT [ALL] right`` (see the module docstring)."""
    source = lowering.source
    word = "INTERSECT" if isinstance(node, exp.Intersect) else "EXCEPT"
    line, col = source.keyword_position(frozenset({word}), node.expression)
    if node.args.get("by_name"):
        raise UnsupportedSQLError(f"{word} BY NAME", line=line, col=col)
    refuse_unread(node, _ARGS, source)
    every = not node.args.get("distinct")
    left = lowering.query(node.this, ctes)
    right = lowering.query(node.expression, ctes)
    for side in (left, right):
        if side.columns is None:
            raise source.unsupported(
                node, f"{word} over a query of unknown columns ({side.unknown_because})"
            )
    assert left.columns is not None and right.columns is not None
    if len(left.columns) != len(right.columns):
        raise BindError(
            f"{word} inputs have different column counts: {len(left.columns)} "
            f"({', '.join(left.columns)}) and {len(right.columns)} "
            f"({', '.join(right.columns)})"
            + ("" if line is None else f" at line {line}, column {col}")
        )
    both = Union((_tagged(left.plan, left.columns, 1), _tagged(right.plan, right.columns, 0)))
    keys = tuple(Column(c) for c in left.columns)
    counts = (
        Alias(AggCall("sum", (Column(_LEFT),)), _M),
        Alias(AggCall("sum", (Column(_RIGHT),)), _N),
    )
    m, n = Column(_M), Column(_N)
    plan: PlanNode = Aggregate(both, keys, counts)
    if isinstance(node, exp.Intersect):
        plan = Filter(plan, (m > lit(0)) & (n > lit(0)))
        if every:
            plan = Repeat(plan, Case(((m < n, m),), n))
    elif every:
        plan = Repeat(Filter(plan, m > n), m - n)
    else:
        plan = Filter(plan, (m > lit(0)) & (n == lit(0)))
    out = Project(plan, keys)
    return Relation(out, left.columns)


def _tagged(plan: PlanNode, columns: tuple[str, ...], left: int) -> PlanNode:
    """``plan``'s columns plus the side tags (1 / 0 per row, counted by the aggregate)."""
    exprs: list[Expr] = [Column(c) for c in columns]
    exprs += [Alias(lit(left), _LEFT), Alias(lit(1 - left), _RIGHT)]
    return Project(plan, tuple(exprs))
