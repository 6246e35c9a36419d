"""Primitive operations: each forward computation sits beside its vector-Jacobian product.

A primitive is written on raw NumPy arrays and returns ``(out, vjp)``; ``vjp(g)`` returns one
gradient per positional argument (``None`` where there is none), in the output's broadcast
shape. ``@primitive`` registers it in :data:`PRIMITIVES` and wraps it to work on Tensors
(``tensor.wrap_primitive``), undoing broadcasting in one place. VJPs never write into ``g``:
it may be a read-only broadcast view or shared with another branch.

This module (with ``image_ops.py``) is where raw NumPy computes values inside the graph; everything
else (activations, losses, layers) composes these functions.

>>> from numkeras.backprop import Tensor, ops
>>> x = Tensor([[1.0, -2.0]], requires_grad=True)
>>> ops.sum(ops.relu(x)).backward()
>>> x.grad
array([[1., 0.]])
"""

from __future__ import annotations

import builtins

import numpy as np

from numkeras.backprop import parallel
from numkeras.backprop.tensor import Tensor, wrap_primitive

PRIMITIVES: dict = {}


def primitive(forward=None, *, selective: bool = False):
    """Register ``forward(*arrays, **options) -> (out, vjp)`` as a differentiable op."""

    def register(fn):
        op = wrap_primitive(fn, fn.__name__, selective=selective)
        PRIMITIVES[fn.__name__] = op
        return op

    return register(forward) if forward is not None else register


# ----- arithmetic (binary ops broadcast; the wrapper unbroadcasts their gradients) -----


@primitive
def add(x, y):
    return np.add(x, y), lambda g: (g, g)


@primitive
def subtract(x, y):
    return np.subtract(x, y), lambda g: (g, -g)


@primitive
def multiply(x, y):
    return np.multiply(x, y), lambda g: (g * y, g * x)


@primitive
def divide(x, y):
    out = np.divide(x, y)
    return out, lambda g: (g / y, -g * out / y)


@primitive
def negative(x):
    return np.negative(x), lambda g: (-g,)


@primitive(selective=True)
def power(x, y):
    out = np.power(x, y)

    def vjp(g, needs):
        gx = g * y * np.power(x, np.subtract(y, 1)) if needs[0] else None
        # d(x^y)/dy = x^y log x, defined for x > 0 only.
        gy = g * out * np.log(np.where(x > 0, x, 1)) if needs[1] else None
        return gx, gy

    return out, vjp


@primitive
def maximum(x, y):
    # Ties send the gradient to x, as TensorFlow does.
    out = np.maximum(x, y)
    return out, lambda g: (g * (x >= y), g * (x < y))


@primitive
def minimum(x, y):
    out = np.minimum(x, y)
    return out, lambda g: (g * (x <= y), g * (x > y))


@primitive
def where(condition, x, y):
    """``x`` where ``condition`` else ``y``; ``condition`` is a boolean array (no gradient)."""
    condition = np.asarray(condition, dtype=bool)
    out = np.where(condition, x, y)
    return out, lambda g: (None, np.where(condition, g, 0), np.where(condition, 0, g))


@primitive
def clip(x, *, low, high):
    out = np.clip(x, low, high)
    return out, lambda g: (g * ((x >= low) & (x <= high)),)


@primitive
def cast(x, *, dtype):
    source = np.asarray(x).dtype
    return np.asarray(x).astype(dtype), lambda g: (g.astype(source),)


# ----- elementwise functions -----


@primitive
def exp(x):
    out = np.exp(x)
    return out, lambda g: (g * out,)


@primitive
def expm1(x):
    out = np.expm1(x)
    return out, lambda g: (g * (out + 1),)


@primitive
def log(x):
    return np.log(x), lambda g: (g / x,)


@primitive
def log1p(x):
    return np.log1p(x), lambda g: (g / (1 + x),)


@primitive
def sqrt(x):
    out = np.sqrt(x)
    return out, lambda g: (g * 0.5 / out,)


@primitive
def abs(x):  # noqa: A001 - mirrors numpy's name
    return np.abs(x), lambda g: (g * np.sign(x),)


@primitive
def tanh(x):
    out = np.tanh(x)
    return out, lambda g: (g * (1 - out * out),)


@primitive
def sigmoid(x):
    # Fused for stability: exp(-|x|) never overflows, and each branch keeps full relative
    # precision (1/(1+e) for x >= 0, e/(1+e) for x < 0).
    out = _sigmoid_np(x)
    return out, lambda g: (g * out * (1 - out),)


