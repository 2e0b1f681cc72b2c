"""Generic traversals over expression trees (one public function per analysis).

>>> from hasivu_compute.expr import col
>>> pred = (col("a") > 1) & ((col("b") == 2) & col("c").is_null())
>>> [str(p) for p in split_conjunction(pred)]
['(a > 1)', '(b = 2)', '(c IS NULL)']
>>> sorted(columns_referenced(pred))
['a', 'b', 'c']
>>> output_name(col("amount").sum())
'sum(amount)'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import pyarrow as pa

from hasivu_compute.expr.nodes import (
    AggCall,
    Alias,
    BoundColumn,
    Call,
    Case,
    Column,
    Expr,
    Literal,
    lit,
)
from hasivu_compute.expr.window import WindowCall


def output_name(expr: Expr) -> str:
    """The column name a projection of ``expr`` produces.

    An alias names it; a column keeps its name; anything else is named by its SQL
    rendering (``sum(amount)``, ``(a + 1)``), like DuckDB.
    """
    if isinstance(expr, Alias):
        return expr.name
    if isinstance(expr, Column | BoundColumn):
        return expr.name
    return str(expr)


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, parents before children."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))


def transform(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """Rebuild ``expr`` bottom-up, replacing each node by ``fn(node)``.

    Returns the same object when ``fn`` changed nothing, so callers can detect
    a no-op with ``is``.
    """
    children = expr.children()
    if children:
        new_children = [transform(c, fn) for c in children]
        if any(n is not o for n, o in zip(new_children, children, strict=True)):
            expr = expr.with_children(new_children)
    return fn(expr)


def columns_referenced(expr: Expr) -> frozenset[str]:
    """Names of the columns ``expr`` reads (bound or not)."""
    return frozenset(node.name for node in walk(expr) if isinstance(node, Column | BoundColumn))


def split_conjunction(expr: Expr) -> tuple[Expr, ...]:
    """The AND-ed parts of a predicate, flattened, in order (aliases looked through)."""
    if isinstance(expr, Alias):
        return split_conjunction(expr.child)
    if isinstance(expr, Call) and expr.fn == "and":
        return split_conjunction(expr.args[0]) + split_conjunction(expr.args[1])
    return (expr,)


def split_disjunction(expr: Expr) -> tuple[Expr, ...]:
    """The OR-ed parts of a predicate, flattened, in order."""
    if isinstance(expr, Call) and expr.fn == "or":
        return split_disjunction(expr.args[0]) + split_disjunction(expr.args[1])
    return (expr,)


def conjunction(parts: Sequence[Expr]) -> Expr:
    """AND of ``parts`` (left-deep), ``TRUE`` when empty; keeps bound dtypes.

    >>> from hasivu_compute.expr import col
    >>> str(conjunction([col("a") > 1, col("b") < 2]))
    '((a > 1) AND (b < 2))'
    """
    if not parts:
        return lit(True)
    result = parts[0]
    for part in parts[1:]:
        dtype = pa.bool_() if _is_bound(result) and _is_bound(part) else None
        result = Call("and", (result, part), (), dtype)
    return result


def _is_bound(expr: Expr) -> bool:
    return not any(isinstance(n, Column) for n in walk(expr)) and (
        not isinstance(expr, Call | AggCall) or expr.dtype is not None
    )


def is_bound(expr: Expr) -> bool:
    """Whether ``expr`` went through :func:`bind` (no name-only columns left)."""
    return _is_bound(expr)


def is_aggregate(expr: Expr) -> bool:
    """Whether ``expr`` contains an aggregate call (``sum(a) / count(*)`` does)."""
    return any(isinstance(node, AggCall) for node in walk(expr))


def aggregate_calls(expr: Expr) -> tuple[AggCall, ...]:
    """The distinct aggregate calls inside ``expr``, in first-seen order."""
    found: dict[object, AggCall] = {}
    for node in walk(expr):
        if isinstance(node, AggCall):
            found.setdefault(node.key(), node)
    return tuple(found.values())


def is_constant(expr: Expr) -> bool:
    """Whether ``expr`` reads no column and has no aggregate (so it can be folded)."""
    return all(not isinstance(n, Column | BoundColumn | AggCall | WindowCall) for n in walk(expr))


def may_be_null(expr: Expr, schema: pa.Schema) -> bool:
    """Whether bound ``expr`` over input ``schema`` can evaluate to NULL (conservative).

    Only a reference to a NOT NULL input column (aliased or not) and ``count(...)``
    are NOT NULL; every other expression may be NULL (a CASE without ELSE, NULLIF,
    a sum of no rows), so an output schema never promises more than the data keeps.
    Constants count as nullable too: optimizer rules fold expressions into
    literals, and the answer must not change schema when they do.
    """
    node = unalias(expr)
    if isinstance(node, BoundColumn):
        found = _input_field(node, schema)
        return found is None or found.nullable
    if isinstance(node, AggCall):
        return node.fn != "count"
    if isinstance(node, WindowCall):
        return node.fn not in ("count", "row_number", "rank", "dense_rank", "ntile")
    return True


def _input_field(column: BoundColumn, schema: pa.Schema) -> pa.Field | None:
    """The input field a bound column reads (by index when the name still matches there)."""
    if 0 <= column.index < len(schema) and schema.field(column.index).name == column.name:
        field: pa.Field = schema.field(column.index)
        return field
    index = schema.get_field_index(column.name)
    return schema.field(index) if index >= 0 else None


def literal_value(expr: Expr) -> object:
    """The Python value of a literal (``None`` for NULL); raises TypeError otherwise."""
    if isinstance(expr, Literal):
        return expr.value
    raise TypeError(f"{expr} is not a literal")


def unalias(expr: Expr) -> Expr:
    """``expr`` without a top-level alias."""
    while isinstance(expr, Alias):
        expr = expr.child
    return expr


def unbind(expr: Expr) -> Expr:
    """Back to name-based form: bound columns become :class:`Column`, dtypes are dropped.

    Casts the binder inserted stay (they are valid SQL); re-binding is idempotent.
    """

    def strip(node: Expr) -> Expr:
        if isinstance(node, BoundColumn):
            return Column(node.name)
        if isinstance(node, Call) and node.dtype is not None:
            return Call(node.fn, node.args, node.options)
        if isinstance(node, AggCall) and node.dtype is not None:
            return AggCall(node.fn, node.args, node.distinct, node.options)
        if isinstance(node, Case) and node.dtype is not None:
            return Case(node.branches, node.otherwise)
        if isinstance(node, WindowCall) and node.dtype is not None:
            return replace(node, dtype=None)
        return node

    return transform(expr, strip)
