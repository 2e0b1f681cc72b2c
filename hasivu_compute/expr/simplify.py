"""Expression simplification: one visitor per rewrite, each a public function.

* :func:`fold_constants` evaluates column-free sub-trees to literals, with the
  evaluator execution installs (:func:`use_constant_evaluator`).
* :func:`simplify_boolean` applies SQL three-valued identities
  (``x AND TRUE → x``, ``x OR TRUE → TRUE``, ``NOT NOT x → x``, dead CASE branches).
* :func:`rewrite_not` pushes NOT down to the leaves (De Morgan, negated comparisons).

:func:`simplify` runs the three to a fixed point. All of them preserve results
for every row (NULLs included) and return the very same object when nothing
changed. They work on bound and unbound trees; nodes they create on a bound
tree are bound too.

>>> import pyarrow as pa
>>> import hasivu_compute.exec  # installs the evaluator constant folding uses
>>> from hasivu_compute.expr import bind, col, lit
>>> pred = bind(~((col("a") > lit(1) + 1) & lit(True)), pa.schema([("a", pa.int64())]))
>>> str(simplify(pred))
'(a <= 2)'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import pyarrow as pa

from hasivu_compute._core.errors import BindError, HasivuError
from hasivu_compute.expr import types as T
from hasivu_compute.expr.binder import bind
from hasivu_compute.expr.nodes import AggCall, Alias, Call, Case, Column, Expr, Literal, lit
from hasivu_compute.expr.visitors import is_constant, transform

_NEGATED = {"eq": "ne", "ne": "eq", "lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}
_EMPTY_SCHEMA = pa.schema([])
_MAX_PASSES = 16

#: Evaluates a bound expression that reads no column (to a Scalar when it is constant).
ConstantEvaluator: TypeAlias = Callable[[Expr], pa.Scalar | pa.Array | pa.ChunkedArray]
_EVALUATOR: list[ConstantEvaluator] = []  # at most one: the installed evaluator


def use_constant_evaluator(evaluate: ConstantEvaluator) -> None:
    """Make :func:`fold_constants` compute constant sub-trees with ``evaluate``.

    Why injected: evaluating is execution (the kernels live in ``hasivu_compute.exec``,
    a layer above this one and above the planner that folds), so ``hasivu_compute.exec``
    installs its evaluator when it is imported, as every query path does before it
    plans. Until then nothing is folded: plans stay correct, only unfolded.
    """
    _EVALUATOR[:] = [evaluate]


def simplify(expr: Expr) -> Expr:
    """Run NOT push-down, constant folding and boolean simplification to a fixed point."""
    for _ in range(_MAX_PASSES):
        new = simplify_boolean(fold_constants(rewrite_not(expr)))
        if new is expr:
            return expr
        expr = new
    return expr


# --- constant folding ---------------------------------------------------------------


def fold_constants(expr: Expr, evaluate: ConstantEvaluator | None = None) -> Expr:
    """Replace every maximal column-free, aggregate-free sub-tree by its literal value.

    ``evaluate`` defaults to the installed evaluator (:func:`use_constant_evaluator`);
    with none, ``expr`` is returned unchanged. A sub-tree whose evaluation fails
    (``1 // 0``, an overflowing cast) is kept, so the error surfaces when a query
    actually evaluates it.
    """
    if evaluate is None:
        if not _EVALUATOR:
            return expr
        evaluate = _EVALUATOR[0]
    return _fold_tree(expr, evaluate)


def _fold_tree(expr: Expr, evaluate: ConstantEvaluator) -> Expr:
    if isinstance(expr, Literal):
        return expr
    if isinstance(expr, Alias):
        child = _fold_tree(expr.child, evaluate)
        return expr if child is expr.child else Alias(child, expr.name)
    if is_constant(expr):
        return _fold(expr, evaluate)
    children = expr.children()
    new = [_fold_tree(c, evaluate) for c in children]
    if all(n is o for n, o in zip(new, children, strict=True)):
        return expr
    return expr.with_children(new)


def _fold(expr: Expr, evaluate: ConstantEvaluator) -> Expr:
    try:
        bound = bind(expr, _EMPTY_SCHEMA)
        value = evaluate(bound)
    except HasivuError:
        return expr
    if not isinstance(value, pa.Scalar):
        return expr
    return Literal(value.as_py(), bound.dtype)


# --- boolean simplification -------------------------------------------------------------


def _bool_value(expr: Expr) -> bool | str | None:
    """True / False / None (NULL) for a boolean-ish literal, "" for anything else."""
    if isinstance(expr, Literal) and (expr.value is None or isinstance(expr.value, bool)):
        return expr.value
    return ""


def _bool_lit(value: bool | None) -> Literal:
    return Literal(value, pa.bool_())


def simplify_boolean(expr: Expr) -> Expr:
    """SQL 3VL identities: ``x AND TRUE → x``, ``x AND FALSE → FALSE``, ``x OR TRUE →
    TRUE``, ``x OR FALSE → x``, ``x AND x → x``, ``NOT NOT x → x``, ``NOT TRUE →
    FALSE``, CASE branches that can never or always be taken.
    """
    return transform(expr, _simplify_node)


def _simplify_node(expr: Expr) -> Expr:
    if isinstance(expr, Call):
        if expr.fn in ("and", "or"):
            return _simplify_junction(expr)
        if expr.fn == "not":
            inner = expr.args[0]
            value = _bool_value(inner)
            if value != "":
                return _bool_lit(None if value is None else not value)
            if isinstance(inner, Call) and inner.fn == "not" and _is_boolean(inner.args[0]):
                return inner.args[0]
        return expr
    if isinstance(expr, Case):
        return _simplify_case(expr)
    return expr


def _is_boolean(expr: Expr) -> bool:
    try:
        dtype = expr.dtype
    except BindError:
        return True  # unbound: the binder will check it
    return dtype is None or bool(pa.types.is_boolean(dtype))


def _simplify_junction(expr: Call) -> Expr:
    a, b = expr.args
    absorbing = expr.fn == "or"  # TRUE absorbs OR, FALSE absorbs AND
    for x, other in ((a, b), (b, a)):
        value = _bool_value(x)
        if value == absorbing and value is not None:
            return _bool_lit(absorbing)
        if value == (not absorbing) and value is not None and _is_boolean(other):
            return other
    if a.same_as(b) and _is_boolean(a):
        return a
    return expr


def _simplify_case(expr: Case) -> Expr:
    branches: list[tuple[Expr, Expr]] = []
    for cond, value in expr.branches:
        known = _bool_value(cond)
        if known is True:
            if not branches:
                return value
            return Case(tuple(branches), value, expr.dtype)
        if known == "":
            branches.append((cond, value))
    if len(branches) == len(expr.branches):
        return expr
    if not branches:
        if expr.otherwise is not None:
            return expr.otherwise
        return Literal(None, expr.dtype) if expr.dtype is not None else lit(None)
    return Case(tuple(branches), expr.otherwise, expr.dtype)


# --- NOT push-down ---------------------------------------------------------------------


def rewrite_not(expr: Expr) -> Expr:
    """Push NOT down to the leaves, preserving NULL semantics.

    ``NOT (a AND b) → NOT a OR NOT b``, ``NOT (x < 1) → x >= 1``,
    ``NOT (x IS NULL) → x IS NOT NULL``, ``NOT (x BETWEEN l AND h) → x < l OR x > h``.
    Comparisons of floating-point values keep their NOT (conservative about NaN,
    whose ordering differs between IEEE and SQL engines).
    """
    return transform(expr, _rewrite_not_node)


def _rewrite_not_node(expr: Expr) -> Expr:
    if isinstance(expr, Call) and expr.fn == "not":
        return _negate(expr.args[0], expr)
    return expr


def _negate(inner: Expr, original: Expr) -> Expr:
    """NOT ``inner`` pushed one level down (recursively), or ``original`` unchanged."""
    if not isinstance(inner, Call) or isinstance(inner, AggCall):
        return original
    dtype = inner.dtype
    fn, args = inner.fn, inner.args
    if fn == "not" and _is_boolean(args[0]):
        return args[0]
    if fn in ("and", "or"):
        flipped = "or" if fn == "and" else "and"
        parts = tuple(_negate(a, Call("not", (a,), (), dtype)) for a in args)
        return Call(flipped, parts, (), dtype)
    if fn in ("is_null", "is_not_null"):
        return Call("is_not_null" if fn == "is_null" else "is_null", args, (), dtype)
    if fn in _NEGATED and not any(_maybe_float(a) for a in args):
        return Call(_NEGATED[fn], args, (), dtype)
    if fn == "between" and not any(_maybe_float(a) for a in args):
        x, lo, hi = args
        return Call(
            "or", (Call("lt", (x, lo), (), dtype), Call("gt", (x, hi), (), dtype)), (), dtype
        )
    return original


def _maybe_float(expr: Expr) -> bool:
    """Whether ``expr`` may hold NaN (unknown types count as maybe)."""
    if isinstance(expr, Column):
        return True
    try:
        dtype = expr.dtype
    except BindError:
        return True
    if dtype is None:
        return not isinstance(expr, Literal)
    return T.is_float(dtype) or (isinstance(expr, Literal) and isinstance(expr.value, float))
