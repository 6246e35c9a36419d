"""Convolution layers (channels-last images) and the argument checks the image layers share."""

from __future__ import annotations

import numpy as np

from numkeras import activations as _activations
from numkeras import config as _config
from numkeras import constraints as _constraints
from numkeras import initializers as _initializers
from numkeras import regularizers as _regularizers
from numkeras.backprop import image_ops, ops
from numkeras.layers.core import KernelLayer, fusable_activation
from numkeras.layers.layer import InputSpec, Layer, check_positive_int

# ----- argument checks shared by the image layers -----


def normalize_tuple(value, n: int, argument: str, layer_name: str,
                    allow_zero: bool = False) -> tuple[int, ...]:
    """``value`` (an int, or ``n`` ints) as a tuple of ``n`` ints, each > 0 (or >= 0)."""
    items = (value,) * n if isinstance(value, (int, np.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    lowest = 0 if allow_zero else 1
    if len(items) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= lowest
            for v in items):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"The `{argument}` argument of layer '{layer_name}' must be a {kind} int or a "
            f"tuple of {n} {kind} ints. Received: {argument}={value!r}."
        )
    return tuple(int(v) for v in items)


def normalize_padding(value, layer_name: str) -> str:
    """``"valid"`` or ``"same"`` (any case)."""
    padding = value.lower() if isinstance(value, str) else value
    if padding not in ("valid", "same"):
        raise ValueError(
            f"The `padding` argument of layer '{layer_name}' must be 'valid' or 'same'. "
            f"Received: padding={value!r}."
        )
    return padding


def normalize_data_format(value, layer_name: str, channels_first: bool = False) -> str:
    """``"channels_last"``, or ``"channels_first"`` for the layers that take it
    (``channels_first=True``); the others implement channels-last images only."""
    data_format = _config.image_data_format() if value is None else str(value).lower()
    if data_format == "channels_first" and channels_first:
        return data_format
    if data_format == "channels_first":
        raise ValueError(
            f"Layer '{layer_name}' received data_format='channels_first', but numkeras "
            f"implements only 'channels_last' images (batch, height, width, channels). Pass "
            f"data_format='channels_last' (or None) and transpose the data, e.g. "
            f"np.transpose(x, (0, 2, 3, 1))."
        )
    if data_format != "channels_last":
        raise ValueError(
            f"The `data_format` argument of layer '{layer_name}' must be 'channels_last' or "
            f"None. Received: data_format={value!r}."
        )
    return data_format


class ImageInputSpec(InputSpec):
    """An InputSpec whose rank error on a 3-D batch says how to add the channel axis."""

    def check(self, layer_name: str, shape: tuple) -> None:
        check_image_rank(layer_name, shape, self.ndim)
        super().check(layer_name, shape)


def check_image_rank(layer_name: str, shape: tuple, ndim: int = 4) -> None:
    """Raise unless ``shape`` is a batch of images ``(batch, height, width, channels)``."""
    shape = tuple(shape)
    if len(shape) == ndim:
        return
    hint = ""
    if len(shape) == 3:
        _, height, width = shape
        hint = (f" It looks like a batch of single-channel images without the channel axis: "
                f"add one with `x[..., None]` (or `np.expand_dims(x, -1)`), or start the model "
                f"with `Reshape(({height}, {width}, 1))`.")
    raise ValueError(
        f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected ndim={ndim} "
        f"(batch, height, width, channels), found ndim={len(shape)}. Full shape received: "
        f"{shape}.{hint}"
    )


def spatial_output_shape(layer_name: str, input_shape, window, strides, padding,
                         dilation=(1, 1), what="kernel") -> tuple:
    """``(height, width)`` after a sliding window; an error when the window does not fit."""
    sizes = tuple(image_ops.conv_output_length(n, k, s, padding, d)
                  for n, k, s, d in zip(input_shape[1:3], window, strides, dilation))
    if any(size is not None and size < 1 for size in sizes):
        span = tuple((k - 1) * d + 1 for k, d in zip(window, dilation))
        raise ValueError(
            f"Layer '{layer_name}': the {what} (size {tuple(window)}, dilation "
            f"{tuple(dilation)}, so it spans {span}) is larger than the input's height and "
            f"width {tuple(input_shape[1:3])} with padding='{padding}' (full input shape "
            f"{tuple(input_shape)}). Use a smaller {what}, padding='same', or larger inputs."
        )
    return sizes


