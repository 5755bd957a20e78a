"""Keep big buffers in the heap instead of mapping and unmapping them on every allocation.

glibc serves allocations above its mmap threshold (128 KiB until it adapts) with fresh ``mmap``
pages and gives them back on free, so a process that handles 4 MiB packets, 1 MiB cipher blocks
or fragments faults every page in again for each one: measured here, that halves the speed of
signed bulk transfers. The engine raises the threshold and lets the heap keep some free memory
at its top instead. The numbers bound what this can cost: buffers up to 32 MiB come from the
heap, and at most 64 MiB of free heap is kept before it is trimmed.

On anything but glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import sys

MIB = 1024 * 1024
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

DEFAULTS = {M_MMAP_THRESHOLD: 32 * MIB, M_TRIM_THRESHOLD: 64 * MIB, M_TOP_PAD: 16 * MIB}


def tune_malloc(settings: dict[int, int] | None = None) -> bool:
    """Apply the settings through ``mallopt``; False when this is not a glibc process."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in (settings or DEFAULTS).items())
