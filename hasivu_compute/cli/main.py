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
    tables = sub.add_parser("tables", help="list tables")
    tables.add_argument("--data-dir", default=None)
    tables.add_argument("--address", default=None)
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


def _sql(console: Console, query: str, data_dir: str | None, address: str | None) -> None:
    from hasivu_compute.cli.render import arrow_table
    from hasivu_compute.sdk import connect

    with connect(address=address, data_dir=data_dir) as c:
        console.print(arrow_table(c.sql(query), title=query))


def _tables(console: Console, data_dir: str | None, address: str | None) -> None:
    from hasivu_compute.sdk import connect

    with connect(address=address, data_dir=data_dir) as c:
        for name in c.tables():
            console.print(name)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
