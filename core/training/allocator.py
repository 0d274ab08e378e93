"""How the C allocator keeps memory that training frees: :func:`keep_freed_memory`.

A training allocates and frees the same large activation tensors (megabytes each) every batch.
glibc hands blocks above its mmap threshold straight back to the system and trims the heap's top
above ``M_TRIM_THRESHOLD``; Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``,
so in a worker every batch maps and faults in fresh pages (measured: 2.6 million page faults and
0.20 s instead of 0.12 s per member-epoch of the pure network on one thread). Raising both
thresholds keeps those blocks in the heap for the next batch. The heap still shrinks once more
than ``TRIM`` bytes at its top are free, and blocks above ``MMAP`` still go back at once.
"""
from __future__ import annotations

import ctypes
import sys

#: blocks up to this size come from the heap and are reused (glibc's M_MMAP_THRESHOLD)
MMAP = 64 * 2 ** 20
#: free memory at the heap's top kept before it is returned (glibc's M_TRIM_THRESHOLD)
TRIM = 256 * 2 ** 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_DONE: list[bool] = []


def keep_freed_memory() -> bool:
    """Set glibc's thresholds once per process (True when set; False elsewhere, e.g. macOS or
    Windows, whose allocators need nothing)."""
    if _DONE:
        return _DONE[0]
    ok = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
            ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM))
        except (OSError, AttributeError):  # another C library (musl): leave it as it is
            ok = False
    _DONE.append(ok)
    return ok
