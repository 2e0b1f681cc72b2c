"""Readable, deterministic text form of a plan (explain output and golden files).

One node per line, children indented by two spaces::

    Limit 10
      Sort revenue DESC
        Aggregate keys=[item_id] aggs=[sum(amount) AS revenue]
          Scan orders@3 columns=[item_id, amount] filter=(school_id = 17)

Example:
    >>> from hasivu_compute.plan.nodes import Limit, Scan
    >>> print(render(Limit(Scan("orders", columns=("a",)), 5)))
    Limit 5
      Scan orders columns=[a]
"""

from __future__ import annotations

from collections.abc import Callable

from hasivu_compute.plan._expr import Expr
from hasivu_compute.plan.nodes import (
    Aggregate,
    BroadcastInput,
    Filter,
    Join,
    Limit,
    MergeInput,
    PlanNode,
    Project,
    Repeat,
    Scan,
    Sort,
    SortKey,
    Values,
    Window,
)


def fmt(expr: Expr) -> str:
    """One expression in SQL-like text."""
    return str(expr)


def fmt_list(exprs: tuple[Expr, ...]) -> str:
    """``[a, b AS c]``."""
    return "[" + ", ".join(fmt(e) for e in exprs) + "]"


def fmt_sort_key(key: SortKey) -> str:
    """``amount DESC NULLS FIRST``."""
    text = fmt(key.expr) + (" DESC" if key.descending else "")
    if key.nulls_first is not None:
        text += " NULLS FIRST" if key.nulls_first else " NULLS LAST"
    return text


def describe(node: PlanNode, *, pruning: bool = True) -> str:
    """The one-line description of ``node`` (without children)."""
    fn = _DESCRIBERS.get(type(node))
    if fn is None:
        for klass, candidate in _DESCRIBERS.items():
            if isinstance(node, klass):
                fn = candidate
                break
    head = node.node_name()
    if fn is None:
        return head
    body = fn(node, pruning) if fn is _scan else fn(node, True)
    return f"{head} {body}".rstrip()


def render(plan: PlanNode, *, pruning: bool = True, indent: int = 0) -> str:
    """The whole plan as indented text (``pruning`` adds what each scan reads:
    ``read=(partitions 1 of 8, segments 2 of 16)``)."""
    lines: list[str] = []
    _render(plan, indent, lines, pruning)
    return "\n".join(lines)


def _render(plan: PlanNode, depth: int, lines: list[str], pruning: bool) -> None:
    lines.append("  " * depth + describe(plan, pruning=pruning))
    for child in plan.children():
        _render(child, depth + 1, lines, pruning)


def _scan(node: PlanNode, pruning: bool) -> str:
    assert isinstance(node, Scan)
    parts = [node.table if node.version is None else f"{node.table}@{node.version}"]
    if node.columns is not None:
        parts.append("columns=[" + ", ".join(node.columns) + "]")
    if node.filter is not None:
        parts.append(f"filter={fmt(node.filter)}")
    if pruning and node.pruning is not None:
        parts.append(f"read=({node.pruning.counts()})")
    return " ".join(parts)


def _filter(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Filter)
    return fmt(node.predicate)


def _project(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Project)
    return fmt_list(node.exprs)


def _window(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Window)
    return fmt_list(node.funcs)


def _aggregate(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Aggregate)
    return f"keys={fmt_list(node.keys)} aggs={fmt_list(node.aggs)}"


def _repeat(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Repeat)
    return f"times={fmt(node.times)}"


def _sort(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Sort)
    return ", ".join(fmt_sort_key(k) for k in node.keys)


def _limit(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Limit)
    text = "ALL" if node.limit is None else str(node.limit)
    return text + (f" offset={node.offset}" if node.offset else "")


def _join(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Join)
    parts = [node.how]
    if node.left_keys:
        pairs = zip(node.left_keys, node.right_keys, strict=True)
        parts.append("on=[" + ", ".join(f"{fmt(a)} = {fmt(b)}" for a, b in pairs) + "]")
    if node.condition is not None:
        parts.append(f"condition={fmt(node.condition)}")
    parts.append(f"strategy={node.strategy}")
    if node.build_rows is not None:
        parts.append(f"build_rows<={node.build_rows:,}")
    return " ".join(parts)


def _broadcast_input(node: PlanNode, _: bool) -> str:
    assert isinstance(node, BroadcastInput)
    return f"broadcast={node.broadcast_id} columns=[{', '.join(node.schema.names)}]"


def _merge_input(node: PlanNode, _: bool) -> str:
    assert isinstance(node, MergeInput)
    return f"exchange={node.exchange_id} columns=[{', '.join(node.schema.names)}]"


def _values(node: PlanNode, _: bool) -> str:
    assert isinstance(node, Values)
    return f"{node.rows.num_rows} row(s) columns=[{', '.join(node.rows.column_names)}]"


_DESCRIBERS: dict[type, Callable[[PlanNode, bool], str]] = {
    Scan: _scan,
    Filter: _filter,
    Project: _project,
    Aggregate: _aggregate,
    Sort: _sort,
    Limit: _limit,
    Repeat: _repeat,
    Join: _join,
    BroadcastInput: _broadcast_input,
    MergeInput: _merge_input,
    Window: _window,
    Values: _values,
}
