"""Primitives behind ``numkeras.ops`` that cannot be composed from ``ops.py`` well.

Each one sits beside its VJP, as in ``ops.py``, and registers in the same ``PRIMITIVES`` table
(so ``tests/backprop/test_ops_gradcheck.py`` checks it). They live in their own module, as the
image primitives do, so that importing the engine for a plain Dense model stays as it was.
Why each is a primitive:

- trigonometric and hyperbolic functions and ``cbrt``: no composition from exp/log gives their
  values (arcsin, arctan) or keeps them accurate (sinh near 0, cbrt of negatives);
- ``cumsum``/``cumprod``/``prod``: one pass instead of a chain of slices; ``prod``'s VJP uses
  products of the *other* entries, so zeros do not divide;
- ``take_along_axis``: a gather whose VJP is one scatter-add (sort and top_k build on it);
- ``einsum``: the VJP of each operand is another einsum, instead of transposes and matmuls;
- ``segment_sum``: a scatter-add whose VJP is a gather;
- ``erfinv``: found by Newton's method on ``erf``; its VJP is closed-form;
- ``inv``, ``det``, ``solve``: LAPACK calls with closed-form VJPs;
- ``fft``, ``rfft``, ``irfft``: complex values travel as a trailing axis of 2 (real,
  imaginary); the VJP of each transform is its adjoint, another FFT.

>>> from numkeras.backprop import Tensor
>>> x = Tensor([0.0, 1.0], requires_grad=True)
>>> sin(x).sum().backward()
>>> x.grad.round(4)
array([1.    , 0.5403])
"""

from __future__ import annotations

import string

import numpy as np

from numkeras.backprop.ops import _erf_np, primitive

# ----- trigonometric and hyperbolic functions -----


@primitive
def sin(x):
    return np.sin(x), lambda g: (g * np.cos(x),)


@primitive
def cos(x):
    return np.cos(x), lambda g: (-g * np.sin(x),)


@primitive
def tan(x):
    out = np.tan(x)
    return out, lambda g: (g * (1 + out * out),)


@primitive
def arcsin(x):
    return np.arcsin(x), lambda g: (g / np.sqrt(1 - x * x),)


@primitive
def arccos(x):
    return np.arccos(x), lambda g: (-g / np.sqrt(1 - x * x),)


@primitive
def arctan(x):
    return np.arctan(x), lambda g: (g / (1 + x * x),)


@primitive
def arctan2(y, x):
    out = np.arctan2(y, x)

    def vjp(g):
        norm = x * x + y * y
        return g * x / norm, -g * y / norm

    return out, vjp


@primitive
def sinh(x):
    return np.sinh(x), lambda g: (g * np.cosh(x),)


@primitive
def cosh(x):
    return np.cosh(x), lambda g: (g * np.sinh(x),)


@primitive
def arcsinh(x):
    return np.arcsinh(x), lambda g: (g / np.sqrt(x * x + 1),)


@primitive
def arccosh(x):
    return np.arccosh(x), lambda g: (g / np.sqrt(x * x - 1),)


@primitive
def arctanh(x):
    return np.arctanh(x), lambda g: (g / (1 - x * x),)


@primitive
def cbrt(x):
    out = np.cbrt(x)
    return out, lambda g: (g / (3 * out * out),)


# ----- scans and products -----


@primitive
def cumsum(x, *, axis):
    """Running sum along ``axis``; the VJP is the running sum of ``g`` from the other end."""
    out = np.cumsum(x, axis=axis)
    return out, lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


@primitive
def cumprod(x, *, axis):
    """Running product along ``axis``. The VJP divides by ``x`` (as TensorFlow's does), so it
    is undefined where ``x`` is 0."""
    out = np.cumprod(x, axis=axis)

    def vjp(g):
        tail = np.flip(np.cumsum(np.flip(g * out, axis), axis=axis), axis)
        return (tail / x,)

    return out, vjp


@primitive
def prod(x, *, axis=None, keepdims=False):
    """Product over ``axis`` (an int, a tuple or None)."""
    x = np.asarray(x)
    out = np.prod(x, axis=axis, keepdims=keepdims)

    def vjp(g):
        axes = tuple(range(x.ndim)) if axis is None else tuple(
            a % x.ndim for a in ((axis,) if np.isscalar(axis) else axis))
        rest = [a for a in range(x.ndim) if a not in axes]
        moved = np.transpose(x, rest + list(axes))
        flat = moved.reshape(moved.shape[:len(rest)] + (-1,))  # (..., n)
        # Product of the others = exclusive running product from the left times the right's,
        # so a zero entry gets the product of the rest instead of 0/0.
        ones = np.ones(flat.shape[:-1] + (1,), flat.dtype)
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], -1), -1)
        right = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], -1), -1),
                        -1)
        gg = np.asarray(g)
        if keepdims:
            gg = np.squeeze(gg, axis=axes)
        others = (left * right).reshape(moved.shape) * np.expand_dims(
            gg, tuple(range(len(rest), x.ndim)))
        return (np.transpose(others, np.argsort(rest + list(axes))),)

    return out, vjp


