"""Activation layers: Activation, ReLU, LeakyReLU, ELU, PReLU, Softmax (Keras 3) and Maxout.

Each wraps a function of :mod:`numkeras.activations`; only PReLU has a weight (its learned
slopes). Maxout follows tensorflow-addons, the implementation courses use.

>>> import numpy as np
>>> ReLU(max_value=6.0)(np.array([[-1.0, 3.0, 9.0]]))
Tensor([[0., 3., 6.]], dtype=float32)
>>> Maxout(num_units=3)(np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]))
Tensor([[4., 5., 6.]], dtype=float32)
"""

from __future__ import annotations

import numbers

import numpy as np

from numkeras import activations, constraints, initializers, regularizers
from numkeras.backprop import Tensor, ops
from numkeras.layers.layer import InputSpec, Layer, standardize_shape


def _number(layer: str, argument: str, value, *, minimum: float | None = None,
            allow_none: bool = False) -> float | None:
    """``value`` as a float, or a ValueError naming the layer, the argument and the value."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{argument} of {_article(layer)} {layer} layer must be a number"
            f"{' or None' if allow_none else ''}. Received: {argument}={value!r}"
        )
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{argument} of {_article(layer)} {layer} layer cannot be a negative value. "
            f"Received: {argument}={value}"
        )
    return float(value)


def _axis(layer: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"axis of {_article(layer)} {layer} layer must be an integer. Received: axis={value!r}"
        )
    return int(value)


def _article(layer: str) -> str:
    return "an" if layer[0] in "AEIOU" else "a"  # "an ELU layer", "a ReLU layer"


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: a name (``"relu"``), a function, or None (the identity).

    >>> Activation("relu")(np.array([[-1.0, 2.0]]))
    Tensor([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation, "activation")

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return standardize_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(Layer):
    """Rectified linear unit: ``activations.relu`` with the layer's arguments.

    Args:
        max_value: cap on the output (>= 0), or None for no cap.
        negative_slope: slope below ``threshold`` (>= 0).
        threshold: values at or below it are damped (or zeroed).

    >>> ReLU(negative_slope=0.5)(np.array([[-2.0, 2.0]]))
    Tensor([[-1.,  2.]], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _number("ReLU", "max_value", max_value, minimum=0.0, allow_none=True)
        self.negative_slope = _number("ReLU", "negative_slope", negative_slope, minimum=0.0)
        self.threshold = _number("ReLU", "threshold", threshold)

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return standardize_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, else ``negative_slope * x``.

    Args:
        negative_slope: slope for negative inputs (>= 0); 0.3 by default, unlike the 0.2 of
            ``activations.leaky_relu``. ``alpha=`` (Keras 2's name) means the same.

    >>> LeakyReLU()(np.array([[-10.0, 10.0]]))
    Tensor([[-3., 10.]], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, *, alpha=None, **kwargs):
        super().__init__(**kwargs)
        argument = "negative_slope"
        if alpha is not None:
            negative_slope, argument = alpha, "alpha"
        self.negative_slope = _number("LeakyReLU", argument, negative_slope, minimum=0.0)

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return standardize_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Args:
        alpha: scale of the negative part.

    >>> ELU(alpha=2.0)(np.array([[0.0, 3.0]]))
    Tensor([[0., 3.]], dtype=float32)
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number("ELU", "alpha", alpha)

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return standardize_shape(input_shape)

    def get_config(self):
        # Keras 3.15's ELU leaves alpha out of its config (so a reload silently resets it to
        # 1.0); writing it keeps the round trip exact, and Keras's ELU(alpha=...) accepts it.
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, else ``alpha * x`` with a learned ``alpha``.

    Args:
        alpha_initializer: initializer of ``alpha`` (zeros: starts as a plain ReLU).
        alpha_regularizer: optional penalty on ``alpha``.
        alpha_constraint: optional constraint on ``alpha``.
        shared_axes: axes (1-based, the batch axis is 0) along which one slope is shared, e.g.
            ``[1, 2]`` for one slope per channel of ``(batch, height, width, channels)`` images.

    >>> layer = PReLU()
    >>> layer(np.zeros((2, 3, 4))).shape, layer.count_params()
    ((2, 3, 4), 12)
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer, "alpha_initializer")
        self.alpha_regularizer = regularizers.get(alpha_regularizer, "alpha_regularizer")
        self.alpha_constraint = constraints.get(alpha_constraint, "alpha_constraint")
        self.shared_axes = self._check_shared_axes(shared_axes)

    @staticmethod
    def _check_shared_axes(shared_axes) -> list[int] | None:
        if shared_axes is None:
            return None
        axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
        for axis in axes:
            if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis < 1:
                raise ValueError(
                    f"shared_axes of a PReLU layer must be axes >= 1 (axis 0 is the batch). "
                    f"Received: shared_axes={shared_axes!r}"
                )
        return [int(axis) for axis in axes]

    def build(self, input_shape):
        rank = len(input_shape)
        shared = set(self.shared_axes or ())
        if rank < 2:
            raise ValueError(
                f"PReLU layer '{self.name}' needs inputs with a batch axis and at least one "
                f"feature axis, but got input shape {input_shape}."
            )
        if any(axis >= rank for axis in shared):
            raise ValueError(
                f"PReLU layer '{self.name}' got input shape {input_shape}, which has no axis "
                f"{max(shared)}; shared_axes={self.shared_axes} must name axes between 1 and "
                f"{rank - 1}."
            )
        param_shape = tuple(1 if axis in shared else input_shape[axis] for axis in range(1, rank))
        if None in param_shape:
            raise ValueError(
                f"PReLU layer '{self.name}' needs every unshared axis of its input to be known "
                f"to create `alpha`, but got input shape {input_shape}. Add the axes of unknown "
                f"size to `shared_axes`."
            )
        self.alpha = self.add_weight(name="alpha", shape=param_shape,
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        fixed = {axis: input_shape[axis] for axis in range(1, rank) if axis not in shared}
        self.input_spec = InputSpec(ndim=rank, axes=fixed)

    def call(self, inputs):
        # relu(x) - alpha * relu(-x): the slope applies to the negative part only.
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return standardize_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class Softmax(Layer):
    """Softmax along ``axis`` (an int or a list of ints).

    Called with ``mask=`` (True where a value counts), masked positions get probability 0.

    >>> Softmax()(np.array([[1.0, 1.0]]))
    Tensor([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [_axis("Softmax", a) for a in axis]
        else:
            self.axis = _axis("Softmax", axis)

    def call(self, inputs, mask=None):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        if mask is None:
            return activations.softmax(inputs, axis=axis)
        keep = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        # A large negative logit rather than -inf: a fully masked row stays finite (then 0).
        lowest = -3e4 if inputs.dtype == np.float16 else -1e9
        probabilities = activations.softmax(ops.where(keep, inputs, lowest), axis=axis)
        return probabilities * keep.astype(probabilities.dtype)

    def compute_output_shape(self, input_shape):
        return standardize_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Maxout(Layer):
    """Maxout (Goodfellow et al., 2013) as tensorflow-addons computes it.

    The axis of length C is split row-major into ``(C // num_units, num_units)`` and the max is
    taken over the first part, so output unit j is the max of inputs j, j + num_units,
    j + 2 * num_units, ... (interleaved groups, not contiguous ones).

    Args:
        num_units: features kept along ``axis``; must divide the axis's size.
        axis: the feature axis (default -1).

    >>> Maxout(2)(np.array([[1.0, 9.0, 3.0, 4.0]]))
    Tensor([[3., 9.]], dtype=float32)
    """

    def __init__(self, num_units, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_units, bool) or not isinstance(num_units, numbers.Integral) \
                or num_units < 1:
            raise ValueError(
                f"num_units of a Maxout layer must be a positive integer. "
                f"Received: num_units={num_units!r}"
            )
        self.num_units = int(num_units)
        self.axis = _axis("Maxout", axis)

    def _feature_axis(self, shape: tuple) -> int:
        """The non-negative position of ``axis`` in ``shape``, after checking the features."""
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(
                f"Maxout layer '{self.name}' has axis={self.axis}, but its input shape "
                f"{shape} has only {len(shape)} axes. Use an axis between {-len(shape)} and "
                f"{len(shape) - 1}."
            )
        features = shape[self.axis]
        if features is not None and features % self.num_units:
            suggestion = self.num_units * max(1, round(features / self.num_units))
            raise ValueError(
                f"number of features({features}) is not a multiple of num_units"
                f"({self.num_units}) in Maxout layer '{self.name}' (input shape {shape}, "
                f"axis {self.axis}). Choose a num_units that divides {features}, or make the "
                f"previous layer output a multiple of {self.num_units} features, e.g. "
                f"{suggestion}."
            )
        return self.axis % len(shape)

    def build(self, input_shape):
        self._feature_axis(input_shape)

    def call(self, inputs):
        shape = inputs.shape
        axis = self._feature_axis(shape)
        groups = shape[axis] // self.num_units
        # (..., C, ...) -> (..., groups, num_units, ...): element i * num_units + j of the axis
        # lands at [i, j], so the max over i pools the interleaved group of unit j.
        split = shape[:axis] + (groups, self.num_units) + shape[axis + 1:]
        return ops.max(ops.reshape(inputs, shape=split), axis=axis)

    def compute_output_shape(self, input_shape):
        shape = standardize_shape(input_shape)
        axis = self._feature_axis(shape)
        return shape[:axis] + (self.num_units,) + shape[axis + 1:]

    def get_config(self):
        return {**super().get_config(), "num_units": self.num_units, "axis": self.axis}
