"""Math ops (Keras 3's ``keras.ops.math``): segment reductions, top-k, logsumexp, erf.

>>> from numkeras import ops
>>> values, indices = ops.top_k([1.0, 5.0, 3.0], k=2)
>>> values, indices
(Tensor([5., 3.], dtype=float32), Tensor([1, 2], dtype=int32))
"""

from __future__ import annotations

import numpy as np

from numkeras.backprop import math_ops as _m
from numkeras.backprop import ops as _p
from numkeras.backprop.tensor import Tensor
from numkeras.ops.core import constant, to_float, to_tensor, value
from numkeras.ops.numpy import _axis, argsort, take_along_axis

__all__ = [
    "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k", "irfft",
    "istft", "rfft", "stft", "logsumexp", "rsqrt",
    "segment_max", "segment_min", "segment_prod", "segment_sum", "top_k",
]


def erf(x) -> Tensor:
    """The error function.

    >>> erf([0.0, 10.0])
    Tensor([0., 1.], dtype=float32)
    """
    return _p.erf(to_float(x))


def erfc(x) -> Tensor:
    """``1 - erf(x)``, accurate in the right tail."""
    return _p.erfc(to_float(x))


def erfinv(x) -> Tensor:
    """The inverse of :func:`erf` on (-1, 1).

    >>> erfinv([0.0, 0.5]).numpy().round(5)
    array([0.     , 0.47694], dtype=float32)
    """
    return _m.erfinv(to_float(x))


def rsqrt(x) -> Tensor:
    """``1 / sqrt(x)``."""
    return _p.divide(1.0, _p.sqrt(to_float(x)))


