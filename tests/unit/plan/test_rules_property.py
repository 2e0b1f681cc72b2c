"""Property tests: every rule preserves results and schema; pruning never drops a matching row.

Random plans over random data (hypothesis) run unoptimized (the reference) and
with each rule (plus the rules it builds on), and with the whole pipeline.
"""

from __future__ import annotations

import os

import pyarrow as pa
from hc_fixtures import assert_same_bag
from hc_memtable import MemCatalog
from hc_strategies import PARTITIONINGS, SCHEMA, plans, predicates, tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hasivu_compute.exec import execute, prepare
from hasivu_compute.exec.operators import filter_table
from hasivu_compute.plan import Limit, PlanNode, Scan, Sort, bind_plan, output_schema, walk
from hasivu_compute.plan.binder import rebind_plan
from hasivu_compute.plan.optimizer import Batch, OptimizerContext, optimize
from hasivu_compute.plan.optimizer.rules.exchange import insert_exchanges
from hasivu_compute.plan.optimizer.rules.limit import push_down_limit
from hasivu_compute.plan.optimizer.rules.partitions import prune_partitions
from hasivu_compute.plan.optimizer.rules.predicates import push_down_predicates
from hasivu_compute.plan.optimizer.rules.projections import prune_projections
from hasivu_compute.plan.optimizer.rules.simplify import simplify_expressions
from hasivu_compute.plan.optimizer.rules.split_aggregates import split_aggregates
from hasivu_compute.plan.optimizer.rules.topk import push_down_topk
from hasivu_compute.plan.optimizer.rules.zone_maps import prune_zone_maps
from hasivu_compute.plan.source import CatalogSource


def _one(*rules: object) -> tuple[Batch, ...]:
    return tuple(Batch(getattr(r, "__name__", "r"), (r,)) for r in rules)  # type: ignore[arg-type]


RULE_BATCHES: dict[str, tuple[Batch, ...]] = {
    "simplify_expressions": _one(simplify_expressions),
    "push_down_predicates": _one(push_down_predicates),
    "prune_projections": _one(prune_projections),
    "prune_partitions": _one(push_down_predicates, prune_partitions),
    "prune_zone_maps": _one(push_down_predicates, prune_zone_maps),
    "insert_exchanges": _one(insert_exchanges),
    "split_aggregates": _one(insert_exchanges, split_aggregates),
    "push_down_topk": _one(insert_exchanges, push_down_topk),
    "push_down_limit": _one(insert_exchanges, push_down_limit),
}


@st.composite
def catalogs(draw: st.DrawFn) -> MemCatalog:
    data = draw(tables())
    cat = MemCatalog()
    t = cat.create_table(
        "t", SCHEMA, draw(st.sampled_from(PARTITIONINGS)), chunk_rows=draw(st.integers(2, 5))
    )
    cuts = sorted(draw(st.lists(st.integers(0, data.num_rows), max_size=2)))
    start = 0
    for stop in [*cuts, data.num_rows]:
        t.append(data.slice(start, stop - start))
        start = stop
    return cat


def _ordered(plan: PlanNode) -> bool:
    return isinstance(plan, Sort) or any(isinstance(n, Sort) for n in walk(plan)[:2])


def _unordered_limit(plan: PlanNode) -> bool:
    """A LIMIT not directly over a sort: only the row count is specified."""
    nodes = walk(plan)
    return any(isinstance(n, Limit) and not isinstance(n.child, Sort) for n in nodes)


# HC_PROPERTY_EXAMPLES raises the example count for a longer soak run.
EXAMPLES = int(os.environ.get("HC_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(cat=catalogs(), plan=plans())
def test_every_rule_preserves_results_and_schema(cat: MemCatalog, plan: PlanNode) -> None:
    reference = execute(plan, cat, batches=())
    ordered = _ordered(plan)
    for name, batches in [*RULE_BATCHES.items(), ("all", None)]:
        got = execute(plan, cat, batches=batches)
        assert got.schema.equals(reference.schema), f"{name} changed the schema"
        if _unordered_limit(plan):
            assert got.num_rows == reference.num_rows, f"rule {name} changed the row count"
            continue
        try:
            assert_same_bag(got, reference, ordered=ordered)
        except AssertionError as exc:
            raise AssertionError(f"rule {name} changed the result") from exc


@SETTINGS
@given(cat=catalogs(), plan=plans())
def test_rules_are_idempotent_and_keep_bound_schema(cat: MemCatalog, plan: PlanNode) -> None:
    source = CatalogSource(cat)
    bound = bind_plan(plan, source.resolve)
    once = optimize(bound, OptimizerContext(source=source))
    assert output_schema(once).equals(output_schema(bound))
    twice = optimize(once, OptimizerContext(source=source))
    from hasivu_compute.plan.render import render

    assert render(twice) == render(once), "optimizing an optimized plan changes nothing"
    assert render(rebind_plan(once)) == render(once)


@settings(max_examples=EXAMPLES + 20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cat=catalogs(), pred=predicates(["p", "b", "c", "s"], depth=3))
def test_pruning_never_drops_a_matching_row(cat: MemCatalog, pred: object) -> None:
    from hasivu_compute.plan import LogicalPlanBuilder

    plan = LogicalPlanBuilder.scan("t").filter(pred).plan  # type: ignore[arg-type]
    plans_ = prepare(plan, cat)
    scan = next(n for n in walk(plans_.optimized) if isinstance(n, Scan))
    assert scan.filter is not None and scan.files is not None
    kept = {(sf.file.path, c) for sf in scan.files for c in (sf.chunks or range(99))}
    table = cat.load_table("t")
    for f in table.snapshot().data_files:
        for i, chunk in enumerate(table.files[f.path]):
            if (f.path, i) in kept:
                continue
            matching = filter_table(chunk, scan.filter)
            assert matching.num_rows == 0, (
                f"pruning skipped chunk {i} of {f.path} (partition {f.partition}) holding "
                f"matching rows {matching.to_pylist()} for {scan.filter}"
            )
    data = (
        pa.concat_tables(
            [pa.concat_tables(table.files[f.path]) for f in table.snapshot().data_files]
        )
        if table.snapshot().data_files
        else SCHEMA.empty_table()
    )
    assert_same_bag(execute(plan, cat), filter_table(data, scan.filter))
