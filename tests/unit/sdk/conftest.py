"""The in-memory table layer of tests/unit/plan, importable as ``hc_memtable``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if "hc_memtable" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "hc_memtable", Path(__file__).parents[1] / "plan" / "memtable.py"
    )
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["hc_memtable"] = _module
    _spec.loader.exec_module(_module)
