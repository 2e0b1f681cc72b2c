"""Golden plan tests: one file per optimizer rule, ``input`` plan -> ``expected`` text.

A golden file is a list of cases::

    ## filter moves into the scan
    rules: push_down_predicates            (optional; default = the file's rule)
    input:
    scan("orders").filter(col("school_id") == 2)
    expected:
    Scan orders@3 filter=(school_id = 2)

The input is a Python expression over the plan builders (evaluated here); it is
bound against the in-memory catalog of ``fixtures.py``, the rules run in order
(each result re-bound, as the optimizer driver does), and the rendered plan must
equal ``expected``. Set ``HC_UPDATE_GOLDEN=1`` to rewrite the expected blocks
(then review the diff).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hc_fixtures import make_catalog

from hasivu_compute.expr import coalesce, col, count, lit, when
from hasivu_compute.plan import (
    Exchange,
    LogicalPlanBuilder,
    OptimizerContext,
    PlanNode,
    bind_plan,
    output_schema,
    render,
)
from hasivu_compute.plan.optimizer import apply_rule
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

GOLDEN = Path(__file__).with_name("golden")
RULES = {
    f.__name__: f
    for f in (
        simplify_expressions,
        push_down_predicates,
        prune_projections,
        prune_partitions,
        prune_zone_maps,
        insert_exchanges,
        split_aggregates,
        push_down_topk,
        push_down_limit,
    )
}


@dataclass
class Case:
    name: str
    rules: list[str]
    source: str
    expected: str


def parse(path: Path) -> list[Case]:
    cases: list[Case] = []
    default_rule = path.stem
    for block in re.split(r"^## ", path.read_text(), flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        rules = [default_rule]
        if body.startswith("rules:"):
            line, _, body = body.partition("\n")
            rules = line.removeprefix("rules:").split()
        head, _, expected = body.partition("expected:\n")
        source = head.removeprefix("input:\n").strip()
        cases.append(Case(name.strip(), rules, source, expected.rstrip("\n")))
    return cases


def write(path: Path, cases: list[Case]) -> None:
    out = []
    for c in cases:
        rules = "" if c.rules == [path.stem] else f"rules: {' '.join(c.rules)}\n"
        out.append(f"## {c.name}\n{rules}input:\n{c.source}\nexpected:\n{c.expected}\n")
    path.write_text("\n".join(out))


def exchange(b: LogicalPlanBuilder) -> LogicalPlanBuilder:
    return LogicalPlanBuilder(Exchange(b.plan))


NAMESPACE = {
    "scan": LogicalPlanBuilder.scan,
    "col": col,
    "lit": lit,
    "count": count,
    "when": when,
    "coalesce": coalesce,
    "exchange": exchange,
}


def run_case(case: Case) -> tuple[PlanNode, PlanNode, str]:
    built = eval(case.source, dict(NAMESPACE))  # test input, written by us
    plan = built.plan if isinstance(built, LogicalPlanBuilder) else built
    source = CatalogSource(make_catalog())
    bound = bind_plan(plan, source.resolve)
    ctx = OptimizerContext(source=source)
    out = bound
    for name in case.rules:
        out = apply_rule(RULES[name], out, ctx)
    return bound, out, render(out)


def all_cases() -> list[tuple[Path, Case]]:
    return [(p, c) for p in sorted(GOLDEN.glob("*.txt")) for c in parse(p)]


@pytest.mark.parametrize(
    ("path", "case"), all_cases(), ids=lambda v: v.stem if isinstance(v, Path) else v.name
)
def test_golden(path: Path, case: Case) -> None:
    bound, out, text = run_case(case)
    if os.environ.get("HC_UPDATE_GOLDEN"):
        cases = parse(path)
        for c in cases:
            if c.name == case.name:
                c.expected = text
        write(path, cases)
        return
    assert text == case.expected, f"{path.name} / {case.name}:\n{text}"
    assert output_schema(out).equals(output_schema(bound)), "a rule must preserve the schema"
    ctx = OptimizerContext(source=CatalogSource(make_catalog()))
    again = RULES[case.rules[-1]](out, ctx)
    assert again is out, "a rule applied to its own output changes nothing (fixed point)"


def test_every_rule_has_a_golden_file() -> None:
    missing = [name for name in RULES if not (GOLDEN / f"{name}.txt").exists()]
    assert not missing, f"rules without golden tests: {missing}"
