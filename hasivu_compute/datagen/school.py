"""The school-meals star schema in one import: dimensions, facts and their Arrow schemas.

Deterministic: every table is a pure function of its arguments and ``seed`` (numpy
``Generator`` per fixed row block, stateless hashes for per-entity attributes).

Example:
    >>> from hasivu_compute.datagen.school import orders, iter_orders
    >>> t = orders(1_000, seed=7)
    >>> t.num_rows, t.column_names[:3]
    (1000, ['order_id', 'school_id', 'student_id'])
    >>> sum(b.num_rows for b in iter_orders(1_000, batch_rows=300, seed=7))
    1000
"""

from __future__ import annotations

from hasivu_compute.datagen.dimensions import (
    DEFAULT_N_SCHOOLS,
    KITCHENS_SCHEMA,
    MENU_ITEMS_SCHEMA,
    SCHOOLS_SCHEMA,
    STUDENTS_SCHEMA,
    kitchens,
    menu_items,
    school_arrays,
    schools,
    students,
)
from hasivu_compute.datagen.facts import (
    BLOCK_ROWS,
    CHANNELS,
    ORDER_STATUSES,
    ORDERS_SCHEMA,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    PAYMENTS_SCHEMA,
    OrdersSpec,
    iter_orders,
    iter_payments,
    orders,
    payments,
)

__all__ = [
    "BLOCK_ROWS",
    "CHANNELS",
    "DEFAULT_N_SCHOOLS",
    "KITCHENS_SCHEMA",
    "MENU_ITEMS_SCHEMA",
    "ORDERS_SCHEMA",
    "ORDER_STATUSES",
    "PAYMENTS_SCHEMA",
    "PAYMENT_METHODS",
    "PAYMENT_STATUSES",
    "SCHOOLS_SCHEMA",
    "STUDENTS_SCHEMA",
    "OrdersSpec",
    "iter_orders",
    "iter_payments",
    "kitchens",
    "menu_items",
    "orders",
    "payments",
    "school_arrays",
    "schools",
    "students",
]
