"""Logical and split plan nodes: immutable values over expression trees.

Every node is a frozen dataclass with tuple children and no parent pointers;
``children()`` / ``with_children()`` let one generic traversal (:func:`transform_up`)
serve every node. Invariants are checked in ``__post_init__`` and raise
:class:`~hasivu_compute._core.errors.PlanError` naming the node.

Nodes compare by identity (``eq=False``) because expressions overload ``==`` to
build predicates; compare plans structurally with :func:`hasivu_compute.plan.render.render`.

Example:
    >>> from hasivu_compute.plan.nodes import Limit, Scan
    >>> Limit(Scan("orders"), 10).limit
    10
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from hasivu_compute._core.errors import ConfigError, PlanError

if TYPE_CHECKING:
    from hasivu_compute.expr import Expr
    from hasivu_compute.expr.pruning import ColumnStats


class DataFileLike(Protocol):
    """What the planner reads from a table's data file entry (``hasivu_compute.table.DataFile``)."""

    @property
    def path(self) -> str: ...
    @property
    def partition(self) -> tuple[object, ...]: ...
    @property
    def num_rows(self) -> int: ...
    @property
    def stats(self) -> Mapping[int, ColumnStats]: ...


@dataclass(frozen=True, slots=True, eq=False)
class PlanNode:
    """Base of every plan node."""

    def children(self) -> tuple[PlanNode, ...]:
        """The direct inputs of this node."""
        return ()

    def with_children(self, children: Sequence[PlanNode]) -> PlanNode:
        """A copy of this node with new inputs (same arity)."""
        if children:
            raise PlanError(f"{type(self).__name__} has no inputs, got {len(children)}")
        return self

    def node_name(self) -> str:
        """The display name used by the text form and explain."""
        return type(self).__name__


# Alias used in signatures: a plan is its root node.
Plan = PlanNode


def _need_plan(owner: str, child: object) -> None:
    if not isinstance(child, PlanNode):
        raise PlanError(f"{owner}: input must be a plan node, got {type(child).__name__}")


def _as_tuple(node: object, name: str) -> None:
    value = getattr(node, name)
    if isinstance(value, list):
        object.__setattr__(node, name, tuple(value))
    elif not isinstance(value, tuple):
        raise PlanError(f"{type(node).__name__}.{name} must be a tuple, got {type(value).__name__}")


@dataclass(frozen=True, slots=True, eq=False)
class UnaryNode(PlanNode):
    """A node with exactly one input, stored in ``child``."""

    child: PlanNode

    def __post_init__(self) -> None:
        _need_plan(type(self).__name__, self.child)

    def children(self) -> tuple[PlanNode, ...]:
        return (self.child,)

    def with_children(self, children: Sequence[PlanNode]) -> PlanNode:
        if len(children) != 1:
            raise PlanError(f"{type(self).__name__} takes one input, got {len(children)}")
        if children[0] is self.child:
            return self
        return dataclasses.replace(self, child=children[0])


@dataclass(frozen=True, slots=True)
class ScanFile:
    """One data file selected by the planner, with the chunks that survived pruning.

    Attributes:
        file: the table's data file entry (picklable value).
        chunks: surviving chunk indexes, or None for "all chunks" (not inspected).
        num_chunks: chunk count of the segment when it was inspected, else None.
    """

    file: DataFileLike
    chunks: tuple[int, ...] | None = None
    num_chunks: int | None = None


@dataclass(frozen=True, slots=True)
class PruningStats:
    """What pruning kept out of what was there (partitions, segments, chunks)."""

    partitions_total: int
    partitions_kept: int
    segments_total: int
    segments_kept: int
    chunks_total: int | None = None
    chunks_kept: int | None = None

    def counts(self) -> str:
        """``partitions 1 of 8, segments 2 of 16, chunks 3 of 40``: kept of total."""
        text = (
            f"partitions {self.partitions_kept} of {self.partitions_total}, "
            f"segments {self.segments_kept} of {self.segments_total}"
        )
        if self.chunks_total is not None:
            text += f", chunks {self.chunks_kept} of {self.chunks_total}"
        return text

    def describe(self) -> str:
        """``read partitions 1 of 8, segments 2 of 16, chunks 3 of 40`` (what the scan
        reads; the rest was pruned)."""
        return f"read {self.counts()}"


