"""The one place plan/ and exec/ touch the expression package.

Re-exports what the planner uses from :mod:`hasivu_compute.expr` and adds small
tree utilities (re-binding by name, substitution, conjunction) that only the
planner needs, so a change in the expression API is absorbed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pyarrow as pa

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr.binder import bind
from hasivu_compute.expr.nodes import (
    AggCall,
    Alias,
    BoundColumn,
    Cast,
    Column,
    Expr,
    Literal,
    col,
    lit,
)
from hasivu_compute.expr.simplify import simplify
from hasivu_compute.expr.visitors import (
    columns_referenced,
    is_aggregate,
    may_be_null,
    output_name,
    split_conjunction,
    unalias,
)
from hasivu_compute.expr.window import WindowCall

__all__ = [
    "AggCall",
    "Alias",
    "BoundColumn",
    "Cast",
    "Column",
    "Expr",
    "Literal",
    "WindowCall",
    "as_expr",
    "bind",
    "col",
    "columns_referenced",
    "conjoin",
    "is_aggregate",
    "is_false",
    "is_true",
    "lit",
    "map_expr",
    "may_be_null",
    "output_name",
    "rebind",
    "same",
    "simplify",
    "split_conjunction",
    "strip_alias",
    "substitute",
    "unalias",
    "unbind",
]


def as_expr(value: Expr | str) -> Expr:
    """A column reference for a string, the expression itself otherwise."""
    if isinstance(value, str):
        return col(value)
    if not isinstance(value, Expr):
        raise BindError(f"expected an expression or a column name, got {value!r}")
    return value


def map_expr(expr: Expr, fn: Callable[[Expr], Expr | None]) -> Expr:
    """Rewrite ``expr`` top-down: where ``fn`` returns an expression it replaces the subtree."""
    replaced = fn(expr)
    if replaced is not None:
        return replaced
    kids = expr.children()
    if not kids:
        return expr
    new_kids = tuple(map_expr(k, fn) for k in kids)
    if all(a is b for a, b in zip(new_kids, kids, strict=True)):
        return expr
    return expr.with_children(new_kids)


def unbind(expr: Expr) -> Expr:
    """Turn bound column references back into name references."""

    def fn(e: Expr) -> Expr | None:
        return Column(e.name) if isinstance(e, BoundColumn) else None

    return map_expr(expr, fn)


def rebind(expr: Expr, schema: pa.Schema) -> Expr:
    """Bind ``expr`` (bound or not) by column name against ``schema``."""
    return bind(expr, schema)


def substitute(expr: Expr, mapping: Mapping[str, Expr]) -> Expr:
    """Replace column references named in ``mapping`` by the mapped expressions."""

    def fn(e: Expr) -> Expr | None:
        if isinstance(e, (Column, BoundColumn)) and e.name in mapping:
            return mapping[e.name]
        return None

    return map_expr(expr, fn)


def strip_alias(expr: Expr) -> Expr:
    """The expression under any top-level aliases."""
    while isinstance(expr, Alias):
        expr = expr.child
    return expr


def same(a: Expr, b: Expr) -> bool:
    """Structural equality (``==`` builds an expression instead)."""
    return bool(a.same_as(b))


def conjoin(preds: Iterable[Expr]) -> Expr | None:
    """AND of ``preds`` (None when empty)."""
    out: Expr | None = None
    for p in preds:
        out = p if out is None else (out & p)
    return out


def _literal_value(expr: Expr) -> tuple[bool, object]:
    if isinstance(expr, Literal):
        return True, expr.value
    return False, None


def is_true(expr: Expr) -> bool:
    """Whether ``expr`` is the literal TRUE."""
    ok, value = _literal_value(expr)
    return ok and value is True


def is_false(expr: Expr) -> bool:
    """Whether ``expr`` is the literal FALSE or NULL (no row can pass it as a filter)."""
    ok, value = _literal_value(expr)
    return ok and (value is False or value is None)
