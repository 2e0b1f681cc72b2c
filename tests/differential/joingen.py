"""Generated join queries over ``facts`` and ``dims`` (seeded, so a failure replays).

Each query joins the two tables (every join type; keys that coerce int32 to
int64, string keys, two keys; keys with NULLs and duplicates; sometimes an
extra condition, a filter that empties a side, or a WHERE on either side) and
either lists columns of both sides or aggregates per a column of one side.
Every output column is named with ``AS`` so names are compared with DuckDB's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_TYPES = ("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "SEMI JOIN", "ANTI JOIN")
_KEYS = (
    ("f.k = d.k", ("k",)),
    ("f.g = d.g", ("g",)),
    ("f.k = d.k AND f.g = d.g", ("k", "g")),
    ("d.k = f.k + 1", None),
)
_EXTRA = ("d.weight > 3", "f.x > d.weight", "f.name LIKE 'a%'", "d.label <> 'dim_4'")
_WHERE_F = ("f.q > 2", "f.flag", "f.g IN ('a', 'b')", "f.y IS NULL", "f.k > 1000")
_WHERE_D = ("d.weight < 5", "d.label LIKE 'dim_1%'", "d.k > 1000", "d.g IS NOT NULL")
_F_COLS = ("f.id", "f.k", "f.g", "f.x", "f.name", "f.d")
_D_COLS = ("d.k", "d.label", "d.weight", "d.g")


@dataclass(frozen=True)
class JoinQuery:
    sql: str
    order_columns: tuple[int, ...] = ()


def _one(rng: random.Random) -> JoinQuery:
    kind = rng.choice(_TYPES)
    left, right = ("facts f", "dims d") if rng.random() < 0.7 else ("dims d", "facts f")
    on, using = rng.choice(_KEYS)
    if using is not None and rng.random() < 0.3:
        clause = f"USING ({', '.join(using)})"
    else:
        clause = f"ON {on}"
        if rng.random() < 0.3:
            clause += f" AND {rng.choice(_EXTRA)}"
    where = []
    if rng.random() < 0.4:
        where.append(rng.choice(_WHERE_F if left.startswith("facts") else _WHERE_D))
    outer_right = kind in ("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN")
    if outer_right and rng.random() < 0.25:
        where.append(rng.choice(_WHERE_D if left.startswith("facts") else _WHERE_F))
    lead = "f" if left.startswith("facts") else "d"
    mine = _F_COLS if lead == "f" else _D_COLS
    theirs = _D_COLS if lead == "f" else _F_COLS
    visible = mine + (theirs if outer_right else ())
    if using is not None and clause.startswith("USING"):
        visible = tuple(c for c in visible if c.split(".")[1] not in using or c[0] == lead)
    tail = f" WHERE {' AND '.join(where)}" if where else ""
    body = f"FROM {left} {kind} {right} {clause}{tail}"
    if rng.random() < 0.4:
        key = rng.choice(visible)
        aggs = ["count(*) AS n", f"count({rng.choice(visible)}) AS c"]
        numeric = [c for c in visible if c.split(".")[1] in ("x", "weight", "k", "id")]
        if numeric:
            aggs.append(f"sum({rng.choice(numeric)}) AS s")
        sql = f"SELECT {key} AS key, {', '.join(aggs)} {body} GROUP BY {key}"
        return JoinQuery(sql)
    cols = rng.sample(visible, k=min(len(visible), rng.randint(2, 4)))
    items = ", ".join(f"{c} AS c{i}" for i, c in enumerate(cols))
    if rng.random() < 0.3:
        order = ", ".join(f"c{i} NULLS FIRST" for i in range(len(cols)))
        return JoinQuery(f"SELECT {items} {body} ORDER BY {order} LIMIT 50", ())
    return JoinQuery(f"SELECT {items} {body}")


#: One-sided terms of the OR conditions below (NULL tests included: an outer join's
#: NULL-extended rows make them TRUE, so they must never move into that side).
_OR_F = ("f.q > 2", "f.flag", "f.g = 'a'", "f.y IS NULL", "f.x < 0", "f.k IN (1, 2)")
_OR_D = ("d.weight < 5", "d.g = 'b'", "d.label IS NULL", "d.weight IS NULL", "d.k > 20")


def _either(rng: random.Random) -> str:
    """An OR of 2-3 branches, each a conjunction of terms on both sides (sometimes one)."""
    branches = []
    for _ in range(rng.randint(2, 3)):
        terms = [rng.choice(_OR_F), rng.choice(_OR_D)]
        if rng.random() < 0.2:
            terms.pop(rng.randrange(2))
        branches.append("(" + " AND ".join(terms) + ")")
    return "(" + " OR ".join(branches) + ")"


def _or_one(rng: random.Random) -> JoinQuery:
    kind = rng.choice(_TYPES[:4])
    on = rng.choice(("f.k = d.k", "f.g = d.g"))
    either = _either(rng)
    if rng.random() < 0.5:
        body = f"FROM facts f {kind} dims d ON {on} AND {either}"
    else:
        body = f"FROM facts f {kind} dims d ON {on} WHERE {either}"
    if rng.random() < 0.5:
        return JoinQuery(
            f"SELECT d.label AS key, count(*) AS n, sum(f.x) AS s {body} GROUP BY d.label"
        )
    return JoinQuery(f"SELECT f.id AS a, d.label AS b, d.weight AS c {body}")


def generate_or_joins(count: int, seed: int = 0) -> list[JoinQuery]:
    """``count`` joins with an OR over both sides (in ON or in WHERE), seeded."""
    rng = random.Random(seed)
    return [_or_one(rng) for _ in range(count)]


def generate_joins(count: int, seed: int = 0) -> list[JoinQuery]:
    """``count`` join queries, the same for the same seed."""
    rng = random.Random(seed)
    return [_one(rng) for _ in range(count)]