def version_number(value: object, table: str) -> int:
    """``value`` as a snapshot version (an int >= 1: versions count from 1).

    Every way of naming a version (``c.table(name, version=...)``, the DataFrame
    builder, SQL time travel) builds a :class:`Scan`, so this one check serves all.

    Raises:
        ConfigError: ``value`` is not an integer (a bool or str is refused, not read
            as one) or is below 1; the message names the argument and the value.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 1:
        return int(value)
    raise ConfigError(
        f"version of table {table!r} must be a version number, an int >= 1 (see the "
        f"table's history for its versions), got {value!r} ({type(value).__name__})"
    )


@dataclass(frozen=True, slots=True, eq=False)
class Scan(PlanNode):
    """Read a table at one snapshot.

    Attributes:
        table: table name.
        version: snapshot version; the binder pins ``None`` to the current one so a
            query sees exactly one snapshot.
        columns: output columns (by current name); None = all.
        filter: pushed-down predicate (over the whole table schema); rows where it
            is not TRUE are dropped inside the scan.
        table_schema: full Arrow schema of the table at ``version`` (set by the binder).
        partition_columns: source columns of the partition spec (set by the binder).
        files: the data files that survived pruning, None = not pruned yet (all files).
        pruning: counts of what pruning kept, for explain.
        head: the query asked for the current version (the binder pinned it): rows
            acknowledged but still in the table's write-ahead log buffer belong to the
            scan. A version the query named (time travel) never reads them.
    """

    table: str
    version: int | None = None
    columns: tuple[str, ...] | None = None
    filter: Expr | None = None
    table_schema: pa.Schema | None = None
    partition_columns: tuple[str, ...] = ()
    files: tuple[ScanFile, ...] | None = field(default=None, repr=False)
    pruning: PruningStats | None = None
    head: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.table, str) or not self.table:
            raise PlanError(f"Scan: table name must be a non-empty string, got {self.table!r}")
        if self.version is not None:
            object.__setattr__(self, "version", version_number(self.version, self.table))
        if self.columns is not None:
            _as_tuple(self, "columns")
            assert self.columns is not None
            if len(set(self.columns)) != len(self.columns):
                raise PlanError(f"Scan({self.table}): duplicate columns {list(self.columns)}")


@dataclass(frozen=True, slots=True, eq=False)
class Filter(UnaryNode):
    """Keep the rows where ``predicate`` is TRUE (NULL and FALSE are dropped)."""

    predicate: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Project(UnaryNode):
    """Compute ``exprs``; output column names are ``output_name(expr)``."""

    exprs: tuple[Expr, ...]

    def __post_init__(self) -> None:
        UnaryNode.__post_init__(self)
        _as_tuple(self, "exprs")
        if not self.exprs:
            raise PlanError("Project: needs at least one expression")


@dataclass(frozen=True, slots=True, eq=False)
class Aggregate(UnaryNode):
    """Group by ``keys`` and compute ``aggs`` (each an aggregate call or an expression over them).

    With no keys it is a global aggregate: exactly one output row, even on empty input.
    """

    keys: tuple[Expr, ...]
    aggs: tuple[Expr, ...]

    def __post_init__(self) -> None:
        UnaryNode.__post_init__(self)
        _as_tuple(self, "keys")
        _as_tuple(self, "aggs")
        if not self.keys and not self.aggs:
            raise PlanError(f"{type(self).__name__}: needs keys or aggregates")


@dataclass(frozen=True, slots=True, eq=False)
class PreAggregate(Aggregate):
    """An aggregate that may run on any part of its input, because an aggregate above
    combines what it gives (sums of sums, sums of counts, min of mins): placed below a
    join so a fact table's fragments group their rows by the join key before joining
    (see ``rules.eager_aggregation``). Same evaluation as :class:`Aggregate`."""


@dataclass(frozen=True, slots=True, eq=False)
class PartialAggregate(Aggregate):
    """Per-fragment half of a split aggregate: keys plus partial state columns."""


@dataclass(frozen=True, slots=True, eq=False)
class FinalAggregate(Aggregate):
    """Gatherer half of a split aggregate: combines partial states and finalizes.

    ``keys`` and ``aggs`` are those of the original :class:`Aggregate`, bound against
    ``input_schema`` (the input of the matching :class:`PartialAggregate`), so both
    halves agree on the state layout.
    """

    input_schema: pa.Schema | None = None


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ordering key. ``nulls_first=None`` means nulls last (DuckDB's default)."""

    expr: Expr
    descending: bool = False
    nulls_first: bool | None = None

    @property
    def effective_nulls_first(self) -> bool:
        """Whether nulls come first after defaults are applied."""
        return bool(self.nulls_first)


