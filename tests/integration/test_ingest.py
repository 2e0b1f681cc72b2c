"""Ingest through the actors: exactly once, validated, streamed."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hasivu_compute._core.errors import HasivuError, SchemaMismatchError

pytestmark = pytest.mark.integration


def _stored(conn, name: str) -> pa.Table:
    """What the table's segment files hold once every acknowledged small call is flushed."""
    from hasivu_compute.runtime.coordinator import open_catalog

    conn.flush(name)
    return open_catalog(conn.data_dir).load_table(name).read()


def test_ingest_table_then_retry_with_same_producer_adds_nothing(
    conn, orders_schema, make_orders
) -> None:
    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    data = make_orders(10_000)
    first = conn.ingest("orders", data, producer_id="pos-7", batch_rows=2_000)
    assert (first.rows, first.duplicate) == (10_000, False)
    again = conn.ingest("orders", data, producer_id="pos-7", batch_rows=3_000)
    assert (again.rows, again.duplicate, again.duplicate_rows) == (0, True, 10_000), (
        "a retried call must write nothing, however it is batched"
    )
    assert again.lsn == first.lsn is not None, "the log record that holds the first call"
    stored = _stored(conn, "orders")
    assert stored.num_rows == 10_000
    assert sorted(stored.column("order_id").to_pylist()) == list(range(10_000))


def test_stream_of_batches_and_pandas(conn, orders_schema, make_orders) -> None:
    conn.create_table("orders", orders_schema)
    stream = (make_orders(1_000, start=i * 1_000).to_batches()[0] for i in range(6))
    result = conn.ingest("orders", stream, producer_id="stream")
    assert result.rows == 6_000 and result.batches == 6
    pdf = make_orders(500, start=6_000).to_pandas()
    assert conn.ingest("orders", pdf).rows == 500
    assert _stored(conn, "orders").num_rows == 6_500


def test_bad_batch_is_rejected_whole_naming_column_and_row(
    conn, orders_schema, make_orders
) -> None:
    conn.create_table("orders", orders_schema)
    good = make_orders(100)
    bad = make_orders(100, start=100).to_pydict()
    bad["amount"] = [str(a) for a in bad["amount"]]
    bad["amount"][41] = "twelve"
    bad_table = pa.table(bad)
    with pytest.raises(HasivuError) as info:
        conn.ingest("orders", [good, bad_table], producer_id="feed")
    assert isinstance(info.value, SchemaMismatchError | ValueError | TypeError)
    assert "amount" in str(info.value)
    assert "batch 1" in str(info.value) and "nothing of this call was committed" in str(info.value)
    assert _stored(conn, "orders").num_rows == 0, "a call is all or nothing"
    # one big table with a bad row is rejected as a whole before any slice is written
    whole = pa.concat_tables([make_orders(5_000, start=1_000).cast(bad_table.schema), bad_table])
    with pytest.raises(HasivuError) as info:
        conn.ingest("orders", whole, batch_rows=1_000)
    assert "amount" in str(info.value) and "5041" in str(info.value), str(info.value)
    assert info.value.row == 5041
    assert _stored(conn, "orders").num_rows == 0


def test_producers_reusing_their_ids_across_calls_lose_nothing(
    conn, orders_schema, make_orders
) -> None:
    """The data-loss report: POS producers, each sending many calls under its stable id.
    Before ingest keys, 8,000 of 320,000 rows landed and no call raised."""
    import threading

    from hasivu_compute._core.errors import IngestKeyConflictError

    conn.create_table("orders", orders_schema, partition_by=[("school_id", "bucket[4]")])
    producers, calls, rows = 4, 6, 500
    errors: list[BaseException] = []

    def send(p: int) -> None:
        try:
            for seq in range(calls):
                start = (p * calls + seq) * rows
                r = conn.ingest("orders", make_orders(rows, start=start), f"pos-{p}", sequence=seq)
                assert (r.rows, r.duplicate) == (rows, False)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(p,)) for p in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    expected = producers * calls * rows
    ids = _stored(conn, "orders").column("order_id").to_pylist()
    assert sorted(ids) == list(range(expected)), "every call of every producer, once"

    retry = conn.ingest(
        "orders", make_orders(rows, start=3 * rows), "pos-0", sequence=3, batch_rows=128
    )
    assert (retry.rows, retry.duplicate, retry.duplicate_rows) == (0, True, rows)
    with pytest.raises(IngestKeyConflictError) as info:
        conn.ingest("orders", make_orders(rows, start=10**6), "pos-0", sequence=3)
    assert info.value.sequence == 3 and "other data" in str(info.value)
    with pytest.raises(IngestKeyConflictError):  # the README's one-off form, reused
        conn.ingest("orders", make_orders(10, start=2 * 10**6), "pos-1")
    assert conn.sql("SELECT count(*) AS n FROM orders").column("n").to_pylist() == [expected]