# ----- gathers and scatters -----


@primitive
def take_along_axis(x, *, indices, axis):
    """``x``'s entries at ``indices`` along ``axis`` (NumPy's ``take_along_axis``); repeated
    indices accumulate in the VJP."""
    x = np.asarray(x)
    indices = np.asarray(indices)
    out = np.take_along_axis(x, indices, axis=axis)

    def vjp(g):
        full = np.zeros(x.shape, dtype=np.result_type(g, x.dtype))
        g = np.broadcast_to(g, out.shape)
        grid = list(np.ix_(*[np.arange(n) for n in out.shape]))
        grid[axis % x.ndim] = np.broadcast_to(indices, out.shape)
        np.add.at(full, tuple(grid), g)
        return (full,)

    return out, vjp


@primitive
def segment_sum(data, *, segment_ids, num_segments):
    """Sums of ``data``'s rows per segment: ``(num_segments,) + data.shape[1:]``."""
    data = np.asarray(data)
    out = np.zeros((num_segments,) + data.shape[1:], dtype=data.dtype)
    np.add.at(out, segment_ids, data)
    return out, lambda g: (np.asarray(g)[segment_ids],)


@primitive
def erfinv(x):
    """The inverse error function on (-1, 1) (+-inf at +-1), by Newton steps on ``erf``
    from Giles's single-precision starting point."""
    x = np.asarray(x)
    wide = x.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1.0 - wide) * (1.0 + wide))
        y = np.where(w < 5.0, wide * (0.886226899 + w * 0.0345), np.sign(wide) * np.sqrt(w))
        for _ in range(40):  # quadratic convergence; a few steps suffice from this start
            step = (_erf_np(y) - wide) / (2 / np.sqrt(np.pi) * np.exp(-y * y))
            y = np.where(np.isfinite(step), y - step, y)
        y = np.where(np.abs(wide) == 1, np.sign(wide) * np.inf, y)
        y = np.where(np.abs(wide) > 1, np.nan, y)
    out = y.astype(np.result_type(x.dtype, np.float32))
    return out, lambda g: (g * (np.sqrt(np.pi) / 2) * np.exp(out * out),)


# ----- linear algebra (last two axes; leading axes are a batch) -----


def _mT(a):  # noqa: N802 - the matrix transpose, as NumPy's .mT
    return np.swapaxes(a, -1, -2)


@primitive
def inv(x):
    out = np.linalg.inv(x)
    return out, lambda g: (-_mT(out) @ g @ _mT(out),)


@primitive
def det(x):
    out = np.linalg.det(x)
    # d det / dA = det * A^-T (A invertible).
    return out, lambda g: (np.asarray(g)[..., None, None] * out[..., None, None]
                           * _mT(np.linalg.inv(x)),)


@primitive(selective=True)
def solve(a, b):
    """``x`` with ``a @ x = b``; ``b`` is ``(..., n, k)``."""
    out = np.linalg.solve(a, b)

    def vjp(g, needs):
        gb = np.linalg.solve(_mT(a), g)
        ga = -gb @ _mT(out) if needs[0] else None
        return ga, gb

    return out, vjp


# ----- Fourier transforms (complex values as a trailing (real, imaginary) axis) -----


def _stacked(z, dtype):
    return np.stack([z.real, z.imag], axis=-1).astype(dtype)


@primitive
def fft(real, imag, *, axes=(-1,), inverse=False):
    """The (inverse) discrete Fourier transform of ``real + i imag`` over ``axes``, as an array
    with a trailing axis of 2 (real, imaginary)."""
    dtype = np.result_type(real, imag, np.float32)
    z = np.asarray(real) + 1j * np.asarray(imag)
    count = int(np.prod([z.shape[a] for a in axes]))
    out = np.fft.ifftn(z, axes=axes) if inverse else np.fft.fftn(z, axes=axes)

    def vjp(g):
        gz = g[..., 0] + 1j * g[..., 1]
        # The adjoint of the DFT is count times the inverse DFT, and vice versa.
        back = np.fft.fftn(gz, axes=axes) / count if inverse else np.fft.ifftn(
            gz, axes=axes) * count
        return back.real.astype(dtype), back.imag.astype(dtype)

    return _stacked(out, dtype), vjp


