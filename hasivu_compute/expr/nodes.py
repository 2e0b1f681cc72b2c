"""Expression tree nodes: immutable values with generic traversal.

Every node is a frozen, slotted dataclass with ``eq=False`` so that Python's ``==``
builds an expression (``col("a") == 1``) instead of comparing trees. Structural
equality is ``a.same_as(b)`` and ``a.key()`` is a hashable structural key;
``hash(expr)`` is structural too, and ``bool(a == b)`` answers structural equality
for the two operands (the SQLAlchemy convention), so ``expr in some_tuple`` and
dataclass equality of plan nodes holding expressions behave as expected. Any other
expression refuses ``bool()``, so ``if col("a") > 1:`` fails loudly.

Trees are built name-based (:class:`Column`) and bound once against a schema
(:func:`hasivu_compute.expr.bind`), which replaces columns by :class:`BoundColumn`,
fills in every node's ``dtype`` and inserts explicit :class:`Cast` nodes, so that
evaluation, push-down and pruning never re-derive types.

>>> from hasivu_compute.expr import col, lit
>>> e = (col("a") + 1).alias("b")
>>> e.same_as((col("a") + 1).alias("b"))
True
>>> str(col("a") * 2 > lit(3))
'((a * 2) > 3)'
"""

from __future__ import annotations

import datetime as _dt
import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, TypeAlias

import pyarrow as pa

from hasivu_compute._core.errors import BindError

#: Python values an expression literal may hold.
PyValue: TypeAlias = object
#: Call / aggregate options: sorted ``(name, value)`` pairs (hashable, order-free).
Options: TypeAlias = tuple[tuple[str, object], ...]

_SHORT_PARTS = frozenset({"year", "month", "day", "hour", "minute", "second", "quarter"})
_BINARY_SYMBOLS = {
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "divide": "/",
    "int_divide": "//",
    "modulo": "%",
    "eq": "=",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "and": "AND",
    "or": "OR",
}


def make_options(**options: object) -> Options:
    """Options as a sorted tuple of pairs, so nodes stay hashable and order-free."""
    return tuple(sorted((k, _freeze(v)) for k, v in options.items()))


def _freeze(value: object) -> object:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _type_key(dtype: pa.DataType | None) -> str | None:
    return None if dtype is None else str(dtype)


def _value_key(value: object) -> object:
    # Distinguish 1, 1.0 and True, which Python considers equal and hashes alike.
    if isinstance(value, float) and value != value:
        return ("nan",)
    return (type(value).__name__, value)


