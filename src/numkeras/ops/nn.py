"""Neural-network ops (Keras 3's ``keras.ops.nn``): activations, convolutions, pooling,
normalisation and crossentropies on tensors. All are also names of ``numkeras.ops``.

The activations are those of :mod:`numkeras.activations` with ``keras.ops``'s defaults (for
instance ``gelu(approximate=True)``); the crossentropies are Keras's backend formulas, element
by element, without the reductions of :mod:`numkeras.losses`. Images are channels-last
(``data_format="channels_first"`` is transposed on the way in and out); convolutions and
pooling take 1-D and 2-D inputs.

>>> from numkeras import ops
>>> ops.softmax([0.0, 0.0])
Tensor([0.5, 0.5], dtype=float32)
>>> ops.binary_crossentropy([1.0], [0.0], from_logits=True).numpy().round(4)
array([0.6931], dtype=float32)
"""

from __future__ import annotations

import math as _math

import numpy as np

from numkeras import activations as _act
from numkeras import config
from numkeras.backprop import image_ops as _img
from numkeras.backprop import ops as _p
from numkeras.backprop.tensor import Tensor
from numkeras.ops.core import cast, constant, standardize_dtype, to_float, to_tensor, value
from numkeras.ops.numpy import moveaxis

value_of = value  # dot_product_attention has an argument named value

__all__ = [
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "celu", "conv", "conv_transpose",
    "ctc_decode", "ctc_loss", "depth_to_space", "depthwise_conv", "dot_product_attention",
    "elu", "fold", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool",
    "moments", "multi_hot", "normalize", "one_hot", "psnr", "relu", "relu6",
    "rms_normalization", "selu", "separable_conv", "sigmoid", "silu", "soft_shrink", "softmax",
    "softplus", "softsign", "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh_shrink", "threshold", "unfold",
]

# ----- activations (the numkeras.activations functions, with keras.ops's defaults) -----


def relu(x) -> Tensor:
    """``max(x, 0)``.

    >>> relu([-1.0, 2.0])
    Tensor([0., 2.], dtype=float32)
    """
    x = to_tensor(x)
    if x.dtype.kind in "iu":  # integers stay integers, as in Keras
        return constant(np.maximum(x.data, 0))
    return _act.relu(x)


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return _act.relu6(x)


def sigmoid(x) -> Tensor:
    """``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return _act.sigmoid(x)


def sparse_sigmoid(x) -> Tensor:
    """0 below -1, 1 above 1, linear in between."""
    return _act.sparse_sigmoid(x)


def softplus(x) -> Tensor:
    """``log(1 + exp(x))`` without overflow."""
    return _act.softplus(x)


def softsign(x) -> Tensor:
    """``x / (|x| + 1)``."""
    return _act.softsign(x)


def sparse_plus(x) -> Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` in between."""
    return _act.sparse_plus(x)


def silu(x) -> Tensor:
    """``x * sigmoid(x)``."""
    return _act.silu(x)


swish = silu


def log_sigmoid(x) -> Tensor:
    """``log(sigmoid(x))``, finite where sigmoid rounds to 0."""
    return _act.log_sigmoid(x)


def leaky_relu(x, negative_slope=0.2) -> Tensor:
    """``x`` for ``x >= 0``, else ``negative_slope * x``."""
    return _act.leaky_relu(x, negative_slope)


def hard_sigmoid(x) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return _act.hard_sigmoid(x)


def hard_silu(x) -> Tensor:
    """``x * hard_sigmoid(x)``."""
    return _act.hard_silu(x)


hard_swish = hard_silu


