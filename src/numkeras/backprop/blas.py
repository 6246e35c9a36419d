"""The number of threads NumPy's BLAS uses for matrix products.

Small products (a batch of 32 through Dense(128)) finish in microseconds; waking a second BLAS
thread for them costs more than it saves, and on a busy 2-core machine OpenBLAS's spinning
threads made such a training step ten times slower (measured: 0.9 ms vs 9.9 ms). Large
products (predict on 10,000 images, convolutions) run twice as fast on two threads. So inside
``fit``/``evaluate``/``predict`` (a :func:`managed` region) each primitive calls
:func:`for_product` with the size of its matrix product, which picks one thread below
``SMALL_PRODUCT`` multiply-adds and ``numkeras.config.blas_threads()`` above. Outside those
regions, and after them, the process's own setting is left as it was.

The choice depends on the product's size only, never on timings: OpenBLAS rounds a product
differently on one thread and on two (it splits the sums), so a choice made by timing would
make two runs with the same seed differ. On an idle machine two threads would make a batch-32
step about 8% faster; determinism and robustness on a busy machine come first.

The thread count is set through OpenBLAS's own C function (found in the loaded library, as
threadpoolctl does); where none is found (another BLAS, another OS) the calls do nothing.

>>> with blas_threads(1):
...     pass
"""

from __future__ import annotations

import contextlib
import ctypes

_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads_64_", "openblas_set_num_threads64_",
            "MKL_Set_Num_Threads")
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads_64_", "openblas_get_num_threads64_",
            "MKL_Get_Max_Threads")
_controls: list | None = None
SMALL_PRODUCT = 1 << 24  # multiply-adds; below this one thread is faster (docs/benchmarks.md)
_managed = {"active": False, "large": None, "current": None}


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

        _controls = []
        for path in _loaded_blas_paths():
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            getter, setter = _find(library, _GETTERS), _find(library, _SETTERS)
            if getter is not None and setter is not None:
                _controls.append((getter, setter))
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
    """Let primitives choose BLAS threads by product size inside the block; restore after.

    ``large_threads``: threads for large products (None: the BLAS library's setting on entry).
    """
    previous = get_blas_threads()
    if previous is None or _managed["active"]:
        yield
        return
    _managed.update(active=True, large=large_threads or previous, current=previous)
    try:
        yield
    finally:
        _managed.update(active=False)
        set_blas_threads(previous)


def large_product_threads() -> int | None:
    """Threads for large products in the current managed region; None outside one."""
    return _managed["large"] if _managed["active"] else None


def for_product(multiply_adds: int) -> None:
    """Before a matrix product of ``multiply_adds`` (m*n*k): set the thread count it wants."""
    if not _managed["active"]:
        return
    wanted = 1 if multiply_adds < SMALL_PRODUCT else _managed["large"]
    if wanted != _managed["current"]:
        for _, setter in _blas_controls():
            setter(int(wanted))
        _managed["current"] = wanted