@primitive
def rfft(x, *, n):
    """The DFT of the real ``x`` (last axis of length ``n``): its ``n // 2 + 1`` non-negative
    frequencies, with a trailing (real, imaginary) axis."""
    x = np.asarray(x)
    dtype = np.result_type(x, np.float32)
    out = np.fft.rfft(x, n=n, axis=-1)

    def vjp(g):
        full = np.zeros(g.shape[:-2] + (n,), complex)
        full[..., :out.shape[-1]] = g[..., 0] + 1j * g[..., 1]
        return ((np.fft.ifft(full, axis=-1) * n).real.astype(dtype),)

    return _stacked(out, dtype), vjp


@primitive
def irfft(real, imag, *, n):
    """The real signal of length ``n`` whose non-negative frequencies are ``real + i imag``
    (``n // 2 + 1`` of them)."""
    dtype = np.result_type(real, imag, np.float32)
    out = np.fft.irfft(np.asarray(real) + 1j * np.asarray(imag), n=n, axis=-1).astype(dtype)

    def vjp(g):
        spectrum = np.fft.rfft(g, n=n, axis=-1)
        # Every frequency but 0 (and n/2 for even n) stands for itself and its mirror image.
        weight = np.full(spectrum.shape[-1], 2.0)
        weight[0] = 1.0
        if n % 2 == 0:
            weight[-1] = 1.0
        spectrum = spectrum * weight / n
        return spectrum.real.astype(dtype), spectrum.imag.astype(dtype)

    return out, vjp


# ----- einsum -----


@primitive
def einsum(*operands, subscripts):
    """``np.einsum(subscripts, *operands)`` with an explicit output (``"ij,jk->ik"``; callers
    expand ``...`` and implicit outputs with :func:`explicit_subscripts`). The gradient of
    each operand is the einsum of ``g`` with the other operands, broadcast over the indices that
    only that operand has."""
    inputs, output = subscripts.split("->")
    parts = inputs.split(",")
    out = np.einsum(subscripts, *operands)

    def vjp(g):
        grads = []
        for i, part in enumerate(parts):
            others = [p for j, p in enumerate(parts) if j != i]
            known = set(output).union(*others)
            kept = "".join(dict.fromkeys(c for c in part if c in known))
            spec = ",".join([output] + others) + "->" + kept
            partial = np.einsum(spec, g, *[o for j, o in enumerate(operands) if j != i])
            grads.append(_expand_to(partial, kept, part, np.shape(operands[i])))
        return tuple(grads)

    return out, vjp


def _expand_to(partial, kept: str, part: str, shape) -> np.ndarray:
    """``partial`` (indexed by ``kept``) laid out as an operand indexed by ``part``: missing
    indices broadcast, a repeated index (a diagonal) is written on its diagonal only."""
    if len(set(part)) != len(part):
        raise NotImplementedError(
            f"einsum gradients of repeated indices within one operand ({part!r}) are not "
            f"implemented; take the diagonal first with ops.diagonal.")
    order = [kept.index(c) for c in part if c in kept]
    partial = np.transpose(partial, order)
    partial = np.expand_dims(partial, tuple(i for i, c in enumerate(part) if c not in kept))
    return np.broadcast_to(partial, shape)


def explicit_subscripts(subscripts: str, shapes) -> str:
    """``subscripts`` with ``...`` replaced by letters and the output written out, e.g.
    ``"...ij,jk"`` for shapes ``(2, 3, 4), (4, 5)`` gives ``"Aij,jk->Aik"``."""
    subscripts = subscripts.replace(" ", "")
    inputs, _, output = subscripts.partition("->")
    parts = inputs.split(",")
    if len(parts) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(parts)} operands, "
                         f"but {len(shapes)} were given.")
    spare = [c for c in string.ascii_letters if c not in subscripts]
    width = max((len(s) - len(p.replace("...", "")) for p, s in zip(parts, shapes)
                 if "..." in p), default=0)
    batch = "".join(spare[:width])
    parts = [p.replace("...", batch[width - (len(s) - len(p) + 3):]) if "..." in p else p
             for p, s in zip(parts, shapes)]
    if "->" in subscripts:
        output = output.replace("...", batch)
    else:
        letters = "".join(parts)
        output = batch + "".join(sorted(c for c in set(letters) - set(batch)
                                        if letters.count(c) == 1))
    return ",".join(parts) + "->" + output
