"""Fixtures for plan tests: an in-memory table layer (tests only)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load(name: str, filename: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load("hc_memtable", "memtable.py")
_load("hc_fixtures", "fixtures.py")
_load("hc_strategies", "strategies.py")
