"""Reshaping layers: ZeroPadding2D, UpSampling2D and Cropping2D for images (Cropping2D also
channels-first), RepeatVector and Permute."""

from __future__ import annotations

import numpy as np

from numkeras import config as _config
from numkeras.backprop import image_ops, ops
from numkeras.layers.convolutional import (
    ImageInputSpec,
    check_image_rank,
    normalize_data_format,
    normalize_tuple,
)
from numkeras.layers.layer import InputSpec, Layer


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros around each image.

    Args:
        padding: int (same on all four sides), ``(symmetric_height, symmetric_width)``, or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` or None.

    >>> import numpy as np
    >>> ZeroPadding2D(((1, 0), (2, 1)))(np.ones((1, 2, 2, 3))).shape
    (1, 3, 5, 3)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, self.name)
        self.padding = self._normalize(padding)
        self.input_spec = ImageInputSpec(ndim=4)

    def _normalize(self, padding):
        name = self.name
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding, padding)
        if not isinstance(padding, (tuple, list)) or len(padding) != 2:
            raise ValueError(
                f"The `padding` argument of ZeroPadding2D '{name}' must be an int, a tuple of "
                f"2 ints (symmetric_height_pad, symmetric_width_pad) or a tuple of 2 tuples of "
                f"2 ints ((top_pad, bottom_pad), (left_pad, right_pad)). Received: "
                f"padding={padding!r}."
            )
        height = normalize_tuple(padding[0], 2, "padding", name, allow_zero=True)
        width = normalize_tuple(padding[1], 2, "padding", name, allow_zero=True)
        return (height, width)

    def build(self, input_shape):
        check_image_rank(self.name, input_shape)

    def call(self, inputs):
        return ops.pad(inputs, pad_width=((0, 0), *self.padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        check_image_rank(self.name, input_shape)
        (top, bottom), (left, right) = self.padding
        height, width = input_shape[1:3]
        return (input_shape[0], None if height is None else height + top + bottom,
                None if width is None else width + left + right, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class UpSampling2D(Layer):
    """Enlarge images by integer factors ``size``: ``(b, h, w, c)`` -> ``(b, h*sh, w*sw, c)``.

    Args:
        size: int or ``(rows, cols)`` factors.
        data_format: ``"channels_last"`` or None.
        interpolation: ``"nearest"`` (repeat pixels) or ``"bilinear"`` (half-pixel centres,
            edges clamped, as TensorFlow's resize).

    >>> import numpy as np
    >>> UpSampling2D((1, 2))(np.arange(4.0).reshape(1, 2, 2, 1)).data[0, :, :, 0].tolist()
    [[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]]
    """

    _INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size", self.name)
        self.data_format = normalize_data_format(data_format, self.name)
        method = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if method not in self._INTERPOLATIONS:
            raise ValueError(
                f"UpSampling2D '{self.name}' supports interpolation='nearest' or 'bilinear'. "
                f"Received: interpolation={interpolation!r}."
            )
        self.interpolation = method
        self.input_spec = ImageInputSpec(ndim=4)

    def build(self, input_shape):
        check_image_rank(self.name, input_shape)

    def call(self, inputs):
        if self.interpolation == "bilinear":
            return image_ops.upsample_bilinear2d(inputs, size=self.size)
        # Nearest: view each pixel as a (1, 1) block and broadcast it to (rows, cols); the
        # gradient of broadcast_to sums each block back, so no op of its own is needed.
        n, h, w, c = inputs.shape
        rows, cols = self.size
        blocks = ops.reshape(inputs, shape=(n, h, 1, w, 1, c))
        blocks = ops.broadcast_to(blocks, shape=(n, h, rows, w, cols, c))
        return ops.reshape(blocks, shape=(n, h * rows, w * cols, c))

    def compute_output_shape(self, input_shape):
        check_image_rank(self.name, input_shape)
        height, width = input_shape[1:3]
        return (input_shape[0], None if height is None else height * self.size[0],
                None if width is None else width * self.size[1], input_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class Cropping2D(Layer):
    """Remove rows and columns at the edges of each image.

    Args:
        cropping: int (same on all four sides), ``(symmetric_height, symmetric_width)``, or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    >>> import numpy as np
    >>> Cropping2D(((2, 2), (4, 4)))(np.zeros((2, 28, 28, 3))).shape
    (2, 24, 20, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _image_layout(data_format, self.name)
        if isinstance(cropping, (int, np.integer)) and not isinstance(cropping, bool):
            cropping = (cropping, cropping)
        if not isinstance(cropping, (tuple, list)) or len(cropping) != 2:
            raise ValueError(
                f"The `cropping` argument of Cropping2D '{self.name}' must be an int, a tuple "
                f"of 2 ints (symmetric_height_crop, symmetric_width_crop) or a tuple of 2 "
                f"tuples of 2 ints ((top_crop, bottom_crop), (left_crop, right_crop)). "
                f"Received: cropping={cropping!r}.")
        self.cropping = tuple(normalize_tuple(side, 2, "cropping", self.name, allow_zero=True)
                              for side in cropping)
        self.input_spec = InputSpec(ndim=4)

    def _spatial_axes(self) -> tuple[int, int]:
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def compute_output_shape(self, input_shape):
        self.input_spec.check(self.name, tuple(input_shape))
        shape = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            if shape[axis] is not None:
                if before + after >= shape[axis]:
                    raise ValueError(
                        f"Values in `cropping` argument of Cropping2D '{self.name}' should be "
                        f"smaller than the corresponding spatial dimension of the input. "
                        f"Received: input_shape={tuple(input_shape)}, "
                        f"cropping={self.cropping}")
                shape[axis] -= before + after
        return tuple(shape)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # sizes may differ from the built ones
        index = [slice(None)] * 4
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return ops.getitem(inputs, index=tuple(index))

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


def _image_layout(value, layer_name: str) -> str:
    """``"channels_last"`` or ``"channels_first"`` (default: ``image_data_format()``)."""
    data_format = _config.image_data_format() if value is None else str(value).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"The `data_format` argument of layer '{layer_name}' must be 'channels_last', "
            f"'channels_first' or None. Received: data_format={value!r}.")
    return data_format


class RepeatVector(Layer):
    """Repeat each sample ``n`` times: ``(batch, features)`` -> ``(batch, n, features)``.

    >>> import numpy as np
    >>> RepeatVector(3)(np.array([[1.0, 2.0]])).numpy().tolist()
    [[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"Expected an integer value for `n` of RepeatVector '{self.name}', "
                            f"got {type(n)}. Received: n={n!r}.")
        if n <= 0:
            raise ValueError(f"Argument `n` of RepeatVector '{self.name}' should be a positive "
                             f"integer. Received: n={n}")
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        # A (batch, 1, features) view broadcast to n rows; broadcast_to's gradient sums them.
        batch, features = inputs.shape
        rows = ops.reshape(inputs, shape=(batch, 1, features))
        return ops.broadcast_to(rows, shape=(batch, self.n, features))

    def compute_output_shape(self, input_shape):
        self.input_spec.check(self.name, tuple(input_shape))
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Reorder the axes of each sample by ``dims``, 1-based, without the batch axis.

    ``Permute((2, 1))`` swaps the two axes of ``(batch, steps, features)`` samples.

    >>> import numpy as np
    >>> Permute((2, 1))(np.zeros((4, 10, 64))).shape
    (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            self.dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            self.dims = None
        if self.dims is None or sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Invalid permutation argument `dims` for Permute layer '{self.name}'. The set "
                f"of indices in `dims` must be consecutive and start from 1 (the batch axis is "
                f"not included). Received dims={dims!r}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, axes=(0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self.input_spec.check(self.name, tuple(input_shape))
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}
