"""Parse SQL text with sqlglot (DuckDB dialect) and keep source positions for errors.

sqlglot records line/column only on some nodes (identifiers, literals, function
names). An error about a JOIN, a set operation or a subquery should point at the
construct itself, so the parser here records the first token of a few more node
kinds, and :func:`position` falls back to the earliest positioned descendant.
Columns are 1-based and point at the first character of the construct (sqlglot's
own token column points at the last one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError

from hasivu_compute._core.errors import ParseError, UnsupportedSQLError

__all__ = ["SqlText", "parse_sql"]

# Parser methods whose result should carry the position of the token they start at.
_POSITIONED_METHODS = (
    "_parse_join",
    "_parse_select",
    "_parse_lateral",
    "_parse_table",
    "_parse_primary",
    "_parse_unary",
    "_parse_case",
)


def _record_start(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = self._curr
        result = method(self, *args, **kwargs)
        start = getattr(token, "start", None)
        if isinstance(result, exp.Expr) and isinstance(start, int) and "start" not in result.meta:
            result.meta["start"] = start
        return result

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class _PositionedParser(DuckDB.Parser):  # type: ignore[misc, valid-type]
    """DuckDB's parser, recording start offsets on more node kinds."""


for _name in _POSITIONED_METHODS:
    setattr(_PositionedParser, _name, _record_start(getattr(DuckDB.Parser, _name)))


class SqlText:
    """The SQL source, able to turn a character offset into a (line, column) pair."""

    __slots__ = ("_line_starts", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        # (start offset, upper-cased text; "" for string literals and quoted names, so
        # their contents never pass for a keyword or a comma)
        self.tokens: tuple[tuple[int, str], ...] = ()
        starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                starts.append(index + 1)
        self._line_starts = starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a 0-based character offset."""
        import bisect

        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def position(self, node: exp.Expr) -> tuple[int | None, int | None]:
        """Where a node starts: its own offset, else its earliest positioned descendant."""
        best: int | None = None
        for sub in node.walk():
            start = sub.meta.get("start") if sub._meta else None
            if isinstance(start, int) and (best is None or start < best):
                best = start
        if best is None:
            return None, None
        return self.line_col(best)

    def keyword_position(
        self, words: frozenset[str], before: exp.Expr
    ) -> tuple[int | None, int | None]:
        """Position of the last token among ``words`` that starts before ``before`` does."""
        line, col = self.position(before)
        if line is None or col is None:
            return None, None
        limit = self._line_starts[line - 1] + col - 1
        found = [start for start, text in self.tokens if start < limit and text in words]
        return self.line_col(found[-1]) if found else (line, col)

    def keyword_after(self, words: frozenset[str], node: exp.Expr) -> tuple[int | None, int | None]:
        """Position of the first token among ``words`` at or after ``node``'s start
        (for clauses that follow their node: ``t WITH ORDINALITY``, ``t AT (...)``)."""
        line, col = self.position(node)
        if line is None or col is None:
            return None, None
        start = self._line_starts[line - 1] + col - 1
        found = [offset for offset, text in self.tokens if offset >= start and text in words]
        return self.line_col(found[0]) if found else (line, col)

    def word_at(self, node: exp.Expr) -> str | None:
        """The (upper-cased) token where ``node`` starts, e.g. a function name as typed."""
        line, col = self.position(node)
        if line is None or col is None:
            return None
        start = self._line_starts[line - 1] + col - 1
        return next((text for offset, text in self.tokens if offset == start), None)

    def argument_count(self, node: exp.Expr) -> int | None:
        """How many arguments the call starting at ``node`` was written with, counted on
        the tokens (sqlglot drops some: ``date_trunc('day', ts, 'UTC')``); None if unknown."""
        line, col = self.position(node)
        if line is None or col is None:
            return None
        start = self._line_starts[line - 1] + col - 1
        texts = [text for offset, text in self.tokens if offset >= start]
        if len(texts) < 3 or texts[1] != "(":
            return None
        if texts[2] == ")":
            return 0
        depth, count = 0, 1
        for text in texts[1:]:
            if text in ("(", "[", "{"):
                depth += 1
            elif text in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    return count
            elif text == "," and depth == 1:
                count += 1
        return None

    def last_keyword(self, words: frozenset[str]) -> tuple[int | None, int | None]:
        """Position of the statement's last token among ``words`` (``FOR UPDATE``)."""
        found = [offset for offset, text in self.tokens if text in words]
        return self.line_col(found[-1]) if found else (None, None)

    def unsupported(
        self, node: exp.Expr, construct: str, keyword: str | None = None
    ) -> UnsupportedSQLError:
        """An :class:`UnsupportedSQLError` naming ``construct`` at ``node``'s position.

        ``keyword``: point at the last such keyword before the node instead (for
        nodes that start with a keyword sqlglot keeps no position for).
        """
        if keyword is not None:
            line, col = self.keyword_position(frozenset({keyword}), node)
        else:
            line, col = self.position(node)
        return UnsupportedSQLError(construct, line=line, col=col)

    def first_token(self) -> tuple[int | None, int | None]:
        """Position of the statement's first token."""
        return self.line_col(self.tokens[0][0]) if self.tokens else (None, None)

    def where(self, node: exp.Expr) -> str:
        """`` at line L, column C`` for messages of errors that carry no position fields."""
        line, col = self.position(node)
        return "" if line is None else f" at line {line}, column {col}"


def parse_sql(text: str) -> tuple[exp.Expr, SqlText]:
    """Parse one SQL statement (DuckDB dialect).

    Raises:
        ParseError: the text is not valid SQL, or holds no / several statements;
            ``line`` and ``col`` point at the offending token.
    """
    source = SqlText(text)
    dialect = DuckDB()
    tokenizer = dialect.tokenizer()
    try:
        tokens = tokenizer.tokenize(text)
    except TokenError as error:
        # the tokenizer keeps the start of the token it failed on (an unclosed quote...)
        offset = getattr(getattr(tokenizer, "_core", tokenizer), "_start", None)
        line, col = source.line_col(offset) if isinstance(offset, int) else (None, None)
        reason = error.__cause__ or error
        raise ParseError(f"cannot tokenize SQL: {reason}", line=line, col=col) from None
    source.tokens = tuple((token.start, _token_text(token)) for token in tokens)
    parser = _PositionedParser(dialect=dialect)
    try:
        statements = [s for s in parser.parse(tokens, text) if s is not None]
    except SqlglotParseError as error:
        raise _parse_error(error, source) from None
    if len(statements) != 1:
        raise ParseError(
            f"expected exactly one SQL statement, got {len(statements)}", line=1, col=1
        )
    return statements[0], source


def _token_text(token: Any) -> str:
    kind = token.token_type.name
    return "" if kind.endswith("STRING") or kind == "IDENTIFIER" else str(token.text).upper()


def _parse_error(error: SqlglotParseError, source: SqlText) -> ParseError:
    details = error.errors[0] if error.errors else {}
    line, col = details.get("line"), details.get("col")
    highlight = details.get("highlight") or ""
    if isinstance(col, int) and highlight and "\n" not in highlight:
        col = max(1, col - len(highlight) + 1)  # sqlglot's column is the token's last character
    description = details.get("description") or str(error)
    near = f" near {highlight!r}" if highlight else ""
    return ParseError(f"invalid SQL: {description}{near}", line=line, col=col)
