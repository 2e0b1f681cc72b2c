"""The eight TPC-H tables at SF0.1 (tpchgen-cli), generated once and cached."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

TPCH_SCALE = 0.1
TPCH_TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")


def tpch_tables(
    cache: pytest.Cache | None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pa.Table]:
    """The eight TPC-H tables at SF0.1 from tpchgen-cli, generated once and kept in
    pytest's cache dir (or a fixed temp folder without the cache plugin)."""
    if cache is not None:
        folder = Path(cache.mkdir("tpch-sf0.1-all"))
    else:  # -p no:cacheprovider: a fixed folder under the system temp dir
        folder = Path(tempfile.gettempdir()) / "hasivu-tpch-sf0.1-all"
        folder.mkdir(exist_ok=True)
    if not all(sorted(folder.rglob(f"{t}*.parquet")) for t in TPCH_TABLES):
        cli = shutil.which("tpchgen-cli") or str(Path(sys.executable).parent / "tpchgen-cli")
        work = tmp_path_factory.mktemp("tpchgen")
        subprocess.run(
            [cli, "parquet", "-s", str(TPCH_SCALE), "--output-dir", str(work)],
            check=True,
            capture_output=True,
        )
        for produced in work.rglob("*.parquet"):
            shutil.copy(produced, folder / produced.name)
    out = {}
    for name in TPCH_TABLES:
        files = [
            f for f in sorted(folder.rglob(f"{name}*.parquet")) if f.stem.split(".")[0] == name
        ]
        out[name] = pa.concat_tables(pq.read_table(f) for f in files)
    return out
