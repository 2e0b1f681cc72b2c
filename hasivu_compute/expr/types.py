"""Type classification and SQL-style implicit type promotion for the binder.

Numeric promotion is delegated to Arrow itself (by asking a kernel for the type it
would produce on empty inputs), so the types the binder predicts are exactly the
types evaluation returns. Answers are cached: types are few, bindings many.
"""

from __future__ import annotations

import functools

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from hasivu_compute._core.errors import BindError

_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def is_integer(t: pa.DataType) -> bool:
    """Signed or unsigned integer."""
    return bool(pat.is_integer(t))


def is_float(t: pa.DataType) -> bool:
    """float16/32/64."""
    return bool(pat.is_floating(t))


def is_decimal(t: pa.DataType) -> bool:
    """Any decimal width."""
    return bool(pat.is_decimal(t))


def is_numeric(t: pa.DataType) -> bool:
    """Integer, float or decimal."""
    return is_integer(t) or is_float(t) or is_decimal(t)


def is_string(t: pa.DataType) -> bool:
    """utf8 in any layout (string, large_string, string_view)."""
    return bool(pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t))


def is_binary(t: pa.DataType) -> bool:
    """binary in any layout."""
    return bool(
        pat.is_binary(t)
        or pat.is_large_binary(t)
        or pat.is_binary_view(t)
        or pat.is_fixed_size_binary(t)
    )


def is_temporal_point(t: pa.DataType) -> bool:
    """A date or a timestamp (what year()/date_trunc() accept)."""
    return bool(pat.is_date(t) or pat.is_timestamp(t))


def is_null_type(t: pa.DataType) -> bool:
    """The type of an untyped NULL literal."""
    return bool(pat.is_null(t))


@functools.lru_cache(maxsize=4096)
def probe_type(function: str, *types: pa.DataType) -> pa.DataType:
    """The result type of Arrow kernel ``function`` on arguments of ``types``.

    Raises:
        BindError: when Arrow has no kernel for these argument types.
    """
    args = [pa.array([], type=t) for t in types]
    try:
        result = pc.call_function(function, args)
    except _ARROW_ERRORS as e:
        names = ", ".join(str(t) for t in types)
        raise BindError(f"no {function} for ({names}): {e}") from None
    return result.type


_UNIT_RANK = {"s": 0, "ms": 1, "us": 2, "ns": 3}


def _timestamp_supertype(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if pat.is_date(a):
        return b if pat.is_timestamp(b) else pa.date32()
    if pat.is_date(b):
        return a
    unit = a.unit if _UNIT_RANK[a.unit] >= _UNIT_RANK[b.unit] else b.unit
    return pa.timestamp(unit, tz=a.tz or b.tz)


def supertype(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The common type two values are compared / combined in (SQL implicit casts).

    >>> supertype(pa.int32(), pa.float64())
    DataType(double)
    >>> supertype(pa.date32(), pa.timestamp("us", tz="UTC"))
    TimestampType(timestamp[us, tz=UTC])

    Raises:
        BindError: when the two types have no common type.
    """
    if a.equals(b):
        return a
    if is_null_type(a):
        return b
    if is_null_type(b):
        return a
    if is_numeric(a) and is_numeric(b):
        return probe_type("if_else", pa.bool_(), a, b)
    if is_string(a) and is_string(b):
        return pa.large_string() if pa.large_string() in (a, b) else pa.string()
    if is_binary(a) and is_binary(b):
        return pa.large_binary() if pa.large_binary() in (a, b) else pa.binary()
    if is_temporal_point(a) and is_temporal_point(b):
        return _timestamp_supertype(a, b)
    if pat.is_duration(a) and pat.is_duration(b):
        return a if _UNIT_RANK[a.unit] >= _UNIT_RANK[b.unit] else b
    raise BindError(f"incompatible types {a} and {b}")


@functools.lru_cache(maxsize=4096)
def can_cast(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether Arrow can cast ``source`` to ``target`` at all (values may still fail)."""
    try:
        pa.array([], type=source).cast(target)
    except _ARROW_ERRORS:
        return False
    return True
