"""Joins against DuckDB: hand-written star-schema shapes and a generated corpus.

``facts`` (partitioned, several segments per partition) joins ``dims``, whose keys
include NULLs, duplicates and keys facts does not have; facts' ``k`` is int32 and
dims' is int64, so every join on it coerces.
"""

from __future__ import annotations

import pytest
from joingen import generate_joins, generate_or_joins

from hasivu_compute._core.errors import BindError, UnsupportedSQLError
from hasivu_compute.exec import prepare
from hasivu_compute.plan.nodes import Join, walk
from hasivu_compute.plan.optimizer.rules import join_strategy
from hasivu_compute.plan.render import render
from hasivu_compute.sql import to_plan

JOIN_COUNT = 160
JOIN_SEED = 7
GENERATED_JOINS = generate_joins(JOIN_COUNT, JOIN_SEED)
OR_JOIN_COUNT = 60
OR_JOINS = generate_or_joins(OR_JOIN_COUNT, JOIN_SEED)

#: (sql, order columns): each names its output columns so names are compared too.
JOIN_QUERIES: list[tuple[str, tuple[int, ...]]] = [
    ("SELECT f.id AS id, d.label AS label FROM facts f JOIN dims d ON f.k = d.k", ()),
    ("SELECT f.id AS id, d.label AS label FROM facts f LEFT JOIN dims d ON f.k = d.k", ()),
    ("SELECT f.id AS id, d.label AS label FROM facts f RIGHT JOIN dims d ON f.k = d.k", ()),
    ("SELECT f.id AS id, d.label AS label FROM facts f FULL JOIN dims d ON f.k = d.k", ()),
    (
        "SELECT f.id AS id, d.label AS label FROM facts f FULL OUTER JOIN dims d "
        "ON f.k = d.k AND d.weight > 3",
        (),
    ),
    (
        "SELECT f.id AS id, d.label AS label FROM facts f LEFT JOIN dims d "
        "ON f.k = d.k AND f.x > 50",
        (),
    ),
    ("SELECT d.k AS k, d.label AS label FROM dims d SEMI JOIN facts f ON f.k = d.k", ()),
    ("SELECT d.k AS k, d.label AS label FROM dims d ANTI JOIN facts f ON f.k = d.k", ()),
    ("SELECT count(*) AS n FROM facts f, dims d WHERE f.k = d.k AND f.g = 'a'", ()),
    ("SELECT count(*) AS n FROM dims a CROSS JOIN dims b", ()),
    ("SELECT a.label AS l, b.label AS r FROM dims a, dims b WHERE a.k < b.k AND b.k < 4", ()),
    (
        "SELECT d.label AS label, count(*) AS n, sum(f.x) AS s FROM facts f "
        "JOIN dims d USING (k) GROUP BY d.label ORDER BY label",
        (0,),
    ),
    ("SELECT k AS k, count(*) AS n FROM facts FULL JOIN dims USING (k) GROUP BY k", ()),
    ("SELECT k AS k, g AS g FROM dims NATURAL JOIN facts", ()),
    (
        "SELECT f.g AS fg, d.g AS dg, count(*) AS n FROM facts f JOIN dims d "
        "ON f.g = d.g AND f.k < d.k GROUP BY f.g, d.g",
        (),
    ),
    # same column name on both sides, not joined on: two keys and two aggregates, not one
    (
        "SELECT d.g AS dg, f.g AS fg, count(*) AS n, max(f.k) AS a, max(d.k) AS b "
        "FROM facts f JOIN dims d ON f.k = d.k GROUP BY d.g, f.g",
        (),
    ),
    (
        "SELECT a.label AS a, b.label AS b, f.id AS id FROM facts f "
        "JOIN dims a ON f.k = a.k JOIN dims b ON b.k = a.k + 1 WHERE f.q = 3",
        (),
    ),
    (
        "WITH big AS (SELECT k, sum(x) AS sx FROM facts GROUP BY k) "
        "SELECT d.label AS label, big.sx AS sx FROM big JOIN dims d ON big.k = d.k "
        "ORDER BY sx DESC NULLS LAST, label LIMIT 10",
        (1, 0),
    ),
    (
        "SELECT s.g AS g, s.n AS n, d.label AS label FROM "
        "(SELECT g, k, count(*) AS n FROM facts GROUP BY g, k) s "
        "LEFT JOIN dims d ON s.k = d.k AND s.g = d.g",
        (),
    ),
    ("SELECT f.id AS id FROM facts f JOIN dims d ON f.k = d.k WHERE d.k IS NULL", ()),
    (
        "SELECT f.id AS id, d.k AS dk FROM facts f LEFT JOIN dims d ON f.k = d.k WHERE d.k IS NULL",
        (),
    ),
    ("SELECT f.id AS id FROM facts f JOIN dims d ON f.k = d.k AND d.k > 1000", ()),
    ("SELECT d.label AS label FROM dims d LEFT JOIN facts f ON f.k = d.k AND f.k > 1000", ()),
    ("SELECT f.id AS id, d.weight AS w FROM facts f JOIN dims d ON f.x = d.weight", ()),
    ("SELECT f.id AS id, d.label AS label FROM facts f JOIN dims d ON f.k = d.k OR f.q = d.k", ()),
    (
        "SELECT d.label AS label, f.id AS id FROM facts AS f INNER JOIN dims AS d "
        "ON (f.k = d.k) ORDER BY f.id, d.label LIMIT 25 OFFSET 5",
        (1, 0),
    ),
    (
        "SELECT DISTINCT d.g AS g FROM facts f JOIN dims d ON f.g = d.g WHERE f.flag",
        (),
    ),
    # an OR over both sides: each side is filtered by what it implies, the OR stays
    (
        "SELECT f.id AS id, d.label AS label FROM facts f JOIN dims d ON f.k = d.k "
        "WHERE (f.g = 'a' AND d.g = 'b') OR (f.g = 'b' AND d.g = 'a')",
        (),
    ),
    (
        "SELECT f.id AS id, d.label AS label FROM facts f LEFT JOIN dims d ON f.k = d.k "
        "AND ((f.q > 3 AND d.weight > 5) OR (f.q < 0 AND d.weight IS NULL))",
        (),
    ),
    (
        "SELECT f.id AS id, d.label AS label FROM facts f RIGHT JOIN dims d ON f.k = d.k "
        "AND ((f.q > 3 AND d.weight > 5) OR (f.q < 0 AND d.weight IS NULL))",
        (),
    ),
    (
        "SELECT f.id AS id, d.label AS label FROM facts f FULL JOIN dims d ON f.k = d.k "
        "AND ((f.q > 3 AND d.weight > 5) OR (f.q < 0 AND d.label = 'dim_4'))",
        (),
    ),
    (
        "SELECT f.id AS id, d.label AS label FROM facts f LEFT JOIN dims d ON f.k = d.k "
        "WHERE (f.q > 3 AND d.label IS NULL) OR (f.q < 0 AND d.weight > 5)",
        (),
    ),
    (
        "SELECT a.label AS a, b.label AS b, count(*) AS n FROM facts f "
        "JOIN dims a ON f.k = a.k JOIN dims b ON f.q = b.k "
        "WHERE (a.g = 'a' AND b.g = 'b' AND f.x > 10) OR (a.g = 'b' AND b.g = 'a' AND f.x < 0) "
        "GROUP BY a.label, b.label",
        (),
    ),
]


