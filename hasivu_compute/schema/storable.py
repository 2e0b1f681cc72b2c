"""Which column types a table can hold: exactly what segments write and read back.

A table created with a type the storage layer cannot write accepted the schema
and then failed on every ingest (``duration`` inside an actor, from the zone
map's ``min_max``; ``dictionary<int32, string>`` never loadable). Call
:func:`check_storable` where a schema enters a table (``create_table``, added
or widened columns) so such a type is refused at once, with the column and a
supported type to use instead.

The list mirrors ``storage.physical`` (``schema`` sits below ``storage`` in the
layers and cannot import it); ``tests/unit/schema/test_storable.py`` round-trips
every accepted type through a real table and checks every refused one still
fails, so the two cannot drift apart silently.

Refused on purpose:

* ``duration``: stored as int64, but zone maps, statistics and pruning have no
  duration support (Arrow has no ``min_max`` kernel for it); an int64 count of
  the unit says the same and works everywhere;
* ``dictionary<…>``: segments dictionary-encode low-cardinality columns
  themselves, so the column type is the value type; dictionary-encoded data is
  accepted for a plain string / binary column;
* float16, decimal32/64/256, fixed_size_binary, intervals, nested types.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.types as pat

from hasivu_compute._core.errors import SchemaMismatchError
from hasivu_compute.schema.schema import TableSchema

__all__ = ["check_column_storable", "check_storable", "is_storable", "storable_problem"]

_DECIMAL128_MAX_PRECISION = 38
_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def is_storable(dtype: pa.DataType) -> bool:
    """Whether a column of type ``dtype`` can be written and read back unchanged."""
    return bool(
        pat.is_integer(dtype)
        or pat.is_float32(dtype)
        or pat.is_float64(dtype)
        or pat.is_boolean(dtype)
        or pat.is_decimal128(dtype)
        or pat.is_string(dtype)
        or pat.is_large_string(dtype)
        or pat.is_string_view(dtype)
        or pat.is_binary(dtype)
        or pat.is_large_binary(dtype)
        or pat.is_binary_view(dtype)
        or pat.is_date(dtype)
        or pat.is_time(dtype)
        or pat.is_timestamp(dtype)
        or pat.is_null(dtype)
    )


def storable_problem(dtype: pa.DataType) -> str | None:
    """None for a storable type, else why not and which supported type to use instead."""
    if is_storable(dtype):
        return None
    return _suggestion(dtype)


def _suggestion(t: pa.DataType) -> str:
    if pat.is_float16(t):
        return "declare it float32 (pa.float32())"
    if pat.is_decimal(t):
        precision = min(t.precision, _DECIMAL128_MAX_PRECISION)
        wider = (
            ""
            if t.precision <= _DECIMAL128_MAX_PRECISION
            else (
                f" (values need at most {_DECIMAL128_MAX_PRECISION} digits; else use float64 or string)"
            )
        )
        return f"only decimal128 is stored: declare it decimal128({precision}, {t.scale}){wider}"
    if pat.is_fixed_size_binary(t):
        return "declare it binary (pa.binary()); lengths are not enforced"
    if pat.is_duration(t):
        unit = _UNIT_NAMES.get(t.unit, t.unit)
        return (
            f"durations have no zone-map or pruning support: store the number of {unit} "
            "as int64 (pa.int64())"
        )
    if pat.is_dictionary(t):
        return (
            f"declare it {t.value_type} (segments dictionary-encode repeated values "
            "themselves, and dictionary-encoded data is accepted for it)"
        )
    if pat.is_interval(t):
        return "store months, days and nanoseconds as int64 columns (pa.int64())"
    if pat.is_struct(t):
        return "store one column per field"
    if pat.is_nested(t):  # lists, maps, unions
        return "store one row per element, or the value as JSON text (pa.string())"
    return "use bool, an integer, float32/64, decimal128, string, binary, date, time or timestamp"


def check_storable(schema: pa.Schema | TableSchema) -> None:
    """Refuse a schema holding a column type tables cannot store.

    Raises:
        SchemaMismatchError: (a ``TypeError``) naming the first such column, its
            type and a supported type to declare instead.
    """
    fields = schema.fields if isinstance(schema, TableSchema) else list(schema)
    for field in fields:
        check_column_storable(field.name, field.type)


def check_column_storable(name: str, dtype: pa.DataType) -> None:
    """:func:`check_storable` for one column (an added or widened column).

    Raises:
        SchemaMismatchError: ``dtype`` cannot be stored.
    """
    problem = storable_problem(dtype)
    if problem is not None:
        raise SchemaMismatchError(
            f"column {name!r}: type {dtype} cannot be stored in a table; {problem}", column=name
        )
