"""The Repeat node (INTERSECT ALL / EXCEPT ALL): binding, execution, rendering, pruning."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import BindError
from hasivu_compute.exec.operators import run_node
from hasivu_compute.expr import col
from hasivu_compute.plan import Project, Repeat, Scan
from hasivu_compute.plan.binder import bind_plan, output_schema
from hasivu_compute.plan.optimizer import OptimizerContext
from hasivu_compute.plan.optimizer.rules.projections import prune_projections
from hasivu_compute.plan.render import render

SCHEMA = pa.schema([("a", pa.string()), ("n", pa.int64()), ("w", pa.float64())])
DATA = pa.table({"a": ["x", "y", "z", "v"], "n": [2, 0, None, -1], "w": [1.0, 2.0, 3.0, 4.0]})


def _bound(plan: Repeat | Project) -> Repeat | Project:
    return bind_plan(plan, lambda name, version: SCHEMA)  # type: ignore[return-value]


def test_each_row_is_repeated_times_and_null_or_negative_drops_it() -> None:
    plan = _bound(Repeat(Scan("t"), col("n") + 1))
    out = run_node(plan, lambda leaf: DATA)
    assert out.column("a").to_pylist() == ["x", "x", "x", "y"]
    assert out.schema == DATA.schema == output_schema(plan)


def test_times_must_be_an_integer() -> None:
    with pytest.raises(BindError, match="must be an integer"):
        _bound(Repeat(Scan("t"), col("w")))


def test_rendered_and_pruned_keeping_the_count_column() -> None:
    plan = _bound(Project(Repeat(Scan("t"), col("n")), (col("a"),)))
    pruned = prune_projections(plan, OptimizerContext())
    text = render(pruned)
    assert "Repeat times=n" in text, text
    assert "columns=[a, n]" in text, text  # w is dropped, n stays for the count
