"""Shared strategies for expression tests: random Arrow tables with NULLs, and DuckDB."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest
from hypothesis import strategies as st

SCHEMA = pa.schema(
    [
        ("i", pa.int32()),
        ("j", pa.int64()),
        ("f", pa.float64()),
        ("s", pa.string()),
        ("b", pa.bool_()),
        ("d", pa.date32()),
        ("ts", pa.timestamp("us", tz="UTC")),
    ]
)
WORDS = ["", "a", "ab", "Abc", "b%c", "x_y", "Zeta", "ñandú", "aa", "ba", " a b "]
_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _nullable(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), strategy)


ROW = st.fixed_dictionaries(
    {
        "i": _nullable(st.integers(-1000, 1000)),
        "j": _nullable(st.integers(-(10**6), 10**6)),
        "f": _nullable(
            st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))
        ),
        "s": _nullable(st.sampled_from(WORDS)),
        "b": _nullable(st.booleans()),
        "d": _nullable(st.dates(dt.date(2019, 1, 1), dt.date(2026, 12, 31))),
        "ts": _nullable(
            st.integers(0, 6 * 365 * 86400 * 10**6).map(
                lambda us: _EPOCH + dt.timedelta(microseconds=us)
            )
        ),
    }
)


@st.composite
def tables(draw: st.DrawFn, min_rows: int = 0, max_rows: int = 30) -> pa.Table:
    """A table of SCHEMA with NULLs, sometimes split into several record batches."""
    rows = draw(st.lists(ROW, min_size=min_rows, max_size=max_rows))
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    if len(rows) > 2 and draw(st.booleans()):
        cut = draw(st.integers(1, len(rows) - 1))
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    return table


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


def normalize(value: object) -> object:
    """Comparable form of a result value (UTC-naive datetimes, rounded floats)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return value


def values_equal(a: object, b: object) -> bool:
    """Equality with float tolerance and NULL == NULL."""
    a, b = normalize(a), normalize(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        fa, fb = float(a), float(b)  # type: ignore[arg-type]
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=1e-9, abs_tol=1e-9)
    return a == b
