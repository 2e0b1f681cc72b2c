"""Every Python snippet in README.md runs as written (on the session's Ray, in a temp folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _snippets(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_readme_has_snippets() -> None:
    assert _snippets(ROOT / "README.md"), "the README shows the API in python blocks"


@pytest.mark.parametrize("index", range(len(_snippets(ROOT / "README.md"))))
def test_readme_snippet_runs(
    index: int, ray_session: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HASIVU_DATA_DIR", str(tmp_path / "data"))
    code = _snippets(ROOT / "README.md")[index]
    namespace: dict[str, object] = {"__name__": "readme_snippet"}
    exec(compile(code, f"README.md snippet {index}", "exec"), namespace)
    if "c" in namespace and "r" in namespace:  # the quick start: the key did its job
        r = namespace["r"]
        assert r.rows == 3 and not r.duplicate  # type: ignore[attr-defined]
