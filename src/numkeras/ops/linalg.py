"""Linear algebra ops (Keras 3's ``keras.ops.linalg``) on the last two axes.

``norm``, ``inv``, ``det``, ``logdet`` and ``solve`` are differentiable; the factorisations
(``cholesky``, ``qr``, ``svd``, ``eigh``, ``eig``, ``lu_factor``, ``lstsq``,
``solve_triangular``) give constants here: their gradients are not implemented.

>>> from numkeras import ops
>>> ops.norm([3.0, 4.0])
Tensor(5., dtype=float32)
"""

from __future__ import annotations

import numpy as np

from numkeras.backprop import math_ops as _m
from numkeras.backprop import ops as _p
from numkeras.backprop.tensor import Tensor
from numkeras.ops.core import constant, to_float, value
from numkeras.ops.numpy import _axis

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "logdet", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd",
]


def _square(x, name) -> Tensor:
    x = to_float(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name} needs square matrices in the last two axes, got shape "
                         f"{x.shape}.")
    return x


def norm(x, ord=None, axis=None, keepdims=False) -> Tensor:  # noqa: A002 - Keras's name
    """Vector norms (``ord`` None/2, 1, inf, -inf, 0 or any p) over one axis, or matrix norms
    (None/'fro', 'nuc' not included, 1, -1, inf, -inf) over two; the whole tensor flattened
    when ``axis`` is None (the 2-norm, or ``ord`` for 1-D and 2-D inputs).

    >>> norm([[1.0, 2.0], [3.0, 4.0]], ord=1)
    Tensor(6., dtype=float32)
    """
    x, axis = to_float(x), _axis(axis)
    if axis is None:
        if ord is None or x.ndim > 2:
            squared = _p.sum(_p.multiply(x, x), keepdims=keepdims)
            return _p.sqrt(squared)
        axis = tuple(range(x.ndim))
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must name 1 or 2 axes, got {axis!r}.")


