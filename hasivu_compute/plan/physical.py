"""Physical plan: fragments (shard-local pipelines over data-file groups) and a merge step.

Every :class:`~hasivu_compute.plan.nodes.Exchange` of an optimized plan becomes
a set of :class:`Fragment` values, one per partition (one per data file for an
unpartitioned table), and the plan above the exchanges becomes the merge step,
where each exchange is a :class:`~hasivu_compute.plan.nodes.MergeInput` leaf.

A broadcast join inside a fragment pipeline has its right side cut out: it becomes a
:class:`Broadcast` (a query answered once, before the fragments) and the pipeline
reads it through a :class:`~hasivu_compute.plan.nodes.BroadcastInput` leaf.

Fragments are plain picklable values (names, versions, data-file entries, bound
expressions): the runtime ships them to shard actors; ``exec.run_fragment`` runs
one on Arrow; ``exec.merge`` combines their outputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from hasivu_compute._core.errors import PlanError
from hasivu_compute.plan._expr import (
    BoundColumn,
    Cast,
    Column,
    Expr,
    columns_referenced,
    strip_alias,
)
from hasivu_compute.plan.binder import output_schema
from hasivu_compute.plan.nodes import (
    Aggregate,
    BroadcastInput,
    DataFileLike,
    Distinct,
    Exchange,
    Join,
    MergeInput,
    PlanNode,
    Scan,
    ScanFile,
    Window,
    walk,
)
from hasivu_compute.plan.source import TableSource


@dataclass(frozen=True, slots=True)
class DynamicFilter:
    """Dynamic partition pruning: a fragment's files whose partition value no row of a
    broadcast side can join with are skipped, once that side is answered.

    Attributes:
        broadcast_id: the side whose keys decide.
        column: the side's join key column (a plain column of its answer).
        transform: the probe table's partition transform on the joined column
            (``identity``, ``bucket[16]`` ...): a side key ``k`` can only meet rows in
            partition ``transform(k)``.
    """

    broadcast_id: int
    column: str
    transform: str


@dataclass(frozen=True, slots=True)
class Fragment:
    """One shard-local unit of work: a pipeline over a group of data files.

    Attributes:
        fragment_id: position in :attr:`PhysicalPlan.fragments`.
        exchange_id: which merge input this fragment feeds.
        table: table name; ``version``: pinned snapshot version.
        files: the data files (with surviving chunks) this fragment reads. The
            runtime may regroup files across fragments of one exchange with
            ``dataclasses.replace(fragment, files=...)``; when
            ``whole_partitions`` is set, every partition's files must stay together.
        columns: columns to decode (scan output plus pushed-filter columns).
        predicate: the pushed scan predicate (bound to the table schema), or None.
        pipeline: the operators to run, a chain whose leaf is the scan template
            (its own ``files`` are not used; ``files`` above is).
        partition: the partition values of the files (None when mixed / unpartitioned).
        whole_partitions: the pipeline finishes an aggregate or DISTINCT, which is
            only correct when no partition is split across fragments.
        broadcasts: ids of the broadcast inputs the pipeline joins with
            (:attr:`PhysicalPlan.broadcasts`).
        dynamic_filters: partition pruning from those inputs (:class:`DynamicFilter`).
        head: the scan reads the table's current version, so the table's buffered
            small writes are added to it at run time (``Scan.head``).
    """

    fragment_id: int
    exchange_id: int
    table: str
    version: int | None
    files: tuple[ScanFile, ...]
    columns: tuple[str, ...]
    predicate: Expr | None
    pipeline: PlanNode
    partition: tuple[object, ...] | None = None
    whole_partitions: bool = False
    broadcasts: tuple[int, ...] = ()
    dynamic_filters: tuple[DynamicFilter, ...] = ()
    head: bool = False

    @property
    def scan(self) -> Scan:
        """The scan template at the bottom of the pipeline."""
        return pipeline_scan(self.pipeline)

    @property
    def num_rows(self) -> int:
        """Rows in the fragment's files before any filtering."""
        return sum(sf.file.num_rows for sf in self.files)


@dataclass(frozen=True, slots=True)
class Broadcast:
    """The right side of a broadcast join: a query of its own (a bound, optimized
    logical plan), answered once before the fragments that join with it run.

    Attributes:
        broadcast_id: the id its :class:`BroadcastInput` leaves carry.
        plan: the query.
        schema: the columns its answer must have.
    """

    broadcast_id: int
    plan: PlanNode
    schema: pa.Schema


