"""Logical plans, binder, optimizer rules, physical fragments and explain.

Build (``builder``), bind (``bind_plan``), optimize (``optimize``), cut into
fragments (``plan_fragments``), print (``render`` / ``explain``). Execution lives
in :mod:`hasivu_compute.exec` (``execute(plan, catalog)`` does all of it).

Example (binding from a bare schema; with a catalog use ``CatalogSource(catalog)``,
whose ``resolve`` binds and which the optimizer uses for pruning):

    >>> import pyarrow as pa
    >>> from hasivu_compute.expr import col
    >>> schema = pa.schema([("school_id", pa.int32()), ("amount", pa.float64())])
    >>> plan = (LogicalPlanBuilder.scan("orders")
    ...         .filter(col("school_id") == 17)
    ...         .group_by("school_id").agg(col("amount").sum().alias("revenue"))
    ...         .plan)
    >>> bound = bind_plan(plan, lambda table, version: schema)
    >>> print(render(optimize(bound)))
    FinalAggregate keys=[school_id] aggs=[sum(amount) AS revenue]
      Exchange
        PartialAggregate keys=[school_id] aggs=[sum(amount) AS revenue]
          Scan orders filter=(school_id = 17)
"""

from __future__ import annotations

from hasivu_compute.plan.binder import TableInfo, bind_plan, output_schema, rebind_plan
from hasivu_compute.plan.builder import (
    LogicalPlanBuilder,
    aggregate,
    distinct,
    filter_,
    limit,
    project,
    scan,
    sort,
    sort_key,
    union_all,
)
from hasivu_compute.plan.explain import explain
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Exchange,
    Filter,
    FinalAggregate,
    Join,
    Limit,
    MergeInput,
    PartialAggregate,
    Plan,
    PlanNode,
    Project,
    PruningStats,
    Repeat,
    Scan,
    ScanFile,
    Sort,
    SortKey,
    Union,
    Values,
    scans,
    transform_down,
    transform_up,
    walk,
)
from hasivu_compute.plan.optimizer import OptimizerContext, optimize
from hasivu_compute.plan.physical import Fragment, PhysicalPlan, plan_fragments
from hasivu_compute.plan.render import render
from hasivu_compute.plan.source import CatalogSource, TableSource

__all__ = [
    "Aggregate",
    "CatalogSource",
    "Distinct",
    "Exchange",
    "Filter",
    "FinalAggregate",
    "Fragment",
    "Join",
    "Limit",
    "LogicalPlanBuilder",
    "MergeInput",
    "OptimizerContext",
    "PartialAggregate",
    "PhysicalPlan",
    "Plan",
    "PlanNode",
    "Project",
    "PruningStats",
    "Repeat",
    "Scan",
    "ScanFile",
    "Sort",
    "SortKey",
    "TableInfo",
    "TableSource",
    "Union",
    "Values",
    "aggregate",
    "bind_plan",
    "distinct",
    "explain",
    "filter_",
    "limit",
    "optimize",
    "output_schema",
    "plan_fragments",
    "project",
    "rebind_plan",
    "render",
    "scan",
    "scans",
    "sort",
    "sort_key",
    "transform_down",
    "transform_up",
    "union_all",
    "walk",
]
