"""Aggregate functions: the registry and the type rules the binder and planner need.

Each function in :data:`AGGREGATES` says which arguments it takes and what it returns
(:meth:`~AggregateFunction.result_type`, ``input_type``, ``arity``,
``argument_type``), the types of its per-group *state* (the partial columns moved
between shards: :meth:`~AggregateFunction.state_types`, from which the planner lays
out partial results, see :mod:`.aggsplit`), and whether combining partials is exact.
How states are computed (partial → combine → finalize on Arrow, dask-expr's chunk /
combine / aggregate) is execution's: :mod:`hasivu_compute.exec.kernels.aggregates`
holds one kernel per registered name.

States, per function (``n`` counts non-null inputs):

============================  ===========================================  =======
function                      state                                        exact
============================  ===========================================  =======
count(*) / count(x)           n                                            yes
count(DISTINCT x)             the group's distinct values (a list)         yes
sum                           sum (int64 / uint64 / float64 / decimal)     yes
avg                           sum (decimal(38, 0) of integers, else        yes
                              float64), n
min / max                     min / max                                    yes
var_* / stddev_*              n, mean, m2 (Chan et al. parallel merge)     yes
approx_count_distinct         HLL sketch (lg_k=12, HLL_8), serialized      ±1.6%
approx_quantile(q)            KLL doubles sketch (k=200), serialized       ±1.3% rank
median / quantile_cont /      the group's non-NULL values (a list)         yes
quantile_disc
string_agg                    the group's values (+ ORDER BY keys)         yes
============================  ===========================================  =======
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.types as pat

from hasivu_compute._core.errors import BindError, UnsupportedSQLError, near_matches
from hasivu_compute.expr import types as T
from hasivu_compute.expr.nodes import AggCall

__all__ = [
    "AGGREGATES",
    "WIDE_SUM_TYPE",
    "AggregateFunction",
    "aggregate_function",
    "canonical_aggregate_name",
    "quantile_interpolated_type",
    "quantile_interpolates",
    "quantile_values",
    "require_numeric",
    "string_agg_order",
]

#: avg's exact sum of integers (and the wide form of integer sums, see ``exec.kernels.sums``).
WIDE_SUM_TYPE = pa.decimal128(38, 0)


@dataclass(frozen=True, slots=True)
class AggregateFunction(ABC):
    """Base: the types of a decomposable aggregate. Subclasses override what they change."""

    name: str

    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        """Type of the final column (checks the input type: BindError if unsupported)."""
        return pa.float64()

    def input_type(self, input_type: pa.DataType) -> pa.DataType:
        """Type the argument is cast to before the partial (e.g. sums widen to int64)."""
        return input_type

    def arity(self, call: AggCall) -> int:
        """How many arguments ``call`` must have (string_agg adds its ORDER BY keys)."""
        return 1

    def argument_type(self, arg_types: list[pa.DataType], call: AggCall) -> pa.DataType | None:
        """Type of the one column the partial reads, from the bound arguments' types.

        One argument: :meth:`input_type` of it. Several (see :meth:`arity`) are packed
        into a struct column by the aggregate steps (fields ``a0``, ``a1``, ...).
        """
        if not arg_types:
            return None
        if len(arg_types) == 1:
            return self.input_type(arg_types[0])
        first = self.input_type(arg_types[0])
        fields = [pa.field("a0", first)]
        fields += [pa.field(f"a{i}", t) for i, t in enumerate(arg_types[1:], start=1)]
        return pa.struct(fields)

    @abstractmethod
    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        """Types of the state columns, in order (``input_type``: :meth:`argument_type`)."""
        ...

    @property
    def exact(self) -> bool:
        """Whether combining partials gives exactly the one-shot result."""
        return True


def require_numeric(name: str, input_type: pa.DataType | None) -> pa.DataType:
    """``input_type`` if it is numeric (or NULL); BindError naming ``name`` otherwise."""
    if input_type is None:
        raise BindError(f"{name} needs an argument")
    if not (T.is_numeric(input_type) or T.is_null_type(input_type)):
        raise BindError(f"{name} needs a numeric argument, got {input_type}")
    return input_type


def _plain(dtype: pa.DataType) -> pa.DataType:
    return dtype.value_type if pat.is_dictionary(dtype) else dtype


@dataclass(frozen=True, slots=True)
class _Count(AggregateFunction):
    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        return pa.int64()

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        if call.distinct:
            assert input_type is not None
            return [pa.large_list(input_type)]  # what Polars produces: no conversion
        return [pa.int64()]


@dataclass(frozen=True, slots=True)
class _Sum(AggregateFunction):
    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        return self.input_type(require_numeric("sum", input_type))

    def input_type(self, input_type: pa.DataType) -> pa.DataType:
        if pat.is_unsigned_integer(input_type):
            return pa.uint64()
        if T.is_integer(input_type) or T.is_null_type(input_type):
            return pa.int64()
        if T.is_decimal(input_type):
            wide = pat.is_decimal256(input_type)
            return (
                pa.decimal256(76, input_type.scale) if wide else pa.decimal128(38, input_type.scale)
            )
        return pa.float64()

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        return [self.result_type(input_type, call)]


@dataclass(frozen=True, slots=True)
class _MinMax(AggregateFunction):
    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        if input_type is None:
            raise BindError(f"{self.name} needs an argument")
        if pat.is_nested(input_type):
            raise BindError(f"{self.name} needs an orderable argument, got {input_type}")
        return input_type

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        return [self.result_type(input_type, call)]


@dataclass(frozen=True, slots=True)
class _Avg(AggregateFunction):
    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        require_numeric(self.name, input_type)
        return pa.float64()

    def input_type(self, input_type: pa.DataType) -> pa.DataType:
        """Integers are summed exactly (a float running sum loses the 1 in 9.2e18 + 1)."""
        if pat.is_unsigned_integer(input_type):
            return pa.uint64()
        if pat.is_integer(input_type):
            return pa.int64()
        return pa.float64()

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        exact = input_type is not None and pat.is_integer(input_type)
        return [WIDE_SUM_TYPE if exact else pa.float64(), pa.int64()]


@dataclass(frozen=True, slots=True)
class _Variance(AggregateFunction):
    """Sample / population variance and standard deviation from (n, mean, m2)."""

    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        require_numeric(self.name, input_type)
        return pa.float64()

    def input_type(self, input_type: pa.DataType) -> pa.DataType:
        return pa.float64()

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        return [pa.int64(), pa.float64(), pa.float64()]


@dataclass(frozen=True, slots=True)
class _ApproxCountDistinct(AggregateFunction):
    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        if input_type is None:
            raise BindError("approx_count_distinct needs an argument")
        return pa.int64()

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        return [pa.binary()]

    @property
    def exact(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class _ApproxQuantile(AggregateFunction):
    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        require_numeric("approx_quantile", input_type)
        q = call.option("q")
        if not isinstance(q, float) or not 0.0 <= q <= 1.0:
            raise BindError(f"approx_quantile needs option q in [0, 1], got {q!r}")
        return pa.float64()

    def input_type(self, input_type: pa.DataType) -> pa.DataType:
        return pa.float64()

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        return [pa.binary()]

    @property
    def exact(self) -> bool:
        return False


# --- exact quantiles (the rules are in exec.kernels.quantiles' docstring) ---------------


def quantile_values(call: AggCall) -> tuple[float, ...]:
    """The quantiles of ``call`` (median: 0.5), each checked to be in [-1, 1]."""
    if call.fn == "median":
        return (0.5,)
    q = call.option("q")
    values = q if isinstance(q, tuple) else (q,)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BindError(f"{call.fn}: the quantile must be a number, got {value!r}")
        if not -1.0 <= value <= 1.0:
            raise BindError(f"{call.fn}: the quantile must be in [-1, 1], got {value!r}")
    if len({v < 0 for v in values}) > 1:
        raise BindError(f"{call.fn}: the quantiles must be all >= 0 or all < 0, got {q!r}")
    return tuple(float(v) for v in values)


def quantile_interpolates(name: str, input_type: pa.DataType) -> bool:
    """Whether quantile function ``name`` over ``input_type`` interpolates (else it picks
    a value): ``median`` of numbers is ``quantile_cont``, of other types ``quantile_disc``."""
    if name == "quantile_disc":
        return False
    if name == "median":
        return T.is_numeric(input_type) or T.is_null_type(input_type) or _temporal(input_type)
    return True


def _temporal(dtype: pa.DataType) -> bool:
    return bool(pat.is_temporal(dtype))


def quantile_interpolated_type(name: str, dtype: pa.DataType) -> pa.DataType:
    """The result type of an interpolating quantile over ``dtype``: DOUBLE, except that
    FLOAT and DECIMAL keep their type; dates and times are refused (DuckDB averages them).
    """
    if _temporal(dtype):
        raise UnsupportedSQLError(
            f"{name}() of a {dtype} column (DuckDB interpolates dates and times)",
            hint="use quantile_disc(), which picks one of the values, or cast to a number",
        )
    if not (T.is_numeric(dtype) or T.is_null_type(dtype)):
        raise BindError(f"{name} needs a numeric argument, got {dtype}")
    if T.is_decimal(dtype) or pat.is_float32(dtype):
        return dtype
    return pa.float64()


@dataclass(frozen=True, slots=True)
class _Quantile(AggregateFunction):
    """``median``, ``quantile_cont``, ``quantile_disc``: the state is the group's values."""

    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        if input_type is None:
            raise BindError(f"{self.name} needs an argument")
        quantile_values(call)
        dtype = _plain(input_type)
        if pat.is_nested(dtype):
            raise BindError(f"{self.name} needs an orderable argument, got {dtype}")
        if quantile_interpolates(self.name, dtype):
            dtype = quantile_interpolated_type(self.name, dtype)
        return pa.list_(dtype) if isinstance(call.option("q"), tuple) else dtype

    def input_type(self, input_type: pa.DataType) -> pa.DataType:
        return _plain(input_type)

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        assert input_type is not None
        return [pa.large_list(input_type)]


