"""Keep freed memory in the process between training steps (glibc only).

By default glibc returns large freed blocks (over 128 KiB, e.g. a convolution's im2col
matrix) to the operating system at once, so the next step faults the same pages in again; on a
virtual machine that cost about a third of a small CNN's step (benchmarks/bench_conv.py). The
first ``fit``/``evaluate``/``predict`` therefore raises glibc's mmap and trim thresholds, the way
PyTorch's caching allocator keeps its blocks. Peak memory is unchanged; memory the process freed
may stay mapped to it. ``numkeras.config.set_keep_freed_memory(False)`` before training turns
this off. Elsewhere (macOS, musl, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
_applied = [False]


def keep_freed_memory() -> bool:
    """Apply the thresholds once per process; True if glibc accepted them."""
    if _applied[0]:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    accepted = bool(mallopt(_M_TRIM_THRESHOLD, 1 << 30) and mallopt(_M_MMAP_THRESHOLD, 1 << 28))
    _applied[0] = accepted
    return accepted
