"""benchmarks/common.py and benchmarks/queries.py: caching, timing, tables, answer checks."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture()
def bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks import common

    monkeypatch.setattr(common, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    return common


def test_school_orders_cached_and_equal_to_generator(bench) -> None:  # type: ignore[no-untyped-def]
    from hasivu_compute.datagen import orders

    path = bench.school_orders_path(3_000, seed=2)
    mtime = path.stat().st_mtime_ns
    assert bench.school_orders(3_000, seed=2).equals(orders(3_000, seed=2))
    assert bench.school_orders_path(3_000, seed=2).stat().st_mtime_ns == mtime, (
        "second call reuses the file"
    )
    assert not list(path.parent.glob(".gen-*")), "no temporary files left behind"


def test_tpch_generates_once_and_portable_copy_has_plain_types(bench) -> None:  # type: ignore[no-untyped-def]
    nation = bench.tpch("nation", 0.01)
    assert nation.num_rows == 25
    portable = pq.read_schema(bench.tpch_portable_path("nation", 0.01))
    assert all(
        not pa.types.is_string_view(f.type) and not pa.types.is_decimal(f.type) for f in portable
    )
    with pytest.raises(ValueError, match="unknown TPC-H table"):
        bench.tpch_parquet_path("lineitems", 1)


def test_timeit_best_of_and_budget(bench) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def work() -> int:
        calls.append(1)
        return len(bytearray(8 << 20))

    timing, result = bench.timeit(work, repeat=3, warmup=2)
    assert result == 8 << 20 and len(calls) == 5
    assert timing.best_s == min(timing.runs_s) and len(timing.runs_s) == 3
    assert timing.peak_rss_delta_bytes is not None and timing.memory_method != "none"
    timing, _ = bench.timeit(work, repeat=5, warmup=1, budget_s=0.0)
    assert len(timing.runs_s) == 1 and timing.cold, "over budget: the warm-up is the one run"


def test_ratio_tables_and_results(bench) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"query": "q1", "peer": "a", "best_s": 0.5},
        {"query": "q1", "peer": "b", "best_s": 2.0},
        {"query": "q2", "peer": "b", "best_s": 0.25},
        {"query": "q2", "peer": "a", "best_s": None},
    ]
    _, cols, grid = bench.ratio_grid(rows)
    assert cols == ["a", "b"]
    assert grid[("q1", "b")] == (2.0, 4.0)
    assert ("q2", "a") not in grid
    assert bench.ratio_grid(rows, baseline="b")[2][("q1", "a")] == (0.5, 0.25)
    md = bench.markdown_table(rows)
    assert "| q1 | 500.0 ms (1.00×) | 2.00 s (4.00×) |" in md
    assert "| q2 | — | 250.0 ms (1.00×) |" in md
    path = bench.save_results("unit", {"rows": rows})
    doc = json.loads(path.read_text())
    assert doc["results"]["rows"] == rows and doc["machine"]["cpu_count"] >= 1
    assert "duckdb" in doc["machine"]["versions"]


def test_reference_sql_and_answer_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.queries import QUERIES, assert_same_answer, normalize, table_sql
    from hasivu_compute.datagen import orders

    data = orders(20_000, seed=1)  # read by DuckDB's replacement scan, and by hand below
    con = duckdb.connect()
    by_hand = _answers_by_hand(data)
    for name, expected in by_hand.items():
        spec = QUERIES[name]
        got = normalize(spec, con.sql(table_sql(spec, "data")).to_arrow_table())
        assert got.num_rows > 0 and got.num_rows == expected.num_rows, name
        assert_same_answer(spec, normalize(spec, expected), got)
    spec = QUERIES["school_month"]
    ref = normalize(spec, con.sql(table_sql(spec, "data")).to_arrow_table())
    shuffled = ref.take(list(reversed(range(ref.num_rows))))
    assert_same_answer(spec, ref, normalize(spec, shuffled))
    off = ref.set_column(3, "revenue", pa.array([v + 0.01 for v in ref["revenue"].to_pylist()]))
    with pytest.raises(AssertionError, match="column 'revenue'"):
        assert_same_answer(spec, ref, off)


def _answers_by_hand(data: pa.Table) -> dict[str, pa.Table]:
    """The school queries' answers computed with pyarrow alone (not from their SQL)."""
    import pyarrow.compute as pc

    from benchmarks.queries import MONTH_END, MONTH_START, SCHOOL_ID, TOP_N

    paid = data.filter(pc.equal(data["status"], "paid"))
    one = paid.filter(
        pc.and_(
            pc.equal(paid["school_id"], SCHOOL_ID),
            pc.and_(
                pc.greater_equal(paid["meal_date"], pa.scalar(MONTH_START, pa.date32())),
                pc.less(paid["meal_date"], pa.scalar(MONTH_END, pa.date32())),
            ),
        )
    )
    school_one_month = pa.table(
        {
            "orders": [one.num_rows],
            "revenue": [pc.sum(one["amount"]).as_py()],
            "students": [pc.count_distinct(one["student_id"]).as_py()],
        }
    )
    month = pc.add(pc.multiply(pc.year(paid["meal_date"]), 100), pc.month(paid["meal_date"]))
    per_month = (
        paid.append_column("month", month.cast(pa.int32()))
        .group_by(["school_id", "month"])
        .aggregate([("order_id", "count"), ("amount", "sum"), ("student_id", "count_distinct")])
        .rename_columns(["school_id", "month", "orders", "revenue", "students"])
    )
    spend = paid.group_by("student_id").aggregate([("amount", "sum"), ("order_id", "count")])
    spend = spend.set_column(
        1, "spend", pc.round(spend["amount_sum"], 2, round_mode="half_towards_infinity")
    ).rename_columns(["student_id", "spend", "orders"])
    top = spend.sort_by([("spend", "descending"), ("student_id", "ascending")]).slice(0, TOP_N)
    return {
        "school_one_month": school_one_month,
        "school_month": per_month,
        "top_students": top,
    }


def test_feed_latency_targets_hold_only_at_the_target_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.run import _feeds_targets

    def paced(rate: float, p50: float, p99: float) -> dict:
        row = {"shape": "pos", "peer": "hasivu paced", "rows_per_s": rate}
        return {"rows": [row | {"p50_ms": p50, "p99_ms": p99}]}

    met = {t["target"]: t["met"] for t in _feeds_targets(paced(310_000, 3.0, 20.0))}
    assert met == {
        "feeds: 8 producers, p50 ack (ms), paced": True,
        "feeds: 8 producers, p99 ack (ms), paced": True,
    }
    slow = _feeds_targets(paced(290_000, 3.0, 20.0))
    assert [t["met"] for t in slow] == [False, False], "fast acks at a lower rate do not count"
    tail = _feeds_targets(paced(310_000, 3.0, 68.0))
    assert [t["met"] for t in tail] == [True, False]
