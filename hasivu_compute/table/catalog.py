"""The catalog: tables as folders under one root (a local folder or an S3 prefix).

A table exists when its ``metadata/v00000001.json`` exists; creating a table is
publishing that version with put-if-absent, so two processes creating the same
table at once cannot both succeed.

Table names follow DuckDB's rule, as column names do: a table keeps the name it
was created with (its folder), and a look-up matches it exactly, else
case-insensitively (``orders``, ``ORDERS`` and ``"Orders"`` all name ``Orders``);
a name that differs from an existing one only in case cannot be created.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from hasivu_compute._core.errors import (
    ConfigError,
    FileExistsConflict,
    SchemaMismatchError,
    TableExistsError,
    TableNotFoundError,
)
from hasivu_compute.schema.partition import DEFAULT_BUCKETS, PartitionSpec
from hasivu_compute.schema.schema import TableSchema
from hasivu_compute.schema.storable import check_storable
from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.storage.segment import WriteOptions
from hasivu_compute.table.commit import now_ms
from hasivu_compute.table.manifest import METADATA_DIR, ManifestStore
from hasivu_compute.table.metadata import Snapshot
from hasivu_compute.table.table import Table

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")

PartitionBy = Sequence[str | tuple[str, str]]


class Catalog:
    """Tables under one root.

    Args:
        fileio: where the tables live (``FileIO.from_uri(...)``).
        write_options: segment encoding options given to every table.
        table_options: further keyword arguments for :class:`Table`.
    """

    def __init__(
        self, fileio: FileIO, *, write_options: WriteOptions | None = None, **table_options: Any
    ) -> None:
        self.fileio = fileio
        self.write_options = write_options
        self.table_options = table_options

    @classmethod
    def from_uri(cls, uri: str, **s3_options: Any) -> Catalog:
        """Catalog over a local folder or ``s3://bucket/prefix``."""
        return cls(FileIO.from_uri(uri, **s3_options))

    def create_table(
        self,
        name: str,
        schema: pa.Schema | TableSchema,
        partition_by: PartitionBy = (),
        if_not_exists: bool = False,
        default_buckets: int = DEFAULT_BUCKETS,
    ) -> Table:
        """Create an empty table (version 1).

        Args:
            name: letters, digits, ``_ . -``; starts with a letter or ``_``.
            schema: Arrow schema (columns get ids 1..n) or a ready TableSchema.
            partition_by: e.g. ``[("school_id", "bucket[16]"), ("ordered_at", "month")]``;
                a bare name lets the engine choose (a key like ``school_id`` is hashed
                into ``default_buckets`` clusters; see ``schema.partition.default_transform``).
            if_not_exists: return the existing table instead of raising.

        Raises:
            TableExistsError: the table exists (and ``if_not_exists`` is False).
            BindError: the partition spec names an unknown column or misfits its type.
        """
        check_create_args(name, schema, partition_by)
        existing = self._same_name(name)
        if existing is not None:  # DuckDB: CREATE TABLE "orders" after Orders exists
            if if_not_exists:
                return self.load_table(existing)
            same = "" if existing == name else f" as {existing!r} (names ignore case)"
            raise TableExistsError(
                f"table {name!r} already exists{same}; use another name or if_not_exists=True"
            )
        table_schema = schema if isinstance(schema, TableSchema) else TableSchema.from_arrow(schema)
        check_storable(table_schema)  # refuse types segments cannot hold, before any write
        if not table_schema.fields:
            raise ConfigError(f"table {name!r} needs at least one column")
        spec = PartitionSpec.build(table_schema, partition_by, default_buckets)
        first = Snapshot(
            version=1,
            parent=None,
            timestamp_ms=now_ms(),
            schema=table_schema,
            spec=spec,
            data_files=(),
            producers={},
            summary={"operation": "create"},
            last_column_id=table_schema.max_field_id(),
        )
        table = self._table(name)
        try:
            ManifestStore(table.io, name).publish(first)
        except FileExistsConflict as exc:
            if if_not_exists:
                return self.load_table(name)
            raise TableExistsError(f"table {name!r} already exists") from exc
        return table

    def load_table(self, name: str) -> Table:
        """Open an existing table, matched by name exactly, else case-insensitively; the
        table's ``name`` is the one it was created with.

        Raises:
            TableNotFoundError: no such table (near names suggested), or ``name`` matches
                several tables that differ only in case (made before this rule).
        """
        return self._table(self.stored_name(name))

    def stored_name(self, name: str) -> str:
        """The name table ``name`` was created with (its folder): ``name`` itself when
        such a table exists, else the one table equal to it ignoring case.

        Raises:
            TableNotFoundError: see :meth:`load_table`.
        """
        _check_name(name)
        if self._exists(name):
            return name
        tables = self.list_tables()
        folded = [t for t in tables if t.lower() == name.lower()]
        if len(folded) == 1:
            return folded[0]
        if folded:
            raise TableNotFoundError(
                f"table name {name!r} matches {', '.join(map(repr, folded))}, which differ "
                "only in case; use the exact name (and rename all but one)"
            )
        from hasivu_compute._core.errors import near_matches

        hint = near_matches(name, tables)
        extra = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
        if not tables and not self.fileio.root_exists():
            extra = (
                f"; there is no warehouse at {self.fileio.uri!r} (nothing was ever written "
                "there: check the data_dir)"
            )
        raise TableNotFoundError(f"table {name!r} does not exist{extra}")

    def table_exists(self, name: str) -> bool:
        """Whether a table called ``name`` exists (matched as :meth:`load_table` does)."""
        if not isinstance(name, str) or not _NAME_RE.match(name):
            return False
        return self._exists(name) or self._same_name(name) is not None

    def _exists(self, name: str) -> bool:
        # Version 1's file is never deleted (expiry leaves a tombstone in its place), so one
        # existence check answers; listing the versions cost O(versions): 13 ms per call
        # after a school year of daily commits.
        return self.fileio.exists(f"{name}/{METADATA_DIR}/v00000001.json")

    def _same_name(self, name: str) -> str | None:
        """An existing table whose name equals ``name`` ignoring case, if any."""
        if self._exists(name):
            return name
        return next((t for t in self.list_tables() if t.lower() == name.lower()), None)

    def list_tables(self) -> list[str]:
        """Names of all tables, sorted."""
        return [
            d
            for d in self.fileio.list_dirs()
            if _NAME_RE.match(d) and self.fileio.exists(f"{d}/{METADATA_DIR}/v00000001.json")
        ]

    def drop_table(self, name: str) -> None:
        """Delete a table and all its files; :class:`TableNotFoundError` if absent."""
        self.fileio.delete_tree(self.stored_name(name))  # its folder, whatever the case asked

    def _table(self, name: str) -> Table:
        return Table(
            name, self.fileio.child(name), write_options=self.write_options, **self.table_options
        )


