"""glibc malloc tuning (_core.allocator): applied once, switchable off by the setting."""

from __future__ import annotations

import platform

import pytest

from hasivu_compute._core import allocator


def test_the_setting_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setenv("HASIVU_MALLOC_TUNING", "0")
    assert allocator.tune_allocator() is False
    monkeypatch.setenv("HASIVU_MALLOC_TUNING", "1")
    assert allocator.tune_allocator() is False, "decided once per process"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_applied_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.delenv("HASIVU_MALLOC_TUNING", raising=False)
    assert allocator.tune_allocator() is True
    assert allocator.tune_allocator() is True