@primitive
def relu(x):
    # NOTE: not maximum(x, 0): that op would send half the gradient through ties at 0.
    out = np.maximum(x, 0)
    return out, lambda g: (g * (out > 0),)


@primitive
def erf(x):
    out = _erf_np(x)
    return out, lambda g: (g * (2 / np.sqrt(np.pi)) * np.exp(-np.square(x)),)


@primitive
def erfc(x):
    out = _erfc_np(x)
    return out, lambda g: (g * (-2 / np.sqrt(np.pi)) * np.exp(-np.square(x)),)


def _sigmoid_np(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.result_type(x, np.float32))


def _erfc_np(x):
    """Complementary error function, relative error below 1.2e-7 everywhere.

    NumPy has no erf; this is the Chebyshev fit of Numerical Recipes (erfcc), evaluated in
    float64 and cast back, so erfc keeps its relative accuracy deep in the tails (gelu needs it).
    """
    x = np.asarray(x)
    z = np.abs(x.astype(np.float64))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    tail = t * np.exp(poly)
    out = np.where(x >= 0, tail, 2.0 - tail)
    return out.astype(np.result_type(x.dtype, np.float32))


def _erf_np(x):
    x = np.asarray(x)
    x64 = x.astype(np.float64)
    # Near 0, 1 - erfc(x) loses relative precision, so sum the Taylor series there.
    small = np.abs(x64) < 0.5
    series = np.zeros_like(x64)
    term = x64.copy()
    for n in range(12):
        series += term / (2 * n + 1)
        term = term * (-x64 * x64) / (n + 1)
    out = np.where(small, series * (2 / np.sqrt(np.pi)), 1.0 - _erfc_np(x64))
    return out.astype(np.result_type(x.dtype, np.float32))


# ----- reductions -----


def _expand_reduced(g, shape, axis, keepdims):
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts to ``shape``."""
    if axis is None or keepdims:
        return g if axis is not None else np.reshape(g, (1,) * len(shape))
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    return np.expand_dims(g, tuple(a % len(shape) for a in axes))


@primitive
def sum(x, *, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy's name
    shape = np.shape(x)
    out = np.sum(x, axis=axis, keepdims=keepdims)
    return out, lambda g: (np.broadcast_to(_expand_reduced(g, shape, axis, keepdims), shape),)


@primitive
def max(x, *, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy's name
    out = np.max(x, axis=axis, keepdims=keepdims)

    def vjp(g):
        peak = _expand_reduced(out, x.shape, axis, keepdims)
        winners = x == peak
        # Ties share the gradient equally, as TensorFlow's reduce_max does.
        share = winners / np.sum(winners, axis=axis, keepdims=True)
        return (share * _expand_reduced(g, x.shape, axis, keepdims),)

    return out, vjp


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``: a sum scaled by 1/count (composite, no VJP of its own)."""
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    axes = range(len(shape)) if axis is None else ((axis,) if np.isscalar(axis) else axis)
    count = int(np.prod([shape[a] for a in axes]))
    return multiply(sum(x, axis=axis, keepdims=keepdims), 1.0 / builtins.max(count, 1))