@pytest.fixture(params=["chosen", "gather"])
def strategy(request, monkeypatch) -> str:
    """Each query twice: with the strategies the planner picks (small sides broadcast)
    and with every join gathered (no side small enough to broadcast)."""
    if request.param == "gather":
        monkeypatch.setattr(join_strategy, "BROADCAST_ROWS", -1)
    return str(request.param)


@pytest.mark.parametrize(("sql", "order_columns"), JOIN_QUERIES)
def test_join_matches_duckdb(oracle, strategy, sql: str, order_columns: tuple[int, ...]) -> None:
    oracle.check(sql, order_columns)


@pytest.mark.parametrize("index", range(JOIN_COUNT))
def test_generated_join_matches_duckdb(oracle, strategy, index: int) -> None:
    query = GENERATED_JOINS[index]
    oracle.check(query.sql, query.order_columns)


@pytest.mark.parametrize("index", range(OR_JOIN_COUNT))
def test_generated_or_over_a_join_matches_duckdb(oracle, strategy, index: int) -> None:
    """Each side may be filtered by what the OR implies for it; never one whose rows the
    join keeps unmatched (or, for a WHERE, the side that supplies NULLs)."""
    oracle.check(OR_JOINS[index].sql)


def test_the_or_corpus_filters_sides_by_what_the_or_implies(oracle) -> None:
    implied = 0
    for query in OR_JOINS:
        text = render(prepare(to_plan(query.sql, schema=oracle.schemas), oracle.catalog).optimized)
        implied += " OR " in text.split("Scan facts", 1)[-1].split("\n", 1)[0]
    assert implied >= OR_JOIN_COUNT // 4, f"only {implied} plans filter facts by an implied OR"


