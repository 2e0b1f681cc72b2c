"""Builders, immutability, structural equality and rendering of expression nodes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import (
    AggCall,
    Alias,
    Call,
    Case,
    Column,
    InList,
    Literal,
    coalesce,
    col,
    columns_referenced,
    conjunction,
    count,
    is_aggregate,
    lit,
    output_name,
    split_conjunction,
    transform,
    when,
)


def test_operators_build_calls_not_booleans() -> None:
    e = col("a") == 1
    assert isinstance(e, Call)
    assert e.fn == "eq"
    assert isinstance(e.args[1], Literal)
    assert e.args[1].value == 1
    assert (1 + col("a")).args[0].same_as(lit(1)), "reflected operators keep operand order"
    assert str(~(col("a") > 1) | (col("b") <= 2.5)) == "((NOT (a > 1)) OR (b <= 2.5))"


def test_nodes_are_immutable() -> None:
    e = col("a") + 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.fn = "subtract"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        col("a").name = "b"  # type: ignore[misc]


def test_structural_equality_and_hash() -> None:
    a = (col("x") * 2).alias("y")
    b = (col("x") * 2).alias("y")
    assert a is not b
    assert a.same_as(b)
    assert hash(a) == hash(b)
    assert a.key() == b.key()
    assert not a.same_as((col("x") * 3).alias("y"))
    assert not lit(1).same_as(lit(1.0)), "1 and 1.0 are different literals"
    assert not lit(1).same_as(lit(True))
    assert len({a, b}) == 1


def test_bool_of_equality_is_structural_and_others_refuse() -> None:
    assert bool(col("a") == col("a"))
    assert not bool(col("a") == col("b"))
    assert col("a") in (col("b"), col("a"))
    with pytest.raises(TypeError, match="ambiguous"):
        bool(col("a") > 1)
    with pytest.raises(TypeError, match="ambiguous"):
        bool(col("a"))


def test_children_round_trip_through_with_children() -> None:
    exprs = [
        col("a") + 1,
        col("a").alias("b"),
        col("a").cast(pa.int64()),
        when(col("a") > 1).then(1).when(col("a") < 0).then(2).otherwise(3),
        when(col("a") > 1).then(1).end(),
        col("a").is_in([1, 2, None]),
        count(),
        col("a").sum(),
        coalesce(col("a"), col("b"), 0),
    ]
    for e in exprs:
        rebuilt = e.with_children(e.children())
        assert rebuilt.same_as(e), str(e)


def test_transform_returns_same_object_when_nothing_changes() -> None:
    e = (col("a") + 1) * col("b")
    assert transform(e, lambda n: n) is e
    renamed = transform(e, lambda n: Column("z") if isinstance(n, Column) and n.name == "a" else n)
    assert str(renamed) == "((z + 1) * b)"


def test_literals_infer_types() -> None:
    assert lit(1).dtype == pa.int64()
    assert lit(1.5).dtype == pa.float64()
    assert lit(True).dtype == pa.bool_()
    assert lit("x").dtype == pa.string()
    assert lit(None).dtype == pa.null()
    assert lit(dt.date(2025, 1, 1)).dtype == pa.date32()
    assert lit(dt.datetime(2025, 1, 1, tzinfo=dt.UTC)).dtype == pa.timestamp("us", tz="UTC")
    assert lit(Decimal("1.25")).dtype == pa.decimal128(3, 2)
    assert lit("2025-01-02", pa.date32()).value == dt.date(2025, 1, 2)
    assert lit(pa.scalar(3, pa.int8())).dtype == pa.int8()
    with pytest.raises(BindError, match="does not fit"):
        lit(300, pa.int8())
    with pytest.raises(BindError, match="literal"):
        lit(object())


def test_builders_validate_arguments() -> None:
    with pytest.raises(BindError):
        col("")
    with pytest.raises(BindError):
        coalesce()
    with pytest.raises(BindError, match="ddof"):
        col("a").var(ddof=2)
    with pytest.raises(BindError, match="q must be"):
        col("a").approx_quantile(1.5)
    with pytest.raises(BindError, match="DISTINCT"):
        count(distinct=True)
    with pytest.raises(BindError, match="constants"):
        col("a").is_in([col("b")])


def test_case_builder_and_aggregate_builders() -> None:
    case = when(col("a") > 1).then("big").when(col("a") > 0).then("small").otherwise("none")
    assert isinstance(case, Case)
    assert len(case.branches) == 2
    assert str(case) == ("CASE WHEN (a > 1) THEN 'big' WHEN (a > 0) THEN 'small' ELSE 'none' END")
    assert count().args == ()
    assert count("x", distinct=True).distinct
    assert col("x").count_distinct().same_as(count(col("x"), distinct=True))
    assert col("x").std(ddof=0).fn == "stddev_pop"
    assert col("x").var().fn == "var_samp"
    assert isinstance(col("x").mean(), AggCall)


def test_output_names_follow_duckdb_style() -> None:
    assert output_name(col("amount")) == "amount"
    assert output_name(col("amount").sum().alias("revenue")) == "revenue"
    assert output_name(col("amount").sum()) == "sum(amount)"
    assert output_name(count()) == "count_star()"
    assert output_name(count("x", distinct=True)) == "count(DISTINCT x)"
    assert output_name(col("a") + 1) == "(a + 1)"
    assert output_name(col("s").like("a%")) == "(s LIKE 'a%')"
    assert output_name(col("d").year()) == "year(d)"
    assert output_name(col("d").date_trunc("Month")) == "date_trunc('month', d)"
    assert output_name(lit("it's")) == "'it''s'"


def test_split_conjunction_and_columns_referenced() -> None:
    pred = ((col("a") > 1) & (col("b") == 2)) & (col("c").is_null() | (col("d") < col("e")))
    parts = split_conjunction(pred)
    assert [str(p) for p in parts] == ["(a > 1)", "(b = 2)", "((c IS NULL) OR (d < e))"]
    assert conjunction(parts).same_as(pred)
    assert columns_referenced(pred) == frozenset("abcde")
    assert columns_referenced(lit(1)) == frozenset()
    assert split_conjunction(col("a"))[0].same_as(col("a"))


def test_is_aggregate() -> None:
    assert is_aggregate(col("a").sum())
    assert is_aggregate((col("a").sum() / count()).alias("x"))
    assert not is_aggregate(col("a") + 1)


def test_in_list_and_alias_render() -> None:
    e = col("a").is_in([1, None, "x"])
    assert isinstance(e, InList)
    assert str(e) == "(a IN (1, NULL, 'x'))"
    assert isinstance(col("a").alias("b"), Alias)
    assert str(col("a").alias("b")) == "a AS b"
