"""``string_agg(s, sep [ORDER BY k ...])`` (``group_concat``, ``listagg``) as in DuckDB.

The state is the group's values (:mod:`.liststates`): with ``ORDER BY`` each item
is a struct of the value (field ``a0``) and the sort keys (``a1``, ...), so the
gatherer sorts a group's items after concatenating its partials. Without
``ORDER BY`` the order is whatever arrives first, which DuckDB leaves undefined
too. NULL values are skipped; a group without values (or a NULL separator)
gives NULL.

Options of the ``AggCall``: ``sep`` (a string, or None for a NULL separator) and
``order``, one ``(descending, nulls_first)`` pair per ORDER BY key, the keys being
the call's arguments after the value. The argument and result types are checked in
:mod:`hasivu_compute.expr.aggregates`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.exec.kernels.aggbase import GATHER, AggregateKernel, Spec
from hasivu_compute.exec.kernels.liststates import concatenated, sorted_groups, without_nulls
from hasivu_compute.expr.aggregates import string_agg_order as _order
from hasivu_compute.expr.nodes import AggCall

__all__ = ["STRING_AGG"]


@dataclass(frozen=True, slots=True)
class _StringAgg(AggregateKernel):
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


#: Registered in :data:`.aggregates.AGGREGATE_KERNELS`.
STRING_AGG = _StringAgg("string_agg")
