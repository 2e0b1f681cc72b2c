"""Plan nodes, builder and binder: invariants, errors that name what is wrong, schemas."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest
from hc_fixtures import make_catalog

from hasivu_compute._core.errors import BindError, PlanError
from hasivu_compute.expr import col, count, lit
from hasivu_compute.plan import (
    Aggregate,
    Filter,
    Limit,
    LogicalPlanBuilder,
    Project,
    Scan,
    Sort,
    SortKey,
    Union,
    bind_plan,
    output_schema,
    plan_fragments,
    render,
    transform_up,
)
from hasivu_compute.plan.optimizer import OptimizerContext, optimize
from hasivu_compute.plan.source import CatalogSource

scan = LogicalPlanBuilder.scan
SOURCE = CatalogSource(make_catalog())


def bound(b: LogicalPlanBuilder):  # type: ignore[no-untyped-def]
    return bind_plan(b.plan, SOURCE.resolve)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Limit(Scan("t"), -1), "non-negative"),
        (lambda: Limit(Scan("t"), 1, offset=-2), "offset"),
        (lambda: Project(Scan("t"), ()), "at least one"),
        (lambda: Sort(Scan("t"), ()), "at least one"),
        (lambda: Union(()), "at least one"),
        (lambda: Scan(""), "non-empty"),
        (lambda: Scan("t", columns=("a", "a")), "duplicate"),
        (lambda: Aggregate(Scan("t"), (), ()), "keys or aggregates"),
        (lambda: Filter("not a plan", col("a")), "plan node"),  # type: ignore[arg-type]
    ],
)
def test_node_invariants_raise_plan_error(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlanError, match=message):
        build()


def test_nodes_are_values_with_generic_traversal() -> None:
    plan = scan("orders").filter(col("school_id") == 1).limit(3).plan
    assert transform_up(plan, lambda n: n) is plan, "no-op rewrite returns the same object"
    limit = transform_up(plan, lambda n: Limit(n.child, 5) if isinstance(n, Limit) else n)
    assert isinstance(limit, Limit) and limit.limit == 5 and limit.child is plan.children()[0]
    assert render(pickle.loads(pickle.dumps(plan))) == render(plan)


def test_binder_pins_snapshot_and_partition_columns() -> None:
    b = bound(scan("orders"))
    assert isinstance(b, Scan) and b.version == 3 and b.partition_columns == ("school_id",)
    assert bound(scan("orders", version=2)).version == 2  # type: ignore[union-attr]


def test_unknown_column_suggests_near_matches() -> None:
    with pytest.raises(BindError, match="did you mean 'amount'"):
        bound(scan("orders").filter(col("amout") > 1))
    with pytest.raises(BindError, match="amount"):
        bound(scan("orders", columns=["amout"]))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: scan("orders").filter(col("amount") + 1), "must be boolean"),
        (lambda: scan("orders").select(col("amount").sum()), "outside an aggregation"),
        (lambda: scan("orders").filter(col("amount").sum() > 1), "aggregate"),
        (lambda: scan("orders").select("amount", col("order_id").alias("amount")), "duplicate"),
        (lambda: scan("orders").group_by("school_id").agg(col("amount")), "neither an aggregate"),
        (
            lambda: scan("orders").select("amount").union_all(scan("orders").select("status")),
            "cast one side",
        ),
        (
            lambda: (
                scan("orders").select("amount").union_all(scan("orders").select("amount", "status"))
            ),
            "columns",
        ),
    ],
)
def test_bind_errors_name_the_problem(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BindError, match=message):
        bound(build())


def test_output_schemas() -> None:
    plan = bound(
        scan("orders")
        .group_by("school_id", col("meal_date").month().alias("m"))
        .agg(count().alias("n"), (col("amount").sum() / count()).alias("avg"))
    )
    schema = output_schema(plan)
    assert schema.names == ["school_id", "m", "n", "avg"]
    assert schema.field("n").type == pa.int64() and schema.field("avg").type == pa.float64()


def test_unaliased_expressions_keep_their_name_through_optimization() -> None:
    plan = bound(scan("orders").select(col("school_id") + lit(1) + lit(2)))
    name = output_schema(plan).names[0]
    opt = optimize(plan, OptimizerContext(source=SOURCE))
    assert output_schema(opt).names == [name]


def test_builder_sort_flags_per_key() -> None:
    plan = scan("orders").sort("amount", "order_id", descending=[True, False]).plan
    assert isinstance(plan, Sort)
    assert [k.descending for k in plan.keys] == [True, False]
    with pytest.raises(PlanError, match="descending flags"):
        scan("orders").sort("amount", descending=[True, False])
    assert isinstance(plan.keys[0], SortKey)


def test_fragments_one_per_partition_and_picklable() -> None:
    plan = optimize(
        bound(scan("orders").filter(col("school_id") <= 2)), OptimizerContext(source=SOURCE)
    )
    physical = plan_fragments(plan, SOURCE)
    assert sorted(f.partition for f in physical.fragments) == [(1,), (2,)]  # type: ignore[type-var]
    for f in physical.fragments:
        assert all(sf.file.partition == f.partition for sf in f.files)
        clone = pickle.loads(pickle.dumps(f))
        assert clone.columns == f.columns and len(clone.files) == len(f.files)
        assert clone.pipeline is not None and f.scan.files is None, (
            "files live on the fragment only"
        )


def test_unpartitioned_table_gets_one_fragment_per_file() -> None:
    physical = plan_fragments(
        optimize(bound(scan("refunds")), OptimizerContext(source=SOURCE)), SOURCE
    )
    assert len(physical.fragments) == 2 and not any(f.whole_partitions for f in physical.fragments)


def test_fully_pruned_scan_still_plans_one_empty_fragment() -> None:
    plan = optimize(
        bound(scan("orders").filter(col("order_id") < 0)), OptimizerContext(source=SOURCE)
    )
    physical = plan_fragments(plan, SOURCE)
    assert len(physical.fragments) == 1 and physical.fragments[0].files == ()


@pytest.mark.parametrize("version", ["2", True, False, 0, -1, 2.0, "latest"])
def test_scan_version_must_be_a_version_number(version: object) -> None:
    # `c.table(name, version="2")` failed deep inside with "Unknown format code 'd'"
    from hasivu_compute._core.errors import ConfigError
    from hasivu_compute.plan.builder import scan as builder_scan

    for make in (
        lambda: Scan("orders", version=version),  # type: ignore[arg-type]
        lambda: builder_scan("orders", version),  # type: ignore[arg-type]
        lambda: scan("orders", version),  # type: ignore[arg-type]
    ):
        with pytest.raises(ConfigError, match="version") as info:
            make()
        assert repr(version) in str(info.value), info.value
        assert isinstance(info.value, ValueError)


def test_scan_version_accepts_integers() -> None:
    import numpy as np

    assert Scan("orders", version=2).version == 2
    pinned = Scan("orders", version=np.int64(3))  # type: ignore[arg-type]
    assert pinned.version == 3 and type(pinned.version) is int
    assert Scan("orders").version is None


def test_sql_time_travel_to_version_zero_is_refused_with_its_position() -> None:
    from hasivu_compute._core.errors import ConfigError
    from hasivu_compute.sql import to_plan

    with pytest.raises(ConfigError, match="version") as info:
        to_plan("SELECT a FROM t AT (VERSION => 0)")
    assert "line 1, column 32" in str(info.value), info.value


def test_pruning_text_says_what_was_read() -> None:
    # "pruned=(partitions 8/8)" read as if all 8 were pruned away, when all 8 were read
    from hasivu_compute.plan.nodes import PruningStats

    stats = PruningStats(8, 8, 48, 3, chunks_total=40, chunks_kept=5)
    assert stats.describe() == "read partitions 8 of 8, segments 3 of 48, chunks 5 of 40"
    assert PruningStats(8, 1, 16, 2).describe() == "read partitions 1 of 8, segments 2 of 16"
    plan = bound(scan("orders").filter(col("school_id") == 2))
    text = render(optimize(plan, OptimizerContext(SOURCE)), pruning=True)
    assert "read=(partitions 1 of 4, segments 2 of 8" in text, text
    assert "pruned=" not in text, text
