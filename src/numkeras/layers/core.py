"""Core layers: Input, Dense, Flatten, Reshape, Dropout."""

from __future__ import annotations

import math
import numbers

import numpy as np

from numkeras import activations as _activations
from numkeras import config as _config
from numkeras import constraints as _constraints
from numkeras import initializers as _initializers
from numkeras import regularizers as _regularizers
from numkeras.backprop import ops
from numkeras.layers.layer import InputSpec, Layer, check_positive_int, standardize_shape
from numkeras.layers.node import KerasTensor, Node  # noqa: F401 - KerasTensor re-exported
from numkeras.utils import naming


class InputLayer(Layer):
    """The entry point of a model: declares the shape of one batch of inputs.

    Args:
        shape: shape of one sample, without the batch axis (Keras 2: ``input_shape``).
        batch_size: optional fixed batch size.
        batch_shape: the full shape with the batch axis (alternative to ``shape``).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 sparse=False, ragged=False, optional=False, **kwargs):
        if "input_shape" in kwargs:  # Keras 2 spelling
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("trainable", None)
        if sparse or ragged:
            raise ValueError("numkeras has no sparse or ragged tensors: pass sparse=False, "
                             "ragged=False.")
        super().__init__(name=name or naming.unique_name("input_layer"), dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs `shape=` (one sample's shape, e.g. (28, 28)) "
                                 "or `batch_shape=`.")
            batch_shape = (batch_size,) + standardize_shape(shape)
        self.batch_shape = standardize_shape(batch_shape)
        self.optional = optional
        self.built = True
        self._build_input_shape = self.batch_shape
        self._output_shape = self.batch_shape
        # The graph starts here: a node with no inputs whose output is the symbolic input.
        Node(self, [], {}, KerasTensor(self.batch_shape, self.dtype, name=name))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, **kwargs):
    """A symbolic input of ``shape`` (one sample, no batch axis) for the first layer of a model.

    >>> Input(shape=(28, 28)).shape
    (None, 28, 28)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape, **kwargs)
    return layer.output


def fusable_activation(activation, names) -> str | None:
    """The name in ``names`` of the built-in function ``activation`` is, if any.

    By identity, not by name: a user's own function called ``relu`` (or a lambda, a partial)
    is never swapped for the built-in. Sigmoid (like softmax) is never fused: as a node of its
    own it records its logits on the output, so binary crossentropy can use them.
    """
    for name in names:
        if name != "sigmoid" and _activations.get(name) is activation:
            return name
    return None


class KernelLayer(Layer):
    """A layer with a ``kernel`` and an optional ``bias`` (Dense, the convolutions): their
    options are validated and stored, and the two weights made, in one place."""

    def store_kernel_options(self, use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint,
                             bias_constraint) -> None:
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = _initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = _regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = _regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = _constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = _constraints.get(bias_constraint, "bias_constraint")

    def add_kernel_and_bias(self, kernel_shape: tuple, bias_size: int) -> None:
        """``self.kernel`` of ``kernel_shape`` and ``self.bias`` of ``(bias_size,)`` (None
        without ``use_bias``), with the stored initializers, regularizers and constraints."""
        self.kernel = self.add_weight("kernel", kernel_shape, self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (bias_size,), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)


class Dense(KernelLayer):
    """A fully connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Args:
        units: number of outputs.
        activation: name or function (default: none, i.e. linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: default ``glorot_uniform`` and ``zeros``.
        kernel_regularizer, bias_regularizer: penalties added to the loss.
        kernel_constraint, bias_constraint: projections applied after each update.

    Input shape ``(batch, ..., in)``; output ``(batch, ..., units)``.

    >>> import numpy as np
    >>> layer = Dense(3, activation="relu")
    >>> layer(np.ones((2, 4))).shape, [w.shape for w in layer.weights]
    ((2, 3), [(4, 3), (3,)])
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_positive_int(units, "units", self.name)
        self.activation = _activations.get(activation)
        self.store_kernel_options(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        if lora_rank or quantization_config:
            raise ValueError(f"Dense '{self.name}': LoRA and quantization are not supported; "
                             "pass lora_rank=None, quantization_config=None.")
        self._fused_activation = fusable_activation(self.activation,
                                                    ops.FUSED_DENSE_ACTIVATIONS)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"The last dimension of the inputs to Dense '{self.name}' must be "
                             f"known; received input_shape={input_shape}.")
        self.add_kernel_and_bias((in_features, self.units), self.units)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_features})

    def call(self, inputs):
        if self._fused_activation is not None:
            return ops.dense(inputs, self.kernel, self.bias, activation=self._fused_activation)
        # Softmax and the rest: a linear fused node, then the activation (softmax records its
        # logits on the output, so crossentropy can skip it).
        return self.activation(ops.dense(inputs, self.kernel, self.bias, activation="linear"))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": _activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _initializers.serialize(self.kernel_initializer),
                "bias_initializer": _initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": _constraints.serialize(self.kernel_constraint),
                "bias_constraint": _constraints.serialize(self.bias_constraint),
                "quantization_config": None}


class Flatten(Layer):
    """Flatten every axis but the batch axis: ``(batch, 28, 28)`` becomes ``(batch, 784)``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        return ops.reshape(inputs, shape=(inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape '{self.name}': at most one -1 is allowed in "
                             f"target_shape, received target_shape={self.target_shape}.")

    def call(self, inputs):
        return ops.reshape(inputs, shape=(inputs.shape[0],) + self._resolve(inputs.shape[1:]))

    def _resolve(self, sample_shape) -> tuple:
        size = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise self._mismatch(sample_shape)
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise self._mismatch(sample_shape)
        return self.target_shape

    def _mismatch(self, sample_shape):
        return ValueError(
            f"Reshape '{self.name}' cannot reshape samples of shape {tuple(sample_shape)} "
            f"({math.prod(sample_shape)} values) into target_shape={self.target_shape}. "
            f"The number of values must match."
        )

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._resolve(input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Zero a fraction ``rate`` of the inputs during training, scaling the rest by 1/(1-rate).

    At inference (``training`` false, as in ``predict`` and ``evaluate``) it passes inputs
    through unchanged.

    Args:
        rate: fraction to drop, in [0, 1).
        noise_shape: shape of the mask (``None`` entries take the input's size) to drop
            whole feature maps or time steps.
        seed: seed of this layer's own generator (default: from ``set_random_seed``).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(f"Invalid value received for argument `rate` of Dropout "
                             f"'{self.name}': expected a float in [0, 1), received rate={rate!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = _config.make_rng(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, inputs.shape))
        keep = self._rng.random(shape, dtype=np.float32) >= self.rate
        mask = keep.astype(inputs.dtype) * np.asarray(1.0 / (1.0 - self.rate), inputs.dtype)
        return ops.multiply(inputs, mask)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}
