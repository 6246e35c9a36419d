"""Preprocessing layers (issue 16, first slice): Rescaling, Normalization, CenterCrop,
Resizing, RandomFlip, RandomContrast, RandomBrightness, RandomCrop, RandomTranslation,
RandomRotation, RandomZoom.
Keras 3 names, arguments, defaults and config keys; channels_last images."""

from __future__ import annotations

import numpy as np

from numkeras import config as _config
from numkeras.backprop import ops
from numkeras.backprop.tensor import Tensor
from numkeras.layers.layer import Layer, check_positive_int
from numkeras.utils.image_utils import affine_transform, resize_images


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


def _factor_pair(factor, bounds, name, layer_name):
    """Keras 3's ``_set_factor``: a number f gives ``(max(-|f|, low), |f|)``; a pair is sorted."""
    message = (f"Layer '{layer_name}': `{name}` should be a number or a pair of numbers in "
               f"[{bounds[0]}, {bounds[1]}]; received {factor!r}.")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if not bounds[0] <= factor <= bounds[1]:
            raise ValueError(message)
        factor = abs(factor)
        return (max(-factor, bounds[0]), factor)
    raise ValueError(message)


def _batched(x: np.ndarray, layer_name: str) -> np.ndarray:
    if x.ndim not in (3, 4):
        raise ValueError(f"Layer '{layer_name}' expects images of rank 3 (H, W, C) or 4 "
                         f"(batch, H, W, C); received shape {x.shape}.")
    return x if x.ndim == 4 else x[None]


def _like_input(out: np.ndarray, x: np.ndarray) -> Tensor:
    return Tensor(np.ascontiguousarray(out if x.ndim == 4 else out[0], dtype=x.dtype))


class _RandomImageLayer(Layer):
    """Shared by the random augmentations: a seeded generator of the layer's own, inputs
    passed through unchanged at inference, and ``augment`` on a (B, H, W, C) batch in
    training; the output has the input's shape."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = _check_data_format(data_format, self.name)
        self._rng = _config.make_rng(seed)

    def augment(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = _array(inputs)
        return _like_input(self.augment(_batched(x, self.name)), x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class RandomContrast(_RandomImageLayer):
    """Per image, ``(x - mean) * c + mean`` with ``c ~ U(1 - lower, 1 + upper)`` (means over
    height and width per channel), clipped to ``value_range``; training only.

    As Keras 3, a number ``factor`` is stored as ``(0, factor)``.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(factor, (0, 1), "factor", self.name)
        self.value_range = value_range

    def augment(self, images):
        c = self._rng.uniform(1.0 - self.factor[0], 1.0 + self.factor[1],
                              (images.shape[0], 1, 1, 1))
        mean = images.mean(axis=(1, 2), keepdims=True)
        return np.clip((images - mean) * c + mean, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomBrightness(_RandomImageLayer):
    """Per image, add ``delta * (high - low)`` with ``delta ~ U(*factor)``, then clip to
    ``value_range = (low, high)``; training only."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(factor, (-1, 1), "factor", self.name)
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"Layer '{self.name}': `value_range` must be a pair (low, high); "
                             f"received {value_range!r}.")
        self.value_range = sorted(value_range)

    def augment(self, images):
        low, high = self.value_range
        delta = self._rng.uniform(self.factor[0], self.factor[1], (images.shape[0], 1, 1, 1))
        return np.clip(images + delta * (high - low), low, high)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


def _aspect_crop_box(in_h: int, in_w: int, height: int, width: int):
    """Keras's centred crop of (in_h, in_w) to the aspect ratio height:width."""
    crop_h = max(min(in_h, int(float(in_w * height) / width)), 1)
    crop_w = max(min(in_w, int(float(in_h * width) / height)), 1)
    return int(float(in_h - crop_h) / 2), int(float(in_w - crop_w) / 2), crop_h, crop_w


def _smart_resize(images: np.ndarray, height: int, width: int,
                  interpolation: str = "bilinear") -> np.ndarray:
    """Keras's ``smart_resize`` of a (B, H, W, C) batch: the largest centred window of the
    target aspect ratio, resized to ``height x width`` (untouched when already that size)."""
    top, left, h, w = _aspect_crop_box(images.shape[1], images.shape[2], height, width)
    window = images[:, top:top + h, left:left + w]
    if window.shape[1:3] == (height, width):
        return window
    return resize_images(window, height, width, interpolation)


class Resizing(Layer):
    """Resize images to ``height x width`` (channels_last), bilinear without antialias or
    nearest; ``crop_to_aspect_ratio=True`` first takes the largest centred crop of the target
    aspect ratio. ``pad_to_aspect_ratio`` and ``antialias=True`` are not implemented yet."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_positive_int(height, "height", self.name)
        self.width = check_positive_int(width, "width", self.name)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Resizing '{self.name}': interpolation must be 'bilinear' or "
                             f"'nearest'; received {interpolation!r}.")
        if pad_to_aspect_ratio or antialias:
            raise NotImplementedError(f"Resizing '{self.name}': pad_to_aspect_ratio and "
                                      f"antialias are not implemented yet.")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio, self.antialias = False, False
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.data_format = _check_data_format(data_format, self.name)

    def call(self, inputs):
        x = _array(inputs)
        images = _batched(x, self.name)
        if self.crop_to_aspect_ratio:
            out = _smart_resize(images, self.height, self.width, self.interpolation)
        else:
            out = resize_images(images, self.height, self.width, self.interpolation)
        return _like_input(out, x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class RandomCrop(Layer):
    """In training, one random ``height x width`` window per batch (as Keras 3); if the input
    is not larger than the target, Keras 3's window at the centred aspect-ratio box's corner,
    resized (bilinear) to ``height x width``.

    At inference, as Keras documents it (and tf.keras computes it): the largest centred window
    of the target aspect ratio, resized to ``height x width`` (Keras's ``smart_resize``), so
    the output always has the declared shape ``(..., height, width, channels)``. Keras 3.15's
    layer returns its input unchanged there instead (keras-team/keras#21868), so a model
    built for the cropped shape fails at predict; numkeras does not copy that bug.

    >>> import numpy as np
    >>> RandomCrop(2, 4)(np.ones((1, 6, 6, 1))).shape  # inference: centred, resized
    (1, 2, 4, 1)
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_positive_int(height, "height", self.name)
        self.width = check_positive_int(width, "width", self.name)
        self.seed = seed
        self.data_format = _check_data_format(data_format, self.name)
        self._rng = _config.make_rng(seed)

    def call(self, inputs, training=None):
        x = _array(inputs)
        images = _batched(x, self.name)
        if not training:
            return _like_input(_smart_resize(images, self.height, self.width), x)
        in_h, in_w = images.shape[1], images.shape[2]
        if in_h > self.height and in_w > self.width:
            top = int(self._rng.integers(0, in_h - self.height + 1))
            left = int(self._rng.integers(0, in_w - self.width + 1))
        else:
            top, left, _, _ = _aspect_crop_box(in_h, in_w, self.height, self.width)
        crop = images[:, top:top + self.height, left:left + self.width]
        if crop.shape[1:3] != (self.height, self.width):
            crop = resize_images(crop, self.height, self.width)
        return _like_input(crop, x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "height": self.height, "width": self.width, "seed": self.seed}


def _lower_upper(factor, name, layer_name):
    """Keras's translation/zoom factor: a number f gives (-f, f); a pair (lower, upper) in
    [-1, 1] with lower <= upper."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"Layer '{layer_name}': `{name}` must be a number or a pair; "
                             f"received {factor!r}.")
        lower, upper = float(factor[0]), float(factor[1])
    else:
        lower, upper = -float(factor), float(factor)
    if lower > upper or abs(lower) > 1 or abs(upper) > 1:
        raise ValueError(f"Layer '{layer_name}': `{name}` must lie in [-1, 1] with lower <= "
                         f"upper; received {factor!r}.")
    return lower, upper


class _RandomAffine(_RandomImageLayer):
    """Shared by RandomTranslation, RandomRotation and RandomZoom: draw one affine map per
    image in training and sample through it (``affine_transform``, JAX-backend semantics)."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in ("reflect", "wrap", "constant", "nearest"):
            raise ValueError(f"Layer '{self.name}': fill_mode must be 'reflect', 'wrap', "
                             f"'constant' or 'nearest'; received {fill_mode!r}.")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Layer '{self.name}': interpolation must be 'bilinear' or "
                             f"'nearest'; received {interpolation!r}.")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = fill_value

    def _transforms(self, batch, height, width) -> np.ndarray:
        raise NotImplementedError

    def augment(self, images):
        transforms = self._transforms(*images.shape[:3])
        return affine_transform(images, transforms, self.interpolation, self.fill_mode,
                                self.fill_value)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}


def _matrix(a0, a1, a2, b0, b1, b2) -> np.ndarray:
    zeros = np.zeros_like(a0)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)  # (B, 8)