# --- string_agg (the rules are in exec.kernels.string_agg's docstring) ------------------


def string_agg_order(call: AggCall) -> tuple[tuple[bool, bool], ...]:
    """string_agg's ORDER BY: one ``(descending, nulls_first)`` pair per key argument."""
    order = call.option("order", ())
    assert isinstance(order, tuple)
    return order


@dataclass(frozen=True, slots=True)
class _StringAgg(AggregateFunction):
    def result_type(self, input_type: pa.DataType | None, call: AggCall) -> pa.DataType:
        if input_type is None:
            raise BindError("string_agg needs an argument")
        plain = _plain(input_type)
        if not (T.is_string(plain) or T.is_integer(plain) or T.is_null_type(plain)):
            raise BindError(
                f"string_agg needs a string argument, got {plain}; cast it: CAST(x AS VARCHAR)"
            )
        sep = call.option("sep")
        if sep is not None and not isinstance(sep, str):
            raise BindError(f"string_agg: the separator must be a string, got {sep!r}")
        return pa.string()

    def input_type(self, input_type: pa.DataType) -> pa.DataType:
        return pa.string()

    def arity(self, call: AggCall) -> int:
        return 1 + len(string_agg_order(call))

    def argument_type(self, arg_types: list[pa.DataType], call: AggCall) -> pa.DataType | None:
        return AggregateFunction.argument_type(self, [_plain(t) for t in arg_types], call)

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        assert input_type is not None
        return [pa.large_list(input_type)]


