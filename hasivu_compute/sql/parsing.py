"""Parse SQL text with sqlglot (DuckDB dialect) and keep source positions for errors.

sqlglot records line/column only on some nodes (identifiers, literals, function
names). An error about a JOIN, a set operation or a subquery should point at the
construct itself, so the parser here records the first token of a few more node
kinds, and :func:`position` falls back to the earliest positioned descendant.
Columns are 1-based and point at the first character of the construct (sqlglot's
own token column points at the last one).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
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


def utc_today() -> dt.date:
    """Today's date in UTC: what ``current_date`` is (DuckDB with ``TimeZone = 'UTC'``)."""
    return dt.datetime.now(dt.UTC).date()


class SqlText:
    """The SQL source, able to turn a character offset into a (line, column) pair.

    It also holds the query's ``current_date``: read from ``clock`` at most once, so
    every use in one query (and every shard running its fragments) sees one value.
    """

    __slots__ = ("_line_starts", "_today", "clock", "spans", "text", "tokens")

    def __init__(self, text: str, clock: Callable[[], dt.date] = utc_today) -> None:
        self.text = text
        self.clock = clock
        self._today: dt.date | None = None
        # (start offset, upper-cased text; "" for string literals and quoted names, so
        # their contents never pass for a keyword or a comma)
        self.tokens: tuple[tuple[int, str], ...] = ()
        self.spans: dict[int, int] = {}  # token start offset -> end offset (exclusive)
        starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                starts.append(index + 1)
        self._line_starts = starts

    def today(self) -> dt.date:
        """The query's ``current_date`` (the clock is read on the first call only)."""
        if self._today is None:
            self._today = self.clock()
        return self._today

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a 0-based character offset."""
        import bisect

        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def position(self, node: exp.Expr) -> tuple[int | None, int | None]:
        """Where a node starts: its own offset, else its earliest positioned descendant."""
        own = node.meta.get("start") if node._meta else None
        if isinstance(own, int):
            return self.line_col(own)
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

    def written_at(self, offset: int) -> str:
        """The token starting at ``offset`` as the user wrote it (case and quotes kept)."""
        return self.text[offset : self.spans.get(offset, offset)]

    def function_name(self, node: exp.Func) -> str | None:
        """The name a function call was written with (``lpad``, not sqlglot's ``PAD``);
        None when the call has no name (``[1, 2]``, ``{'a': 1}``) or its text is unknown."""
        line, col = self.position(node)
        if line is None or col is None:
            return None
        word = self.written_at(self._line_starts[line - 1] + col - 1)
        return word if word[:1].isalpha() or word[:1] == "_" else None

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
        self,
        node: exp.Expr,
        construct: str,
        keyword: str | None = None,
        *,
        hint: str | None = None,
    ) -> UnsupportedSQLError:
        """An :class:`UnsupportedSQLError` naming ``construct`` at ``node``'s position.

        ``keyword``: point at the last such keyword before the node instead (for
        nodes that start with a keyword sqlglot keeps no position for). ``hint``:
        what to do instead (a general one when None).
        """
        if keyword is not None:
            line, col = self.keyword_position(frozenset({keyword}), node)
        else:
            line, col = self.position(node)
        return UnsupportedSQLError(construct, line=line, col=col, hint=hint)

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
            ``line`` and ``col`` point at the offending token, the message names
            it (as written) and says what to do.
    """
    source = SqlText(text)
    dialect = DuckDB()
    tokenizer = dialect.tokenizer()
    try:
        tokens = tokenizer.tokenize(text)
    except TokenError as error:
        # the tokenizer keeps the start of the token it failed on (an unclosed quote...)
        offset = getattr(getattr(tokenizer, "_core", tokenizer), "_start", None)
        raise _token_error(error, offset if isinstance(offset, int) else None, source) from None
    source.tokens = tuple((token.start, _token_text(token)) for token in tokens)
    source.spans = {token.start: token.end + 1 for token in tokens}
    _check_first_word(tokens, source)
    parser = _PositionedParser(dialect=dialect)
    try:
        statements = [s for s in parser.parse(tokens, text) if s is not None]
    except SqlglotParseError as error:
        raise _syntax_error(error, parser, source) from None
    if len(statements) != 1:
        raise _statement_count_error(len(statements), source)
    return statements[0], source


def _statement_count_error(count: int, source: SqlText) -> ParseError:
    if count == 0:
        return ParseError(
            "expected one SQL query, got none", line=1, col=1, hint="write a SELECT query"
        )
    separators = [offset for offset, text in source.tokens if text == ";"]
    after = [offset for offset, _ in source.tokens if separators and offset > separators[0]]
    line, col = source.line_col(after[0]) if after else (1, 1)
    return ParseError(
        f"expected exactly one SQL statement, got {count}",
        line=line,
        col=col,
        hint="send one query per call",
    )


def _token_text(token: Any) -> str:
    kind = token.token_type.name
    return "" if kind.endswith("STRING") or kind == "IDENTIFIER" else str(token.text).upper()


# --- errors in the user's words ------------------------------------------------------

#: Words a query starts with (the only statements we answer).
_QUERY_STARTS = ("SELECT", "WITH", "FROM", "VALUES")
#: Keywords a misspelled word is compared with ("WHER" -> did you mean WHERE?).
_KEYWORDS = (
    *_QUERY_STARTS,
    *("WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION", "ALL"),
    *("DISTINCT", "AS", "AND", "OR", "NOT", "BETWEEN", "LIKE", "ILIKE", "CASE", "WHEN"),
    *("THEN", "ELSE", "END", "CAST", "IS", "NULL", "ASC", "DESC", "NULLS", "INTERVAL"),
)
#: sqlglot operator classes -> the operator as SQL writes it.
_OPERATORS = {
    **{"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "IntDiv": "//", "Mod": "%"},
    **{"Pow": "**", "EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="},
    **{"And": "AND", "Or": "OR", "Not": "NOT", "Neg": "-", "Like": "LIKE", "ILike": "ILIKE"},
    **{"DPipe": "||", "Is": "IS", "In": "IN", "Alias": "AS", "Paren": "("},
}
_QUERY_OPERATORS = {"Union": "UNION", "Intersect": "INTERSECT", "Except": "EXCEPT"}
_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '(?:\w+\.)*(\w+)'>")
_CLOSERS = re.compile(r"Expect(?:ing|ed) ([()\[\]{}<>])$")
_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: .*?>")
_CLASS_REPR = re.compile(r"<class '(?:\w+\.)*(\w+)'>")


def _keyword_like(word: str | None) -> str | None:
    """The keyword ``word`` looks like a misspelling of (not the keyword itself)."""
    if not word or word.upper() in _KEYWORDS or not word.replace("_", "").isalnum():
        return None
    found = difflib.get_close_matches(word.upper(), _KEYWORDS, n=1, cutoff=0.75)
    return found[0] if found else None


def _check_first_word(tokens: list[Any], source: SqlText) -> None:
    """A statement that starts with a plain word is no query: say what a query starts with."""
    if not tokens or tokens[0].token_type.name != "VAR":
        return
    word = source.written_at(tokens[0].start)
    close = difflib.get_close_matches(word.upper(), _QUERY_STARTS, n=1, cutoff=0.6)
    if close:
        raise ParseError(
            f"syntax error: a query starts with SELECT, WITH or FROM, not {word!r}",
            line=1,
            col=1,
            hint=f"did you mean {close[0]}?",
        )


def _token_error(error: TokenError, offset: int | None, source: SqlText) -> ParseError:
    """A tokenizer failure (an unclosed quote or comment, a stray character) in user terms."""
    reason = str(error.__cause__ or error)
    missing = re.match(r"Missing (\S+) from", reason)
    comment = source.text.find("/*", offset or 0)
    if missing is not None:
        quote = missing.group(1)
        kind = {"'": "string literal", '"': "quoted name"}.get(quote, f"{quote}-quoted text")
        what, hint = f"unterminated {kind}", f"add the closing {quote}"
    elif comment >= 0 and "*/" not in source.text[comment:]:
        what, hint, offset = "unterminated comment", "close it with */", comment
    else:
        snippet = source.text[offset or 0 :][:20]
        what = f"cannot read the SQL text at {snippet!r}"
        hint = "check for unbalanced quotes or comments and characters outside SQL"
    line, col = source.line_col(offset) if offset is not None else (None, None)
    return ParseError(f"syntax error: {what}", line=line, col=col, hint=hint)


def _syntax_error(error: SqlglotParseError, parser: Any, source: SqlText) -> ParseError:
    """sqlglot's parse error as a :class:`ParseError` that names the tokens as written,
    points at the offending one and says what to do (sqlglot's own messages name its
    classes: ``Required keyword: 'expression' missing for <class '...Mul'>``)."""
    details = error.errors[0] if error.errors else {}
    description = str(details.get("description") or error)
    # sqlglot stops at the unexpected token, or past the last one when the query ends early
    curr, prev = getattr(parser, "_curr", None), getattr(parser, "_prev", None)
    found = source.written_at(curr.start) if curr else None
    last = source.written_at(prev.start) if prev else None
    what, hint = _explain(description, found, last, source, curr)
    line, col = _error_position(details, source)
    return ParseError(f"syntax error: {what}", line=line, col=col, hint=hint)


def _explain(
    description: str, found: str | None, last: str | None, source: SqlText, curr: Any
) -> tuple[str, str]:
    """(what happened, what to do) for one sqlglot error description."""
    then = f", found {found!r}" if found is not None else " but the query ends there"
    missing = _MISSING.match(description)
    if missing is not None:
        return _explain_missing(missing.group(1), missing.group(2), then, last, source, curr)
    closer = _CLOSERS.match(description)
    if closer is not None:
        where = f" before {found!r}" if found is not None else " but the query ends there"
        return f"expected {closer.group(1)!r}{where}", f"add the missing {closer.group(1)!r}"
    if description.startswith("Expected table name"):
        after = f" after {last!r}" if last else ""
        return (
            f"expected a table name{after}{then}",
            "name the table to read (FROM orders) or a query in parentheses",
        )
    if "Unexpected token" in description:
        if found is None:
            return f"the query ends too early after {last!r}", "complete the query"
        after = f" after {last!r}" if last else ""
        meant = _keyword_like(last) or _keyword_like(found)
        hint = (
            f"did you mean {meant}?"
            if meant
            else "look for a missing comma or operator, a misspelled keyword, or a "
            'reserved word used as a name (quote it: "name")'
        )
        return f"unexpected {found!r}{after}", hint
    plain = _CLASS_REPR.sub(r"\1", _TOKEN_REPR.sub(_token_repr, description)).rstrip(".")
    return (
        f"{plain[:1].lower()}{plain[1:]}{then}",
        "check the syntax of this clause against DuckDB's",
    )


def _explain_missing(
    arg: str, kind: str, then: str, last: str | None, source: SqlText, curr: Any
) -> tuple[str, str]:
    """(what happened, what to do) for "a <kind> node misses its <arg> part"."""
    node_class = getattr(exp, kind, None)
    if kind == "Between":
        return "BETWEEN needs both bounds" + then, "write x BETWEEN low AND high"
    if kind == "If":
        return "CASE WHEN <condition> needs THEN <value>" + then, "add THEN and the value"
    if kind == "Cast":
        return "CAST needs a value and a type" + then, "write CAST(x AS BIGINT)"
    if kind in _QUERY_OPERATORS:
        word = _QUERY_OPERATORS[kind]
        return f"{word!r} must be followed by a query{then}", f"add a SELECT after {word}"
    if kind in _OPERATORS and arg == "this" and kind not in ("Not", "Neg", "Paren"):
        symbol = _OPERATORS[kind]
        return f"{symbol!r} needs an expression on its left", f"add one before {symbol!r}"
    if isinstance(node_class, type) and issubclass(node_class, exp.Func) and kind not in _OPERATORS:
        name = _enclosing_call(source, curr)
        if name is not None:
            return f"{name}() is missing an argument{then}", f"give {name}() its arguments"
    if last is None:
        return "the query is incomplete", "complete the query"
    return (
        f"{last!r} must be followed by an expression{then}",
        f"add an expression after {last!r} or remove {last!r}",
    )


def _enclosing_call(source: SqlText, curr: Any) -> str | None:
    """The function name before the innermost '(' still open where parsing stopped."""
    stop = curr.start if curr else len(source.text)
    depth = 0
    before = [(offset, text) for offset, text in source.tokens if offset < stop]
    for index in range(len(before) - 1, 0, -1):
        text = before[index][1]
        if text == ")":
            depth += 1
        elif text == "(":
            if depth == 0:
                name = source.written_at(before[index - 1][0])
                return name if name[:1].isalpha() else None
            depth -= 1
    return None


def _token_repr(match: re.Match[str]) -> str:
    return "the end of the query" if match.group(1) == "SENTINEL" else repr(match.group(2))


def _error_position(details: dict[str, Any], source: SqlText) -> tuple[int | None, int | None]:
    """Start of the token sqlglot reports (its column is the token's last character)."""
    line, col = details.get("line"), details.get("col")
    if not isinstance(line, int) or not isinstance(col, int):
        return None, None
    for start, end in source.spans.items():
        if source.line_col(end - 1) == (line, col):
            return source.line_col(start)
    highlight = details.get("highlight") or ""
    if highlight and "\n" not in highlight:
        col = max(1, col - len(highlight) + 1)
    return line, col