def min(x, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy's name
    """Minimum over ``axis`` (composite: -max(-x))."""
    return negative(max(negative(x), axis=axis, keepdims=keepdims))


# ----- shape and indexing -----


@primitive
def reshape(x, *, shape):
    source = np.shape(x)
    return np.reshape(x, shape), lambda g: (np.reshape(g, source),)


@primitive
def transpose(x, *, axes=None):
    out = np.transpose(x, axes)
    inverse = None if axes is None else tuple(np.argsort(axes))
    return out, lambda g: (np.transpose(g, inverse),)


@primitive
def broadcast_to(x, *, shape):
    # The wrapper's unbroadcast sums the gradient back to x's shape.
    return np.broadcast_to(x, shape), lambda g: (g,)


@primitive
def getitem(x, *, index):
    shape, dtype = np.shape(x), np.asarray(x).dtype

    def vjp(g):
        full = np.zeros(shape, dtype=np.result_type(g, dtype))
        # add.at accumulates repeated fancy indices; plain assignment is enough otherwise.
        if _is_basic_index(index):
            full[index] = g
        else:
            np.add.at(full, index, g)
        return (full,)

    return np.asarray(x)[index], vjp


@primitive
def embedding_lookup(embeddings, *, indices):
    """Rows ``embeddings[indices]``: ``(vocab, dim)`` and integer ``indices`` of any shape give
    ``indices.shape + (dim,)``. The VJP scatter-adds each row's gradient back (repeated indices
    accumulate); callers check the range, since NumPy would wrap negative indices."""
    vocab, dtype = np.shape(embeddings)[0], np.asarray(embeddings).dtype
    flat = np.asarray(indices).reshape(-1)

    def vjp(g):
        rows = np.reshape(g, (flat.size, -1))  # (N, dim)
        full = np.zeros((vocab, rows.shape[1]), dtype=np.result_type(g, dtype))
        np.add.at(full, flat, rows)
        return (full,)

    return np.asarray(embeddings)[indices], vjp


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


@primitive
def concatenate(*xs, axis=0):
    sizes = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
    return np.concatenate(xs, axis=axis), lambda g: tuple(np.split(g, sizes, axis=axis))


@primitive
def stack(*xs, axis=0):
    out = np.stack(xs, axis=axis)
    return out, lambda g: tuple(np.moveaxis(g, axis, 0))


@primitive
def pad(x, *, pad_width, value=0.0):
    out = np.pad(x, pad_width, constant_values=value)
    inner = tuple(slice(before, n - after) for (before, after), n in zip(pad_width, out.shape))
    return out, lambda g: (g[inner],)


# ----- linear algebra -----


@primitive(selective=True)
def matmul(x, y):
    if np.ndim(x) == 2 and np.ndim(y) == 2:  # a large product is split over the cores
        return _matmul_2d(np.asarray(x), np.asarray(y))
    out = np.matmul(x, y)

    def vjp(g, needs):
        x_, y_ = np.asarray(x), np.asarray(y)
        if x_.ndim == 1 and y_.ndim == 1:
            return g * y_, g * x_
        if x_.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
            gx = np.matmul(y_, g[..., None])[..., 0] if needs[0] else None
            gy = x_[:, None] * g[..., None, :] if needs[1] else None
            return gx, gy
        if y_.ndim == 1:  # (..., m, k) @ (k,) -> (..., m)
            gx = g[..., None] * y_ if needs[0] else None
            gy = np.matmul(np.swapaxes(x_, -1, -2), g[..., None])[..., 0] if needs[1] else None
            return gx, gy
        gx = np.matmul(g, np.swapaxes(y_, -1, -2)) if needs[0] else None
        gy = np.matmul(np.swapaxes(x_, -1, -2), g) if needs[1] else None
        return gx, gy

    return out, vjp


def _matmul_2d(x, y):
    """``x @ y`` for matrices, its rows made part by part on the cores when the product is
    large (backprop/parallel.py), as Dense does; ``y``'s gradient is the sum of the parts'."""
    out = np.empty((len(x), y.shape[-1]), dtype=np.result_type(x, y))  # (m, n)
    size, multiply_adds = x.size + out.size, x.size * y.shape[-1]
    parallel.over_batch(lambda rows: np.matmul(x[rows], y, out=out[rows]), len(x), size,
                        multiply_adds)

    def vjp(g, needs):
        gx = np.empty(x.shape, dtype=np.result_type(g, y)) if needs[0] else None

        def backward(rows):
            if needs[0]:
                np.matmul(g[rows], y.T, out=gx[rows])
            return x[rows].T @ g[rows] if needs[1] else None

        partials = parallel.over_batch(backward, len(x), size, multiply_adds)
        return gx, parallel.sum_parts(partials)

    return out, vjp


# ----- fused ops (each justified: stability or speed) -----

# Activations that a fused Dense applies in place and differentiates from its output alone.
_FUSED_ACTIVATIONS = {
    "linear": (lambda z: z, lambda g, out: g),
    "relu": (lambda z: np.maximum(z, 0, out=z), lambda g, out: g * (out > 0)),
    "sigmoid": (lambda z: np.copyto(z, _sigmoid_np(z)), lambda g, out: g * out * (1 - out)),
    "tanh": (lambda z: np.tanh(z, out=z), lambda g, out: g * (1 - out * out)),
}
FUSED_DENSE_ACTIVATIONS = frozenset(_FUSED_ACTIVATIONS)


@primitive(selective=True)
def dense(x, kernel, bias, *, activation="linear"):
    """``activation(x @ kernel + bias)`` over the last axis of ``x`` in one node.

    Fused for speed: one matrix product writes the output, bias and activation are applied in
    place, and the VJP skips the gradient of ``x`` when nothing needs it (the first layer).
    ``activation`` is one of ``FUSED_DENSE_ACTIVATIONS``; ``bias`` may be None.
    """
    forward_act, backward_act = _FUSED_ACTIVATIONS[activation]
    batch_shape = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])  # (N, in)
    out = np.empty((len(x2), kernel.shape[-1]), dtype=np.result_type(x2, kernel))

    def forward(rows):  # a large batch (predict) is split over the cores: backprop/parallel.py
        z = np.matmul(x2[rows], kernel, out=out[rows])
        if bias is not None:
            z += bias
        forward_act(z)

    parallel.over_batch(forward, len(x2), x2.size + out.size, x2.size * kernel.shape[-1])

    def vjp(g, needs):
        g = g.reshape(out.shape)
        gx = np.empty(x2.shape, dtype=np.result_type(g, kernel)) if needs[0] else None

        def backward(rows):
            gz = backward_act(g[rows], out[rows])  # (rows, out)
            if needs[0]:
                np.matmul(gz, kernel.T, out=gx[rows])
            return (x2[rows].T @ gz if needs[1] else None,
                    gz.sum(axis=0) if needs[2] else None)

        partials = parallel.over_batch(backward, len(x2), x2.size + out.size,
                                       x2.size * kernel.shape[-1])
        gk, gb = partials[0] if len(partials) == 1 else map(parallel.sum_parts, zip(*partials))
        return (gx.reshape(x.shape) if needs[0] else None), gk, gb

    return out.reshape(batch_shape + (kernel.shape[-1],)), vjp


