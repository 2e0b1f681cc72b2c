"""Kernel tests share the expression tests' random tables, value comparison and DuckDB
fixture (``tests/unit/expr/conftest.py``): the kernels evaluate those expressions."""

from __future__ import annotations

from ...expr.conftest import (  # noqa: F401  (re-exported; ``duck`` is a fixture)
    ROW,
    SCHEMA,
    WORDS,
    duck,
    normalize,
    tables,
    values_equal,
)
