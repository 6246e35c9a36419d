"""Variables (the weights of a layer) and the flat buffer that packs them for fast updates.

A :class:`Variable` is a leaf Tensor with a name and a ``trainable`` flag. Its value is
changed only in place (``assign``), so a model can pack all its trainable variables into one
contiguous :class:`ParameterBuffer`: each variable's ``data`` and ``grad`` become views into two
flat arrays, the backward pass writes gradients straight into the flat gradient, and an optimizer
updates the whole model in a handful of array operations instead of several per weight.

>>> import numpy as np
>>> a, b = Variable(np.ones((2, 2)), name="kernel"), Variable(np.zeros(2), name="bias")
>>> buffer = ParameterBuffer([a, b])
>>> buffer.data.shape, np.shares_memory(buffer.data, a.data)
((6,), True)
"""

from __future__ import annotations

import numpy as np

from numkeras.backprop.tensor import Tensor

_structure_version = [0]


def structure_version() -> int:
    """A counter that changes whenever the set of trainable or regularized variables of any
    model may have changed, so a model can cache those lists between training steps."""
    return _structure_version[0]


def bump_structure_version() -> None:
    _structure_version[0] += 1


class Variable(Tensor):
    """A named, optionally trainable leaf tensor.

    Args:
        value: initial value (copied).
        name: short name such as ``"kernel"``.
        trainable: whether optimizers update it (sets ``requires_grad``).
        regularizer: optional callable on the variable returning a scalar penalty Tensor.
        constraint: optional callable applied to the value after each optimizer step.
    """

    __slots__ = ("name", "path", "constraint", "_trainable", "_regularizer")

    def __init__(self, value, name: str = "variable", trainable: bool = True, dtype=None,
                 regularizer=None, constraint=None):
        super().__init__(np.array(value, dtype=dtype), requires_grad=trainable)
        self.name = name
        self.path = name
        self.regularizer = regularizer
        self.constraint = constraint
        self._trainable = bool(trainable)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self.requires_grad = self._trainable
        bump_structure_version()

    @property
    def regularizer(self):
        return self._regularizer

    @regularizer.setter
    def regularizer(self, value) -> None:
        self._regularizer = value
        bump_structure_version()

    def assign(self, value) -> None:
        """Copy ``value`` into the variable in place, after checking its shape."""
        value = np.asarray(value)
        if value.shape != self.data.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to variable '{self.path}' of "
                f"shape {self.data.shape}."
            )
        np.copyto(self.data, value, casting="unsafe")

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


class ParameterBuffer:
    """One flat array holding several variables' values, and one for their gradients.

    After construction each variable's ``data`` and ``grad`` are views into ``data`` and
    ``grad``; values are preserved. ``offsets[i]`` is where variable ``i`` starts.
    """

    def __init__(self, variables: list[Variable]):
        if not variables:
            raise ValueError("ParameterBuffer needs at least one variable.")
        dtypes = {v.data.dtype for v in variables}
        if len(dtypes) != 1:
            listed = ", ".join(f"{v.path} ({v.data.dtype})" for v in variables)
            raise ValueError(
                f"numkeras trains models whose trainable weights share one float type, but "
                f"these differ: {listed}. Give every layer the same dtype (the `dtype=` "
                f"argument, or numkeras.config.set_floatx before building the model).")
        self.variables = list(variables)
        sizes = [v.data.size for v in variables]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        dtype = dtypes.pop()
        self.data = np.empty(int(self.offsets[-1]), dtype=dtype)
        self.grad = np.zeros_like(self.data)
        for variable, start, size in zip(self.variables, self.offsets, sizes):
            shape = variable.data.shape
            self.data[start:start + size] = variable.data.reshape(-1)
            variable.data = self.data[start:start + size].reshape(shape)
            variable.grad = self.grad[start:start + size].reshape(shape)

    @property
    def size(self) -> int:
        return self.data.size

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per-variable views into any flat array laid out like this buffer (e.g. a slot)."""
        return [flat[start:end].reshape(v.data.shape)
                for v, start, end in zip(self.variables, self.offsets[:-1], self.offsets[1:])]

    def holds(self, variables) -> bool:
        """True when ``variables`` are exactly this buffer's variables, in order."""
        return len(variables) == len(self.variables) and all(
            a is b for a, b in zip(variables, self.variables))

    def zero_grad(self) -> None:
        self.grad.fill(0)
