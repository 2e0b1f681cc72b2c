"""Deterministic test tables for the differential (DuckDB oracle) suite.

The data is shaped to catch the usual mistakes: NULLs in every column, a skewed
group key (one value holds ~40% of the rows), empty strings and mixed case for
LIKE/ILIKE, negative numbers for modulo and integer division, dates across
several years (month and year partitions), and values like ``x.5`` for rounding.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

FACTS_ROWS = 6_000
FACTS_BATCHES = 2

FACTS_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("k", pa.int32()),
        ("q", pa.int16()),
        ("y", pa.int64()),
        ("x", pa.float64()),
        ("price", pa.float64()),
        ("g", pa.string()),
        ("name", pa.string()),
        ("d", pa.date32()),
        ("ts", pa.timestamp("us")),
        ("tsz", pa.timestamp("us", tz="UTC")),
        ("flag", pa.bool_()),
    ]
)

#: How the engine-side table is partitioned (many partitions, several segments each).
FACTS_PARTITION_BY = [("g", "identity")]

_GROUPS = np.array(["a", "b", "c", "d", "e", "Alpha", "beta", ""], dtype=object)
_GROUP_WEIGHTS = np.array([0.40, 0.2, 0.12, 0.08, 0.06, 0.06, 0.04, 0.04])
_NAMES = np.array(
    ["apple", "Apricot", "banana", "blueberry", "cherry", "date_x", "fig%"], dtype=object
)


def _with_nulls(
    rng: np.random.Generator, values: np.ndarray, rate: float, dtype: pa.DataType
) -> pa.Array:
    mask = rng.random(len(values)) < rate
    return pa.array(values, type=dtype, mask=mask)


def facts_table(n: int = FACTS_ROWS, seed: int = 20251126) -> pa.Table:
    """The main table (``facts``), identical for the engine and for DuckDB."""
    rng = np.random.default_rng(seed)
    k = (rng.zipf(1.6, n) - 1) % 23
    g = rng.choice(_GROUPS, size=n, p=_GROUP_WEIGHTS)
    names = np.array(
        [
            f"{a}_{b}"
            for a, b in zip(rng.choice(_NAMES, size=n), rng.integers(0, 40, size=n), strict=True)
        ],
        dtype=object,
    )
    x = np.round(rng.normal(40.0, 35.0, size=n) * 2) / 2  # many exact .5 values
    outliers = rng.random(n) < 0.05
    x[outliers] = np.round(rng.normal(0.0, 1000.0, size=int(outliers.sum())), 3)
    price = np.round(rng.gamma(2.0, 20.0, size=n), 2)
    start = dt.date(2020, 1, 1)
    days = rng.integers(0, 1100, size=n)
    d = np.array([start + dt.timedelta(days=int(v)) for v in days], dtype=object)
    seconds = rng.integers(0, 2 * 365 * 86_400, size=n)
    ts = np.datetime64("2021-01-01T00:00:00") + seconds.astype("timedelta64[s]")
    columns = {
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "k": _with_nulls(rng, k.astype(np.int32), 0.05, pa.int32()),
        "q": _with_nulls(rng, rng.integers(-5, 10, size=n).astype(np.int16), 0.03, pa.int16()),
        "y": _with_nulls(rng, rng.integers(-1000, 1000, size=n), 0.1, pa.int64()),
        "x": _with_nulls(rng, x, 0.06, pa.float64()),
        "price": _with_nulls(rng, price, 0.02, pa.float64()),
        "g": _with_nulls(rng, g, 0.08, pa.string()),
        "name": _with_nulls(rng, names, 0.05, pa.string()),
        "d": _with_nulls(rng, d, 0.03, pa.date32()),
        "ts": _with_nulls(rng, ts.astype("datetime64[us]"), 0.03, pa.timestamp("us")),
        "tsz": _with_nulls(
            rng,
            (ts - seconds[::-1].astype("timedelta64[s]")).astype("datetime64[us]"),
            0.04,
            pa.timestamp("us", tz="UTC"),
        ),
        "flag": _with_nulls(rng, rng.random(n) < 0.3, 0.1, pa.bool_()),
    }
    return pa.table(columns, schema=FACTS_SCHEMA)


def batches(table: pa.Table, count: int = FACTS_BATCHES) -> list[pa.Table]:
    """``table`` cut into ``count`` appends (so each partition gets several segments)."""
    size = -(-table.num_rows // count)
    return [table.slice(i * size, size) for i in range(count) if i * size < table.num_rows]


DIMS_SCHEMA = pa.schema(
    [
        ("k", pa.int64()),
        ("label", pa.string()),
        ("weight", pa.float64()),
        ("g", pa.string()),
    ]
)


def dims_table(seed: int = 20261207) -> pa.Table:
    """A dimension for joins with ``facts``: keys 0..29 (facts has 0..22), some twice,
    some missing, some NULL; a string key ``g`` that matches only some of facts' groups."""
    rng = np.random.default_rng(seed)
    keys = [k for k in range(30) if k not in (3, 11)] + [5, 5, 7, 19]
    n = len(keys) + 2
    k = np.array([*keys, 0, 0], dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    mask[-2:] = True  # two NULL keys
    groups = rng.choice(np.array(["a", "b", "Alpha", "z", ""], dtype=object), size=n)
    columns = {
        "k": pa.array(k, mask=mask),
        "label": pa.array([f"dim_{i}" for i in range(n)]),
        "weight": _with_nulls(rng, np.round(rng.random(n) * 10, 2), 0.1, pa.float64()),
        "g": _with_nulls(rng, groups, 0.1, pa.string()),
    }
    return pa.table(columns, schema=DIMS_SCHEMA)
