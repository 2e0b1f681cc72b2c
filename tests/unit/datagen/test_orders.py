"""The orders/payments generators: determinism, schema, sizes and realistic constraints."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import ConfigError
from hasivu_compute.datagen import school
from hasivu_compute.datagen.school import (
    BLOCK_ROWS,
    ORDERS_SCHEMA,
    PAYMENTS_SCHEMA,
    iter_orders,
    iter_payments,
    orders,
    payments,
)

CONTRACT_COLUMNS = [
    ("order_id", pa.int64()),
    ("school_id", pa.int32()),
    ("student_id", pa.int64()),
    ("item_id", pa.int32()),
    ("kitchen_id", pa.int32()),
    ("ordered_at", pa.timestamp("us", tz="UTC")),
    ("meal_date", pa.date32()),
    ("quantity", pa.int16()),
    ("unit_price", pa.float64()),
    ("amount", pa.float64()),
    ("status", pa.string()),
    ("channel", pa.string()),
    ("is_free_meal", pa.bool_()),
    ("notes", pa.string()),
]
N = 150_000  # three blocks: the last one partial


@pytest.fixture(scope="module")
def big() -> pa.Table:
    return orders(N, seed=5)


def test_schema_is_the_contract(big: pa.Table) -> None:
    assert [(f.name, f.type) for f in big.schema] == CONTRACT_COLUMNS
    assert big.schema.equals(ORDERS_SCHEMA)
    assert big.num_rows == N
    nullable = [c for c in big.column_names if big[c].null_count]
    assert nullable == ["notes"], "only notes may hold nulls"


def test_same_seed_same_rows_and_other_seed_differs() -> None:
    a, b, c = orders(5_000, seed=1), orders(5_000, seed=1), orders(5_000, seed=2)
    assert a.equals(b)
    assert not a.equals(c)
    assert not pc.all(pc.equal(a["student_id"], c["student_id"])).as_py()


@pytest.mark.parametrize("batch_rows", [999, BLOCK_ROWS, 100_000, 1_000_000])
def test_iter_orders_matches_orders_for_any_batch_size(big: pa.Table, batch_rows: int) -> None:
    batches = list(iter_orders(N, batch_rows=batch_rows, seed=5))
    assert all(b.num_rows == batch_rows for b in batches[:-1])
    assert 0 < batches[-1].num_rows <= batch_rows
    assert pa.Table.from_batches(batches).equals(big)


@settings(max_examples=12, deadline=None)
@given(n_rows=st.integers(0, 3_000), batch_rows=st.integers(1, 4_000), seed=st.integers(0, 2**32))
def test_streaming_is_batch_size_independent(n_rows: int, batch_rows: int, seed: int) -> None:
    whole = orders(n_rows, seed=seed, n_schools=50)
    streamed = list(iter_orders(n_rows, batch_rows=batch_rows, seed=seed, n_schools=50))
    assert pa.Table.from_batches(streamed, ORDERS_SCHEMA).equals(whole)


def test_sizes_and_order_ids() -> None:
    assert orders(0).num_rows == 0
    assert orders(0).schema.equals(ORDERS_SCHEMA)
    assert list(iter_orders(0)) == []
    one = orders(1, seed=9)
    assert one.num_rows == 1 and one["order_id"].to_pylist() == [1]
    t = orders(1_000, seed=9)
    assert t["order_id"].to_pylist() == list(range(1, 1_001))


def test_amount_is_quantity_times_price_in_cents(big: pa.Table) -> None:
    q = big["quantity"].to_numpy().astype(np.float64)
    price = big["unit_price"].to_numpy()
    amount = big["amount"].to_numpy()
    assert np.array_equal(amount, np.round(q * price, 2))
    assert np.allclose(price * 100, np.round(price * 100), atol=1e-9), "prices have 2 decimals"
    assert (q >= 1).all() and (q <= 5).all()
    assert (price > 0).all()


def test_referential_integrity(big: pa.Table) -> None:
    schools, menu, kitchens = (
        school.schools(seed=5),
        school.menu_items(seed=5),
        school.kitchens(seed=5),
    )
    students = school.students(seed=5)
    for fact_col, dim, dim_col in [
        ("school_id", schools, "school_id"),
        ("item_id", menu, "item_id"),
        ("kitchen_id", kitchens, "kitchen_id"),
        ("student_id", students, "student_id"),
    ]:
        missing = pc.invert(pc.is_in(big[fact_col], value_set=dim[dim_col]))
        assert not pc.any(missing).as_py(), f"{fact_col} must exist in its dimension"
    joined = big.select(["item_id", "unit_price"]).join(
        menu.select(["item_id", "price"]), "item_id"
    )
    assert pc.all(pc.equal(joined["unit_price"], joined["price"])).as_py()


def test_student_belongs_to_one_school(big: pa.Table) -> None:
    per_student = big.group_by("student_id").aggregate([("school_id", "count_distinct")])
    assert pc.max(per_student["school_id_count_distinct"]).as_py() == 1
    students = school.students(seed=5).select(["student_id", "school_id", "is_free_meal_eligible"])
    joined = big.select(["student_id", "school_id", "is_free_meal"]).join(
        students.rename_columns(["student_id", "home_school", "eligible"]), "student_id"
    )
    assert pc.all(pc.equal(joined["school_id"], joined["home_school"])).as_py()
    free_but_ineligible = pc.and_(joined["is_free_meal"], pc.invert(joined["eligible"]))
    assert not pc.any(free_but_ineligible).as_py(), "free meals only for eligible students"


def test_realistic_distributions(big: pa.Table) -> None:
    status = dict(zip(*pc.value_counts(big["status"]).flatten(), strict=True))
    shares = {k.as_py(): v.as_py() / N for k, v in status.items()}
    assert set(shares) == {"paid", "pending", "refunded", "cancelled"}
    assert 0.83 < shares["paid"] < 0.87
    assert 0.94 < big["notes"].null_count / N < 0.99
    assert set(pc.unique(big["channel"]).to_pylist()) == {"app", "kiosk", "web", "counter"}
    # Zipf-like schools: the busiest 10% of schools take far more than 10% of orders
    counts = np.sort(
        big.group_by("school_id").aggregate([("order_id", "count")])["order_id_count"].to_numpy()
    )
    top = counts[-len(counts) // 10 :].sum() / counts.sum()
    assert top > 0.25, f"top-decile schools hold only {top:.0%} of orders"


def test_orders_fall_on_school_days_and_meal_times(big: pa.Table) -> None:
    days = big["meal_date"].to_numpy().astype("datetime64[D]")
    assert days.min() >= np.datetime64("2025-01-01") and days.max() < np.datetime64("2026-01-01")
    weekday = (days.astype(np.int64) + 3) % 7
    assert not (weekday == 6).any(), "no meals on Sundays"
    assert (weekday < 5).mean() > 0.9
    assert not (days == np.datetime64("2025-08-15")).any(), "no meals on Independence Day"
    assert np.all(np.diff(days.astype(np.int64)) >= 0), "meal dates follow the row order"
    local = big["ordered_at"].cast(pa.int64()).to_numpy() // 1_000_000 + 5 * 3600 + 1800
    hour = (local % 86_400) // 3600
    in_windows = np.isin(hour, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 19, 20, 21])
    assert in_windows.mean() > 0.99
    lead = local // 86_400 - big["meal_date"].cast(pa.int32()).to_numpy()
    assert set(np.unique(lead)) <= {-1, 0}, "ordered the day before or on the day"


def test_window_arguments() -> None:
    t = orders(2_000, seed=1, start=date(2024, 6, 1), months=2, n_schools=30)
    days = t["meal_date"].to_numpy().astype("datetime64[D]")
    assert days.min() >= np.datetime64("2024-06-01") and days.max() < np.datetime64("2024-08-01")
    assert pc.max(t["school_id"]).as_py() <= 30


def test_payments_follow_orders() -> None:
    o = orders(20_000, seed=4)
    p = payments(20_000, seed=4)
    assert p.schema.equals(PAYMENTS_SCHEMA)
    assert pc.all(pc.is_in(p["order_id"], value_set=o["order_id"])).as_py()
    assert pc.count_distinct(p["payment_id"]).as_py() == p.num_rows
    joined = p.join(o.select(["order_id", "amount", "status"]), "order_id", right_suffix="_o")
    captured = joined.filter(pc.equal(joined["status"], "captured"))
    assert pc.all(pc.equal(captured["amount"], captured["amount_o"])).as_py()
    assert set(pc.unique(captured["status_o"]).to_pylist()) == {"paid", "refunded"}
    refunds = joined.filter(pc.equal(joined["status"], "refunded"))
    assert pc.all(pc.equal(refunds["amount"], pc.negate(refunds["amount_o"]))).as_py()
    cancelled = o.filter(pc.equal(o["status"], "cancelled"))["order_id"]
    assert not pc.any(pc.is_in(p["order_id"], value_set=cancelled)).as_py()
    streamed = pa.Table.from_batches(list(iter_payments(20_000, batch_rows=3_333, seed=4)))
    assert streamed.equals(p)


@pytest.mark.parametrize(
    "call",
    [
        lambda: orders(-1),
        lambda: orders(10, seed=-3),
        lambda: orders(10, months=0),
        lambda: list(iter_orders(10, batch_rows=0)),
        lambda: orders(10, n_schools=0),
    ],
)
def test_bad_arguments_raise_config_error(call: object) -> None:
    with pytest.raises(ConfigError):
        call()  # type: ignore[operator]


def test_hundred_million_rows_stream_lazily() -> None:
    stream = iter_orders(100_000_000, batch_rows=1_000, seed=0)
    first = next(stream)
    assert first.num_rows == 1_000
    assert first.column("order_id").to_pylist() == list(range(1, 1_001))
    second = next(stream)
    assert second.column("order_id")[0].as_py() == 1_001