@dataclass(frozen=True, slots=True)
class PhysicalPlan:
    """Fragments plus the merge step (a plan over :class:`MergeInput` leaves), and the
    broadcast build sides the fragments need first."""

    fragments: tuple[Fragment, ...]
    merge: PlanNode
    inputs: tuple[MergeInput, ...]
    logical: PlanNode
    broadcasts: tuple[Broadcast, ...] = ()

    def fragments_of(self, exchange_id: int) -> tuple[Fragment, ...]:
        """The fragments that feed merge input ``exchange_id``."""
        return tuple(f for f in self.fragments if f.exchange_id == exchange_id)


def pipeline_scan(pipeline: PlanNode) -> Scan:
    """The scan leaf of a fragment pipeline: a chain (through the left input of broadcast
    joins) ending in a scan (PlanError if it is not one)."""
    node = pipeline
    while True:
        if isinstance(node, Scan):
            return node
        if isinstance(node, Join) and node.strategy == "broadcast":
            node = node.left
            continue
        kids = node.children()
        if len(kids) != 1:
            raise PlanError(
                f"fragment pipeline must be a chain ending in a scan; {node.node_name()} has "
                f"{len(kids)} inputs"
            )
        node = kids[0]


def decode_columns(scan: Scan) -> tuple[str, ...]:
    """Columns a fragment decodes for ``scan``: its output plus pushed-filter columns."""
    assert scan.table_schema is not None
    wanted = set(scan.columns if scan.columns is not None else scan.table_schema.names)
    if scan.filter is not None:
        wanted |= columns_referenced(scan.filter)
    return tuple(n for n in scan.table_schema.names if n in wanted)


def _groups(
    files: Sequence[ScanFile], partitioned: bool
) -> list[tuple[tuple[object, ...] | None, list[ScanFile]]]:
    if not files:
        return [(None, [])]
    if not partitioned:
        return [(None, [sf]) for sf in files]
    groups: dict[tuple[object, ...], list[ScanFile]] = {}
    for sf in files:
        groups.setdefault(tuple(sf.file.partition), []).append(sf)
    return list(groups.items())


def _files_of(scan: Scan, source: TableSource | None) -> tuple[tuple[ScanFile, ...], bool]:
    if source is None:
        if scan.files is None:
            raise PlanError(f"Scan({scan.table}) has no file selection and no table source")
        partitioned = bool(scan.partition_columns)
        return scan.files, partitioned
    snapshot = source.snapshot(scan.table, scan.version)
    files = scan.files
    if files is None:
        all_files: tuple[DataFileLike, ...] = snapshot.data_files
        files = tuple(ScanFile(f) for f in all_files)
    return files, bool(snapshot.spec.fields)


def _finishes_groups(pipeline: PlanNode, parent: PlanNode | None) -> bool:
    nodes = walk(pipeline)
    if any(type(n) is Aggregate or isinstance(n, Window) for n in nodes):
        return True
    return any(isinstance(n, Distinct) for n in nodes) and not isinstance(parent, Distinct)


def _exchanges(
    plan: PlanNode, parent: PlanNode | None = None
) -> list[tuple[Exchange, PlanNode | None]]:
    if isinstance(plan, Exchange):
        return [(plan, parent)]
    out = []
    for kid in plan.children():
        out.extend(_exchanges(kid, plan))
    return out


def plan_fragments(plan: PlanNode, source: TableSource | None = None) -> PhysicalPlan:
    """Cut an optimized plan at its exchanges into fragments and a merge step.

    A plan without any exchange gets them placed first (``insert_exchanges``).

    Raises:
        PlanError: an exchange whose input is not a linear pipeline over one scan.
    """
    found = _exchanges(plan)
    if not found:
        from hasivu_compute.plan.optimizer import OptimizerContext, apply_rule
        from hasivu_compute.plan.optimizer.rules.exchange import insert_exchanges

        plan = apply_rule(insert_exchanges, plan, OptimizerContext())
        found = _exchanges(plan)
    fragments: list[Fragment] = []
    inputs: dict[int, MergeInput] = {}
    broadcasts: list[Broadcast] = []
    for exchange_id, (exchange, parent) in enumerate(found):
        first = len(broadcasts)
        pipeline = _cut_broadcasts(exchange.child, broadcasts)
        used = tuple(b.broadcast_id for b in broadcasts[first:])
        scan = pipeline_scan(pipeline)
        files, partitioned = _files_of(scan, source)
        dynamic = _dynamic_filters(pipeline, scan, source) if partitioned else ()
        template = _strip_files(pipeline)
        whole = _finishes_groups(pipeline, parent)
        for partition, group in _groups(files, partitioned):
            fragments.append(
                Fragment(
                    fragment_id=len(fragments),
                    exchange_id=exchange_id,
                    table=scan.table,
                    version=scan.version,
                    files=tuple(group),
                    columns=decode_columns(scan),
                    predicate=scan.filter,
                    pipeline=template,
                    partition=partition,
                    whole_partitions=whole,
                    broadcasts=used,
                    dynamic_filters=dynamic,
                    head=scan.head,
                )
            )
        inputs[id(exchange)] = MergeInput(exchange_id, _plain(output_schema(pipeline)))
    merge = _replace_exchanges(plan, inputs)
    return PhysicalPlan(tuple(fragments), merge, tuple(inputs.values()), plan, tuple(broadcasts))


