"""Calendar kernels with DuckDB's semantics: ``strftime``, ``date_diff`` and adding
months or years (``d + INTERVAL 1 MONTH``).

* Adding months clamps the day to the end of the target month
  (``2024-01-31 + 1 month = 2024-02-29``) and keeps the time of day; like DuckDB,
  a DATE plus an interval is a TIMESTAMP.
* ``date_diff(unit, start, end)`` counts unit boundaries crossed: ``year``,
  ``quarter`` and ``month`` from the calendar fields, ``day`` and finer units from
  both values floored to the unit (``23:59 -> 00:01`` is one day); ``week`` is
  whole weeks of days between the two dates, truncated toward zero.
* ``strftime`` accepts the format codes whose output DuckDB and Arrow agree on,
  plus DuckDB's unpadded ``%-d`` style codes, ``%f`` / ``%g`` / ``%n`` (fractions)
  and ``%c`` / ``%x`` (DuckDB's ISO forms);
  :data:`hasivu_compute.expr.date_rules.STRFTIME_CODES` lists them (the binder checks
  formats and ``date_diff`` units there).

>>> import datetime as dt
>>> import pyarrow as pa
>>> from hasivu_compute.expr.nodes import Call, make_options
>>> plus = Call("add_months", (), make_options(months=1), pa.timestamp("us"))
>>> days = pa.array([dt.date(2024, 1, 31), dt.date(2023, 1, 31), None])
>>> [str(v) for v in KERNELS["add_months"](plus, [days], 3).to_pylist()]
['2024-02-29 00:00:00', '2023-02-28 00:00:00', 'None']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from hasivu_compute.exec.kernels.text import on_arrays
from hasivu_compute.expr.date_rules import ARROW_CODES, FRACTIONS, REWRITES, strftime_tokens
from hasivu_compute.expr.nodes import Call

__all__ = ["KERNELS"]

Value: TypeAlias = pa.Array | pa.Scalar
Kernel: TypeAlias = Callable[[Call, list[Value], int], Value]

_FLOOR_UNITS = {"day", "hour", "minute", "second", "millisecond", "microsecond"}
_MICROS = {
    "day": 86_400_000_000,
    "hour": 3_600_000_000,
    "minute": 60_000_000,
    "second": 1_000_000,
    "millisecond": 1_000,
    "microsecond": 1,
}


# --- adding months -----------------------------------------------------------------------


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468  # type: ignore[no-any-return]


def _numpy(values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(values, pa.int64()), 1).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _shifted_days(value: pa.Array, months: int) -> pa.Array:
    """The date ``months`` after each date of ``value``, as int64 days since the epoch."""
    y, m, d = (_numpy(f(value)) for f in (pc.year, pc.month, pc.day))
    total = y * 12 + (m - 1) + months
    year, month = total // 12, total % 12 + 1
    first = _days_from_civil(year, month, np.ones_like(month))
    after = np.where(month == 12, 1, month + 1)
    length = _days_from_civil(year + (month == 12), after, np.ones_like(month)) - first
    days = first + np.minimum(d, length) - 1
    return pa.array(days, pa.int64(), mask=pc.is_null(value).to_numpy(zero_copy_only=False))


_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


@on_arrays
def _add_months(expr: Call, args: list[Value], n: int) -> Value:
    value = args[0]
    months = expr.option("months")
    assert isinstance(months, int) and expr.dtype is not None
    if pat.is_date(value.type):
        days = _shifted_days(value, months)
        return pc.cast(pc.cast(pc.cast(days, pa.int32()), pa.date32()), expr.dtype)
    zone = value.type.tz
    if zone is not None:  # calendar arithmetic on the wall clock of the zone
        value = pc.local_timestamp(value)
    per_day = _PER_DAY[value.type.unit]
    ticks = pc.cast(value, pa.int64())
    time_of_day = pc.subtract(ticks, pc.cast(pc.floor_temporal(value, unit="day"), pa.int64()))
    days = _shifted_days(value, months)
    shifted = pc.cast(pc.add(pc.multiply(days, per_day), time_of_day), value.type)
    if zone is not None:
        shifted = pc.assume_timezone(shifted, timezone=zone)
    return pc.cast(shifted, expr.dtype)


# --- date_diff ---------------------------------------------------------------------------


def _as_micros(value: pa.Array) -> pa.Array:
    """A date or timestamp as a naive microsecond timestamp (local to its zone)."""
    if pat.is_date(value.type):
        return pc.cast(pc.cast(value, pa.date32()), pa.timestamp("us"))
    if value.type.tz is not None:
        value = pc.local_timestamp(value)
    if value.type.unit == "ns":
        value = pc.floor_temporal(value, unit="microsecond")
    return pc.cast(value, pa.timestamp("us"))


def _field_count(unit: str, value: pa.Array) -> pa.Array:
    year = pc.cast(pc.year(value), pa.int64())
    if unit == "year":
        return year
    if unit == "quarter":
        return pc.add(pc.multiply(year, 4), pc.cast(pc.quarter(value), pa.int64()))
    return pc.add(pc.multiply(year, 12), pc.cast(pc.month(value), pa.int64()))


def _floored_micros(unit: str, value: pa.Array) -> pa.Array:
    if unit != "microsecond":
        value = pc.floor_temporal(value, unit=unit)
    return pc.cast(value, pa.int64())


def _day_diff(start: pa.Array, end: pa.Array) -> pa.Array:
    ticks = pc.subtract(_floored_micros("day", end), _floored_micros("day", start))
    return pc.divide(ticks, _MICROS["day"])


@on_arrays
def _date_diff(expr: Call, args: list[Value], n: int) -> Value:
    unit = str(expr.option("unit"))
    start, end = _as_micros(args[0]), _as_micros(args[1])
    if unit in ("year", "quarter", "month"):
        return pc.subtract(_field_count(unit, end), _field_count(unit, start))
    if unit == "week":  # integer division truncates toward zero, as DuckDB
        return pc.divide(_day_diff(start, end), 7)
    ticks = pc.subtract(_floored_micros(unit, end), _floored_micros(unit, start))
    return pc.divide(ticks, _MICROS[unit])  # exact: both are multiples of the unit


# --- strftime ----------------------------------------------------------------------------


def _fraction(value: pa.Array, digits: int) -> pa.Array:
    micros = pc.subtract(pc.cast(value, pa.int64()), _floored_micros("second", value))
    scaled = {3: pc.divide(micros, 1000), 6: micros, 9: pc.multiply(micros, 1000)}[digits]
    return pc.utf8_lpad(pc.cast(scaled, pa.string()), width=digits, padding="0")


def _unpadded(seconds: pa.Array, code: str) -> pa.Array:
    padded = pc.strftime(seconds, format=f"%{code}")
    stripped = pc.utf8_ltrim(padded, characters="0")
    return pc.if_else(pc.equal(stripped, ""), "0", stripped)


@on_arrays
def _strftime(expr: Call, args: list[Value], n: int) -> Value:
    fmt = str(expr.option("format"))
    value = args[0]
    if pat.is_timestamp(value.type) and value.type.tz is not None:
        value = pc.local_timestamp(value)
    micros = _as_micros(value)
    seconds = pc.cast(pc.floor_temporal(micros, unit="second"), pa.timestamp("s"))
    pieces: list[pa.Array] = []
    plain = ""
    for kind, text in strftime_tokens(fmt):
        if kind == "text":
            plain += text.replace("%", "%%")
        elif text in ARROW_CODES or text in REWRITES:
            plain += REWRITES.get(text, f"%{text}")
        else:
            if plain:
                pieces.append(pc.strftime(seconds, format=plain))
                plain = ""
            if text in FRACTIONS:
                pieces.append(_fraction(micros, FRACTIONS[text]))
            else:
                pieces.append(_unpadded(seconds, text[1:]))
    if plain or not pieces:
        pieces.append(pc.strftime(seconds, format=plain))
    if len(pieces) == 1:
        return pieces[0]
    return pc.binary_join_element_wise(*pieces, "")


KERNELS: dict[str, Kernel] = {
    "add_months": _add_months,
    "date_diff": _date_diff,
    "strftime": _strftime,
}
