"""Starting, joining and leaving Ray, with one set of environment settings.

Every process we start (the local Ray instance, its workers, our actors) must
agree on ``RAY_AUTH_MODE`` (a mismatch makes actor creation fail) and never
phone home (``RAY_USAGE_STATS_ENABLED=0``).  The variables are set in this
process before Ray starts, so raylet/GCS inherit them, and passed again in the
job's ``runtime_env`` so workers on other nodes see the same values.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import ray

from hasivu_compute._core.config import Settings
from hasivu_compute._core.errors import ClusterError

NAMESPACE = "hasivu"

# Ray settings of an embedded instance. Arguments and results up to 1 MiB travel inline in
# the actor call instead of through the object store: a small ingest call (one or a few
# 1,000-row batches of orders, ~80 KB each as Arrow IPC) went from ~3.0 to ~1.8 ms per
# round trip. A cluster started with `ray start` sets its own (cluster/README.md).
EMBEDDED_SYSTEM_CONFIG: dict[str, object] = {"max_direct_call_object_size": 1 << 20}


def ray_env_vars(settings: Settings) -> dict[str, str]:
    """The environment every Ray process of ours runs with."""
    return {
        "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", settings.ray_auth_mode),
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def apply_env(settings: Settings) -> dict[str, str]:
    """Set the Ray environment in this process (before ``ray.init``) and return it."""
    env = ray_env_vars(settings)
    os.environ.update(env)
    return env


@dataclass(slots=True)
class RayHandle:
    """What ``start_or_join`` did, so that ``leave`` undoes exactly that.

    Attributes:
        started: this connection's ``start_or_join`` called ``ray.init`` (Ray is shut
            down when the last connection of the process leaves, not necessarily this one).
        address: the cluster address, for messages.
        mode: "embedded" (a local instance we started), "joined" (already
            initialised in this process) or "cluster" (an address was given).
    """

    started: bool
    address: str
    mode: str


# Connections of this process using Ray, and whether one of them started it: Ray stays up
# until the last of them closes, whichever one started it (closing the first connection of
# a notebook used to shut Ray down under the others, whose calls then hung forever).
_USERS = 0
_STARTED = False
_MODE = "joined"  # how the Ray of this process was reached by the connection that started it
_LOCK = threading.Lock()


def start_or_join(
    address: str | None, settings: Settings, num_cpus: int | None = None
) -> RayHandle:
    """Connect this process to Ray: reuse, join ``address``, or start a local instance.

    Args:
        address: None for the embedded default (start a local instance unless
            ``RAY_ADDRESS`` names one), or "auto" / "host:port" / "ray://host:port".
        settings: engine settings (for the auth mode).
        num_cpus: CPUs of a locally started instance (None = all).

    Raises:
        ClusterError: the cluster at ``address`` cannot be reached.
    """
    global _USERS, _STARTED, _MODE
    with _LOCK:
        env = apply_env(settings)
        if ray.is_initialized():
            _USERS += 1
            mode = _MODE if _STARTED else "joined"
            return RayHandle(started=False, address=_current_address(), mode=mode)
        handle = _start(address, settings, num_cpus, env)
        _USERS += 1
        _STARTED, _MODE = True, handle.mode
        return handle


def _start(
    address: str | None, settings: Settings, num_cpus: int | None, env: dict[str, str]
) -> RayHandle:
    runtime_env = {"env_vars": env}
    try:
        if address is None and not os.environ.get("RAY_ADDRESS"):
            ray.init(
                address="local",
                num_cpus=num_cpus,
                include_dashboard=settings.ray_dashboard,
                dashboard_host="127.0.0.1",
                namespace=NAMESPACE,
                runtime_env=runtime_env,
                log_to_driver=False,
                configure_logging=False,
                _system_config=EMBEDDED_SYSTEM_CONFIG,
            )
            mode = "embedded"
        else:
            ray.init(
                address=address,
                namespace=NAMESPACE,
                runtime_env=runtime_env,
                log_to_driver=False,
            )
            mode = "cluster"
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(
            f"could not connect to Ray at {address or os.environ.get('RAY_ADDRESS')!r}: {exc}; "
            "check the address, or call hc.connect() without one for a local instance"
        ) from exc
    return RayHandle(started=True, address=_current_address(), mode=mode)


def leave(handle: RayHandle) -> None:
    """A connection is done with Ray: shut it down if it was the last user of a Ray that a
    connection of this process started (a Ray the user started is left alone)."""
    global _USERS, _STARTED
    with _LOCK:
        _USERS = max(0, _USERS - 1)
        if _USERS == 0 and _STARTED:
            _STARTED = False
            if ray.is_initialized():
                ray.shutdown()


def users() -> int:
    """Connections of this process currently using Ray."""
    with _LOCK:
        return _USERS


def _current_address() -> str:
    try:
        return str(ray.get_runtime_context().gcs_address)
    except Exception:  # Ray client contexts have no gcs address
        return "ray-client"


def cluster_cpus() -> int:
    """CPUs in the connected cluster (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