class RandomTranslation(_RandomAffine):
    """Shift each image by ``U(*height_factor) * height`` rows and ``U(*width_factor) * width``
    columns (a number f means (-f, f)), filling with ``fill_mode``; training only."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _lower_upper(height_factor, "height_factor", self.name)
        self._width = _lower_upper(width_factor, "width_factor", self.name)

    def _transforms(self, batch, height, width):
        dy = self._rng.uniform(*self._height, batch) * height
        dx = self._rng.uniform(*self._width, batch) * width
        ones, zeros = np.ones(batch), np.zeros(batch)
        return _matrix(ones, zeros, -dx, zeros, ones, -dy)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomRotation(_RandomAffine):
    """Rotate each image about its centre by ``U(*factor) * 360`` degrees (a number f means
    (-f, f)), filling with ``fill_mode``; training only."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_pair(factor, (-1, 1), "factor", self.name)

    def _transforms(self, batch, height, width):
        angle = np.deg2rad(self._rng.uniform(self.factor[0] * 360, self.factor[1] * 360, batch))
        cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
        cos, sin = np.cos(angle), np.sin(angle)
        # Keras's _compute_affine_matrix with unit scale and no shear or translation.
        return _matrix(cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_RandomAffine):
    """Zoom each image about its centre: height by ``1 + U(*height_factor)`` (a number f means
    (-f, f); positive zooms out), width by ``1 + U(*width_factor)`` or, if that is None, by
    the same factor as the height; training only."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _lower_upper(height_factor, "height_factor", self.name)
        self._width = None if width_factor is None else \
            _lower_upper(width_factor, "width_factor", self.name)
        if self._height[0] <= -1 or (self._width is not None and self._width[0] <= -1):
            raise ValueError(f"Layer '{self.name}': zoom factors must be above -1; received "
                             f"height_factor={height_factor!r}, width_factor={width_factor!r}.")

    def _transforms(self, batch, height, width):
        zoom_h = 1.0 + self._rng.uniform(*self._height, batch)
        zoom_w = zoom_h if self._width is None else 1.0 + self._rng.uniform(*self._width, batch)
        zeros = np.zeros(batch)
        return _matrix(zoom_w, zeros, (width - 1) / 2 * (1 - zoom_w),
                       zeros, zoom_h, (height - 1) / 2 * (1 - zoom_h))

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}
