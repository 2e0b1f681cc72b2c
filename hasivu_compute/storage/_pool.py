"""One shared thread pool for block encode/decode.

zstd (de)compression and most numpy kernels release the GIL, so column blocks
encode and decode in parallel threads without extra processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """The process-wide storage pool (created on first use, one thread per CPU)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="hc-storage")
    return _pool


def run_all(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``tasks`` (in parallel when more than one) and return results in order.

    Every task runs to completion before the first exception (in task order) is
    re-raised, so no work is left running in the background.
    """
    if len(tasks) <= 1:
        return [task() for task in tasks]
    futures = [pool().submit(task) for task in tasks]
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]
