"""Waiting for actor calls in slices, so a wait can always be interrupted.

A plain ``ray.get`` blocks inside Ray's C++ core: Ctrl-C is not seen until it
returns, and a call whose actor will never answer (its Ray was shut down under
it) waited forever. Waiting in short slices returns to the interpreter between
them, so Ctrl-C raises ``KeyboardInterrupt`` within a slice, and the caller's
``alive`` check (is the connection still open, is Ray still up?) runs too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ray
from ray.exceptions import GetTimeoutError

SLICE_S = 0.5


def get(
    ref: Any, *, timeout_s: float | None = None, alive: Callable[[], None] | None = None
) -> Any:
    """``ray.get(ref)``, waited for in slices (see the module docstring).

    Raises:
        GetTimeoutError: ``timeout_s`` passed first.
        whatever ``alive`` raises (a closed connection), or the call's own error.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        wait = SLICE_S if deadline is None else max(0.0, min(SLICE_S, deadline - time.monotonic()))
        try:
            return ray.get(ref, timeout=wait)
        except GetTimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                raise
            if alive is not None:
                alive()


__all__ = ["SLICE_S", "get"]
