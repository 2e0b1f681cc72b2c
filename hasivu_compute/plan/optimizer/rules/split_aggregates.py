"""Rule: split aggregates (and DISTINCT) across the fragment boundary.

Before / after::

    Aggregate keys=[item_id] aggs=[sum(amount) AS revenue]
      Exchange
        Scan orders
    ->
    FinalAggregate keys=[item_id] aggs=[sum(amount) AS revenue]
      Exchange
        PartialAggregate keys=[item_id] aggs=[sum(amount) AS revenue]
          Scan orders

Each fragment computes partial states (sum, count, sketches ...), the merge
combines and finalizes them, so only partial results cross the boundary. When the
group keys contain every partition source column (e.g. per school on a table
partitioned by school), or when pruning left files of one partition only, no
group spans two fragments: the whole aggregate — count distinct and quantiles
included — runs inside the fragment and the merge only concatenates::

    Exchange
      Aggregate keys=[school_id] aggs=[count(DISTINCT student_id) AS students]
        Scan orders

DISTINCT splits the same way (distinct per fragment, then distinct again). Over a
UNION ALL of exchanges each input gets its own partial step (renamed by position
to the union's column names), and the final step runs over the union of partials.
"""

from __future__ import annotations

from hasivu_compute.plan._expr import Alias, BoundColumn, Column, Expr, strip_alias
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Aggregate,
    Distinct,
    Exchange,
    Filter,
    FinalAggregate,
    Join,
    PartialAggregate,
    PlanNode,
    PreAggregate,
    Project,
    Scan,
    Union,
    Window,
    scans,
    transform_up,
)
from hasivu_compute.plan.optimizer import OptimizerContext


def source_column(plan: PlanNode, name: str) -> tuple[Scan, str] | None:
    """The scan column that output column ``name`` of a local pipeline passes through unchanged."""
    node = plan
    while True:
        if isinstance(node, Filter):
            node = node.child
            continue
        if isinstance(node, Project):
            found = [e for e in node.exprs if _out(e) == name]
            if not found:
                return None
            inner = strip_alias(found[0])
            if not isinstance(inner, (Column, BoundColumn)):
                return None
            name, node = inner.name, node.child
            continue
        if isinstance(node, Scan):
            return node, name
        if isinstance(node, Window):  # input columns pass through; its own are computed
            if name in {_out(f) for f in node.funcs}:
                return None
            node = node.child
            continue
        if isinstance(node, Aggregate) and type(node) in (Aggregate, PreAggregate):  # keys pass
            keys = [strip_alias(k) for k in node.keys if _out(k) == name]
            if not keys or not isinstance(keys[0], (Column, BoundColumn)):
                return None
            name, node = keys[0].name, node.child
            continue
        if isinstance(node, Join) and node.strategy == "broadcast":
            # probe rows keep their values (a join only repeats or drops them)
            if name not in output_schema(node.left).names:
                return None
            node = node.left
            continue
        return None


def _out(expr: Expr) -> str:
    from hasivu_compute.plan._expr import output_name

    return output_name(expr)


def single_partition(plan: PlanNode) -> bool:
    """Whether the local pipeline's scan reads files of exactly one partition (after pruning).

    Then one fragment holds every row: the whole aggregate runs there (count
    distinct as a count, not as value lists merged on the driver). The one-school
    query through Ray spent ~3 ms of its ~14 ms merging one partial's value lists.
    """
    found = scans(plan)
    if len(found) != 1:
        return False
    node = found[0]
    if not node.partition_columns or not node.files:
        return False
    return len({tuple(sf.file.partition) for sf in node.files}) == 1


def groups_within_partitions(plan: PlanNode, columns: list[str]) -> bool:
    """Whether rows equal on ``columns`` always share one partition (hence one fragment)."""
    if single_partition(plan):
        return True
    sources = [source_column(plan, c) for c in columns]
    found = {s[1] for s in sources if s is not None}
    scans = {id(s[0]): s[0] for s in sources if s is not None}
    if len(scans) != 1:
        return False
    scan = next(iter(scans.values()))
    return bool(scan.partition_columns) and set(scan.partition_columns) <= found


def _key_columns(keys: tuple[Expr, ...]) -> list[str]:
    out = []
    for k in keys:
        inner = strip_alias(k)
        if isinstance(inner, (Column, BoundColumn)):
            out.append(inner.name)
    return out


def _renamed(local: PlanNode, names: list[str]) -> PlanNode:
    """``local`` with its output columns renamed (by position) to ``names``."""
    current = output_schema(local).names
    if current == names:
        return local
    exprs: tuple[Expr, ...] = tuple(
        Column(c) if c == n else Alias(Column(c), n) for c, n in zip(current, names, strict=True)
    )
    return Project(local, exprs)


def _over_union(node: Aggregate | Distinct, union: Union) -> PlanNode:
    """Split an aggregate / DISTINCT over a UNION ALL of exchanges: partials per input."""
    if not all(isinstance(c, Exchange) for c in union.inputs):
        return node
    names = list(output_schema(union.inputs[0]).names)
    locals_ = [_renamed(c.children()[0], names) for c in union.inputs]
    if isinstance(node, Distinct):
        if any(isinstance(loc, Distinct) for loc in locals_):
            return node
        return Distinct(Union(tuple(Exchange(Distinct(loc)) for loc in locals_)))
    parts = tuple(Exchange(PartialAggregate(loc, node.keys, node.aggs)) for loc in locals_)
    return FinalAggregate(Union(parts), node.keys, node.aggs, output_schema(union.inputs[0]))


def _split(node: PlanNode) -> PlanNode:
    splittable = type(node) is Aggregate or isinstance(node, Distinct)
    if splittable and isinstance(node.children()[0], Union):
        union = node.children()[0]
        assert isinstance(union, Union) and isinstance(node, (Aggregate, Distinct))
        return _over_union(node, union)
    if type(node) is Aggregate and isinstance(node.child, Exchange):
        local = node.child.child
        if groups_within_partitions(local, _key_columns(node.keys)):
            return Exchange(Aggregate(local, node.keys, node.aggs))
        partial = PartialAggregate(local, node.keys, node.aggs)
        return FinalAggregate(Exchange(partial), node.keys, node.aggs, output_schema(local))
    if isinstance(node, Distinct) and isinstance(node.child, Exchange):
        local = node.child.child
        if isinstance(local, Distinct):
            return node
        if groups_within_partitions(local, list(output_schema(local).names)):
            return Exchange(Distinct(local))
        return Distinct(Exchange(Distinct(local)))
    return node


def split_aggregates(plan: PlanNode, ctx: OptimizerContext) -> PlanNode:
    """Split every Aggregate / Distinct directly above an Exchange (see module doc)."""
    return transform_up(plan, _split)