@dataclass(frozen=True, slots=True, eq=False)
class Sort(UnaryNode):
    """Order rows by ``keys`` (stable)."""

    keys: tuple[SortKey, ...]

    def __post_init__(self) -> None:
        UnaryNode.__post_init__(self)
        _as_tuple(self, "keys")
        if not self.keys:
            raise PlanError("Sort: needs at least one key")
        for key in self.keys:
            if not isinstance(key, SortKey):
                raise PlanError(f"Sort: keys must be SortKey, got {type(key).__name__}")


@dataclass(frozen=True, slots=True, eq=False)
class Limit(UnaryNode):
    """Skip ``offset`` rows, then keep at most ``limit`` (None = no limit)."""

    limit: int | None
    offset: int = 0

    def __post_init__(self) -> None:
        UnaryNode.__post_init__(self)
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 0):
            raise PlanError(f"Limit: limit must be a non-negative int or None, got {self.limit!r}")
        if not isinstance(self.offset, int) or self.offset < 0:
            raise PlanError(f"Limit: offset must be a non-negative int, got {self.offset!r}")


@dataclass(frozen=True, slots=True, eq=False)
class Distinct(UnaryNode):
    """Drop duplicate rows (NULLs compare equal, as in SQL DISTINCT)."""


@dataclass(frozen=True, slots=True, eq=False)
class Window(UnaryNode):
    """Every input row, plus one column per window call in ``funcs``.

    Each entry is ``Alias(WindowCall, name)``. A call sees all rows of its partition,
    so the node runs where whole partitions meet: in the merge after a gather, or in
    the fragments when the partition keys include the table's partition columns
    (see ``rules.local_windows``).
    """

    funcs: tuple[Expr, ...]

    def __post_init__(self) -> None:
        UnaryNode.__post_init__(self)
        _as_tuple(self, "funcs")
        if not self.funcs:
            raise PlanError("Window: needs at least one window function")


@dataclass(frozen=True, slots=True, eq=False)
class Repeat(UnaryNode):
    """Each input row ``times`` times (an integer expression; NULL, 0 or less drops it).

    Bag arithmetic that joins and aggregates cannot express: INTERSECT ALL keeps a
    row ``min(m, n)`` times and EXCEPT ALL ``m - n`` times (Spark's ReplicateRows).
    """

    times: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Exchange(UnaryNode):
    """Fragment boundary: everything below runs once per fragment, above runs in the merge."""


@dataclass(frozen=True, slots=True, eq=False)
class Union(PlanNode):
    """UNION ALL of inputs with the same column types; names come from the first input."""

    inputs: tuple[PlanNode, ...]

    def __post_init__(self) -> None:
        _as_tuple(self, "inputs")
        if len(self.inputs) < 1:
            raise PlanError("Union: needs at least one input")
        for child in self.inputs:
            _need_plan("Union", child)

    def children(self) -> tuple[PlanNode, ...]:
        return self.inputs

    def with_children(self, children: Sequence[PlanNode]) -> PlanNode:
        if len(children) != len(self.inputs):
            raise PlanError(f"Union has {len(self.inputs)} inputs, got {len(children)}")
        if all(a is b for a, b in zip(children, self.inputs, strict=True)):
            return self
        return Union(tuple(children))


#: Join types. ``semi`` / ``anti`` keep the left rows that have / have no match (their
#: output is the left input's columns); ``cross`` pairs every row with every row.
JOIN_TYPES = ("inner", "left", "right", "full", "semi", "anti", "cross")
#: Strategies: ``gather`` joins in the merge step, over both sides gathered from the
#: shards (any type, any sizes the driver holds); ``broadcast`` answers the right side
#: once, shares it with the shards, and joins inside each fragment of the left side.
JOIN_STRATEGIES = ("gather", "broadcast")


