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
import functools
import os

from numkeras import config

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


class WorkingMemoryError(MemoryError):
    """An op would need a working buffer larger than ``config.max_working_bytes()``;
    ``layer`` names the layer whose call it was, once a layer has added its name."""

    def __init__(self, message: str, layer: str | None = None):
        super().__init__(message)
        self.layer = layer


def working_budget() -> int:
    """Bytes one working buffer may take: ``config.max_working_bytes()``, by default half of
    the physical memory (so a hostile or mistaken shape fails with a clear error instead of
    driving the machine into swap or the OOM killer)."""
    chosen = config.max_working_bytes()
    return _half_the_memory() if chosen is None else chosen


@functools.lru_cache(maxsize=None)
def _half_the_memory() -> int:
    """Half the physical memory, asked of the system once (a conv call checks its budget)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows): 4 GiB
        return 4 << 30


def batch_chunk(total_bytes: int, samples: int, what, split: bool) -> int:
    """How many samples one call may take so that its working buffer of ``total_bytes`` (for
    ``samples`` samples) stays within the budget: ``samples`` when it fits; fewer when
    ``split`` allows cutting the batch (inference); else a :class:`WorkingMemoryError` that
    names ``what()`` (called only then: the description is built on failure) and the sizes."""
    budget = working_budget()
    if total_bytes <= budget:
        return samples
    per_sample = -(-total_bytes // max(1, samples))
    if split and per_sample <= budget:
        return max(1, budget // per_sample)
    advice = ("a smaller batch size" if per_sample <= budget else
              "smaller inputs, a larger stride or fewer channels")
    raise WorkingMemoryError(
        f"{what()} needs a working buffer of {_size(total_bytes)} for {samples} sample(s) "
        f"({_size(per_sample)} per sample), above the budget of {_size(budget)} "
        f"(numkeras.config.set_max_working_bytes). Use {advice}, or raise the budget if the "
        f"machine has the memory.")


def _size(nbytes: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"
