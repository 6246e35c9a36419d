"""Image primitives on channels-last batches ``(N, H, W, C)``, each beside its VJP.

Convolution is one matrix product over an im2col matrix whose rows are the receptive fields
(gathered by one strided copy); its VJP adds the input gradient back as ``kh*kw`` shifted
blocks (col2im). Pooling loops only over the ``ph*pw`` window offsets. No Python loop ever
runs over pixels or samples, float32 stays float32, and large temporaries of a VJP come from
a small pool of reused buffers instead of fresh memory.

``padding="same"`` follows TensorFlow (and so Keras): the total padding along an axis is
``max((out - 1) * stride + span - length, 0)``, and the odd pixel goes *after* the input
(bottom/right), which is why it is not the symmetric padding of PyTorch.

>>> import numpy as np
>>> from numkeras.backprop import Tensor
>>> x = Tensor(np.ones((1, 4, 4, 1), np.float32), requires_grad=True)
>>> y = conv2d(x, np.ones((3, 3, 1, 2), np.float32), padding="same")
>>> y.shape, y.data[0, :, :, 0].tolist()[0]
((1, 4, 4, 2), [4.0, 6.0, 6.0, 4.0])
>>> max_pool2d(y, pool_size=(2, 2)).shape
(1, 2, 2, 2)
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from numkeras.backprop import memory, parallel
from numkeras.backprop.ops import primitive
from numkeras.backprop.tensor import is_grad_enabled

# ----- scratch memory and fused activations -----


class _Scratch:
    """Reusable flat buffers for temporaries that never leave the call that takes them.

    Each fresh multi-megabyte array costs a page fault per 4 KiB page on first touch (the
    allocator returns freed memory to the OS between steps); on the course CNN the faults
    took a third of a training step. Buffers taken here are given back when the block ends,
    so they stay mapped. A taken buffer leaves the pool, so threads and nested calls never
    share one.
    """

    def __init__(self, keep: int = 16, max_bytes: int = 256 << 20):
        self._free: list[np.ndarray] = []
        self._keep, self._max_bytes = keep, max_bytes
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def arrays(self, *specs):
        """Yield one array per ``(shape, dtype)``, valid until the block ends."""
        sizes = [int(np.prod(shape)) for shape, _ in specs]
        with self._lock:
            taken = [self._take(size, np.dtype(dtype)) for size, (_, dtype) in zip(sizes, specs)]
        try:
            yield [base[:size].reshape(shape)
                   for base, size, (shape, _) in zip(taken, sizes, specs)]
        finally:
            with self._lock:
                self._free.extend(taken)
                # Forget the oldest buffers beyond `keep` or beyond `max_bytes` in all.
                while self._free and (len(self._free) > self._keep or sum(
                        b.nbytes for b in self._free) > self._max_bytes):
                    self._free.pop(0)

    def _take(self, size: int, dtype) -> np.ndarray:
        fits = [i for i, b in enumerate(self._free) if b.dtype == dtype and b.size >= size]
        if not fits:
            return np.empty(size, dtype)
        return self._free.pop(min(fits, key=lambda i: self._free[i].size))


_scratch = _Scratch()


def _relu_backward(g, out, into):
    # NOTE: the mask is `out > 0`, as in ops.relu: ties at 0 get no gradient.
    with _scratch.arrays((out.shape, bool)) as (mask,):
        return np.multiply(g, np.greater(out, 0, out=mask), out=into)


def _tanh_backward(g, out, into):
    np.square(out, out=into)
    np.subtract(1, into, out=into)
    return np.multiply(into, g, out=into)


# Activations a fused convolution applies in place and differentiates from its output alone;
# the backward functions write into `into` (scratch) unless they can return g itself.
_FUSED_ACTIVATIONS = {
    "linear": (lambda z: z, lambda g, out, into: g),
    "relu": (lambda z: np.maximum(z, 0, out=z), _relu_backward),
    "tanh": (lambda z: np.tanh(z, out=z), _tanh_backward),
}
FUSED_CONV_ACTIVATIONS = frozenset(_FUSED_ACTIVATIONS)


# ----- shape arithmetic (shared with the layers' compute_output_shape) -----


def conv_output_length(length, kernel: int, stride: int, padding: str, dilation: int = 1):
    """Output length along one axis, Keras's formula; ``None`` (unknown) stays ``None``.

    ``valid``: ``floor((length - span) / stride) + 1`` with ``span = (kernel - 1) * dilation
    + 1``; ``same``: ``ceil(length / stride)``. May be < 1: the caller decides how to fail.

    >>> conv_output_length(28, 3, 1, "valid"), conv_output_length(28, 3, 2, "same")
    (26, 14)
    """
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    span = (kernel - 1) * dilation + 1
    return (length - span) // stride + 1


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``same`` padding ``(before, after)``: the extra pixel goes after.

    >>> same_padding(28, 3, 1), same_padding(5, 2, 2), same_padding(4, 2, 2)
    ((1, 1), (0, 1), (0, 0))
    """
    span = (kernel - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"`{name}` must be an int or a pair of ints, received {name}={value!r}.")
    return int(pair[0]), int(pair[1])


