"""The layout of a grouped aggregation split into partial → combine → finalize.

``aggregate_layout(keys, aggs, schema)`` binds the keys and aggregate expressions
once and returns an :class:`AggregateLayout`: the distinct aggregate calls, the
output expressions over their results, and the schemas of the partial states and
of the final rows. The planner needs only the schemas (``PartialAggregate`` outputs,
exchange inputs); the steps that compute them on Arrow are execution's
(:mod:`hasivu_compute.exec.kernels.aggsteps`). Aggregate outputs may be expressions
over aggregates (``sum(a) / count(*)``) and over the keys.

>>> import pyarrow as pa
>>> from hasivu_compute.expr import col, count
>>> schema = pa.schema([("k", pa.string()), ("v", pa.int64())])
>>> layout = aggregate_layout([col("k")], [col("v").sum().alias("s"), count().alias("n")], schema)
>>> layout.partial_schema.names
['k', '__s0_0', '__s1_0']
>>> [str(o) for o in layout.outputs]
['__agg0 AS s', '__agg1 AS n']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr.aggregates import aggregate_function
from hasivu_compute.expr.binder import bind
from hasivu_compute.expr.nodes import AggCall, BoundColumn, Column, Expr, col
from hasivu_compute.expr.visitors import aggregate_calls, output_name, walk

__all__ = ["AggregateLayout", "aggregate_layout", "argument_type"]


@dataclass(frozen=True, slots=True)
class AggregateLayout:
    """Bound keys and aggregates, and the columns of each step of a distributed aggregation.

    Attributes:
        keys: bound key expressions; their output names name the key columns.
        calls: the distinct bound aggregate calls the outputs use.
        outputs: final expressions bound against ``key columns + __agg<i>`` columns.
        partial_schema: schema of the partial and combined states: the key columns,
            then ``__s<i>_<j>``, state ``j`` of call ``i``.
        output_schema: schema of the final rows.
    """

    keys: tuple[Expr, ...]
    key_names: tuple[str, ...]
    calls: tuple[AggCall, ...]
    outputs: tuple[Expr, ...]
    output_names: tuple[str, ...]
    partial_schema: pa.Schema
    output_schema: pa.Schema

    @property
    def exact(self) -> bool:
        """Whether combining partials reproduces the one-shot result exactly."""
        return all(aggregate_function(c.fn).exact for c in self.calls)

    def state_names(self, i: int) -> list[str]:
        """The state columns of call ``i``, in order."""
        return [n for n in self.partial_schema.names if n.startswith(f"__s{i}_")]


def aggregate_layout(
    keys: Sequence[Expr | str], aggs: Sequence[Expr], schema: pa.Schema
) -> AggregateLayout:
    """Bind ``keys`` and ``aggs`` against ``schema`` and lay out the three steps.

    Raises:
        BindError: unknown columns, an output that is not an aggregate of the
            input nor a key, duplicate output names, or unsupported types.
    """
    bound_keys = tuple(bind(col(k) if isinstance(k, str) else k, schema) for k in keys)
    bound_aggs = tuple(bind(a, schema) for a in aggs)
    key_names = tuple(output_name(k) for k in bound_keys)
    output_names = tuple(output_name(a) for a in bound_aggs)
    _check_unique(key_names + output_names)
    calls: dict[object, AggCall] = {}
    for agg in bound_aggs:
        for call in aggregate_calls(agg):
            calls.setdefault(call.key(), call)
    call_list = tuple(calls.values())
    partial_schema = _partial_schema(bound_keys, key_names, call_list)
    inner_fields = [pa.field(n, k.dtype) for n, k in zip(key_names, bound_keys, strict=True)]
    inner_fields += [pa.field(f"__agg{i}", c.dtype) for i, c in enumerate(call_list)]
    inner_schema = pa.schema(inner_fields)
    replacements: dict[object, Expr] = {
        k.key(): col(n) for n, k in zip(key_names, bound_keys, strict=True)
    }
    replacements.update({c.key(): col(f"__agg{i}") for i, c in enumerate(call_list)})
    outputs = []
    for agg in bound_aggs:
        rewritten = _substitute(agg, replacements)
        _check_grouped(rewritten, agg, set(key_names))
        outputs.append(bind(rewritten, inner_schema))
    output_schema = pa.schema(
        [pa.field(n, k.dtype) for n, k in zip(key_names, bound_keys, strict=True)]
        + [pa.field(n, o.dtype) for n, o in zip(output_names, outputs, strict=True)]
    )
    return AggregateLayout(
        bound_keys,
        key_names,
        call_list,
        tuple(outputs),
        output_names,
        partial_schema,
        output_schema,
    )


def argument_type(call: AggCall) -> pa.DataType | None:
    """Type of the one column the partial of bound ``call`` reads (see
    :meth:`~hasivu_compute.expr.aggregates.AggregateFunction.argument_type`)."""
    return aggregate_function(call.fn).argument_type([_arg_type(a) for a in call.args], call)


def _arg_type(arg: Expr) -> pa.DataType:
    assert arg.dtype is not None, f"unbound aggregate argument {arg}"
    return arg.dtype


def _partial_schema(
    keys: tuple[Expr, ...], names: tuple[str, ...], calls: tuple[AggCall, ...]
) -> pa.Schema:
    fields = [pa.field(n, k.dtype) for n, k in zip(names, keys, strict=True)]
    for i, call in enumerate(calls):
        func = aggregate_function(call.fn)
        for j, t in enumerate(func.state_types(argument_type(call), call)):
            fields.append(pa.field(f"__s{i}_{j}", t))
    return pa.schema(fields)


def _substitute(expr: Expr, replacements: dict[object, Expr]) -> Expr:
    """Top-down: replace whole sub-trees found in ``replacements`` (by structural key)."""
    found = replacements.get(expr.key())
    if found is not None:
        return found
    children = expr.children()
    if not children:
        return expr
    return expr.with_children([_substitute(c, replacements) for c in children])


def _check_grouped(rewritten: Expr, original: Expr, keys: set[str]) -> None:
    for node in walk(rewritten):
        if isinstance(node, BoundColumn):
            raise BindError(
                f"column '{node.name}' in {original} must be a group key or inside an aggregate"
            )
        if isinstance(node, Column) and not (node.name in keys or node.name.startswith("__agg")):
            raise BindError(f"column '{node.name}' in {original} is not a group key")


def _check_unique(names: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise BindError(f"duplicate output column name '{n}' in aggregate: add an alias")
        seen.add(n)
