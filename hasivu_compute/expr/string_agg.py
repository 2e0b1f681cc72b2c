"""``string_agg(s, sep [ORDER BY k ...])`` (``group_concat``, ``listagg``) as in DuckDB.

The state is the group's values (:mod:`.liststates`): with ``ORDER BY`` each item
is a struct of the value (field ``a0``) and the sort keys (``a1``, ...), so the
gatherer sorts a group's items after concatenating its partials. Without
``ORDER BY`` the order is whatever arrives first, which DuckDB leaves undefined
too. NULL values are skipped; a group without values (or a NULL separator)
gives NULL.

Options of the ``AggCall``: ``sep`` (a string, or None for a NULL separator) and
``order``, one ``(descending, nulls_first)`` pair per ORDER BY key, the keys being
the call's arguments after the value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr import types as T
from hasivu_compute.expr.aggbase import GATHER, AggregateFunction, Spec
from hasivu_compute.expr.liststates import concatenated, sorted_groups, without_nulls
from hasivu_compute.expr.nodes import AggCall

__all__ = ["STRING_AGG"]


def _order(call: AggCall) -> tuple[tuple[bool, bool], ...]:
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
        return 1 + len(_order(call))

    def argument_type(self, arg_types: list[pa.DataType], call: AggCall) -> pa.DataType | None:
        return AggregateFunction.argument_type(self, [_plain(t) for t in arg_types], call)

    def state_types(self, input_type: pa.DataType | None, call: AggCall) -> list[pa.DataType]:
        assert input_type is not None
        return [pa.large_list(input_type)]

    def partial_specs(self, arg: str | None, call: AggCall) -> list[Spec]:
        return [(str(arg), GATHER, None)]

    def partial_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        return [without_nulls(columns[0], "a0" if _order(call) else None)]

    def combine_specs(self, states: list[str], call: AggCall) -> list[Spec]:
        return [(states[0], GATHER, None)]

    def combine_finish(self, columns: list[pa.Array], call: AggCall) -> list[pa.Array]:
        return [concatenated(columns[0])]

    def finalize(self, states: list[pa.Array], call: AggCall) -> pa.Array:
        order = _order(call)
        lists = without_nulls(states[0], "a0" if order else None)
        sep = call.option("sep")
        if sep is None:
            return pa.nulls(len(lists), pa.string())
        if order:
            keys = [(f"a{i}", desc, first) for i, (desc, first) in enumerate(order, start=1)]
            items, _, counts = sorted_groups(lists, keys)
            values = items.field("a0") if len(items) else pa.array([], pa.string())
        else:
            values = pc.list_flatten(lists)
            counts = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        grouped = pa.LargeListArray.from_arrays(
            pa.array(offsets), values.cast(pa.string()), mask=pa.array(counts == 0)
        )
        return pc.binary_join(grouped, sep)


def _plain(dtype: pa.DataType) -> pa.DataType:
    return dtype.value_type if pat.is_dictionary(dtype) else dtype


#: Registered in :data:`hasivu_compute.expr.aggregates.AGGREGATES`.
STRING_AGG = _StringAgg("string_agg")
