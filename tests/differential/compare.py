"""Compare two query results as bags of rows (floats to a relative tolerance).

Values are normalised before comparison so that equal answers of different but
compatible types compare equal: Decimal -> float (integral ones -> int), date ->
datetime at midnight (DuckDB's ``date_trunc`` on a DATE returns a TIMESTAMP);
integers of every width, uint64 and HUGEINT included, stay exact.

Column types are compared too: equal, or one of the :data:`ACCEPTED_TYPES`
pairs, each a documented difference from DuckDB; and column names: equal, or
spelled alike by :data:`NAME_SPELLINGS` (unnamed expressions).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

REL_TOL = 1e-9
ABS_TOL = 1e-7


def normalise(value: object) -> object:
    """A comparable Python value (see module docstring)."""
    if isinstance(value, decimal.Decimal):
        # integral values (DuckDB's HUGEINT sums) stay exact ints
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(dt.UTC).replace(tzinfo=None)
        )
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, list):  # list results (quantile_cont(x, [0.25, 0.75])): item by item
        return [normalise(v) for v in value]
    return value


def rows(table: pa.Table) -> list[tuple[object, ...]]:
    """The rows of ``table`` as tuples of normalised values (column order kept)."""
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return (
        [tuple(normalise(v) for v in row) for row in zip(*columns, strict=True)] if columns else []
    )


def values_equal(a: object, b: object) -> bool:
    """Equality with float tolerance; NULL equals only NULL; NaN equals NaN."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and rows_equal(a, b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return type(a) is type(b) and a == b


def rows_equal(a: Sequence[object], b: Sequence[object]) -> bool:
    """Row equality, value by value."""
    return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))


def _sort_key(row: tuple[object, ...]) -> tuple[object, ...]:
    out: list[object] = []
    for v in row:
        if v is None:
            out.append((0, 0))
        elif isinstance(v, bool):
            out.append((1, int(v)))
        elif isinstance(v, list):
            out.append((4, len(v), _sort_key(tuple(v))))
        elif isinstance(v, int | float):
            out.append((2, float(f"{float(v):.6g}") if not math.isnan(float(v)) else math.inf))
        else:
            out.append((3, str(type(v)), v))
    return tuple(out)


def bag_difference(ours: list[tuple[object, ...]], theirs: list[tuple[object, ...]]) -> str | None:
    """None when the two row lists are equal as bags, else a short description."""
    if len(ours) != len(theirs):
        return f"row counts differ: ours {len(ours)}, duckdb {len(theirs)}"
    a = sorted(ours, key=_sort_key)
    b = sorted(theirs, key=_sort_key)
    if all(rows_equal(x, y) for x, y in zip(a, b, strict=True)):
        return None
    # rounding in the sort key can order near-equal floats differently: match greedily
    remaining = list(b)
    for row in a:
        for i, other in enumerate(remaining):
            if rows_equal(row, other):
                del remaining[i]
                break
        else:
            return f"our row {row} has no match in duckdb's result (first of {len(remaining)} unmatched)"
    return None


def order_difference(
    ours: list[tuple[object, ...]], theirs: list[tuple[object, ...]], columns: Sequence[int]
) -> str | None:
    """None when the ORDER BY key columns come in the same sequence in both results."""
    for index, (x, y) in enumerate(zip(ours, theirs, strict=True)):
        kx = [x[c] for c in columns]
        ky = [y[c] for c in columns]
        if not rows_equal(kx, ky):
            return f"order differs at row {index}: ours {kx}, duckdb {ky}"
    return None


#: Integers of any width (and DuckDB's HUGEINT, decimal(38, 0)) compare exactly here.
_EXACT_INTEGER = pa.decimal128(38, 0)


def _arrow_normal(column: pa.ChunkedArray) -> pa.ChunkedArray:
    t = column.type
    if pat.is_integer(t) or (pat.is_decimal128(t) and t.scale == 0):
        return column.cast(_EXACT_INTEGER)
    if pat.is_decimal(t) or pat.is_floating(t):
        return column.cast(pa.float64())
    if pat.is_date(t):
        return column.cast(pa.timestamp("us"))
    if pat.is_timestamp(t):
        return column.cast(pa.timestamp("us", tz=t.tz))
    if pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t):
        return column.cast(pa.string())
    return column


