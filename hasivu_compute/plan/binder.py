"""Bind a name-based plan: resolve tables to snapshots and columns to typed references.

The SDK and SQL build plans with name references (``Scan("orders")``,
``col("amount")``). :func:`bind_plan` pins each scan to one snapshot version,
records the table schema and partition columns on the scan, and binds every
expression against its input's output schema. The optimizer only sees bound plans;
after a rule moves expressions around, :func:`rebind_plan` re-derives all bindings
by name (scans keep their pinned schema).

Example:
    >>> import pyarrow as pa
    >>> from hasivu_compute.plan.nodes import Scan
    >>> s = bind_plan(Scan("t"), lambda name, v: pa.schema([("a", pa.int64())]))
    >>> output_schema(s).names
    ['a']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pyarrow as pa

from hasivu_compute._core.errors import BindError, PlanError, near_matches
from hasivu_compute.expr.types import supertype
from hasivu_compute.plan._expr import (
    Alias,
    BoundColumn,
    Cast,
    Column,
    Expr,
    WindowCall,
    columns_referenced,
    is_aggregate,
    may_be_null,
    output_name,
    rebind,
    unalias,
)
from hasivu_compute.plan.nodes import (
    Aggregate,
    BroadcastInput,
    Distinct,
    Exchange,
    Filter,
    FinalAggregate,
    Join,
    Limit,
    MergeInput,
    PartialAggregate,
    PlanNode,
    PreAggregate,
    Project,
    Repeat,
    Scan,
    Sort,
    SortKey,
    Union,
    Values,
    Window,
)


@dataclass(frozen=True, slots=True)
class TableInfo:
    """What binding needs to know about a table at one snapshot.

    Attributes:
        schema: the table's columns at that snapshot.
        version: the snapshot version (None: leave the scan's).
        partition_columns: source columns of the partition spec.
        name: the name the table was created with, which the bound scan takes (a
            look-up matches names case-insensitively, like DuckDB); None: keep the scan's.
    """

    schema: pa.Schema
    version: int | None = None
    partition_columns: tuple[str, ...] = ()
    name: str | None = None


Resolver = Callable[[str, "int | None"], "TableInfo | pa.Schema"]


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` without field or schema metadata (stable for comparison and display)."""
    return pa.schema([pa.field(f.name, f.type, f.nullable) for f in schema])


def bind_plan(plan: PlanNode, resolve: Resolver) -> PlanNode:
    """Bind every scan through ``resolve`` and every expression against its input.

    Raises:
        BindError: unknown table column (with near matches), or a type error.
        PlanError: a node that cannot be bound (e.g. a Union of different arity).
    """
    bound, _ = _bind(plan, resolve)
    return bound


def rebind_plan(plan: PlanNode) -> PlanNode:
    """Re-bind a plan whose scans are already bound (after an optimizer rewrite)."""

    def refuse(name: str, version: int | None) -> TableInfo:
        raise PlanError(f"rebind_plan: scan of {name!r} is not bound; call bind_plan first")

    return bind_plan(plan, refuse)


def output_schema(plan: PlanNode) -> pa.Schema:
    """The output schema of a bound plan.

    Read from the bound expressions' types without re-binding; a plan holding
    unbound pieces (mid-rewrite) is re-bound by name instead.
    """
    try:
        return _schema_of(plan)
    except BindError:
        return _bind(plan, None)[1]


def _schema_of(plan: PlanNode) -> pa.Schema:
    if isinstance(plan, Scan):
        schema = plan.table_schema
        if schema is None:
            raise BindError(f"Scan({plan.table}) is not bound")
        return (
            schema if plan.columns is None else pa.schema([schema.field(c) for c in plan.columns])
        )
    if isinstance(plan, (MergeInput, BroadcastInput)):
        return plan.schema
    if isinstance(plan, Values):
        return plan.rows.schema
    if isinstance(plan, Join):
        return join_schema(plan.how, _schema_of(plan.left), _schema_of(plan.right))
    if isinstance(plan, Union):
        return _union_nullability(_schema_of(plan.inputs[0]), [_schema_of(i) for i in plan.inputs])
    if isinstance(plan, Project):
        child = _schema_of(plan.child)
        return pa.schema([_typed_field(e, child) for e in plan.exprs])
    if isinstance(plan, PartialAggregate):
        from hasivu_compute.plan.aggregation import partial_schema

        return partial_schema(plan)
    if isinstance(plan, Aggregate):
        source = plan.input_schema if isinstance(plan, FinalAggregate) else None
        child = source if source is not None else _schema_of(plan.child)
        return pa.schema([_typed_field(e, child) for e in plan.keys + plan.aggs])
    if isinstance(plan, Window):
        child = _schema_of(plan.child)
        return pa.schema(list(child) + [_typed_field(f, child) for f in plan.funcs])
    (child,) = plan.children()
    return _schema_of(child)


def _typed_field(expr: Expr, input_schema: pa.Schema) -> pa.Field:
    dtype = getattr(expr, "dtype", None)
    if not isinstance(dtype, pa.DataType):
        raise BindError(f"{expr} is not bound")
    return pa.field(output_name(expr), dtype, nullable=may_be_null(expr, input_schema))


def _union_nullability(first: pa.Schema, schemas: list[pa.Schema]) -> pa.Schema:
    """``first`` with a column NOT NULL only where it is NOT NULL in every input."""
    nullable = [any(s.field(i).nullable for s in schemas) for i in range(len(first))]
    if all(f.nullable == n for f, n in zip(first, nullable, strict=True)):
        return first
    return pa.schema([f.with_nullable(n) for f, n in zip(first, nullable, strict=True)])


def _bind(plan: PlanNode, resolve: Resolver | None) -> tuple[PlanNode, pa.Schema]:
    if isinstance(plan, Scan):
        return _bind_scan(plan, resolve)
    if isinstance(plan, Union):
        return _bind_union(plan, resolve)
    if isinstance(plan, Join):
        return _bind_join(plan, resolve)
    if isinstance(plan, (MergeInput, BroadcastInput)):
        return plan, plan.schema
    if isinstance(plan, Values):
        return plan, plan.rows.schema
    kids = plan.children()
    if len(kids) != 1:
        raise PlanError(f"cannot bind {type(plan).__name__} with {len(kids)} inputs")
    child, schema = _bind(kids[0], resolve)
    node = plan.with_children([child])
    binder = _UNARY.get(type(node))
    if binder is None:
        raise PlanError(f"cannot bind unknown node {type(node).__name__}")
    return binder(node, schema)


def _resolve_scan(scan: Scan, resolve: Resolver | None) -> Scan:
    if scan.table_schema is not None:
        return scan
    if resolve is None:
        raise PlanError(f"Scan({scan.table}) is not bound; call bind_plan first")
    info = resolve(scan.table, scan.version)
    if isinstance(info, pa.Schema):
        info = TableInfo(info, scan.version)
    version = info.version if info.version is not None else scan.version
    return replace(
        scan,
        table=info.name or scan.table,  # one spelling downstream (caches, logs, explain)
        version=version,
        table_schema=plain_schema(info.schema),
        partition_columns=tuple(info.partition_columns),
        head=scan.head or scan.version is None,
    )


def _bind_scan(scan: Scan, resolve: Resolver | None) -> tuple[PlanNode, pa.Schema]:
    scan = _resolve_scan(scan, resolve)
    schema = scan.table_schema
    assert schema is not None
    if scan.columns is not None:
        for name in scan.columns:
            if schema.get_field_index(name) < 0:
                hint = near_matches(name, schema.names)
                extra = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
                raise BindError(f"table {scan.table!r} has no column {name!r}{extra}")
    flt = scan.filter
    if flt is not None:
        flt = _predicate(rebind(flt, schema), f"Scan({scan.table}).filter")
    out = schema if scan.columns is None else pa.schema([schema.field(c) for c in scan.columns])
    if flt is not scan.filter:
        scan = replace(scan, filter=flt)
    return scan, out


def _predicate(expr: Expr, where: str) -> Expr:
    dtype = expr.dtype
    if not (pa.types.is_boolean(dtype) or pa.types.is_null(dtype)):
        raise BindError(f"{where}: predicate must be boolean, got {dtype} for {expr}")
    return expr


def _fields(exprs: tuple[Expr, ...], where: str, input_schema: pa.Schema) -> list[pa.Field]:
    fields = [
        pa.field(output_name(e), e.dtype, nullable=may_be_null(e, input_schema)) for e in exprs
    ]
    names = [f.name for f in fields]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BindError(f"{where}: duplicate output column names {dupes}; use .alias() to rename")
    return fields


def _bind_filter(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    assert isinstance(node, Filter)
    pred = _predicate(rebind(node.predicate, schema), "Filter")
    if is_aggregate(pred):
        raise BindError(f"Filter: aggregate in a row filter: {pred}; filter after aggregating")
    return replace(node, predicate=pred), schema


def _bind_repeat(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    assert isinstance(node, Repeat)
    times = rebind(node.times, schema)
    if times.dtype is None or not (
        pa.types.is_integer(times.dtype) or pa.types.is_null(times.dtype)
    ):
        raise BindError(f"Repeat: the row count {times} must be an integer, got {times.dtype}")
    if is_aggregate(times):
        raise BindError(f"Repeat: aggregate in a row count: {times}")
    return replace(node, times=times), schema


def pin_name(expr: Expr) -> Expr:
    """``expr`` with its output name fixed by an alias.

    Unaliased expressions are named by their SQL text, which binding (inserted
    casts) or simplification would change; pinning the name once at bind time
    keeps every rewrite schema-preserving.
    """
    if isinstance(expr, (Alias, Column, BoundColumn)):
        return expr
    return Alias(expr, output_name(expr))


def _bind_project(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    assert isinstance(node, Project)
    exprs = tuple(rebind(pin_name(e), schema) for e in node.exprs)
    for e in exprs:
        if is_aggregate(e):
            raise BindError(f"Project: aggregate {e} outside an aggregation; use group_by().agg()")
    return replace(node, exprs=exprs), pa.schema(_fields(exprs, "Project", schema))


def _bind_aggregate(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    assert isinstance(node, Aggregate)
    keys = tuple(rebind(pin_name(e), schema) for e in node.keys)
    aggs = tuple(rebind(pin_name(e), schema) for e in node.aggs)
    for k in keys:
        if is_aggregate(k):
            raise BindError(f"Aggregate: group key {k} must not contain an aggregate")
    key_names = {n for k in keys for n in columns_referenced(k)}
    for a in aggs:
        if not is_aggregate(a) and not (columns_referenced(a) <= key_names):
            raise BindError(f"Aggregate: {a} is neither an aggregate nor a group key")
    bound = replace(node, keys=keys, aggs=aggs)
    if isinstance(bound, PartialAggregate):
        from hasivu_compute.plan.aggregation import partial_schema

        return bound, partial_schema(bound)
    return bound, pa.schema(_fields(keys + aggs, "Aggregate", schema))


def _bind_final(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    # FinalAggregate expressions stay bound against the PartialAggregate's input,
    # which the merge does not see; its schema comes from those expressions.
    assert isinstance(node, FinalAggregate)
    source = node.input_schema if node.input_schema is not None else pa.schema([])
    return node, pa.schema(_fields(node.keys + node.aggs, "FinalAggregate", source))


def _bind_sort(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    assert isinstance(node, Sort)
    keys = tuple(replace(k, expr=rebind(k.expr, schema)) for k in node.keys)
    return replace(node, keys=keys), schema


def _bind_window(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    assert isinstance(node, Window)
    funcs = tuple(rebind(pin_name(f), schema) for f in node.funcs)
    for f in funcs:
        if not isinstance(unalias(f), WindowCall):
            raise BindError(f"Window: {f} is not a window function call")
        if is_aggregate(f):
            raise BindError(f"Window: aggregate {f} inside a window call; aggregate first")
    added = _fields(funcs, "Window", schema)
    clash = sorted(set(schema.names) & {f.name for f in added})
    if clash:
        raise BindError(f"Window: output names {clash} are already input columns; rename them")
    return replace(node, funcs=funcs), pa.schema(list(schema) + added)


def _pass_through(node: PlanNode, schema: pa.Schema) -> tuple[PlanNode, pa.Schema]:
    return node, schema


def _bind_union(plan: Union, resolve: Resolver | None) -> tuple[PlanNode, pa.Schema]:
    pairs = [_bind(child, resolve) for child in plan.inputs]
    first = pairs[0][1]
    for i, (_, schema) in enumerate(pairs[1:], start=1):
        if len(schema) != len(first):
            raise BindError(f"Union: input {i} has {len(schema)} columns, input 0 has {len(first)}")
    types = _union_types([s for _, s in pairs])
    kids = [_coerced(child, schema, types) for child, schema in pairs]
    out = pa.schema([f.with_type(t) for f, t in zip(first, types, strict=True)])
    if all(f.type.equals(t) for f, t in zip(first, types, strict=True)):
        out = first
    return plan.with_children(kids), _union_nullability(out, [s for _, s in pairs])


def _union_types(schemas: list[pa.Schema]) -> list[pa.DataType]:
    """Per position, the common type of every input (SQL implicit UNION coercion)."""
    types = list(schemas[0].types)
    for i, schema in enumerate(schemas[1:], start=1):
        for j, field in enumerate(schema):
            try:
                types[j] = supertype(types[j], field.type)
            except BindError:
                raise BindError(  # UNION, INTERSECT and EXCEPT all reach here
                    f"Union (UNION / INTERSECT / EXCEPT): input {i} column {field.name!r} is "
                    f"{field.type}, which does not combine with {types[j]} of input 0 column "
                    f"{schemas[0].names[j]!r}; cast one side"
                ) from None
    return types


def _coerced(child: PlanNode, schema: pa.Schema, types: list[pa.DataType]) -> PlanNode:
    """``child`` with a casting projection where its column types differ from ``types``."""
    if all(f.type.equals(t) for f, t in zip(schema, types, strict=True)):
        return child
    exprs: list[Expr] = []
    for f, t in zip(schema, types, strict=True):
        ref = BoundColumn(f.name, schema.get_field_index(f.name), f.type)
        exprs.append(ref if f.type.equals(t) else Alias(Cast(ref, t), f.name))
    return _bind_project(Project(child, tuple(exprs)), schema)[0]


def join_schema(how: str, left: pa.Schema, right: pa.Schema) -> pa.Schema:
    """The output of a join: left then right columns, NULL-able on an outer side.

    Raises:
        BindError: a name is on both sides (rename one first).
    """
    if how in ("semi", "anti"):
        return left
    both = sorted(set(left.names) & set(right.names))
    if both:
        raise BindError(
            f"Join: columns {both} are on both sides; rename one side's (a suffix) first"
        )
    if how in ("right", "full"):
        left = pa.schema([f.with_nullable(True) for f in left])
    if how in ("left", "full"):
        right = pa.schema([f.with_nullable(True) for f in right])
    return pa.schema(list(left) + list(right))


def _bind_join(plan: Join, resolve: Resolver | None) -> tuple[PlanNode, pa.Schema]:
    left, left_schema = _bind(plan.left, resolve)
    right, right_schema = _bind(plan.right, resolve)
    out = join_schema(plan.how, left_schema, right_schema)
    left_keys, right_keys = [], []
    for i, (a, b) in enumerate(zip(plan.left_keys, plan.right_keys, strict=True)):
        lk, rk = rebind(a, left_schema), rebind(b, right_schema)
        for key in (lk, rk):
            if is_aggregate(key):
                raise BindError(f"Join: key {key} must not contain an aggregate")
        try:
            common = supertype(lk.dtype, rk.dtype)
        except BindError:
            raise BindError(
                f"Join: key {i + 1} compares {lk} ({lk.dtype}) with {rk} ({rk.dtype}), "
                "which do not compare; cast one side"
            ) from None
        left_keys.append(lk if lk.dtype.equals(common) else Cast(lk, common))
        right_keys.append(rk if rk.dtype.equals(common) else Cast(rk, common))
    condition = plan.condition
    if condition is not None:
        both = sorted(set(left_schema.names) & set(right_schema.names))
        if both:
            raise BindError(f"Join: columns {both} are on both sides of a join condition")
        combined = pa.schema(list(left_schema) + list(right_schema))
        condition = _predicate(rebind(condition, combined), "Join condition")
        if is_aggregate(condition):
            raise BindError(f"Join: aggregate in a join condition: {condition}")
    bound = replace(
        plan,
        left=left,
        right=right,
        left_keys=tuple(left_keys),
        right_keys=tuple(right_keys),
        condition=condition,
    )
    return bound, out


_UNARY: dict[type, Callable[[PlanNode, pa.Schema], tuple[PlanNode, pa.Schema]]] = {
    Filter: _bind_filter,
    Project: _bind_project,
    Aggregate: _bind_aggregate,
    PartialAggregate: _bind_aggregate,
    PreAggregate: _bind_aggregate,
    FinalAggregate: _bind_final,
    Sort: _bind_sort,
    Limit: _pass_through,
    Distinct: _pass_through,
    Exchange: _pass_through,
    Window: _bind_window,
    Repeat: _bind_repeat,
}


def sort_key_bound(key: SortKey, schema: pa.Schema) -> SortKey:
    """``key`` re-bound against ``schema``."""
    return replace(key, expr=rebind(key.expr, schema))
