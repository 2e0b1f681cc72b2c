"""The exported error classes are ones the package can raise: no empty names."""

from __future__ import annotations

import re
from pathlib import Path

import hasivu_compute as hc
from hasivu_compute._core.errors import HasivuError

PACKAGE = Path(hc.__file__).parent
DECLARED_IN = {PACKAGE / "__init__.py", PACKAGE / "_core" / "errors.py"}


def test_every_exported_error_is_used_by_the_package() -> None:
    # AccessDenied and PrivacyBudgetExceeded were exported while nothing raised them
    sources = "\n".join(
        path.read_text() for path in PACKAGE.rglob("*.py") if path not in DECLARED_IN
    )
    exported = [
        name
        for name in hc.__all__
        if isinstance(getattr(hc, name), type) and issubclass(getattr(hc, name), HasivuError)
    ]
    assert "ParseError" in exported
    unused = [n for n in exported if not re.search(rf"\b{n}\b", sources)]
    assert not unused, f"exported but never raised or handled: {unused}"
