"""Weight penalties (L1, L2, L1L2) that count in the training loss, as in Keras.

A regularizer is called on a weight Tensor and returns a scalar Tensor, so its gradient flows
into the weight through backprop like the loss's does.

>>> import numpy as np
>>> from numkeras.backprop import Tensor
>>> float(L2(0.01)(Tensor(np.array([1.0, 2.0]))).data)
0.05
"""

from __future__ import annotations

from numkeras.backprop import ops
from numkeras.utils.registry import deserialize_object, lookup, serialize_object


class Regularizer:
    """Base class: ``__call__(weight) -> scalar Tensor``."""

    def __call__(self, x):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if value < 0:
                raise ValueError(f"Regularization factor `{name}` must be >= 0, got {value}.")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = ops.multiply(ops.sum(ops.abs(x)), self.l1)
        if self.l2:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.multiply(x, x)), self.l2))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``; Keras default factor 0.01."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x^2)``; Keras default factor 0.01."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    """L1 and L2 together, both 0.01 by default."""
    return L1L2(l1=l1, l2=l2)


l1, l2 = L1, L2
ALL_OBJECTS = {"L1": L1, "L2": L2, "L1L2": L1L2}
_TABLE = {**ALL_OBJECTS, "l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier, argument: str | None = None):
    """A regularizer from a name (``"l2"``), a config dict, or a callable; None stays None."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return lookup("regularizer", _TABLE, identifier, argument)()
    if isinstance(identifier, dict):
        return deserialize_object("regularizer", identifier, _TABLE)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer {identifier!r}.")


def serialize(regularizer) -> dict | None:
    return None if regularizer is None else serialize_object(regularizer, "keras.regularizers")
