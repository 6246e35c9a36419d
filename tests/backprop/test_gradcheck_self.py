"""The gradient checker must reject a wrong VJP, or it proves nothing."""

import numpy as np
import pytest

from numkeras.backprop import GradientCheckError, check_grads, ops
from numkeras.backprop.tensor import wrap_primitive


def _wrong_square(x):
    return x * x, lambda g: (g * x,)  # the true VJP is 2 * g * x


wrong_square = wrap_primitive(_wrong_square, "wrong_square")


def test_checker_catches_a_wrong_vjp():
    with pytest.raises(GradientCheckError, match="Gradient of input 0"):
        check_grads(wrong_square, np.array([1.0, -2.0, 3.0]))


def test_checker_catches_a_missing_gradient():
    def forgets_second_input(x, y):
        return ops.add(x, y.detach())

    with pytest.raises(GradientCheckError, match="input 1"):
        check_grads(forgets_second_input, np.ones(3), np.ones(3))


def test_checker_passes_a_correct_composite():
    assert check_grads(lambda x, y: ops.tanh(x * y) / (1.0 + y * y), np.ones(3), np.arange(3.0))
