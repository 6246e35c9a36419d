"""Image ops (Keras 3's ``keras.ops.image``): resizing, padding, cropping, patches, grayscale.

Images are ``(height, width, channels)`` or a batch of them (channels-first with
``data_format="channels_first"``). ``resize`` builds one interpolation matrix per spatial
axis with the weights of ``jax.image.resize`` (Keras's JAX backend), so it is differentiable
and gives JAX's numbers.

>>> from numkeras import ops
>>> ops.image.resize(np.ones((1, 2, 2, 1), "float32"), (3, 3)).shape
(1, 3, 3, 1)
"""

from __future__ import annotations

import numpy as np

from numkeras import config
from numkeras.backprop import ops as _p
from numkeras.backprop.tensor import Tensor
from numkeras.ops.core import cast, to_float, to_tensor
from numkeras.ops.numpy import einsum, moveaxis

__all__ = [
    "crop_images", "extract_patches", "gaussian_blur", "hsv_to_rgb", "pad_images", "resize",
    "rgb_to_grayscale", "rgb_to_hsv",
]

_KERNELS = ("bilinear", "bicubic", "lanczos3", "lanczos5")


def _channels_last(images, data_format, name):
    """``images`` as a channels-last batch, and the function that undoes that."""
    x = to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected a rank-3 image or rank-4 batch, got shape "
                         f"{x.shape}.")
    single = x.ndim == 3
    if single:
        x = _p.reshape(x, shape=(1,) + x.shape)
    first = (data_format or config.image_data_format()) == "channels_first"
    if first:
        x = moveaxis(x, 1, -1)

    def undo(y):
        y = moveaxis(y, -1, 1) if first else y
        return _p.reshape(y, shape=y.shape[1:]) if single else y

    return x, undo


def _kernel(name: str, x: np.ndarray) -> np.ndarray:
    if name == "bilinear":
        return np.maximum(0.0, 1.0 - x)
    if name == "bicubic":  # Keys's cubic with a = -0.5
        out = ((1.5 * x - 2.5) * x) * x + 1.0
        out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
        return np.where(x >= 2.0, 0.0, out)
    radius = 3 if name == "lanczos3" else 5
    with np.errstate(invalid="ignore", divide="ignore"):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi ** 2 * x ** 2)
    return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))


