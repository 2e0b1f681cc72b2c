"""Optimizer rules around joins: where each conjunct may go, keys, pruning, exchanges."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute.expr import col
from hasivu_compute.plan.binder import bind_plan
from hasivu_compute.plan.nodes import Filter, Join, Project, Scan
from hasivu_compute.plan.optimizer import optimize
from hasivu_compute.plan.render import render

SCHEMAS = {
    "orders": pa.schema([("school_id", pa.int32()), ("amount", pa.float64()), ("day", pa.int32())]),
    "schools": pa.schema([("id", pa.int64()), ("region", pa.string()), ("size", pa.int32())]),
}


def _plan(how: str, predicate=None, condition=None, keys: bool = True):
    join = Join(
        Scan("orders"),
        Scan("schools"),
        how,
        (col("school_id"),) if keys else (),
        (col("id"),) if keys else (),
        condition,
    )
    node = join if predicate is None else Filter(join, predicate)
    return optimize(bind_plan(node, lambda name, version: SCHEMAS[name]))


def test_a_where_over_a_cross_join_becomes_hash_keys_and_side_filters() -> None:
    pred = (col("school_id") == col("id")) & (col("region") == "n") & (col("amount") > 1)
    text = render(_plan("cross", pred, keys=False))
    assert "Join inner on=[CAST(school_id AS int64) = id] strategy=gather" in text, text
    assert "Scan orders filter=(amount > 1.0)" in text, text
    assert "Scan schools filter=(region = 'n')" in text, text
    assert "Filter" not in text, text


@pytest.mark.parametrize(
    ("how", "left_moves", "right_moves"),
    [
        ("inner", True, True),
        ("left", True, False),
        ("right", False, True),
        ("full", False, False),
    ],
)
def test_a_filter_above_never_enters_the_side_that_supplies_nulls(
    how: str, left_moves: bool, right_moves: bool
) -> None:
    text = render(_plan(how, (col("amount") > 1) & (col("size") > 5)))
    assert ("Scan orders filter=(amount > 1.0)" in text) is left_moves, text
    assert ("Scan schools filter=(size > 5)" in text) is right_moves, text


@pytest.mark.parametrize(
    ("how", "left_moves", "right_moves"),
    [
        ("inner", True, True),
        ("left", False, True),
        ("right", True, False),
        ("full", False, False),
        ("semi", True, True),
        ("anti", False, True),
    ],
)
def test_a_join_condition_enters_only_a_side_whose_rows_it_may_drop(
    how: str, left_moves: bool, right_moves: bool
) -> None:
    text = render(_plan(how, condition=(col("amount") > 1) & (col("size") > 5)))
    assert ("Scan orders filter=(amount > 1.0)" in text) is left_moves, text
    assert ("Scan schools filter=(size > 5)" in text) is right_moves, text


def test_projection_pruning_reads_only_keys_and_what_is_used() -> None:
    join = Join(Scan("orders"), Scan("schools"), "inner", (col("school_id"),), (col("id"),))
    plan = Project(join, (col("region"),))
    text = render(optimize(bind_plan(plan, lambda name, version: SCHEMAS[name])))
    assert "Scan orders columns=[school_id]" in text, text
    assert "Scan schools columns=[id, region]" in text, text
    assert text.count("Exchange") == 2, "each side is gathered from its own fragments"


EITHER = ((col("region") == "n") & (col("amount") > 1)) | (
    (col("region") == "s") & (col("amount") > 5)
)


def test_an_or_over_both_sides_filters_each_side_by_what_it_implies() -> None:
    text = render(_plan("inner", EITHER))
    assert "Scan schools filter=(region IN ('n', 's'))" in text, text
    assert "Scan orders filter=((amount > 1.0) OR (amount > 5.0))" in text, text
    assert "condition=(((region = 'n') AND (amount > 1.0)) OR" in text, "the OR itself stays"


@pytest.mark.parametrize(
    ("how", "left_moves", "right_moves"),
    [("left", False, True), ("right", True, False), ("full", False, False)],
)
def test_an_implied_filter_never_drops_rows_an_outer_join_keeps(
    how: str, left_moves: bool, right_moves: bool
) -> None:
    text = render(_plan(how, condition=EITHER))
    assert ("Scan orders filter=" in text) is left_moves, text
    assert ("Scan schools filter=" in text) is right_moves, text


def test_a_branch_without_a_condition_on_a_side_implies_nothing_there() -> None:
    pred = ((col("region") == "n") & (col("amount") > 1)) | (col("region") == "s")
    text = render(_plan("inner", pred))
    assert "Scan schools filter=(region IN ('n', 's'))" in text, text
    assert "Scan orders filter=" not in text, "the second branch asks nothing of orders"


def test_implied_filters_are_added_once() -> None:
    from hasivu_compute.plan.optimizer import OptimizerContext
    from hasivu_compute.plan.optimizer.rules.implied_predicates import derive_implied_predicates

    plan = _plan("inner", EITHER)
    assert derive_implied_predicates(plan, OptimizerContext()) is plan, "already filtered"
