"""The lazy DataFrame: an immutable wrapper over a logical plan.

Every method returns a new DataFrame around a bigger plan (built with the plan
package's builders, the same nodes SQL lowers to); nothing runs until
``to_arrow`` / ``to_pandas`` / ``explain``.  The DataFrame knows its executor
only through the small :class:`QueryEngine` protocol, so this module has no
Ray in it and unit tests run it against an in-process engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from hasivu_compute._core.errors import PlanError
from hasivu_compute.expr import Expr, col
from hasivu_compute.plan import builder
from hasivu_compute.plan.nodes import PlanNode

if TYPE_CHECKING:
    import pandas as pd

ExprLike = Expr | str


class QueryEngine(Protocol):
    """What a DataFrame needs from a connection."""

    def execute(self, plan: PlanNode) -> pa.Table:
        """Run ``plan`` and return its rows."""
        ...

    def explain(self, plan: PlanNode, analyze: bool = False, stage: str | None = None) -> str:
        """Text of the plan (and, with ``analyze``, per-shard timings)."""
        ...

    def output_schema(self, plan: PlanNode) -> pa.Schema:
        """The Arrow schema ``plan`` produces."""
        ...


def _named(exprs: Sequence[ExprLike], named: dict[str, ExprLike]) -> list[ExprLike]:
    out: list[ExprLike] = list(exprs)
    for name, value in named.items():
        out.append((col(value) if isinstance(value, str) else value).alias(name))
    return out


@dataclass(frozen=True, slots=True, eq=False)
class DataFrame:
    """A lazy query over one or more tables.

    Attributes:
        plan: the logical plan this frame stands for (unbound, name-based).
    """

    engine: QueryEngine
    plan: PlanNode

    def _wrap(self, plan: PlanNode) -> DataFrame:
        return DataFrame(self.engine, plan)

    # --- building --------------------------------------------------------------

    def filter(self, predicate: ExprLike) -> DataFrame:
        """Keep the rows where ``predicate`` is TRUE (NULL counts as false)."""
        return self._wrap(builder.filter_(self.plan, predicate))

    where = filter

    def select(self, *exprs: ExprLike, **named: ExprLike) -> DataFrame:
        """Keep or compute columns: ``select("school_id", revenue=hc.col("amount") * 2)``."""
        items = _named(exprs, named)
        if not items:
            raise PlanError("select: name at least one column or expression")
        return self._wrap(builder.project(self.plan, items))

    def with_columns(self, *exprs: Expr, **named: ExprLike) -> DataFrame:
        """Add (or replace, by output name) computed columns, keeping all others."""
        from hasivu_compute.expr import output_name
        from hasivu_compute.plan._expr import as_expr

        new = [as_expr(e) for e in _named(exprs, named)]
        new_names = {output_name(e): e for e in new}
        keep: list[ExprLike] = []
        for name in self.columns:
            keep.append(new_names.pop(name) if name in new_names else col(name))
        keep.extend(new_names.values())
        return self._wrap(builder.project(self.plan, keep))

    with_column = with_columns

    def window(self, *exprs: Expr, **named: ExprLike) -> DataFrame:
        """Add window columns, keeping every row and column:
        ``df.window(nth=hc.row_number().over("student_id", "ordered_at"))``.
        The same as :meth:`with_columns` (which accepts window calls anywhere)."""
        return self.with_columns(*exprs, **named)

    def group_by(self, *keys: ExprLike) -> GroupedFrame:
        """Group by ``keys``; finish with ``.agg(...)``."""
        return GroupedFrame(self, tuple(keys))

    def agg(self, *aggs: ExprLike, **named: ExprLike) -> DataFrame:
        """A global aggregate (one row): ``df.agg(hc.count().alias("n"))``."""
        return self._wrap(builder.aggregate(self.plan, (), _named(aggs, named)))

    def sort(
        self,
        *keys: ExprLike,
        descending: bool | Sequence[bool] = False,
        nulls_first: bool | None = None,
    ) -> DataFrame:
        """Order by ``keys`` (stable); ``descending`` is one flag or one per key."""
        if not keys:
            raise PlanError("sort: name at least one key")
        return self._wrap(builder.sort(self.plan, keys, descending, nulls_first))

    order_by = sort

    def limit(self, n: int | None, offset: int = 0) -> DataFrame:
        """At most ``n`` rows after skipping ``offset``."""
        return self._wrap(builder.limit(self.plan, n, offset))

    def distinct(self) -> DataFrame:
        """Drop duplicate rows."""
        return self._wrap(builder.distinct(self.plan))

    def join(
        self,
        other: DataFrame,
        on: str | Sequence[str] | Sequence[tuple[str, str]] | None = None,
        how: str = "inner",
        *,
        left_on: str | Sequence[str] | None = None,
        right_on: str | Sequence[str] | None = None,
        suffix: str = "_right",
    ) -> DataFrame:
        """Join with ``other``: ``orders.join(schools, on="school_id", how="left")``.

        ``how``: inner, left, right, full, semi, anti or cross. Keys: ``on`` (names both
        frames have; the key appears once), or ``left_on`` / ``right_on`` (both kept).
        A right column whose name the left has gets ``suffix``.
        """
        from hasivu_compute.plan.join_builder import join

        if not isinstance(other, DataFrame):
            raise PlanError(f"join: other must be a DataFrame, got {type(other).__name__}")
        plan = join(
            self.plan,
            other.plan,
            self.columns,
            other.columns,
            on=on,
            how=how,
            left_on=left_on,
            right_on=right_on,
            suffix=suffix,
        )
        return self._wrap(plan)

    def union_all(self, *others: DataFrame) -> DataFrame:
        """Rows of this frame followed by the rows of ``others`` (same column types)."""
        return self._wrap(builder.union_all(self.plan, *(o.plan for o in others)))

    # --- running ---------------------------------------------------------------

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the result (binds the plan; reads no data)."""
        return self.engine.output_schema(self.plan)

    @property
    def columns(self) -> list[str]:
        """Output column names."""
        return list(self.schema.names)

    def to_arrow(self) -> pa.Table:
        """Run the query and return its rows as an Arrow table."""
        return self.engine.execute(self.plan)

    collect = to_arrow

    def to_pandas(self, **kwargs: Any) -> pd.DataFrame:
        """Run the query and return a pandas DataFrame."""
        return self.to_arrow().to_pandas(**kwargs)

    def to_pylist(self) -> list[dict[str, Any]]:
        """Run the query and return rows as dicts (for small results)."""
        return self.to_arrow().to_pylist()

    def head(self, n: int = 5) -> pa.Table:
        """The first ``n`` rows."""
        return self.limit(n).to_arrow()

    def count(self) -> int:
        """Number of rows of the result."""
        from hasivu_compute.expr import count

        out = self.agg(count().alias("n")).to_arrow()
        return int(out.column("n")[0].as_py())

    def explain(self, analyze: bool = False, stage: str | None = None) -> str:
        """The plan as text with what pruning skipped; ``analyze=True`` runs it and adds
        per-shard time, rows and bytes scanned."""
        return self.engine.explain(self.plan, analyze=analyze, stage=stage)

    def __repr__(self) -> str:
        return f"DataFrame(<lazy {type(self.plan).__name__}>)"


@dataclass(frozen=True, slots=True, eq=False)
class GroupedFrame:
    """A DataFrame grouped by keys, waiting for ``agg``."""

    frame: DataFrame
    keys: tuple[ExprLike, ...]

    def agg(self, *aggs: ExprLike, **named: ExprLike) -> DataFrame:
        """Compute aggregates per group: ``.agg(hc.col("amount").sum().alias("revenue"))``."""
        items = _named(aggs, named)
        if not items:
            raise PlanError("agg: name at least one aggregate")
        return self.frame._wrap(builder.aggregate(self.frame.plan, self.keys, items))