def _weights(in_size: int, out_size: int, method: str, antialias: bool) -> np.ndarray:
    """The ``(out, in)`` interpolation matrix of ``jax.image.resize``."""
    inv_scale = in_size / out_size
    kernel_scale = max(inv_scale, 1.0) if antialias else 1.0
    sample = (np.arange(out_size) + 0.5) * inv_scale - 0.5
    distance = np.abs(sample[None, :] - np.arange(in_size)[:, None]) / kernel_scale
    weights = _kernel(method, distance)
    total = weights.sum(axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                       weights / np.where(total != 0, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return np.where(inside[None, :], weights, 0).T


def _aspect(x: Tensor, target_h: int, target_w: int, crop: bool, fill_value):
    """Keras's crop_to_aspect_ratio (central crop) or pad_to_aspect_ratio (padding of one
    axis, the same amount on both sides)."""
    height, width = x.shape[1], x.shape[2]
    if crop:
        crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
        crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
        top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
        return _p.getitem(x, index=(slice(None), slice(top, top + crop_h),
                                    slice(left, left + crop_w)))
    pad_h = max(height, int(float(width * target_h) / target_w))
    pad_w = max(width, int(float(height * target_w) / target_h))
    top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
    widths = ((0, 0), (top, top), (0, 0), (0, 0)) if top > 0 else (
        ((0, 0), (0, 0), (left, left), (0, 0)) if left > 0 else None)
    return x if widths is None else _p.pad(x, pad_width=widths, value=fill_value)


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """``images`` resized to ``size = (height, width)`` (``interpolation``: bilinear,
    nearest, bicubic, lanczos3, lanczos5; ``antialias`` widens the kernel when shrinking).

    >>> resize(np.arange(4.0).reshape(2, 2, 1), (4, 4)).numpy()[0, :, 0].tolist()
    [0.0, 0.25, 0.75, 1.0]
    """
    if interpolation not in _KERNELS + ("nearest",):
        raise ValueError(f"resize: interpolation must be one of {_KERNELS + ('nearest',)}, "
                         f"got {interpolation!r}.")
    if fill_mode != "constant":
        raise ValueError(f"resize: only fill_mode='constant' is supported, got {fill_mode!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: pass only one of crop_to_aspect_ratio and "
                         "pad_to_aspect_ratio.")
    if len(size) != 2:
        raise ValueError(f"resize: size must be (height, width), got {size!r}.")
    target_h, target_w = (int(s) for s in size)
    x, undo = _channels_last(images, data_format, "resize")
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        x = _aspect(x, target_h, target_w, crop_to_aspect_ratio, fill_value)
    if interpolation == "nearest":
        rows = np.floor((np.arange(target_h) + 0.5) * x.shape[1] / target_h).astype(np.int64)
        cols = np.floor((np.arange(target_w) + 0.5) * x.shape[2] / target_w).astype(np.int64)
        return undo(_p.getitem(x, index=(slice(None), rows[:, None], cols[None, :])))
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(config.floatx())
    rows = _weights(x.shape[1], target_h, interpolation, antialias).astype(dtype)
    cols = _weights(x.shape[2], target_w, interpolation, antialias).astype(dtype)
    out = einsum("ih,nhwc,jw->nijc", rows, to_float(x), cols)
    return undo(out if x.dtype.kind == "f" else cast(out, x.dtype))


def _fill_sides(before, after, total, size, names):
    if total is not None:
        if before is None and after is None:
            raise ValueError(f"Give {names[0]} or {names[1]} with {names[2]}.")
        if before is None:
            before = total - after - size
        if after is None:
            after = total - before - size
    before, after = before or 0, after or 0
    if before < 0 or after < 0:
        raise ValueError(f"{names[0]} and {names[1]} must be >= 0, got {before} and {after}.")
    return int(before), int(after)


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """``images`` padded with zeros (give two of top, bottom and target height; likewise for
    the width).

    >>> pad_images(np.ones((2, 2, 1)), 1, 0, target_height=4, target_width=3).shape
    (4, 3, 1)
    """
    x, undo = _channels_last(images, data_format, "pad_images")
    top, bottom = _fill_sides(top_padding, bottom_padding, target_height, x.shape[1],
                              ("top_padding", "bottom_padding", "target_height"))
    left, right = _fill_sides(left_padding, right_padding, target_width, x.shape[2],
                              ("left_padding", "right_padding", "target_width"))
    return undo(_p.pad(x, pad_width=((0, 0), (top, bottom), (left, right), (0, 0))))


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """``images`` cropped (give two of top, bottom and target height; likewise for the width).

    >>> crop_images(np.ones((4, 5, 1)), 1, 1, target_height=2, target_width=3).shape
    (2, 3, 1)
    """
    x, undo = _channels_last(images, data_format, "crop_images")
    height, width = x.shape[1], x.shape[2]
    top, bottom = _fill_sides(top_cropping, bottom_cropping,
                              None if target_height is None else height - target_height,
                              0, ("top_cropping", "bottom_cropping", "target_height"))
    left, right = _fill_sides(left_cropping, right_cropping,
                              None if target_width is None else width - target_width,
                              0, ("left_cropping", "right_cropping", "target_width"))
    if top + bottom >= height or left + right >= width:
        raise ValueError(f"crop_images: cropping {top}+{bottom} by {left}+{right} leaves "
                         f"nothing of a {height}x{width} image.")
    return undo(_p.getitem(x, index=(slice(None), slice(top, height - bottom),
                                     slice(left, width - right))))


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None) -> Tensor:
    """Patches of ``size`` as channels: ``(..., rows, cols, kh * kw * channels)`` (a
    convolution with the identity kernel, as Keras).

    >>> extract_patches(np.ones((4, 4, 2)), 2).shape
    (2, 2, 8)
    """
    from numkeras.ops.nn import conv

    patch_h, patch_w = (size, size) if isinstance(size, int) else tuple(size)
    x, undo = _channels_last(images, data_format, "extract_patches")
    x = to_float(x)
    depth = patch_h * patch_w * x.shape[-1]
    kernel = np.eye(depth, dtype=x.dtype).reshape(patch_h, patch_w, x.shape[-1], depth)
    return undo(conv(x, kernel, strides=strides or (patch_h, patch_w), padding=padding,
                     dilation_rate=dilation_rate))


def rgb_to_grayscale(images, data_format=None) -> Tensor:
    """Luma ``0.2989 R + 0.5870 G + 0.1140 B`` as one channel (single-channel images are
    returned as they are).

    >>> rgb_to_grayscale(np.ones((1, 1, 3), "float32")).shape
    (1, 1, 1)
    """
    x, undo = _channels_last(images, data_format, "rgb_to_grayscale")
    if x.shape[-1] == 1:
        return undo(x)
    if x.shape[-1] != 3:
        raise ValueError(f"rgb_to_grayscale: expected 3 (RGB) or 1 channels, got shape "
                         f"{to_tensor(images).shape}.")
    weights = np.array([0.2989, 0.5870, 0.1140])
    floats = to_float(x)
    gray = _p.reshape(_p.matmul(floats, weights.astype(floats.dtype)), shape=x.shape[:-1] + (1,))
    return undo(gray if x.dtype.kind == "f" else cast(gray, x.dtype))



def _float_planes(images, data_format, name):
    x, undo = _channels_last(images, data_format, name)
    if x.dtype.kind != "f":
        raise ValueError(f"{name}: expected float images, got dtype {x.dtype}.")
    if x.shape[-1] != 3:
        raise ValueError(f"{name}: expected 3 channels, got shape {to_tensor(images).shape}.")
    return [_p.getitem(x, index=(Ellipsis, i)) for i in range(3)], undo


def rgb_to_hsv(images, data_format=None) -> Tensor:
    """RGB in [0, 1] to hue, saturation and value in [0, 1] (dm_pix's formulas, as Keras).

    >>> rgb_to_hsv(np.array([[[1.0, 0.0, 0.0]]], "float32")).numpy().tolist()
    [[[0.0, 1.0, 1.0]]]
    """
    x, undo = _channels_last(images, data_format, "rgb_to_hsv")
    if x.dtype.kind == "f":
        tiny = np.finfo(x.dtype).eps
        x = _p.where(np.abs(x.data) < tiny, np.zeros((), x.dtype), x)
    (red, green, blue), _ = _float_planes(x, "channels_last", "rgb_to_hsv")
    value = _p.maximum(_p.maximum(red, green), blue)
    spread = _p.subtract(value, _p.minimum(_p.minimum(red, green), blue))
    positive_value, positive_spread = value.data > 0, spread.data > 0
    one = np.ones((), value.dtype)
    zero = np.zeros((), value.dtype)
    saturation = _p.where(positive_value,
                          _p.divide(spread, _p.where(positive_value, value, one)), zero)
    norm = _p.divide(1.0, _p.multiply(_p.where(positive_spread, spread, one), 6.0))
    hue = _p.where(value.data == green.data,
                   _p.add(_p.multiply(norm, _p.subtract(blue, red)), 2.0 / 6.0),
                   _p.add(_p.multiply(norm, _p.subtract(red, green)), 4.0 / 6.0))
    hue = _p.where(value.data == red.data, _p.multiply(norm, _p.subtract(green, blue)), hue)
    hue = _p.add(_p.where(positive_spread, hue, zero), (hue.data < 0).astype(hue.dtype))
    return undo(_p.stack(hue, saturation, value, axis=-1))


def hsv_to_rgb(images, data_format=None) -> Tensor:
    """Hue, saturation and value in [0, 1] back to RGB (the inverse of :func:`rgb_to_hsv`).

    >>> hsv_to_rgb(np.array([[[0.0, 1.0, 1.0]]], "float32")).numpy().tolist()
    [[[1.0, 0.0, 0.0]]]
    """
    (hue, saturation, value), undo = _float_planes(images, data_format, "hsv_to_rgb")
    sector = _p.multiply(_p.subtract(hue, np.floor(hue.data)), 6.0)  # mod 1, times 6

    def ramp(offset, sign, base):
        distance = _p.abs(_p.subtract(sector, offset))
        return _p.clip(_p.add(_p.multiply(distance, sign), base), low=0.0, high=1.0)

    grey = _p.subtract(1.0, saturation)
    planes = [_p.multiply(value, _p.add(grey, _p.multiply(saturation, ramp(*args))))
              for args in ((3.0, 1.0, -1.0), (2.0, -1.0, 2.0), (4.0, -1.0, 2.0))]
    return undo(_p.stack(*planes, axis=-1))


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None) -> Tensor:
    """Each channel convolved with a normalised Gaussian (zero padding, same size), as
    Keras's: ``kernel_size`` and ``sigma`` are given as (x, y).

    >>> gaussian_blur(np.ones((1, 5, 5, 1), "float32")).numpy()[0, 2, 2, 0].round(4)
    np.float32(1.0)
    """
    from numkeras.ops.nn import depthwise_conv

    x, undo = _channels_last(images, data_format, "gaussian_blur")
    x = to_float(x)
    size_x, size_y = (int(k) for k in kernel_size)
    sigma_x, sigma_y = (float(s) for s in np.broadcast_to(np.asarray(sigma, float), (2,)))

    def gaussian(size, spread):
        offsets = np.arange(size) - (size - 1) / 2
        weights = np.exp(-0.5 * (offsets / spread) ** 2)
        return weights / weights.sum()

    kernel = np.outer(gaussian(size_y, sigma_y), gaussian(size_x, sigma_x))  # (kh, kw)
    kernel = np.broadcast_to(kernel[:, :, None, None], kernel.shape + (x.shape[-1], 1))
    return undo(depthwise_conv(x, kernel.astype(x.dtype), padding="same"))
