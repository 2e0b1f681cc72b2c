"""Rich rendering of Arrow results for the CLI."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from rich.table import Table


def _cell(value: object) -> str:
    if value is None:
        return "∅"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def arrow_table(table: pa.Table, title: str | None = None, max_rows: int = 15) -> Table:
    """A rich table of the first ``max_rows`` rows of ``table``."""
    out = Table(title=title, title_justify="left", show_lines=False)
    for field in table.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        out.add_column(field.name, justify="right" if numeric else "left")
    for row in table.slice(0, max_rows).to_pylist():
        out.add_row(*(_cell(v) for v in row.values()))
    if table.num_rows > max_rows:
        out.caption = f"{table.num_rows - max_rows:,} more rows"
    return out
