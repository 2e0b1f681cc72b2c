"""Fact tables of the school-meals star schema: orders and payments.

Rows are generated in fixed blocks of ``BLOCK_ROWS``; block ``b`` is a pure function of
(seed, b, the other arguments), drawn from its own numpy generator. ``orders()`` concatenates the
blocks and ``iter_orders()`` streams them re-cut to any batch size, so both give identical rows
and memory stays bounded by one batch. The meal date follows the row index (row ``i`` of ``n``
falls on the school day where the cumulative calendar weight crosses ``(i + 0.5) / n``), so the
table reads like an append log: roughly ordered in time, as an ingest feed would deliver it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from hasivu_compute._core.errors import ConfigError
from hasivu_compute.datagen import _catalog as cat
from hasivu_compute.datagen._calendar import day_weights
from hasivu_compute.datagen._rand import (
    block_rng,
    check_seed,
    cumulative,
    draw,
    labels,
    lookup_table,
    pick,
    unit_hash,
)
from hasivu_compute.datagen.dimensions import (
    CATEGORIES,
    DEFAULT_N_SCHOOLS,
    SchoolArrays,
    is_free_meal_eligible,
    menu_arrays,
    school_arrays,
)

BLOCK_ROWS = 1 << 16
DEFAULT_START = date(2025, 1, 1)
DEFAULT_MONTHS = 12
STREAM_ORDERS, STREAM_PAYMENTS = 2, 3
_SALT_PARTICIPATION = 21
_IST_OFFSET_S = 5 * 3600 + 30 * 60  # meal times are local (IST); ordered_at is stored in UTC

ORDER_STATUSES = ("paid", "pending", "refunded", "cancelled")
_STATUS_LUT = lookup_table(cumulative([0.85, 0.06, 0.04, 0.05]))
CHANNELS = ("app", "kiosk", "web", "counter")
_CHANNEL_LUT = lookup_table(cumulative([0.55, 0.20, 0.15, 0.10]))
_QTY_LUT = lookup_table(cumulative([0.80, 0.12, 0.05, 0.02, 0.01]))  # quantity 1..5
SLOTS = tuple(s[0] for s in cat.SLOT_CATEGORIES)  # breakfast, lunch, snack
_SLOT_LUT = lookup_table(cumulative([0.20, 0.65, 0.15]))
_SLOT_MINUTE = np.array([7 * 60 + 45, 12 * 60 + 30, 15 * 60 + 30])  # local meal times
_LUNCH = SLOTS.index("lunch")
_NOTE_RATE = 0.035
_LUT_SIZE = 1 << 16  # lookup_table's default size

PAYMENT_METHODS = ("upi", "card", "wallet", "netbanking", "cash", "subsidy")
PAYMENT_STATUSES = ("captured", "refunded", "failed")
_ONLINE_METHOD_LUT = lookup_table(cumulative([0.55, 0.15, 0.20, 0.10]))

ORDERS_SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("school_id", pa.int32(), nullable=False),
        pa.field("student_id", pa.int64(), nullable=False),
        pa.field("item_id", pa.int32(), nullable=False),
        pa.field("kitchen_id", pa.int32(), nullable=False),
        pa.field("ordered_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("meal_date", pa.date32(), nullable=False),
        pa.field("quantity", pa.int16(), nullable=False),
        pa.field("unit_price", pa.float64(), nullable=False),
        pa.field("amount", pa.float64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("is_free_meal", pa.bool_(), nullable=False),
        pa.field("notes", pa.string(), nullable=True),
    ]
)
PAYMENTS_SCHEMA = pa.schema(
    [
        pa.field("payment_id", pa.int64(), nullable=False),
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("school_id", pa.int32(), nullable=False),
        pa.field("paid_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("method", pa.string(), nullable=False),
        pa.field("amount", pa.float64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True, slots=True)
class OrdersSpec:
    """Everything that determines the orders (and payments) rows; validated once."""

    n_rows: int
    seed: int = 0
    n_schools: int = DEFAULT_N_SCHOOLS
    start: date = DEFAULT_START
    months: int = DEFAULT_MONTHS

    def __post_init__(self) -> None:
        if isinstance(self.n_rows, bool) or not isinstance(self.n_rows, int | np.integer):
            raise ConfigError(f"n_rows must be an integer, got {self.n_rows!r}")
        if self.n_rows < 0:
            raise ConfigError(f"n_rows must be >= 0, got {self.n_rows!r}")
        check_seed(self.seed)
        if not isinstance(self.start, date):
            raise ConfigError(f"start must be a datetime.date, got {self.start!r}")

    @property
    def n_blocks(self) -> int:
        """Row blocks the table is generated in."""
        return -(-self.n_rows // BLOCK_ROWS)


@dataclass(frozen=True, slots=True)
class _Context:
    """Per-(seed, n_schools, start, months) lookup arrays, built once and shared by all blocks."""

    schools: SchoolArrays
    school_lut: np.ndarray  # lookup_table over schools, weighted by enrolment x participation
    days: np.ndarray
    day_cum: np.ndarray
    slot_item_lut: np.ndarray  # one lookup table of item indices per meal slot, concatenated
    price: np.ndarray
    n_kitchens: int


@functools.lru_cache(maxsize=16)
def _context(seed: int, n_schools: int, start: date, months: int) -> _Context:
    s = school_arrays(n_schools, seed)
    participation = 0.3 + 0.7 * unit_hash(np.arange(1, n_schools + 1), seed, _SALT_PARTICIPATION)
    days, weights = day_weights(start, months)
    menu = menu_arrays(seed)
    luts = []
    for _slot, shares in cat.SLOT_CATEGORIES:
        pool_w = np.zeros(len(menu.price))
        for category, share in shares:
            in_cat = menu.category == CATEGORIES.index(category)
            pool_w[in_cat] = share * menu.popularity[in_cat] / menu.popularity[in_cat].sum()
        luts.append(lookup_table(cumulative(pool_w)))
    return _Context(
        schools=s,
        school_lut=lookup_table(cumulative(s.enrolment * participation), bits=20),
        days=days,
        day_cum=cumulative(weights),
        slot_item_lut=np.concatenate(luts),
        price=menu.price,
        n_kitchens=int(s.kitchen_id.max()),
    )


@dataclass(frozen=True, slots=True)
class _Block:
    """One generated block of orders as numpy columns (codes for string columns)."""

    order_id: np.ndarray
    school_index: np.ndarray
    student_id: np.ndarray
    item_index: np.ndarray
    kitchen_id: np.ndarray
    ordered_at_us: np.ndarray
    meal_day: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    amount: np.ndarray
    status: np.ndarray
    channel: np.ndarray
    is_free_meal: np.ndarray
    note: np.ndarray


def _order_times(slot: np.ndarray, meal_day: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Order timestamps (UTC microseconds): a third pre-ordered the evening before, the rest
    shortly before the meal."""
    evening_before = -6 * 60 + u[0] * 240  # 18:00-22:00 local on the previous day
    lead = np.minimum(5 - np.log1p(-u[1]) * 55, 240)
    minute = np.where(u[2] < 0.35, evening_before, _SLOT_MINUTE[slot] - lead)
    seconds = meal_day.astype(np.int64) * 86_400 - _IST_OFFSET_S
    return np.asarray(seconds * 1_000_000 + np.floor(minute * 60_000_000).astype(np.int64))