def _padded(x, window, strides, dilation, padding, fill):
    """``x`` padded for ``padding`` (a new array only when padding is needed), and the pads."""
    if padding == "valid":
        return x, ((0, 0), (0, 0))
    if padding != "same":
        raise ValueError(f"`padding` must be 'valid' or 'same', received padding={padding!r}.")
    pads = tuple(same_padding(n, k, s, d)
                 for n, k, s, d in zip(x.shape[1:3], window, strides, dilation))
    if not any(sum(p) for p in pads):
        return x, pads
    (top, bottom), (left, right) = pads
    n, h, w, c = x.shape
    xp = np.full((n, h + top + bottom, w + left + right, c), fill, dtype=x.dtype)
    xp[:, top:top + h, left:left + w] = x
    return xp, pads


def _valid_length(length, kernel, stride, dilation, what, shape):
    out = (length - (kernel - 1) * dilation - 1) // stride + 1
    if out < 1:
        raise ValueError(
            f"The {what} window (size {kernel}, dilation {dilation}) is larger than the "
            f"(padded) input: input shape {shape}. Use a smaller window, padding='same', or "
            f"larger inputs."
        )
    return out


def _windows(xp, window, strides, dilation, out_hw):
    """Read-only view ``(N, Ho, Wo, kh, kw, C)`` of every receptive field of ``xp``."""
    n, _, _, c = xp.shape
    sn, sy, sx, sc = xp.strides
    (kh, kw), (sh, sw), (dh, dw) = window, strides, dilation
    return as_strided(xp, shape=(n, out_hw[0], out_hw[1], kh, kw, c),
                      strides=(sn, sy * sh, sx * sw, sy * dh, sx * dw, sc), writeable=False)


