"""Window function calls: ``fn(args) OVER (PARTITION BY … ORDER BY … frame)``.

A :class:`WindowCall` is an expression node like an aggregate call, but it lives
only in a plan's ``Window`` node, which appends one column per call to its input
rows. Its children are the arguments, then the partition keys, then the order
keys, so the generic traversal, binding and column analysis see every column it
reads. The frame is a plain value: SQL's default frame (the whole partition
without ORDER BY, ``RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`` with it)
is made explicit when the call is built, so evaluation never guesses.

>>> from hasivu_compute.expr import col
>>> str(window_call("row_number", (), partition_by=(col("s"),), order_by=(col("t"),)))
'row_number() OVER (PARTITION BY s ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)'
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.types as pat

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr.nodes import Expr, Literal

__all__ = [
    "AGGREGATE_WINDOW_FUNCTIONS",
    "RANKING_FUNCTIONS",
    "WINDOW_FUNCTIONS",
    "Bound",
    "Frame",
    "WindowCall",
    "bind_window",
    "over",
    "window_call",
    "window_function",
]

#: Functions of a row's position among its partition's ordered rows (frame ignored).
RANKING_FUNCTIONS = (
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
)
#: Functions of the rows in a row's frame.
AGGREGATE_WINDOW_FUNCTIONS = (
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "first_value",
    "last_value",
    "nth_value",
)
WINDOW_FUNCTIONS = RANKING_FUNCTIONS + AGGREGATE_WINDOW_FUNCTIONS
_BOUND_KINDS = (
    "unbounded_preceding",
    "preceding",
    "current_row",
    "following",
    "unbounded_following",
)


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a frame: ``kind`` (see ``_BOUND_KINDS``) and, for ``preceding`` /
    ``following``, a non-negative ``offset`` (rows, or a distance in the order key's
    units for RANGE frames: a number, or a ``timedelta`` for dates and timestamps)."""

    kind: str
    offset: object = None

    def __post_init__(self) -> None:
        if self.kind not in _BOUND_KINDS:
            raise BindError(f"unknown window frame bound {self.kind!r}")
        if self.kind in ("preceding", "following") and self.offset is None:
            raise BindError(f"window frame bound {self.kind.upper()} needs an offset")

    def __str__(self) -> str:
        words = self.kind.replace("_", " ").upper()
        return f"{self.offset} {words}" if self.offset is not None else words


UNBOUNDED_PRECEDING = Bound("unbounded_preceding")
UNBOUNDED_FOLLOWING = Bound("unbounded_following")
CURRENT_ROW = Bound("current_row")


@dataclass(frozen=True, slots=True)
class Frame:
    """``ROWS`` (positions) or ``RANGE`` (order-key values) between two bounds."""

    mode: str
    start: Bound
    end: Bound

    def __post_init__(self) -> None:
        if self.mode not in ("rows", "range"):
            raise BindError(f"window frame mode must be ROWS or RANGE, got {self.mode!r}")
        order = _BOUND_KINDS.index
        if self.start.kind == "unbounded_following" or self.end.kind == "unbounded_preceding":
            raise BindError(f"window frame {self} has its ends the wrong way round")
        if order(self.start.kind) > order(self.end.kind):
            raise BindError(f"window frame {self} starts after it ends")

    def __str__(self) -> str:
        return f"{self.mode.upper()} BETWEEN {self.start} AND {self.end}"


WHOLE_PARTITION = Frame("rows", UNBOUNDED_PRECEDING, UNBOUNDED_FOLLOWING)