@dataclass(frozen=True, slots=True, eq=False)
class Expr:
    """Base of every expression node; see the module docstring for equality rules."""

    # --- generic traversal -------------------------------------------------------

    def children(self) -> tuple[Expr, ...]:
        """The direct sub-expressions, in a fixed order."""
        return ()

    def with_children(self, children: Sequence[Expr]) -> Expr:
        """A copy with new children (same arity and order as :meth:`children`)."""
        if children:
            raise BindError(f"{type(self).__name__} takes no children, got {len(children)}")
        return self

    def key(self) -> tuple[object, ...]:
        """A hashable structural key: equal keys mean structurally equal trees."""
        parts: list[object] = [type(self).__name__]
        for f in fields(self):
            value = getattr(self, f.name)
            parts.append(_key_of(value))
        return tuple(parts)

    def same_as(self, other: object) -> bool:
        """Structural equality (``==`` builds an expression instead)."""
        return isinstance(other, Expr) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth value of expression {self} is ambiguous: use '&', '|', '~' to "
            "combine predicates and .same_as() to compare expressions"
        )

    if TYPE_CHECKING:
        # Declared for type checkers only: a runtime attribute here would become the
        # default value of the subclasses' ``dtype`` dataclass fields.
        @property
        def dtype(self) -> pa.DataType:
            """The result type of a bound expression."""

    # --- operators -----------------------------------------------------------------

    def _bin(self, fn: str, other: object, reflected: bool = False) -> Call:
        rhs = lit(other)
        args = (rhs, self) if reflected else (self, rhs)
        return Call(fn, args)

    def __add__(self, other: object) -> Call:
        return self._bin("add", other)

    def __radd__(self, other: object) -> Call:
        return self._bin("add", other, True)

    def __sub__(self, other: object) -> Call:
        return self._bin("subtract", other)

    def __rsub__(self, other: object) -> Call:
        return self._bin("subtract", other, True)

    def __mul__(self, other: object) -> Call:
        return self._bin("multiply", other)

    def __rmul__(self, other: object) -> Call:
        return self._bin("multiply", other, True)

    def __truediv__(self, other: object) -> Call:
        return self._bin("divide", other)

    def __rtruediv__(self, other: object) -> Call:
        return self._bin("divide", other, True)

    def __floordiv__(self, other: object) -> Call:
        return self._bin("int_divide", other)

    def __rfloordiv__(self, other: object) -> Call:
        return self._bin("int_divide", other, True)

    def __mod__(self, other: object) -> Call:
        return self._bin("modulo", other)

    def __rmod__(self, other: object) -> Call:
        return self._bin("modulo", other, True)

    def __neg__(self) -> Call:
        return Call("negate", (self,))

    def __eq__(self, other: object) -> Call:  # type: ignore[override]
        return self._bin("eq", other)

    def __ne__(self, other: object) -> Call:  # type: ignore[override]
        return self._bin("ne", other)

    def __lt__(self, other: object) -> Call:
        return self._bin("lt", other)

    def __le__(self, other: object) -> Call:
        return self._bin("le", other)

    def __gt__(self, other: object) -> Call:
        return self._bin("gt", other)

    def __ge__(self, other: object) -> Call:
        return self._bin("ge", other)

    def __and__(self, other: object) -> Call:
        return self._bin("and", other)

    def __rand__(self, other: object) -> Call:
        return self._bin("and", other, True)

    def __or__(self, other: object) -> Call:
        return self._bin("or", other)

    def __ror__(self, other: object) -> Call:
        return self._bin("or", other, True)

    def __invert__(self) -> Call:
        return Call("not", (self,))

    # --- methods -------------------------------------------------------------------

    def alias(self, name: str) -> Alias:
        """Name the result (an output column name)."""
        return Alias(self, name)

    def is_in(self, values: Iterable[object]) -> InList:
        """SQL ``IN``: true on a match, NULL when no match and a NULL is involved."""
        return InList(self, tuple(_literal_value(v) for v in values))

    def between(self, low: object, high: object) -> Call:
        """SQL ``BETWEEN low AND high`` (both ends inclusive)."""
        return Call("between", (self, lit(low), lit(high)))

    def is_null(self) -> Call:
        """SQL ``IS NULL`` (never NULL itself; NaN is not NULL)."""
        return Call("is_null", (self,))

    def is_not_null(self) -> Call:
        """SQL ``IS NOT NULL``."""
        return Call("is_not_null", (self,))

    def cast(self, dtype: pa.DataType) -> Cast:
        """SQL ``CAST(self AS dtype)``; a value that does not fit raises at evaluation."""
        return Cast(self, dtype)

    def fill_null(self, value: object) -> Call:
        """``coalesce(self, value)``."""
        return coalesce(self, value)

    def abs(self) -> Call:
        """Absolute value."""
        return Call("abs", (self,))

    def round(self, ndigits: int = 0) -> Call:
        """Round half away from zero (SQL ``round``)."""
        return Call("round", (self,), make_options(ndigits=ndigits))

    def floor(self) -> Call:
        """Largest integral value not above (float64 for integer input, like DuckDB)."""
        return Call("floor", (self,))

    def ceil(self) -> Call:
        """Smallest integral value not below (float64 for integer input, like DuckDB)."""
        return Call("ceil", (self,))

    def sqrt(self) -> Call:
        """Square root as float64 (NaN for negative input, like DuckDB)."""
        return Call("sqrt", (self,))

    def trim(self) -> Call:
        """Strip leading and trailing spaces."""
        return Call("trim", (self,))

    def lower(self) -> Call:
        """Lower-case a string (Unicode aware)."""
        return Call("lower", (self,))

    def upper(self) -> Call:
        """Upper-case a string (Unicode aware)."""
        return Call("upper", (self,))

    def length(self) -> Call:
        """Number of characters of a string."""
        return Call("length", (self,))

    def starts_with(self, prefix: str) -> Call:
        """True when the string starts with ``prefix``."""
        return Call("starts_with", (self,), make_options(pattern=_pattern(prefix)))

    def contains(self, substring: str) -> Call:
        """True when the string contains ``substring`` (no wildcards)."""
        return Call("contains", (self,), make_options(pattern=_pattern(substring)))

    def like(self, pattern: str, case_insensitive: bool = False) -> Call:
        """SQL ``LIKE`` with ``%`` (any run) and ``_`` (one character); ``ILIKE`` on request."""
        opts = make_options(pattern=_pattern(pattern), case_insensitive=case_insensitive)
        return Call("like", (self,), opts)

    def year(self) -> Call:
        """Calendar year of a date or timestamp."""
        return Call("extract", (self,), make_options(field="year"))

    def month(self) -> Call:
        """Month 1..12 of a date or timestamp."""
        return Call("extract", (self,), make_options(field="month"))

    def day(self) -> Call:
        """Day of month 1..31 of a date or timestamp."""
        return Call("extract", (self,), make_options(field="day"))

    def hour(self) -> Call:
        """Hour 0..23 of a timestamp (local to its time zone)."""
        return Call("extract", (self,), make_options(field="hour"))

    def extract(self, part: str) -> Call:
        """SQL ``EXTRACT(part FROM self)``; see ``EXTRACT_FIELDS`` for the parts."""
        return Call("extract", (self,), make_options(field=part.lower()))

    def date_trunc(self, unit: str) -> Call:
        """SQL ``date_trunc(unit, self)``; keeps the input type (date stays date)."""
        return Call("date_trunc", (self,), make_options(unit=unit.lower()))

    # --- aggregates ----------------------------------------------------------------

    def sum(self) -> AggCall:
        """SQL ``sum``; NULL for a group without non-null values."""
        return AggCall("sum", (self,))

    def mean(self) -> AggCall:
        """SQL ``avg`` (float64)."""
        return AggCall("avg", (self,))

    def min(self) -> AggCall:
        """SQL ``min``."""
        return AggCall("min", (self,))

    def max(self) -> AggCall:
        """SQL ``max``."""
        return AggCall("max", (self,))

    def count(self) -> AggCall:
        """SQL ``count(self)``: non-null values."""
        return AggCall("count", (self,))

    def count_distinct(self) -> AggCall:
        """SQL ``count(DISTINCT self)``."""
        return AggCall("count", (self,), distinct=True)

    def var(self, ddof: int = 1) -> AggCall:
        """Variance: ``ddof=1`` is ``var_samp``, ``ddof=0`` is ``var_pop``."""
        return AggCall(_ddof_name("var", ddof), (self,))

    def std(self, ddof: int = 1) -> AggCall:
        """Standard deviation: ``ddof=1`` is ``stddev_samp``, ``ddof=0`` is ``stddev_pop``."""
        return AggCall(_ddof_name("stddev", ddof), (self,))

    def approx_count_distinct(self) -> AggCall:
        """HyperLogLog distinct count (mergeable across shards, ~1.6% error at lg_k=12)."""
        return AggCall("approx_count_distinct", (self,))

    def approx_quantile(self, q: float) -> AggCall:
        """KLL sketch quantile ``q`` in [0, 1] (mergeable across shards)."""
        if not 0.0 <= float(q) <= 1.0:
            raise BindError(f"approx_quantile: q must be in [0, 1], got {q!r}")
        return AggCall("approx_quantile", (self,), options=make_options(q=float(q)))

    # --- windows -------------------------------------------------------------------

    def over(
        self,
        partition_by: object = None,
        order_by: object = None,
        *,
        descending: bool | Sequence[bool] = False,
        nulls_first: bool | None = None,
        frame: tuple[str, object, object] | None = None,
    ) -> Expr:
        """This aggregate (``sum``, ``mean``, ``count``, ``min``, ``max``) or window
        function (``hc.row_number()``, ``hc.lag(...)``) computed per row over a window:
        ``col("amount").sum().over("student_id", "ordered_at", frame=("rows", -6, 0))``.
        See :func:`hasivu_compute.expr.window.over` for the frame tuple."""
        from hasivu_compute.expr.window import over

        return over(
            self,
            partition_by,
            order_by,
            descending=descending,
            nulls_first=nulls_first,
            frame=frame,
        )


