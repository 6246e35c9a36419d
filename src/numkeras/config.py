"""Global settings: float type, fuzz factor, and the seeded source of randomness.

Every random draw in numkeras (weight initialisation, dropout masks, shuffling) comes from a
``numpy.random.Generator`` handed out by :func:`make_rng`. Those generators are spawned from one
``SeedSequence``, so :func:`set_random_seed` makes a whole run repeat bit for bit:

>>> import numkeras
>>> numkeras.config.set_random_seed(1)
>>> a = numkeras.config.make_rng().random()
>>> numkeras.config.set_random_seed(1)
>>> a == numkeras.config.make_rng().random()
True
"""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_BLAS_THREADS: int | None = None
_KEEP_FREED_MEMORY = True
_COMPILED_KERNELS = True
_MAX_WORKING_BYTES: int | None = None
_seed_sequence = np.random.SeedSequence()


def floatx() -> str:
    """The default float type as a string (``"float32"``)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type: ``"float16"``, ``"float32"`` or ``"float64"``."""
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(
            f"Unknown floatx {value!r}. Expected one of 'float16', 'float32', 'float64'."
        )
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used to keep logs and divisions finite (Keras: 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by :func:`epsilon`."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """Always ``"channels_last"``: images are ``(batch, height, width, channels)``."""
    return _IMAGE_DATA_FORMAT


def blas_threads() -> int | None:
    """BLAS threads for *large* matrix products inside fit/evaluate/predict.

    None (the default) means the BLAS library's own setting (usually one per core). Small
    products always run on one thread there, which is faster (see ``numkeras.backprop.blas``).
    """
    return _BLAS_THREADS


def set_blas_threads(count: int | None) -> None:
    """Cap the BLAS threads of large products in fit/evaluate/predict; None: the library's."""
    global _BLAS_THREADS
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError(f"set_blas_threads expects a positive integer or None, got {count!r}.")
    _BLAS_THREADS = count


def keep_freed_memory() -> bool:
    """Whether training keeps freed memory mapped between steps (see backprop/memory.py)."""
    return _KEEP_FREED_MEMORY


def set_keep_freed_memory(value: bool) -> None:
    """Turn off (False) the glibc tuning applied at the first fit/evaluate/predict."""
    global _KEEP_FREED_MEMORY
    _KEEP_FREED_MEMORY = bool(value)


def compiled_kernels() -> bool:
    """Whether optimizers use numba-compiled updates when numba is installed (the ``fast``
    extra); they give the same numbers as the NumPy path, faster."""
    return _COMPILED_KERNELS


def set_compiled_kernels(value: bool) -> None:
    """Use (True, the default) or skip (False) the compiled optimizer updates."""
    global _COMPILED_KERNELS
    _COMPILED_KERNELS = bool(value)


def max_working_bytes() -> int | None:
    """The most bytes one working buffer of an op may take (e.g. a convolution's im2col
    matrix); None (the default) means half of the machine's physical memory. A call that
    would need more is split over its batch under inference, or refused with a clear error
    (see ``numkeras.backprop.memory.working_budget``)."""
    return _MAX_WORKING_BYTES


def set_max_working_bytes(value: int | None) -> None:
    """Set the budget of one working buffer in bytes (None: half of physical memory).

    >>> set_max_working_bytes(2**30)   # 1 GiB
    >>> max_working_bytes()
    1073741824
    >>> set_max_working_bytes(None)
    """
    global _MAX_WORKING_BYTES
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise ValueError(f"set_max_working_bytes expects a positive number of bytes or None, "
                         f"got {value!r}.")
    _MAX_WORKING_BYTES = value


def set_random_seed(seed: int) -> None:
    """Make every later random draw of numkeras repeat exactly.

    Generators already handed out keep their state; create models after seeding.
    """
    global _seed_sequence
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed expects a non-negative integer seed, got {seed!r}.")
    _seed_sequence = np.random.SeedSequence(int(seed))


def make_rng(seed: int | None = None) -> np.random.Generator:
    """A new generator: from ``seed`` if given, else the next child of the global seed."""
    if seed is not None:
        return np.random.default_rng(seed)
    return np.random.default_rng(_seed_sequence.spawn(1)[0])


# ----- Keras 3 settings that scripts set and numkeras has no use for (accepted, recorded) -----
_FLAGS = {"traceback_filtering": True, "interactive_logging": True}


def backend() -> str:
    """The backend's name, as ``keras.config.backend()``: numkeras computes with NumPy."""
    return "numpy"


def enable_traceback_filtering() -> None:
    """Accepted (numkeras's tracebacks are not filtered)."""
    _FLAGS["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """Accepted (numkeras's tracebacks are never filtered)."""
    _FLAGS["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    return _FLAGS["traceback_filtering"]


def enable_interactive_logging() -> None:
    """Accepted; progress is printed as ``verbose`` says."""
    _FLAGS["interactive_logging"] = True


def disable_interactive_logging() -> None:
    """Accepted; progress is printed as ``verbose`` says."""
    _FLAGS["interactive_logging"] = False


def is_interactive_logging_enabled() -> bool:
    return _FLAGS["interactive_logging"]
