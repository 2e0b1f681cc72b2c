"""hasivu_compute: the analytics engine of the HASIVU school-meals platform.

The public API users type is documented in the project's API.md; everything not
re-exported here is internal.
"""

from __future__ import annotations

from hasivu_compute._core.errors import (
    BindError,
    ChecksumError,
    CommitConflictError,
    ConnectionClosedError,
    HasivuError,
    IngestError,
    IngestKeyConflictError,
    InvalidDataError,
    ParseError,
    PlanError,
    SchemaMismatchError,
    TableExistsError,
    TableNotFoundError,
    UnsupportedSQLError,
)

__version__ = "0.1.0"

# Loaded on first use: the SDK pulls in Ray (about a second to import), and the
# package root must not import upper layers eagerly, or every layer that imports
# `hasivu_compute._core` would (through this file) depend on all of them.
_LAZY = {
    "col": "hasivu_compute.expr",
    "lit": "hasivu_compute.expr",
    "count": "hasivu_compute.expr",
    "when": "hasivu_compute.expr",
    "coalesce": "hasivu_compute.expr",
    **{
        name: "hasivu_compute.expr.window"
        for name in (
            "row_number",
            "rank",
            "dense_rank",
            "percent_rank",
            "cume_dist",
            "ntile",
            "lag",
            "lead",
            "first_value",
            "last_value",
            "nth_value",
        )
    },
    "connect": "hasivu_compute.sdk",
    "Connection": "hasivu_compute.sdk",
    "DataFrame": "hasivu_compute.sdk",
    "IngestResult": "hasivu_compute.runtime.values",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hasivu_compute' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "BindError",
    "ChecksumError",
    "CommitConflictError",
    "Connection",
    "ConnectionClosedError",
    "DataFrame",
    "HasivuError",
    "IngestError",
    "IngestKeyConflictError",
    "IngestResult",
    "InvalidDataError",
    "ParseError",
    "PlanError",
    "SchemaMismatchError",
    "TableExistsError",
    "TableNotFoundError",
    "UnsupportedSQLError",
    "__version__",
    "coalesce",
    "col",
    "connect",
    "count",
    "cume_dist",
    "dense_rank",
    "first_value",
    "lag",
    "last_value",
    "lead",
    "lit",
    "nth_value",
    "ntile",
    "percent_rank",
    "rank",
    "row_number",
    "when",
]
