"""Exact quantiles and string_agg: partial / combine / finalize over random splits equal the
one-shot result and DuckDB; the list-state helpers keep slices and NULL lists straight."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.exec import aggregate, split_aggregate
from hasivu_compute.exec.kernels.liststates import (
    concatenated,
    gathered,
    sorted_groups,
    without_nulls,
)
from hasivu_compute.expr import AggCall, Alias, Expr, col, make_options

from .conftest import SCHEMA, tables
from .test_aggregates import KEYS, SETTINGS, _by_key, _close, _distributed, _duckdb, _split


def _call(fn: str, *args: Expr, **options: object) -> AggCall:
    return AggCall(fn, args, options=make_options(**options))


HOLISTIC: list[tuple[Expr, str]] = [
    (Alias(_call("median", col("i")), "med_i"), "median(i)"),
    (Alias(_call("median", col("f")), "med_f"), "median(f)"),
    (Alias(_call("median", col("s")), "med_s"), "median(s)"),
    (Alias(_call("quantile_cont", col("j"), q=0.3), "qc_j"), "quantile_cont(j, 0.3)"),
    (Alias(_call("quantile_cont", col("f"), q=-0.65), "qn_f"), "quantile_cont(f, -0.65)"),
    (Alias(_call("quantile_disc", col("s"), q=0.6), "qd_s"), "quantile_disc(s, 0.6)"),
    (Alias(_call("quantile_disc", col("d"), q=0.25), "qd_d"), "quantile_disc(d, 0.25)"),
    (Alias(_call("quantile_disc", col("i"), q=-0.4), "qn_i"), "quantile_disc(i, -0.4)"),
    (
        Alias(_call("quantile_cont", col("i"), q=(0.1, 0.5, 1.0)), "ql_i"),
        "quantile_cont(i, [0.1, 0.5, 1.0])",
    ),
    (
        Alias(_call("string_agg", col("s"), col("s"), sep="|", order=((True, False),)), "sa"),
        "string_agg(s, '|' ORDER BY s DESC)",
    ),
    (
        Alias(
            _call("string_agg", col("s"), col("i"), col("s"), sep=", ", order=((False, True),) * 2),
            "sb",
        ),
        "string_agg(s, ', ' ORDER BY i NULLS FIRST, s NULLS FIRST)",
    ),
]


def _same(a: object, b: object) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(_close(x, y) for x, y in zip(a, b, strict=True))
        )
    return _close(a, b)


@SETTINGS
@given(table=tables(max_rows=40), keys=st.sampled_from(KEYS), seed=st.integers(0, 2**32))
def test_split_holistic_aggregation_equals_one_shot_and_duckdb(
    table: pa.Table, keys: tuple[list[Expr], list[str], str], seed: int
) -> None:
    key_exprs, key_names, key_sql = keys
    aggs = [e for e, _ in HOLISTIC]
    rng = random.Random(seed)
    steps = split_aggregate(key_exprs, aggs, table.schema)
    one_shot = aggregate(table, key_exprs, aggs)
    split = _distributed(steps, _split(table, rng), rng)
    assert one_shot.schema == steps.output_schema == split.schema

    select = ", ".join(f"{sql} AS {e.name}" for e, sql in HOLISTIC)  # type: ignore[attr-defined]
    head = f"{key_sql} AS {key_names[0]}, " if len(key_names) == 1 else ""
    head = f"{key_sql}, " if len(key_names) > 1 else head
    sql = f"SELECT {head}{select} FROM t" + (f" GROUP BY {key_sql}" if key_sql else "")
    want = _by_key(_duckdb(table, sql), key_names)
    for name, got in (("one-shot", one_shot), ("split", split)):
        rows = _by_key(got, key_names)
        assert rows.keys() == want.keys(), f"{name}: groups differ"
        for key, row in rows.items():
            for e, agg_sql in HOLISTIC:
                out = e.name  # type: ignore[attr-defined]
                assert _same(row[out], want[key][out]), (
                    f"{name} {agg_sql} group {key}: ours={row[out]!r} duckdb={want[key][out]!r}"
                )


def test_list_state_helpers_respect_slices_and_null_lists() -> None:
    lists = pa.array([[1, None], None, [], [3, 4, None], [5]], pa.large_list(pa.int64()))
    part = lists.slice(1, 3)  # None, [], [3, 4, None]
    assert without_nulls(part).to_pylist() == [[], [], [3, 4]]
    nested = pa.array(
        [[[1], [2, 3]], None, [[], None, [4]]], pa.large_list(pa.large_list(pa.int64()))
    )
    assert concatenated(nested.slice(1)).to_pylist() == [[], [4]]
    assert concatenated(nested).to_pylist() == [[1, 2, 3], [], [4]]
    rows = pa.array([[2, 0], [], [1]], pa.list_(pa.int64()))
    values = pa.array([{"a": 1}, {"a": 2}, {"a": 3}])
    assert gathered(rows, values).to_pylist() == [[{"a": 3}, {"a": 1}], [], [{"a": 2}]]
    items, starts, counts = sorted_groups(pa.array([[3.0, float("nan"), -1.0], [], [2.0]]))
    assert items.to_pylist()[:2] == [-1.0, 3.0] and counts.tolist() == [3, 0, 1]
    assert starts.tolist() == [0, 3, 3]


@pytest.mark.parametrize(
    ("agg", "error", "words"),
    [
        (_call("quantile_cont", col("f"), q=1.5), BindError, "[-1, 1]"),
        (_call("quantile_cont", col("f"), q=(0.5, -0.5)), BindError, "all >= 0"),
        (_call("quantile_disc", col("f"), q="half"), BindError, "must be a number"),
        (_call("quantile_cont", col("s"), q=0.5), BindError, "numeric argument"),
        (_call("median", col("d")), UnsupportedSQLError, "interpolates dates"),
        (_call("string_agg", col("f"), sep=","), BindError, "string argument"),
        (_call("string_agg", col("s"), sep=1), BindError, "separator must be a string"),
        (_call("string_agg", col("s"), col("i"), sep=","), BindError, "takes 1 argument"),
    ],
)
def test_bad_holistic_calls_are_refused(agg: AggCall, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        split_aggregate([], [Alias(agg, "out")], SCHEMA)
    assert words in str(info.value), info.value