def _ddof_name(base: str, ddof: int) -> str:
    if ddof not in (0, 1):
        raise BindError(f"{base}: ddof must be 0 (population) or 1 (sample), got {ddof!r}")
    return f"{base}_{'pop' if ddof == 0 else 'samp'}"


def _pattern(value: object) -> str:
    if isinstance(value, Literal):
        value = value.value
    if not isinstance(value, str):
        raise BindError(f"string pattern expected, got {value!r}")
    return value


def _key_of(value: object) -> object:
    if isinstance(value, Expr):
        return value.key()
    if isinstance(value, pa.DataType):
        return _type_key(value)
    if isinstance(value, tuple):
        return tuple(_key_of(v) for v in value)
    return _value_key(value)


# --- leaves ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Column(Expr):
    """A column by name, not yet resolved against a schema."""

    name: str

    @property
    def dtype(self) -> pa.DataType:
        raise BindError(f"column '{self.name}' is not bound: call bind(expr, schema) first")

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=False)
class BoundColumn(Expr):
    """A column resolved against a schema: position and type known.

    Evaluation looks the column up by ``index`` when the batch still has ``name``
    there, and by name otherwise, so a bound expression survives column reordering.
    """

    name: str
    index: int
    dtype: pa.DataType

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=False)
class Literal(Expr):
    """A constant; ``value`` is a Python value (None is SQL NULL) of type ``dtype``."""

    value: PyValue
    dtype: pa.DataType

    def __str__(self) -> str:
        if self.value is None:
            return "NULL"
        if isinstance(self.value, str):
            return "'" + self.value.replace("'", "''") + "'"
        if isinstance(self.value, bool):
            return "TRUE" if self.value else "FALSE"
        if isinstance(self.value, _dt.datetime | _dt.date | _dt.time):
            return f"'{self.value.isoformat()}'"
        if isinstance(self.value, _dt.timedelta):
            micros = self.value // _dt.timedelta(microseconds=1)
            return f"INTERVAL '{micros} microseconds'"
        return str(self.value)


