"""Pooling layers for channels-last images and sequences: windowed max/average and global
pooling."""

from __future__ import annotations

import numpy as np

from numkeras.backprop import image_ops, ops
from numkeras.layers.convolutional import (
    ImageInputSpec,
    check_image_rank,
    check_sequence_rank,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    sequence_output_length,
    spatial_output_shape,
)
from numkeras.layers.layer import Layer


class _Pooling2D(Layer):
    """Shared config, shape and call of MaxPooling2D and AveragePooling2D."""

    _primitive = None  # set by subclasses: the image op that pools

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        name = self.name
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size", name)
        self.strides = (self.pool_size if strides is None
                        else normalize_tuple(strides, 2, "strides", name))
        self.padding = normalize_padding(padding, name)
        self.data_format = normalize_data_format(data_format, name)
        self.input_spec = ImageInputSpec(ndim=4)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # rank and window checks; no weights

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # a clear error when the window does not fit
        return type(self)._primitive(inputs, pool_size=self.pool_size, strides=self.strides,
                                     padding=self.padding)

    def compute_output_shape(self, input_shape):
        check_image_rank(self.name, input_shape)
        height, width = spatial_output_shape(self.name, input_shape, self.pool_size,
                                             self.strides, self.padding, what="pool_size")
        return (input_shape[0], height, width, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """Maximum over windows of ``pool_size``, moved by ``strides`` (default ``pool_size``).

    Output height (``valid``): ``floor((height - pool) / stride) + 1``; (``same``):
    ``ceil(height / stride)``. The gradient goes to the first maximum of each window.

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> MaxPooling2D()(x).data[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    _primitive = staticmethod(image_ops.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """Mean over windows of ``pool_size``, moved by ``strides`` (default ``pool_size``).

    With ``padding="same"`` border windows average only their real pixels (TensorFlow's rule).

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> AveragePooling2D()(x).data[0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """

    _primitive = staticmethod(image_ops.avg_pool2d)


class _GlobalPooling2D(Layer):
    """Shared config and shape of the global pooling layers."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, self.name)
        self.keepdims = bool(keepdims)
        self.input_spec = ImageInputSpec(ndim=4)

    def build(self, input_shape):
        check_image_rank(self.name, input_shape)

    def compute_output_shape(self, input_shape):
        check_image_rank(self.name, input_shape)
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[3])
        return (input_shape[0], input_shape[3])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over height and width: ``(batch, h, w, c)`` becomes ``(batch, c)``.

    ``keepdims=True`` keeps the spatial axes as size 1: ``(batch, 1, 1, c)``.

    >>> import numpy as np
    >>> GlobalAveragePooling2D()(np.ones((2, 5, 5, 3))).shape
    (2, 3)
    """

    def call(self, inputs):
        return ops.mean(inputs, axis=(1, 2), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Maximum over height and width: ``(batch, h, w, c)`` becomes ``(batch, c)``.

    ``keepdims=True`` keeps the spatial axes as size 1. Tied maxima share the gradient
    equally (``ops.max``, as TensorFlow's ``reduce_max``).

    >>> import numpy as np
    >>> GlobalMaxPooling2D(keepdims=True)(np.ones((2, 5, 5, 3))).shape
    (2, 1, 1, 3)
    """

    def call(self, inputs):
        return ops.max(inputs, axis=(1, 2), keepdims=self.keepdims)


# ----- 1-D: sequences (batch, steps, channels), pooled as (batch, 1, steps, channels) -----


class _Pooling1D(Layer):
    """Shared config, shape and call of MaxPooling1D and AveragePooling1D."""

    _primitive = None  # set by subclasses: the 2-D image op that pools the (N, 1, T, C) view

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = self.name
        self.pool_size = normalize_tuple(pool_size, 1, "pool_size", name)
        self.strides = (self.pool_size if strides is None
                        else normalize_tuple(strides, 1, "strides", name))
        self.padding = normalize_padding(padding, name)
        self.data_format = normalize_data_format(data_format, name)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # rank and window checks; no weights

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)
        batch, steps, channels = inputs.shape
        x = ops.reshape(inputs, shape=(batch, 1, steps, channels))  # (N, 1, T, C)
        out = type(self)._primitive(x, pool_size=(1,) + self.pool_size,
                                    strides=(1,) + self.strides, padding=self.padding)
        return ops.reshape(out, shape=(batch, out.shape[2], channels))

    def compute_output_shape(self, input_shape):
        check_sequence_rank(self.name, input_shape)
        steps = sequence_output_length(self.name, input_shape, self.pool_size[0],
                                       self.strides[0], self.padding, what="pool_size")
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling1D):
    """Maximum over windows of ``pool_size`` steps, moved by ``strides`` (default
    ``pool_size``); ``(batch, steps, channels)`` to ``(batch, new_steps, channels)``.

    >>> import numpy as np
    >>> MaxPooling1D()(np.arange(6.0).reshape(1, 6, 1)).data[0, :, 0].tolist()
    [1.0, 3.0, 5.0]
    """

    _primitive = staticmethod(image_ops.max_pool2d)


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps, moved by ``strides`` (default ``pool_size``);
    with ``padding="same"`` border windows average only their real steps.

    >>> import numpy as np
    >>> AveragePooling1D()(np.arange(6.0).reshape(1, 6, 1)).data[0, :, 0].tolist()
    [0.5, 2.5, 4.5]
    """

    _primitive = staticmethod(image_ops.avg_pool2d)


class _GlobalPooling1D(Layer):
    """Shared config and shape of the 1-D global pooling layers."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, self.name)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_sequence_rank(self.name, input_shape)

    def compute_output_shape(self, input_shape):
        check_sequence_rank(self.name, input_shape)
        if self.keepdims:
            return (input_shape[0], 1, input_shape[2])
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps: ``(batch, steps, c)`` becomes ``(batch, c)`` (``(batch, 1, c)``
    with ``keepdims=True``). With a mask (``(batch, steps)``, from ``Embedding(mask_zero=True)``
    or ``Masking`` in a model), the mean is over the unmasked steps only, as in Keras.

    >>> import numpy as np
    >>> layer = GlobalAveragePooling1D()
    >>> layer(np.ones((2, 5, 3))).shape
    (2, 3)
    >>> layer(np.array([[[1.0], [3.0], [9.0]]]), mask=np.array([[True, True, False]])).data
    array([[2.]], dtype=float32)
    """

    supports_masking = True

    def call(self, inputs, mask=None):
        check_sequence_rank(self.name, inputs.shape)
        if mask is None:
            return ops.mean(inputs, axis=1, keepdims=self.keepdims)
        weights = np.asarray(mask, dtype=inputs.dtype)[:, :, None]  # (batch, steps, 1)
        total = ops.sum(ops.multiply(inputs, weights), axis=1, keepdims=self.keepdims)
        return ops.divide(total, weights.sum(axis=1, keepdims=self.keepdims))

    def compute_mask(self, inputs, previous_mask=None):
        return None  # the steps are gone


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the steps: ``(batch, steps, c)`` becomes ``(batch, c)``; tied maxima
    share the gradient equally (``ops.max``).

    >>> import numpy as np
    >>> GlobalMaxPooling1D(keepdims=True)(np.ones((2, 5, 3))).shape
    (2, 1, 3)
    """

    def call(self, inputs):
        check_sequence_rank(self.name, inputs.shape)
        return ops.max(inputs, axis=1, keepdims=self.keepdims)


# Keras's short aliases.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
