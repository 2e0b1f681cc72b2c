"""The tree is the architecture: layer contract and lint run as part of the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    assert path, f"{name} is a dev dependency and must be installed"
    return path


def test_import_layers_point_down_only() -> None:
    result = subprocess.run(
        [_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [_tool("ruff"), "check", "hasivu_compute", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _strict_packages() -> list[str]:
    """The package folders pyproject.toml declares mypy-strict (``hasivu_compute.plan.*``)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    overrides = config["tool"]["mypy"].get("overrides", [])
    modules = [m for o in overrides if o.get("strict") for m in o["module"]]
    return sorted({m.removesuffix(".*").replace(".", "/") for m in modules})


def test_mypy_is_clean_where_the_project_claims_strict_typing() -> None:
    packages = _strict_packages()
    assert "hasivu_compute/plan" in packages, packages
    result = subprocess.run([_tool("mypy"), *packages], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
