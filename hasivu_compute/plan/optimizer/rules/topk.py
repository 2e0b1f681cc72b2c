"""Rule: top-k push-down — each fragment keeps only its best ``limit + offset`` rows.

Before / after::

    Limit 10                      Limit 10
      Sort revenue DESC             Sort revenue DESC
        Exchange           ->         Exchange
          Scan orders                   Limit 10
                                          Sort revenue DESC
                                            Scan orders

The merge still sorts and limits the union of the fragments' top rows, so the
answer is unchanged while each fragment ships at most ``limit + offset`` rows.
Over a UNION ALL of exchanges every input gets its own top-k (sort keys renamed
by position to the input's column names).
"""

from __future__ import annotations

from dataclasses import replace

from hasivu_compute.plan._expr import Column, Expr, substitute
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import Exchange, Limit, PlanNode, Sort, SortKey, Union, transform_up
from hasivu_compute.plan.optimizer import OptimizerContext


def _already(local: PlanNode, n: int) -> bool:
    return (
        isinstance(local, Limit)
        and local.limit is not None
        and local.limit <= n
        and local.offset == 0
        and isinstance(local.child, Sort)
    )


def _top(exchange: Exchange, keys: tuple[SortKey, ...], n: int) -> Exchange:
    local = exchange.child
    if _already(local, n):
        return exchange
    return Exchange(Limit(Sort(local, keys), n))


def _renamed_keys(
    keys: tuple[SortKey, ...], first: list[str], names: list[str]
) -> tuple[SortKey, ...]:
    mapping: dict[str, Expr] = {a: Column(b) for a, b in zip(first, names, strict=True) if a != b}
    if not mapping:
        return keys
    return tuple(replace(k, expr=substitute(k.expr, mapping)) for k in keys)


def _into_union(union: Union, keys: tuple[SortKey, ...], n: int) -> Union | None:
    if not all(isinstance(c, Exchange) for c in union.inputs):
        return None
    first = list(output_schema(union.inputs[0]).names)
    inputs = []
    for child in union.inputs:
        assert isinstance(child, Exchange)
        names = list(output_schema(child).names)
        inputs.append(_top(child, _renamed_keys(keys, first, names), n))
    if all(a is b for a, b in zip(inputs, union.inputs, strict=True)):
        return None
    return Union(tuple(inputs))


def _push(node: PlanNode) -> PlanNode:
    if not (isinstance(node, Limit) and node.limit is not None and isinstance(node.child, Sort)):
        return node
    sort = node.child
    n = node.limit + node.offset
    if isinstance(sort.child, Exchange):
        pushed: PlanNode = _top(sort.child, sort.keys, n)
    elif isinstance(sort.child, Union):
        pushed = _into_union(sort.child, sort.keys, n) or sort.child
    else:
        return node
    if pushed is sort.child:
        return node
    return Limit(Sort(pushed, sort.keys), node.limit, node.offset)


def push_down_topk(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Copy ``Limit(Sort(...))`` into every fragment below the exchange.

    Example:
        >>> import pyarrow as pa
        >>> from hasivu_compute.plan.builder import sort_key
        >>> from hasivu_compute.plan.binder import bind_plan
        >>> from hasivu_compute.plan.nodes import Exchange, Limit, Scan, Sort
        >>> from hasivu_compute.plan.render import render
        >>> p = bind_plan(Limit(Sort(Exchange(Scan("t")), (sort_key("a", True),)), 3),
        ...               lambda n, v: pa.schema([("a", pa.int64())]))
        >>> print(render(push_down_topk(p, OptimizerContext())))
        Limit 3
          Sort a DESC
            Exchange
              Limit 3
                Sort a DESC
                  Scan t
    """
    return transform_up(plan, _push)