def _offset_slices(window, strides, dilation, out_hw):
    """For each window offset (i, j), the slice of the padded input it reads: kh*kw slices."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = window, strides, dilation, out_hw
    return [(slice(None), slice(i * dh, i * dh + (ho - 1) * sh + 1, sh),
             slice(j * dw, j * dw + (wo - 1) * sw + 1, sw))
            for i in range(kh) for j in range(kw)]


def _crop(xp, pads, shape):
    (top, _), (left, _) = pads
    return xp[:, top:top + shape[1], left:left + shape[2]]


# ----- convolution -----


@primitive(selective=True)
def conv2d(x, kernel, bias=None, *, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
           activation="linear"):
    """``activation(conv(x, kernel) + bias)``: a 2-D cross-correlation, as Keras's Conv2D.

    ``x`` is ``(N, H, W, C)``, ``kernel`` ``(kh, kw, C, F)``, ``bias`` ``(F,)`` or None;
    the output is ``(N, Ho, Wo, F)``. ``activation`` is one of ``FUSED_CONV_ACTIVATIONS``.
    Fused for speed: one matrix product (the bias rides along as a column of ones), the
    activation in place, and the VJP skips the input gradient when nothing needs it (the
    first layer of a model).
    """
    forward_act, backward_act = _FUSED_ACTIVATIONS[activation]
    kh, kw, channels, filters = kernel.shape
    strides, dilation, xp, pads, out_hw = _window_geometry(
        "conv2d", x, kernel, strides, padding, dilation_rate)
    images, pixels = x.shape[0], out_hw[0] * out_hw[1]
    cols_bytes = images * pixels * (kh * kw * channels + 1) * xp.dtype.itemsize
    if cols_bytes > memory.working_budget():  # rare: split (inference) or refuse (training)
        chunk = memory.batch_chunk(cols_bytes, images, lambda: f"conv2d (inputs {x.shape}, "
                                   f"kernel {kernel.shape}, im2col matrix)",
                                   split=not is_grad_enabled())
        options = dict(strides=strides, padding=padding, dilation_rate=dilation,
                       activation=activation)
        return np.concatenate([conv2d.__wrapped__(x[i:i + chunk], kernel, bias, **options)[0]
                               for i in range(0, images, chunk)]), None
    cols, weights, fill_cols = _im2col(xp, kernel, bias, strides, dilation, out_hw)
    out = np.empty((len(cols), filters), dtype=np.result_type(cols, weights))  # (N*Ho*Wo, F)

    # Each part of the batch (see backprop/parallel.py) gathers its receptive fields, makes
    # its rows of the product and applies the activation, while the cache is still warm.
    def forward(part):
        rows = _rows(part, pixels)
        fill_cols(part)
        np.matmul(cols[rows], weights, out=out[rows])
        forward_act(out[rows])

    parallel.over_batch(forward, images, cols.size + out.size, cols.size * filters)

    def vjp(g, needs):
        wants_weights = needs[1] or (len(needs) > 2 and needs[2])
        g = g.reshape(out.shape)
        gxp = np.empty(xp.shape, dtype=np.result_type(g, kernel)) if needs[0] else None

        def backward(part):
            rows = _rows(part, pixels)
            with _scratch.arrays((out[rows].shape, out.dtype)) as (buffer,):
                gz = backward_act(g[rows], out[rows], buffer)
                if needs[0]:
                    _col2im(gz, kernel, gxp[part], strides, dilation, out_hw)
                # (kh*kw*C [+1], F): the bias row comes for free
                return cols[rows].T @ gz if wants_weights else None

        partials = parallel.over_batch(backward, images, cols.size + out.size,
                                       cols.size * filters)
        gk = gb = None
        if wants_weights:
            g_weights = parallel.sum_parts(partials)
            gk = g_weights[:kh * kw * channels].reshape(kernel.shape)
            gb = g_weights[-1] if bias is not None else None
        gx = _crop(gxp, pads, x.shape) if needs[0] else None
        return gx, gk, gb

    return out.reshape(images, *out_hw, filters), vjp


def _window_geometry(op: str, x, kernel, strides, padding, dilation_rate):
    """(strides, dilation, padded x, pads, output (Ho, Wo)) of a convolution of ``x``
    ``(N, H, W, C)`` by a ``(kh, kw, C, ...)`` kernel, checking that the channels agree."""
    strides, dilation = _pair(strides, "strides"), _pair(dilation_rate, "dilation_rate")
    kh, kw, channels = kernel.shape[:3]
    if x.ndim != 4 or x.shape[-1] != channels:
        raise ValueError(f"{op} expects inputs (N, H, W, {channels}) for a kernel of shape "
                         f"{kernel.shape}; received inputs of shape {x.shape}.")
    xp, pads = _padded(x, (kh, kw), strides, dilation, padding, 0)
    out_hw = tuple(_valid_length(n, k, s, d, "convolution", x.shape)
                   for n, k, s, d in zip(xp.shape[1:3], (kh, kw), strides, dilation))
    return strides, dilation, xp, pads, out_hw


def _rows(part: slice, pixels: int) -> slice:
    """The rows of an im2col matrix that belong to the images ``part``."""
    return slice(part.start * pixels, part.stop * pixels)


def _col2im(gz, kernel, gxp, strides, dilation, out_hw):
    """Write into ``gxp`` (padded input, zeroed here) the input gradient of conv2d: the
    col2im of ``gz @ kernel.T`` for the images of ``gz``'s rows.

    One batched product gives each kernel offset's share as a contiguous ``(N, Ho, Wo, C)``
    block, and col2im adds the kh*kw blocks at their shifts. (The same numbers as the
    ``(rows, kh*kw*C)`` matrix ``gz @ kernel.T``, laid out so that the additions run over long
    contiguous rows: measured 2.5x faster than adding its strided column slices.)
    """
    kh, kw, channels, filters = kernel.shape
    per_offset = kernel.reshape(kh * kw, channels, filters).transpose(0, 2, 1)  # (kh*kw, F, C)
    with _scratch.arrays(((kh * kw, gz.shape[0], channels), gxp.dtype)) as (blocks,):
        np.matmul(gz, per_offset, out=blocks)
        blocks = blocks.reshape(kh * kw, len(gxp), *out_hw, channels)
        gxp[...] = 0
        for k, index in enumerate(_offset_slices((kh, kw), strides, dilation, out_hw)):
            gxp[index] += blocks[k]


def _im2col(xp, kernel, bias, strides, dilation, out_hw):
    """The matrix ``(N*Ho*Wo, kh*kw*C [+1])`` whose rows will be the receptive fields, ordered
    like the kernel, plus a column of ones when there is a bias; the matching ``(rows, F)``
    weight matrix; and ``fill(part)``, which fills the rows of the images ``part``.
    """
    kh, kw, channels, filters = kernel.shape
    n = xp.shape[0]
    size = kh * kw * channels
    cols = np.empty((n * out_hw[0] * out_hw[1], size + (bias is not None)), dtype=xp.dtype)
    per_image = cols.reshape(n, out_hw[0] * out_hw[1], cols.shape[1])
    fields = cols[:, :size].reshape(n, *out_hw, kh, kw, channels)  # a view into cols
    windows = _windows(xp, (kh, kw), strides, dilation, out_hw)
    offsets = _offset_slices((kh, kw), strides, dilation, out_hw)

    def fill(part):
        if channels == 1:
            # One copy per kernel offset: with a single channel the one strided copy below
            # moves runs of only kw values and measured ~4x slower.
            for k, index in enumerate(offsets):
                fields[part, :, :, k // kw, k % kw] = xp[part][index]
        else:
            fields[part] = windows[part]
        if bias is not None:
            per_image[part, :, size] = 1

    weights = kernel.reshape(size, filters)
    if bias is not None:
        weights = np.concatenate([weights, bias.reshape(1, filters)])
    return cols, weights, fill


# ----- depthwise convolution -----


@primitive(selective=True)
def depthwise_conv2d(x, kernel, bias=None, *, strides=(1, 1), padding="valid",
                     dilation_rate=(1, 1)):
    """``depthwise_conv(x, kernel) + bias``, as Keras's DepthwiseConv2D: each input channel
    is convolved with its own ``depth_multiplier`` filters, and channels never mix.

    ``x`` is ``(N, H, W, C)``, ``kernel`` ``(kh, kw, C, M)``, ``bias`` ``(C*M,)`` or None;
    the output is ``(N, Ho, Wo, C*M)`` with output channel ``c*M + m`` made by filter
    ``kernel[..., c, m]`` (Keras's order). One multiply-add per kernel offset and multiplier
    over the whole batch (no im2col: a channel's window is only kh*kw numbers, too few for a
    matrix product to pay). The VJP walks the offsets again: the input gradient adds
    ``g * kernel[a, b]`` back at each shift, the kernel gradient sums ``x * g`` per offset.

    >>> import numpy as np
    >>> y = depthwise_conv2d(np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 3)))
    >>> y.shape, float(y.data[0, 0, 0, 0])
    ((1, 2, 2, 6), 4.0)
    """
    kh, kw, channels, multiplier = kernel.shape
    strides, dilation, xp, pads, out_hw = _window_geometry(
        "depthwise_conv2d", x, kernel, strides, padding, dilation_rate)
    index = _offset_slices((kh, kw), strides, dilation, out_hw)
    taps = kernel.reshape(kh * kw, channels, multiplier)
    dtype = np.result_type(x, kernel, *([] if bias is None else [bias]))
    # One (N, Ho, Wo, C) plane per multiplier, so every product runs over contiguous channels
    # (a trailing axis of M measured 4x slower); interleaved into c*M + m at the end.
    planes = np.empty((multiplier, x.shape[0], *out_hw, channels), dtype)
    with _scratch.arrays((planes.shape[1:], dtype)) as (term,):
        for m, plane in enumerate(planes):
            np.multiply(xp[index[0]], taps[0, :, m], out=plane)
            for k, where in enumerate(index[1:], start=1):
                plane += np.multiply(xp[where], taps[k, :, m], out=term)
    out = planes[0] if multiplier == 1 else np.moveaxis(planes, 0, -1).reshape(
        x.shape[0], *out_hw, channels * multiplier)
    if bias is not None:
        out += bias

    def vjp(g, needs):
        g5 = g.reshape(g.shape[:3] + (channels, multiplier))  # (N, Ho, Wo, C, M)
        g_planes = [np.ascontiguousarray(g5[..., m]) for m in range(multiplier)]
        gxp = np.zeros(xp.shape, np.result_type(g, kernel)) if needs[0] else None
        g_taps = np.empty(taps.shape, np.result_type(g, x)) if needs[1] else None
        with _scratch.arrays((planes.shape[1:], np.result_type(g, kernel))) as (term,):
            for k, where in enumerate(index):
                for m, g_plane in enumerate(g_planes):
                    if needs[0]:
                        gxp[where] += np.multiply(g_plane, taps[k, :, m], out=term)
                    if needs[1]:
                        g_taps[k, :, m] = np.einsum("nhwc,nhwc->c", xp[where], g_plane)
        gb = g.sum(axis=(0, 1, 2)) if len(needs) > 2 and needs[2] else None
        gx = _crop(gxp, pads, x.shape) if needs[0] else None
        return gx, (g_taps.reshape(kernel.shape) if needs[1] else None), gb

    return out, vjp


# ----- transposed convolution -----


def conv_transpose_output_length(length, kernel: int, stride: int, padding: str,
                                 output_padding=None, dilation: int = 1):
    """Output length of a transposed convolution along one axis, Keras 3's formula
    (``backend/common/backend_utils.py``); ``None`` (unknown) stays ``None``.

    With ``span = (kernel - 1) * dilation + 1``: ``valid`` gives ``(length - 1) * stride + span
    + output_padding``, where ``output_padding`` None means ``max(span, stride) - span``;
    ``same`` gives ``length * stride``, or with ``output_padding`` ``(length - 1) * stride +
    span % 2 + output_padding``.

    >>> conv_transpose_output_length(7, 3, 2, "same"), conv_transpose_output_length(7, 3, 2,
    ...     "valid"), conv_transpose_output_length(7, 3, 2, "same", output_padding=0)
    (14, 15, 13)
    """
    if length is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (length - 1) * stride + span + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + span % 2 + output_padding


def _transpose_crop(kernel: int, stride: int, padding: str, output_padding, dilation: int):
    """How many leading pixels of the full scatter the output skips along one axis: ``span - 1``
    less the left padding Keras 3 hands to ``jax.lax.conv_transpose`` (TensorFlow's choice too:
    of an odd total, the extra pixel is cropped at the end)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0
    total = stride + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
    return span - 1 - min(total // 2 + total % 2, span - 1)


@primitive(selective=True)
def conv2d_transpose(x, kernel, bias=None, *, strides=(1, 1), padding="valid",
                     output_padding=None, dilation_rate=(1, 1)):
    """``conv_transpose(x, kernel) + bias``, as Keras's Conv2DTranspose: the gradient of
    :func:`conv2d` with respect to its input, used as a forward pass.

    ``x`` is ``(N, H, W, C)``, ``kernel`` ``(kh, kw, F, C)`` (Keras's layout: the conv2d kernel
    from ``F`` to ``C`` channels whose input gradient this is), ``bias`` ``(F,)`` or None; the
    output is ``(N, Ho, Wo, F)`` with ``Ho`` from :func:`conv_transpose_output_length`.
    Every input pixel ``(i, j)`` adds ``kernel[a, b] @ x[n, i, j]`` to the pixel
    ``(i * sh + a * dh, j * sw + b * dw)`` of the full scatter, ``(H - 1) * sh + span`` high
    (col2im, as in conv2d's VJP); the output is a window of it, zeros where the window runs
    past its end. The VJP is conv2d's forward on the output gradient: one im2col of it gives
    both the input gradient (times the kernel) and the kernel gradient (times ``x``).
    """
    strides, dilation = _pair(strides, "strides"), _pair(dilation_rate, "dilation_rate")
    extras = (None, None) if output_padding is None else _pair(output_padding, "output_padding")
    if padding not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same', received padding={padding!r}.")
    kh, kw, filters, channels = kernel.shape
    if x.ndim != 4 or x.shape[-1] != channels:
        raise ValueError(f"conv2d_transpose expects inputs (N, H, W, {channels}) for a kernel "
                         f"of shape {kernel.shape}; received inputs of shape {x.shape}.")
    images, height, width, _ = x.shape
    axes = list(zip((height, width), (kh, kw), strides, extras, dilation))
    full = tuple((n - 1) * s + (k - 1) * d + 1 for n, k, s, _, d in axes)
    out_hw = tuple(conv_transpose_output_length(n, k, s, padding, e, d) for n, k, s, e, d in axes)
    (top, left) = crops = tuple(_transpose_crop(k, s, padding, e, d) for _, k, s, e, d in axes)
    canvas_hw = tuple(max(f, c + o) for f, c, o in zip(full, crops, out_hw))
    dtype = np.result_type(x, kernel, *([] if bias is None else [bias]))
    direct = crops == (0, 0) and canvas_hw == out_hw == full  # the scatter is the output
    # Zeros only where the output window runs past the scatter; col2im zeroes the scatter.
    canvas = (np.empty if canvas_hw == full else np.zeros)((images, *canvas_hw, filters), dtype)
    out = canvas if direct else np.empty((images, *out_hw, filters), dtype)
    rows = x.reshape(images * height * width, channels)
    pixels = height * width
    size = kh * kw * len(rows) * filters + canvas.size  # col2im's blocks and the canvas

    def forward(part):
        _col2im(rows[_rows(part, pixels)], kernel, canvas[part, :full[0], :full[1]], strides,
                dilation, (height, width))
        if not direct:
            out[part] = canvas[part, top:top + out_hw[0], left:left + out_hw[1]]
        if bias is not None:
            out[part] += bias

    parallel.over_batch(forward, images, size, len(rows) * kh * kw * filters * channels)

    def vjp(g, needs):
        wants_bias = len(needs) > 2 and needs[2]
        g_full = g
        if not direct:  # the output gradient placed in the scatter, 0 where it was cropped
            g_full = np.zeros((images, *full, filters), g.dtype)
            hh, ww = min(out_hw[0], full[0] - top), min(out_hw[1], full[1] - left)
            g_full[:, top:top + hh, left:left + ww] = g[:, :hh, :ww]
        cols, weights, fill = _im2col(g_full, kernel, None, strides, dilation, (height, width))
        gx = np.empty(rows.shape, np.result_type(g, kernel)) if needs[0] else None

        def backward(part):
            r = _rows(part, pixels)
            fill(part)
            if needs[0]:
                np.matmul(cols[r], weights, out=gx[r])
            return cols[r].T @ rows[r] if needs[1] else None  # (kh*kw*F, C)

        partials = parallel.over_batch(backward, images, size,
                                       len(rows) * kh * kw * filters * channels)
        gk = parallel.sum_parts(partials).reshape(kernel.shape) if needs[1] else None
        gb = g.sum(axis=(0, 1, 2)) if wants_bias else None
        return (gx.reshape(x.shape) if needs[0] else None), gk, gb

    return out, vjp


# ----- pooling -----


def _pool_setup(x, pool_size, strides, padding, fill):
    window = _pair(pool_size, "pool_size")
    strides = window if strides is None else _pair(strides, "strides")
    if x.ndim != 4:
        raise ValueError(f"2-D pooling expects inputs (N, H, W, C); received shape {x.shape}.")
    xp, pads = _padded(x, window, strides, (1, 1), padding, fill)
    out_hw = tuple(_valid_length(n, k, s, 1, "pooling", x.shape)
                   for n, k, s in zip(xp.shape[1:3], window, strides))
    overlapping = strides[0] < window[0] or strides[1] < window[1]
    return xp, pads, _offset_slices(window, strides, (1, 1), out_hw), overlapping


@primitive
def max_pool2d(x, *, pool_size=(2, 2), strides=None, padding="valid"):
    """Maximum over each ``pool_size`` window (``strides`` default to ``pool_size``).

    ``same`` pads with -inf, so padding never wins. The gradient goes to the *first* maximum
    of each window in row-major order, as TensorFlow's MaxPoolGrad does; ties do not split it.
    """
    xp, pads, index, overlapping = _pool_setup(x, pool_size, strides, padding, -np.inf)
    out = np.empty(xp[index[0]].shape, dtype=xp.dtype)  # (N, Ho, Wo, C)
    # A running maximum over the window offsets; rises[k] marks where offset k+1 beat every
    # earlier offset strictly, so the last rise of a window is its first maximum.
    rises = [np.empty(out.shape, dtype=bool) for _ in index[1:]]

    def pool(images):
        source, result = xp[images], out[images]
        result[...] = source[index[0]]
        for k, rise in zip(index[1:], rises):
            np.greater(source[k], result, out=rise[images])
            np.maximum(result, source[k], out=result)

    parallel.over_batch(pool, len(out), xp.size)

    def vjp(g):
        gxp = np.empty(xp.shape, dtype=g.dtype)
        with _scratch.arrays((out.shape, g.dtype), (out.shape, g.dtype)) as (part, rest):
            parallel.over_batch(
                lambda images: _max_pool_grad(g[images], rises, images, index, overlapping,
                                              gxp[images], part[images], rest[images]),
                len(out), gxp.size)
        return (_crop(gxp, pads, x.shape),)

    return out, vjp


def _max_pool_grad(g, rises, images, index, overlapping, gxp, part, rest):
    """Route ``g`` to the first maximum of each window, for the images ``images``."""
    gxp[...] = 0
    # Walk the offsets backwards: each takes the gradient of the windows whose last rise it
    # is and passes on the rest, which is always exactly g or 0 (no rounding).
    remaining = g
    for k in range(len(index) - 1, 0, -1):
        # Without overlap each input pixel is in one window: write straight into it.
        share = part if overlapping else gxp[index[k]]
        np.multiply(remaining, rises[k - 1][images], out=share)
        if overlapping:
            gxp[index[k]] += share
        remaining = np.subtract(remaining, share, out=rest)
    gxp[index[0]] += remaining


@primitive
def avg_pool2d(x, *, pool_size=(2, 2), strides=None, padding="valid"):
    """Mean over each ``pool_size`` window (``strides`` default to ``pool_size``).

    With ``same`` each window averages only its real pixels, not the padding, as TensorFlow.
    """
    xp, pads, index, overlapping = _pool_setup(x, pool_size, strides, padding, 0)
    out = xp[index[0]].copy()  # (N, Ho, Wo, C)
    for k in index[1:]:
        out += xp[k]
    if any(sum(p) for p in pads):
        real = np.zeros((1,) + xp.shape[1:3] + (1,), dtype=x.dtype)
        _crop(real, pads, x.shape)[...] = 1  # 1 on real pixels, 0 on padding
        count = sum(real[k] for k in index)  # (1, Ho, Wo, 1) real pixels per window
    else:
        count = np.asarray(len(index), dtype=x.dtype)
    out /= count

    def vjp(g):
        gxp = np.zeros(xp.shape, dtype=np.result_type(g, count))
        with _scratch.arrays((out.shape, gxp.dtype)) as (share,):
            np.divide(g, count, out=share)
            for k in index:
                if overlapping:
                    gxp[k] += share
                else:
                    gxp[k] = share
        return (_crop(gxp, pads, x.shape),)

    return out, vjp


# ----- resizing -----


def _bilinear_matrix(length: int, factor: int, dtype) -> np.ndarray:
    """``(length * factor, length)`` interpolation weights with half-pixel centres, edges
    clamped: TensorFlow's ``resize(..., "bilinear")`` (what Keras's UpSampling2D calls)."""
    source = (np.arange(length * factor) + 0.5) / factor - 0.5
    low = np.floor(source)
    frac = source - low
    rows = np.arange(length * factor)
    weights = np.zeros((length * factor, length), dtype=np.float64)
    # Each statement touches one entry per row; at the clamped edges both taps hit the same
    # entry, and the second statement adds to the first.
    weights[rows, np.clip(low, 0, length - 1).astype(int)] = 1 - frac
    weights[rows, np.clip(low + 1, 0, length - 1).astype(int)] += frac
    return weights.astype(dtype)


@primitive
def upsample_bilinear2d(x, *, size=(2, 2)):
    """Bilinear upsampling of ``(N, H, W, C)`` by integer factors ``size``.

    Separable: one small matrix product along the rows and one along the columns; the VJP
    multiplies by the transposed matrices.
    """
    n, h, w, c = x.shape
    fy, fx = _pair(size, "size")
    rows, cols = _bilinear_matrix(h, fy, x.dtype), _bilinear_matrix(w, fx, x.dtype)
    tall = rows @ x.reshape(n, h, w * c)  # (N, H*fy, W*C)
    out = cols @ tall.reshape(n * h * fy, w, c)  # (N*H*fy, W*fx, C)

    def vjp(g):
        g_tall = cols.T @ g.reshape(n * h * fy, w * fx, c)  # (N*H*fy, W, C)
        return ((rows.T @ g_tall.reshape(n, h * fy, w * c)).reshape(x.shape),)

    return out.reshape(n, h * fy, w * fx, c), vjp


# ----- normalization -----


@primitive(selective=True)
def batch_norm(x, gamma=None, beta=None, *, axis=-1, epsilon=1e-3, moments_out=None):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the batch's own statistics.

    ``mean`` and the (biased) ``var`` are taken over every axis except ``axis``; ``gamma``
    and ``beta`` have shape ``(x.shape[axis],)`` or are None. If ``moments_out`` is a list,
    ``(mean, var)`` are appended to it, so a layer can update its moving averages without a
    second pass. Fused: the VJP is the closed form (three reductions) instead of a dozen
    nodes, and it stays exact because the statistics depend on ``x``.
    """
    axis = axis % x.ndim
    axes = tuple(a for a in range(x.ndim) if a != axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(np.square(centred), axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + np.asarray(epsilon, var.dtype))
    normed = centred * inv_std
    out = normed if gamma is None else normed * gamma.reshape(shape)
    if beta is not None:
        out = out + beta.reshape(shape)
    if moments_out is not None:
        moments_out.extend([mean.reshape(-1), var.reshape(-1)])

    def vjp(g, needs):
        g_normed = g if gamma is None else g * gamma.reshape(shape)
        gx = None
        if needs[0]:
            mean_g = g_normed.mean(axis=axes, keepdims=True)
            mean_gn = np.mean(g_normed * normed, axis=axes, keepdims=True)
            gx = (g_normed - mean_g - normed * mean_gn) * inv_std
        g_gamma = np.sum(g * normed, axis=axes) if len(needs) > 1 and needs[1] else None
        g_beta = np.sum(g, axis=axes) if len(needs) > 2 and needs[2] else None
        return gx, g_gamma, g_beta

    return out, vjp