# --- inner nodes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Call(Expr):
    """A scalar function call: ``fn`` names it (see ``binder.SCALAR_FUNCTIONS``).

    ``options`` holds non-expression parameters (a LIKE pattern, a date_trunc
    unit) as sorted pairs; ``dtype`` is filled in by the binder.
    """

    fn: str
    args: tuple[Expr, ...]
    options: Options = ()
    dtype: pa.DataType | None = field(default=None)

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def with_children(self, children: Sequence[Expr]) -> Expr:
        return Call(self.fn, tuple(children), self.options, self.dtype)

    def option(self, name: str, default: object = None) -> object:
        """The value of one option, or ``default``."""
        for key, value in self.options:
            if key == name:
                return value
        return default

    def __bool__(self) -> bool:
        # ``a == b`` in a Python boolean context means structural equality.
        if self.fn in ("eq", "ne") and len(self.args) == 2:
            same = self.args[0].same_as(self.args[1])
            return same if self.fn == "eq" else not same
        return Expr.__bool__(self)

    def __hash__(self) -> int:
        return hash(self.key())

    def __str__(self) -> str:
        symbol = _BINARY_SYMBOLS.get(self.fn)
        if symbol is not None and len(self.args) == 2:
            return f"({self.args[0]} {symbol} {self.args[1]})"
        if self.fn == "not":
            return f"(NOT {self.args[0]})"
        if self.fn == "negate":
            return f"(- {self.args[0]})"
        if self.fn == "is_null":
            return f"({self.args[0]} IS NULL)"
        if self.fn == "is_not_null":
            return f"({self.args[0]} IS NOT NULL)"
        if self.fn == "between":
            return f"({self.args[0]} BETWEEN {self.args[1]} AND {self.args[2]})"
        return self._render_special() or self._render_generic()

    def _render_special(self) -> str | None:
        arg = self.args[0] if self.args else ""
        if self.fn == "like":
            op = "ILIKE" if self.option("case_insensitive") else "LIKE"
            return f"({arg} {op} {Literal(self.option('pattern'), pa.string())})"
        if self.fn in ("starts_with", "contains"):
            return f"{self.fn}({arg}, {Literal(self.option('pattern'), pa.string())})"
        if self.fn == "extract":
            part = self.option("field")
            return f"{part}({arg})" if part in _SHORT_PARTS else f"date_part('{part}', {arg})"
        if self.fn == "date_trunc":
            return f"date_trunc('{self.option('unit')}', {arg})"
        return None

    def _render_generic(self) -> str:
        inner = ", ".join([str(a) for a in self.args] + [repr(v) for _, v in self.options])
        return f"{self.fn}({inner})"


