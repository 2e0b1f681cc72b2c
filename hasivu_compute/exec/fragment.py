"""Run one fragment on Arrow: pruned scan, then the fragment's pipeline.

The scan decodes only the fragment's columns and each file's surviving chunks
(one ``reader.read`` call per file, so a shard's cache sees every read), applies
the pushed predicate file by file (so memory holds only surviving rows), and
feeds the pipeline (filter, project, partial or finished aggregate, top-k). A
fragment that ends in a plain LIMIT over row-wise operators stops reading files
as soon as it has enough rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import pyarrow as pa

from hasivu_compute._core.errors import ExecutionError
from hasivu_compute.exec.operators import filter_table, limit_table, run_node
from hasivu_compute.exec.reader import FragmentReader
from hasivu_compute.expr.nodes import BoundColumn
from hasivu_compute.expr.visitors import walk
from hasivu_compute.plan.nodes import (
    Aggregate,
    BroadcastInput,
    Filter,
    Limit,
    PlanNode,
    Project,
    Scan,
    ScanFile,
)
from hasivu_compute.plan.physical import Fragment
from hasivu_compute.storage.block import dictionary_type
from hasivu_compute.table.reading import read_type

EXCHANGE_KEY = b"hasivu.exchange"


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    table = table.select(schema.names)
    if not table.schema.equals(schema, check_metadata=False):
        table = table.cast(schema)
    return table.replace_schema_metadata(None)


def dictionary_columns(fragment: Fragment) -> frozenset[str]:
    """String columns the scan reads dictionary-typed (indices into each block's distinct values).

    Why: decoding low-cardinality strings is then free, ``status = 'paid'`` compares
    the few distinct values (``exec.kernels.evaluate.per_distinct``), and a hash group-by on
    dictionary keys hashes int32 indices (TPC-H Q1's partial aggregate over 1M rows:
    38 ms of string-key hashing vs 18 ms on dictionary keys). Chosen only where no
    kernel downstream needs plain strings: columns the predicate alone reads, and
    output columns used only by filters and as bare group keys of an aggregate that
    sits on the scan (through filters only). Above that aggregate keys are plain again.
    """
    scan = fragment.scan
    assert scan.table_schema is not None
    strings = {
        c for c in fragment.columns if dictionary_type(scan.table_schema.field(c).type) is not None
    }
    if not strings:
        return frozenset()
    outputs = set(scan.columns if scan.columns is not None else scan.table_schema.names)
    chosen = strings - outputs  # read by the scan predicate only, then dropped
    chain: list[PlanNode] = []
    node = fragment.pipeline
    while not isinstance(node, Scan):
        chain.append(node)
        kids = node.children()
        if len(kids) != 1:
            return frozenset(chosen)
        node = kids[0]
    for node in reversed(chain):  # from the scan upward
        if isinstance(node, Filter):
            continue
        if isinstance(node, Aggregate):
            bare = {k.name for k in node.keys if isinstance(k, BoundColumn)}
            used = {
                n.name
                for e in (*(k for k in node.keys if not isinstance(k, BoundColumn)), *node.aggs)
                for n in walk(e)
                if isinstance(n, BoundColumn)
            }
            chosen |= (strings & outputs & bare) - used
        break
    return frozenset(chosen)


def scan_fragment(
    fragment: Fragment, reader: FragmentReader, files: Sequence[ScanFile] | None = None
) -> pa.Table:
    """The fragment's scan output (of ``files``, default all): predicate applied, output columns.

    Columns in :func:`dictionary_columns` come out dictionary-typed.
    """
    scan = fragment.scan
    assert scan.table_schema is not None
    as_dict = dictionary_columns(fragment)
    fields = [scan.table_schema.field(c) for c in fragment.columns]
    decoded = pa.schema([f.with_type(read_type(f.type, f.name in as_dict)) for f in fields])
    parts = []
    for sf in fragment.files if files is None else files:
        read = reader.read(fragment.table, fragment.version, sf, fragment.columns, as_dict)
        part = _conform(read, decoded)
        if fragment.predicate is not None:
            part = filter_table(part, fragment.predicate)
        parts.append(part)
    table = pa.concat_tables(parts) if parts else decoded.empty_table()
    out = scan.columns if scan.columns is not None else tuple(scan.table_schema.names)
    return table.select(list(out))


def _streaming_limit(pipeline: PlanNode) -> Limit | None:
    """The top Limit when only row-wise operators sit between it and the scan."""
    if not isinstance(pipeline, Limit) or pipeline.limit is None:
        return None
    node = pipeline.child
    while isinstance(node, (Filter, Project)):
        node = node.child
    return pipeline if isinstance(node, Scan) else None


Inputs = Mapping[int, pa.Table]


def _leaf(table: pa.Table, inputs: Inputs) -> Callable[[PlanNode], pa.Table]:
    def leaf(node: PlanNode) -> pa.Table:
        if isinstance(node, BroadcastInput):
            built = inputs.get(node.broadcast_id)
            if built is None:
                raise ExecutionError(f"broadcast input {node.broadcast_id} was not supplied")
            return _conform(built, node.schema)
        if not isinstance(node, Scan):
            raise ExecutionError(f"fragment pipeline leaf must be a scan, got {node.node_name()}")
        return table

    return leaf


def _run_limited(
    fragment: Fragment, reader: FragmentReader, top: Limit, inputs: Inputs
) -> pa.Table:
    # Read file by file and stop once enough rows passed the row-wise operators:
    # ``SELECT ... WHERE ... LIMIT 10`` decodes only the first files it needs.
    assert top.limit is not None
    wanted = top.limit + top.offset
    parts: list[pa.Table] = []
    rows = 0
    for sf in fragment.files:
        part = run_node(top.child, _leaf(scan_fragment(fragment, reader, [sf]), inputs))
        parts.append(part)
        rows += part.num_rows
        if rows >= wanted:
            break
    if not parts:
        parts.append(run_node(top.child, _leaf(scan_fragment(fragment, reader, []), inputs)))
    return limit_table(pa.concat_tables(parts), top.limit, top.offset)


def prune_dynamically(fragment: Fragment, inputs: Inputs) -> Fragment:
    """``fragment`` without the files no row of its broadcast sides can join with
    (see :class:`~hasivu_compute.plan.physical.DynamicFilter`): their partition value
    is not the transform of any side key. Files without a partition value stay."""
    from hasivu_compute.schema.partition import apply_transform

    kept = fragment.files
    for rule in fragment.dynamic_filters:
        side = inputs.get(rule.broadcast_id)
        if side is None or rule.column not in side.column_names:
            continue
        keys = side.column(rule.column)
        allowed = set(apply_transform(rule.transform, keys).drop_null().unique().to_pylist())
        kept = tuple(sf for sf in kept if not sf.file.partition or sf.file.partition[0] in allowed)
    if len(kept) == len(fragment.files):
        return fragment
    return dataclasses.replace(fragment, files=kept)


def _may_join(partition: object, allowed: set[object], kinds: set[type]) -> bool:
    if not partition:
        return True  # unpartitioned rows (or buffered ones without a value): keep
    value = partition[0]  # type: ignore[index]
    if kinds and type(value) not in kinds:
        return True  # values of another Python type: no safe comparison, keep
    return value in allowed


def run_fragment(
    fragment: Fragment, reader: FragmentReader, inputs: Inputs | None = None
) -> pa.Table:
    """The fragment's partial result, tagged with its exchange id in the schema metadata.

    ``inputs``: the answers of the broadcast joins' right sides, by broadcast id.
    """
    inputs = inputs or {}
    if fragment.dynamic_filters:
        fragment = prune_dynamically(fragment, inputs)
    top = _streaming_limit(fragment.pipeline)
    if top is not None:
        result = _run_limited(fragment, reader, top, inputs)
    else:
        result = run_node(fragment.pipeline, _leaf(scan_fragment(fragment, reader), inputs))
    return result.replace_schema_metadata({EXCHANGE_KEY: str(fragment.exchange_id).encode()})