@dataclass(frozen=True, slots=True, eq=False)
class WindowCall(Expr):
    """``fn(args) OVER (PARTITION BY partition_by ORDER BY order_by frame)``.

    ``descending`` and ``nulls_first`` hold one flag per order key (nulls_first
    None: SQL's default, nulls last ascending). ``options``: ``ignore_nulls`` is not
    supported; ``distinct`` neither — both are refused where the call is built.
    """

    fn: str
    args: tuple[Expr, ...]
    partition_by: tuple[Expr, ...]
    order_by: tuple[Expr, ...]
    descending: tuple[bool, ...]
    nulls_first: tuple[bool | None, ...]
    frame: Frame
    dtype: pa.DataType | None = field(default=None)

    def children(self) -> tuple[Expr, ...]:
        return self.args + self.partition_by + self.order_by

    def with_children(self, children: Sequence[Expr]) -> Expr:
        a, p = len(self.args), len(self.partition_by)
        kids = tuple(children)
        return WindowCall(
            self.fn,
            kids[:a],
            kids[a : a + p],
            kids[a + p :],
            self.descending,
            self.nulls_first,
            self.frame,
            self.dtype,
        )

    def key(self) -> tuple[object, ...]:
        return (
            "WindowCall",
            self.fn,
            tuple(c.key() for c in self.children()),
            len(self.args),
            len(self.partition_by),
            self.descending,
            self.nulls_first,
            self.frame,
            str(self.dtype),
        )

    def __hash__(self) -> int:
        return hash(self.key())

    def same_spec(self, other: WindowCall) -> bool:
        """Whether both calls sort their input the same way (one sort serves both)."""
        mine = [e.key() for e in self.partition_by + self.order_by]
        theirs = [e.key() for e in other.partition_by + other.order_by]
        return (
            mine == theirs
            and len(self.partition_by) == len(other.partition_by)
            and self.descending == other.descending
            and self.nulls_first == other.nulls_first
        )

    def __str__(self) -> str:
        parts = []
        if self.partition_by:
            parts.append("PARTITION BY " + ", ".join(str(e) for e in self.partition_by))
        if self.order_by:
            keys = []
            for e, desc, nulls in zip(
                self.order_by, self.descending, self.nulls_first, strict=True
            ):
                text = f"{e} DESC" if desc else str(e)
                if nulls is not None:
                    text += " NULLS FIRST" if nulls else " NULLS LAST"
                keys.append(text)
            parts.append("ORDER BY " + ", ".join(keys))
        if self.fn in AGGREGATE_WINDOW_FUNCTIONS or self.order_by:
            parts.append(str(self.frame))
        args = ", ".join(str(a) for a in self.args) if self.args or self.fn != "count" else "*"
        return f"{self.fn}({args}) OVER ({' '.join(parts)})"


def window_call(
    fn: str,
    args: tuple[Expr, ...],
    *,
    partition_by: tuple[Expr, ...] = (),
    order_by: tuple[Expr, ...] = (),
    descending: tuple[bool, ...] | None = None,
    nulls_first: tuple[bool | None, ...] | None = None,
    frame: Frame | None = None,
) -> WindowCall:
    """A window call with SQL's defaults filled in (see the module docstring).

    Raises:
        BindError: an unknown function, or a frame on a function that ignores frames.
    """
    name = fn.lower()
    if name not in WINDOW_FUNCTIONS:
        raise BindError(
            f"unknown window function {fn!r} (supported: {', '.join(WINDOW_FUNCTIONS)})"
        )
    if frame is None:
        if not order_by:
            frame = WHOLE_PARTITION
        elif name in RANKING_FUNCTIONS:
            frame = Frame("rows", UNBOUNDED_PRECEDING, CURRENT_ROW)
        else:
            frame = Frame("range", UNBOUNDED_PRECEDING, CURRENT_ROW)
    n = len(order_by)
    return WindowCall(
        name,
        tuple(args),
        tuple(partition_by),
        tuple(order_by),
        tuple(descending) if descending is not None else (False,) * n,
        tuple(nulls_first) if nulls_first is not None else (None,) * n,
        frame,
    )


