"""Table schemas with stable column ids.

A column is known by its id, not its name: segments store columns under field
ids, so renaming a column or adding one never rewrites data, and a dropped id is
never reused (the snapshot keeps ``last_column_id``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from hasivu_compute._core.errors import BindError, SchemaMismatchError, near_matches


@dataclass(frozen=True, slots=True)
class Field:
    """One column: stable id, current name, Arrow type, nullability and classification tags."""

    id: int
    name: str
    type: pa.DataType
    nullable: bool = True
    tags: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.id < 1:
            raise SchemaMismatchError(f"field id must be >= 1, got {self.id}", column=self.name)
        if not self.name:
            raise SchemaMismatchError("a column name must not be empty")

    def to_arrow(self) -> pa.Field:
        """The Arrow field (the id is kept in the field metadata as ``field_id``)."""
        meta = {b"field_id": str(self.id).encode()}
        if self.tags:
            meta[b"tags"] = ",".join(sorted(self.tags)).encode()
        return pa.field(self.name, self.type, nullable=self.nullable, metadata=meta)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; the type is kept exactly (as an Arrow IPC schema)."""
        return {
            "id": self.id,
            "name": self.name,
            "type": str(self.type),
            "arrow": type_to_b64(self.type),
            "nullable": self.nullable,
            "tags": sorted(self.tags),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Field:
        """Inverse of :meth:`to_json`."""
        return cls(
            id=int(obj["id"]),
            name=str(obj["name"]),
            type=type_from_b64(str(obj["arrow"])),
            nullable=bool(obj["nullable"]),
            tags=frozenset(obj.get("tags", ())),
        )


@dataclass(frozen=True, slots=True)
class TableSchema:
    """An ordered set of fields with unique ids and names; ``schema_id`` counts evolutions."""

    fields: tuple[Field, ...]
    schema_id: int = 0
    # Derived once per schema (a value never changes): every validated batch and every
    # query asks for them, ~30 us per 14-column schema each time they were rebuilt.
    _arrow: pa.Schema | None = field(default=None, init=False, repr=False, compare=False)
    _by_name: dict[str, Field] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = [f.id for f in self.fields]
        names = [f.name for f in self.fields]
        if len(set(ids)) != len(ids):
            raise SchemaMismatchError(f"duplicate field ids in schema: {ids}")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemaMismatchError(f"duplicate column names {dupes}", column=dupes[0])

    @classmethod
    def from_arrow(cls, schema: pa.Schema, schema_id: int = 0) -> TableSchema:
        """A schema whose columns get ids 1..n in order (metadata ``tags`` are kept).

        View types become their plain counterparts (see :func:`table_type`).
        """
        fields = []
        for i, f in enumerate(schema, start=1):
            tags: frozenset[str] = frozenset()
            if f.metadata and b"tags" in f.metadata:
                tags = frozenset(t for t in f.metadata[b"tags"].decode().split(",") if t)
            fields.append(Field(i, f.name, table_type(f.type), f.nullable, tags))
        return cls(tuple(fields), schema_id)

    def to_arrow(self) -> pa.Schema:
        """The Arrow schema (column order = schema order)."""
        if self._arrow is None:
            object.__setattr__(self, "_arrow", pa.schema([f.to_arrow() for f in self.fields]))
        assert self._arrow is not None
        return self._arrow

    def _names(self) -> dict[str, Field]:
        if self._by_name is None:
            object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})
        assert self._by_name is not None
        return self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(f.name for f in self.fields)

    @property
    def field_ids(self) -> tuple[int, ...]:
        """Field ids in column order."""
        return tuple(f.id for f in self.fields)

    def field(self, name: str) -> Field:
        """The field called ``name``; :class:`BindError` with near matches otherwise."""
        found = self._names().get(name)
        if found is not None:
            return found
        hint = near_matches(name, self.names)
        did_you_mean = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
        raise BindError(f"no column {name!r} in table schema {list(self.names)}{did_you_mean}")

    def has(self, name: str) -> bool:
        """Whether a column called ``name`` exists."""
        return name in self._names()

    def by_id(self, field_id: int) -> Field:
        """The field with id ``field_id``; :class:`BindError` if it does not exist (any more)."""
        for f in self.fields:
            if f.id == field_id:
                return f
        raise BindError(f"no column with field id {field_id} in schema {self.schema_id}")

    def max_field_id(self) -> int:
        """The largest id in use (0 for an empty schema)."""
        return max((f.id for f in self.fields), default=0)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"schema_id": self.schema_id, "fields": [f.to_json() for f in self.fields]}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TableSchema:
        """Inverse of :meth:`to_json`."""
        return cls(tuple(Field.from_json(f) for f in obj["fields"]), int(obj["schema_id"]))


def table_type(dtype: pa.DataType) -> pa.DataType:
    """The type a table stores for an input column type.

    ``string_view``/``binary_view`` (what Parquet readers often hand out) become
    ``string``/``binary``: many Arrow kernels (take, group-by) lack view kernels, and
    the stored bytes are the same. Lists of them are normalised the same way.
    """
    if dtype == pa.string_view():
        return pa.string()
    if dtype == pa.binary_view():
        return pa.binary()
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        inner = table_type(dtype.value_type)
        if inner != dtype.value_type:
            field = dtype.value_field.with_type(inner)
            return pa.list_(field) if pa.types.is_list(dtype) else pa.large_list(field)
    return dtype


def type_to_b64(dtype: pa.DataType) -> str:
    """Serialize an Arrow type exactly (tz, precision, nesting) as base64 IPC."""
    buf = pa.schema([pa.field("t", dtype)]).serialize()
    return base64.b64encode(buf.to_pybytes()).decode("ascii")


def type_from_b64(text: str) -> pa.DataType:
    """Inverse of :func:`type_to_b64`."""
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))
    dtype: pa.DataType = schema.field(0).type
    return dtype