def check_create_args(name: object, schema: object, partition_by: object) -> None:
    """Refuse arguments of ``create_table`` of the wrong kind, naming the argument (a
    process sending them to the coordinator checks first, so the error is raised where the
    call was made, not as a remote traceback).

    Raises:
        ConfigError / SchemaMismatchError: with the argument, what was given, what to pass.
    """
    _check_name(name)  # type: ignore[arg-type]
    if not isinstance(schema, pa.Schema | TableSchema):
        raise SchemaMismatchError(
            f"schema of table {name!r} must be a pyarrow.Schema, got {type(schema).__name__}; "
            "e.g. pa.schema([('order_id', pa.int64()), ('amount', pa.float64())])"
        )
    if partition_by is None:
        return
    if isinstance(partition_by, str | bytes) or not isinstance(partition_by, Sequence):
        raise ConfigError(
            f"partition_by of table {name!r} must be a list of column names or "
            f"(column, transform) pairs, got {partition_by!r}"
        )
    for item in partition_by:
        pair = isinstance(item, tuple | list) and len(item) == 2
        if not (isinstance(item, str) or (pair and all(isinstance(x, str) for x in item))):
            raise ConfigError(
                f"partition_by of table {name!r}: {item!r} is neither a column name nor a "
                "(column, transform) pair such as ('school_id', 'bucket[16]')"
            )


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            f"invalid table name {name!r}: use letters, digits, '_', '.', '-' "
            "(starting with a letter or '_', at most 128 characters)"
        )