def logsumexp(x, axis=None, keepdims=False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` (all axes by default) without overflow.

    >>> logsumexp([1000.0, 1000.0])
    Tensor(1000.6932, dtype=float32)
    """
    x, axis = to_float(x), _axis(axis)
    if not np.isfinite(np.max(x.data, axis=axis, initial=-np.inf)).all():
        return _logsumexp_nonfinite(x, axis, keepdims)
    if axis is None or isinstance(axis, tuple):
        axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in axis)
        rest = [a for a in range(x.ndim) if a not in axes]
        merged = _p.reshape(_p.transpose(x, axes=tuple(rest + list(axes))),
                            shape=tuple(x.shape[a] for a in rest) + (-1,))
        out = _p.logsumexp(merged, axis=-1)
        if keepdims:
            out = _p.reshape(out, shape=tuple(1 if a in axes else n
                                              for a, n in enumerate(x.shape)))
        return out
    return _p.logsumexp(x, axis=axis, keepdims=keepdims)


def _logsumexp_nonfinite(x, axis, keepdims) -> Tensor:
    """The composed form for slices whose maximum is not finite (all -inf gives -inf, an
    inf gives inf): the fused primitive would compute -inf - -inf there."""
    peak = np.max(x.data, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(peak), peak, 0).astype(x.dtype)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for all -inf
        total = _p.log(_p.sum(_p.exp(_p.subtract(x, shift)), axis=axis, keepdims=True))
    out = _p.add(total, shift)
    if keepdims:
        return out
    return _p.reshape(out, shape=np.squeeze(np.empty(out.shape, bool), axis=axis).shape)


def top_k(x, k, sorted=True):  # noqa: A002 - Keras's argument name
    """The ``k`` largest values along the last axis and their indices (ties: lower index
    first); the values are differentiable.

    >>> top_k([[3, 1, 2]], k=1)[1]
    Tensor([[0]], dtype=int32)
    """
    x = to_tensor(x)
    k = int(k)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must lie in [0, {x.shape[-1]}] for input of shape "
                         f"{x.shape}.")
    # Stable argsort of -x keeps equal values in index order, as TensorFlow's top_k does.
    order = argsort(_negated(x), axis=-1).data[..., :k]
    return take_along_axis(x, order, axis=-1), constant(order, "int32")


def _negated(x: Tensor) -> np.ndarray:
    data = x.data
    return ~data if data.dtype.kind in "iu" else -data


def in_top_k(targets, predictions, k) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row (ties
    with the k-th value count as in, as in TensorFlow).

    >>> in_top_k([0, 1], [[0.9, 0.1], [0.9, 0.1]], 1)
    Tensor([ True, False], dtype=bool)
    """
    scores = np.asarray(value(predictions))
    labels = np.asarray(value(targets)).astype(np.int64)
    picked = np.take_along_axis(scores, labels[:, None], axis=1)[:, 0]
    better = np.sum(scores > picked[:, None], axis=1)
    return constant(better < int(k))


def _segments(data, segment_ids, num_segments, name):
    data = to_tensor(data)
    ids = np.asarray(value(segment_ids)).astype(np.int64)
    if ids.shape != data.shape[:1]:
        raise ValueError(f"{name}: segment_ids needs one id per row of data (shape "
                         f"{data.shape[:1]}), got shape {ids.shape}.")
    count = int(ids.max(initial=-1)) + 1 if num_segments is None else int(num_segments)
    keep = (ids >= 0) & (ids < count)  # out-of-range ids are dropped, as in TensorFlow
    if not keep.all():
        data, ids = _p.getitem(data, index=np.nonzero(keep)[0]), ids[keep]
    return data, ids, count


def segment_sum(data, segment_ids, num_segments=None, sorted=False) -> Tensor:  # noqa: A002
    """Sums of ``data``'s rows grouped by ``segment_ids``.

    >>> segment_sum([1.0, 2.0, 3.0], [0, 0, 1])
    Tensor([3., 3.], dtype=float32)
    """
    data, ids, count = _segments(data, segment_ids, num_segments, "segment_sum")
    if data.dtype.kind not in "fc":
        out = np.zeros((count,) + data.shape[1:], data.dtype)
        np.add.at(out, ids, data.data)
        return constant(out)
    return _m.segment_sum(data, segment_ids=ids, num_segments=count)


def _segment_extreme(data, segment_ids, num_segments, name, maximum: bool):
    data, ids, count = _segments(data, segment_ids, num_segments, name)
    dtype = data.dtype
    fill = (np.finfo(dtype).min if maximum else np.finfo(dtype).max) if dtype.kind == "f" else (
        np.iinfo(dtype).min if maximum else np.iinfo(dtype).max)
    peak = np.full((count,) + data.shape[1:], fill, dtype)
    (np.maximum if maximum else np.minimum).at(peak, ids, data.data)
    if dtype.kind not in "fc":
        return constant(peak)
    # Differentiable: each row's value where it reaches its segment's extreme, summed per
    # segment and divided by how many rows tie there.
    winners = (data.data == peak[ids]).astype(dtype)
    ties = np.zeros_like(peak)
    np.add.at(ties, ids, winners)
    share = winners / ties[ids]
    summed = _m.segment_sum(_p.multiply(data, share), segment_ids=ids, num_segments=count)
    empty = ties == 0
    return _p.where(empty, fill, summed)


def segment_max(data, segment_ids, num_segments=None, sorted=False) -> Tensor:  # noqa: A002
    """Maxima of ``data``'s rows grouped by ``segment_ids`` (the dtype's lowest value for an
    empty segment)."""
    return _segment_extreme(data, segment_ids, num_segments, "segment_max", maximum=True)


def segment_min(data, segment_ids, num_segments=None, sorted=False) -> Tensor:  # noqa: A002
    """Minima of ``data``'s rows grouped by ``segment_ids``."""
    return _segment_extreme(data, segment_ids, num_segments, "segment_min", maximum=False)


def extract_sequences(x, sequence_length, sequence_stride) -> Tensor:
    """Frames of ``sequence_length`` every ``sequence_stride`` along the last axis:
    ``(..., frames, sequence_length)``.

    >>> extract_sequences([1, 2, 3, 4], 2, 2).numpy().tolist()
    [[1, 2], [3, 4]]
    """
    x = to_tensor(x)
    frames = 1 + (x.shape[-1] - int(sequence_length)) // int(sequence_stride)
    index = (np.arange(frames)[:, None] * int(sequence_stride)
             + np.arange(int(sequence_length))[None, :])
    return _p.getitem(x, index=(Ellipsis, index))


def segment_prod(data, segment_ids, num_segments=None, sorted=False) -> Tensor:  # noqa: A002
    """Products of ``data``'s rows grouped by ``segment_ids`` (1 for an empty segment).
    Differentiable for non-zero ``data``: the product is ``exp`` of a segment sum of
    ``log |data|``, with the sign counted apart.

    >>> segment_prod([2.0, 3.0, -4.0], [0, 0, 1])
    Tensor([ 6., -4.], dtype=float32)
    """
    data, ids, count = _segments(data, segment_ids, num_segments, "segment_prod")
    if data.dtype.kind not in "fc" or (data.data == 0).any():
        out = np.ones((count,) + data.shape[1:], data.dtype)
        np.multiply.at(out, ids, data.data)
        return constant(out)
    magnitude = _p.exp(_m.segment_sum(_p.log(_p.abs(data)), segment_ids=ids,
                                      num_segments=count))
    negatives = np.zeros((count,) + data.shape[1:], np.int64)
    np.add.at(negatives, ids, (data.data < 0).astype(np.int64))
    return _p.multiply(magnitude, np.where(negatives % 2, -1, 1).astype(data.dtype))


# ----- Fourier transforms: complex tensors travel as (real, imaginary) pairs -----


def _complex_pair(x, name):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name}: x must be a tuple of two tensors, (real, imaginary); got "
                         f"{type(x).__name__}.")
    real, imag = to_float(x[0]), to_float(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"{name}: the real and imaginary parts must have the same shape, "
                         f"got {real.shape} and {imag.shape}.")
    return real, imag


def _split_pair(stacked):
    return (_p.getitem(stacked, index=(Ellipsis, 0)), _p.getitem(stacked, index=(Ellipsis, 1)))


def fft(x):
    """The discrete Fourier transform over the last axis of ``x = (real, imag)``.

    >>> [t.numpy().tolist() for t in fft(([1.0, 0.0], [0.0, 0.0]))]
    [[1.0, 1.0], [0.0, 0.0]]
    """
    return _split_pair(_m.fft(*_complex_pair(x, "fft"), axes=(-1,)))


def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of ``x = (real, imag)``."""
    return _split_pair(_m.fft(*_complex_pair(x, "fft2"), axes=(-2, -1)))


def ifft2(x):
    """The inverse of :func:`fft2`."""
    return _split_pair(_m.fft(*_complex_pair(x, "ifft2"), axes=(-2, -1), inverse=True))


def _fit_length(x, length):
    """``x`` cut or zero-padded to ``length`` along the last axis (differentiably)."""
    current = x.shape[-1]
    if current > length:
        return _p.getitem(x, index=(Ellipsis, slice(0, length)))
    if current < length:
        return _p.pad(x, pad_width=((0, 0),) * (x.ndim - 1) + ((0, length - current),))
    return x


def rfft(x, fft_length=None):
    """The non-negative frequencies of the real ``x``'s Fourier transform over its last axis
    (cut or zero-padded to ``fft_length``): ``(real, imag)`` of length ``fft_length // 2 + 1``.

    >>> [t.numpy().tolist() for t in rfft([1.0, 2.0, 3.0, 4.0])]
    [[10.0, -2.0, -2.0], [0.0, 2.0, 0.0]]
    """
    x = to_float(x)
    n = x.shape[-1] if fft_length is None else int(fft_length)
    return _split_pair(_m.rfft(_fit_length(x, n), n=n))


def irfft(x, fft_length=None):
    """The real signal (length ``fft_length``, by default ``2 * (m - 1)``) whose non-negative
    frequencies are ``x = (real, imag)``."""
    real, imag = _complex_pair(x, "irfft")
    n = 2 * (real.shape[-1] - 1) if fft_length is None else int(fft_length)
    bins = n // 2 + 1
    return _m.irfft(_fit_length(real, bins), _fit_length(imag, bins), n=n)


def _stft_window(window, sequence_length, fft_length, dtype):
    """The window padded to ``fft_length`` (centred), as Keras builds it."""
    if window is None:
        return np.ones(fft_length, dtype)  # the whole frame, as Keras
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"window must be 'hann', 'hamming', a tensor or None, got "
                             f"{window!r}.")
        # Periodic windows (scipy.signal.get_window's default, which Keras uses).
        phase = 2 * np.pi * np.arange(sequence_length) / sequence_length
        win = 0.5 - 0.5 * np.cos(phase) if window == "hann" else 0.54 - 0.46 * np.cos(phase)
    else:
        win = np.asarray(value(window), np.float64)
        if win.shape != (sequence_length,):
            raise ValueError(f"The shape of `window` must be ({sequence_length},), got "
                             f"{win.shape}.")
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform of the real ``x`` along its last axis: ``(real,
    imag)`` of shape ``(..., frames, fft_length // 2 + 1)``; ``center`` reflect-pads
    ``fft_length // 2`` on both sides first, as Keras.

    >>> real, imag = stft(np.ones(8, "float32"), 4, 2, 4, window=None, center=False)
    >>> real.numpy()[:, 0].tolist()
    [4.0, 4.0, 4.0]
    """
    x = to_float(x)
    if fft_length < sequence_length:
        raise ValueError(f"stft: fft_length ({fft_length}) must be at least sequence_length "
                         f"({sequence_length}).")
    if center:
        half = fft_length // 2
        from numkeras.ops.numpy import pad

        x = pad(x, ((0, 0),) * (x.ndim - 1) + ((half, half),), mode="reflect")
    win = _stft_window(window, sequence_length, fft_length, x.dtype)
    frames = extract_sequences(x, fft_length, sequence_stride)  # (..., F, fft_length)
    return _split_pair(_m.rfft(_p.multiply(frames, win), n=fft_length))


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """The inverse of :func:`stft`: each frame's inverse transform, windowed and overlapped,
    divided by the overlapped squared window (where it is not 0)."""
    real, imag = _complex_pair(x, "istft")
    frames = _m.irfft(real, imag, n=fft_length)  # (..., F, fft_length)
    win = _stft_window(window, sequence_length, fft_length, frames.dtype)
    count, stride = frames.shape[-2], int(sequence_stride)
    total = fft_length + stride * (count - 1)
    positions = (np.arange(count)[:, None] * stride + np.arange(fft_length)).reshape(-1)
    weighted = _p.reshape(_p.multiply(frames, win), shape=frames.shape[:-2] + (-1,))
    rows = _p.transpose(weighted, axes=(weighted.ndim - 1,) + tuple(range(weighted.ndim - 1)))
    summed = _m.segment_sum(rows, segment_ids=positions, num_segments=total)  # (total, ...)
    signal = _p.transpose(summed, axes=tuple(range(1, summed.ndim)) + (0,))
    norm = np.zeros(total)
    np.add.at(norm, positions, np.tile(win.astype(np.float64) ** 2, count))
    scale = np.where(norm > 1e-10, 1.0 / np.where(norm > 1e-10, norm, 1.0), 1.0)
    if window is None:
        # Keras divides by the stride instead of the window's sum here; kept for equal output.
        scale = scale * fft_length / stride
    signal = _p.multiply(signal, scale.astype(frames.dtype))
    start = fft_length // 2 if center else 0
    end = start + length if length is not None else (total - fft_length // 2 if center
                                                     else total)
    return _p.getitem(signal, index=(Ellipsis, slice(start, end)))
