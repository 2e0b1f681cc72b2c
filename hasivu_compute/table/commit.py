"""Optimistic commits: check requirements, apply updates, publish put-if-absent, rebase.

Nothing is locked. A committer reads the latest snapshot N, builds N+1 from its
update records, and publishes ``vN+1.json`` with put-if-absent. If another
committer published N+1 first, the put fails; the committer reloads the latest
snapshot, re-checks its requirements there (a failed requirement is a real
conflict: :class:`CommitConflictError`) and tries again on top of it, a bounded
number of times with jittered backoff.
"""

from __future__ import annotations

import dataclasses
import random
import time
import uuid
from collections.abc import Sequence

from hasivu_compute._core.errors import CommitConflictError, FileExistsConflict
from hasivu_compute.table.manifest import ManifestStore
from hasivu_compute.table.metadata import Snapshot
from hasivu_compute.table.updates import Requirement, Update, apply_all, check

DEFAULT_MAX_ATTEMPTS = 25


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def next_snapshot(base: Snapshot, updates: Sequence[Update]) -> Snapshot:
    """The snapshot one version after ``base`` with ``updates`` applied (pure but for the clock)."""
    draft = dataclasses.replace(
        base,
        version=base.version + 1,
        parent=base.version,
        # Keep timestamps increasing along the version chain even if clocks step back.
        timestamp_ms=max(now_ms(), base.timestamp_ms + 1),
        # Unique per attempt: ``ManifestStore.publish`` takes a version file holding exactly
        # its own bytes as its own lost-reply write, so two committers making the same
        # change in the same millisecond must still differ (else both would "succeed").
        summary={"commit-id": uuid.uuid4().hex},
    )
    return apply_all(updates, draft)


def commit(
    store: ManifestStore,
    updates: Sequence[Update],
    requirements: Sequence[Requirement],
    *,
    base: Snapshot | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Snapshot:
    """Publish ``updates`` as the next version, rebasing on concurrent commits.

    Args:
        store: the table's manifests.
        updates: changes to make.
        requirements: must hold on the snapshot the changes are applied to.
        base: the snapshot the caller planned against (default: the latest).
        max_attempts: publishes to try before giving up.

    Returns:
        The published snapshot.

    Raises:
        CommitConflictError: a requirement failed, or every attempt lost the race.
    """
    current = base if base is not None else store.latest()
    for attempt in range(max_attempts):
        for requirement in requirements:
            check(requirement, current)
        candidate = next_snapshot(current, updates)
        try:
            return store.publish(candidate)
        except FileExistsConflict:
            if attempt + 1 < max_attempts:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            current = store.latest()
    raise CommitConflictError(
        f"table {store.table_name!r}: gave up after {max_attempts} attempts; "
        f"other committers kept publishing first (latest version {current.version})"
    )
