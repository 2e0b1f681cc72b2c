"""Keep freed memory in the C heap for reuse instead of handing it back to the kernel at once.

Why: block decoding allocates and frees many short-lived buffers of a few hundred
KiB (zstd output, numpy temporaries). With glibc's defaults such buffers are
mmap'd or trimmed off the heap top when freed, so every next allocation page-faults
all its pages again, and page faults are expensive in a VM. Measured on the 2-core
development VM, single-thread decode of TPC-H SF1 ``l_shipdate``: 151 ms with the
defaults, 82 ms with these thresholds (``l_extendedprice``: 100 -> 80 ms); either
threshold alone helps nothing, both are needed.

The cost: up to :data:`TRIM_THRESHOLD` bytes of freed memory may stay in the
process, and allocations below :data:`MMAP_THRESHOLD` come from the heap.
``HASIVU_MALLOC_TUNING=0`` turns this off; it is a no-op off glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

# mallopt(3) parameter numbers from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20  # glibc's own upper bound for its adaptive threshold
TRIM_THRESHOLD = 128 << 20

_applied: bool | None = None


def enabled_by_environment() -> bool:
    """The ``malloc_tuning`` setting (``HASIVU_MALLOC_TUNING=0`` turns the tuning off)."""
    from hasivu_compute._core.config import load_settings

    return load_settings().malloc_tuning


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when they are in effect.

    Safe to call many times and from any thread; does nothing (returns False) on
    a non-glibc C library or when disabled by the environment.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not enabled_by_environment() or platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = int(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) == 1
    ok = int(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) == 1 and ok
    _applied = ok
    return ok
