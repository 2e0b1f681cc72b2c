"""SQL errors a user can act on: they name what the user wrote, point at it and say what
to do; nothing of the parser's internals (sqlglot classes, token reprs) reaches them."""

from __future__ import annotations

import re

import pytest
from sqlglot.dialects.duckdb import DuckDB

from hasivu_compute._core.errors import BindError, ParseError, UnsupportedSQLError
from hasivu_compute.sql import to_plan

SCHEMA = {"t": ["a", "b", "g", "s", "d"], "u": ["a", "c"]}
_INTERNALS = re.compile(r"sqlglot|<class|<Token|TokenType|SENTINEL|Required keyword|expressions\.")


def _error(sql: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        to_plan(sql, schema=SCHEMA)
    return info.value


def _assert_actionable(error: ParseError, sql: str) -> None:
    text = str(error)
    assert not _INTERNALS.search(text), f"parser internals leak for {sql!r}: {text}"
    assert error.line is not None and error.col is not None, f"no position for {sql!r}: {text}"
    assert error.hint, f"no advice for {sql!r}: {text}"
    assert text.endswith(error.hint), text


@pytest.mark.parametrize(
    ("sql", "words", "line", "col"),
    [
        # an operator without its right operand: name it and the token found instead
        ("SELECT a * FROM t", ["'*'", "'FROM'"], 1, 12),
        ("SELECT a FROM t WHERE a = 1 +", ["'+'", "ends"], 1, 29),
        ("SELECT a FROM t\nWHERE a = )", ["'='", "')'"], 2, 11),
        ("SELECT a FROM t LIMIT", ["'LIMIT'", "ends"], 1, 17),
        ("SELECT a FROM t WHERE a BETWEEN 1", ["BETWEEN", "AND"], 1, 33),
        ("SELECT a FROM t UNION", ["'UNION'", "query"], 1, 17),
        ("SELECT g, sum() FROM t", ["sum()", "argument"], 1, 15),
        # a missing table name, a missing parenthesis
        ("SELECT a FROM", ["table name", "'FROM'", "ends"], 1, 10),
        ("SELECT a FROM * t", ["table name", "'*'"], 1, 15),
        ("SELECT sum(a FROM t", ["')'", "'FROM'"], 1, 14),
        ("SELECT a FROM t WHERE a IN (1, 2", ["')'", "ends"], 1, 32),
        # unexpected tokens, with the keyword the user probably meant
        ("SELECT a FROM t t2 t3", ["'t3'"], 1, 20),
        ("SELECT a FROM t WHER a > 1", ["'WHER'", "WHERE"], 1, 22),
        ("SELECT a FROM t ORDR BY a", ["'ORDR'", "ORDER"], 1, 22),
        ("SELEC a FROM t", ["'SELEC'", "SELECT"], 1, 1),
        ("SELEC a", ["'SELEC'", "SELECT"], 1, 1),
        # tokens that cannot be read
        ("SELECT a,\n  'unterminated FROM t", ["string", "closing '"], 2, 3),
        ('SELECT "abc FROM t', ["quoted name", 'closing "'], 1, 8),
        ("SELECT a /* note FROM t", ["comment", "*/"], 1, 10),
        ("SELECT 1e FROM t", ["'1e'", "number"], 1, 8),
        # DuckDB: "SELECT clause without selection list" (not an internal plan error)
        ("SELECT FROM t", ["SELECT", "column"], 1, 1),
    ],
)
def test_syntax_error_names_the_token_and_says_what_to_do(
    sql: str, words: list[str], line: int, col: int
) -> None:
    error = _error(sql)
    assert not isinstance(error, UnsupportedSQLError), error
    _assert_actionable(error, sql)
    for word in words:
        assert word in str(error), f"{word!r} missing from: {error}"
    assert (error.line, error.col) == (line, col), f"{error} for {sql!r}"


@pytest.mark.parametrize(
    ("sql", "typed", "internal"),
    [
        ("SELECT strptime(s, '%Y') FROM t", "strptime()", "STR_TO_TIME"),
        ("SELECT to_timestamp(a) FROM t", "to_timestamp()", "UNIX_TO_TIME"),
        ("SELECT concat_ws(',', s) FROM t", "concat_ws()", "CONCAT_WS"),
        ("SELECT regexp_extract(s, 'a') FROM t", "regexp_extract()", "REGEXP_EXTRACT"),
        ("SELECT now() FROM t", "now()", "Anonymous"),
        ("SELECT make_date(2020, 1, 1) FROM t", "make_date()", "DATE_FROM_PARTS"),
        ("SELECT Random() FROM t", "Random()", "RAND"),
        ("SELECT epoch(d) FROM t", "epoch()", "TIME_TO_UNIX"),
        ("SELECT list_value(a) FROM t", "list_value()", "ARRAY"),
        ("SELECT arg_max(a, b) FROM t", "arg_max()", "ARG_MAX"),
        ("SELECT g, Mode(a) FROM t GROUP BY g", "Mode()", "MODE"),
        ("SELECT list(a) FROM t", "list()", "ARRAY_AGG"),
        ("SELECT sum(a ORDER BY b) FROM t", "sum(... ORDER BY ...)", "expression"),
    ],
)
def test_unsupported_function_is_named_as_typed(sql: str, typed: str, internal: str) -> None:
    error = _error(sql)
    assert isinstance(error, UnsupportedSQLError), error
    _assert_actionable(error, sql)
    assert typed in error.construct, error
    assert internal not in str(error), error
    assert (error.line, error.col) == (1, sql.index(typed.split("(")[0]) + 1), error


def test_unsupported_function_suggests_a_supported_one() -> None:
    error = _error("SELECT lowr(s) FROM t")
    assert isinstance(error, UnsupportedSQLError)
    assert "lowr()" in error.construct
    assert error.hint is not None and "lower" in error.hint, error


@pytest.mark.parametrize(
    ("sql", "col"),
    [
        ("SELECT a FROM t WHERE a = (SELECT a FROM u WHERE u.c = 1)", 27),
        ("SELECT a FROM t WHERE a > (SELECT 1)", 27),
        ("SELECT a FROM t WHERE a > ANY (SELECT a FROM u)", 27),
        ("SELECT count(*) FROM t GROUP BY (SELECT max(a) FROM u)", 33),
        ("SELECT g FROM t GROUP BY g HAVING sum(a) > (SELECT a FROM u)", 44),
    ],
)
def test_scalar_subquery_is_refused_as_a_subquery(sql: str, col: int) -> None:
    # a max() inside a subquery is not an aggregate of the outer WHERE ("use HAVING")
    error = _error(sql)
    assert isinstance(error, UnsupportedSQLError), error
    _assert_actionable(error, sql)
    assert "subquer" in error.construct, error
    assert "HAVING" not in (error.hint or ""), error
    assert (error.line, error.col) == (1, col), error


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a FROM t ASOF JOIN u ON t.a >= u.a",
        "SELECT first_value(a IGNORE NULLS) OVER (ORDER BY a) FROM t",
        "SELECT sum(a) OVER (ORDER BY a GROUPS 2 PRECEDING) FROM t",
        "SELECT a FROM t WHERE a > ALL (SELECT a FROM u)",
        "SELECT a FROM t INTERSECT BY NAME SELECT a FROM u",
        "SELECT now()",
        "INSERT INTO t VALUES (1)",
        "SELECT a[1] FROM t",
    ],
)
def test_every_unsupported_construct_says_what_to_do(sql: str) -> None:
    error = _error(sql)
    assert isinstance(error, UnsupportedSQLError), error
    _assert_actionable(error, sql)


