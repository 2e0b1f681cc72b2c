"""The school calendar: how many meals each calendar day sees, relative to a normal weekday.

Orders cluster on school days: full weight Monday to Friday, a half day on Saturday, nothing on
Sunday or national holidays, almost nothing in the summer vacation and the autumn break.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from hasivu_compute._core.errors import ConfigError

_WEEKDAY_WEIGHT = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.0])  # Monday .. Sunday
_NATIONAL_HOLIDAYS = ((1, 26), (8, 15), (10, 2))  # (month, day)
# (first month, first day, last month, last day, weight) within one calendar year.
_BREAKS = (
    (4, 12, 5, 31, 0.03),  # summer vacation (summer camps only)
    (10, 10, 10, 24, 0.0),  # Dasara / Diwali break
    (12, 24, 12, 31, 0.1),  # winter break
)


def add_months(start: date, months: int) -> date:
    """``start`` moved forward by whole months (day clamped to 28 so every month has it)."""
    total = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(total, 12)
    day = min(start.day, 28)
    return date(year, month0 + 1, day)


def day_weights(start: date, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Calendar days of ``[start, start + months)`` as days since 1970-01-01, with their weights.

    Raises:
        ConfigError: ``months`` is not positive.
    """
    if months <= 0:
        raise ConfigError(f"months must be positive, got {months!r}")
    end = add_months(start, months)
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    weights = _WEEKDAY_WEIGHT[weekday].copy()
    months_of = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    month_start = days.astype("datetime64[M]").astype("datetime64[D]")
    mday = (days - month_start).astype(np.int64) + 1
    key = months_of * 100 + mday
    for first_m, first_d, last_m, last_d, w in _BREAKS:
        inside = (key >= first_m * 100 + first_d) & (key <= last_m * 100 + last_d)
        weights[inside] = np.minimum(weights[inside], w)
    for m, d in _NATIONAL_HOLIDAYS:
        weights[key == m * 100 + d] = 0.0
    if weights.sum() <= 0:  # a window made only of holidays: spread orders evenly instead
        weights[:] = 1.0
    return days.astype(np.int64).astype(np.int32), weights
