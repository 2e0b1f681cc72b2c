"""Current snapshots from memory: unchanged tables cost two tiny reads, changes show at once."""

from __future__ import annotations

import pyarrow as pa

from hasivu_compute.table.catalog import Catalog
from hasivu_compute.table.current import CurrentSnapshots
from hasivu_compute.table.manifest import ManifestStore

from .helpers import ORDERS, PARTITION_BY, forget_parsed_manifests, make_orders


def test_unchanged_table_is_answered_from_memory(catalog: Catalog, orders, monkeypatch) -> None:
    orders.append(make_orders(50))
    view = CurrentSnapshots(catalog)
    first = view.current("orders")
    loads = []
    real = ManifestStore.load
    monkeypatch.setattr(ManifestStore, "load", lambda self, v: loads.append(v) or real(self, v))
    assert view.current("orders") is first
    assert not loads, "an unchanged manifest must not be read again"


def test_a_new_commit_is_seen_by_the_next_lookup(catalog: Catalog, orders) -> None:
    view = CurrentSnapshots(catalog)
    before = view.snapshot("orders")
    orders.append(make_orders(30))
    after = view.snapshot("orders")
    assert after.version == before.version + 1
    assert sum(f.num_rows for f in after.data_files) == 30


def test_a_schema_change_is_seen_by_the_next_lookup(catalog: Catalog, orders) -> None:
    view = CurrentSnapshots(catalog)
    assert "note" not in view.arrow_schema("orders").names
    orders.add_column("note", pa.string())
    assert "note" in view.arrow_schema("orders").names


def test_a_recreated_table_at_the_same_version_is_not_confused(catalog: Catalog, orders) -> None:
    view = CurrentSnapshots(catalog)
    old = view.current("orders")
    catalog.drop_table("orders")
    assert view.arrow_schema("orders") is None, "a dropped table is gone at once"
    catalog.create_table("orders", pa.schema([("x", pa.int64())]))  # version 1 again
    fresh = view.current("orders")
    assert fresh.key[0] == old.key[0] and fresh.key != old.key
    assert fresh.arrow_schema.names == ["x"]


def test_missing_table_has_no_schema(catalog: Catalog) -> None:
    assert CurrentSnapshots(catalog).arrow_schema("nope") is None


def test_published_manifest_reads_back_equal(catalog: Catalog) -> None:
    """publish() seeds the content cache; what it serves must equal a real decode."""
    from hasivu_compute.table import manifest

    table = catalog.create_table("t", ORDERS, partition_by=PARTITION_BY)
    table.append(make_orders(20))
    snap = table.snapshot()
    data = table.io.read_bytes(manifest.version_path(snap.version))
    body = data[len(manifest._PREFIX) + 16 + len(manifest._MIDDLE) : -1]
    from hasivu_compute.table.manifest_files import resolve

    forget_parsed_manifests()  # a real decode: the manifest files too, not the seeded cache
    decoded = resolve(table.io, manifest._parse_body(body, "x"))
    assert decoded.data_files is not snap.data_files
    assert decoded == snap
