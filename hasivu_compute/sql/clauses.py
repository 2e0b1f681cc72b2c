"""Refuse what sqlglot parsed but the lowering does not read; read time travel.

sqlglot nodes carry many optional arguments (``Table.sample``,
``Limit.limit_options``, ``Min.count``, ``Ordered.with_fill`` ...). The
lowering reads the ones it implements; any other argument that is set must
raise :class:`UnsupportedSQLError` at its position, never be dropped, because
dropping one changes the answer: ``LIMIT 10 PERCENT`` answered as ``LIMIT 10``,
``min(x, 2)`` (the two smallest) as ``min(x)``, ``AT (VERSION => 2)`` from the
current version. :func:`refuse_unread` checks a node against the arguments its
caller reads, so an argument a new sqlglot release adds is refused too.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp

from hasivu_compute._core.errors import ConfigError, UnsupportedSQLError
from hasivu_compute.sql.parsing import SqlText

__all__ = ["refuse_unread", "table_version", "unsupported_arg"]

#: Construct names by (node key, argument), then by argument alone.
_NAMES: dict[tuple[str, str] | str, str] = {
    ("limit", "expressions"): "LIMIT BY",
    ("min", "count"): "min(x, n) (a list of the n smallest values)",
    ("max", "count"): "max(x, n) (a list of the n largest values)",
    ("group", "expressions"): "GROUP BY ALL with other expressions",
    "laterals": "LATERAL",
    "joins": "JOIN",
    "qualify": "QUALIFY",
    "windows": "WINDOW clause",
    "sample": "TABLESAMPLE / USING SAMPLE",
    "pivots": "PIVOT / UNPIVOT",
    "into": "SELECT INTO",
    "kind": "SELECT AS STRUCT/VALUE",
    "hint": "optimizer hint",
    "hints": "table hint WITH (...)",
    "locks": "FOR UPDATE / FOR SHARE",
    "only": "FROM ONLY",
    "ordinality": "WITH ORDINALITY",
    "with_fill": "ORDER BY ... WITH FILL",
    "siblings": "ORDER SIBLINGS BY",
    "changes": "CHANGES clause",
    "system_time": "FOR SYSTEM_TIME",
    "partition": "table PARTITION (...)",
    "indexed": "INDEXED BY",
    "rows_from": "ROWS FROM",
    "connect": "CONNECT BY",
    "prewhere": "PREWHERE",
    "distribute": "DISTRIBUTE BY",
    "sort": "SORT BY",
    "cluster": "CLUSTER BY",
    "settings": "SETTINGS",
    "options": "OPTION (...)",
    "format": "FORMAT clause",
    "match": "MATCH_RECOGNIZE",
    "for_": "FOR XML / JSON",
    "operation_modifiers": "SELECT modifier",
    "exclude": "SELECT EXCLUDE",
    "search": "WITH ... SEARCH",
    "cycle": "WITH ... CYCLE",
    "udfs": "WITH FUNCTION",
    "scalar": "scalar CTE",
    "key_expressions": "CTE USING KEY",
    "join_mark": "(+) outer join mark",
    "by_name": "UNION BY NAME",
    "side": "UNION side (LEFT/FULL)",
    "on": "UNION ON",
}

#: Clauses written after their node, found by keyword (sqlglot keeps no position for them).
_FOLLOWING: dict[str, frozenset[str]] = {
    "sample": frozenset({"TABLESAMPLE", "USING"}),
    "pivots": frozenset({"PIVOT", "UNPIVOT"}),
    "hints": frozenset({"WITH"}),
    "ordinality": frozenset({"WITH"}),
    "only": frozenset({"ONLY"}),
    "partition": frozenset({"PARTITION"}),
    "indexed": frozenset({"INDEXED"}),
    "changes": frozenset({"CHANGES"}),
    "system_time": frozenset({"FOR"}),
}
_TIME_TRAVEL_WORDS = frozenset({"AT", "BEFORE", "FOR", "VERSION", "TIMESTAMP"})


def _is_set(value: object) -> bool:
    if isinstance(value, list):
        return bool(value)
    return value is not None and value is not False


def refuse_unread(node: exp.Expr, read: Collection[str], source: SqlText) -> None:
    """Raise for the first argument of ``node`` that is set but not in ``read``.

    Raises:
        UnsupportedSQLError: naming the construct, at its position.
    """
    for arg, value in node.args.items():
        if arg not in read and _is_set(value):
            raise unsupported_arg(node, arg, source)


def unsupported_arg(node: exp.Expr, arg: str, source: SqlText) -> UnsupportedSQLError:
    """The error for argument ``arg`` of ``node``: its construct name and position."""
    value = node.args.get(arg)
    name = _NAMES.get((node.key, arg)) or _NAMES.get(arg)
    if name is None and isinstance(node, exp.Func):
        name = f"{_typed_name(node, source)}() with {_argument_words(node, arg, source)}"
    if name is None:
        name = f"{node.key.upper()} {arg.rstrip('_').upper()}"
    words = _FOLLOWING.get(arg)
    if words is not None:
        line, col = source.keyword_after(words, node)
    elif arg == "locks":
        line, col = source.last_keyword(frozenset({"FOR"}))
    elif isinstance(node, exp.Func):
        line, col = source.position(node)  # point at the function, not its extra argument
    else:
        target = value[0] if isinstance(value, list) else value
        line, col = source.position(target) if isinstance(target, exp.Expr) else (None, None)
        if line is None:
            line, col = source.position(node)
    return UnsupportedSQLError(name, line=line, col=col)


def _argument_words(node: exp.Func, arg: str, source: SqlText) -> str:
    """``a mode argument`` when sqlglot's name for it means something to a user, else
    how many arguments were written (``expression`` is sqlglot's word, not theirs)."""
    word = arg.rstrip("_")
    if word not in ("this", "expression", "expressions"):
        return f"{'an' if word[0] in 'aeiou' else 'a'} {word} argument"
    written = source.argument_count(node)
    return f"{written} arguments" if written is not None else "these arguments"


def _typed_name(node: exp.Func, source: SqlText) -> str:
    """The function name as written (sqlglot's class name when the text is unknown)."""
    return source.function_name(node) or node.sql_name().lower()


def table_version(node: exp.Table, source: SqlText) -> int | None:
    """The snapshot version a table reference asks for, or None for the current one.

    ``AT (VERSION => n)`` (DuckDB), ``FOR VERSION AS OF n`` and ``VERSION AS OF n``
    read version ``n``; other time travel (by timestamp, ``BEFORE``, ranges) is refused.

    Raises:
        UnsupportedSQLError: time travel we cannot answer exactly, or a version that
            is not a non-negative integer literal.
        ConfigError: version 0 (versions are numbered from 1), as ``c.table`` says.
    """
    when = node.args.get("when")
    version = node.args.get("version")
    if when is None and version is None:
        return None
    if when is not None and version is not None:
        raise _time_travel_error(node, "two time travel clauses", source)
    if when is not None:
        point, kind = str(when.this).upper(), str(when.args.get("kind")).upper()
        if point != "AT" or kind != "VERSION":
            shown = f"{point} ({kind} => ...)"
            raise _time_travel_error(node, f"time travel {shown}; use AT (VERSION => n)", source)
        value = when.expression
    else:
        assert version is not None
        by, kind = str(version.this).upper(), str(version.args.get("kind")).upper()
        if by != "VERSION" or kind != "AS OF":
            shown = f"FOR {'SYSTEM_TIME / TIMESTAMP' if by == 'TIMESTAMP' else by} {kind}"
            raise _time_travel_error(node, f"time travel {shown}; use AT (VERSION => n)", source)
        value = version.expression
    if not (isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit()):
        raise source.unsupported(
            value, "time travel version other than a non-negative integer literal"
        )
    if int(value.this) < 1:  # the same error as c.table(name, version=0), with a position
        raise ConfigError(
            f"version of table {node.name!r} must be a version number, an int >= 1 (versions "
            f"are numbered from 1), got {value.this}{source.where(value)}"
        )
    return int(value.this)


def _time_travel_error(node: exp.Table, construct: str, source: SqlText) -> UnsupportedSQLError:
    line, col = source.keyword_after(_TIME_TRAVEL_WORDS, node)
    return UnsupportedSQLError(construct, line=line, col=col)
