"""The autodiff engine: Tensor, primitive ops, variables and gradient checking."""

from numkeras.backprop import ops
from numkeras.backprop.gradcheck import GradientCheckError, check_grads
from numkeras.backprop.tensor import Tensor, as_tensor, is_grad_enabled, no_grad, unbroadcast
from numkeras.backprop.variable import ParameterBuffer, Variable, structure_version

__all__ = [
    "GradientCheckError", "ParameterBuffer", "Tensor", "Variable", "as_tensor", "check_grads",
    "is_grad_enabled", "no_grad", "ops", "structure_version", "unbroadcast",
]
