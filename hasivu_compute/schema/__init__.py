"""Table schema with stable column ids, partition specs, classification tags."""

from __future__ import annotations

from hasivu_compute.schema.partition import (
    PartitionField,
    PartitionSpec,
    apply_transform,
    parse_transform,
    transform_scalar,
)
from hasivu_compute.schema.schema import Field, TableSchema
from hasivu_compute.schema.storable import (
    check_column_storable,
    check_storable,
    is_storable,
    storable_problem,
)

__all__ = [
    "Field",
    "PartitionField",
    "PartitionSpec",
    "TableSchema",
    "apply_transform",
    "check_column_storable",
    "check_storable",
    "is_storable",
    "parse_transform",
    "storable_problem",
    "transform_scalar",
]
