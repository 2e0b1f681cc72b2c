"""Seeded random SQL queries over the ``facts`` table, inside the supported subset.

Every query is valid DuckDB SQL whose answer is deterministic as a bag of rows:
a LIMIT always comes with an ORDER BY over every output column (a total order on
rows), so ties cannot change which rows are kept. ``GenQuery.order_columns``
lists the output columns whose sequence ORDER BY fixes, for the order check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

INT_COLUMNS = ("k", "q", "y", "id")
FLOAT_COLUMNS = ("x", "price")
STRING_COLUMNS = ("g", "name")


@dataclass(frozen=True)
class GenQuery:
    """One generated query and what its ORDER BY guarantees."""

    sql: str
    order_columns: tuple[int, ...] = ()
    shape: str = ""


@dataclass
class Item:
    """A SELECT item: expression text, type class and whether it aggregates."""

    sql: str
    kind: str  # int | float | str | date | ts | bool
    aggregate: bool = False


class QueryGen:
    """Random query generator; one instance per seed."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def pick(self, *options):  # type: ignore[no-untyped-def]
        return self.r.choice(options)

    # --- scalar expressions ---------------------------------------------------------

    def int_expr(self, depth: int = 2) -> str:
        r = self.r
        if depth <= 0 or r.random() < 0.35:
            return r.choice(("k", "q", "y", "k", "q"))
        choice = r.randrange(14)
        sub = lambda: self.int_expr(depth - 1)  # noqa: E731
        if choice == 0:
            return f"({sub()} + {sub()})"
        if choice == 1:
            return f"({sub()} - {r.randint(-5, 50)})"
        if choice == 2:
            return f"({sub()} * {r.randint(-3, 4)})"
        if choice == 3:
            return f"abs({sub()})"
        if choice == 4:
            return f"({sub()} % {r.randint(1, 9)})"
        if choice == 5:
            return f"({sub()} // {r.randint(1, 9)})"
        if choice == 6:
            return f"CASE WHEN {self.pred(depth - 1)} THEN {sub()} ELSE {r.randint(-9, 9)} END"
        if choice == 7:
            return f"coalesce({r.choice(('y', 'k', 'q'))}, {r.randint(-2, 2)})"
        if choice == 8:
            return self.pick("year(d)", "month(d)", "day(d)", "extract(hour FROM ts)", "quarter(d)")
        if choice == 9:
            return "length(name)"
        if choice == 10:
            column = r.choice(("g", "k"))
            return f"CASE {column} WHEN {self.lit_for(column)} THEN 1 ELSE 0 END"
        if choice == 11:
            return f"nullif({sub()}, {r.randint(0, 3)})"
        if choice == 12:
            return f"CAST({self.pick('x', 'price')} AS BIGINT)"
        return f"(-{sub()})"

    def lit_for(self, column: str) -> str:
        if column == "g":
            return self.pick("'a'", "'b'", "'Alpha'", "''")
        return str(self.r.randint(0, 6))

    def float_expr(self, depth: int = 2) -> str:
        r = self.r
        if depth <= 0 or r.random() < 0.4:
            return r.choice(FLOAT_COLUMNS)
        choice = r.randrange(9)
        sub = lambda: self.float_expr(depth - 1)  # noqa: E731
        if choice == 0:
            return f"({sub()} + {self.int_expr(depth - 1)})"
        if choice == 1:
            return f"({sub()} * {self.pick('1.5', '2', '0.25', '-1')})"
        if choice == 2:
            return f"({sub()} / (abs({self.int_expr(0)}) + 1))"
        if choice == 3:
            return f"round({sub()}, {r.randint(0, 2)})"
        if choice == 4:
            return f"({sub()} - {sub()})"
        if choice == 5:
            return f"CAST({self.int_expr(depth - 1)} AS DOUBLE)"
        if choice == 6:
            fill = self.pick("0.5", "0")
            return self.pick(
                f"coalesce(x, price, {fill})", "floor(x)", "ceil(price)", "sqrt(price)"
            )
        if choice == 7:
            return f"CASE WHEN {self.pred(depth - 1)} THEN {sub()} END"
        return f"({self.int_expr(depth - 1)} / {self.pick('2', '4', '8')})"

    def str_expr(self, depth: int = 1) -> str:
        if depth <= 0 or self.r.random() < 0.5:
            return self.r.choice(STRING_COLUMNS)
        return self.pick(
            "lower(name)",
            "upper(g)",
            "coalesce(g, 'none')",
            f"CASE WHEN {self.pred(0)} THEN 'yes' ELSE g END",
            "CAST(k AS VARCHAR)",
            "trim(name)",
            "rtrim(name)",
        )

    def date_expr(self) -> str:
        return self.pick("d", "d", "date_trunc('month', d)", "date_trunc('year', d)")

    def pred(self, depth: int = 2) -> str:
        r = self.r
        if depth > 0 and r.random() < 0.3:
            op = r.choice(("AND", "OR"))
            return f"({self.pred(depth - 1)} {op} {self.pred(depth - 1)})"
        if depth > 0 and r.random() < 0.1:
            return f"NOT {self.pred(depth - 1)}"
        choice = r.randrange(15)
        cmp = r.choice(("=", "<>", "<", "<=", ">", ">="))
        if choice == 0:
            return f"{self.int_expr(1)} {cmp} {r.randint(-20, 20)}"
        if choice == 1:
            return f"{self.float_expr(1)} {cmp} {self.pick('12.5', '40', '-3.25', '100')}"
        if choice == 2:
            return f"g {r.choice(('=', '<>', '<', '>='))} {self.pick(chr(39) + 'b' + chr(39), chr(39) + 'Alpha' + chr(39), chr(39) * 2)}"
        if choice == 3:
            values = ", ".join(
                self.pick("'a'", "'c'", "'beta'", "''", "NULL") for _ in range(r.randint(1, 3))
            )
            return f"g {self.pick('IN', 'NOT IN')} ({values})"
        if choice == 4:
            lo = r.randint(-10, 10)
            return f"{self.int_expr(1)} {self.pick('BETWEEN', 'NOT BETWEEN')} {lo} AND {lo + r.randint(0, 15)}"
        if choice == 5:
            pattern = self.pick("'a%'", "'%an%'", "'b_a%'", "'%_1'", "'%e'", "'A%'", "'date\\_%'")
            return f"name {self.pick('LIKE', 'NOT LIKE', 'ILIKE')} {pattern}"
        if choice == 6:
            return f"{r.choice(('x', 'y', 'g', 'd', 'ts', 'flag', 'name'))} IS {self.pick('', 'NOT ')}NULL"
        if choice == 7:
            return self.pick("flag", "NOT flag", "flag = TRUE", "flag IS NOT NULL AND NOT flag")
        if choice == 8:
            day = f"2020-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
            return f"d {cmp} DATE '{day}'"
        if choice == 9:
            return (
                f"ts {cmp} TIMESTAMP '2022-{r.randint(1, 12):02d}-01 {r.randint(0, 23):02d}:30:00'"
            )
        if choice == 10:
            values = ", ".join(str(r.randint(0, 6)) for _ in range(r.randint(1, 4)))
            extra = ", NULL" if r.random() < 0.3 else ""
            return f"k {self.pick('IN', 'NOT IN')} ({values}{extra})"
        if choice == 11:
            return f"d BETWEEN DATE '2021-01-01' AND DATE '2021-01-01' + INTERVAL {r.randint(1, 9)} MONTH"
        if choice == 12:
            return f"price {cmp} {self.pick('20', '35.5', '60')}"
        if choice == 13:
            return f"{self.str_expr(1)} {cmp} {self.pick(chr(39) + 'apple_1' + chr(39), chr(39) + 'c' + chr(39))}"
        return f"y {cmp} k * {r.randint(1, 40)}"

    def scalar_item(self) -> Item:
        kind = self.r.choice(("int", "int", "float", "str", "date", "bool", "ts"))
        if kind == "int":
            return Item(self.int_expr(), "int")
        if kind == "float":
            return Item(self.float_expr(), "float")
        if kind == "str":
            return Item(self.str_expr(), "str")
        if kind == "date":
            return Item(self.date_expr(), "date")
        if kind == "ts":
            return Item(
                self.pick(
                    "ts",
                    "date_trunc('day', ts)",
                    "tsz",
                    "date_trunc('hour', tsz)",
                    "extract(hour FROM tsz)",
                ),
                "ts",
            )
        return Item(self.pred(1), "bool")

    def key_item(self) -> Item:
        return self.r.choice(
            (
                Item(self.pick("k", "g", "q", "flag"), "key"),
                Item(self.pick("k", "g", "q", "flag", "year(d)", "month(d)"), "key"),
                Item(
                    self.pick(
                        "(k % 5)", "lower(g)", "date_trunc('year', d)", "(q > 3)", "round(x / 100)"
                    ),
                    "key",
                ),
                Item(f"CASE WHEN {self.pred(0)} THEN 'p' ELSE 'n' END", "key"),
            )
        )

    def agg_item(self) -> Item:
        r = self.r
        choice = r.randrange(13)
        if choice == 0:
            return Item("count(*)", "int", True)
        if choice == 1:
            return Item(f"count({r.choice(('x', 'g', 'd', 'y', 'flag'))})", "int", True)
        if choice == 2:
            return Item(f"count(DISTINCT {r.choice(('g', 'k', 'name', 'd', 'q'))})", "int", True)
        if choice == 3:
            return Item(f"sum({self.int_expr(1)})", "int", True)
        if choice == 4:
            return Item(f"sum({self.float_expr(1)})", "float", True)
        if choice == 5:
            return Item(f"avg({self.pick(self.int_expr(1), self.float_expr(1))})", "float", True)
        if choice in (6, 7):
            arg = self.pick("x", "y", "g", "name", "d", "ts", "tsz", "k", self.int_expr(1), "price")
            return Item(f"{self.pick('min', 'max')}({arg})", "any", True)
        if choice == 8:
            return Item(
                f"{self.pick('stddev_samp', 'var_pop', 'stddev', 'var_samp', 'stddev_pop')}({self.pick('x', 'price', 'y')})",
                "float",
                True,
            )
        if choice == 9:
            return Item(f"sum({self.float_expr(0)}) / count(*)", "float", True)
        if choice == 10:
            return Item("max(y) - min(y)", "int", True)
        if choice == 11:
            return Item(f"sum(CASE WHEN {self.pred(1)} THEN 1 ELSE 0 END)", "int", True)
        # avg of integers: a float aggregate could land on either side of a rounding tie
        return Item(f"round(avg({self.int_expr(1)}), 2)", "float", True)

    # --- clauses ---------------------------------------------------------------------

    def where(self, probability: float = 0.7) -> str:
        return f" WHERE {self.pred()}" if self.r.random() < probability else ""

    def order_by(self, count: int, limit: bool) -> tuple[str, tuple[int, ...]]:
        """ORDER BY over outputs (all of them with a LIMIT), as positions or aliases."""
        r = self.r
        if limit:
            columns = list(range(count))
            r.shuffle(columns)
        else:
            columns = r.sample(range(count), r.randint(1, count))
        parts = []
        for c in columns:
            ref = str(c + 1) if r.random() < 0.5 else f"c{c}"
            direction = r.choice(("", " ASC", " DESC"))
            nulls = r.choice(("", "", " NULLS FIRST", " NULLS LAST"))
            parts.append(f"{ref}{direction}{nulls}")
        text = " ORDER BY " + ", ".join(parts)
        if limit:
            text += f" LIMIT {r.randint(0, 25)}"
            if r.random() < 0.3:
                text += f" OFFSET {r.randint(1, 10)}"
        return text, tuple(columns)

    def tail(self, count: int) -> tuple[str, tuple[int, ...]]:
        roll = self.r.random()
        if roll < 0.35:
            return self.order_by(count, limit=True)
        if roll < 0.65:
            return self.order_by(count, limit=False)
        return "", ()

    @staticmethod
    def select_list(items: list[Item]) -> str:
        return ", ".join(f"{item.sql} AS c{i}" for i, item in enumerate(items))

    # --- query shapes ----------------------------------------------------------------

    def projection(self) -> GenQuery:
        items = [self.scalar_item() for _ in range(self.r.randint(1, 4))]
        order, columns = self.tail(len(items))
        sql = f"SELECT {self.select_list(items)} FROM facts{self.where(0.8)}{order}"
        return GenQuery(sql, columns, "projection")

    def grouped(self) -> GenQuery:
        r = self.r
        keys = []
        for _ in range(r.randint(1, 3)):
            key = self.key_item()
            if all(k.sql != key.sql for k in keys):
                keys.append(key)
        aggs = [self.agg_item() for _ in range(r.randint(1, 4))]
        items = keys + aggs
        group_refs = []
        for i, key in enumerate(keys):
            group_refs.append(r.choice((str(i + 1), f"c{i}", key.sql)))
        having = ""
        if r.random() < 0.3:
            numeric = [
                f"c{len(keys) + i}" for i, a in enumerate(aggs) if a.kind in ("int", "float")
            ]
            target = self.pick("count(*)", "sum(q)", "max(y)", *numeric)
            having = f" HAVING {target} {self.pick('>', '>=', '<')} {r.randint(0, 60)}"
        order, columns = self.tail(len(items))
        if not order and r.random() < 0.2:
            order = f" ORDER BY {self.pick('sum(x)', 'count(*)', 'min(id)')} DESC"  # not an output: bag only
        sql = (
            f"SELECT {self.select_list(items)} FROM facts{self.where(0.5)}"
            f" GROUP BY {', '.join(group_refs)}{having}{order}"
        )
        return GenQuery(sql, columns, "grouped")

    def global_aggregate(self) -> GenQuery:
        aggs = [self.agg_item() for _ in range(self.r.randint(1, 4))]
        where = self.pick(self.where(1.0), " WHERE y > 5000", "")
        return GenQuery(f"SELECT {self.select_list(aggs)} FROM facts{where}", (), "global")

    def distinct(self) -> GenQuery:
        items = [
            self.pick(self.key_item(), self.scalar_item()) for _ in range(self.r.randint(1, 2))
        ]
        order, columns = self.tail(len(items))
        return GenQuery(
            f"SELECT DISTINCT {self.select_list(items)} FROM facts{self.where(0.5)}{order}",
            columns,
            "distinct",
        )

    def derived(self) -> GenQuery:
        r = self.r
        inner_items = [
            Item("k", "int"),
            Item("g", "str"),
            Item(self.float_expr(1), "float"),
            Item(self.int_expr(1), "int"),
        ]
        inner = (
            f"SELECT k, g, {inner_items[2].sql} AS v, {inner_items[3].sql} AS w "
            f"FROM facts{self.where(0.6)}"
        )
        outer_key = r.choice(("k", "g", "sub.g", "(w % 3)"))
        agg = self.pick("sum(v)", "count(*)", "avg(w)", "max(v)", "count(DISTINCT w)", "min(sub.w)")
        order, columns = self.tail(2)
        body = f"SELECT {outer_key} AS c0, {agg} AS c1 FROM {{src}} WHERE w IS NOT NULL GROUP BY 1{order}"
        if r.random() < 0.5:
            sql = body.format(src=f"({inner}) AS sub")
        else:
            sql = f"WITH sub AS ({inner}) " + body.format(src="sub")
        return GenQuery(sql, columns, "derived")

    def union(self) -> GenQuery:
        items = [self.scalar_item() for _ in range(self.r.randint(1, 3))]
        select = self.select_list(items)
        left = f"SELECT {select} FROM facts WHERE {self.pred()}"
        right = f"SELECT {select} FROM facts WHERE {self.pred()}"
        op = self.pick("UNION ALL", "UNION ALL", "UNION")
        order, columns = self.tail(len(items))
        return GenQuery(f"{left} {op} {right}{order}", columns, "union")

    def top_k_subquery(self) -> GenQuery:
        """A derived table with its own ORDER BY + LIMIT, aggregated outside."""
        r = self.r
        key = r.choice(("x", "price", "y"))
        limit = r.randint(1, 60)
        inner = f"SELECT id, g, k, {key} AS v FROM facts WHERE {key} IS NOT NULL{self.where(0.5).replace(' WHERE', ' AND')}"
        inner += f" ORDER BY v {self.pick('ASC', 'DESC')}, id LIMIT {limit}"
        agg = self.pick("count(*)", "sum(v)", "min(v)", "max(id)", "count(DISTINCT k)")
        order, columns = self.tail(2)
        sql = f"SELECT g AS c0, {agg} AS c1 FROM ({inner}) AS top GROUP BY g{order}"
        return GenQuery(sql, columns, "top_k")

    def chained_ctes(self) -> GenQuery:
        """Two CTEs, the second aggregating the first, the query filtering the second."""
        r = self.r
        first = f"SELECT k, g, {self.float_expr(1)} AS v FROM facts{self.where(0.5)}"
        second = f"SELECT k, count(*) AS n, sum(v) AS s FROM base GROUP BY k HAVING count(*) > {r.randint(0, 5)}"
        order, columns = self.tail(3)
        sql = (
            f"WITH base AS ({first}), per_k AS ({second}) "
            f"SELECT k AS c0, n AS c1, s AS c2 FROM per_k WHERE n >= {r.randint(0, 30)}{order}"
        )
        return GenQuery(sql, columns, "ctes")

    def global_having(self) -> GenQuery:
        agg = self.agg_item()
        cond = f"count(*) {self.pick('>', '<')} {self.r.choice((0, 10, 5000, 10000))}"
        return GenQuery(
            f"SELECT {agg.sql} AS c0 FROM facts{self.where(0.5)} HAVING {cond}", (), "global_having"
        )

    def query(self) -> GenQuery:
        shapes = {
            "projection": (self.projection, 24),
            "grouped": (self.grouped, 32),
            "global": (self.global_aggregate, 8),
            "distinct": (self.distinct, 9),
            "derived": (self.derived, 8),
            "union": (self.union, 9),
            "top_k": (self.top_k_subquery, 4),
            "ctes": (self.chained_ctes, 4),
            "global_having": (self.global_having, 2),
        }
        names = list(shapes)
        shape = self.r.choices(names, weights=[shapes[n][1] for n in names])[0]
        return shapes[shape][0]()


def generate(count: int, seed: int = 0) -> list[GenQuery]:
    """``count`` queries; query i depends only on (seed, i), so a failure is replayable."""
    return [QueryGen(seed * 1_000_003 + i).query() for i in range(count)]
