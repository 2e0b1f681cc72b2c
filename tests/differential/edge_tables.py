"""Small tables shaped for holistic aggregates, grouping sets and set operations.

``vals``: groups with duplicates, NULLs, a group whose values are all NULL, a group
of one row, NaN / infinities / -0.0 among the floats, empty strings, decimals of
both storage widths (int64 up to 18 digits, 128-bit beyond), and a unique order
key ``o``. Partitioned by ``p`` and written in several appends, so every group
spans partitions and segments: aggregates run as partial -> final.

``sa`` / ``sb``: two relations for INTERSECT / EXCEPT with repeated rows, rows of
NULLs, float -0.0 / 0.0 and NaN, some rows on one side only.
"""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa

VALS_SCHEMA = pa.schema(
    [
        ("o", pa.int64()),
        ("p", pa.int32()),
        ("k", pa.int32()),
        ("g", pa.string()),
        ("v", pa.int64()),
        ("f", pa.float64()),
        ("s", pa.string()),
        ("dn", pa.decimal128(10, 2)),
        ("dw", pa.decimal128(38, 3)),
        ("d", pa.date32()),
        ("flag", pa.bool_()),
    ]
)
VALS_PARTITION_BY = [("p", "identity")]
VALS_BATCHES = 3

_SPECIAL_FLOATS = (float("nan"), float("inf"), float("-inf"), -0.0, 0.0)


def vals_table(n: int = 900, seed: int = 7) -> pa.Table:
    """The ``vals`` table (see the module docstring)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 9, size=n).astype(np.int32)
    k[:40] = 7  # group 7: every value NULL (an empty group for the value aggregates)
    k[40] = 8  # group 8: one row only
    k[41:] = np.where(k[41:] == 8, 6, k[41:])
    k_null = rng.random(n) < 0.07
    v = rng.integers(-20, 20, size=n)  # few distinct values: many duplicates
    v_null = (rng.random(n) < 0.1) | (k == 7)
    f = np.round(rng.normal(0.0, 50.0, size=n), 2)
    special = rng.random(n) < 0.04
    f[special] = rng.choice(_SPECIAL_FLOATS, size=int(special.sum()))
    f_null = (rng.random(n) < 0.08) | (k == 7)
    words = np.array(["", "a", "b", "ab", "B", "zz", "a b"], dtype=object)
    s = rng.choice(words, size=n)
    s_null = (rng.random(n) < 0.1) | (k == 7)
    cents = rng.integers(-100_000, 100_000, size=n)
    dn = [decimal.Decimal(int(c)).scaleb(-2) for c in cents]
    dw = [decimal.Decimal(int(c) * 1_000_003).scaleb(-3) for c in cents]
    days = rng.integers(0, 3000, size=n)
    columns = {
        "o": pa.array(rng.permutation(n).astype(np.int64)),
        "p": pa.array((np.arange(n) % 4).astype(np.int32)),
        "k": pa.array(k, mask=k_null),
        "g": pa.array(rng.choice(np.array(["x", "y", "z"], dtype=object), size=n)),
        "v": pa.array(v, mask=v_null),
        "f": pa.array(f, mask=f_null),
        "s": pa.array(s, type=pa.string(), mask=s_null),
        "dn": pa.array(dn, type=pa.decimal128(10, 2), mask=v_null),
        "dw": pa.array(dw, type=pa.decimal128(38, 3), mask=f_null),
        "d": pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=v_null),
        "flag": pa.array(rng.random(n) < 0.4, mask=rng.random(n) < 0.1),
    }
    return pa.table(columns, schema=VALS_SCHEMA)


SET_SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.string()), ("c", pa.float64())])


def set_tables(seed: int = 11) -> tuple[pa.Table, pa.Table]:
    """``sa`` and ``sb``: overlapping bags of rows (see the module docstring)."""
    rng = np.random.default_rng(seed)

    def rows(n: int, values: int) -> list[tuple[object, ...]]:
        out = []
        for _ in range(n):
            a = None if rng.random() < 0.2 else int(rng.integers(0, values))
            b = None if rng.random() < 0.2 else str(rng.choice(["p", "q", ""]))
            c = None if rng.random() < 0.2 else float(rng.choice([0.0, -0.0, 1.5, float("nan")]))
            out.append((a, b, c))
        return out

    left = rows(400, 5) + [(None, None, None)] * 3
    right = [*rows(300, 7), (None, None, None)]
    return _table(left), _table(right)


def _table(rows: list[tuple[object, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.table(
        [
            pa.array(list(col), type=field.type)
            for col, field in zip(columns, SET_SCHEMA, strict=True)
        ],
        schema=SET_SCHEMA,
    )
