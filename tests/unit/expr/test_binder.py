"""Binding: name resolution with near matches, type checks, implicit conversions."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import (
    BoundColumn,
    Cast,
    Literal,
    bind,
    coalesce,
    col,
    count,
    is_bound,
    lit,
    unbind,
    when,
)

SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("school_id", pa.int32()),
        ("quantity", pa.int16()),
        ("amount", pa.float64()),
        ("status", pa.string()),
        ("meal_date", pa.date32()),
        ("ordered_at", pa.timestamp("us", tz="UTC")),
        ("is_free_meal", pa.bool_()),
        ("price", pa.decimal128(10, 2)),
    ]
)


def test_unknown_column_names_near_matches() -> None:
    with pytest.raises(BindError) as err:
        bind(col("amout") > 1, SCHEMA)
    message = str(err.value)
    assert "unknown column 'amout'" in message
    assert "'amount'" in message
    assert isinstance(err.value, ValueError), "user errors are ValueErrors too"


def test_unknown_column_case_mismatch_is_suggested() -> None:
    with pytest.raises(BindError, match="did you mean 'status'"):
        bind(col("Status"), SCHEMA)


def test_unknown_column_inside_aggregate_and_case() -> None:
    with pytest.raises(BindError, match="'school_idd'"):
        bind(col("school_idd").sum(), SCHEMA)
    with pytest.raises(BindError, match="'stat'"):
        bind(when(col("stat") == "x").then(1).otherwise(0), SCHEMA)


def test_type_errors_name_the_expression() -> None:
    with pytest.raises(BindError, match=r"status.*string"):
        bind(col("status") + 1, SCHEMA)
    with pytest.raises(BindError, match="type mismatch"):
        bind(col("meal_date") == col("amount"), SCHEMA)
    with pytest.raises(BindError, match="must be boolean"):
        bind(col("amount") & col("is_free_meal"), SCHEMA)
    with pytest.raises(BindError, match="needs a string"):
        bind(col("amount").lower(), SCHEMA)
    with pytest.raises(BindError, match="date or timestamp"):
        bind(col("status").year(), SCHEMA)
    with pytest.raises(BindError, match="unknown date_trunc unit"):
        bind(col("meal_date").date_trunc("fortnight"), SCHEMA)
    with pytest.raises(BindError, match="unknown extract field"):
        bind(col("meal_date").extract("decade"), SCHEMA)
    with pytest.raises(BindError, match="numeric"):
        bind(col("status").sum(), SCHEMA)
    with pytest.raises(BindError, match="cannot be used as date32"):
        bind(col("meal_date") > "not a date", SCHEMA)
    with pytest.raises(BindError, match="aggregate inside aggregate"):
        bind(col("amount").sum().sum(), SCHEMA)
    with pytest.raises(BindError, match="not supported"):
        bind(AggregateDistinctSum, SCHEMA)


AggregateDistinctSum = col("amount").sum().__class__("sum", (col("amount"),), distinct=True)


def test_bound_tree_has_types_and_columns() -> None:
    e = bind((col("quantity") * col("amount")).alias("x"), SCHEMA)
    assert e.dtype == pa.float64()
    assert is_bound(e)
    assert not is_bound(col("quantity") * 2)
    leaf = e.children()[0].children()[0]
    assert isinstance(leaf, BoundColumn)
    assert leaf.index == 2
    assert leaf.dtype == pa.int16()


def test_literal_adopts_column_type() -> None:
    e = bind(col("school_id") == 17, SCHEMA)
    assert isinstance(e.children()[1], Literal)
    assert e.children()[1].dtype == pa.int32(), "17 compares as int32 like DuckDB"
    e2 = bind(col("quantity") + 1, SCHEMA)
    assert e2.dtype == pa.int16()
    e3 = bind(col("school_id") == 10**12, SCHEMA)
    assert isinstance(e3.children()[0], Cast), "a literal that does not fit widens the column"


def test_integer_division_is_double_and_comparisons_unify() -> None:
    assert bind(col("school_id") / 2, SCHEMA).dtype == pa.float64()
    assert bind(col("school_id") // 2, SCHEMA).dtype == pa.int32()
    assert bind(col("price") / 2, SCHEMA).dtype == pa.float64()
    e = bind(col("school_id") > 1.5, SCHEMA)
    assert isinstance(e.children()[0], Cast)
    assert e.children()[0].dtype == pa.float64()


def test_string_literals_parse_as_temporal() -> None:
    e = bind(col("meal_date") >= "2025-01-01", SCHEMA)
    assert e.children()[1].same_as(Literal(dt.date(2025, 1, 1), pa.date32()))
    ts = bind(col("ordered_at") < "2025-01-01 12:00:00", SCHEMA)
    value = ts.children()[1]
    assert isinstance(value, Literal)
    assert value.value == dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
    mixed = bind(col("meal_date") < col("ordered_at"), SCHEMA)
    assert mixed.children()[0].dtype == pa.timestamp("us", tz="UTC")


def test_coalesce_case_and_in_list_types() -> None:
    assert bind(coalesce(col("school_id"), 0), SCHEMA).dtype == pa.int32()
    assert bind(coalesce(col("school_id"), col("amount")), SCHEMA).dtype == pa.float64()
    case = when(col("amount") > 1).then(col("quantity")).otherwise(lit(None))
    assert bind(case, SCHEMA).dtype == pa.int16()
    assert bind(when(col("is_free_meal")).then("free").end(), SCHEMA).dtype == pa.string()
    in_list = bind(col("school_id").is_in([1, 2, None]), SCHEMA)
    assert in_list.dtype == pa.bool_()
    assert bind(col("school_id").is_in([1.5]), SCHEMA).children()[0].dtype == pa.float64()


def test_aggregate_result_types() -> None:
    assert bind(col("quantity").sum(), SCHEMA).dtype == pa.int64()
    assert bind(col("amount").sum(), SCHEMA).dtype == pa.float64()
    assert bind(col("price").sum(), SCHEMA).dtype == pa.decimal128(38, 2)
    assert bind(col("quantity").mean(), SCHEMA).dtype == pa.float64()
    assert bind(col("status").min(), SCHEMA).dtype == pa.string()
    assert bind(count(), SCHEMA).dtype == pa.int64()
    assert bind(col("status").count_distinct(), SCHEMA).dtype == pa.int64()
    assert bind(col("amount").approx_quantile(0.9), SCHEMA).dtype == pa.float64()
    ratio = bind(col("amount").sum() / count(), SCHEMA)
    assert ratio.dtype == pa.float64()


def test_rebinding_resolves_by_name_and_unbind_round_trips() -> None:
    e = bind((col("amount") > 1) & (col("status") == "paid"), SCHEMA)
    reordered = pa.schema([SCHEMA.field("status"), SCHEMA.field("amount")])
    again = bind(e, reordered)
    columns = [n for n in again.children()[0].children() if isinstance(n, BoundColumn)]
    assert columns[0].index == 1
    assert bind(unbind(e), SCHEMA).same_as(e)
    with pytest.raises(BindError, match="unknown column 'status'"):
        bind(e, pa.schema([SCHEMA.field("amount")]))


def test_unbound_expression_has_no_dtype() -> None:
    with pytest.raises(BindError, match="not bound"):
        _ = col("a").dtype
