"""SQL CAST between Arrow types, with DuckDB's rounding and its errors.

DuckDB (the reference, checked on 2.0) rounds

* a DECIMAL to an integer or to fewer decimal digits half away from zero
  (``CAST(-0.5 AS BIGINT) = -1``: the literal ``-0.5`` is a DECIMAL);
* a float to an integer half to even (``nearbyint``: ``CAST(2.5::DOUBLE AS BIGINT) = 2``);
* a float to a DECIMAL by rounding ``x * 10^scale`` (in double precision) half away
  from zero (``CAST(2.5::DOUBLE AS DECIMAL(5,0)) = 3``, ``CAST(0.285 AS ...(10,2)) = 0.28``).

Arrow's casts do neither (a decimal is rounded within its own precision, so
``DECIMAL(1,1) -0.5`` cannot become ``-1``; fewer decimal digits are refused as data
loss; floats become decimals half to even), so the rounding happens here first and
Arrow only converts exact values. A value that does not fit its new type raises
:class:`InvalidDataError` naming the value, as DuckDB's conversion error does.

>>> import decimal
>>> import pyarrow as pa
>>> tiny = pa.array([decimal.Decimal("-0.5"), decimal.Decimal("0.5")], pa.decimal128(1, 1))
>>> cast_value(tiny, pa.int64()).to_pylist()
[-1, 1]
>>> cast_value(pa.array([2.5, -2.5]), pa.int64()).to_pylist()
[2, -2]
>>> cast_value(pa.array([2.5, 0.285]), pa.decimal128(10, 2)).to_pylist()
[Decimal('2.50'), Decimal('0.28')]
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from hasivu_compute._core.errors import InvalidDataError
from hasivu_compute.expr import types as T

__all__ = ["cast_round_mode", "cast_value", "decimal_rounding", "try_cast_value"]

Value: TypeAlias = pa.Array | pa.Scalar


def cast_value(value: Value, dtype: pa.DataType) -> Value:
    """SQL ``CAST(value AS dtype)`` (see the module docstring); timestamp→date truncates.

    Raises:
        InvalidDataError: a value does not fit ``dtype`` (or does not parse as it),
            naming the first such value.
    """
    if value.type.equals(dtype):
        return value
    try:
        return _cast(value, dtype)
    except pa.ArrowInvalid as error:
        raise _cast_error(value, dtype, error) from None


def cast_round_mode(source: pa.DataType) -> str:
    """DuckDB rounds floats to even (``nearbyint``) and decimals half away from zero."""
    return "half_to_even" if T.is_float(source) else "half_towards_infinity"


def decimal_rounding(source: pa.DataType, target: pa.DataType) -> tuple[pa.DataType, int] | None:
    """For a DECIMAL cast that rounds (to an integer or to a smaller scale): the type to
    widen to first (one more digit, so ``DECIMAL(1,1) -0.5`` can round to ``-1``) and
    the number of digits to round to; None when the cast does not round."""
    if not T.is_decimal(source):
        return None
    if T.is_integer(target):
        digits = 0
    elif T.is_decimal(target) and target.scale < source.scale:
        digits = target.scale
    else:
        return None
    widest = 38 if pat.is_decimal128(source) else 76
    make = pa.decimal128 if pat.is_decimal128(source) else pa.decimal256
    return make(min(source.precision + 1, widest), source.scale), digits


def _cast(value: Value, dtype: pa.DataType) -> Value:
    source = value.type
    rounding = decimal_rounding(source, dtype)
    if rounding is not None:
        wider, digits = rounding
        value = pc.round(pc.cast(value, wider), digits, round_mode="half_towards_infinity")
    elif T.is_float(source) and T.is_integer(dtype):
        value = pc.round(value, round_mode="half_to_even")
    elif T.is_float(source) and T.is_decimal(dtype):
        return _float_to_decimal(value, dtype)
    if pat.is_timestamp(source) and pat.is_date(dtype):
        if source.tz is not None:
            value = pc.local_timestamp(value)
        return pc.cast(pc.floor_temporal(value, unit="day"), dtype, safe=False)
    if T.is_integer(source) and T.is_float(dtype):
        # SQL rounds big integers to the nearest double (DuckDB: 2^62 + 1 -> 2^62);
        # Arrow's safe cast would refuse anything past 2^53.
        return pc.cast(value, dtype, safe=False)
    return pc.cast(value, dtype)


def _float_to_decimal(value: Value, dtype: pa.DataType) -> Value:
    """DuckDB's double → DECIMAL(p, s): ``round(x * 10^s)`` half away from zero (C
    ``round``), refused unless ``|result| < 10^p``; then the integer is the unscaled value."""
    scalar = isinstance(value, pa.Scalar)
    array = pa.array([value.as_py()], value.type) if scalar else value
    x = pc.fill_null(pc.cast(array, pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    valid = pc.is_valid(array).to_numpy(zero_copy_only=False)
    with np.errstate(all="ignore"):
        p = x * 10.0**dtype.scale
        whole = np.trunc(p)
        rounded = whole + np.where(np.abs(p - whole) >= 0.5, np.sign(p), 0.0)  # exact
        bad = valid & ~(np.abs(rounded) < 10.0**dtype.precision)  # also NaN and inf
    if bad.any():
        raise pa.ArrowInvalid(f"out of range for {dtype}")
    integral = pa.decimal128(38, 0) if pat.is_decimal128(dtype) else pa.decimal256(76, 0)
    unscaled = pc.cast(pa.array(rounded, pa.float64(), mask=~valid), integral)  # exact
    out = unscaled.view(dtype)  # same bytes: the unscaled integers at dtype's scale
    return out[0] if scalar else out


def _cast_error(value: Value, dtype: pa.DataType, error: pa.ArrowInvalid) -> InvalidDataError:
    """The error for a failing cast, naming the first value that fails."""
    shown = value.as_py() if isinstance(value, pa.Scalar) else _first_failing(value, dtype)
    if T.is_numeric(value.type) and T.is_numeric(dtype):
        reason = f"out of range for {dtype}"
        hint = "cast to a wider type or filter the value out"
    else:
        reason = str(error)
        hint = "fix that value or filter it out"
    return InvalidDataError(f"cannot cast {shown} ({value.type}) to {dtype}: {reason}; {hint}")


def _first_failing(array: pa.Array, dtype: pa.DataType) -> object:
    """The first value of ``array`` whose cast fails (bisection: O(n) casts in all)."""
    lo, hi = 0, len(array)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            _cast(array.slice(lo, mid - lo), dtype)
        except pa.ArrowInvalid:
            hi = mid
        else:
            lo = mid
    return array[lo].as_py() if len(array) else None


def try_cast_value(value: Value, dtype: pa.DataType) -> Value:
    """SQL ``TRY_CAST``: :func:`cast_value`, with NULL for each value that does not fit.

    The whole column is cast at once; only when that fails are the failing values
    found by bisection (so a clean column costs one cast, k bad values about
    ``k log n`` small casts).
    """
    if value.type.equals(dtype):
        return value
    try:
        return _cast(value, dtype)
    except pa.ArrowInvalid:
        if isinstance(value, pa.Scalar):
            return pa.scalar(None, dtype)
    pieces: list[pa.Array] = []
    _cast_pieces(value, dtype, pieces)
    return pa.concat_arrays(pieces) if pieces else pa.array([], dtype)


def _cast_pieces(array: pa.Array, dtype: pa.DataType, out: list[pa.Array]) -> None:
    try:
        out.append(_cast(array, dtype))
        return
    except pa.ArrowInvalid:
        if len(array) == 1:
            out.append(pa.nulls(1, dtype))
            return
    half = len(array) // 2
    _cast_pieces(array.slice(0, half), dtype, out)
    _cast_pieces(array.slice(half), dtype, out)
