"""Merge layers (Keras 3): combine a list of inputs into one output.

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum`` work elementwise;
``Concatenate`` joins along an axis; ``Dot`` takes per-sample dot products. Each is composed of
primitive ops, so gradients need no rule of their own. Each has a function form
(``add([x, y])`` builds an ``Add`` and calls it).

Shapes follow Keras 3: batch sizes must agree (``None`` matches any), the other axes must be
equal or 1 (broadcast); an input of lower rank gets size-1 axes inserted after the batch axis.

>>> import numpy as np
>>> a, b = np.ones((2, 3)), np.full((2, 3), 2.0)
>>> add([a, b]).numpy().tolist()
[[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
>>> Concatenate()([a, b]).shape, Dot(axes=1)([a, b]).numpy().tolist()
((2, 6), [[6.0], [6.0]])
"""

from __future__ import annotations

import math

import numpy as np

from numkeras import config as _config
from numkeras.backprop import ops
from numkeras.layers.layer import Layer, is_shape


class Merge(Layer):
    """Base of the elementwise merge layers: checks the shapes, aligns ranks, then applies
    ``_merge_function`` (subclasses implement it) to the list of inputs."""

    _exact_inputs: int | None = None  # Subtract: exactly 2

    # ----- shapes -----
    def _check_list(self, input_shape) -> list[tuple]:
        """``input_shape`` as a list of shape tuples; a ValueError unless it is one."""
        kind = type(self).__name__
        if isinstance(input_shape, (list, tuple)) and len(input_shape) == 0:
            raise ValueError(
                f"A merge layer ({kind} '{self.name}') should be called on a list of at least "
                f"1 input. Received 0 inputs.")
        if is_shape(input_shape) or not isinstance(input_shape, (list, tuple)) or not all(
                is_shape(shape) for shape in input_shape):
            raise ValueError(
                f"A merge layer ({kind} '{self.name}') should be called on a list of inputs, "
                f"e.g. layer([x1, x2]). Received: input_shape={input_shape} (not a list of "
                f"shapes).")
        if self._exact_inputs is not None and len(input_shape) != self._exact_inputs:
            raise ValueError(
                f"A `{kind}` layer ('{self.name}') should be called on exactly "
                f"{self._exact_inputs} inputs. Received: input_shape={list(input_shape)}")
        return [tuple(shape) for shape in input_shape]

    def _batch_size(self, shapes: list[tuple]):
        """The common batch size (None if unknown); a ValueError if two known sizes differ."""
        sizes = {shape[0] for shape in shapes if shape} - {None}
        if len(sizes) > 1:
            raise ValueError(
                f"Cannot merge tensors with different batch sizes in {type(self).__name__} "
                f"'{self.name}'. Received tensors with shapes {shapes}. Pass inputs of the same "
                f"batch size.")
        return sizes.pop() if sizes else None

    @staticmethod
    def _broadcast(shape1: tuple, shape2: tuple) -> tuple | None:
        """The shape of an elementwise op on samples of ``shape1`` and ``shape2`` (batch axis
        excluded), aligned on the right as NumPy broadcasts; None if they do not broadcast."""
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        if not shape2:
            return tuple(shape1)
        out = list(shape1[:-len(shape2)])
        for i, j in zip(shape1[-len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1:
                out.append(j if i == 1 else i)
            elif i != j:
                return None
            else:
                out.append(i)
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # validation only: merge layers have no weights

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        batch = self._batch_size(shapes)
        sample = shapes[0][1:]
        for shape in shapes[1:]:
            sample = self._broadcast(sample, shape[1:])
            if sample is None:
                raise ValueError(
                    f"Inputs have incompatible shapes in {type(self).__name__} '{self.name}'. "
                    f"Received shapes {shapes}: after the batch axis, each axis must be equal "
                    f"or 1 (a shorter shape is aligned on the right).")
        return (batch,) + sample

    # ----- computation -----
    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer ({type(self).__name__} '{self.name}') should be called on a "
                f"list of inputs. Received: inputs of shape {getattr(inputs, 'shape', None)} "
                f"(not a list of tensors).")
        inputs = list(inputs)
        shapes = [tuple(x.shape) for x in inputs]
        if len(set(shapes)) > 1:  # check shapes of this call (built for the first call's)
            self.compute_output_shape(shapes)
        ranks = [len(shape) for shape in shapes]
        if len(set(ranks)) > 1:
            # Keras: expand lower-rank inputs at axis 1 until all ranks match.
            top = max(ranks)
            inputs = [x if x.ndim == top else ops.reshape(
                x, shape=(x.shape[0],) + (1,) * (top - x.ndim) + tuple(x.shape[1:]))
                for x in inputs]
        return self._merge_function(inputs)

    def _merge_function(self, inputs):
        raise NotImplementedError

    def get_config(self):
        return super().get_config()


def _fold(op, inputs):
    out = inputs[0]
    for x in inputs[1:]:
        out = op(out, x)
    return out


class Add(Merge):
    """Elementwise sum of a list of inputs of the same shape.

    >>> import numpy as np
    >>> Add()([np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2))]).numpy().tolist()
    [[3.0, 3.0]]
    """

    def _merge_function(self, inputs):
        return _fold(ops.add, inputs)


class Subtract(Merge):
    """``inputs[0] - inputs[1]``; exactly two inputs.

    >>> import numpy as np
    >>> Subtract()([np.ones((1, 2)), np.full((1, 2), 3.0)]).numpy().tolist()
    [[-2.0, -2.0]]
    """

    _exact_inputs = 2

    def _merge_function(self, inputs):
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Elementwise product of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        return _fold(ops.multiply, inputs)


class Average(Merge):
    """Elementwise mean of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        return ops.multiply(_fold(ops.add, inputs), 1.0 / len(inputs))


class Maximum(Merge):
    """Elementwise maximum of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        return _fold(ops.maximum, inputs)


class Minimum(Merge):
    """Elementwise minimum of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        return _fold(ops.minimum, inputs)


class Concatenate(Merge):
    """Join a list of inputs along ``axis``; every other axis must match.

    Args:
        axis: the axis to join along (default -1, the last).

    >>> import numpy as np
    >>> Concatenate(axis=1)([np.zeros((2, 2, 5)), np.ones((2, 1, 5))]).shape
    (2, 3, 5)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"The `axis` argument of Concatenate '{self.name}' must be an "
                             f"integer. Received: axis={axis!r}.")
        self.axis = int(axis)

    def _mismatch(self, input_shape):
        return ValueError(
            f"A `Concatenate` layer ('{self.name}') requires inputs with matching shapes except "
            f"for the concatenation axis (axis={self.axis}). Received: "
            f"input_shape={list(input_shape)}")

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        rank = len(shapes[0])
        if any(len(shape) != rank for shape in shapes) or not -rank <= self.axis < rank:
            raise self._mismatch(shapes)
        axis = self.axis % rank
        for i in range(rank):
            known = {shape[i] for shape in shapes} - {None}
            if i != axis and len(known) > 1:
                raise self._mismatch(shapes)
        sizes = [shape[axis] for shape in shapes]
        out = list(shapes[0])  # Keras keeps the first input's other axes
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def call(self, inputs):
        self.compute_output_shape([x.shape for x in inputs])  # this call's shapes
        return ops.concatenate(*inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Per-sample dot product of two inputs along ``axes``.

    Args:
        axes: an int (the same axis of both inputs) or a pair ``(axis_of_x, axis_of_y)``;
            the batch axis 0 is not allowed. The two axes must have the same size.
        normalize: L2-normalise each sample along its axis first, so the output is the
            cosine similarity.

    Output shape: ``x``'s shape without its dot axis, then ``y``'s without its batch and dot
    axes; ``(batch, 1)`` when nothing else is left (two 2-D inputs).

    >>> import numpy as np
    >>> x = np.arange(10.0).reshape(1, 5, 2)
    >>> y = np.arange(10.0, 20.0).reshape(1, 2, 5)
    >>> Dot(axes=(1, 2))([x, y]).shape
    (1, 2, 2)
    """

    _exact_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, (int, np.integer)) or isinstance(axes, bool):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes` of Dot '{self.name}': it "
                                f"should be a list or an int. Received: axes={axes!r}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes` of Dot '{self.name}': it "
                                 f"should contain two elements. Received: axes={axes!r}")
            if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                       for a in axes):
                raise ValueError(f"Invalid format for argument `axes` of Dot '{self.name}': "
                                 f"list elements should be integers. Received: axes={axes!r}")
        self.axes = axes
        self.normalize = normalize

    def _resolve_axes(self, shape1, shape2) -> tuple[int, int]:
        """Both axes as non-negative ints, checked against the ranks and the batch axis."""
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError(
                f"Cannot do batch_dot on inputs with rank < 2 in Dot '{self.name}'. Received "
                f"inputs with shapes {tuple(shape1)} and {tuple(shape2)}.")
        axes = (self.axes, self.axes) if isinstance(self.axes, (int, np.integer)) else self.axes
        resolved = []
        for axis, shape in zip(axes, (shape1, shape2)):
            if not -len(shape) <= axis < len(shape):
                raise ValueError(
                    f"Invalid `axes` of Dot '{self.name}': axis {axis} is out of range for an "
                    f"input of shape {tuple(shape)}. Received: axes={self.axes!r}")
            resolved.append(int(axis) % len(shape))
        if 0 in resolved:
            raise ValueError(
                f"Cannot perform batch_dot over axis 0 in Dot '{self.name}' (axes="
                f"{self.axes!r}). If your inputs are not batched, add a batch axis first, e.g. "
                f"x[None].")
        return resolved[0], resolved[1]

    def compute_output_shape(self, input_shape):
        shape1, shape2 = self._check_list(input_shape)
        self._batch_size([shape1, shape2])
        a1, a2 = self._resolve_axes(shape1, shape2)
        d1, d2 = shape1[a1], shape2[a2]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(
                f"Incompatible input shapes in Dot '{self.name}': axis values {d1} (at axis "
                f"{a1}) != {d2} (at axis {a2}). Full input shapes: {shape1}, {shape2}")
        out = shape1[:a1] + shape1[a1 + 1:] + tuple(
            d for i, d in enumerate(shape2) if i not in (0, a2))
        return out if len(out) > 1 else out + (1,)

    def call(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer ('{self.name}') should be called on exactly 2 "
                             f"inputs. Received {len(inputs)} inputs.")
        x, y = inputs
        out_shape = self.compute_output_shape([x.shape, y.shape])
        a1, a2 = self._resolve_axes(x.shape, y.shape)
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        # (b, ..., k) @ (b, k, ...): move x's axis last and y's to 1, flatten the rest.
        x = _move_axis(x, a1, x.ndim - 1)
        y = _move_axis(y, a2, 1)
        batch, k = x.shape[0], x.shape[-1]
        x = ops.reshape(x, shape=(batch, math.prod(x.shape[1:-1]), k))   # (b, m, k)
        y = ops.reshape(y, shape=(batch, k, math.prod(y.shape[2:])))     # (b, k, n)
        return ops.reshape(ops.matmul(x, y), shape=(batch,) + out_shape[1:])

    def get_config(self):
        axes = self.axes if isinstance(self.axes, (int, np.integer)) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def _move_axis(x, source: int, destination: int):
    if source == destination:
        return x
    order = [i for i in range(x.ndim) if i != source]
    order.insert(destination, source)
    return ops.transpose(x, axes=tuple(order))


def _l2_normalize(x, axis: int):
    """``x / max(||x||, epsilon)`` along ``axis``, as Keras 3's ``ops.normalize``: the squared
    norm is clamped at epsilon**2 before the square root, so a zero vector stays finite (and
    so does its gradient)."""
    squares = ops.sum(ops.multiply(x, x), axis=axis, keepdims=True)
    floor = np.asarray(_config.epsilon() ** 2, dtype=x.dtype)
    return ops.divide(x, ops.sqrt(ops.maximum(squares, floor)))


# ----- function forms: build the layer and call it on the inputs -----
def add(inputs, **kwargs):
    """Functional form of :class:`Add`: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of :class:`Subtract`: ``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of :class:`Multiply`: ``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of :class:`Average`: ``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of :class:`Maximum`: ``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of :class:`Minimum`: ``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of :class:`Concatenate`: ``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of :class:`Dot`: ``Dot(axes, normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