#: Registry: AggCall.fn -> function object.
AGGREGATES: dict[str, AggregateFunction] = {
    f.name: f
    for f in (
        _Count("count"),
        _Sum("sum"),
        _Avg("avg"),
        _MinMax("min"),
        _MinMax("max"),
        _Variance("var_samp"),
        _Variance("var_pop"),
        _Variance("stddev_samp"),
        _Variance("stddev_pop"),
        _ApproxCountDistinct("approx_count_distinct"),
        _ApproxQuantile("approx_quantile"),
        _Quantile("median"),
        _Quantile("quantile_cont"),
        _Quantile("quantile_disc"),
        _StringAgg("string_agg"),
    )
}
_ALIASES = {
    "mean": "avg",
    "variance": "var_samp",
    "stddev": "stddev_samp",
    "std": "stddev_samp",
    "quantile": "quantile_disc",
    "group_concat": "string_agg",
    "listagg": "string_agg",
}


def canonical_aggregate_name(name: str) -> str:
    """Registry name for ``name`` (``mean`` → ``avg``, ``stddev`` → ``stddev_samp``)."""
    lowered = name.lower()
    return _ALIASES.get(lowered, lowered)


def aggregate_function(name: str) -> AggregateFunction:
    """The registered aggregate called ``name``.

    Raises:
        BindError: unknown aggregate, with near matches.
    """
    func = AGGREGATES.get(canonical_aggregate_name(name))
    if func is None:
        near = near_matches(name, AGGREGATES)
        hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise BindError(f"unknown aggregate '{name}'{hint}")
    return func