@dataclass(frozen=True, slots=True, eq=False)
class Join(PlanNode):
    """Join ``left`` and ``right``: rows pair where every ``left_keys[i] = right_keys[i]``
    (NULL never equals anything, as in SQL) and ``condition`` is TRUE.

    The output is the left columns then the right columns (only the left ones for
    ``semi`` and ``anti``); names must not collide (the SQL lowering and
    ``DataFrame.join`` rename first). Keys are expressions over their own side;
    ``condition`` is over the combined columns. Without keys, every pair of rows is
    tested (``cross``, or a join on an inequality).

    Attributes:
        how: one of :data:`JOIN_TYPES`.
        strategy: how the runtime runs it (:data:`JOIN_STRATEGIES`), for explain.
        build_rows: for ``broadcast``, the most rows the right side may have (from
            the manifests), for explain.
    """

    left: PlanNode
    right: PlanNode
    how: str = "inner"
    left_keys: tuple[Expr, ...] = ()
    right_keys: tuple[Expr, ...] = ()
    condition: Expr | None = None
    strategy: str = "gather"
    build_rows: int | None = None

    def __post_init__(self) -> None:
        _need_plan("Join", self.left)
        _need_plan("Join", self.right)
        _as_tuple(self, "left_keys")
        _as_tuple(self, "right_keys")
        if self.how not in JOIN_TYPES:
            raise PlanError(f"Join: how must be one of {list(JOIN_TYPES)}, got {self.how!r}")
        if self.strategy not in JOIN_STRATEGIES:
            raise PlanError(
                f"Join: strategy must be one of {list(JOIN_STRATEGIES)}, got {self.strategy!r}"
            )
        if len(self.left_keys) != len(self.right_keys):
            raise PlanError(
                f"Join: {len(self.left_keys)} left keys but {len(self.right_keys)} right keys"
            )
        if self.how == "cross" and (self.left_keys or self.condition is not None):
            raise PlanError("Join: a cross join takes no keys and no condition")
        if self.strategy == "broadcast" and self.how in ("right", "full"):
            raise PlanError(f"Join: a {self.how} join keeps unmatched right rows; not broadcast")

    def children(self) -> tuple[PlanNode, ...]:
        return (self.left, self.right)

    def with_children(self, children: Sequence[PlanNode]) -> PlanNode:
        if len(children) != 2:
            raise PlanError(f"Join takes two inputs, got {len(children)}")
        left, right = children
        if left is self.left and right is self.right:
            return self
        return dataclasses.replace(self, left=left, right=right)

    @property
    def keeps_right(self) -> bool:
        """Whether the output has the right input's columns (not for semi / anti)."""
        return self.how not in ("semi", "anti")


@dataclass(frozen=True, slots=True, eq=False)
class BroadcastInput(PlanNode):
    """Leaf of a fragment pipeline: the answer of a broadcast join's right side, computed
    once per query before the fragments run (see ``PhysicalPlan.broadcasts``)."""

    broadcast_id: int
    schema: pa.Schema


@dataclass(frozen=True, slots=True, eq=False)
class MergeInput(PlanNode):
    """Leaf of a merge plan: the concatenated outputs of the fragments of one exchange."""

    exchange_id: int
    schema: pa.Schema


@dataclass(frozen=True, slots=True, eq=False)
class Values(PlanNode):
    """Constant rows read from no table, answered in the merge step: ``SELECT 1 + 2``
    (no FROM) is a Project over one row of no columns."""

    rows: pa.Table

    def __post_init__(self) -> None:
        if not isinstance(self.rows, pa.Table):
            raise PlanError(f"Values: rows must be an Arrow table, got {type(self.rows).__name__}")


def one_row() -> Values:
    """The relation of a SELECT without FROM: one row, no columns."""
    return Values(pa.table({"_": [None]}).drop_columns(["_"]))


def transform_up(plan: PlanNode, fn: Callable[[PlanNode], PlanNode]) -> PlanNode:
    """Rewrite ``plan`` bottom-up: children first, then ``fn`` on the rebuilt node.

    Returns the same object when ``fn`` changes nothing anywhere.
    """
    kids = plan.children()
    if kids:
        new_kids = [transform_up(k, fn) for k in kids]
        if any(a is not b for a, b in zip(new_kids, kids, strict=True)):
            plan = plan.with_children(new_kids)
    return fn(plan)


def transform_down(plan: PlanNode, fn: Callable[[PlanNode], PlanNode]) -> PlanNode:
    """Rewrite ``plan`` top-down: ``fn`` on the node, then on the children of its result."""
    plan = fn(plan)
    kids = plan.children()
    if kids:
        new_kids = [transform_down(k, fn) for k in kids]
        if any(a is not b for a, b in zip(new_kids, kids, strict=True)):
            plan = plan.with_children(new_kids)
    return plan


def walk(plan: PlanNode) -> list[PlanNode]:
    """All nodes of ``plan`` in pre-order."""
    out = [plan]
    for kid in plan.children():
        out.extend(walk(kid))
    return out


def scans(plan: PlanNode) -> list[Scan]:
    """The scan leaves of ``plan``, left to right."""
    return [n for n in walk(plan) if isinstance(n, Scan)]