def _names(value: object, what: str) -> tuple[Expr, ...]:
    from hasivu_compute.expr.nodes import Column

    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    out: list[Expr] = []
    for item in items:
        if isinstance(item, str):
            out.append(Column(item))
        elif isinstance(item, Expr):
            out.append(item)
        else:
            raise BindError(f"over(): {what} takes column names or expressions, got {item!r}")
    return tuple(out)


def _frame_bound(value: object, end: bool) -> Bound:
    if value is None:
        return UNBOUNDED_FOLLOWING if end else UNBOUNDED_PRECEDING
    zero: object = dt.timedelta(0) if isinstance(value, dt.timedelta) else 0
    if isinstance(value, bool) or not isinstance(value, int | float | dt.timedelta):
        raise BindError(f"over(): a frame end is None, a number or a timedelta, got {value!r}")
    if value == zero:
        return CURRENT_ROW
    if value < zero:  # type: ignore[operator]
        return Bound("preceding", -value)
    return Bound("following", value)


def over(
    call: Expr,
    partition_by: object = None,
    order_by: object = None,
    *,
    descending: bool | Sequence[bool] = False,
    nulls_first: bool | None = None,
    frame: tuple[str, object, object] | None = None,
) -> WindowCall:
    """``call`` as a window call (the DataFrame API's ``expr.over(...)``).

    Args:
        call: an aggregate call (``col("x").sum()``) or a window function built by
            ``row_number()``, ``lag(...)`` and friends.
        partition_by, order_by: a column name, an expression, or a list of them.
        descending: one flag, or one per order key.
        nulls_first: where NULL order keys go (default: last).
        frame: ``(mode, start, end)``: mode ``"rows"`` or ``"range"``; an end is None
            (unbounded), 0 (the current row), a negative offset (preceding) or a
            positive one (following), in rows or, for RANGE, in the order key's units
            (a ``timedelta`` for dates and timestamps). ``("rows", -6, 0)`` is the
            current row and the six before it. Default: SQL's.

    Raises:
        BindError: not an aggregate or window function, or a malformed frame.
    """
    from hasivu_compute.expr.nodes import AggCall

    if isinstance(call, AggCall):
        if call.distinct or call.fn not in AGGREGATE_WINDOW_FUNCTIONS:
            kind = "DISTINCT aggregates" if call.distinct else f"{call.fn}()"
            raise BindError(f"over(): {kind} cannot be computed over a window")
        fn, args = call.fn, call.args
    elif isinstance(call, WindowCall):
        if call.partition_by or call.order_by:
            raise BindError(f"over(): {call} already has a window")
        fn, args = call.fn, call.args
    else:
        raise BindError(f"over(): {call} is not an aggregate or window function")
    order = _names(order_by, "order_by")
    flags = [descending] * len(order) if isinstance(descending, bool) else list(descending)
    if len(flags) != len(order):
        raise BindError(f"over(): {len(order)} order keys but {len(flags)} descending flags")
    built: Frame | None = None
    if frame is not None:
        if not isinstance(frame, tuple) or len(frame) != 3 or frame[0] not in ("rows", "range"):
            raise BindError(f'over(): frame is ("rows" | "range", start, end), got {frame!r}')
        built = Frame(
            frame[0],
            _frame_bound(frame[1], False),
            _frame_bound(frame[2], True),
        )
    return window_call(
        fn,
        args,
        partition_by=_names(partition_by, "partition_by"),
        order_by=order,
        descending=tuple(flags),
        nulls_first=(nulls_first,) * len(order),
        frame=built,
    )


def window_function(fn: str, *args: object) -> WindowCall:
    """A window function awaiting ``.over(...)`` (``hc.row_number()``, ``hc.lag("x", 1)``)."""
    from hasivu_compute.expr.nodes import Column, lit

    exprs = tuple(
        Column(a) if isinstance(a, str) and i == 0 else lit(a) for i, a in enumerate(args)
    )
    return window_call(fn, exprs)


