"""Keep the memory a render frees for the next render instead of giving it back to the kernel.

A render allocates and frees a few large buffers per variant: the cairo surface (5.5 MiB for a
1200 px card, 64 MiB at the spec's 4096 px limit), its copy, the RGB image and its smaller
renditions, the encoders' buffers. By default glibc hands large freed blocks back to the kernel
(unmapping them, or trimming the heap's top), and the next variant's buffers are fresh pages
that the kernel maps and zeroes one by one: about 3,400 page faults per variant of the bench
catalog, a sixth of a worker's CPU time spent in the kernel (`make bench`). With both
thresholds above the largest buffer, freed memory stays in the heap for the next variant (about
70 faults per variant); a worker's resident memory stays at its peak (about 90 MiB for a
1200 px card) instead of returning to it every variant.
"""

from __future__ import annotations

import ctypes
import functools
import platform

# mallopt parameters, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Above the largest buffer a render allocates: a 4096 x 4096 ARGB surface, 64 MiB.
MMAP_THRESHOLD_BYTES = 80 * 1024 * 1024
# Enough free heap to hold every buffer of the largest render before any of it is trimmed.
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024


@functools.cache
def keep_freed_memory() -> bool:
    """Tune this process's allocator for repeated renders; False where it is not glibc's.

    Process-wide, so only for processes that render: the pool's workers, and the run process
    when it renders in-process. Once per process is enough.
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    # Setting the mmap threshold also stops glibc adjusting it (and the trim threshold) itself.
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