# ----- Conv2D -----


def store_window_options(layer, rank: int, filters, kernel_size, strides, dilation_rate,
                         data_format, groups=None, channels_first: bool = False) -> None:
    """Validate and store the options every convolution shares (``rank`` spatial axes):
    filters (unless None: a depthwise convolution has none), kernel_size, strides,
    dilation_rate, data_format and, if given, groups (only 1)."""
    name, kind = layer.name, type(layer).__name__
    if filters is not None:
        layer.filters = check_positive_int(filters, "filters", name)
    layer.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", name)
    layer.strides = normalize_tuple(strides, rank, "strides", name)
    layer.data_format = normalize_data_format(data_format, name, channels_first)
    layer.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", name)
    if groups is not None:
        layer.groups = check_positive_int(groups, "groups", name)
        if layer.groups != 1:
            raise ValueError(
                f"{kind} '{name}' received groups={groups!r}; numkeras implements only "
                f"groups=1. Split the channels and use one {kind} per group instead.")
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(
            f"{kind} '{name}': `strides > 1` is not supported together with "
            f"`dilation_rate > 1` (as in Keras). Received: strides={layer.strides} and "
            f"dilation_rate={layer.dilation_rate}.")


class Conv2D(KernelLayer):
    """2-D convolution (a cross-correlation, as in Keras) over channels-last images.

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width) of the window.
        strides: int or pair; ``> 1`` cannot be combined with ``dilation_rate > 1``.
        padding: ``"valid"`` (none) or ``"same"`` (TensorFlow's: the extra pixel goes
            bottom/right, so ``strides=1`` keeps the size).
        data_format: ``"channels_last"`` or None; ``"channels_first"`` is not implemented.
        dilation_rate: int or pair, spacing between kernel taps.
        groups: only 1 (grouped convolutions are not implemented).
        activation: name or function (default: none, i.e. linear). ``"relu"``, ``"tanh"``
            and linear are fused into the convolution.
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer: default ``glorot_uniform`` and ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties.
        kernel_constraint, bias_constraint: projections applied after each update.

    Input ``(batch, height, width, channels)``; output ``(batch, new_height, new_width,
    filters)``. Weights: ``kernel`` ``(kh, kw, channels, filters)`` then ``bias``
    ``(filters,)``, Keras's order and layout.

    >>> import numpy as np
    >>> layer = Conv2D(8, 3, activation="relu")
    >>> layer(np.zeros((2, 28, 28, 1))).shape, [w.shape for w in layer.weights]
    ((2, 26, 26, 8), [(3, 3, 1, 8), (8,)])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = self.name
        store_window_options(self, 2, filters, kernel_size, strides, dilation_rate, data_format,
                             groups)
        self.padding = normalize_padding(padding, name)
        if lora_rank:
            raise ValueError(f"Conv2D '{name}': LoRA is not supported; pass lora_rank=None.")
        self.activation = _activations.get(activation, "activation")
        self._fused_activation = fusable_activation(self.activation,
                                                    image_ops.FUSED_CONV_ACTIVATIONS)
        self.store_kernel_options(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self.input_spec = ImageInputSpec(ndim=4)

    def build(self, input_shape):
        check_image_rank(self.name, input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"The channel axis (last) of the inputs to Conv2D '{self.name}' "
                             f"must be known; received input_shape={tuple(input_shape)}.")
        self.compute_output_shape(input_shape)  # the kernel must fit the input
        self.add_kernel_and_bias(self.kernel_size + (channels, self.filters), self.filters)
        self.input_spec = ImageInputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        # Size check here too: a model built with unknown height/width meets sizes only now.
        self.compute_output_shape(inputs.shape)
        fused = self._fused_activation
        out = image_ops.conv2d(inputs, self.kernel, self.bias, strides=self.strides,
                               padding=self.padding, dilation_rate=self.dilation_rate,
                               activation=fused or "linear")
        return out if fused is not None else self.activation(out)

    def compute_output_shape(self, input_shape):
        check_image_rank(self.name, input_shape)
        height, width = spatial_output_shape(self.name, input_shape, self.kernel_size,
                                             self.strides, self.padding, self.dilation_rate)
        return (input_shape[0], height, width, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": _activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": _initializers.serialize(self.kernel_initializer),
                "bias_initializer": _initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": _constraints.serialize(self.kernel_constraint),
                "bias_constraint": _constraints.serialize(self.bias_constraint)}


# ----- Conv2DTranspose -----


class Conv2DTranspose(KernelLayer):
    """Transposed 2-D convolution (sometimes called deconvolution) over channels-last images:
    the gradient of a Conv2D with respect to its input, used as a layer that upsamples.

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width) of the window.
        strides: int or pair: the upsampling factor; ``> 1`` cannot be combined with
            ``dilation_rate > 1``.
        padding: ``"valid"`` or ``"same"``; with ``strides=s`` and ``output_padding=None``,
            ``"same"`` makes each side exactly ``s`` times longer.
        output_padding: None (the length follows from ``padding``), or an int or pair of
            ints, each less than the stride, added at the end of each axis.
        data_format: ``"channels_last"`` or None; ``"channels_first"`` is not implemented.
        dilation_rate: int or pair, spacing between kernel taps.
        activation: name or function (default: none, i.e. linear).
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer: default ``glorot_uniform`` and ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties.
        kernel_constraint, bias_constraint: projections applied after each update.

    Input ``(batch, height, width, channels)``; output ``(batch, new_height, new_width,
    filters)``, Keras 3's lengths (``image_ops.conv_transpose_output_length``): ``valid``
    gives ``(n - 1) * s + max(k, s)``, ``same`` gives ``n * s``. Weights: ``kernel``
    ``(kh, kw, filters, channels)`` (Keras's layout: filters before channels) then ``bias``
    ``(filters,)``.

    >>> import numpy as np
    >>> layer = Conv2DTranspose(8, 3, strides=2, padding="same")
    >>> layer(np.zeros((2, 7, 7, 16))).shape, [w.shape for w in layer.weights]
    ((2, 14, 14, 8), [(3, 3, 8, 16), (8,)])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = self.name
        store_window_options(self, 2, filters, kernel_size, strides, dilation_rate, data_format)
        self.padding = normalize_padding(padding, name)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, 2, "output_padding", name, allow_zero=True)
        if self.output_padding is not None and any(
                extra >= stride for extra, stride in zip(self.output_padding, self.strides)):
            raise ValueError(
                f"Conv2DTranspose '{name}': each value of `output_padding` must be less than "
                f"the stride along the same axis (as in Keras). Received: output_padding="
                f"{self.output_padding} and strides={self.strides}."
            )
        self.activation = _activations.get(activation, "activation")
        self.store_kernel_options(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self.input_spec = ImageInputSpec(ndim=4)

    def build(self, input_shape):
        check_image_rank(self.name, input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"The channel axis (last) of the inputs to Conv2DTranspose "
                             f"'{self.name}' must be known; received input_shape="
                             f"{tuple(input_shape)}.")
        self.compute_output_shape(input_shape)
        self.add_kernel_and_bias(self.kernel_size + (self.filters, channels), self.filters)
        self.input_spec = ImageInputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # height/width may be known only now
        out = image_ops.conv2d_transpose(inputs, self.kernel, self.bias, strides=self.strides,
                                         padding=self.padding,
                                         output_padding=self.output_padding,
                                         dilation_rate=self.dilation_rate)
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        check_image_rank(self.name, input_shape)
        extras = self.output_padding or (None, None)
        sizes = tuple(image_ops.conv_transpose_output_length(n, k, s, self.padding, e, d)
                      for n, k, s, e, d in zip(input_shape[1:3], self.kernel_size,
                                               self.strides, extras, self.dilation_rate))
        if any(size is not None and size < 1 for size in sizes):
            raise ValueError(
                f"Layer '{self.name}': inputs of height and width {tuple(input_shape[1:3])} "
                f"give an empty output {sizes} with kernel_size={self.kernel_size}, "
                f"padding='{self.padding}' and output_padding={self.output_padding} (full "
                f"input shape {tuple(input_shape)}). Use output_padding=None, an odd kernel, "
                f"or larger inputs."
            )
        return (input_shape[0], *sizes, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "output_padding": self.output_padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": _activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": _initializers.serialize(self.kernel_initializer),
                "bias_initializer": _initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": _constraints.serialize(self.kernel_constraint),
                "bias_constraint": _constraints.serialize(self.bias_constraint)}


# ----- Conv1D -----


def check_sequence_rank(layer_name: str, shape: tuple) -> None:
    """Raise unless ``shape`` is a batch of sequences ``(batch, steps, channels)``."""
    shape = tuple(shape)
    if len(shape) != 3:
        hint = (" It looks like a batch of single-channel sequences: add the channel axis "
                "with `x[..., None]`." if len(shape) == 2 else "")
        raise ValueError(
            f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected ndim=3 "
            f"(batch, steps, channels), found ndim={len(shape)}. Full shape received: "
            f"{shape}.{hint}")


def sequence_output_length(layer_name: str, input_shape, window: int, stride: int,
                           padding: str, dilation: int = 1, what: str = "kernel"):
    """Steps after a 1-D sliding window (``causal`` pads ``span - 1`` steps on the left)."""
    steps = input_shape[1]
    span = (window - 1) * dilation + 1
    if padding == "causal":
        steps, padding = (None if steps is None else steps + span - 1), "valid"
    length = image_ops.conv_output_length(steps, window, stride, padding, dilation)
    if length is not None and length < 1:
        raise ValueError(
            f"Layer '{layer_name}': the {what} (size {window}, dilation {dilation}, so it spans "
            f"{span}) is longer than the input's {input_shape[1]} steps with "
            f"padding='{padding}' (full input shape {tuple(input_shape)}). Use a smaller "
            f"{what}, padding='same', or longer inputs.")
    return length


class Conv1D(KernelLayer):
    """1-D convolution (cross-correlation) over channels-last sequences, as Keras's Conv1D.

    Args are Conv2D's with single ints (or 1-tuples), and ``padding`` may also be
    ``"causal"``: ``(kernel_size - 1) * dilation_rate`` zeros on the left, so output step
    ``t`` sees only input steps ``<= t``.

    Input ``(batch, steps, channels)``; output ``(batch, new_steps, filters)``. Weights:
    ``kernel`` ``(kernel_size, channels, filters)`` then ``bias`` ``(filters,)``, Keras's
    layout. Computed by the conv2d primitive on a ``(batch, 1, steps, channels)`` view.

    >>> import numpy as np
    >>> layer = Conv1D(4, 3, padding="causal")
    >>> layer(np.zeros((2, 10, 5))).shape, [w.shape for w in layer.weights]
    ((2, 10, 4), [(3, 5, 4), (4,)])
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = self.name
        store_window_options(self, 1, filters, kernel_size, strides, dilation_rate, data_format,
                             groups)
        lowered = padding.lower() if isinstance(padding, str) else padding
        self.padding = "causal" if lowered == "causal" else normalize_padding(padding, name)
        self.activation = _activations.get(activation, "activation")
        self._fused_activation = fusable_activation(self.activation,
                                                    image_ops.FUSED_CONV_ACTIVATIONS)
        self.store_kernel_options(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self.input_spec = _SequenceInputSpec(ndim=3)

    def build(self, input_shape):
        check_sequence_rank(self.name, input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"The channel axis (last) of the inputs to Conv1D '{self.name}' "
                             f"must be known; received input_shape={tuple(input_shape)}.")
        self.compute_output_shape(input_shape)  # the kernel must fit the input
        self.add_kernel_and_bias(self.kernel_size + (channels, self.filters), self.filters)
        self.input_spec = _SequenceInputSpec(ndim=3, axes={-1: channels})

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        (k,), (d,) = self.kernel_size, self.dilation_rate
        batch, steps, channels = inputs.shape
        x = ops.reshape(inputs, shape=(batch, 1, steps, channels))  # (N, 1, T, C)
        padding = self.padding
        if padding == "causal":
            x = ops.pad(x, pad_width=((0, 0), (0, 0), ((k - 1) * d, 0), (0, 0)))
            padding = "valid"
        kernel = ops.reshape(self.kernel, shape=(1,) + tuple(self.kernel.shape))  # (1, k, C, F)
        fused = self._fused_activation
        out = image_ops.conv2d(x, kernel, self.bias, strides=(1,) + self.strides,
                               padding=padding, dilation_rate=(1,) + self.dilation_rate,
                               activation=fused or "linear")  # (N, 1, T', F)
        out = ops.reshape(out, shape=(batch, out.shape[2], self.filters))
        return out if fused is not None else self.activation(out)

    def compute_output_shape(self, input_shape):
        check_sequence_rank(self.name, input_shape)
        steps = sequence_output_length(self.name, input_shape, self.kernel_size[0],
                                       self.strides[0], self.padding, self.dilation_rate[0])
        return (input_shape[0], steps, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": _activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": _initializers.serialize(self.kernel_initializer),
                "bias_initializer": _initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": _constraints.serialize(self.kernel_constraint),
                "bias_constraint": _constraints.serialize(self.bias_constraint)}


class _SequenceInputSpec(InputSpec):
    """An InputSpec whose rank error says the layer wants ``(batch, steps, channels)``."""

    def check(self, layer_name: str, shape: tuple) -> None:
        check_sequence_rank(layer_name, shape)
        super().check(layer_name, shape)


Convolution1D = Conv1D


# ----- depthwise and separable convolutions -----


class _DepthwiseOptions(Layer):
    """What DepthwiseConv1D/2D and SeparableConv1D/2D share: the window options, the
    depthwise kernel's options, the rank checks and the output shape (``_rank`` spatial axes:
    1 for sequences, computed on a ``(batch, 1, steps, channels)`` view, or 2 for images).
    Channels-first inputs are transposed to channels-last and the outputs back."""

    _rank = 2

    def _store_depthwise_options(self, filters, kernel_size, strides, padding, data_format,
                                 dilation_rate, depth_multiplier, activation, use_bias,
                                 depthwise_initializer, bias_initializer,
                                 depthwise_regularizer, bias_regularizer,
                                 depthwise_constraint, bias_constraint) -> None:
        store_window_options(self, self._rank, filters, kernel_size, strides, dilation_rate,
                             data_format, channels_first=True)
        self.padding = normalize_padding(padding, self.name)
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier",
                                                   self.name)
        self.activation = _activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = _initializers.get(depthwise_initializer,
                                                       "depthwise_initializer")
        self.bias_initializer = _initializers.get(bias_initializer, "bias_initializer")
        self.depthwise_regularizer = _regularizers.get(depthwise_regularizer,
                                                       "depthwise_regularizer")
        self.bias_regularizer = _regularizers.get(bias_regularizer, "bias_regularizer")
        self.depthwise_constraint = _constraints.get(depthwise_constraint,
                                                     "depthwise_constraint")
        self.bias_constraint = _constraints.get(bias_constraint, "bias_constraint")
        self.input_spec = self._input_spec()

    def _input_spec(self, channels=None):
        axes = None if channels is None else {self._channel_axis(): channels}
        if self._rank == 2:
            return ImageInputSpec(ndim=4, axes=axes)
        return _SequenceInputSpec(ndim=3, axes=axes)

    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _check_rank(self, shape) -> None:
        (check_image_rank if self._rank == 2 else check_sequence_rank)(self.name, shape)

    def _last(self, shape) -> tuple:
        """``shape`` in channels-last order (batch, spatial..., channels)."""
        shape = tuple(shape)
        if self.data_format == "channels_first":
            return (shape[0],) + shape[2:] + (shape[1],)
        return shape

    def _to_last(self, x):
        if self.data_format != "channels_first":
            return x
        return ops.transpose(x, axes=(0,) + tuple(range(2, x.ndim)) + (1,))

    def _from_last(self, x):
        if self.data_format != "channels_first":
            return x
        return ops.transpose(x, axes=(0, x.ndim - 1) + tuple(range(1, x.ndim - 1)))

    def _shape_after(self, input_shape, channels_out) -> tuple:
        shape = self._last(input_shape)
        out = (shape[0], *self._spatial_shape(shape), channels_out)
        if self.data_format == "channels_first":
            return (out[0], out[-1]) + out[1:-1]
        return out

    def _channels(self, input_shape) -> int:
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"The channel axis ({self.data_format}) of the inputs to "
                             f"{type(self).__name__} '{self.name}' must be known; received "
                             f"input_shape={tuple(input_shape)}.")
        self._spatial_shape(self._last(input_shape))  # the kernel must fit the input
        return channels

    def _spatial_shape(self, input_shape) -> tuple:
        """Spatial output sizes for a channels-last ``input_shape``."""
        self._check_rank(input_shape)
        if self._rank == 1:
            return (sequence_output_length(self.name, input_shape, self.kernel_size[0],
                                           self.strides[0], self.padding,
                                           self.dilation_rate[0]),)
        return spatial_output_shape(self.name, input_shape, self.kernel_size, self.strides,
                                    self.padding, self.dilation_rate)

    def _add_depthwise_kernel(self, name: str, channels: int):
        return self.add_weight(name, self.kernel_size + (channels, self.depth_multiplier),
                               self.depthwise_initializer,
                               regularizer=self.depthwise_regularizer,
                               constraint=self.depthwise_constraint)

    def _add_bias(self, size: int):
        if not self.use_bias:
            return None
        return self.add_weight("bias", (size,), self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)

    def _depthwise(self, inputs, kernel, bias):
        """The depthwise primitive on channels-last ``inputs``; sequences go through a
        height-1 image."""
        self._spatial_shape(inputs.shape)  # lengths may be known only now
        options = {"strides": self.strides, "padding": self.padding,
                   "dilation_rate": self.dilation_rate}
        if self._rank == 2:
            return image_ops.depthwise_conv2d(inputs, kernel, bias, **options)
        batch, steps, channels = inputs.shape
        x = ops.reshape(inputs, shape=(batch, 1, steps, channels))  # (N, 1, T, C)
        kernel = ops.reshape(kernel, shape=(1,) + tuple(kernel.shape))  # (1, k, C, M)
        out = image_ops.depthwise_conv2d(x, kernel, bias, strides=(1,) + self.strides,
                                         padding=self.padding,
                                         dilation_rate=(1,) + self.dilation_rate)
        return ops.reshape(out, shape=(batch, out.shape[2], out.shape[3]))

    def _window_config(self) -> dict:
        return {"depth_multiplier": self.depth_multiplier, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": _activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "depthwise_initializer": _initializers.serialize(self.depthwise_initializer),
                "bias_initializer": _initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": _regularizers.serialize(self.depthwise_regularizer),
                "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": _constraints.serialize(self.depthwise_constraint),
                "bias_constraint": _constraints.serialize(self.bias_constraint)}


class DepthwiseConv2D(_DepthwiseOptions):
    """Depthwise 2-D convolution: each input channel is convolved with its own
    ``depth_multiplier`` filters; channels are never mixed (Keras 3's DepthwiseConv2D).

    Args:
        kernel_size: int or (height, width) of the window.
        strides: int or pair; ``> 1`` cannot be combined with ``dilation_rate > 1``.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's, as Conv2D).
        depth_multiplier: output channels per input channel.
        data_format: ``"channels_last"`` (default) or ``"channels_first"`` (inputs
            ``(batch, channels, height, width)``, computed through transposes).
        dilation_rate: int or pair, spacing between kernel taps.
        activation: name or function (default: none, i.e. linear).
        use_bias: whether to add a bias per output channel.
        depthwise_initializer, bias_initializer: default ``glorot_uniform`` and ``zeros``.
        depthwise_regularizer, bias_regularizer, activity_regularizer: penalties.
        depthwise_constraint, bias_constraint: projections applied after each update.

    Input ``(batch, height, width, channels)``; output ``(batch, new_height, new_width,
    channels * depth_multiplier)``, channel ``c * depth_multiplier + m`` from filter ``m`` of
    input channel ``c``. Weights: ``kernel`` ``(kh, kw, channels, depth_multiplier)`` then
    ``bias`` ``(channels * depth_multiplier,)``, Keras's names, order and layout.

    >>> import numpy as np
    >>> layer = DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    >>> layer(np.zeros((2, 8, 8, 4))).shape, [w.shape for w in layer.weights]
    ((2, 8, 8, 8), [(3, 3, 4, 2), (8,)])
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._store_depthwise_options(None, kernel_size, strides, padding, data_format,
                                      dilation_rate, depth_multiplier, activation, use_bias,
                                      depthwise_initializer, bias_initializer,
                                      depthwise_regularizer, bias_regularizer,
                                      depthwise_constraint, bias_constraint)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.kernel = self._add_depthwise_kernel("kernel", channels)
        self.bias = self._add_bias(channels * self.depth_multiplier)
        self.input_spec = self._input_spec(channels)

    def call(self, inputs):
        out = self._depthwise(self._to_last(inputs), self.kernel, self.bias)
        return self.activation(self._from_last(out))

    def compute_output_shape(self, input_shape):
        channels = input_shape[self._channel_axis()]
        return self._shape_after(
            input_shape, None if channels is None else channels * self.depth_multiplier)

    def get_config(self):
        return {**super().get_config(), **self._window_config()}


class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise 1-D convolution over ``(batch, steps, channels)`` sequences, Keras 3's
    DepthwiseConv1D: DepthwiseConv2D's arguments with single ints; padding ``"valid"`` or
    ``"same"``. Weights ``kernel`` ``(k, channels, depth_multiplier)`` and ``bias``.

    >>> import numpy as np
    >>> layer = DepthwiseConv1D(3, depth_multiplier=2)
    >>> layer(np.zeros((2, 10, 4))).shape, [w.shape for w in layer.weights]
    ((2, 8, 8), [(3, 4, 2), (8,)])
    """

    _rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, **kwargs):
        super().__init__(kernel_size, strides=strides, padding=padding,
                         depth_multiplier=depth_multiplier, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)


class SeparableConv2D(_DepthwiseOptions):
    """Depthwise separable 2-D convolution (Keras 3's SeparableConv2D): a depthwise
    convolution (each channel alone, ``depth_multiplier`` filters each) followed by a
    pointwise (1x1) convolution that mixes the channels into ``filters`` outputs.

    Args:
        filters: number of output channels.
        kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier: as
            DepthwiseConv2D.
        activation: applied after the pointwise step (``relu``/``tanh``/linear fused).
        use_bias: whether to add a bias per filter (after the pointwise step).
        depthwise_initializer, pointwise_initializer, bias_initializer: default
            ``glorot_uniform``, ``glorot_uniform``, ``zeros``.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer,
        activity_regularizer, depthwise_constraint, pointwise_constraint, bias_constraint.

    Weights, Keras's order: ``depthwise_kernel`` ``(kh, kw, channels, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, 1, channels * depth_multiplier, filters)``, ``bias``
    ``(filters,)``.

    >>> import numpy as np
    >>> layer = SeparableConv2D(16, 3, padding="same")
    >>> layer(np.zeros((2, 8, 8, 4))).shape, [w.shape for w in layer.weights]
    ((2, 8, 8, 16), [(3, 3, 4, 1), (1, 1, 4, 16), (16,)])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._store_depthwise_options(filters, kernel_size, strides, padding, data_format,
                                      dilation_rate, depth_multiplier, activation, use_bias,
                                      depthwise_initializer, bias_initializer,
                                      depthwise_regularizer, bias_regularizer,
                                      depthwise_constraint, bias_constraint)
        self.pointwise_initializer = _initializers.get(pointwise_initializer,
                                                       "pointwise_initializer")
        self.pointwise_regularizer = _regularizers.get(pointwise_regularizer,
                                                       "pointwise_regularizer")
        self.pointwise_constraint = _constraints.get(pointwise_constraint,
                                                     "pointwise_constraint")
        self._fused_activation = fusable_activation(self.activation,
                                                    ops.FUSED_DENSE_ACTIVATIONS)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.depthwise_kernel = self._add_depthwise_kernel("depthwise_kernel", channels)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * self._rank + (channels * self.depth_multiplier,
                                                    self.filters),
            self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self._add_bias(self.filters)
        self.input_spec = self._input_spec(channels)

    def call(self, inputs):
        mixed = self._depthwise(self._to_last(inputs), self.depthwise_kernel, None)  # (N,..,CM)
        # The pointwise step is a 1x1 convolution: one product over the last axis.
        kernel = ops.reshape(self.pointwise_kernel, shape=tuple(self.pointwise_kernel.shape[-2:]))
        fused = self._fused_activation
        out = self._from_last(ops.dense(mixed, kernel, self.bias, activation=fused or "linear"))
        return out if fused is not None else self.activation(out)

    def compute_output_shape(self, input_shape):
        return self._shape_after(input_shape, self.filters)

    def get_config(self):
        config = {**super().get_config(), "filters": self.filters, **self._window_config(),
                  "pointwise_initializer": _initializers.serialize(self.pointwise_initializer),
                  "pointwise_regularizer": _regularizers.serialize(self.pointwise_regularizer),
                  "pointwise_constraint": _constraints.serialize(self.pointwise_constraint)}
        return config


class SeparableConv1D(SeparableConv2D):
    """Depthwise separable 1-D convolution over ``(batch, steps, channels)`` sequences,
    Keras 3's SeparableConv1D: SeparableConv2D's arguments with single ints. Weights
    ``depthwise_kernel`` ``(k, channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, channels * depth_multiplier, filters)``, ``bias``.

    >>> import numpy as np
    >>> layer = SeparableConv1D(6, 3, padding="same")
    >>> layer(np.zeros((2, 10, 4))).shape, [w.shape for w in layer.weights]
    ((2, 10, 6), [(3, 4, 1), (1, 4, 6), (6,)])
    """

    _rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         depth_multiplier=depth_multiplier, **kwargs)


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