@dataclass(frozen=True, slots=True, eq=False)
class Alias(Expr):
    """Names the result of ``child``; the name is the output column name."""

    child: Expr
    name: str

    def children(self) -> tuple[Expr, ...]:
        return (self.child,)

    def with_children(self, children: Sequence[Expr]) -> Expr:
        (child,) = children
        return Alias(child, self.name)

    @property
    def dtype(self) -> pa.DataType:
        return self.child.dtype

    def __str__(self) -> str:
        return f"{self.child} AS {self.name}"


@dataclass(frozen=True, slots=True, eq=False)
class Cast(Expr):
    """SQL ``CAST(child AS dtype)`` (float to integer rounds like DuckDB)."""

    child: Expr
    dtype: pa.DataType

    def children(self) -> tuple[Expr, ...]:
        return (self.child,)

    def with_children(self, children: Sequence[Expr]) -> Expr:
        (child,) = children
        return Cast(child, self.dtype)

    def __str__(self) -> str:
        return f"CAST({self.child} AS {self.dtype})"


@dataclass(frozen=True, slots=True, eq=False)
class Case(Expr):
    """SQL ``CASE WHEN c1 THEN v1 ... ELSE otherwise END``; a NULL condition is not taken."""

    branches: tuple[tuple[Expr, Expr], ...]
    otherwise: Expr | None = None
    dtype: pa.DataType | None = field(default=None)

    def children(self) -> tuple[Expr, ...]:
        flat = [e for pair in self.branches for e in pair]
        if self.otherwise is not None:
            flat.append(self.otherwise)
        return tuple(flat)

    def with_children(self, children: Sequence[Expr]) -> Expr:
        n = 2 * len(self.branches)
        pairs = tuple((children[i], children[i + 1]) for i in range(0, n, 2))
        otherwise = children[n] if len(children) > n else None
        return Case(pairs, otherwise, self.dtype)

    def __str__(self) -> str:
        body = " ".join(f"WHEN {c} THEN {v}" for c, v in self.branches)
        tail = f" ELSE {self.otherwise}" if self.otherwise is not None else ""
        return f"CASE {body}{tail} END"


@dataclass(frozen=True, slots=True, eq=False)
class InList(Expr):
    """SQL ``child IN (values...)`` over constant Python values (None allowed)."""

    child: Expr
    values: tuple[PyValue, ...]

    def children(self) -> tuple[Expr, ...]:
        return (self.child,)

    def with_children(self, children: Sequence[Expr]) -> Expr:
        (child,) = children
        return InList(child, self.values)

    @property
    def dtype(self) -> pa.DataType:
        return pa.bool_()

    def __str__(self) -> str:
        inner = ", ".join(str(lit(v)) for v in self.values)
        return f"({self.child} IN ({inner}))"


@dataclass(frozen=True, slots=True, eq=False)
class AggCall(Expr):
    """An aggregate call (``count`` with no args is ``count(*)``); see ``aggregates``."""

    fn: str
    args: tuple[Expr, ...]
    distinct: bool = False
    options: Options = ()
    dtype: pa.DataType | None = field(default=None)

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def with_children(self, children: Sequence[Expr]) -> Expr:
        return AggCall(self.fn, tuple(children), self.distinct, self.options, self.dtype)

    def option(self, name: str, default: object = None) -> object:
        """The value of one option, or ``default``."""
        for key, value in self.options:
            if key == name:
                return value
        return default

    def __str__(self) -> str:
        if self.fn == "count" and not self.args:
            return "count_star()"
        inner = ", ".join(str(a) for a in self.args)
        if self.distinct:
            inner = f"DISTINCT {inner}"
        extra = "".join(f", {v!r}" for _, v in self.options)
        return f"{self.fn}({inner}{extra})"


# --- builders ------------------------------------------------------------------------


