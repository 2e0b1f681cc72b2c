"""hasivu_compute: the analytics engine of the HASIVU school-meals platform.

The public API users type is documented in the project's API.md; everything not
re-exported here is internal.
"""

from __future__ import annotations

from hasivu_compute._core.errors import (
    AccessDenied,
    BindError,
    ChecksumError,
    CommitConflictError,
    HasivuError,
    InvalidDataError,
    ParseError,
    PlanError,
    PrivacyBudgetExceeded,
    SchemaMismatchError,
    TableExistsError,
    TableNotFoundError,
    UnsupportedSQLError,
)

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "BindError",
    "ChecksumError",
    "CommitConflictError",
    "HasivuError",
    "InvalidDataError",
    "ParseError",
    "PlanError",
    "PrivacyBudgetExceeded",
    "SchemaMismatchError",
    "TableExistsError",
    "TableNotFoundError",
    "UnsupportedSQLError",
    "__version__",
]