def test_the_corpus_runs_both_strategies(oracle, monkeypatch) -> None:
    def strategies() -> set[str]:
        found = set()
        for query in GENERATED_JOINS:
            plan = prepare(to_plan(query.sql, schema=oracle.schemas), oracle.catalog).optimized
            found |= {n.strategy for n in walk(plan) if isinstance(n, Join)}
        return found

    assert strategies() == {"broadcast", "gather"}, "full joins gather, the rest mostly broadcast"
    monkeypatch.setattr(join_strategy, "BROADCAST_ROWS", -1)
    assert strategies() == {"gather"}


def test_generated_joins_mostly_have_rows(oracle) -> None:
    empty = [q.sql for q in GENERATED_JOINS if oracle.duckdb(q.sql).num_rows == 0]
    assert len(empty) <= JOIN_COUNT * 0.15, f"{len(empty)} of {JOIN_COUNT} answer no rows"


def test_a_where_on_both_tables_becomes_a_hash_join_with_each_side_filtered(oracle) -> None:
    sql = (
        "SELECT d.label, count(*) AS n FROM facts f, dims d "
        "WHERE f.k = d.k AND f.g = 'a' AND d.weight > 2 GROUP BY d.label"
    )
    plans = prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog)
    text = render(plans.optimized)
    assert "Join inner on=[CAST(f.k AS int64) = d.k] strategy=broadcast build_rows<=34" in text
    assert text.index("Exchange") < text.index("PartialAggregate") < text.index("Join"), (
        "the small dims side is broadcast: facts' fragments join and aggregate their own rows"
    )
    assert "Scan facts" in text and "filter=(g = 'a')" in text, text
    assert "read=(partitions 1 of" in text, "the filter on facts prunes its partitions"
    assert "filter=(weight > 2.0)" in text, text


def test_a_filter_on_the_preserved_side_stays_in_an_outer_join(oracle) -> None:
    sql = "SELECT f.id, d.label FROM facts f LEFT JOIN dims d ON f.k = d.k AND f.x > 50"
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert "condition=(f.x > 50.0)" in text, text
    assert "filter=(x > 50.0)" not in text, "facts rows failing it must still come out"


