"""Preprocessing layers (issue 16, first slice): Rescaling, Normalization, CenterCrop,
RandomFlip. Keras 3 names, arguments, defaults and config keys; channels_last images."""

from __future__ import annotations

import numpy as np

from numkeras import config as _config
from numkeras.backprop import ops
from numkeras.backprop.tensor import Tensor
from numkeras.layers.layer import Layer, check_positive_int


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class Rescaling(Layer):
    """``inputs * scale + offset``, e.g. ``Rescaling(1 / 255)`` maps pixels to [0, 1].

    >>> import numpy as np
    >>> Rescaling(0.5, offset=1.0)(np.array([[2.0, 4.0]])).data.tolist()
    [[2.0, 3.0]]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        scale = np.asarray(self.scale, dtype=self.dtype)
        offset = np.asarray(self.offset, dtype=self.dtype)
        return ops.add(ops.multiply(inputs, Tensor(scale)), Tensor(offset))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Feature-wise ``(x - mean) / sqrt(variance)`` (or its inverse with ``invert=True``).

    Without ``mean``/``variance`` the statistics are non-trainable weights ``mean``,
    ``variance`` and ``count`` (Keras 3's names and shapes) filled by ``adapt(data)``.

    >>> import numpy as np
    >>> layer = Normalization()
    >>> layer.adapt(np.array([[0.0], [2.0]]))
    >>> layer(np.array([[1.0], [3.0]])).data.tolist()
    [[0.0], [2.0]]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        self.axis = tuple(int(a) for a in axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization '{self.name}': pass both `mean` and `variance` "
                             f"or neither; received mean={mean!r}, variance={variance!r}.")
        self.input_mean, self.input_variance, self.invert = mean, variance, bool(invert)

    def build(self, input_shape):
        ndim = len(input_shape)
        keep = sorted(a % ndim for a in self.axis)
        for a in keep:
            if input_shape[a] is None:
                raise ValueError(f"Normalization '{self.name}': axis {a} of the input shape "
                                 f"{tuple(input_shape)} must be known; it is None.")
        self._keep_axis = tuple(keep)
        self._reduce_axis = tuple(a for a in range(ndim) if a not in keep)
        stats_shape = tuple(input_shape[a] for a in keep)
        self._broadcast_shape = tuple(input_shape[a] if a in keep else 1 for a in range(ndim))
        if self.input_mean is None:
            self.mean = self.add_weight("mean", stats_shape, "zeros", trainable=False)
            self.variance = self.add_weight("variance", stats_shape, "ones", trainable=False)
            self.count = self.add_weight("count", (), "zeros", dtype="int64", trainable=False)

    def adapt(self, data) -> None:
        """Compute ``mean`` and ``variance`` (population, as Keras) over all but ``axis``."""
        data = np.asarray(_array(data), dtype=np.float64)
        if not self.built:
            self.build_from_shape((None,) + data.shape[1:])
        if self.input_mean is not None:
            raise ValueError(f"Normalization '{self.name}' was given `mean` and `variance`; "
                             f"it cannot be adapted.")
        if data.ndim != len(self._broadcast_shape):
            raise ValueError(f"Normalization '{self.name}' was built for rank "
                             f"{len(self._broadcast_shape)} inputs; adapt received shape "
                             f"{data.shape}.")
        self.mean.data[...] = data.mean(axis=self._reduce_axis).reshape(self.mean.shape)
        self.variance.data[...] = data.var(axis=self._reduce_axis).reshape(self.variance.shape)
        self.count.data[...] = int(np.prod([data.shape[a] for a in self._reduce_axis]))

    def _stats(self):
        if self.input_mean is not None:
            mean = np.broadcast_to(np.asarray(self.input_mean, self.dtype), self._broadcast_shape)
            var = np.broadcast_to(np.asarray(self.input_variance, self.dtype),
                                  self._broadcast_shape)
        else:
            mean = self.mean.data.reshape(self._broadcast_shape)
            var = self.variance.data.reshape(self._broadcast_shape)
        # Keras divides by max(sqrt(variance), epsilon) so a constant feature stays finite.
        std = np.maximum(np.sqrt(var), _config.epsilon()).astype(self.dtype)
        return Tensor(mean.astype(self.dtype)), Tensor(std)

    def call(self, inputs):
        mean, std = self._stats()
        if self.invert:
            return ops.add(mean, ops.multiply(inputs, std))
        return ops.divide(ops.subtract(inputs, mean), std)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        def plain(value):
            return np.asarray(value).tolist() if isinstance(value, np.ndarray) else value
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": plain(self.input_mean), "variance": plain(self.input_variance)}


def _check_data_format(data_format, layer_name):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Layer '{layer_name}' supports only data_format='channels_last'; "
                         f"received {data_format!r}.")
    return "channels_last"


class CenterCrop(Layer):
    """The central ``height x width`` window of each image (channels_last).

    Like Keras, an image smaller than the target is first cropped to the target's aspect
    ratio and resized; that path is not implemented yet and raises an error.
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_positive_int(height, "height", self.name)
        self.width = check_positive_int(width, "width", self.name)
        self.data_format = _check_data_format(data_format, self.name)

    def call(self, inputs):
        h, w = inputs.shape[-3], inputs.shape[-2]
        if h < self.height or w < self.width:
            raise NotImplementedError(
                f"CenterCrop '{self.name}': input images {h}x{w} are smaller than the target "
                f"{self.height}x{self.width}; upscaling is not implemented yet.")
        top, left = (h - self.height) // 2, (w - self.width) // 2
        index = (Ellipsis, slice(top, top + self.height), slice(left, left + self.width),
                 slice(None))
        return ops.getitem(inputs, index=index)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width}


_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(Layer):
    """Flip each image left-right and/or up-down with probability 1/2, in training only.

    Seeded through the layer's own generator, so a seeded run repeats; at inference the
    inputs pass through unchanged.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in _FLIP_MODES:
            raise ValueError(f"RandomFlip '{self.name}': mode must be one of {_FLIP_MODES}; "
                             f"received {mode!r}.")
        self.mode, self.seed = mode, seed
        self.data_format = _check_data_format(data_format, self.name)
        self._rng = _config.make_rng(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = _array(inputs)
        images = x if x.ndim == 4 else x[None]  # (B, H, W, C)
        out = images
        batch_shape = (images.shape[0], 1, 1, 1)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = self._rng.random(batch_shape) < 0.5
            out = np.where(flip, out[:, :, ::-1, :], out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = self._rng.random(batch_shape) < 0.5
            out = np.where(flip, out[:, ::-1, :, :], out)
        out = out if x.ndim == 4 else out[0]
        return Tensor(np.ascontiguousarray(out, dtype=x.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed,
                "mode": self.mode}
