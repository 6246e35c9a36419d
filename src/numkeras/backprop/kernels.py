"""Optional compiled kernels for the optimizer's elementwise updates (the ``fast`` extra).

NumPy runs Adam as twelve whole-buffer passes; a loop compiled by numba does the same arithmetic
in one pass, about four times faster for the lecture's 101,770 weights (benchmarks/
bench_optimizers.py). Every operation is the same float32 operation NumPy performs, in the same
order and with the same float32 constants, so the result is bit for bit the one of the NumPy
path (tested). numba is optional (``pip install numkeras[fast]``): without it, or with
``numkeras.config.set_compiled_kernels(False)``, the NumPy path runs. numba is imported on the
first optimizer step, never by ``import numkeras``.
"""

from __future__ import annotations

import numpy as np

from numkeras import config

_kernels: dict | None = None


def _compile() -> dict:
    """The compiled kernels, or an empty dict when numba is missing."""
    try:
        import numba
    except ImportError:
        return {}

    # error_model="numpy": no Python zero-division checks, so the loop vectorises (x/0 gives
    # inf as in NumPy). No fastmath: it would reorder the arithmetic and change the results.
    # cache=False: numba's cache would write files into the installed package; compiling
    # takes about a quarter of a second, once per process, at the first optimizer step.
    @numba.njit(cache=False, error_model="numpy", nogil=True)
    def adam(grad, value, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon,
             alpha):  # pragma: no cover - compiled
        for i in range(grad.shape[0]):
            g = grad[i]
            m_i = m[i] * beta_1 + g * one_minus_beta_1
            v_i = v[i] * beta_2 + (g * g) * one_minus_beta_2
            m[i] = m_i
            v[i] = v_i
            value[i] = value[i] - (m_i / (np.sqrt(v_i) + epsilon)) * alpha

    return {"adam": adam}


def _get(name: str):
    global _kernels
    if not config.compiled_kernels():
        return None
    if _kernels is None:
        _kernels = _compile()
    return _kernels.get(name)


def available() -> bool:
    """Whether the compiled kernels can run (numba installed and not switched off)."""
    return _get("adam") is not None


def _flat(*arrays):
    """1-D views of contiguous float32 arrays, or None if any is not such an array."""
    if any(a.dtype != np.float32 or not a.flags.c_contiguous for a in arrays):
        return None
    return [a.reshape(-1) for a in arrays]


def adam(grad, value, m, v, beta_1: float, beta_2: float, epsilon: float, alpha: float) -> bool:
    """Keras's Adam step in one pass (``m``, ``v``, ``value`` updated in place).

    The constants are rounded to float32 exactly as NumPy rounds a Python float meeting a
    float32 array. Returns False (and does nothing) when the kernel cannot run.
    """
    kernel = _get("adam")
    flat = None if kernel is None else _flat(grad, value, m, v)
    if flat is None:
        return False
    f32 = np.float32
    kernel(*flat, f32(beta_1), f32(1 - beta_1), f32(beta_2), f32(1 - beta_2), f32(epsilon),
           f32(alpha))
    return True
