"""``DataFrame.join``: key arguments as users give them, turned into a Join with clear names.

The frames' columns are known (the caller binds them), so every name is checked
here and the output is what a DataFrame user expects (Polars' rules):

* ``on="school_id"`` (or a list): the key appears once, from the left (for RIGHT
  and FULL joins the merged ``COALESCE(left, right)``, so it is never NULL where
  either side had it);
* ``left_on=`` / ``right_on=`` (or ``on=[("left", "right"), ...]``): both keys stay;
* any other right column whose name is taken gets ``suffix`` (default ``"_right"``);
* ``semi`` / ``anti`` give the left columns only; ``cross`` takes no keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from hasivu_compute._core.errors import BindError, PlanError
from hasivu_compute.expr import coalesce
from hasivu_compute.plan._expr import Alias, Column, Expr
from hasivu_compute.plan.nodes import JOIN_TYPES, Join, PlanNode, Project

OnLike = str | Sequence[str] | Sequence[tuple[str, str]] | None


def _names(value: str | Sequence[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    names = list(value)
    if not all(isinstance(n, str) for n in names):
        raise PlanError(f"join: {what} must be a column name or a list of names, got {value!r}")
    return names


def _key_pairs(
    on: OnLike, left_on: str | Sequence[str] | None, right_on: str | Sequence[str] | None
) -> tuple[list[tuple[str, str]], bool]:
    """``[(left, right), ...]`` and whether the keys share names (``on=``)."""
    if on is not None and (left_on is not None or right_on is not None):
        raise PlanError("join: give on= or left_on=/right_on=, not both")
    if on is not None:
        if isinstance(on, str):
            return [(on, on)], True
        items = list(on)
        if items and all(isinstance(i, tuple) and len(i) == 2 for i in items):
            return [(str(a), str(b)) for a, b in items], False
        names = _names(items, "on")  # type: ignore[arg-type]
        return [(n, n) for n in names], True
    lefts, rights = _names(left_on, "left_on"), _names(right_on, "right_on")
    if len(lefts) != len(rights):
        raise PlanError(
            f"join: left_on has {len(lefts)} columns but right_on has {len(rights)}; pair them"
        )
    return list(zip(lefts, rights, strict=True)), False


def _check(name: str, columns: Sequence[str], side: str) -> None:
    if name not in columns:
        from hasivu_compute._core.errors import near_matches

        hint = near_matches(name, list(columns))
        extra = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
        raise BindError(f"join: the {side} frame has no column {name!r}{extra}")


def join(
    left: PlanNode,
    right: PlanNode,
    left_columns: Sequence[str],
    right_columns: Sequence[str],
    *,
    on: OnLike = None,
    how: str = "inner",
    left_on: str | Sequence[str] | None = None,
    right_on: str | Sequence[str] | None = None,
    suffix: str = "_right",
) -> PlanNode:
    """The plan of ``left.join(right, ...)`` (see the module docstring).

    Raises:
        PlanError: a bad ``how``, keys given twice or unpaired, keys on a cross join.
        BindError: a key column that is not there, or a name still taken after ``suffix``.
    """
    if how not in JOIN_TYPES:
        raise PlanError(f"join: how must be one of {list(JOIN_TYPES)}, got {how!r}")
    pairs, shared = _key_pairs(on, left_on, right_on)
    if how == "cross" and pairs:
        raise PlanError("join: a cross join takes no keys (on / left_on / right_on)")
    if how != "cross" and not pairs:
        raise PlanError(f"join: how={how!r} needs keys: on=, or left_on= and right_on=")
    for a, b in pairs:
        _check(a, left_columns, "left")
        _check(b, right_columns, "right")
    merged_keys = {b for _, b in pairs} if shared else set()
    taken = set(left_columns)
    renames: dict[str, str] = {}
    for name in right_columns:
        if name in merged_keys:
            renames[name] = f"__right_key_{len(renames)}"
        elif name in taken:
            renames[name] = name + suffix
            if renames[name] in taken or renames[name] in right_columns:
                raise BindError(
                    f"join: right column {name!r} is also on the left, and {renames[name]!r} "
                    "is taken too; pass another suffix="
                )
        taken.add(renames.get(name, name))
    renamed: PlanNode = right
    if renames:
        renamed = Project(
            right,
            tuple(
                Alias(Column(n), renames[n]) if n in renames else Column(n) for n in right_columns
            ),
        )
    node = Join(
        left,
        renamed,
        how,
        left_keys=tuple(Column(a) for a, _ in pairs),
        right_keys=tuple(Column(renames.get(b, b)) for _, b in pairs),
    )
    if not merged_keys or how in ("semi", "anti"):
        return node
    keys = {a: renames[b] for a, b in pairs}
    out: list[Expr] = []
    for name in left_columns:
        if name in keys and how in ("right", "full"):
            out.append(Alias(coalesce(Column(name), Column(keys[name])), name))
        else:
            out.append(Column(name))
    out.extend(Column(renames.get(n, n)) for n in right_columns if n not in merged_keys)
    return Project(node, tuple(out))


__all__ = ["join"]
