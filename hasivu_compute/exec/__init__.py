"""Execution on Arrow: run a fragment, merge partials, or run a whole plan in-process.

No Ray here: the runtime ships :class:`~hasivu_compute.plan.physical.Fragment`
values to shard actors and calls :func:`run_fragment` there and :func:`merge`
on the driver. The operators compute with :mod:`.kernels` (expression evaluation,
aggregate steps).

Importing this package installs :func:`~.kernels.evaluate.evaluate_constant` as the
evaluator of constant folding (``expr.simplify``), which the expression layer cannot
import.
"""

from __future__ import annotations

from hasivu_compute.exec.execute import QueryPlans, execute, prepare, run_physical
from hasivu_compute.exec.fragment import run_fragment, scan_fragment
from hasivu_compute.exec.kernels.aggsteps import AggregateSteps, aggregate, split_aggregate
from hasivu_compute.exec.kernels.arrow import to_arrow_expression
from hasivu_compute.exec.kernels.evaluate import evaluate, evaluate_column, evaluate_constant
from hasivu_compute.exec.merge import merge
from hasivu_compute.exec.operators import run_node
from hasivu_compute.exec.reader import CatalogReader, FragmentReader
from hasivu_compute.expr.simplify import use_constant_evaluator

use_constant_evaluator(evaluate_constant)

__all__ = [
    "AggregateSteps",
    "CatalogReader",
    "FragmentReader",
    "QueryPlans",
    "aggregate",
    "evaluate",
    "evaluate_column",
    "evaluate_constant",
    "execute",
    "merge",
    "prepare",
    "run_fragment",
    "run_node",
    "run_physical",
    "scan_fragment",
    "split_aggregate",
    "to_arrow_expression",
]
