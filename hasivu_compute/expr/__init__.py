"""Immutable expression tree, builders, binder, type rules, simplifier, pruning evaluators.

Public surface (see the contract): node classes, builders ``col``, ``lit``,
``count``, ``when``, ``coalesce``; ``bind``; ``output_name``,
``columns_referenced``, ``split_conjunction``, ``is_aggregate`` and friends.

Computing on data is execution's: evaluating an expression on Arrow, running
aggregates and the Acero translation live in :mod:`hasivu_compute.exec.kernels`.
"""

from __future__ import annotations

from hasivu_compute.expr.aggregates import AGGREGATES, AggregateFunction, aggregate_function
from hasivu_compute.expr.aggsplit import AggregateLayout, aggregate_layout
from hasivu_compute.expr.binder import SCALAR_FUNCTIONS, bind
from hasivu_compute.expr.nodes import (
    AggCall,
    Alias,
    BoundColumn,
    Call,
    Case,
    Cast,
    Column,
    Expr,
    InList,
    Literal,
    coalesce,
    col,
    count,
    lit,
    make_options,
    when,
)
from hasivu_compute.expr.pruning import (
    ROWS_CANNOT_MATCH,
    ROWS_MIGHT_MATCH,
    ColumnStats,
    zone_map_evaluator,
)
from hasivu_compute.expr.simplify import (
    fold_constants,
    rewrite_not,
    simplify,
    simplify_boolean,
)
from hasivu_compute.expr.visitors import (
    aggregate_calls,
    columns_referenced,
    conjunction,
    is_aggregate,
    is_bound,
    is_constant,
    output_name,
    split_conjunction,
    split_disjunction,
    transform,
    unalias,
    unbind,
    walk,
)

__all__ = [
    "AGGREGATES",
    "ROWS_CANNOT_MATCH",
    "ROWS_MIGHT_MATCH",
    "SCALAR_FUNCTIONS",
    "AggCall",
    "AggregateFunction",
    "AggregateLayout",
    "Alias",
    "BoundColumn",
    "Call",
    "Case",
    "Cast",
    "Column",
    "ColumnStats",
    "Expr",
    "InList",
    "Literal",
    "aggregate_calls",
    "aggregate_function",
    "aggregate_layout",
    "bind",
    "coalesce",
    "col",
    "columns_referenced",
    "conjunction",
    "count",
    "fold_constants",
    "is_aggregate",
    "is_bound",
    "is_constant",
    "lit",
    "make_options",
    "output_name",
    "rewrite_not",
    "simplify",
    "simplify_boolean",
    "split_conjunction",
    "split_disjunction",
    "transform",
    "unalias",
    "unbind",
    "walk",
    "when",
    "zone_map_evaluator",
]