def _reduce(ufunc, x, axis):
    """``ufunc.reduce(x, axis, keepdims=True)``; a short last axis of many rows (class scores
    of a large batch) goes column by column instead: NumPy spends ~40 ns a row reducing a
    short contiguous axis (measured 430 us for max over 10,000 rows of 10, 100 us this way).
    """
    if axis not in (-1, x.ndim - 1) or not 1 < x.shape[-1] <= 16 or x.size < 1 << 14:
        return ufunc.reduce(x, axis=axis, keepdims=True)
    length = x.shape[-1]
    out = x[..., :1].copy()
    for j in range(1, length):
        ufunc(out, x[..., j:j + 1], out=out)
    return out


@primitive
def softmax(x, *, axis=-1):
    # Subtracting the max is constant w.r.t. the result, so it needs no gradient of its own.
    shifted = np.exp(x - _reduce(np.maximum, x, axis))
    out = shifted / _reduce(np.add, shifted, axis)
    return out, lambda g: (out * (g - _reduce(np.add, g * out, axis)),)


@primitive
def log_softmax(x, *, axis=-1):
    shifted = x - _reduce(np.maximum, x, axis)
    out = shifted - np.log(_reduce(np.add, np.exp(shifted), axis))
    return out, lambda g: (g - np.exp(out) * _reduce(np.add, g, axis),)


@primitive
def logsumexp(x, *, axis=-1, keepdims=False):
    peak = _reduce(np.maximum, x, axis)
    out = np.log(_reduce(np.add, np.exp(x - peak), axis)) + peak

    def vjp(g):
        return (_expand_reduced(g, x.shape, axis, keepdims) * np.exp(x - out),)

    return (out if keepdims else np.squeeze(out, axis=axis)), vjp


@primitive
def sparse_softmax_cross_entropy(logits, labels, *, mean=False):
    """Per-sample ``-log softmax(logits)[label]`` over the last axis (their mean if ``mean``).

    Fused for stability (log-sum-exp, no log of a rounded probability) and speed: the VJP is
    ``softmax - one_hot``, one pass, instead of a chain of five nodes; ``mean=True`` folds the
    batch mean of the training loss in as well. ``labels`` are integers in ``[0, classes)``
    with the shape of ``logits`` minus its last axis.
    """
    classes = logits.shape[-1]
    flat = logits.reshape(-1, classes)  # (N, C)
    rows = np.arange(flat.shape[0])
    index = np.asarray(labels).reshape(-1)
    peak = _reduce(np.maximum, flat, 1)
    exps = np.exp(flat - peak)
    total = _reduce(np.add, exps, 1)
    losses = (np.log(total) + peak)[:, 0] - flat[rows, index]

    def vjp(g):
        grad = exps / total
        grad[rows, index] -= 1
        grad *= g / len(rows) if mean else np.reshape(g, (-1, 1))
        return grad.reshape(logits.shape), None

    if mean:
        return np.add.reduce(losses) / np.asarray(len(rows), losses.dtype), vjp
    return losses.reshape(logits.shape[:-1]), vjp