def _cut_broadcasts(pipeline: PlanNode, broadcasts: list[Broadcast]) -> PlanNode:
    """``pipeline`` with each broadcast join's right side replaced by a
    :class:`BroadcastInput` leaf; the right sides are appended to ``broadcasts``."""
    if isinstance(pipeline, Scan):
        return pipeline
    if isinstance(pipeline, Join) and pipeline.strategy == "broadcast":
        left = _cut_broadcasts(pipeline.left, broadcasts)
        schema = _plain(output_schema(pipeline.right))
        built = Broadcast(len(broadcasts), pipeline.right, schema)
        broadcasts.append(built)
        return pipeline.with_children([left, BroadcastInput(built.broadcast_id, schema)])
    kids = pipeline.children()
    if len(kids) != 1:
        return pipeline  # pipeline_scan names the problem
    return pipeline.with_children([_cut_broadcasts(kids[0], broadcasts)])


def _dynamic_filters(
    pipeline: PlanNode, scan: Scan, source: TableSource | None
) -> tuple[DynamicFilter, ...]:
    """The dynamic partition pruning a fragment pipeline allows: an inner or semi
    broadcast join whose probe key is the scanned table's only partition column."""
    from hasivu_compute.plan.optimizer.rules.split_aggregates import source_column

    fields = _partition_fields(scan, source)
    if len(fields) != 1:
        return ()
    column, transform = fields[0]
    out = []
    for node in walk(pipeline):
        if not (isinstance(node, Join) and node.how in ("inner", "semi")):
            continue
        if not isinstance(node.right, BroadcastInput):
            continue
        for left_key, right_key in zip(node.left_keys, node.right_keys, strict=True):
            lk, rk = _plain_column(left_key), _plain_column(right_key)
            if lk is None or rk is None:
                continue  # a computed key: its partition values may not line up
            found = source_column(node.left, lk.name)
            if found is not None and found[0] is scan and found[1] == column:
                out.append(DynamicFilter(node.right.broadcast_id, rk.name, transform))
    return tuple(out)


def _plain_column(key: Expr) -> Column | BoundColumn | None:
    """The column a join key reads as it is, or through an integer-to-integer cast
    (same partition value: bucket hashes and identity values of integers do not
    depend on the width); None for any other expression."""
    key = strip_alias(key)
    if isinstance(key, Cast) and pa.types.is_integer(key.dtype):
        inner = key.child
        if isinstance(inner, BoundColumn) and pa.types.is_integer(inner.dtype):
            key = inner
    return key if isinstance(key, Column | BoundColumn) else None


def _partition_fields(scan: Scan, source: TableSource | None) -> list[tuple[str, str]]:
    """(source column, transform) of each partition field of the scanned snapshot."""
    if source is None:
        return []
    from hasivu_compute.plan.source import field_names_by_id

    snapshot = source.snapshot(scan.table, scan.version)
    names = field_names_by_id(snapshot.schema)
    return [
        (names[f.source_id], str(getattr(f, "transform", "identity")))
        for f in snapshot.spec.fields
        if f.source_id in names
    ]


def _plain(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type) for f in schema])


def _strip_files(pipeline: PlanNode) -> PlanNode:
    if isinstance(pipeline, Scan):
        return dataclasses.replace(pipeline, files=None)
    if isinstance(pipeline, Join):
        return pipeline.with_children([_strip_files(pipeline.left), pipeline.right])
    (kid,) = pipeline.children()
    return pipeline.with_children([_strip_files(kid)])


def _replace_exchanges(plan: PlanNode, inputs: dict[int, MergeInput]) -> PlanNode:
    if isinstance(plan, Exchange):
        return inputs[id(plan)]
    kids = plan.children()
    if not kids:
        return plan
    return plan.with_children([_replace_exchanges(k, inputs) for k in kids])
