"""Image reshaping layers: ZeroPadding2D and UpSampling2D (channels-last)."""

from __future__ import annotations

from numkeras.backprop import image_ops, ops
from numkeras.layers.convolutional import (
    ImageInputSpec,
    check_image_rank,
    normalize_data_format,
    normalize_tuple,
)
from numkeras.layers.layer import Layer


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