@pytest.mark.parametrize(
    ("sql", "error", "words"),
    [
        ("SELECT k FROM facts f JOIN dims d ON f.k = d.k", BindError, "ambiguous"),
        ("SELECT z.k FROM facts f JOIN dims d ON f.k = d.k", BindError, "unknown table 'z'"),
        ("SELECT f.nope FROM facts f JOIN dims d ON f.k = d.k", BindError, "unknown column"),
        ("SELECT 1 FROM dims JOIN dims ON true", BindError, "used twice"),
        ("SELECT 1 FROM facts f JOIN dims d USING (label)", BindError, "USING column 'label'"),
        ("SELECT 1 FROM facts f LEFT JOIN dims d", BindError, "needs ON or USING"),
        ("SELECT 1 FROM facts f ASOF JOIN dims d ON f.k >= d.k", UnsupportedSQLError, "ASOF"),
        ("SELECT 1 FROM facts f POSITIONAL JOIN dims d", UnsupportedSQLError, "POSITIONAL"),
        (
            "SELECT 1 FROM facts f JOIN dims d ON f.k = (SELECT max(k) FROM dims)",
            UnsupportedSQLError,
            "subquery",
        ),
        ("SELECT 1 FROM facts f JOIN dims d ON sum(f.k) = d.k", BindError, "join condition"),
    ],
)
def test_join_mistakes_are_named(oracle, sql: str, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        oracle.ours(sql)


EAGER_QUERIES = [
    # dims has keys 5, 7 and 19 twice: a fact row joins twice and counts twice
    "SELECT d.g AS g, count(*) AS n, count(f.x) AS c, sum(f.y) AS s, min(f.name) AS lo, "
    "max(f.d) AS hi FROM facts f JOIN dims d ON f.k = d.k GROUP BY d.g",
    # a left group key with few values (flag): grouped by (k, q, flag), ~1,150 of 6,000 rows
    "SELECT d.label AS label, f.flag AS ff, count(*) AS n, sum(f.x) AS s FROM facts f "
    "LEFT JOIN dims d ON f.k = d.k AND f.q > d.weight GROUP BY d.label, f.flag",
    "SELECT count(*) AS n, count(f.x) AS c, sum(f.x) AS s FROM facts f JOIN dims d "
    "ON f.k = d.k AND d.k > 1000",
    "SELECT d.label AS label, count(*) AS n FROM facts f JOIN dims d ON f.k = d.k "
    "WHERE f.flag GROUP BY d.label HAVING count(*) > 40",
    "SELECT d.g AS g, avg(f.x) AS ax, avg(f.q) AS aq, avg(f.y) AS ay FROM facts f "
    "LEFT JOIN dims d ON f.k = d.k GROUP BY d.g",
]


@pytest.mark.parametrize("sql", EAGER_QUERIES)
def test_aggregates_over_a_join_group_the_fact_rows_first_and_stay_exact(oracle, sql) -> None:
    oracle.check(sql)
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert "PreAggregate keys=[" in text, text


def test_an_aggregate_that_does_not_decompose_is_left_above_the_join(oracle) -> None:
    sql = (
        "SELECT d.label AS label, count(DISTINCT f.g) AS n, sum(f.x) AS a FROM facts f "
        "JOIN dims d ON f.k = d.k GROUP BY d.label"
    )
    oracle.check(sql)
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert "PreAggregate" not in text, text


def test_a_join_key_that_hardly_repeats_is_not_grouped_first(oracle) -> None:
    sql = (
        "SELECT d.label AS label, count(*) AS n, sum(f.x) AS s FROM facts f "
        "JOIN dims d ON f.id = d.k GROUP BY d.label"
    )
    oracle.check(sql)
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert "PreAggregate" not in text, "facts.id is unique: grouping by it removes no row"


def test_a_chain_of_joins_is_grouped_before_its_first_join(oracle) -> None:
    sql = (
        "SELECT a.g AS g, b.label AS label, count(*) AS n, sum(f.x) AS s, max(f.y) AS hi "
        "FROM facts f JOIN dims a ON f.k = a.k LEFT JOIN dims b ON f.q = b.k "
        "GROUP BY a.g, b.label"
    )
    oracle.check(sql)
    text = render(prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog).optimized)
    assert text.count("PreAggregate") == 2, text
    assert "PreAggregate keys=[f.k, f.q]" in text, "the fact rows are grouped before any join"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT f.id AS a, h.id AS b FROM facts f FULL JOIN facts h ON f.id = h.id * 2",
        "SELECT a.id AS a, b.id AS b FROM facts a JOIN facts b ON a.k = b.k AND a.g = b.g "
        "WHERE a.id % 50 = 0",
        "SELECT f.g AS g, count(*) AS n FROM facts f LEFT JOIN facts h ON f.id = h.id + 1 "
        "GROUP BY f.g",
    ],
)
def test_join_over_the_memory_budget_spills_and_matches_duckdb(oracle, tmp_path, sql) -> None:
    from hasivu_compute.exec.spill import JoinBudget, join_budget

    with join_budget(JoinBudget(max_bytes=1 << 12, spill_dir=str(tmp_path))) as spilled:
        oracle.check(sql)
    assert spilled.parts >= 2 and spilled.bytes_written > 0, "the build side went to disk"
    assert list(tmp_path.iterdir()) == [], "no spill file is left behind"


DYNAMIC = [
    "SELECT f.id AS id, d.label AS label FROM facts f JOIN dims d ON f.g = d.g WHERE d.weight > 6",
    "SELECT f.g AS g, count(*) AS n FROM facts f WHERE f.g IN (SELECT g FROM dims "
    "WHERE label LIKE 'dim_1%') GROUP BY f.g",
    "SELECT f.id AS id FROM facts f JOIN dims d ON f.g = d.g WHERE d.k > 1000",
]


@pytest.mark.parametrize("sql", DYNAMIC)
def test_dynamic_partition_pruning_skips_partitions_no_key_reaches(oracle, sql) -> None:
    """facts is partitioned by g: once the dims side is answered, fragments read only the
    partitions of its g values (none when the side is empty); answers stay DuckDB's."""
    from hasivu_compute.exec import execute
    from hasivu_compute.exec.fragment import prune_dynamically
    from hasivu_compute.plan.explain import render_physical

    oracle.check(sql)
    prepared = prepare(to_plan(sql, schema=oracle.schemas), oracle.catalog)
    physical = prepared.physical
    assert "dynamic partition pruning: identity of broadcast" in render_physical(physical)
    sides = {b.broadcast_id: execute(b.plan, oracle.catalog) for b in physical.broadcasts}
    probe = [f for f in physical.fragments if f.dynamic_filters]
    rule = probe[0].dynamic_filters[0]
    keys = {v for v in sides[rule.broadcast_id].column(rule.column).to_pylist() if v is not None}
    before = {sf.file.partition for f in probe for sf in f.files}
    after = {sf.file.partition for f in probe for sf in prune_dynamically(f, sides).files}
    assert after == {p for p in before if p[0] in keys}, (before, after, keys)
    assert len(after) < len(before), "some partitions were skipped"
