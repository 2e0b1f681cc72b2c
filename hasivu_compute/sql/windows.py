"""Window functions in a SELECT: ``fn(...) OVER (...)``, named windows, QUALIFY.

Windows are computed after WHERE, GROUP BY and HAVING and before DISTINCT,
ORDER BY and LIMIT. Every distinct window call of the SELECT list, QUALIFY and
ORDER BY becomes one column of a ``Window`` node placed over the grouped (or
filtered) rows, named ``__win_<i>``; above it the clauses read that column, and
QUALIFY filters on it::

    ... -> Aggregate -> Filter(HAVING) -> Window(calls) -> Filter(QUALIFY) -> Project ...

A window's arguments, partition and order keys are lowered in the scope of the
rows below it, so over an aggregate they may use group keys and aggregate calls
(``sum(sum(x)) OVER ()``).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator

from sqlglot import exp

from hasivu_compute._core.errors import BindError
from hasivu_compute.expr.nodes import Alias, Column, Expr
from hasivu_compute.expr.window import (
    CURRENT_ROW,
    UNBOUNDED_FOLLOWING,
    UNBOUNDED_PRECEDING,
    WINDOW_FUNCTIONS,
    Bound,
    Frame,
    window_call,
)
from hasivu_compute.plan.nodes import Filter, PlanNode, Window
from hasivu_compute.sql.aggregates import normal_key
from hasivu_compute.sql.clauses import refuse_unread
from hasivu_compute.sql.literals import fixed_interval, interval_parts, number_value
from hasivu_compute.sql.lower_expr import Scope, function_hint, lower_expr
from hasivu_compute.sql.parsing import SqlText

__all__ = ["WindowLowering", "has_windows", "window_heads"]

_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.RowNumber: "row_number",
    exp.Rank: "rank",
    exp.DenseRank: "dense_rank",
    exp.PercentRank: "percent_rank",
    exp.CumeDist: "cume_dist",
    exp.Ntile: "ntile",
    exp.Lag: "lag",
    exp.Lead: "lead",
    exp.FirstValue: "first_value",
    exp.LastValue: "last_value",
    exp.NthValue: "nth_value",
    exp.Sum: "sum",
    exp.Avg: "avg",
    exp.Count: "count",
    exp.Min: "min",
    exp.Max: "max",
}
#: Arguments of each function, in order.
_ARGS: dict[type[exp.Expr], tuple[str, ...]] = {
    exp.Lag: ("this", "offset", "default"),
    exp.Lead: ("this", "offset", "default"),
    exp.NthValue: ("this", "offset"),
    exp.Count: ("this", "big_int"),
}
_WINDOW_ARGS = frozenset({"this", "partition_by", "order", "spec", "alias", "over"})
_SPEC_ARGS = frozenset({"kind", "start", "start_side", "end", "end_side"})


def window_heads(node: exp.Expr) -> Iterator[exp.Window]:
    """The window calls in ``node``, outermost first (a window inside another's
    arguments is refused when lowered)."""
    if isinstance(node, exp.Window):
        yield node
        return
    if isinstance(node, exp.Subquery | exp.Select):
        return
    for child in node.iter_expressions():
        yield from window_heads(child)


def has_windows(node: exp.Select) -> bool:
    """Whether the SELECT list, QUALIFY or ORDER BY calls a window function."""
    parts: list[exp.Expr] = list(node.expressions)
    for arg in ("qualify", "order"):
        value = node.args.get(arg)
        if value is not None:
            parts.append(value)
    return any(True for part in parts for _ in window_heads(part))


class WindowLowering:
    """Lowers the window calls of one SELECT over ``plan`` (see the module docstring).

    Args:
        source: the SQL text, for error positions.
        scope: how expressions below the windows are lowered (input or group scope).
        named: the SELECT's ``WINDOW name AS (...)`` definitions.
    """

    def __init__(self, source: SqlText, scope: Scope, named: list[exp.Expr]) -> None:
        self.source = source
        self.scope = scope
        self.names: dict[str, str] = {}
        self.named: dict[str, exp.Window] = {}
        for definition in named:
            assert isinstance(definition, exp.Window)
            self.named[definition.this.name.lower()] = definition

    def lower(
        self, node: exp.Select, items: list[exp.Expr], substitute: Callable[[exp.Expr], exp.Expr]
    ) -> tuple[Callable[[PlanNode], PlanNode], Scope]:
        """A function adding the Window (and QUALIFY filter) over a plan, and the scope
        in which the SELECT list and ORDER BY are lowered above it."""
        calls: list[Expr] = []
        clauses = list(items)
        qualify = node.args.get("qualify")
        if qualify is not None:
            clauses.append(substitute(qualify.this))
        order = node.args.get("order")
        for ordered in order.expressions if order is not None else []:
            clauses.append(substitute(ordered.this))
        for clause in clauses:
            for head in window_heads(clause):
                key = normal_key(head)
                if key not in self.names:
                    name = f"__win_{len(self.names)}"
                    self.names[key] = name
                    calls.append(Alias(self._call(head), name))
        above = Scope(self.source, self.scope.column, self._intercept)

        def build(plan: PlanNode) -> PlanNode:
            out: PlanNode = Window(plan, tuple(calls)) if calls else plan
            if qualify is not None:
                out = Filter(out, lower_expr(substitute(qualify.this), above))
            return out

        return build, above

    def _intercept(self, node: exp.Expr) -> Expr | None:
        if isinstance(node, exp.Window):
            return Column(self.names[normal_key(node)])
        return self.scope.intercept(node)

    # --- one call -------------------------------------------------------------------

    def _call(self, node: exp.Window) -> Expr:
        refuse_unread(node, _WINDOW_ARGS, self.source)
        spec = self._resolved(node)
        head = node.this
        if isinstance(head, exp.IgnoreNulls | exp.RespectNulls | exp.Filter):
            words = {exp.IgnoreNulls: "IGNORE NULLS", exp.RespectNulls: "RESPECT NULLS"}
            what = words.get(type(head), "FILTER (WHERE ...)")
            raise self.source.unsupported(head, f"{what} in a window function")
        fn = _FUNCTIONS.get(type(head))
        if fn is None:
            name = self.source.function_name(head) if isinstance(head, exp.Func) else None
            name = name or head.key.lower()
            hint = function_hint(name, WINDOW_FUNCTIONS)
            raise self.source.unsupported(head, f"window function {name}()", hint=hint)
        args = self._arguments(head)
        partition = tuple(self._lower(e) for e in spec.get("partition_by") or [])
        order = spec.get("order")
        keys = order.expressions if order is not None else []
        frame = self._frame(spec.get("spec"), fn)
        try:
            return window_call(
                fn,
                args,
                partition_by=partition,
                order_by=tuple(self._lower(o.this) for o in keys),
                descending=tuple(bool(o.args.get("desc")) for o in keys),
                nulls_first=tuple(bool(o.args.get("nulls_first")) for o in keys),
                frame=frame,
            )
        except BindError as e:
            raise BindError(f"{e}{self.source.where(node)}") from None

    def _lower(self, node: exp.Expr) -> Expr:
        for inner in node.walk():
            if isinstance(inner, exp.Window):
                raise BindError(
                    f"window function calls cannot be nested{self.source.where(inner)}; "
                    "compute the inner one in a subquery"
                )
        return lower_expr(node, self.scope)

    def _arguments(self, head: exp.Expr) -> tuple[Expr, ...]:
        names = _ARGS.get(type(head), ("this",))
        refuse_unread(head, frozenset(names) | {"expressions"}, self.source)
        if head.expressions:
            raise self.source.unsupported(head, f"{head.key.lower()}() with these arguments")
        args: list[Expr] = []
        for name in names:
            value = head.args.get(name)
            if name == "big_int" or value is None:
                continue
            if isinstance(value, exp.Star):
                continue  # count(*)
            if isinstance(value, exp.Distinct):
                raise self.source.unsupported(head, "DISTINCT in a window function")
            args.append(self._lower(value))
        return tuple(args)

    def _resolved(self, node: exp.Window) -> dict[str, object]:
        """The window's clauses, after inheriting from a named window (``OVER w``,
        ``OVER (w ORDER BY ...)``, ``WINDOW w2 AS (w ...)``)."""
        spec: dict[str, object] = {
            "partition_by": node.args.get("partition_by"),
            "order": node.args.get("order"),
            "spec": node.args.get("spec"),
        }
        seen: set[str] = set()
        alias = node.args.get("alias")
        while alias is not None:
            name = alias.name.lower()
            base = self.named.get(name)
            if base is None or name in seen:
                what = "refers to itself" if name in seen else "is not defined"
                raise BindError(f"window {alias.name!r} {what}{self.source.where(alias)}")
            seen.add(name)
            for key, arg in (
                ("partition_by", "partition_by"),
                ("order", "order"),
                ("spec", "spec"),
            ):
                inherited = base.args.get(arg)
                if inherited and spec[key]:
                    if key == "partition_by":
                        raise BindError(
                            f"window {alias.name!r} already has PARTITION BY; it cannot be "
                            f"given again{self.source.where(node)}"
                        )
                    continue
                if inherited:
                    spec[key] = inherited
            alias = base.args.get("alias")
        return spec

    def _frame(self, spec: object, fn: str) -> Frame | None:
        if spec is None:
            return None
        assert isinstance(spec, exp.WindowSpec)
        if spec.args.get("exclude") is not None:
            raise self.source.unsupported(spec, "EXCLUDE in a window frame")
        refuse_unread(spec, _SPEC_ARGS, self.source)
        mode = str(spec.args.get("kind") or "").lower()
        if mode not in ("rows", "range"):
            raise self.source.unsupported(spec, f"{mode.upper()} window frames")
        start = self._bound(spec.args.get("start"), spec.args.get("start_side"), spec)
        end_node = spec.args.get("end")
        end = (
            CURRENT_ROW
            if end_node is None
            else self._bound(end_node, spec.args.get("end_side"), spec)
        )
        try:
            return Frame(mode, start, end)
        except BindError as e:
            raise BindError(f"{e}{self.source.where(spec)}") from None

    def _bound(self, value: object, side: object, spec: exp.Expr) -> Bound:
        side_text = str(side or "").lower()
        if isinstance(value, str):
            text = value.upper()
            if text == "CURRENT ROW":
                return CURRENT_ROW
            if text == "UNBOUNDED":
                return UNBOUNDED_PRECEDING if side_text == "preceding" else UNBOUNDED_FOLLOWING
        if side_text not in ("preceding", "following"):
            raise self.source.unsupported(spec, f"window frame bound {value}")
        return Bound(side_text, self._offset(value, spec))

    def _offset(self, value: object, spec: exp.Expr) -> object:
        if isinstance(value, exp.Literal) and not value.is_string:
            number = number_value(value.this)
            whole = isinstance(number, decimal.Decimal) and number == int(number)
            return int(number) if whole else number
        if isinstance(value, exp.Interval):
            parts = interval_parts(value)
            if parts is not None and parts[1] in ("week", "day", "hour", "minute", "second"):
                return fixed_interval(*parts)
            raise self.source.unsupported(value, "a month or year RANGE frame offset")
        raise self.source.unsupported(
            spec, "a window frame offset that is not a constant number or interval"
        )
