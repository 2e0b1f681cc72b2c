"""The ``hasivu`` command: ``hasivu demo``, ``hasivu sql``, ``hasivu tables``.

One error handler: a :class:`HasivuError` prints its message (no traceback) and
exits with status 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from hasivu_compute._core.errors import HasivuError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hasivu", description="HASIVU school-meals analytics engine (on Ray)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="generate school data, ingest it through the actors, answer dashboard questions",
    )
    demo.add_argument("--orders", type=int, default=3_000_000, help="order rows to generate")
    demo.add_argument("--schools", type=int, default=500, help="number of schools")
    demo.add_argument(
        "--data-dir", default=None, help="folder for the tables (default: a temp dir)"
    )
    demo.add_argument("--address", default=None, help="Ray address (default: embedded)")
    demo.add_argument("--keep", action="store_true", help="keep the demo data folder")
    demo.add_argument("--seed", type=int, default=0)
    sql = sub.add_parser("sql", help="run one SQL query and print the result")
    sql.add_argument("query")
    sql.add_argument("--data-dir", default=None)
    sql.add_argument("--address", default=None)
    tables = sub.add_parser("tables", help="list tables (reads the catalog; starts no Ray)")
    tables.add_argument("--data-dir", default=None)
    tables.add_argument("--address", default=None, help="ignored: kept for old scripts")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hasivu`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    console = Console()
    try:
        if args.command == "demo":
            from hasivu_compute.cli.demo import run_demo

            run_demo(
                console,
                n_orders=args.orders,
                n_schools=args.schools,
                data_dir=args.data_dir,
                address=args.address,
                keep=args.keep,
                seed=args.seed,
            )
        elif args.command == "sql":
            _sql(console, args.query, args.data_dir, args.address)
        elif args.command == "tables":
            _tables(console, args.data_dir, args.address)
    except HasivuError as exc:
        console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130
    return 0


def _warehouse(data_dir: str | None) -> str:
    """The data location a reading command uses; a typo must not look like an empty
    warehouse, so a location nothing was ever written to is an error."""
    from hasivu_compute._core.config import load_settings
    from hasivu_compute._core.errors import ConfigError
    from hasivu_compute.runtime.session import resolve_data_uri
    from hasivu_compute.storage.fileio import FileIO

    uri = resolve_data_uri(data_dir, load_settings())
    if not FileIO.from_uri(uri).root_exists():
        raise ConfigError(
            f"no warehouse at {uri!r}: nothing was ever written there (check --data-dir or "
            "HASIVU_DATA_DIR)"
        )
    return uri


def _sql(console: Console, query: str, data_dir: str | None, address: str | None) -> None:
    from hasivu_compute.cli.render import arrow_table
    from hasivu_compute.sdk import connect

    uri = _warehouse(data_dir)
    with connect(address=address, data_dir=uri) as c:
        console.print(arrow_table(c.sql(query), title=query))


def _tables(console: Console, data_dir: str | None, address: str | None) -> None:
    """List the tables from the catalog's files: no Ray needed (it cost 7-13 s a call)."""
    from hasivu_compute.table.catalog import Catalog

    del address  # the catalog lives in storage, whoever runs the cluster
    for name in Catalog.from_uri(_warehouse(data_dir)).list_tables():
        console.print(name)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
