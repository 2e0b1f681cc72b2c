"""String functions against DuckDB on the facts table (NULLs and short strings included)."""

from __future__ import annotations

import pytest

from hasivu_compute._core.errors import UnsupportedSQLError

SUBSTRINGS = [
    "substring(name, 1, 3)",
    "substring(name, 2)",
    "substr(name, 0, 2)",
    "substring(name, -3)",
    "substring(name, -4, 2)",
    "substring(name, -2, 5)",
    "substring(name, 50, 2)",
    "substring(name, 3, 0)",
    "substring(g, 1, 1)",
    "substring(name FROM 2 FOR 3)",
]


@pytest.mark.parametrize("call", SUBSTRINGS)
def test_substring_matches_duckdb(oracle, call: str) -> None:
    oracle.check(f"SELECT id AS id, {call} AS s FROM facts")


def test_substring_in_a_filter_and_a_group_key(oracle) -> None:
    oracle.check(
        "SELECT substring(name, 1, 2) AS p, count(*) AS n FROM facts "
        "WHERE substring(name, 1, 2) IN ('ap', 'ba', 'fi') GROUP BY substring(name, 1, 2)"
    )


@pytest.mark.parametrize(
    "call", ["substring(name, q, 2)", "substring(name, 1, q)", "substring(name, 2, -1)"]
)
def test_substring_positions_must_be_constants(oracle, call: str) -> None:
    with pytest.raises(UnsupportedSQLError, match="substring"):
        oracle.ours(f"SELECT {call} FROM facts")