_BASES = (
    "SELECT g, sum(a) AS x FROM t WHERE b > 1 AND s LIKE 'x%' GROUP BY g "
    "HAVING count(*) > 2 ORDER BY x DESC LIMIT 5",
    "WITH c AS (SELECT a, b FROM t) SELECT CASE WHEN a IN (1, 2) THEN 'x' END, "
    "CAST(a AS BIGINT) FROM c WHERE a BETWEEN 1 AND 3 UNION ALL SELECT -a, s FROM t",
)
_INSERTED = ("(", ")", ",", "*", "-", "FROM", "WHERE", "AND", "BY", "=", "::", "1e", "'")


def _broken_queries() -> list[str]:
    out = []
    for base in _BASES:
        for token in DuckDB().tokenize(base):
            start, end = token.start, token.end + 1
            out.append(base[:start] + base[end:])
            out.extend(base[:start] + word + " " + base[start:] for word in _INSERTED)
    return out


def test_no_broken_query_leaks_parser_internals() -> None:
    """Every query one token away from a valid one fails with a positioned, typed error."""
    queries, refused = _broken_queries(), 0
    for sql in queries:
        try:
            to_plan(sql, schema=SCHEMA)
        except ParseError as error:
            _assert_actionable(error, sql)
            refused += 1
        except BindError as error:
            assert not _INTERNALS.search(str(error)), f"{sql!r}: {error}"
    # some edits leave valid SQL (a dropped DESC); most must be refused, or nothing was checked
    assert refused >= len(queries) // 2, f"only {refused} of {len(queries)} refused"


