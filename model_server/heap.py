"""Giving freed memory back to the system during long batches.

Decoded photos are large buffers (9 MB for a 3-megapixel frame) allocated and freed on several
threads. glibc keeps such freed memory in its heaps once its adaptive mmap threshold has grown
past their size, and over thousands of photos the heaps fragment: peak RSS grew by tens of KB per
photo with nothing held. `malloc_trim(0)` every few dozen photos returns the free pages; where
glibc is not the C library this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

TRIM_EVERY = 32  # images between trims: a trim costs about a millisecond


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def give_back_free_memory() -> bool:
    """Returns freed heap pages to the system; False where the C library cannot."""
    trim = _malloc_trim()
    return bool(trim and trim(0))
