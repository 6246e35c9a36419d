"""Finite-difference checks of gradients, for numkeras's own ops and for users' custom ones.

:func:`check_grads` compares the reverse-mode gradient (``backward``) with a central finite
difference taken along random directions, the method of HIPS/autograd's ``check_vjp``: for a
random output cotangent ``v`` and input direction ``u``, ``<v, J u>`` from finite differences
must equal ``<J^T v, u>`` from backprop. Run it in float64.

>>> import numpy as np
>>> from numkeras.backprop import ops
>>> check_grads(lambda x: ops.tanh(x) * x, np.linspace(-2, 2, 5))
True
"""

from __future__ import annotations

import numpy as np

from numkeras.backprop.tensor import Tensor


class GradientCheckError(AssertionError):
    """Backprop and finite differences disagree."""


def check_grads(fun, *inputs, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7,
                directions: int = 3, seed: int = 0) -> bool:
    """Check ``fun``'s gradients with respect to every input; raise if they are wrong.

    Args:
        fun: maps Tensors (one per input) to a Tensor.
        inputs: arrays of floats; converted to float64.
        eps: finite-difference step.
        rtol, atol: tolerance on the directional derivatives.
        directions: how many random directions to try.
        seed: seed of the random directions and cotangents.

    Returns:
        True when every direction agrees.

    Raises:
        GradientCheckError: naming the input, the two derivatives and the difference.
    """
    rng = np.random.default_rng(seed)
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    leaves = [Tensor(x.copy(), requires_grad=True) for x in xs]
    out = fun(*leaves)
    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent)
    grads = [np.zeros_like(x) if leaf.grad is None else leaf.grad for x, leaf in zip(xs, leaves)]

    def projected(values):
        return float(np.sum(np.asarray(fun(*[Tensor(v) for v in values]).data) * cotangent))

    for which in range(len(xs)):
        for _ in range(directions):
            direction = rng.standard_normal(xs[which].shape)
            plus = [x + eps * direction if i == which else x for i, x in enumerate(xs)]
            minus = [x - eps * direction if i == which else x for i, x in enumerate(xs)]
            numeric = (projected(plus) - projected(minus)) / (2 * eps)
            analytic = float(np.sum(grads[which] * direction))
            if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
                raise GradientCheckError(
                    f"Gradient of input {which} (shape {xs[which].shape}) is wrong: backprop "
                    f"gives a directional derivative of {analytic:.10g}, finite differences "
                    f"{numeric:.10g} (difference {abs(analytic - numeric):.3g})."
                )
    return True
