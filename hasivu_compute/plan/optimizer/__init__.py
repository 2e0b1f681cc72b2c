"""The optimizer driver: batches of pure rules, each ``rule(plan, ctx) -> plan``.

A rule returns the same object when it changes nothing; the driver re-binds the
plan after every change (rules move expressions across nodes, so column positions
move) and runs a batch to a fixed point under an iteration guard (sqlglot's
RULES tuple, Daft's rule batches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hasivu_compute._core.errors import PlanError
from hasivu_compute.plan.binder import rebind_plan
from hasivu_compute.plan.nodes import PlanNode
from hasivu_compute.plan.source import TableSource


@dataclass(frozen=True)
class OptimizerContext:
    """What rules may consult besides the plan.

    Attributes:
        source: snapshots and segments for pruning rules; None skips pruning.
        chunk_pruning: whether zone-map pruning opens segments to prune chunks.
    """

    source: TableSource | None = None
    chunk_pruning: bool = True
    trace: list[tuple[str, PlanNode]] | None = field(default=None, compare=False)


Rule = Callable[[PlanNode, OptimizerContext], PlanNode]


@dataclass(frozen=True)
class Batch:
    """Rules run in order, repeated until nothing changes (``fixed_point``) or once."""

    name: str
    rules: tuple[Rule, ...]
    fixed_point: bool = False
    max_iterations: int = 20


def default_batches() -> tuple[Batch, ...]:
    """The standard pipeline: rewrite, prune, then split into fragments."""
    from hasivu_compute.plan.optimizer.rules.eager_aggregation import aggregate_before_join
    from hasivu_compute.plan.optimizer.rules.exchange import insert_exchanges
    from hasivu_compute.plan.optimizer.rules.implied_predicates import derive_implied_predicates
    from hasivu_compute.plan.optimizer.rules.join_order import reorder_joins
    from hasivu_compute.plan.optimizer.rules.join_strategy import choose_join_strategies
    from hasivu_compute.plan.optimizer.rules.limit import push_down_limit
    from hasivu_compute.plan.optimizer.rules.local_windows import run_windows_locally
    from hasivu_compute.plan.optimizer.rules.partitions import prune_partitions
    from hasivu_compute.plan.optimizer.rules.predicates import push_down_predicates
    from hasivu_compute.plan.optimizer.rules.projections import prune_projections
    from hasivu_compute.plan.optimizer.rules.simplify import simplify_expressions
    from hasivu_compute.plan.optimizer.rules.split_aggregates import split_aggregates
    from hasivu_compute.plan.optimizer.rules.topk import push_down_topk
    from hasivu_compute.plan.optimizer.rules.zone_maps import prune_zone_maps

    return (
        Batch("rewrite", (simplify_expressions, push_down_predicates), fixed_point=True),
        # Once the ORs over two join inputs sit at their joins: filter each input by
        # what they imply for it, and push those filters to the scans.
        Batch("imply", (derive_implied_predicates,)),
        Batch("push implied", (push_down_predicates,), fixed_point=True),
        Batch("prune", (prune_projections, prune_partitions, prune_zone_maps)),
        # Sizes come from the pruned scans: order joins by them, then group before joining.
        Batch("order", (reorder_joins,)),
        Batch("eager", (aggregate_before_join,), fixed_point=True),
        Batch(
            "distribute",
            (choose_join_strategies, insert_exchanges, split_aggregates, run_windows_locally),
        ),
        # Predicates again: a HAVING over an aggregate finished in the fragments moves
        # below the exchange, so fragments filter their groups before shipping them.
        Batch("finish", (push_down_predicates, push_down_limit, push_down_topk), fixed_point=True),
    )


def apply_rule(rule: Rule, plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Run one rule and re-bind its result if it changed anything."""
    out = rule(plan, ctx)
    if out is plan:
        return plan
    out = rebind_plan(out)
    if ctx.trace is not None:
        ctx.trace.append((getattr(rule, "__name__", repr(rule)), out))
    return out


def optimize(
    plan: PlanNode,
    ctx: OptimizerContext | None = None,
    batches: tuple[Batch, ...] | None = None,
) -> PlanNode:
    """Optimize a bound plan.

    Raises:
        PlanError: a fixed-point batch did not converge (a rule keeps flip-flopping).
    """
    ctx = ctx or OptimizerContext()
    for batch in batches if batches is not None else default_batches():
        for _ in range(batch.max_iterations):
            before = plan
            for rule in batch.rules:
                plan = apply_rule(rule, plan, ctx)
            if not batch.fixed_point or plan is before:
                break
        else:
            raise PlanError(f"optimizer batch {batch.name!r} did not converge")
    return plan


__all__ = ["Batch", "OptimizerContext", "Rule", "apply_rule", "default_batches", "optimize"]
