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

from numkeras import config as _config
from numkeras.backprop.tensor import Tensor

_structure_version = [0]


def structure_version() -> int:
    """A counter that changes whenever the set of trainable or regularized variables of any
    model may have changed, so a model can cache those lists between training steps."""
    return _structure_version[0]


def bump_structure_version() -> None:
    _structure_version[0] += 1


class Variable(Tensor):
    """A named, optionally trainable leaf tensor (``keras.Variable``).

    Args:
        initializer: the initial value (array-like, copied), or an initializer (a callable
            such as ``keras.initializers.Zeros()``, or its name ``"zeros"``) called with
            ``shape`` and ``dtype``.
        shape: the shape, needed with an initializer.
        dtype: the dtype; by default a NumPy array keeps its own and Python numbers or lists
            take ``keras.config.floatx()`` (floats) or int32 (integers), as ``tf.Variable`` does
            (Keras 3 would also cast a float64 array to floatx).
        trainable: whether optimizers update it (sets ``requires_grad``).
        name: short name such as ``"kernel"``.
        regularizer: optional callable on the variable returning a scalar penalty Tensor.
        constraint: optional callable applied to the value after each optimizer step.

    ``autocast``, ``aggregation`` and ``synchronization`` are accepted for Keras's signature and
    have no effect (one device, one float type).

    >>> v = Variable([0.0, 0.0], name="v")
    >>> v.assign_add([1.0, 2.0]).numpy().tolist(), v.dtype
    ([1.0, 2.0], dtype('float32'))
    >>> (v * 2).data.tolist()
    [2.0, 4.0]
    """

    __slots__ = ("name", "path", "constraint", "_trainable", "_regularizer")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable: bool = True,
                 autocast: bool = True, aggregation="none", synchronization="auto",
                 name: str | None = None, regularizer=None, constraint=None, **kwargs):
        value = kwargs.pop("value", initializer)
        if kwargs:
            raise TypeError(f"Variable() got unexpected keyword argument(s) {sorted(kwargs)}.")
        super().__init__(_initial_value(value, shape, dtype, name), requires_grad=trainable)
        name = "variable" if name is None else str(name)
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

    @property
    def value(self) -> Tensor:
        """The current value as a Tensor connected to this variable (Keras's ``.value``)."""
        return self

    def assign(self, value) -> "Variable":
        """Copy ``value`` into the variable in place, after checking its shape."""
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.data.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to variable '{self.path}' of "
                f"shape {self.data.shape}."
            )
        np.copyto(self.data, value, casting="unsafe")
        return self

    def assign_add(self, value) -> "Variable":
        """``self += value`` in place (the shape must match)."""
        return self.assign(self.data + np.asarray(getattr(value, "data", value)))

    def assign_sub(self, value) -> "Variable":
        """``self -= value`` in place (the shape must match)."""
        return self.assign(self.data - np.asarray(getattr(value, "data", value)))

    def __repr__(self) -> str:
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


def _initial_value(value, shape, dtype, name) -> np.ndarray:
    """The first value of a variable: ``value`` itself, or an initializer called on ``shape``."""
    if isinstance(value, str):
        # Names resolve through numkeras.initializers, a level above the engine: import it
        # only when a name is given (keras.Variable("zeros", shape=...)).
        import importlib

        value = importlib.import_module("numkeras.initializers").get(value, "initializer")
    if callable(value) and not isinstance(value, (np.ndarray, Tensor)):
        if shape is None:
            raise ValueError(
                f"When creating Variable '{name or 'variable'}' from an initializer, the "
                f"`shape` argument must be given, e.g. Variable(initializer, shape=(3, 4)).")
        dtype = dtype or _config.floatx()
        return np.array(value(tuple(shape), dtype=dtype), dtype=dtype)
    if value is None:
        raise ValueError("Variable() needs an initial value or an initializer as its first "
                         "argument, e.g. Variable(np.zeros(3)) or Variable('zeros', shape=(3,)).")
    typed = isinstance(value, (np.ndarray, np.generic, Tensor))
    array = np.array(value.data if isinstance(value, Tensor) else value, dtype=dtype)
    if dtype is None and not typed and array.dtype.kind == "f":
        array = array.astype(_config.floatx())
    elif dtype is None and not typed and array.dtype.kind == "i":
        array = array.astype(np.int32)
    if shape is not None and tuple(shape) != array.shape:
        raise ValueError(f"Variable '{name or 'variable'}': the initial value has shape "
                         f"{array.shape}, but shape={tuple(shape)} was given.")
    return array


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