def _unify(a: pa.ChunkedArray, b: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    a, b = _arrow_normal(a), _arrow_normal(b)
    numeric = (_EXACT_INTEGER, pa.float64())
    if a.type != b.type and a.type in numeric and b.type in numeric:
        return a.cast(pa.float64(), safe=False), b.cast(pa.float64(), safe=False)
    if pat.is_null(a.type) and not pat.is_null(b.type):
        return a.cast(b.type), b
    if pat.is_null(b.type) and not pat.is_null(a.type):
        return a, b.cast(a.type)
    return a, b


def _columns_equal(a: pa.ChunkedArray, b: pa.ChunkedArray) -> bool:
    if a.type != b.type or len(a) != len(b):
        return False
    if a.type != pa.float64():
        return bool(a.combine_chunks().equals(b.combine_chunks()))
    if not pc.is_null(a).combine_chunks().equals(pc.is_null(b).combine_chunks()):
        return False
    x = a.fill_null(0.0).to_numpy()
    y = b.fill_null(0.0).to_numpy()
    return bool(np.all(np.isclose(x, y, rtol=REL_TOL, atol=ABS_TOL, equal_nan=True)))


def _normal_tables(ours: pa.Table, theirs: pa.Table) -> tuple[pa.Table, pa.Table]:
    names = [f"c{i}" for i in range(ours.num_columns)]
    pairs = [_unify(ours.column(i), theirs.column(i)) for i in range(ours.num_columns)]
    return (
        pa.table([p[0] for p in pairs], names=names),
        pa.table([p[1] for p in pairs], names=names),
    )


def fast_bag_equal(ours: pa.Table, theirs: pa.Table) -> bool:
    """Vectorised bag equality: normalise, sort both by every column, compare columns.

    False does not prove a difference (near-equal floats can sort differently);
    :func:`difference` then falls back to row-by-row matching.
    """
    if ours.num_rows != theirs.num_rows:
        return False
    left, right = _normal_tables(ours, theirs)
    keys = [(n, "ascending") for n in left.column_names]
    try:
        left, right = left.sort_by(keys), right.sort_by(keys)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return all(_columns_equal(left.column(n), right.column(n)) for n in left.column_names)


def fast_order_equal(ours: pa.Table, theirs: pa.Table, columns: Sequence[int]) -> bool:
    """Vectorised check that the ORDER BY key columns come in the same sequence."""
    left, right = _normal_tables(ours, theirs)
    return all(_columns_equal(left.column(c), right.column(c)) for c in columns)


_HUGEINT = "sum over integers: DuckDB widens to HUGEINT (exported as decimal128(38, 0)); we keep int64 / uint64 and raise ArithmeticOverflowError where the exact sum does not fit"

#: (our type, DuckDB's type) -> why the two are the same answer.
ACCEPTED_TYPES: dict[tuple[str, str], str] = {
    ("int64", "decimal128(38, 0)"): _HUGEINT,
    ("uint64", "decimal128(38, 0)"): _HUGEINT,
    ("int64", "int32"): "integer literals: DuckDB types 1 as INTEGER, we type it BIGINT",
    ("date32[day]", "timestamp[us]"): "date_trunc on a DATE: DuckDB returns a TIMESTAMP",
}


def _text_type(t: pa.DataType) -> bool:
    return pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t)


def type_difference(ours: pa.Schema, theirs: pa.Schema) -> str | None:
    """None when every column type equals DuckDB's or is an :data:`ACCEPTED_TYPES` pair."""
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        same = a.type.equals(b.type) or (_text_type(a.type) and _text_type(b.type))
        if same or pat.is_null(a.type) or pat.is_null(b.type):
            continue
        if (str(a.type), str(b.type)) not in ACCEPTED_TYPES:
            return f"column {index} type: ours {a.name!r} {a.type}, duckdb {b.name!r} {b.type}"
    return None


# How DuckDB and we spell the name of an unnamed output column (``SELECT sum(x)``): DuckDB
# prints its own rewrite of the expression; ours is the expression as sqlglot prints it. A name
# is compared after both are brought to one spelling by these rewrites (and lower case,
# without quotes); a column the query names itself (``AS``) must match exactly.
NAME_SPELLINGS: tuple[tuple[str, str], ...] = (
    (r"count_star\(\)", "count(*)"),
    (r"date_part\('(\w+)', ([^)]+)\)", r"extract(\1 from \2)"),
    (r"var_samp\(", "variance("),
)


def _spelling(name: str) -> str:
    import re

    text = name.lower().replace('"', "")
    for pattern, replacement in NAME_SPELLINGS:
        text = re.sub(pattern, replacement, text)
    return text


def name_difference(ours: pa.Schema, theirs: pa.Schema) -> str | None:
    """None when every column name equals DuckDB's, up to :data:`NAME_SPELLINGS`."""
    for index, (a, b) in enumerate(zip(ours.names, theirs.names, strict=True)):
        if a != b and _spelling(a) != _spelling(b):
            return f"column {index} name: ours {a!r}, duckdb {b!r}"
    return None


def difference(
    ours: pa.Table, theirs: pa.Table, order_columns: Sequence[int] = (), *, check_types: bool = True
) -> str | None:
    """None when ``ours`` equals ``theirs``: column names (see :func:`name_difference`) and
    types (see :func:`type_difference`; ``check_types=False`` compares values only), bag of
    rows, and order of the ORDER BY keys."""
    if ours.num_columns != theirs.num_columns:
        return f"column counts differ: ours {ours.column_names}, duckdb {theirs.column_names}"
    named = name_difference(ours.schema, theirs.schema) if check_types else None
    if named is not None:
        return named
    typed = type_difference(ours.schema, theirs.schema) if check_types else None
    if typed is not None:
        return typed
    bag_ok = fast_bag_equal(ours, theirs)
    if bag_ok and (not order_columns or fast_order_equal(ours, theirs, order_columns)):
        return None
    a, b = rows(ours), rows(theirs)
    problem = None if bag_ok else bag_difference(a, b)
    if problem is None and order_columns:
        problem = order_difference(a, b, order_columns)
    return problem
