"""``hc.connect(data_dir="s3://...")``: actors in other processes share tables on S3 (moto server)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_options() -> Iterator[dict[str, Any]]:
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        boto3.client(
            "s3",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).create_bucket(Bucket="warehouse")
        yield {
            "endpoint_override": f"{host}:{port}",
            "scheme": "http",
            "access_key": "testing",
            "secret_key": "testing",
            "region": "us-east-1",
        }
    finally:
        server.stop()


def test_ingest_and_query_on_s3(ray_session: None, s3_options, orders_schema, make_orders) -> None:
    from hasivu_compute.expr import col, count
    from hasivu_compute.sdk import connect

    with connect(data_dir="s3://warehouse/prod", storage_options=s3_options, num_shards=2) as c:
        c.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
        first = c.ingest("orders", make_orders(8_000), producer_id="s3-feed", batch_rows=4_000)
        again = c.ingest("orders", make_orders(8_000), producer_id="s3-feed", batch_rows=4_000)
        assert (first.rows, again.rows) == (8_000, 0)
        got = c.table("orders").group_by("status").agg(count().alias("n")).sort("status")
        assert got.to_arrow().to_pydict() == {"status": ["paid", "refunded"], "n": [6_857, 1_143]}
        assert c.table("orders").filter(col("school_id") == 3).count() == 400
        assert c.tables() == ["orders"]
