"""SQL literals and types: sqlglot nodes to Python values and Arrow types.

Kept apart from the expression lowering because constant folding of
``DATE '...' ± INTERVAL ...`` (TPC-H writes its date ranges that way) needs
calendar arithmetic with DuckDB's rules: adding months clamps to the month end.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import re

import pyarrow as pa
from sqlglot import exp

__all__ = [
    "add_interval",
    "arrow_type",
    "fixed_interval",
    "interval_parts",
    "number_value",
    "temporal_value",
]

_INTEGER = re.compile(r"^\d+$")

# sqlglot type names (exp.DataType.Type member names) -> Arrow types.
_SIMPLE_TYPES: dict[str, pa.DataType] = {
    "TINYINT": pa.int8(),
    "SMALLINT": pa.int16(),
    "INT": pa.int32(),
    "BIGINT": pa.int64(),
    "UTINYINT": pa.uint8(),
    "USMALLINT": pa.uint16(),
    "UINT": pa.uint32(),
    "UBIGINT": pa.uint64(),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "TEXT": pa.string(),
    "CHAR": pa.string(),
    "NVARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "TIMESTAMPNTZ": pa.timestamp("us"),
    "DATETIME": pa.timestamp("us"),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "TIMESTAMPLTZ": pa.timestamp("us", tz="UTC"),
    "TIMESTAMP_S": pa.timestamp("s"),
    "TIMESTAMP_MS": pa.timestamp("ms"),
    "TIMESTAMP_NS": pa.timestamp("ns"),
    "BLOB": pa.binary(),
    "VARBINARY": pa.binary(),
    "BINARY": pa.binary(),
}

_INTERVAL_UNITS = {
    "YEAR": "year",
    "YEARS": "year",
    "MONTH": "month",
    "MONTHS": "month",
    "WEEK": "week",
    "WEEKS": "week",
    "DAY": "day",
    "DAYS": "day",
    "HOUR": "hour",
    "HOURS": "hour",
    "MINUTE": "minute",
    "MINUTES": "minute",
    "SECOND": "second",
    "SECONDS": "second",
}


def arrow_type(node: exp.DataType) -> pa.DataType | None:
    """The Arrow type of a SQL type, or None when we have no equivalent."""
    name = node.this.name if hasattr(node.this, "name") else str(node.this)
    if name == "DECIMAL":
        params = [p.this for p in node.expressions if isinstance(p, exp.DataTypeParam)]
        values = [int(p.name) for p in params if isinstance(p, exp.Literal)]
        precision, scale = (values + [18, 3][len(values) :])[:2] if values else (18, 3)
        return pa.decimal128(precision, scale)
    if node.expressions and name not in ("VARCHAR", "CHAR", "NVARCHAR", "TEXT"):
        return None
    return _SIMPLE_TYPES.get(name)


def number_value(text: str) -> int | float | decimal.Decimal:
    """A numeric literal the way DuckDB types it: INTEGER, DOUBLE (with exponent) or DECIMAL."""
    if _INTEGER.match(text):
        return int(text)
    if "e" in text.lower():
        return float(text)
    return decimal.Decimal(text)


def temporal_value(text: str, dtype: pa.DataType) -> dt.date | dt.datetime | None:
    """Parse a DATE / TIMESTAMP literal string, None when it does not parse."""
    try:
        if pa.types.is_date(dtype):
            return dt.date.fromisoformat(text.strip())
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if getattr(dtype, "tz", None) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def interval_parts(node: exp.Interval) -> tuple[int, str] | None:
    """``INTERVAL '90' DAY`` / ``INTERVAL 3 MONTH`` / ``INTERVAL '1 year'`` -> (90, "day")."""
    value = node.this
    unit = node.args.get("unit")
    if not isinstance(value, exp.Literal):
        return None
    text = value.name.strip()
    unit_text = unit.name if unit is not None else ""
    if not unit_text and " " in text:
        text, unit_text = text.split(None, 1)
    try:
        amount = int(text)
    except ValueError:
        return None
    canonical = _INTERVAL_UNITS.get(unit_text.strip().upper())
    return None if canonical is None else (amount, canonical)


def add_interval(value: dt.date | dt.datetime, amount: int, unit: str) -> dt.date | dt.datetime:
    """``value + INTERVAL amount unit`` with DuckDB's month-end clamping."""
    if unit in ("year", "month"):
        months = amount * 12 if unit == "year" else amount
        total = value.year * 12 + (value.month - 1) + months
        year, month = divmod(total, 12)
        day = min(value.day, calendar.monthrange(year, month + 1)[1])
        return value.replace(year=year, month=month + 1, day=day)
    delta = fixed_interval(amount, unit)
    if not isinstance(value, dt.datetime) and unit in ("hour", "minute", "second"):
        value = dt.datetime.combine(value, dt.time())
    return value + delta


def fixed_interval(amount: int, unit: str) -> dt.timedelta:
    """A fixed-length interval (week and below) as a timedelta."""
    return {
        "week": dt.timedelta(weeks=amount),
        "day": dt.timedelta(days=amount),
        "hour": dt.timedelta(hours=amount),
        "minute": dt.timedelta(minutes=amount),
        "second": dt.timedelta(seconds=amount),
    }[unit]
