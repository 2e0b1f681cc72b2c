"""One local Ray instance for the whole integration session.

Started once with 2 CPUs and no dashboard; tests/conftest.py has already put
RAY_AUTH_MODE and RAY_USAGE_STATS_ENABLED=0 in os.environ, so Ray's own
processes inherit them, and the same values go into the job's runtime_env for
workers.  ``ray.shutdown()`` at the end stops every process ``ray.init``
started.  Tests that need a Ray of their own (the multi-node cluster) run it in
a subprocess they stop by pid.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
import pytest


def _env() -> dict[str, str]:
    return {
        "RAY_AUTH_MODE": os.environ["RAY_AUTH_MODE"],
        "RAY_USAGE_STATS_ENABLED": os.environ["RAY_USAGE_STATS_ENABLED"],
    }


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """The session's Ray instance (2 CPUs, no dashboard)."""
    import ray

    from hasivu_compute.runtime.cluster import EMBEDDED_SYSTEM_CONFIG

    assert os.environ.get("RAY_USAGE_STATS_ENABLED") == "0"
    ray.init(
        _system_config=EMBEDDED_SYSTEM_CONFIG,
        address="local",
        num_cpus=2,
        include_dashboard=False,
        namespace="hasivu",
        runtime_env={"env_vars": _env()},
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def module_conn(ray_session: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One connection per test module (2 shards, 2 ingest actors) on the session's Ray.

    Actor processes are the expensive part of a test on 2 cores, so a module
    shares them; each test still starts from an empty warehouse (see ``conn``).
    """
    from hasivu_compute.sdk import connect

    c = connect(data_dir=tmp_path_factory.mktemp("data"), num_shards=2, num_ingest_actors=2)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def conn(module_conn: object) -> Iterator[object]:
    """The module's connection, emptied after the test (every table dropped)."""
    yield module_conn
    for name in module_conn.tables():  # type: ignore[attr-defined]
        module_conn.drop_table(name)  # type: ignore[attr-defined]


ORDERS_SMALL = pa.schema(
    [
        ("order_id", pa.int64()),
        ("school_id", pa.int32()),
        ("amount", pa.float64()),
        ("status", pa.string()),
    ]
)


def small_orders(n: int, start: int = 0) -> pa.Table:
    """Deterministic small orders: school = id % 20, amount = id % 100."""
    import numpy as np

    ids = np.arange(start, start + n, dtype=np.int64)
    return pa.table(
        {
            "order_id": ids,
            "school_id": (ids % 20).astype(np.int32),
            "amount": (ids % 100).astype(np.float64),
            "status": np.where(ids % 7 == 0, "refunded", "paid"),
        },
        schema=ORDERS_SMALL,
    )


@pytest.fixture
def orders_schema() -> pa.Schema:
    """Schema of :func:`small_orders`."""
    return ORDERS_SMALL


@pytest.fixture
def make_orders():
    """The :func:`small_orders` helper (importlib mode makes conftest imports awkward)."""
    return small_orders
