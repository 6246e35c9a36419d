"""The number of threads NumPy's BLAS uses for matrix products, and why numkeras holds it at one
inside ``fit``/``evaluate``/``predict``.

OpenBLAS rounds a product differently on one thread and on two (it splits the sums), and its
thread count is one setting for the whole process. numkeras used to switch it per product by
size (one thread for small products, all for large ones); with two threads calling ``predict``
on one model, each switched the setting under the other's products, and the results were no
longer the bits of a single-threaded call (issue 15). So inside a :func:`managed` region BLAS
always runs on one thread, a setting every region wants alike, and the cores are used by
splitting the batch instead (:mod:`numkeras.backprop.parallel`: large element-wise work and
large products run part by part on worker threads, one BLAS thread each, which is as fast as
one product on all BLAS threads and leaves no BLAS threads spinning). The bits of a call then
depend on its inputs and ``numkeras.config.blas_threads()`` only, never on timing or on what
other threads do.

The setting is changed when the first region of the process begins and restored when the last
one ends (regions in several threads overlap freely); outside them it is the process's own.
Small products (a batch of 32 through Dense(128)) ran on one thread before as well: waking a
second BLAS thread for them costs more than it saves, and on a busy 2-core machine OpenBLAS's
spinning threads made such a training step ten times slower (0.9 ms vs 9.9 ms).

The thread count is set through OpenBLAS's own C function (found in the loaded library, as
threadpoolctl does); where none is found (another BLAS, another OS) nothing is changed and
nothing is split, which is just as deterministic.

>>> with blas_threads(1):
...     pass
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading

_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads_64_", "openblas_set_num_threads64_",
            "MKL_Set_Num_Threads")
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads_64_", "openblas_get_num_threads64_",
            "MKL_Get_Max_Threads")
_controls: list | None = None
SMALL_PRODUCT = 1 << 24  # multiply-adds; from here a product is worth splitting over the cores
_regions = {"count": 0, "baseline": None}  # all threads' regions, under _regions_lock
_regions_lock = threading.Lock()
_local = threading.local()  # this thread's region: depth (nesting) and parts


def _after_fork_in_child() -> None:
    # The child has only the thread that forked: its region, if any, is the only one left.
    global _regions_lock
    _regions_lock = threading.Lock()
    _regions["count"] = 1 if getattr(_local, "depth", 0) else 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _loaded_blas_paths() -> list[str]:
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return []
    paths = {line.split()[-1] for line in lines if "/" in line}
    return sorted(p for p in paths if "openblas" in p.lower() or "libmkl_rt" in p.lower())


def _find(library, names):
    for name in names:
        function = getattr(library, name, None)
        if function is not None:
            return function
    return None


def _blas_controls() -> list:
    """(getter, setter) pairs of every BLAS library loaded in this process."""
    global _controls
    if _controls is None:
        import numpy  # noqa: F401 - make sure NumPy's BLAS is loaded before looking

        found = []  # filled before it is published: another thread never sees half of it
        for path in _loaded_blas_paths():
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            getter, setter = _find(library, _GETTERS), _find(library, _SETTERS)
            if getter is not None and setter is not None:
                found.append((getter, setter))
        _controls = found
    return _controls


def get_blas_threads() -> int | None:
    """Threads the first loaded BLAS uses, or None if it cannot be told."""
    controls = _blas_controls()
    return int(controls[0][0]()) if controls else None


def set_blas_threads(count: int) -> int | None:
    """Set every loaded BLAS to ``count`` threads; returns the previous count (or None)."""
    previous = get_blas_threads()
    for _, setter in _blas_controls():
        setter(int(count))
    return previous


@contextlib.contextmanager
def blas_threads(count: int | None):
    """Run the block with ``count`` BLAS threads (None: leave the setting alone)."""
    if count is None:
        yield
        return
    previous = set_blas_threads(count)
    try:
        yield
    finally:
        if previous is not None:
            set_blas_threads(previous)


@contextlib.contextmanager
def managed(large_threads: int | None):
    """Run the block with BLAS on one thread and large work split over ``large_threads``
    parts (None: as many as the BLAS library's own setting); restore the setting after.

    Regions may run in several threads at once and nest; a nested region keeps the outer
    one's settings. Every region holds BLAS at one thread, so no region changes what another
    computes.
    """
    if getattr(_local, "depth", 0):
        _local.depth += 1
        try:
            yield
        finally:
            _local.depth -= 1
        return
    with _regions_lock:
        if _regions["count"] == 0:
            _regions["baseline"] = get_blas_threads()
            if _regions["baseline"] is not None:
                set_blas_threads(1)
        _regions["count"] += 1
        baseline = _regions["baseline"]
    _local.depth = 1
    _local.parts = None if baseline is None else (large_threads or baseline)
    try:
        yield
    finally:
        _local.depth, _local.parts = 0, None
        with _regions_lock:
            _regions["count"] -= 1
            if _regions["count"] == 0 and _regions["baseline"] is not None:
                set_blas_threads(_regions["baseline"])


def large_product_threads() -> int | None:
    """Into how many parts this thread's managed region splits large work (the threads that
    work on it, one BLAS thread each); None outside a region or without a controllable BLAS."""
    return getattr(_local, "parts", None) if getattr(_local, "depth", 0) else None


def for_product(multiply_adds: int) -> None:
    """Kept for callers written when products switched the thread count; does nothing now
    (inside a managed region BLAS stays on one thread, see the module docstring)."""
