"""Fixtures for table tests: a local catalog and an orders-like table."""

from __future__ import annotations

from pathlib import Path

import pytest

from hasivu_compute.storage.fileio import FileIO
from hasivu_compute.table.catalog import Catalog

from .helpers import ORDERS, PARTITION_BY


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(FileIO.from_uri(str(tmp_path / "warehouse")))


@pytest.fixture
def orders(catalog: Catalog):
    return catalog.create_table("orders", ORDERS, partition_by=PARTITION_BY)
