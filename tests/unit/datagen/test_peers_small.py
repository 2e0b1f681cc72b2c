"""The in-process peers (DuckDB, Polars, our single-process engine) agree on every query.

Dask, Daft and Ray Data peers run in the benchmark itself (they start schedulers or Ray).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def test_duckdb_and_polars_agree_on_every_query(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks import common
    from benchmarks.peers import PEERS
    from benchmarks.queries import QUERIES, DataPaths, assert_same_answer, normalize

    monkeypatch.setattr(common, "DATA_DIR", tmp_path)
    data = DataPaths(
        sf=0.01,
        n_orders=30_000,
        lineitem=common.tpch_portable_path("lineitem", 0.01),
        orders=common.school_orders_path(30_000),
    )
    for spec in QUERIES.values():
        reference = normalize(spec, PEERS["duckdb_parquet"](spec, data))
        assert reference.num_rows > 0, f"{spec.name}: empty answer proves nothing"
        for peer in ("duckdb_native", "polars", "hasivu_local"):
            assert_same_answer(spec, reference, normalize(spec, PEERS[peer](spec, data)))
