"""Pruning decisions: can any row of a partition / segment / chunk match a predicate?

Every answer errs towards "might match": a partition, segment or chunk is only
skipped when its partition values, zone map or bloom filter prove that no row
can make the predicate TRUE.

* Partitions: each AND-ed conjunct that compares a partition source column with
  constants (``=``, ``IN``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``) is mapped
  through the partition transform (monotone for identity / month / day, so
  ranges work; equality only for bucket[N]) and checked against the file's
  partition value; identity partitions also go through the zone-map evaluator as
  single-value zone maps (so ``a = 1 OR a = 2`` prunes too).
* Segments and chunks: the predicate's zone-map evaluator over min/max/null
  counts, plus bloom filters for equality / IN on chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

from hasivu_compute.expr.nodes import BoundColumn, Call, Expr, InList, Literal
from hasivu_compute.expr.pruning import ROWS_CANNOT_MATCH, ColumnStats, zone_map_evaluator
from hasivu_compute.expr.visitors import split_conjunction
from hasivu_compute.schema.partition import parse_transform, transform_scalar
from hasivu_compute.storage.stats import ColumnChunkStats

Bloom = Callable[[str, Sequence[object]], bool]

_FLIP = {"eq": "eq", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_MONOTONE = frozenset({"identity", "month", "day"})
_TRANSFORM_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    TypeError,
    ValueError,
    OverflowError,
)


@dataclass(frozen=True, slots=True)
class PartitionColumn:
    """One partition field as the pruner sees it: source column, transform, source type."""

    column: str
    transform: str
    dtype: pa.DataType


def stats_may_match(
    predicate: Expr, stats: Mapping[str, ColumnStats], bloom: Bloom | None = None
) -> bool:
    """Whether rows described by ``stats`` (zone maps by column name) might match."""
    return zone_map_evaluator(predicate)(stats, bloom) is not ROWS_CANNOT_MATCH


def partition_may_match(
    predicate: Expr, fields: Sequence[PartitionColumn], values: Sequence[object]
) -> bool:
    """Whether a partition with ``values`` (one per field) might hold a matching row."""
    for part in split_conjunction(predicate):
        for pf, value in zip(fields, values, strict=True):
            if not _conjunct_may_match(part, pf, value):
                return False
    identity: dict[str, ColumnStats] = {
        pf.column: _point_stats(value)
        for pf, value in zip(fields, values, strict=True)
        if pf.transform == "identity"
    }
    return not identity or stats_may_match(predicate, identity)


def _point_stats(value: object) -> ColumnChunkStats:
    # A partition holds >= 1 row; for identity every row has exactly this value.
    if value is None:
        return ColumnChunkStats(row_count=1, null_count=1, min=None, max=None)
    return ColumnChunkStats(row_count=1, null_count=0, min=value, max=value)


def _constraint(part: Expr, column: str) -> tuple[str, tuple[object, ...]] | None:
    """``(op, constants)`` when ``part`` constrains the bare ``column``; else None."""
    if isinstance(part, InList) and _is_col(part.child, column):
        return "in", part.values
    if not isinstance(part, Call):
        return None
    if part.fn == "between" and _is_col(part.args[0], column):
        lo, hi = part.args[1], part.args[2]
        if isinstance(lo, Literal) and isinstance(hi, Literal):
            return "between", (lo.value, hi.value)
        return None
    if part.fn not in _FLIP or len(part.args) != 2:
        return None
    a, b = part.args
    if _is_col(a, column) and isinstance(b, Literal):
        return part.fn, (b.value,)
    if _is_col(b, column) and isinstance(a, Literal):
        return _FLIP[part.fn], (a.value,)
    return None


def _is_col(expr: Expr, column: str) -> bool:
    return isinstance(expr, BoundColumn) and expr.name == column


def _conjunct_may_match(part: Expr, pf: PartitionColumn, value: object) -> bool:
    found = _constraint(part, pf.column)
    if found is None:
        return True
    op, constants = found
    kind, _ = parse_transform(pf.transform)
    if op not in ("eq", "in") and kind not in _MONOTONE:
        return True
    if value is None:
        # Every row of a NULL partition has a NULL source value: no comparison is TRUE.
        return False
    try:
        mapped = [
            None if c is None else transform_scalar(pf.transform, c, pf.dtype) for c in constants
        ]
    except _TRANSFORM_ERRORS:
        return True
    return _compare(op, value, mapped)


def _compare(op: str, value: object, mapped: list[object]) -> bool:
    if op == "in":
        return any(m is not None and m == value for m in mapped)
    if any(m is None for m in mapped):
        return False  # a comparison with NULL is never TRUE
    try:
        return _ordered(op, value, mapped)
    except TypeError:  # incomparable values: cannot prove anything
        return True


def _ordered(op: str, value: object, mapped: list[object]) -> bool:
    # Monotone transforms keep order: c < v implies t(c) <= t(v), c > v implies t(c) >= t(v).
    lo: float = mapped[0]  # type: ignore[assignment]
    v: float = value  # type: ignore[assignment]
    if op == "eq":
        return v == lo
    if op in ("lt", "le"):
        return v <= lo
    if op in ("gt", "ge"):
        return v >= lo
    hi: float = mapped[1]  # type: ignore[assignment]
    return lo <= v <= hi