_EXAMPLE_CALLS = {
    **{"abs": "abs(a)", "ceil": "ceil(a)", "floor": "floor(a)", "round": "round(a, 1)"},
    **{"sqrt": "sqrt(a)", "lower": "lower(s)", "upper": "upper(s)", "length": "length(s)"},
    **{"trim": "trim(s)", "ltrim": "ltrim(s)", "rtrim": "rtrim(s)", "if": "if(a > 1, 1, 2)"},
    **{"starts_with": "starts_with(s, 'x')", "contains": "contains(s, 'x')"},
    **{"substring": "substring(s, 2, 3)", "substr": "substr(s, -2)"},
    **{"coalesce": "coalesce(a, 1)", "ifnull": "ifnull(a, 1)", "nullif": "nullif(a, 1)"},
    **{"year": "year(d)", "month": "month(d)", "day": "day(d)", "hour": "hour(d)"},
    **{"quarter": "quarter(d)", "week": "week(d)", "dayofweek": "dayofweek(d)"},
    **{"dayofyear": "dayofyear(d)", "extract": "extract(year FROM d)"},
    **{"date_trunc": "date_trunc('month', d)", "cast": "cast(a AS BIGINT)"},
    **{"count": "count(a)", "sum": "sum(a)", "avg": "avg(a)", "min": "min(a)", "max": "max(a)"},
    **{"var_samp": "var_samp(a)", "var_pop": "var_pop(a)", "variance": "variance(a)"},
    **{"stddev": "stddev(a)", "stddev_samp": "stddev_samp(a)", "stddev_pop": "stddev_pop(a)"},
    **{"approx_count_distinct": "approx_count_distinct(a)"},
    **{"approx_quantile": "approx_quantile(a, 0.5)", "median": "median(a)"},
    **{"quantile_cont": "quantile_cont(a, [0.25, 0.5])", "quantile_disc": "quantile_disc(a, 0.5)"},
    **{"quantile": "quantile(a, 0.5)", "string_agg": "string_agg(s, ', ' ORDER BY a)"},
    **{"group_concat": "group_concat(s)", "listagg": "listagg(s, ';')"},
    **{"concat": "concat(s, a)", "replace": "replace(s, 'a', 'b')", "left": "left(s, 2)"},
    **{"right": "right(s, 2)", "lpad": "lpad(s, 5, ' ')", "rpad": "rpad(s, 5, ' ')"},
    **{"split_part": "split_part(s, ',', 2)", "regexp_matches": "regexp_matches(s, 'a+')"},
    **{"regexp_replace": "regexp_replace(s, 'a', 'b', 'g')", "strftime": "strftime(d, '%Y')"},
    **{"date_diff": "date_diff('day', d, d)", "datediff": "datediff('month', d, d)"},
    **{"date_part": "date_part('year', d)", "datepart": "datepart('dow', d)"},
    **{"current_date": "current_date", "greatest": "greatest(a, b)", "least": "least(a, 1)"},
    **{"isnan": "isnan(a)", "try_cast": "try_cast(a AS INTEGER)"},
}


def test_the_functions_errors_list_are_supported() -> None:
    from hasivu_compute.sql.aggregates import AGGREGATE_FUNCTIONS
    from hasivu_compute.sql.lower_expr import SCALAR_FUNCTIONS

    assert set(_EXAMPLE_CALLS) == {*SCALAR_FUNCTIONS, *AGGREGATE_FUNCTIONS}
    for call in _EXAMPLE_CALLS.values():
        to_plan(f"SELECT {call} FROM t", schema=SCHEMA)