def _order_block(ctx: _Context, spec: OrdersSpec, b: int) -> _Block:
    r0 = b * BLOCK_ROWS
    m = min(BLOCK_ROWS, spec.n_rows - r0)
    idx = np.arange(r0, r0 + m, dtype=np.int64)
    u = block_rng(spec.seed, STREAM_ORDERS, b).random((12, m))
    s = ctx.schools
    meal_day = ctx.days[pick(ctx.day_cum, (idx + 0.5) / spec.n_rows)]
    school = draw(ctx.school_lut, u[0])
    enrol = s.enrolment[school]
    # u**2 favours low offsets: a few regulars per school order far more than the rest
    student = s.first_student[school] + np.minimum(
        (enrol * u[1] * u[1]).astype(np.int64), enrol - 1
    )
    slot = draw(_SLOT_LUT, u[2])
    item = ctx.slot_item_lut[((slot + u[3]) * _LUT_SIZE).astype(np.int64)].astype(np.int64)
    quantity = (draw(_QTY_LUT, u[4]) + 1).astype(np.int16)
    unit_price = ctx.price[item]
    kitchen = s.kitchen_id[school]
    kitchen = np.where(u[8] < 0.02, kitchen % ctx.n_kitchens + 1, kitchen).astype(np.int32)
    note = np.where(u[7] < _NOTE_RATE, (u[7] / _NOTE_RATE * len(cat.NOTES)).astype(np.int64), -1)
    free = (slot == _LUNCH) & is_free_meal_eligible(student, school, s, spec.seed)
    return _Block(
        order_id=idx + 1,
        school_index=school,
        student_id=student,
        item_index=item,
        kitchen_id=kitchen,
        ordered_at_us=_order_times(slot, meal_day, u[9:12]),
        meal_day=meal_day,
        quantity=quantity,
        unit_price=unit_price,
        amount=np.round(quantity * unit_price, 2),
        status=draw(_STATUS_LUT, u[5]),
        channel=draw(_CHANNEL_LUT, u[6]),
        is_free_meal=free,
        note=np.minimum(note, len(cat.NOTES) - 1),
    )


