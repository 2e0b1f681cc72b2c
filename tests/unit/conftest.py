"""Unit tests never start Ray: starting it here is a test bug, caught loudly."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_ray_in_unit_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is a runtime dependency
        return

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("unit tests must not start Ray; move this test to tests/integration/")

    monkeypatch.setattr(ray, "init", refuse)
