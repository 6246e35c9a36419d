"""The compiled optimizer kernels give bit for bit the NumPy path's numbers."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import ParameterBuffer, Variable, kernels

pytest.importorskip("numba")


def train_adam(compiled: bool, steps: int = 6, **options):
    keras.config.set_compiled_kernels(compiled)
    try:
        rng = np.random.default_rng(0)
        variables = [Variable(rng.standard_normal(s).astype(np.float32), name=f"w{i}")
                     for i, s in enumerate([(30, 7), (7,), (7, 3)])]
        buffer = ParameterBuffer(variables)
        optimizer = keras.optimizers.Adam(learning_rate=0.01, **options)
        for _ in range(steps):
            buffer.grad[...] = rng.standard_normal(buffer.size).astype(np.float32)
            optimizer.apply_buffer(buffer)
        return buffer.data.copy(), [np.array(v) for v in optimizer.variables]
    finally:
        keras.config.set_compiled_kernels(True)


@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.01}, {"clipnorm": 0.5},
                                     {"beta_1": 0.8, "epsilon": 1e-3}])
def test_adam_kernel_matches_numpy_bit_for_bit(options):
    assert kernels.available()
    weights, state = train_adam(True, **options)
    weights_numpy, state_numpy = train_adam(False, **options)
    np.testing.assert_array_equal(weights, weights_numpy)
    for a, b in zip(state, state_numpy):
        np.testing.assert_array_equal(a, b)


def test_kernel_refuses_what_it_cannot_run():
    a = np.zeros((4, 4), np.float32)
    assert not kernels.adam(a.T, a, a, a, 0.9, 0.999, 1e-7, 0.1)  # not contiguous
    b = np.zeros(3, np.float64)
    assert not kernels.adam(b, b, b, b, 0.9, 0.999, 1e-7, 0.1)  # not float32


def test_switched_off_means_not_available():
    keras.config.set_compiled_kernels(False)
    try:
        assert not kernels.available()
    finally:
        keras.config.set_compiled_kernels(True)