def elu(x, alpha=1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return _act.elu(x, alpha)


def selu(x) -> Tensor:
    """Scaled ELU with Klambauer et al.'s constants."""
    return _act.selu(x)


def celu(x, alpha=1.0) -> Tensor:
    """``max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0)``."""
    return _act.celu(x, alpha)


def gelu(x, approximate=True) -> Tensor:
    """Gaussian error linear unit; the tanh approximation by default, as ``keras.ops``.

    >>> gelu([1.0])
    Tensor([0.841192], dtype=float32)
    """
    return _act.gelu(x, approximate=approximate)


def glu(x, axis=-1) -> Tensor:
    """Gated linear unit: the first half of ``axis`` times the sigmoid of the second."""
    return _act.glu(x, axis)


def tanh_shrink(x) -> Tensor:
    """``x - tanh(x)``."""
    return _act.tanh_shrink(x)


def hard_tanh(x) -> Tensor:
    """``x`` clipped to ``[-1, 1]`` (integers stay integers)."""
    x = to_tensor(x)
    if x.dtype.kind in "iu":
        return constant(np.clip(x.data, -1, 1))
    return _act.hard_tanh(x)


def hard_shrink(x, threshold=0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return _act.hard_shrink(x, threshold)


def soft_shrink(x, threshold=0.5) -> Tensor:
    """``x`` moved ``threshold`` toward 0, and 0 within ``threshold`` of it."""
    return _act.soft_shrink(x, threshold)


def threshold(x, threshold, default_value) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return _act.threshold(x, threshold, default_value)


def squareplus(x, b=4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``."""
    return _act.squareplus(x, b)


def softmax(x, axis=-1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int or a tuple of axes).

    >>> softmax([[1.0, 1.0, 1.0]]).numpy().round(4)
    array([[0.3333, 0.3333, 0.3333]], dtype=float32)
    """
    x = to_float(x)
    if axis is None or isinstance(axis, (tuple, list)):
        return _over_flattened_axes(x, axis, _p.softmax)
    return _p.softmax(x, axis=axis)


def log_softmax(x, axis=-1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``."""
    x = to_float(x)
    if axis is None or isinstance(axis, (tuple, list)):
        return _over_flattened_axes(x, axis, _p.log_softmax)
    return _p.log_softmax(x, axis=axis)


def _over_flattened_axes(x, axis, primitive):
    """``primitive`` over several axes at once: moved last and merged into one."""
    axes = list(range(x.ndim)) if axis is None else [a % x.ndim for a in axis]
    moved = moveaxis(x, axes, list(range(x.ndim - len(axes), x.ndim)))
    merged = _p.reshape(moved, shape=moved.shape[:x.ndim - len(axes)] + (-1,))
    out = _p.reshape(primitive(merged, axis=-1), shape=moved.shape)
    return moveaxis(out, list(range(x.ndim - len(axes), x.ndim)), axes)


def sparsemax(x, axis=-1) -> Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``."""
    return _act.sparsemax(x, axis)


# ----- encodings -----


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False) -> Tensor:
    """Integer classes as one-hot vectors along ``axis`` (floatx); out-of-range classes give
    all zeros.

    >>> one_hot([0, 2], 3)
    Tensor([[1., 0., 0.],
            [0., 0., 1.]], dtype=float32)
    """
    if sparse:
        raise ValueError("one_hot: numkeras has no sparse tensors; pass sparse=False.")
    labels = np.asarray(value(x)).astype(np.int64)
    out = labels[..., None] == np.arange(int(num_classes))
    out = out.astype(standardize_dtype(dtype) or config.floatx())
    return constant(np.moveaxis(out, -1, axis) if axis != -1 else out)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs) -> Tensor:
    """Each row of integer classes as one vector with ones at those classes (floatx).

    >>> multi_hot([[0, 2], [1, 1]], 3)
    Tensor([[1., 0., 1.],
            [0., 1., 0.]], dtype=float32)
    """
    num_classes = kwargs.pop("num_tokens", num_classes)
    if num_classes is None:
        raise ValueError("multi_hot needs num_classes.")
    encoded = one_hot(inputs, num_classes, axis=-1, dtype=dtype, sparse=sparse).data
    out = encoded.max(axis=-2) if encoded.ndim > 1 else encoded
    return constant(np.moveaxis(out, -1, axis) if axis != -1 else out)


# ----- statistics and normalisation -----


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of ``x`` over ``axes``.

    >>> [m.item() for m in moments([1.0, 2.0, 3.0, 4.0], axes=[0])]
    [2.5, 1.25]
    """
    x = to_float(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    mean = _p.mean(x, axis=axes, keepdims=True)
    centred = _p.subtract(x, mean)
    variance = _p.mean(_p.multiply(centred, centred), axis=axes, keepdims=keepdims)
    return (mean if keepdims else _p.reshape(mean, shape=variance.shape)), variance


def _along(t, axis: int, ndim: int) -> Tensor:
    """A 1-D tensor (or one of ``ndim`` axes) shaped to broadcast along ``axis``."""
    t = to_float(t)
    if t.ndim != 1:
        return t
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return _p.reshape(t, shape=tuple(shape))


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics given
    (1-D along ``axis``, or broadcastable to ``x``).

    >>> batch_normalization([[1.0, 2.0]], [1.0, 1.0], [1.0, 4.0], axis=-1, epsilon=0.0)
    Tensor([[0. , 0.5]], dtype=float32)
    """
    x = to_float(x)
    inv = _p.divide(1.0, _p.sqrt(_p.add(_along(variance, axis, x.ndim), epsilon)))
    if scale is not None:
        inv = _p.multiply(inv, _along(scale, axis, x.ndim))
    out = _p.multiply(_p.subtract(x, _along(mean, axis, x.ndim)), inv)
    return out if offset is None else _p.add(out, _along(offset, axis, x.ndim))


def normalize(x, axis=-1, order=2, epsilon=None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``).

    >>> normalize([3.0, 4.0])
    Tensor([0.6, 0.8], dtype=float32)
    """
    from numkeras.ops.linalg import norm

    epsilon = config.epsilon() if epsilon is None else epsilon
    x = to_float(x)
    return _p.divide(x, _p.maximum(norm(x, ord=order, axis=axis, keepdims=True), epsilon))


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with statistics over ``axis``."""
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = to_float(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    mean, variance = moments(x, axes, keepdims=True)
    out = _p.multiply(_p.subtract(x, mean), _p.divide(1.0, _p.sqrt(_p.add(variance, epsilon))))
    if gamma is not None:
        out = _p.multiply(out, to_float(gamma))
    return out if beta is None else _p.add(out, to_float(beta))


def rms_normalization(x, scale=None, axis=-1, epsilon=None) -> Tensor:
    """``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis``."""
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = to_float(x)
    mean_square = _p.mean(_p.multiply(x, x), axis=axis, keepdims=True)
    out = _p.multiply(x, _p.divide(1.0, _p.sqrt(_p.add(mean_square, epsilon))))
    return out if scale is None else _p.multiply(out, to_float(scale))


def psnr(x1, x2, max_val) -> Tensor:
    """Peak signal-to-noise ratio in decibels: ``20 log10(max_val) - 10 log10(mse)``."""
    a, b = to_float(x1), to_float(x2)
    difference = _p.subtract(a, b)
    mse = _p.mean(_p.multiply(difference, difference))
    return _p.subtract(20.0 * _math.log10(max_val),
                       _p.multiply(_p.log(mse), 10.0 / _math.log(10.0)))


# ----- crossentropies (element by element, Keras's backend formulas) -----


def _check_same_shape(target, output, name):
    if target.shape != output.shape:
        raise ValueError(
            f"{name}: target and output must have the same shape, got {target.shape} and "
            f"{output.shape}.")


def categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """``-sum(target * log(output))`` along ``axis``: ``output`` is rescaled to sum to 1 and
    clipped to ``[eps, 1 - eps]``, or taken as logits.

    >>> categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]).numpy().round(4)
    array([0.6931], dtype=float32)
    """
    output = to_float(output)
    target = cast(to_tensor(target), output.dtype)
    _check_same_shape(target, output, "categorical_crossentropy")
    if from_logits:
        log_prob = _p.log_softmax(output, axis=axis)
    else:
        eps = config.epsilon()
        prob = _p.divide(output, _p.sum(output, axis=axis, keepdims=True))
        log_prob = _p.log(_p.clip(prob, low=eps, high=1.0 - eps))
    return _p.negative(_p.sum(_p.multiply(target, log_prob), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """:func:`categorical_crossentropy` with integer class ``target`` (shape of ``output``
    without ``axis``; a trailing axis of size 1 is dropped)."""
    output = to_float(output)
    labels = np.asarray(value(target))
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    expected = tuple(n for i, n in enumerate(output.shape) if i != axis % output.ndim)
    if labels.shape != expected:
        raise ValueError(
            f"sparse_categorical_crossentropy: target has shape {labels.shape}; expected one "
            f"class per sample, shape {expected}, for output of shape {output.shape}.")
    encoded = one_hot(labels, output.shape[axis], axis=axis, dtype=output.dtype)
    return categorical_crossentropy(encoded, output, from_logits=from_logits, axis=axis)


def binary_crossentropy(target, output, from_logits=False) -> Tensor:
    """``-(target log(p) + (1 - target) log(1 - p))`` per element, with ``p`` clipped to
    ``[eps, 1 - eps]`` or computed stably from logits."""
    output = to_float(output)
    target = cast(to_tensor(target), output.dtype)
    _check_same_shape(target, output, "binary_crossentropy")
    if from_logits:
        # relu(z) - z t + log1p(exp(-|z|)): finite for any logit.
        return _p.add(_p.subtract(_p.relu(output), _p.multiply(output, target)),
                      _p.log1p(_p.exp(_p.negative(_p.abs(output)))))
    eps = config.epsilon()
    p = _p.clip(output, low=eps, high=1.0 - eps)
    positive = _p.multiply(target, _p.log(p))
    negative = _p.multiply(_p.subtract(1.0, target), _p.log(_p.subtract(1.0, p)))
    return _p.negative(_p.add(positive, negative))


# ----- convolution and pooling -----


def _tuple(value_, n: int, name: str) -> tuple:
    values = (value_,) * n if np.isscalar(value_) else tuple(value_)
    if len(values) != n:
        raise ValueError(f"`{name}` needs {n} values for a {n}-D operation, got {value_!r}.")
    return tuple(int(v) for v in values)


def _padding(padding: str) -> str:
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same', got {padding!r}.")
    return padding


def _spatial(inputs, data_format, op: str):
    """Channels-last inputs with 2 spatial axes (1-D ones get a height of 1), and the way
    back: ``(x, undo)``."""
    x = to_float(inputs)
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    spatial = x.ndim - 2
    if spatial not in (1, 2):
        raise NotImplementedError(
            f"{op}: numkeras supports 1-D and 2-D inputs (rank 3 or 4); got shape {x.shape}.")
    if data_format == "channels_first":
        x = moveaxis(x, 1, -1)
    if spatial == 1:
        x = _p.reshape(x, shape=(x.shape[0], 1) + x.shape[1:])

    def undo(y):
        if spatial == 1:
            y = _p.reshape(y, shape=(y.shape[0],) + y.shape[2:])
        return moveaxis(y, -1, 1) if data_format == "channels_first" else y

    return x, spatial, undo


def _window(values_, spatial, name):
    pair = _tuple(values_, spatial, name)
    return (1,) + pair if spatial == 1 else pair


def _kernel_2d(kernel, spatial):
    kernel = to_float(kernel)
    if kernel.ndim != spatial + 2:
        raise ValueError(f"The kernel needs rank {spatial + 2} for {spatial}-D inputs, got "
                         f"shape {kernel.shape}.")
    return _p.reshape(kernel, shape=(1,) + kernel.shape) if spatial == 1 else kernel


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """An N-D cross-correlation (N = 1 or 2): ``inputs`` ``(batch, *spatial, channels)``,
    ``kernel`` ``(*window, channels, filters)``.

    >>> conv(np.ones((1, 3, 1)), np.ones((2, 1, 1))).numpy().ravel()
    array([2., 2.])
    """
    x, spatial, undo = _spatial(inputs, data_format, "conv")
    k = _kernel_2d(kernel, spatial)
    if k.shape[2] != x.shape[-1]:
        raise ValueError(f"conv: the kernel expects {k.shape[2]} input channels, the inputs "
                         f"have {x.shape[-1]} (shape {to_tensor(inputs).shape}).")
    out = _img.conv2d(x, _p.cast(k, dtype=x.dtype), strides=_window(strides, spatial, "strides"),
                      padding=_padding(padding),
                      dilation_rate=_window(dilation_rate, spatial, "dilation_rate"))
    return undo(out)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """The transpose of :func:`conv` (N = 1 or 2): ``kernel`` ``(*window, filters,
    channels)``."""
    x, spatial, undo = _spatial(inputs, data_format, "conv_transpose")
    k = _kernel_2d(kernel, spatial)
    extra = {} if output_padding is None else {
        "output_padding": _window(output_padding, spatial, "output_padding")
        if spatial == 2 else (0,) + _tuple(output_padding, 1, "output_padding")}
    out = _img.conv2d_transpose(
        x, _p.cast(k, dtype=x.dtype), strides=_window(strides, spatial, "strides"),
        padding=_padding(padding),
        dilation_rate=_window(dilation_rate, spatial, "dilation_rate"), **extra)
    return undo(out)


def _depthwise_as_full(kernel: Tensor) -> Tensor:
    """A depthwise kernel ``(kh, kw, C, M)`` as the block-diagonal full kernel
    ``(kh, kw, C, C*M)`` whose output channel ``c*M + m`` sees only input channel ``c``."""
    kh, kw, channels, multiplier = kernel.shape
    eye = np.eye(channels, dtype=kernel.dtype).reshape(1, 1, channels, channels, 1)
    spread = _p.multiply(_p.reshape(kernel, shape=(kh, kw, channels, 1, multiplier)), eye)
    return _p.reshape(spread, shape=(kh, kw, channels, channels * multiplier))


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Each input channel convolved with its own ``multiplier`` filters: ``kernel``
    ``(*window, channels, multiplier)`` gives ``channels * multiplier`` outputs."""
    x, spatial, undo = _spatial(inputs, data_format, "depthwise_conv")
    k = _p.cast(_kernel_2d(kernel, spatial), dtype=x.dtype)
    out = _img.conv2d(x, _depthwise_as_full(k), strides=_window(strides, spatial, "strides"),
                      padding=_padding(padding),
                      dilation_rate=_window(dilation_rate, spatial, "dilation_rate"))
    return undo(out)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """:func:`depthwise_conv` followed by a 1x1 :func:`conv` with ``pointwise_kernel``."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                               dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format)


def _pool(primitive, inputs, pool_size, strides, padding, data_format, name):
    x, spatial, undo = _spatial(inputs, data_format, name)
    window = _window(pool_size, spatial, "pool_size")
    strides = window if strides is None else _window(strides, spatial, "strides")
    return undo(primitive(x, pool_size=window, strides=strides, padding=_padding(padding)))


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None) -> Tensor:
    """The maximum of each window (``strides`` default to ``pool_size``).

    >>> max_pool(np.arange(4.0).reshape(1, 4, 1), 2).numpy().ravel()
    array([1., 3.])
    """
    return _pool(_img.max_pool2d, inputs, pool_size, strides, padding, data_format, "max_pool")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None) -> Tensor:
    """The mean of each window (``"same"`` padding averages only the real entries)."""
    return _pool(_img.avg_pool2d, inputs, pool_size, strides, padding, data_format,
                 "average_pool")


def depth_to_space(x, block_size, data_format="channels_last") -> Tensor:
    """Move channel blocks into ``block_size`` by ``block_size`` spatial tiles (DCR order)."""
    x = to_tensor(x)
    if data_format == "channels_first":
        x = moveaxis(x, 1, -1)
    n, h, w, c = x.shape
    b = int(block_size)
    out = _p.reshape(x, shape=(n, h, w, b, b, c // (b * b)))
    out = _p.transpose(out, axes=(0, 1, 3, 2, 4, 5))
    out = _p.reshape(out, shape=(n, h * b, w * b, c // (b * b)))
    return moveaxis(out, -1, 1) if data_format == "channels_first" else out


def space_to_depth(x, block_size, data_format="channels_last") -> Tensor:
    """The inverse of :func:`depth_to_space`."""
    x = to_tensor(x)
    if data_format == "channels_first":
        x = moveaxis(x, 1, -1)
    n, h, w, c = x.shape
    b = int(block_size)
    out = _p.reshape(x, shape=(n, h // b, b, w // b, b, c))
    out = _p.transpose(out, axes=(0, 1, 3, 2, 4, 5))
    out = _p.reshape(out, shape=(n, h // b, w // b, b * b * c))
    return moveaxis(out, -1, 1) if data_format == "channels_first" else out


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """``softmax(q k^T * scale + bias, masked) v`` for ``(batch, length, heads, dim)``
    inputs, as Keras's."""
    if flash_attention:
        raise ValueError("dot_product_attention: numkeras has no flash attention.")
    q, k, v = to_float(query), to_float(key), to_float(value)
    scale = 1.0 / _math.sqrt(q.shape[-1]) if scale is None else scale
    from numkeras.ops.numpy import einsum

    logits = _p.multiply(einsum("BTNH,BSNH->BNTS", q, k), scale)
    if attn_logits_soft_cap is not None:
        logits = _p.multiply(_p.tanh(_p.divide(logits, attn_logits_soft_cap)),
                             attn_logits_soft_cap)
    if bias is not None:
        logits = _p.add(logits, to_float(bias))
    allowed = None if mask is None else np.asarray(value_of(mask)).astype(bool)
    if is_causal:
        length_q, length_k = q.shape[1], k.shape[1]
        causal = np.tril(np.ones((length_q, length_k), bool))
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None:
        logits = _p.where(allowed, logits, np.asarray(np.finfo(logits.dtype).min / 2,
                                                      logits.dtype))
    weights = _p.softmax(logits, axis=-1)
    return einsum("BNTS,BSNH->BTNH", weights, v)



# ----- patches (im2col/col2im, channels-first as Keras's) and adaptive pooling -----


def _patch_grid(height, width, kernel_size, dilation, padding, stride):
    """Row and column indices ``(kh, 1, oh, 1)`` and ``(1, kw, 1, ow)`` of every patch entry
    in the zero-padded image, and the padded size."""
    kh, kw = _tuple(kernel_size, 2, "kernel_size")
    dh, dw = _tuple(dilation, 2, "dilation")
    ph, pw = _tuple(padding, 2, "padding")
    sh, sw = _tuple(stride, 2, "stride")
    hp, wp = height + 2 * ph, width + 2 * pw
    oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"The {kh}x{kw} kernel (dilation {dh}x{dw}) does not fit the padded "
                         f"{hp}x{wp} image.")
    rows = (np.arange(oh) * sh)[None, None, :, None] + (np.arange(kh) * dh)[:, None, None, None]
    cols = (np.arange(ow) * sw)[None, None, None, :] + (np.arange(kw) * dw)[None, :, None, None]
    return rows, cols, (ph, pw), (hp, wp)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding blocks of the channels-first ``x`` ``(N, C, H, W)`` as ``(N, C * kh * kw, L)``
    (im2col; PyTorch's ``unfold``).

    >>> unfold(np.ones((1, 2, 4, 4)), kernel_size=2, stride=2).shape
    (1, 8, 4)
    """
    x = to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"unfold needs a 4-D (N, C, H, W) input, got shape {x.shape}.")
    n, c, h, w = x.shape
    rows, cols, (ph, pw), _ = _patch_grid(h, w, kernel_size, dilation, padding, stride)
    padded = _p.pad(x, pad_width=((0, 0), (0, 0), (ph, ph), (pw, pw)))
    patches = _p.getitem(padded, index=(slice(None), slice(None), rows, cols))
    return _p.reshape(patches, shape=(n, -1, patches.shape[-2] * patches.shape[-1]))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The inverse arrangement of :func:`unfold`: blocks ``(N, C * kh * kw, L)`` summed back
    into an image ``(N, C, *output_size)`` (col2im; overlaps add up).

    >>> fold(unfold(np.ones((1, 1, 3, 3)), 2), (3, 3), 2).numpy()[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    from numkeras.backprop.math_ops import segment_sum

    x = to_tensor(x)
    height, width = _tuple(output_size, 2, "output_size")
    rows, cols, (ph, pw), (hp, wp) = _patch_grid(height, width, kernel_size, dilation,
                                                 padding, stride)
    kh, kw, oh, ow = rows.shape[0], cols.shape[1], rows.shape[2], cols.shape[3]
    n = x.shape[0]
    if x.ndim != 3 or x.shape[1] % (kh * kw) or x.shape[2] != oh * ow:
        raise ValueError(f"fold: expected (N, C * {kh * kw}, {oh * ow}) blocks for output "
                         f"{(height, width)}, got shape {x.shape}.")
    c = x.shape[1] // (kh * kw)
    positions = np.broadcast_to(rows * wp + cols, (kh, kw, oh, ow)).reshape(-1)
    blocks = _p.reshape(x, shape=(n, c, -1))  # (N, C, kh*kw*oh*ow) in unfold's order
    summed = segment_sum(_p.transpose(blocks, axes=(2, 0, 1)), segment_ids=positions,
                         num_segments=hp * wp)  # (Hp*Wp, N, C)
    image = _p.reshape(_p.transpose(summed, axes=(1, 2, 0)), shape=(n, c, hp, wp))
    return _p.getitem(image, index=(Ellipsis, slice(ph, ph + height), slice(pw, pw + width)))


def _adaptive_bins(length: int, out: int):
    """PyTorch's (and Keras's) bins: ``[floor(i L / out), ceil((i + 1) L / out))``."""
    starts = (np.arange(out) * length) // out
    ends = -((-(np.arange(out) + 1) * length) // out)
    return starts, ends


def adaptive_average_pool(inputs, output_size, data_format=None) -> Tensor:
    """Average pooling to a fixed ``output_size`` of a 4-D input, windows chosen per output
    cell as PyTorch's ``AdaptiveAvgPool2d``.

    >>> adaptive_average_pool(np.arange(4.0).reshape(1, 4, 1, 1), (2, 1)).numpy().ravel()
    array([0.5, 2.5])
    """
    x, spatial, undo = _spatial(inputs, data_format, "adaptive_average_pool")
    out_h, out_w = _tuple(output_size, 2, "output_size") if spatial == 2 else (
        1, _tuple(output_size, 1, "output_size")[0])
    weights = []
    for length, out in ((x.shape[1], out_h), (x.shape[2], out_w)):
        starts, ends = _adaptive_bins(length, out)
        inside = (np.arange(length) >= starts[:, None]) & (np.arange(length) < ends[:, None])
        weights.append((inside / (ends - starts)[:, None]).astype(x.dtype))  # (out, length)
    from numkeras.ops.numpy import einsum

    return undo(einsum("ih,nhwc,jw->nijc", weights[0], x, weights[1]))


def adaptive_max_pool(inputs, output_size, data_format=None) -> Tensor:
    """Max pooling to a fixed ``output_size`` of a 4-D input (bins as
    :func:`adaptive_average_pool`)."""
    x, spatial, undo = _spatial(inputs, data_format, "adaptive_max_pool")
    out_h, out_w = _tuple(output_size, 2, "output_size") if spatial == 2 else (
        1, _tuple(output_size, 1, "output_size")[0])
    rows = _adaptive_bins(x.shape[1], out_h)
    cols = _adaptive_bins(x.shape[2], out_w)
    cells = []  # one (N, C) maximum per output cell: out_h * out_w small reductions
    for top, bottom in zip(*rows):
        for left, right in zip(*cols):
            window = _p.getitem(x, index=(slice(None), slice(top, bottom), slice(left, right)))
            cells.append(_p.max(window, axis=(1, 2)))
    stacked = _p.stack(*cells, axis=1)  # (N, out_h * out_w, C)
    return undo(_p.reshape(stacked, shape=(x.shape[0], out_h, out_w, x.shape[-1])))


# ----- connectionist temporal classification -----

_LOG_ZERO = -1e30  # finite "log 0": keeps logsumexp free of -inf - -inf


def ctc_loss(target, output, target_length, output_length, mask_index=0) -> Tensor:
    """The CTC loss per sample: ``-log p(target | output)`` summed over every alignment.

    Args:
        target: integer labels ``(batch, max_label_length)``, padded past ``target_length``.
        output: logits ``(batch, max_time, classes)``; ``mask_index`` is the blank class.
        target_length, output_length: the true lengths ``(batch,)``.

    Differentiable in ``output`` (the forward recursion is composed of primitives, one step
    per time frame).

    >>> logits = np.zeros((1, 2, 2), "float32")  # two equally likely classes, 2 frames
    >>> ctc_loss([[1]], logits, [1], [2]).numpy().round(4)  # 3 of 4 paths give "1"
    array([0.2877], dtype=float32)
    """
    logits = to_float(output)
    if logits.dtype.itemsize < 4:
        logits = _p.cast(logits, dtype="float32")
    labels = np.asarray(value(target)).astype(np.int64)
    target_length = np.asarray(value(target_length)).astype(np.int64).reshape(-1)
    output_length = np.asarray(value(output_length)).astype(np.int64).reshape(-1)
    if logits.ndim != 3 or labels.ndim != 2 or labels.shape[0] != logits.shape[0]:
        raise ValueError(f"ctc_loss: expected target (batch, labels) and output (batch, time, "
                         f"classes), got {labels.shape} and {logits.shape}.")
    batch, steps, classes = logits.shape
    used = labels[np.arange(labels.shape[1])[None, :] < target_length[:, None]]
    if used.size and (used.min() < 0 or used.max() >= classes):
        raise ValueError(f"ctc_loss: labels must lie in [0, {classes}) for {classes} classes, "
                         f"got {used.min()}..{used.max()}.")
    log_probs = _p.log_softmax(logits, axis=-1)
    # The target with a blank before, between and after its labels: (batch, 2 S + 1).
    extended = np.full((batch, 2 * labels.shape[1] + 1), int(mask_index), np.int64)
    extended[:, 1::2] = labels
    emit = _m_take_along_last(log_probs, np.broadcast_to(
        extended[:, None, :], (batch, steps, extended.shape[1])))  # (batch, time, 2 S + 1)
    before = np.pad(extended, ((0, 0), (2, 0)), constant_values=-1)[:, :-2]
    may_skip = (extended != mask_index) & (extended != before)
    negative = np.asarray(_LOG_ZERO, logits.dtype)
    start = np.arange(extended.shape[1]) < 2
    alpha = _p.where(start, _p.getitem(emit, index=(slice(None), 0)), negative)
    for t in range(1, steps):
        one = _p.pad(_p.getitem(alpha, index=(slice(None), slice(None, -1))),
                     pad_width=((0, 0), (1, 0)), value=_LOG_ZERO)
        two = _p.pad(_p.getitem(alpha, index=(slice(None), slice(None, -2))),
                     pad_width=((0, 0), (2, 0)), value=_LOG_ZERO)
        two = _p.where(may_skip, two, negative)
        step = _p.add(_p.logsumexp(_p.stack(alpha, one, two, axis=-1), axis=-1),
                      _p.getitem(emit, index=(slice(None), t)))
        alpha = _p.where((t < output_length)[:, None], step, alpha)
    rows = np.arange(batch)
    last = _p.getitem(alpha, index=(rows, 2 * target_length))
    previous = _p.where(target_length > 0,
                        _p.getitem(alpha, index=(rows, np.maximum(2 * target_length - 1, 0))),
                        negative)
    return _p.negative(_p.logsumexp(_p.stack(last, previous, axis=-1), axis=-1))


def _m_take_along_last(x, indices):
    from numkeras.backprop.math_ops import take_along_axis

    return take_along_axis(x, indices=indices, axis=-1)


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decode ``(batch, time, classes)`` scores: ``(decoded, scores)`` with ``decoded``
    ``(top_paths, batch, time)`` padded with -1 and ``scores`` ``(batch, top_paths)`` (minus
    the sum of each frame's best score, as Keras's greedy decoder). Only
    ``strategy="greedy"`` is implemented.

    >>> decoded, _ = ctc_decode(np.eye(3, dtype="float32")[[[1, 1, 0, 2]]], [4])
    >>> decoded.numpy().tolist()
    [[[1, 2, -1, -1]]]
    """
    if strategy != "greedy":
        raise NotImplementedError(
            f"ctc_decode: numkeras implements strategy='greedy' only, got {strategy!r}.")
    scores_in = np.asarray(value(to_float(inputs)))
    lengths = np.asarray(value(sequence_lengths)).astype(np.int64).reshape(-1)
    batch, steps, classes = scores_in.shape
    blank = classes - 1 if mask_index is None else int(mask_index)
    best = scores_in.argmax(axis=-1)
    peak = scores_in.max(axis=-1)
    beyond = np.arange(steps)[None, :] >= lengths[:, None]
    best = np.where(beyond, blank, best)
    peak = np.where(beyond, 0.0, peak)
    if merge_repeated:
        repeated = np.pad(best[:, 1:] == best[:, :-1], ((0, 0), (1, 0)))
        best = np.where(repeated, blank, best)
    dropped = best == blank
    # Kept labels first, in order; -1 after them.
    order = np.argsort(np.where(dropped, steps, np.arange(steps)), axis=-1, kind="stable")
    decoded = np.take_along_axis(np.where(dropped, -1, best), order, axis=-1)
    return (constant(decoded[None].astype("int32")),
            constant((-peak.sum(axis=1))[:, None].astype(scores_in.dtype)))
