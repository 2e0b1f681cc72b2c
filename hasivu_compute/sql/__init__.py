"""SQL front end: sqlglot (DuckDB dialect) AST -> unbound logical plan.

>>> from hasivu_compute.sql import to_plan
>>> type(to_plan("SELECT school_id, count(*) AS n FROM orders GROUP BY 1")).__name__
'Project'

Supported: SELECT with expressions and aliases, ``*``, WHERE, GROUP BY (names,
positions, expressions, ALL, ``()``, ROLLUP, CUBE, GROUPING SETS, with ``GROUPING()``
/ ``grouping_id()``; see ``sql.grouping_sets``), HAVING, ORDER BY (alias, position, expression,
ALL; ASC/DESC, NULLS FIRST/LAST), LIMIT/OFFSET (LIMIT ALL), DISTINCT, CASE, IN,
BETWEEN, LIKE/ILIKE, IS [NOT] NULL, IS [NOT] DISTINCT FROM, CAST, COALESCE/NULLIF/IF,
``substring``/``substr`` with constant positions, string functions (``concat``,
``||``, ``replace``, ``left``/``right``, ``lpad``/``rpad``, ``split_part``,
``regexp_matches``/``regexp_replace``; constant positions, widths, patterns),
``greatest``/``least``, ``isnan``, ``TRY_CAST`` (not from text), LIKE/ILIKE ... ESCAPE,
arithmetic with DuckDB semantics (``/`` is floating-point, ``//`` integer division),
date functions (year/month/day/hour/quarter/week/dow/doy, EXTRACT, date_part,
date_trunc, date_diff/datediff, strftime, current_date (read once per query),
DATE/TIMESTAMP literals, ``± INTERVAL`` folded on constants, as a duration on
columns for fixed-length units and as calendar months for months and years),
SELECT without FROM (one row), subqueries in FROM, CTEs, UNION [ALL], INTERSECT [ALL],
EXCEPT [ALL] (``sql.set_ops``), joins
(``JOIN ... ON``, ``USING``, ``NATURAL``, comma joins; INNER, LEFT, RIGHT, FULL, SEMI,
ANTI, CROSS; tables need known columns: pass ``schema=``), subqueries in WHERE
(``IN``, ``NOT IN`` with SQL's NULL rule, ``[NOT] EXISTS`` correlated or not,
scalar aggregates without GROUP BY, correlated on equalities or not; an uncorrelated
scalar aggregate in HAVING; scalar aggregates in the SELECT list, correlated on
equalities or not, uncorrelated in a grouped SELECT; see ``sql.subqueries``),
count(DISTINCT), sum/avg/min/max/var/stddev, approx_count_distinct, approx_quantile,
window functions (row_number, rank, dense_rank, percent_rank, cume_dist, ntile, lag,
lead, first_value, last_value, nth_value, and sum/avg/count/min/max over ROWS or
RANGE frames with numeric or interval offsets; over groups; named ``WINDOW``
definitions; ``QUALIFY``; see ``sql.windows``),
exact median / quantile_cont / quantile_disc (``quantile``) with a constant quantile or
a list of them, string_agg / group_concat / listagg (a constant separator, ORDER BY
inside), ``FILTER (WHERE ...)`` on every aggregate (``sql.aggregate_calls``),
time travel by version (``t AT (VERSION => 2)``, ``t FOR VERSION AS OF 2``).
Anything else raises :class:`UnsupportedSQLError` with its line and column: every
clause or argument sqlglot parses is either read or refused (``sql.clauses``).
Errors name what the user wrote (``lpad()``, not sqlglot's ``PAD``; the token where
parsing stopped) and end with what to do (``error.hint``); sqlglot's own messages
and class names never reach the user.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping, Sequence

import pyarrow as pa
from sqlglot import exp

from hasivu_compute._core.errors import ParseError, UnsupportedSQLError
from hasivu_compute.plan.nodes import PlanNode
from hasivu_compute.sql.lower_query import QueryLowering
from hasivu_compute.sql.parsing import parse_sql

__all__ = ["ParseError", "SchemaSource", "UnsupportedSQLError", "to_plan"]

_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)

#: What ``to_plan(schema=...)`` accepts: a mapping or a function from table name
#: to its Arrow schema or column names (None / missing = unknown). A function that
#: also takes a version (``schema(name, version)``) is asked for time-travel reads too
#: (``t AT (VERSION => 2)``), so their columns are known while lowering (joins need them).
SchemaSource = (
    Mapping[str, "pa.Schema | Sequence[str]"]
    | Callable[[str], "pa.Schema | Sequence[str] | None"]
    | Callable[[str, "int | None"], "pa.Schema | Sequence[str] | None"]
)


def to_plan(
    sql_text: str,
    *,
    schema: SchemaSource | None = None,
    today: Callable[[], dt.date] | None = None,
) -> PlanNode:
    """Parse one SQL query and lower it to an unbound, name-based logical plan.

    Args:
        sql_text: one SELECT / WITH / UNION query (DuckDB dialect).
        schema: optional table schemas. Without them the plan is still exact, but
            what needs a table's column list is refused instead of guessed:
            ``*`` next to other items, and names that may be either a SELECT alias
            or an input column (DuckDB prefers the input column).
        today: the clock ``current_date`` reads (at most once per query; default: the
            UTC date). The value is a literal of the plan, so every shard agrees.

    Raises:
        ParseError: invalid SQL (``line``/``col`` of the offending token).
        UnsupportedSQLError: valid SQL we do not support yet (``construct``, ``line``, ``col``).
        BindError: a query that is invalid against its tables (unknown column, a
            column neither grouped nor aggregated, ...).
    """
    tree, source = parse_sql(sql_text)
    if today is not None:
        source.clock = today
    lowering = QueryLowering(source, _lookup(schema))
    if not isinstance(tree, _QUERY_TYPES):
        line, col = source.first_token()
        first = source.written_at(source.tokens[0][0]).upper() if source.tokens else ""
        construct = f"statement {first or tree.key.upper()} (only queries)"
        hint = "c.sql() answers queries; change tables with the SDK (create_table, ingest, ...)"
        raise UnsupportedSQLError(construct, line=line, col=col, hint=hint)
    return lowering.query(tree, {}).plan


def _takes_version(fn: Callable[..., object]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def _lookup(
    schema: SchemaSource | None,
) -> Callable[[str, int | None], tuple[str, ...] | None]:
    def names(value: object) -> tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, pa.Schema):
            return tuple(value.names)
        return tuple(str(v) for v in value)  # type: ignore[attr-defined]

    versioned = callable(schema) and _takes_version(schema)

    def lookup(table: str, version: int | None = None) -> tuple[str, ...] | None:
        if schema is None:
            return None
        if version is not None:  # an older version may have other columns: ask, or unknown
            return names(schema(table, version)) if versioned else None  # type: ignore[call-arg]
        if isinstance(schema, Mapping):
            found = schema.get(table)
            if found is None:
                folded = [k for k in schema if k.lower() == table.lower()]
                found = schema[folded[0]] if len(folded) == 1 else None
            return names(found)
        return names(schema(table))  # type: ignore[call-arg]

    return lookup
