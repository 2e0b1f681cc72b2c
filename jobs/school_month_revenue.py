"""Ray job: revenue per school and month, written back as a table, exactly once.

Submit it to a cluster (the working dir ships the script; the cluster image
has hasivu_compute installed; the job API is reached through ``ray dashboard
cluster/cluster.yaml`` with the cluster's token, see cluster/README.md)::

    export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=~/.ray/hasivu-cluster.token
    ray job submit --address http://127.0.0.1:8265 --working-dir jobs \\
        --runtime-env-json '{"env_vars": {"RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}}' \\
        -- python school_month_revenue.py --data-dir s3://hasivu-warehouse/prod --month 2025-03

or run it locally against a running Ray (``--address auto``) or embedded
(``--address none``).  The output rows are ingested under the producer id
``school-month-revenue/<month>``, so re-running the job for the same month
(after a crash, or twice by mistake) adds nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

import pyarrow as pa

OUTPUT_SCHEMA = pa.schema(
    [
        ("month", pa.date32()),
        ("school_id", pa.int32()),
        ("revenue", pa.float64()),
        ("orders", pa.int64()),
    ]
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="auto", help='Ray address, or "none" for embedded')
    parser.add_argument("--data-dir", default=None, help="warehouse location (default: settings)")
    parser.add_argument("--month", default="2025-03", help="YYYY-MM to aggregate")
    parser.add_argument(
        "--sample-orders",
        type=int,
        default=0,
        help="generate this many orders if 'orders' is missing",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Aggregate one month of paid orders per school and append it to ``school_month_revenue``."""
    import hasivu_compute as hc

    args = parse_args(argv)
    first = dt.date.fromisoformat(f"{args.month}-01")
    after = (first + dt.timedelta(days=32)).replace(day=1)
    address = None if args.address == "none" else args.address
    with hc.connect(address=address, data_dir=args.data_dir) as c:
        if "orders" not in c.tables():
            if not args.sample_orders:
                print("no 'orders' table; pass --sample-orders N to generate one", file=sys.stderr)
                return 2
            from hasivu_compute.datagen import ORDERS_SCHEMA, iter_orders

            c.create_table("orders", ORDERS_SCHEMA, partition_by=[("school_id", "bucket[16]")])
            c.ingest("orders", iter_orders(args.sample_orders), producer_id="sample-orders")
        monthly = (
            c.table("orders")
            .filter(
                (hc.col("status") == "paid")
                & (hc.col("meal_date") >= first)
                & (hc.col("meal_date") < after)
            )
            .group_by("school_id")
            .agg(hc.col("amount").sum().alias("revenue"), hc.count().alias("orders"))
            .to_arrow()
        )
        month = pa.array([first] * monthly.num_rows, pa.date32())
        rows = monthly.add_column(0, "month", month).select(OUTPUT_SCHEMA.names)
        c.create_table("school_month_revenue", OUTPUT_SCHEMA, if_not_exists=True)
        result = c.ingest(
            "school_month_revenue",
            rows.cast(OUTPUT_SCHEMA),
            producer_id=f"school-month-revenue/{args.month}",
        )
        status = "already written" if result.duplicate else f"wrote {result.rows} rows"
        print(f"{args.month}: {monthly.num_rows} schools, {status} (version {result.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