def bind_window(call: WindowCall, bind: Callable[[Expr], Expr]) -> WindowCall:
    """``call`` with its children bound by ``bind`` and its result type set.

    Raises:
        BindError: wrong arguments for the function, or a frame its order keys
            cannot measure (a RANGE offset needs exactly one numeric or temporal key).
    """
    kids = tuple(bind(c) for c in call.children())
    bound = call.with_children(kids)
    assert isinstance(bound, WindowCall)
    _check_frame(bound)
    dtype = _result_type(bound)
    args = bound.args
    if bound.fn in ("lag", "lead") and len(args) == 3 and not args[2].dtype.equals(dtype):
        # the default takes the value's type, as a CAST would (2.5 into SMALLINT is 3)
        from hasivu_compute.expr.nodes import Cast

        args = (*args[:2], bind(Cast(args[2], dtype)))
    return WindowCall(
        bound.fn,
        args,
        bound.partition_by,
        bound.order_by,
        bound.descending,
        bound.nulls_first,
        bound.frame,
        dtype,
    )


def _arity(call: WindowCall, low: int, high: int) -> None:
    if not low <= len(call.args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise BindError(f"{call.fn}() takes {want} arguments, got {len(call.args)}: {call}")


def _constant_int(call: WindowCall, index: int, what: str, minimum: int) -> int:
    arg = call.args[index]
    value = arg.value if isinstance(arg, Literal) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BindError(
            f"{call.fn}(): the {what} must be an integer constant >= {minimum}, got {arg}"
        )
    return value


def _result_type(call: WindowCall) -> pa.DataType:
    fn = call.fn
    if fn in ("row_number", "rank", "dense_rank"):
        _arity(call, 0, 0)
        return pa.int64()
    if fn in ("percent_rank", "cume_dist"):
        _arity(call, 0, 0)
        return pa.float64()
    if fn == "ntile":
        _arity(call, 1, 1)
        _constant_int(call, 0, "number of buckets", 1)
        return pa.int64()
    if fn in ("lag", "lead"):
        return _lag_type(call)
    if fn in ("first_value", "last_value"):
        _arity(call, 1, 1)
        return call.args[0].dtype
    if fn == "nth_value":
        _arity(call, 2, 2)
        _constant_int(call, 1, "position", 1)
        return call.args[0].dtype
    return _aggregate_type(call)


def _lag_type(call: WindowCall) -> pa.DataType:
    _arity(call, 1, 3)
    if len(call.args) >= 2:
        _constant_int(call, 1, "offset", 0)
    value: pa.DataType = call.args[0].dtype
    if len(call.args) == 3:
        default = call.args[2].dtype
        if not _reads_nothing(call.args[2]):
            raise BindError(f"{call.fn}(): the default must be a constant, got {call.args[2]}")
        if not (pat.is_null(default) or default.equals(value) or _castable(default, value)):
            raise BindError(f"{call.fn}(): default of type {default} does not fit {value}")
    return value


def _reads_nothing(expr: Expr) -> bool:
    """Whether ``expr`` is a constant (a literal, or casts of one)."""
    from hasivu_compute.expr.nodes import AggCall, BoundColumn, Column

    if isinstance(expr, Column | BoundColumn | AggCall | WindowCall):
        return False
    return all(_reads_nothing(c) for c in expr.children())


def _castable(source: pa.DataType, target: pa.DataType) -> bool:
    numeric = pat.is_integer(source) or pat.is_floating(source) or pat.is_decimal(source)
    wide = pat.is_integer(target) or pat.is_floating(target) or pat.is_decimal(target)
    return bool(numeric and wide)


def _aggregate_type(call: WindowCall) -> pa.DataType:
    from hasivu_compute.expr.aggregates import aggregate_function
    from hasivu_compute.expr.nodes import AggCall

    if call.fn == "count":
        _arity(call, 0, 1)
    else:
        _arity(call, 1, 1)
    probe = AggCall(call.fn, call.args)
    input_type = call.args[0].dtype if call.args else None
    if call.fn in ("sum", "avg") and input_type is not None and pat.is_unsigned_integer(input_type):
        raise BindError(f"{call.fn}() over unsigned integers is not supported in a window: {call}")
    result: pa.DataType = aggregate_function(call.fn).result_type(input_type, probe)
    return result


def _check_frame(call: WindowCall) -> None:
    frame = call.frame
    offsets = [b.offset for b in (frame.start, frame.end) if b.offset is not None]
    if frame.mode == "rows":
        for offset in offsets:
            if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
                raise BindError(f"ROWS frame offsets must be integers >= 0, got {offset!r}")
        return
    if not offsets:
        return  # UNBOUNDED / CURRENT ROW ends: peers decide, any key types
    if len(call.order_by) != 1:
        raise BindError(
            f"a RANGE frame with an offset needs exactly one ORDER BY key, got "
            f"{len(call.order_by)}: {call}"
        )
    key = call.order_by[0].dtype
    numeric = pat.is_integer(key) or pat.is_floating(key) or pat.is_decimal(key)
    temporal = pat.is_date(key) or pat.is_timestamp(key)
    if not (numeric or temporal):
        raise BindError(
            f"a RANGE frame with an offset needs a numeric or date ORDER BY key: {call}"
        )
    for offset in offsets:
        if temporal:
            ok = isinstance(offset, dt.timedelta) and offset >= dt.timedelta(0)
        else:
            number = isinstance(offset, int | float | decimal.Decimal)
            ok = number and not isinstance(offset, bool) and offset >= 0  # type: ignore[operator]
        if not ok:
            kind = "an interval" if temporal else "a number"
            raise BindError(
                f"RANGE frame offset must be {kind} >= 0 for {key} keys, got {offset!r}"
            )


# --- DataFrame builders: ``hc.row_number().over(...)`` ---------------------------------


def row_number() -> WindowCall:
    """1, 2, 3, ... within each partition, in ``order_by`` order."""
    return window_function("row_number")


def rank() -> WindowCall:
    """Position of the row's peer group (ties share a rank; gaps follow ties)."""
    return window_function("rank")


def dense_rank() -> WindowCall:
    """Like :func:`rank` without gaps."""
    return window_function("dense_rank")


def percent_rank() -> WindowCall:
    """``(rank - 1) / (rows in partition - 1)``, 0 for a one-row partition."""
    return window_function("percent_rank")


def cume_dist() -> WindowCall:
    """Share of the partition's rows ordered at or before this row's peers."""
    return window_function("cume_dist")


def ntile(buckets: int) -> WindowCall:
    """Bucket 1..``buckets`` of the row, buckets as equal as possible."""
    return window_function("ntile", buckets)


def lag(column: str | Expr, offset: int = 1, default: object = None) -> WindowCall:
    """The value ``offset`` rows before in the partition (``default`` past its start)."""
    return _shift("lag", column, offset, default)


def lead(column: str | Expr, offset: int = 1, default: object = None) -> WindowCall:
    """The value ``offset`` rows after in the partition (``default`` past its end)."""
    return _shift("lead", column, offset, default)


def first_value(column: str | Expr) -> WindowCall:
    """The value at the first row of the frame."""
    return window_function("first_value", column)


def last_value(column: str | Expr) -> WindowCall:
    """The value at the last row of the frame (with ORDER BY, the default frame ends
    at the current row's last peer)."""
    return window_function("last_value", column)


def nth_value(column: str | Expr, n: int) -> WindowCall:
    """The value at the ``n``-th row of the frame (1-based), NULL when shorter."""
    return window_function("nth_value", column, n)


def _shift(fn: str, column: str | Expr, offset: int, default: object) -> WindowCall:
    if default is None:
        return window_function(fn, column, offset)
    return window_function(fn, column, offset, default)
