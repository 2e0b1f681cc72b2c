"""One error hierarchy for hasivu_compute.

Every error we raise is a :class:`HasivuError`. Errors caused by what a user
passed in (a bad column name, a value that does not fit, malformed SQL) also
inherit ``ValueError`` / ``TypeError`` / ``LookupError`` so plain Python code
that catches those keeps working. A message says what happened, with which
value, and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class HasivuError(Exception):
    """Base class of every error raised by hasivu_compute.

    Errors pickle as they are (message and attributes, without running
    ``__init__`` again), so one raised in an actor reaches the caller as the
    same typed error with the same message.
    """

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(
    cls: type[HasivuError], args: tuple[object, ...], state: dict[str, object]
) -> HasivuError:
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


# --- configuration and user input -------------------------------------------------


class ConfigError(HasivuError, ValueError):
    """A setting or connection argument is invalid."""


class SchemaMismatchError(HasivuError, TypeError):
    """Data does not match a table schema (wrong type, missing column, extra column).

    Attributes:
        column: the offending column name, when one is known.
        row: the offending row index inside the batch, when one is known.
    """

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None):
        super().__init__(message)
        self.column = column
        self.row = row


class InvalidDataError(HasivuError, ValueError):
    """A value has the right type but does not fit (overflow, null in a non-nullable column)."""

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None):
        super().__init__(message)
        self.column = column
        self.row = row


class ArithmeticOverflowError(InvalidDataError, OverflowError):
    """An exact integer result does not fit its type (``sum`` over int64, ``big * 4``).

    Raised instead of returning a wrapped or clamped value; ``except OverflowError``
    and ``except InvalidDataError`` both catch it.
    """


class ParseError(HasivuError, ValueError):
    """SQL text could not be parsed; carries the 1-based line and column.

    Attributes:
        line: 1-based line of the offending token (None if unknown).
        col: 1-based column of its first character (None if unknown).
        hint: what the user can do about it, also the end of the message.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = f" (line {line}, column {col})" if line is not None else ""
        advice = f"; {hint}" if hint else ""
        super().__init__(f"{message}{where}{advice}")
        self.line = line
        self.col = col
        self.hint = hint


#: Advice for SQL we do not support when nothing more specific applies.
UNSUPPORTED_SQL_HINT = (
    "rewrite the query without it; help(hasivu_compute.sql) lists the SQL supported"
)


class UnsupportedSQLError(ParseError):
    """Valid SQL that we do not support yet; never answered wrongly instead.

    Attributes:
        construct: what the user wrote that is not supported, in their words.
    """

    def __init__(
        self,
        construct: str,
        *,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(
            f"unsupported SQL construct: {construct}",
            line=line,
            col=col,
            hint=hint or UNSUPPORTED_SQL_HINT,
        )
        self.construct = construct


class BindError(HasivuError, ValueError):
    """An expression refers to an unknown column or combines incompatible types."""


class PlanError(HasivuError):
    """A plan node was built with inconsistent inputs (an internal or API misuse)."""


# --- storage ----------------------------------------------------------------------


class StorageError(HasivuError):
    """Reading or writing table files failed."""


class ChecksumError(StorageError):
    """Bytes read from storage do not match their checksum, or are truncated.

    Attributes:
        path: the file that failed the check.
        column: the column whose block failed, if the failure is in a column block.
        chunk: the chunk index, if the failure is in a column block.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        column: str | None = None,
        chunk: int | None = None,
    ) -> None:
        parts = [message]
        if path is not None:
            parts.append(f"file={path}")
        if column is not None:
            parts.append(f"column={column}")
        if chunk is not None:
            parts.append(f"chunk={chunk}")
        super().__init__(
            " ".join(parts) if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"
        )
        self.path = path
        self.column = column
        self.chunk = chunk


class FileExistsConflict(StorageError):
    """A put-if-absent found the target already present (someone else published first)."""


# --- tables and commits -----------------------------------------------------------


class TableNotFoundError(HasivuError, LookupError):
    """No table of that name exists."""


class TableExistsError(HasivuError, ValueError):
    """A table of that name already exists."""


class SnapshotNotFoundError(HasivuError, LookupError):
    """The requested snapshot version does not exist or has expired."""


class CommitConflictError(HasivuError):
    """Another committer published first and the commit's requirements no longer hold."""


# --- query execution and runtime --------------------------------------------------


class ExecutionError(HasivuError):
    """A query fragment failed to run."""


class QueryFailedError(ExecutionError):
    """A distributed query could not produce its exact answer (after retries)."""


class IngestError(HasivuError):
    """An ingest call could not complete after retries; nothing unacknowledged was committed."""


class IngestKeyConflictError(HasivuError, ValueError):
    """An ingest key ``(producer_id, sequence)`` was already used for other rows, or is
    too old to tell; nothing of the call was written.

    Attributes:
        producer_id: the producer.
        sequence: the call's sequence.
        version: the version that holds the earlier call under this key (None if unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        producer_id: str = "",
        sequence: int = -1,
        version: int | None = None,
    ) -> None:
        # Defaults let the error be unpickled from its message (Ray sends errors raised
        # in actors that way); the attributes travel in its __dict__.
        super().__init__(message)
        self.producer_id = producer_id
        self.sequence = sequence
        self.version = version


class ClusterError(HasivuError):
    """Connecting to or managing the Ray cluster failed."""


class ConnectionClosedError(ClusterError):
    """The connection was closed (or Ray was shut down under it); open a new one."""


def near_matches(name: str, candidates: Iterable[str], limit: int = 3) -> Sequence[str]:
    """Return up to ``limit`` candidates that look like ``name`` (for "did you mean")."""
    import difflib

    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    exact_ci = lowered.get(name.lower())
    found = [exact_ci] if exact_ci and exact_ci != name else []
    for match in difflib.get_close_matches(name, pool, n=limit, cutoff=0.5):
        if match not in found:
            found.append(match)
    return found[:limit]
