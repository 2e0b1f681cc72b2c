"""Generated queries: our engine against DuckDB over the same data (bag of rows + order).

Every tenth query also runs without table schemas: it must then give the same answer
or be refused with ``UnsupportedSQLError`` (never a different answer).
"""

from __future__ import annotations

import pytest
from compare import difference
from querygen import generate

from hasivu_compute._core.errors import UnsupportedSQLError
from hasivu_compute.exec import execute
from hasivu_compute.sql import to_plan

QUERY_COUNT = 320
SEED = 11

QUERIES = generate(QUERY_COUNT, SEED)


@pytest.mark.parametrize("index", range(QUERY_COUNT))
def test_generated_query_matches_duckdb(oracle, index: int) -> None:
    query = QUERIES[index]
    expected = oracle.check(query.sql, query.order_columns)
    if index % 10 == 0:
        try:
            plan = to_plan(query.sql)
        except UnsupportedSQLError as error:
            assert "schema" in str(error), error
            return
        problem = difference(execute(plan, oracle.catalog), expected, query.order_columns)
        assert problem is None, f"without schemas: {problem}\nSQL: {query.sql}"