def col(name: str) -> Column:
    """A column reference by name.

    >>> col("amount")
    Column(name='amount')
    """
    if not isinstance(name, str) or not name:
        raise BindError(f"column name must be a non-empty string, got {name!r}")
    return Column(name)


def infer_type(value: object) -> pa.DataType:
    """The Arrow type of a Python literal (ints are int64, floats float64)."""
    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64() if -(2**63) <= value < 2**63 else pa.uint64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, str):
        return pa.string()
    if isinstance(value, bytes):
        return pa.binary()
    if isinstance(value, _dt.datetime):
        tz = "UTC" if value.tzinfo is not None else None
        return pa.timestamp("us", tz=tz)
    if isinstance(value, _dt.date):
        return pa.date32()
    if isinstance(value, _dt.time):
        return pa.time64("us")
    if isinstance(value, _dt.timedelta):
        return pa.duration("us")
    if isinstance(value, decimal.Decimal):
        return pa.scalar(value).type
    raise BindError(f"cannot use {value!r} ({type(value).__name__}) as a literal")


def _literal_value(value: object) -> object:
    if isinstance(value, Literal):
        return value.value
    if isinstance(value, pa.Scalar):
        return value.as_py()
    if isinstance(value, Expr):
        raise BindError(f"IN list values must be constants, got expression {value}")
    return value


def lit(value: object, dtype: pa.DataType | None = None) -> Expr:
    """A literal; an expression passes through unchanged.

    >>> lit(3).dtype
    DataType(int64)
    >>> lit("2025-01-01", pa.date32()).value
    datetime.date(2025, 1, 1)
    """
    if isinstance(value, Expr):
        return value if dtype is None else Cast(value, dtype)
    if isinstance(value, pa.Scalar):
        dtype = dtype or value.type
        value = value.as_py()
    if dtype is None:
        return Literal(value, infer_type(value))
    try:
        scalar = pa.scalar(value, type=dtype) if not isinstance(value, str) else None
        if scalar is None:
            scalar = pa.scalar(value).cast(dtype)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError) as e:
        raise BindError(f"literal {value!r} does not fit type {dtype}: {e}") from None
    return Literal(scalar.as_py(), dtype)


def count(expr: Expr | str | None = None, *, distinct: bool = False) -> AggCall:
    """``count(*)`` with no argument; ``count(expr)`` counts non-null values.

    >>> str(count())
    'count_star()'
    >>> str(count("x", distinct=True))
    'count(DISTINCT x)'
    """
    if expr is None:
        if distinct:
            raise BindError("count(DISTINCT *) is not valid; name a column")
        return AggCall("count", ())
    arg = col(expr) if isinstance(expr, str) else expr
    return AggCall("count", (arg,), distinct=distinct)


def coalesce(*exprs: object) -> Call:
    """The first non-null argument (SQL ``COALESCE``).

    >>> str(coalesce(col("a"), 0))
    'coalesce(a, 0)'
    """
    if not exprs:
        raise BindError("coalesce needs at least one argument")
    return Call("coalesce", tuple(lit(e) for e in exprs))


@dataclass(frozen=True, slots=True)
class When:
    """``when(cond)`` awaiting ``.then(value)``."""

    branches: tuple[tuple[Expr, Expr], ...]
    condition: Expr

    def then(self, value: object) -> CaseBuilder:
        """The value when the pending condition is true."""
        return CaseBuilder((*self.branches, (self.condition, lit(value))))


@dataclass(frozen=True, slots=True)
class CaseBuilder:
    """A CASE with at least one branch: add ``.when(...)`` or finish with ``.otherwise``."""

    branches: tuple[tuple[Expr, Expr], ...]

    def when(self, condition: Expr) -> When:
        """Another branch, tried only when the earlier ones were not taken."""
        return When(self.branches, lit(condition))

    def otherwise(self, value: object) -> Case:
        """The value when no branch is taken."""
        return Case(self.branches, lit(value))

    def end(self) -> Case:
        """Finish without ELSE: rows where no branch is taken get NULL."""
        return Case(self.branches, None)


def when(condition: Expr) -> When:
    """Start a CASE expression.

    >>> str(when(col("x") > 1).then("big").otherwise("small"))
    "CASE WHEN (x > 1) THEN 'big' ELSE 'small' END"
    """
    return When((), lit(condition))
