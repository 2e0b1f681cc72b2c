"""The contract every aggregate kernel implements (see :mod:`.aggregates`).

A kernel computes the per-group states of one registered aggregate
(:data:`hasivu_compute.expr.aggregates.AGGREGATES`, which owns its types) as Arrow
hash aggregations: ``partial_specs`` on raw input grouped by the keys,
``combine_specs`` on concatenated states grouped again, and ``finalize`` turning a
state into the result column. Kept apart from the kernel registry so that kernels
defined in their own modules (:mod:`.quantiles`, :mod:`.string_agg`) can subclass it
without an import cycle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.expr.aggregates import AggregateFunction, aggregate_function
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
class AggregateKernel(ABC):
    """Base: the steps of a decomposable aggregate. Subclasses override what they change."""

    name: str

    @property
    def function(self) -> AggregateFunction:
        """The registered function (its types) this kernel computes."""
        return aggregate_function(self.name)

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


def group_ids(lists: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(group id per flattened element, flattened values) of a list column."""
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    return parents, pc.list_flatten(lists)
