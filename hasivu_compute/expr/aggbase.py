"""The contract every aggregate function implements (see :mod:`.aggregates`).

Kept apart from the registry so that aggregates defined in their own modules
(:mod:`.quantiles`, :mod:`.string_agg`) can subclass it without an import cycle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import types as T
from hasivu_compute.expr.nodes import AggCall

#: One pyarrow group-by aggregation: (input column(s), hash function name, options).
Spec: TypeAlias = tuple[str | list[str], str, pc.FunctionOptions | None]

#: Pseudo group-by function (see ``aggsteps``): the group's input values as a list, in
#: input order, NULLs kept, for any type (Arrow's ``hash_list`` has no kernel for
#: structs or lists). The state of exact quantiles and of string_agg.
GATHER = "gather_values"


def spec_output_name(spec: Spec) -> str:
    """The column name pyarrow gives a group-by aggregation's result."""
    column, fn, _ = spec
    if isinstance(column, list):
        return fn if not column else f"{'_'.join(column)}_{fn}"
    return f"{column}_{fn}"


@dataclass(frozen=True, slots=True)
class AggregateFunction(ABC):
    """Base: a decomposable aggregate. Subclasses override the pieces they change."""

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
        into a struct column by ``aggsteps`` (fields ``a0``, ``a1``, ...).
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

    @abstractmethod
    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        """Group-by aggregations over the (cast) argument column ``arg``."""
        ...

    def partial_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        """Turn the group-by outputs of :meth:`partial_specs` into state columns."""
        return columns

    def one_shot_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        """Specs for a partial that is finalized directly (never combined); their
        outputs may be a cheaper state that only :meth:`finalize` understands."""
        return self.partial_specs(arg, call)

    @abstractmethod
    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        """Group-by aggregations that merge many state rows of one group."""
        ...

    def combine_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        """Turn the group-by outputs of :meth:`combine_specs` into state columns."""
        return columns

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        """The result column from fully combined states."""
        return states[0]

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


def group_ids(lists: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(group id per flattened element, flattened values) of a list column."""
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    return parents, pc.list_flatten(lists)