def _orders_batch(k: _Block) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array(k.order_id),
            pa.array((k.school_index + 1).astype(np.int32)),
            pa.array(k.student_id),
            pa.array((k.item_index + 1).astype(np.int32)),
            pa.array(k.kitchen_id),
            pa.array(k.ordered_at_us, type=pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array(k.meal_day, type=pa.int32()).cast(pa.date32()),
            pa.array(k.quantity),
            pa.array(k.unit_price),
            pa.array(k.amount),
            labels(ORDER_STATUSES, k.status),
            labels(CHANNELS, k.channel),
            pa.array(k.is_free_meal),
            labels(cat.NOTES, k.note, null_below_zero=True),
        ],
        schema=ORDERS_SCHEMA,
    )


def _blocks(spec: OrdersSpec) -> Iterator[tuple[int, _Block]]:
    ctx = _context(spec.seed, spec.n_schools, spec.start, spec.months)
    for b in range(spec.n_blocks):
        yield b, _order_block(ctx, spec, b)


def _rebatch(batches: Iterator[pa.RecordBatch], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream of record batches into batches of exactly ``batch_rows`` (last may be short)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for rb in batches:
        pending.append(rb)
        held += rb.num_rows
        while held >= batch_rows:
            merged = pa.concat_batches(pending) if len(pending) > 1 else pending[0]
            yield merged.slice(0, batch_rows)
            rest = merged.slice(batch_rows)
            pending, held = ([rest] if rest.num_rows else []), rest.num_rows
    if held:
        yield pa.concat_batches(pending) if len(pending) > 1 else pending[0]


def _check_batch_rows(batch_rows: int) -> int:
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows <= 0:
        raise ConfigError(f"batch_rows must be a positive integer, got {batch_rows!r}")
    return batch_rows


def iter_orders(
    n_rows: int,
    batch_rows: int = 1_000_000,
    seed: int = 0,
    *,
    n_schools: int = DEFAULT_N_SCHOOLS,
    start: date = DEFAULT_START,
    months: int = DEFAULT_MONTHS,
) -> Iterator[pa.RecordBatch]:
    """Stream the orders fact in record batches of ``batch_rows`` rows (the last may be shorter).

    Memory stays bounded by about one batch whatever ``n_rows`` is (100M rows stream fine), and
    the rows are identical to ``orders()`` with the same arguments for any ``batch_rows``.
    """
    spec = OrdersSpec(n_rows, seed, n_schools, start, months)
    _check_batch_rows(batch_rows)
    return _rebatch((_orders_batch(k) for _, k in _blocks(spec)), batch_rows)


def orders(
    n_rows: int,
    seed: int = 0,
    n_schools: int = DEFAULT_N_SCHOOLS,
    start: date = DEFAULT_START,
    months: int = DEFAULT_MONTHS,
) -> pa.Table:
    """The orders fact table (one row per order line); see ``ORDERS_SCHEMA`` for the columns.

    Statuses are ~85% paid, 6% pending, 4% refunded, 5% cancelled; ``amount`` is
    ``round(quantity * unit_price, 2)`` (free meals keep their price: the state pays it);
    ``notes`` is null for ~96.5% of rows.
    """
    spec = OrdersSpec(n_rows, seed, n_schools, start, months)
    return pa.Table.from_batches([_orders_batch(k) for _, k in _blocks(spec)], ORDERS_SCHEMA)


def _payments_batch(k: _Block, seed: int, b: int) -> pa.RecordBatch:
    """Payments of one order block: a capture per paid/refunded order, a refund row per refunded
    order, a failed attempt for ~40% of pending orders; ``payment_id = order_id * 4 + kind``."""
    u = block_rng(seed, STREAM_PAYMENTS, b).random((4, len(k.order_id)))
    paid, pending, refunded = (
        k.status == ORDER_STATUSES.index(x) for x in ("paid", "pending", "refunded")
    )
    counter = k.channel == CHANNELS.index("counter")
    method = np.where(counter & (u[0] < 0.6), 4, draw(_ONLINE_METHOD_LUT, u[1]))
    method = np.where(k.is_free_meal, 5, method)
    delay_us = np.floor((5 + u[2] * 115) * 1_000_000).astype(np.int64)
    refund_delay_us = np.floor((1 + u[3] * 4) * 86_400 * 1_000_000).astype(np.int64)
    groups = (
        (np.flatnonzero(paid | refunded), 0, delay_us, 1.0),
        (np.flatnonzero(refunded), 1, refund_delay_us, -1.0),
        (np.flatnonzero(pending & (u[3] < 0.4)), 2, delay_us, 1.0),
    )
    rows = np.concatenate([g[0] for g in groups])
    kind = np.concatenate([np.full(len(g[0]), g[1]) for g in groups])
    delay = np.concatenate([g[2][g[0]] for g in groups])
    sign = np.concatenate([np.full(len(g[0]), g[3]) for g in groups])
    payment_id = k.order_id[rows] * 4 + kind
    order = np.argsort(payment_id, kind="stable")
    rows, kind, delay, sign, payment_id = (
        rows[order],
        kind[order],
        delay[order],
        sign[order],
        payment_id[order],
    )
    return pa.RecordBatch.from_arrays(
        [
            pa.array(payment_id),
            pa.array(k.order_id[rows]),
            pa.array((k.school_index[rows] + 1).astype(np.int32)),
            pa.array(k.ordered_at_us[rows] + delay, type=pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            labels(PAYMENT_METHODS, method[rows]),
            pa.array(k.amount[rows] * sign),
            labels(PAYMENT_STATUSES, kind),
        ],
        schema=PAYMENTS_SCHEMA,
    )


def iter_payments(
    n_orders: int,
    batch_rows: int = 1_000_000,
    seed: int = 0,
    *,
    n_schools: int = DEFAULT_N_SCHOOLS,
    start: date = DEFAULT_START,
    months: int = DEFAULT_MONTHS,
) -> Iterator[pa.RecordBatch]:
    """Stream the payments of ``orders(n_orders, ...)`` in batches of ``batch_rows`` payments."""
    spec = OrdersSpec(n_orders, seed, n_schools, start, months)
    _check_batch_rows(batch_rows)
    stream = (_payments_batch(k, spec.seed, b) for b, k in _blocks(spec))
    return _rebatch(stream, batch_rows)


def payments(
    n_orders: int,
    seed: int = 0,
    n_schools: int = DEFAULT_N_SCHOOLS,
    start: date = DEFAULT_START,
    months: int = DEFAULT_MONTHS,
) -> pa.Table:
    """The payments fact for ``orders(n_orders, ...)``: every order id referenced exists there,
    captures equal the order amount, refunds are negative; cancelled orders have no payment."""
    spec = OrdersSpec(n_orders, seed, n_schools, start, months)
    batches = [_payments_batch(k, spec.seed, b) for b, k in _blocks(spec)]
    return pa.Table.from_batches(batches, PAYMENTS_SCHEMA)
