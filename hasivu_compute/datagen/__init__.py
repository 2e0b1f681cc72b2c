"""Deterministic generators of the school-meals star schema (and helpers for TPC-H data).

See :mod:`hasivu_compute.datagen.school` for the tables; the package re-exports them.
"""

from __future__ import annotations

from hasivu_compute.datagen.school import (
    ORDERS_SCHEMA,
    PAYMENTS_SCHEMA,
    iter_orders,
    iter_payments,
    kitchens,
    menu_items,
    orders,
    payments,
    schools,
    students,
)

__all__ = [
    "ORDERS_SCHEMA",
    "PAYMENTS_SCHEMA",
    "iter_orders",
    "iter_payments",
    "kitchens",
    "menu_items",
    "orders",
    "payments",
    "schools",
    "students",
]