def _vector_norm(x, ord, axis, keepdims):  # noqa: A002
    magnitude = _p.abs(x)
    if ord is None or ord == 2:
        return _p.sqrt(_p.sum(_p.multiply(x, x), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return _p.max(magnitude, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _p.min(magnitude, axis=axis, keepdims=keepdims)
    if ord == 0:
        return constant(np.sum(x.data != 0, axis=axis, keepdims=keepdims).astype(x.dtype))
    if ord == 1:
        return _p.sum(magnitude, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; pass two axes.")
    powered = _p.sum(_p.power(magnitude, float(ord)), axis=axis, keepdims=keepdims)
    return _p.power(powered, 1.0 / float(ord))


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    row, col = (a % x.ndim for a in axes)
    if ord is None or ord == "fro":
        out = _p.sqrt(_p.sum(_p.multiply(x, x), axis=(row, col), keepdims=True))
    elif ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum (negatives: smallest).
        summed_axis, over = (row, col) if ord in (1, -1) else (col, row)
        sums = _p.sum(_p.abs(x), axis=summed_axis, keepdims=True)
        out = _p.max(sums, axis=over, keepdims=True) if ord > 0 else _p.min(
            sums, axis=over, keepdims=True)
    else:
        raise ValueError(f"norm: unsupported matrix norm ord={ord!r}; use None, 'fro', 1, -1, "
                         f"inf or -inf.")
    if keepdims:
        return out
    return _p.reshape(out, shape=tuple(n for a, n in enumerate(x.shape) if a not in (row, col)))


def inv(x) -> Tensor:
    """The matrix inverse.

    >>> inv([[2.0, 0.0], [0.0, 4.0]])
    Tensor([[0.5 , 0.  ],
            [0.  , 0.25]], dtype=float32)
    """
    return _m.inv(_square(x, "inv"))


def det(x) -> Tensor:
    """The determinant.

    >>> det([[1.0, 2.0], [3.0, 4.0]])
    Tensor(-2., dtype=float32)
    """
    return _m.det(_square(x, "det"))


def logdet(x) -> Tensor:
    """``log(det(x))`` of a positive-definite ``x``."""
    return _p.log(det(x))


def solve(a, b) -> Tensor:
    """``x`` with ``a @ x = b`` (``b`` a matrix, or a vector per matrix).

    >>> solve([[2.0, 0.0], [0.0, 4.0]], [2.0, 2.0])
    Tensor([1. , 0.5], dtype=float32)
    """
    a, b = _square(a, "solve"), to_float(b)
    if b.ndim == a.ndim - 1:
        return _p.reshape(_m.solve(a, _p.reshape(b, shape=b.shape + (1,))), shape=b.shape)
    return _m.solve(a, b)


def _constants(result):
    if isinstance(result, tuple):
        return tuple(constant(r) for r in result)
    return constant(result)


def cholesky(x, upper=False) -> Tensor:
    """The Cholesky factor (lower, or upper if ``upper``); no gradient."""
    lower = np.linalg.cholesky(value(_square(x, "cholesky")))
    return constant(np.swapaxes(lower, -1, -2) if upper else lower)


def qr(x, mode="reduced"):
    """``(q, r)`` of the QR decomposition; no gradient."""
    return _constants(tuple(np.linalg.qr(value(to_float(x)), mode=mode)))


def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)``, or ``s`` alone; no gradient."""
    result = np.linalg.svd(value(to_float(x)), full_matrices=full_matrices,
                           compute_uv=compute_uv)
    return _constants(tuple(result) if compute_uv else result)


def eigh(x):
    """Eigenvalues and eigenvectors of a symmetric matrix; no gradient."""
    return _constants(tuple(np.linalg.eigh(value(to_float(x)))))


def eig(x):
    """Eigenvalues and eigenvectors; no gradient."""
    return _constants(tuple(np.linalg.eig(value(to_float(x)))))


def lstsq(a, b, rcond=None) -> Tensor:
    """The least-squares solution of ``a @ x = b``; no gradient."""
    return constant(np.linalg.lstsq(value(to_float(a)), value(to_float(b)), rcond=rcond)[0])


def solve_triangular(a, b, lower=False) -> Tensor:
    """``x`` with ``a @ x = b`` for a triangular ``a`` (differentiable through ``solve``)."""
    a = _square(a, "solve_triangular")
    mask = np.tri(a.shape[-1], dtype=bool) if lower else np.tri(a.shape[-1], dtype=bool).T
    return solve(_p.where(mask, a, np.zeros((), a.dtype)), b)


def lu_factor(x):
    """``(lu, pivots)``: the packed LU factors and row pivots (0-based), no gradient."""
    a = np.array(value(_square(x, "lu_factor")), dtype=np.float64)
    n = a.shape[-1]
    if a.ndim != 2:
        raise NotImplementedError("lu_factor: numkeras factors one matrix at a time.")
    pivots = np.zeros(n, np.int32)
    for k in range(n):  # Doolittle with partial pivoting: n steps of vectorised row updates
        p = k + int(np.argmax(np.abs(a[k:, k])))
        pivots[k] = p
        a[[k, p]] = a[[p, k]]
        if a[k, k] != 0:
            a[k + 1:, k] /= a[k, k]
            a[k + 1:, k + 1:] -= np.outer(a[k + 1:, k], a[k, k + 1:])
    return constant(a.astype(to_float(x).dtype)), constant(pivots)


def slogdet(x):
    """``(sign, log|det|)``; the second is differentiable.

    >>> [t.item() for t in slogdet([[0.0, 2.0], [3.0, 0.0]])]
    [-1.0, 1.791759...]
    """
    x = _square(x, "slogdet")
    determinant = _m.det(x)
    return constant(np.sign(determinant.data)), _p.log(_p.abs(determinant))


def pinv(x, rcond=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse (singular values below ``rcond`` times the largest
    count as zero); no gradient."""
    data = value(to_float(x))
    cutoff = 1e-15 if rcond is None else rcond
    return constant(np.linalg.pinv(data, rcond=cutoff).astype(data.dtype))


def matrix_rank(x, tol=None) -> Tensor:
    """The number of singular values above ``tol`` (int32)."""
    return constant(np.linalg.matrix_rank(value(to_float(x)), tol=tol), "int32")


def cholesky_inverse(x, upper=False) -> Tensor:
    """The inverse of ``L @ L.T`` from its Cholesky factor ``L`` (``U.T @ U`` if ``upper``);
    differentiable.

    >>> cholesky_inverse([[2.0, 0.0], [1.0, 1.0]]).numpy().round(3).tolist()
    [[0.5, -0.5], [-0.5, 1.0]]
    """
    factor = _square(x, "cholesky_inverse")
    transposed = _p.transpose(factor, axes=tuple(range(factor.ndim - 2)) + (
        factor.ndim - 1, factor.ndim - 2))
    product = _p.matmul(transposed, factor) if upper else _p.matmul(factor, transposed)
    return _m.inv(product)
