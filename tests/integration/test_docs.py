"""Every Python snippet in README.md runs as written, in order, on one data folder (on the
session's Ray): a reader who pastes them one after the other gets no error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _snippets(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_readme_snippets_run_in_order(
    ray_session: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snippets = _snippets(ROOT / "README.md")
    assert len(snippets) >= 2, "the README shows the API in python blocks"
    monkeypatch.setenv("HASIVU_DATA_DIR", str(tmp_path / "data"))
    for index, code in enumerate(snippets):
        namespace: dict[str, object] = {"__name__": "readme_snippet"}
        exec(compile(code, f"README.md snippet {index}", "exec"), namespace)
        if index == 0:  # the quick start: the ingest key did its job
            r = namespace["r"]
            assert r.rows == 3 and not r.duplicate  # type: ignore[attr-defined]
