"""NumPy-like ops (Keras 3's ``keras.ops.numpy``), differentiable where Keras's are.

Each op takes arrays, Python numbers or Tensors and returns a Tensor; the differentiable ones
are built from the primitives of ``numkeras.backprop`` (``ops.py`` and ``math_ops.py``), so
their gradients need no code here. Ops whose result is piecewise constant (``floor``,
``sign``, comparisons, ``argmax``...) return constants, as their gradient is zero or undefined.

>>> from numkeras import ops
>>> ops.add([1.0, 2.0], 1)
Tensor([2., 3.], dtype=float32)
>>> ops.sum(ops.arange(4))
Tensor(6, dtype=int32)
"""

from __future__ import annotations

import builtins
import math as _math

import numpy as np

from numkeras import config
from numkeras.backprop import math_ops as _m
from numkeras.backprop import ops as _p
from numkeras.backprop.tensor import Tensor
from numkeras.ops.core import (
    cast,
    constant,
    standardize_dtype,
    to_float,
    to_tensor,
    value,
)

__all__ = [
    # creation
    "arange", "array", "empty", "empty_like", "eye", "full", "full_like", "geomspace",
    "identity", "linspace", "logspace", "meshgrid", "ones", "ones_like", "tri", "zeros",
    "zeros_like",
    # arithmetic
    "add", "divide", "divide_no_nan", "floor_divide", "fmod", "mod", "multiply", "negative",
    "power", "reciprocal", "subtract", "true_divide",
    # elementwise math
    "abs", "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "cbrt", "ceil", "clip", "copy", "cos", "cosh", "deg2rad", "exp", "exp2", "expm1", "fabs",
    "floor", "heaviside", "hypot", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2",
    "maximum", "minimum", "fmax", "fmin", "nan_to_num", "rad2deg", "round", "sign", "signbit",
    "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "conj", "conjugate",
    "real", "imag",
    # reductions
    "all", "amax", "amin", "any", "argmax", "argmin", "average", "count_nonzero", "cumprod",
    "cumsum", "max", "mean", "median", "min", "nanmax", "nanmean", "nanmin", "nansum",
    "percentile", "prod", "ptp", "quantile", "std", "sum", "var", "nanargmax", "nanargmin",
    "nancumprod", "nancumsum", "nanmedian", "nanpercentile", "nanprod", "nanquantile",
    "nanstd", "nanvar",
    # shape
    "append", "array_split", "broadcast_to", "concatenate", "diag", "diagflat", "diagonal",
    "diff", "dsplit", "dstack", "expand_dims", "flip", "fliplr", "flipud", "hsplit", "hstack",
    "moveaxis", "pad", "ravel", "repeat", "reshape", "roll", "rot90", "split", "squeeze",
    "stack", "swapaxes", "tile", "trace", "transpose", "tril", "triu", "vsplit", "vstack",
    # indexing and sorting
    "argpartition", "argsort", "bincount", "digitize", "get_item", "isin", "nonzero",
    "searchsorted", "select", "sort", "take", "take_along_axis", "unravel_index", "where",
    # linear algebra
    "cross", "dot", "einsum", "inner", "kron", "matmul", "outer", "tensordot", "vdot",
    "trapezoid", "vander",
    # comparisons and logic
    "allclose", "equal", "greater", "greater_equal", "isclose", "isfinite", "isinf", "isnan",
    "isneginf", "isposinf", "isreal", "less", "less_equal", "logical_and", "logical_not",
    "logical_or", "logical_xor", "not_equal",
    # bitwise
    "bitwise_and", "bitwise_invert", "bitwise_not", "bitwise_or", "bitwise_xor",
    "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift",
    # statistics, signals and number theory
    "angle", "bartlett", "blackman", "cdist", "corrcoef", "correlate", "gcd", "hamming",
    "hanning", "histogram", "i0", "kaiser", "lcm", "ldexp", "nextafter", "unique",
    # einops and vectorize
    "rearrange", "vectorize",
]


def _axis(axis):
    """Keras accepts lists of axes; NumPy and the primitives want tuples."""
    return tuple(axis) if isinstance(axis, list) else axis


def _is_python_scalar(x) -> bool:
    return isinstance(x, (bool, int, float)) and not isinstance(x, np.generic)


def _pair(x1, x2):
    """Two operands with Keras's type promotion: mixing a float with an int or bool gives the
    float's dtype (NumPy would widen int32 + float32 to float64); Python numbers stay weak."""
    if _is_python_scalar(x1) and _is_python_scalar(x2):
        x1, x2 = to_tensor(x1), to_tensor(x2)  # then promoted as tensors (1 + 2.5: float32)
    if _is_python_scalar(x1) or _is_python_scalar(x2):
        scalar, tensor = (x1, to_tensor(x2)) if _is_python_scalar(x1) else (x2, to_tensor(x1))
        kind = tensor.dtype.kind
        if isinstance(scalar, float) and kind in "biu":
            tensor = cast(tensor, config.floatx())
        elif not isinstance(scalar, bool) and kind == "b":
            tensor = cast(tensor, "int32")
        return (scalar, tensor) if _is_python_scalar(x1) else (tensor, scalar)
    a, b = to_tensor(x1), to_tensor(x2)
    ka, kb = a.dtype.kind, b.dtype.kind
    if ka == "f" and kb != "f":
        b = cast(b, a.dtype)
    elif kb == "f" and ka != "f":
        a = cast(a, b.dtype)
    elif ka == "b" and kb in "iu":
        a = cast(a, b.dtype)
    elif kb == "b" and ka in "iu":
        b = cast(b, a.dtype)
    return a, b


def _float_pair(x1, x2):
    """Two operands promoted as :func:`_pair`, then ints and bools made floatx."""
    a, b = _pair(x1, x2)
    a = a if _is_python_scalar(a) else to_float(a)
    b = b if _is_python_scalar(b) else to_float(b)
    return a, b


def _values(*xs):
    # Python numbers stay Python numbers, so NumPy treats them as weak (float32 // 2 stays
    # float32).
    return [x if _is_python_scalar(x) else value(x) for x in xs]


def _floatx(dtype):
    return standardize_dtype(dtype) or config.floatx()


def _int_or_float(*xs, dtype=None):
    """Keras's dtype of a range: int32 for whole-number Python arguments, else floatx."""
    if dtype is not None:
        return standardize_dtype(dtype)
    kinds = {np.asarray(value(x)).dtype.kind for x in xs if x is not None}
    return config.floatx() if kinds & {"f", "c"} else "int32"


# ----- creation -----


def zeros(shape, dtype=None) -> Tensor:
    """A tensor of zeros (floatx by default).

    >>> zeros((2,))
    Tensor([0., 0.], dtype=float32)
    """
    return constant(np.zeros(shape, _floatx(dtype)))


def ones(shape, dtype=None) -> Tensor:
    """A tensor of ones (floatx by default)."""
    return constant(np.ones(shape, _floatx(dtype)))


def empty(shape, dtype=None) -> Tensor:
    """A tensor of the given shape; numkeras fills it with zeros so results repeat."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None) -> Tensor:
    """A tensor filled with ``fill_value`` (floatx unless ``dtype`` is given, as Keras).

    >>> full((2,), 7)
    Tensor([7., 7.], dtype=float32)
    """
    return constant(np.full(shape, value(fill_value), _floatx(dtype)))


def _like(x, dtype, fill) -> Tensor:
    x = value(x)
    return constant(np.full(x.shape, fill, standardize_dtype(dtype) or x.dtype))


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    return _like(x, dtype, 0)


def ones_like(x, dtype=None) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``."""
    return _like(x, dtype, 1)


def empty_like(x, dtype=None) -> Tensor:
    """Zeros with the shape of ``x`` (numkeras does not leave memory uninitialised)."""
    return _like(x, dtype, 0)


def full_like(x, fill_value, dtype=None) -> Tensor:
    """``fill_value`` with the shape (and dtype, unless given) of ``x``."""
    return _like(x, dtype, value(fill_value))


def array(x, dtype=None) -> Tensor:
    """``x`` as a tensor (a copy)."""
    return constant(np.array(value(x), dtype=standardize_dtype(dtype)))


def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; int32 for whole numbers, else floatx.

    >>> arange(3)
    Tensor([0, 1, 2], dtype=int32)
    >>> arange(0, 1, 0.25)
    Tensor([0.  , 0.25, 0.5 , 0.75], dtype=float32)
    """
    dtype = _int_or_float(start, stop, step, dtype=dtype)
    if stop is None:
        start, stop = 0, start
    return constant(np.arange(value(start), value(stop), 1 if step is None else value(step),
                              dtype=dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (floatx).

    >>> linspace(0, 1, 3)
    Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    out, step = np.linspace(value(start), value(stop), int(num), endpoint=endpoint,
                            retstep=True, axis=axis)
    out = constant(out.astype(_floatx(dtype)))
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0) -> Tensor:
    """``base ** linspace(start, stop, num)`` (floatx)."""
    out = np.logspace(value(start), value(stop), int(num), endpoint=endpoint, base=base,
                      axis=axis)
    return constant(out.astype(_floatx(dtype)))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0) -> Tensor:
    """Values spaced evenly on a log scale from ``start`` to ``stop`` (floatx)."""
    out = np.geomspace(value(start), value(stop), int(num), endpoint=endpoint, axis=axis)
    return constant(out.astype(_floatx(dtype)))


def eye(N, M=None, k=0, dtype=None) -> Tensor:  # noqa: N803 - Keras's argument names
    """A 2-D tensor with ones on the ``k``-th diagonal (floatx).

    >>> eye(2)
    Tensor([[1., 0.],
            [0., 1.]], dtype=float32)
    """
    return constant(np.eye(int(N), None if M is None else int(M), int(k), _floatx(dtype)))


def identity(n, dtype=None) -> Tensor:
    """The ``n`` by ``n`` identity matrix (floatx)."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None) -> Tensor:  # noqa: N803 - Keras's argument names
    """Ones at and below the ``k``-th diagonal (floatx)."""
    return constant(np.tri(int(N), None if M is None else int(M), int(k), _floatx(dtype)))


def meshgrid(*x, indexing="xy") -> list:
    """Coordinate grids from 1-D coordinate vectors (NumPy's ``meshgrid``)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
    return [constant(g) for g in np.meshgrid(*_values(*x), indexing=indexing)]


# ----- arithmetic -----


def add(x1, x2) -> Tensor:
    """``x1 + x2`` with broadcasting.

    >>> add([1, 2], 3)
    Tensor([4, 5], dtype=int32)
    """
    return _p.add(*_pair(x1, x2))


def subtract(x1, x2) -> Tensor:
    """``x1 - x2`` with broadcasting."""
    return _p.subtract(*_pair(x1, x2))


def multiply(x1, x2) -> Tensor:
    """``x1 * x2`` with broadcasting."""
    return _p.multiply(*_pair(x1, x2))


def divide(x1, x2) -> Tensor:
    """``x1 / x2``; integers divide as floats (floatx).

    >>> divide([1, 3], 2)
    Tensor([0.5, 1.5], dtype=float32)
    """
    return _p.divide(*_float_pair(x1, x2))


true_divide = divide


def divide_no_nan(x1, x2) -> Tensor:
    """``x1 / x2``, and 0 where ``x2`` is 0 (with no gradient there).

    >>> divide_no_nan([1.0, 1.0], [2.0, 0.0])
    Tensor([0.5, 0. ], dtype=float32)
    """
    a, b = _float_pair(x1, x2)
    zero = np.asarray(value(b)) == 0
    safe = _p.where(zero, 1.0, b)
    return _p.where(zero, 0.0, _p.divide(a, safe))


def floor_divide(x1, x2) -> Tensor:
    """``floor(x1 / x2)`` (no gradient)."""
    a, b = _pair(x1, x2)
    return constant(np.floor_divide(*_values(a, b)))


def mod(x1, x2) -> Tensor:
    """The remainder of ``x1 / x2`` with the sign of ``x2``; its gradient is 1 for ``x1``
    and ``-floor(x1 / x2)`` for ``x2``."""
    a, b = _pair(x1, x2)
    va, vb = _values(a, b)
    if np.result_type(va, vb).kind in "iub":
        return constant(np.mod(va, vb))
    return _p.subtract(a, _p.multiply(b, np.floor_divide(va, vb)))


def fmod(x1, x2) -> Tensor:
    """The remainder of ``x1 / x2`` with the sign of ``x1`` (C's ``fmod``)."""
    a, b = _pair(x1, x2)
    va, vb = _values(a, b)
    if np.result_type(va, vb).kind in "iub":
        return constant(np.fmod(va, vb))
    return _p.subtract(a, _p.multiply(b, np.trunc(np.divide(va, vb))))


def negative(x) -> Tensor:
    """``-x``."""
    return _p.negative(to_tensor(x))


def power(x1, x2) -> Tensor:
    """``x1 ** x2`` with broadcasting.

    >>> power([2.0, 3.0], 2)
    Tensor([4., 9.], dtype=float32)
    """
    a, b = _pair(x1, x2)
    if np.result_type(*_values(a, b)).kind in "iu":
        return constant(np.power(*_values(a, b)))
    return _p.power(a, b)


def reciprocal(x) -> Tensor:
    """``1 / x``."""
    return _p.divide(1.0, to_float(x))


# ----- elementwise math -----


def _float_unary(primitive, doc: str, name: str):
    def op(x) -> Tensor:
        return primitive(to_float(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


exp = _float_unary(_p.exp, "``e ** x``.", "exp")
expm1 = _float_unary(_p.expm1, "``exp(x) - 1``, accurate near 0.", "expm1")
log = _float_unary(_p.log, "The natural logarithm.", "log")
log1p = _float_unary(_p.log1p, "``log(1 + x)``, accurate near 0.", "log1p")
sqrt = _float_unary(_p.sqrt, "The square root.", "sqrt")
tanh = _float_unary(_p.tanh, "The hyperbolic tangent.", "tanh")
sin = _float_unary(_m.sin, "The sine.", "sin")
cos = _float_unary(_m.cos, "The cosine.", "cos")
tan = _float_unary(_m.tan, "The tangent.", "tan")
arcsin = _float_unary(_m.arcsin, "The inverse sine.", "arcsin")
arccos = _float_unary(_m.arccos, "The inverse cosine.", "arccos")
arctan = _float_unary(_m.arctan, "The inverse tangent.", "arctan")
sinh = _float_unary(_m.sinh, "The hyperbolic sine.", "sinh")
cosh = _float_unary(_m.cosh, "The hyperbolic cosine.", "cosh")
arcsinh = _float_unary(_m.arcsinh, "The inverse hyperbolic sine.", "arcsinh")
arccosh = _float_unary(_m.arccosh, "The inverse hyperbolic cosine.", "arccosh")
arctanh = _float_unary(_m.arctanh, "The inverse hyperbolic tangent.", "arctanh")
cbrt = _float_unary(_m.cbrt, "The cube root (real, also of negatives).", "cbrt")


def arctan2(x1, x2) -> Tensor:
    """The angle of the point ``(x2, x1)``, in ``(-pi, pi]``.

    >>> arctan2(1.0, -1.0)
    Tensor(2.3561945, dtype=float32)
    """
    return _m.arctan2(*_float_pair(x1, x2))


def log2(x) -> Tensor:
    """The base-2 logarithm."""
    return _p.multiply(log(x), 1.0 / _math.log(2.0))


def log10(x) -> Tensor:
    """The base-10 logarithm."""
    return _p.multiply(log(x), 1.0 / _math.log(10.0))


def exp2(x) -> Tensor:
    """``2 ** x``."""
    return _p.exp(_p.multiply(to_float(x), _math.log(2.0)))


def logaddexp(x1, x2) -> Tensor:
    """``log(exp(x1) + exp(x2))`` without overflow.

    >>> logaddexp(1000.0, 1000.0)
    Tensor(1000.6932, dtype=float32)
    """
    a, b = _float_pair(x1, x2)
    a, b = to_tensor(a), to_tensor(b)
    high = _p.maximum(a, b)
    gap = _p.abs(_p.subtract(a, b))
    return _p.add(high, _p.log1p(_p.exp(_p.negative(gap))))


def logaddexp2(x1, x2) -> Tensor:
    """``log2(2 ** x1 + 2 ** x2)`` without overflow."""
    ln2 = _math.log(2.0)
    a, b = _float_pair(x1, x2)
    return _p.multiply(logaddexp(_p.multiply(to_tensor(a), ln2), _p.multiply(to_tensor(b), ln2)),
                       1.0 / ln2)


def hypot(x1, x2) -> Tensor:
    """``sqrt(x1 ** 2 + x2 ** 2)``."""
    a, b = _float_pair(x1, x2)
    return _p.sqrt(_p.add(_p.multiply(a, a), _p.multiply(b, b)))


def square(x) -> Tensor:
    """``x * x``.

    >>> square([2, -3])
    Tensor([4, 9], dtype=int32)
    """
    x = to_tensor(x)
    if x.dtype == bool:
        x = cast(x, "int32")
    return _p.multiply(x, x)


def abs(x) -> Tensor:  # noqa: A001 - Keras's name
    """The absolute value.

    >>> abs([-1.5, 2.0])
    Tensor([1.5, 2. ], dtype=float32)
    """
    x = to_tensor(x)
    return _p.abs(x) if x.dtype.kind in "fc" else constant(np.abs(x.data))


absolute = abs


def fabs(x) -> Tensor:
    """The absolute value, as floats."""
    return _p.abs(to_float(x))


def _constant_unary(numpy_fn, doc: str, name: str, keep_int: bool = True):
    def op(x) -> Tensor:
        x = to_tensor(x)
        out = numpy_fn(x.data)
        return constant(out if keep_int or out.dtype.kind == "b" else out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " Piecewise constant: no gradient."
    return op


def floor(x) -> Tensor:
    """The largest whole number below ``x`` (integers become floatx, as Keras). Piecewise
    constant: no gradient."""
    return constant(np.floor(to_float(x).data))


def ceil(x) -> Tensor:
    """The smallest whole number above ``x`` (integers become floatx, as Keras). Piecewise
    constant: no gradient."""
    return constant(np.ceil(to_float(x).data))


trunc = _constant_unary(np.trunc, "``x`` rounded toward zero.", "trunc")
sign = _constant_unary(np.sign, "-1, 0 or 1 as ``x`` is negative, zero or positive.", "sign")
signbit = _constant_unary(np.signbit, "Whether the sign bit of ``x`` is set.", "signbit")
isnan = _constant_unary(np.isnan, "Whether ``x`` is NaN.", "isnan")
isinf = _constant_unary(np.isinf, "Whether ``x`` is infinite.", "isinf")
isfinite = _constant_unary(np.isfinite, "Whether ``x`` is finite.", "isfinite")
isneginf = _constant_unary(np.isneginf, "Whether ``x`` is minus infinity.", "isneginf")
isposinf = _constant_unary(np.isposinf, "Whether ``x`` is plus infinity.", "isposinf")
isreal = _constant_unary(np.isreal, "Whether ``x`` has no imaginary part.", "isreal")
logical_not = _constant_unary(np.logical_not, "Elementwise NOT.", "logical_not")
bitwise_invert = _constant_unary(np.invert, "Bitwise NOT of integers.", "bitwise_invert")
bitwise_not = bitwise_invert


def round(x, decimals=0) -> Tensor:  # noqa: A001 - Keras's name
    """``x`` rounded to ``decimals`` places, halves to even (no gradient).

    >>> round([0.5, 1.5, 2.26], decimals=0)
    Tensor([0., 2., 2.], dtype=float32)
    """
    return constant(np.round(value(to_tensor(x)), int(decimals)))


def copy(x) -> Tensor:
    """A copy of ``x`` (differentiable: the identity)."""
    return _p.add(to_tensor(x), 0) if to_tensor(x).requires_grad else constant(
        np.array(value(x)))


def conj(x) -> Tensor:
    """The complex conjugate (the identity on real tensors)."""
    x = to_tensor(x)
    return x if x.dtype.kind != "c" else constant(np.conj(x.data))


conjugate = conj


def real(x) -> Tensor:
    """The real part (the identity on real tensors)."""
    x = to_tensor(x)
    return x if x.dtype.kind != "c" else constant(np.real(x.data))


def imag(x) -> Tensor:
    """The imaginary part (zeros for real tensors)."""
    return constant(np.imag(value(to_tensor(x))))


def deg2rad(x) -> Tensor:
    """Degrees to radians."""
    return _p.multiply(to_float(x), _math.pi / 180.0)


def rad2deg(x) -> Tensor:
    """Radians to degrees."""
    return _p.multiply(to_float(x), 180.0 / _math.pi)


def sinc(x) -> Tensor:
    """``sin(pi x) / (pi x)``, 1 at 0 (gradient 0 there).

    >>> sinc([0.0, 0.5]).numpy().round(4)
    array([1.    , 0.6366], dtype=float32)
    """
    x = to_float(x)
    zero = x.data == 0
    safe = _p.where(zero, 1.0, _p.multiply(x, _math.pi))
    return _p.where(zero, 1.0, _p.divide(_m.sin(safe), safe))


def heaviside(x1, x2) -> Tensor:
    """0 for ``x1 < 0``, ``x2`` at 0, 1 for ``x1 > 0`` (no gradient)."""
    a, b = _float_pair(x1, x2)
    return constant(np.heaviside(*_values(a, b)))


def maximum(x1, x2) -> Tensor:
    """The larger of ``x1`` and ``x2`` (ties send the gradient to ``x1``)."""
    return _p.maximum(*_pair(x1, x2))


def minimum(x1, x2) -> Tensor:
    """The smaller of ``x1`` and ``x2`` (ties send the gradient to ``x1``)."""
    return _p.minimum(*_pair(x1, x2))


def fmax(x1, x2) -> Tensor:
    """:func:`maximum` that ignores NaNs."""
    a, b = _pair(x1, x2)
    va, vb = _values(a, b)
    return _p.where(np.isnan(vb) | (va >= vb), a, b)


def fmin(x1, x2) -> Tensor:
    """:func:`minimum` that ignores NaNs."""
    a, b = _pair(x1, x2)
    va, vb = _values(a, b)
    return _p.where(np.isnan(vb) | (va <= vb), a, b)


def clip(x, x_min, x_max) -> Tensor:
    """``x`` limited to ``[x_min, x_max]`` (gradient 1 inside, 0 outside).

    >>> clip([-2, 0, 5], 0, 3)
    Tensor([0, 0, 3], dtype=int32)
    """
    x = to_tensor(x)
    low, high = np.asarray(value(x_min)), np.asarray(value(x_max))
    if x.dtype.kind in "biu" and "f" in (low.dtype.kind, high.dtype.kind):
        x = to_float(x)  # clip(ints, 0.5, 1.5) gives floats, as Keras
    elif x.dtype == bool:
        x = cast(x, "int32")
    # Bounds in x's dtype, so they never widen the result.
    return _p.clip(x, low=low.astype(x.dtype), high=high.astype(x.dtype))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None) -> Tensor:
    """``x`` with NaN and infinities replaced (gradient 0 at the replaced places)."""
    x = to_tensor(x)
    data = x.data
    if data.dtype.kind not in "fc":
        return x
    fixed = np.nan_to_num(data, nan=nan, posinf=posinf, neginf=neginf)
    return _p.where(np.isfinite(data), x, fixed)


# ----- comparisons and logic (no gradient) -----


def _compare(numpy_fn, doc: str, name: str):
    def op(x1, x2) -> Tensor:
        return constant(numpy_fn(*_values(*_pair(x1, x2))))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


equal = _compare(np.equal, "``x1 == x2`` elementwise.", "equal")
not_equal = _compare(np.not_equal, "``x1 != x2`` elementwise.", "not_equal")
greater = _compare(np.greater, "``x1 > x2`` elementwise.", "greater")
greater_equal = _compare(np.greater_equal, "``x1 >= x2`` elementwise.", "greater_equal")
less = _compare(np.less, "``x1 < x2`` elementwise.", "less")
less_equal = _compare(np.less_equal, "``x1 <= x2`` elementwise.", "less_equal")
logical_and = _compare(np.logical_and, "Elementwise AND.", "logical_and")
logical_or = _compare(np.logical_or, "Elementwise OR.", "logical_or")
logical_xor = _compare(np.logical_xor, "Elementwise XOR.", "logical_xor")
bitwise_and = _compare(np.bitwise_and, "Bitwise AND of integers.", "bitwise_and")
bitwise_or = _compare(np.bitwise_or, "Bitwise OR of integers.", "bitwise_or")
bitwise_xor = _compare(np.bitwise_xor, "Bitwise XOR of integers.", "bitwise_xor")
bitwise_left_shift = _compare(np.left_shift, "``x << y`` for integers.", "bitwise_left_shift")
bitwise_right_shift = _compare(np.right_shift, "``x >> y`` for integers.",
                               "bitwise_right_shift")
left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Elementwise ``|x1 - x2| <= atol + rtol * |x2|``."""
    return constant(np.isclose(*_values(*_pair(x1, x2)), rtol=rtol, atol=atol,
                               equal_nan=equal_nan))


def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Whether :func:`isclose` holds everywhere (a boolean scalar)."""
    return constant(np.allclose(*_values(*_pair(x1, x2)), rtol=rtol, atol=atol,
                                equal_nan=equal_nan))


# ----- reductions -----


def sum(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """The sum over ``axis`` (all axes by default); integers stay int32, booleans count.

    >>> sum([[1.0, 2.0], [3.0, 4.0]], axis=0)
    Tensor([4., 6.], dtype=float32)
    """
    x, axis = to_tensor(x), _axis(axis)
    if x.dtype.kind in "fc":
        return _p.sum(x, axis=axis, keepdims=keepdims)
    dtype = "int32" if x.dtype.kind == "b" else x.dtype
    return constant(np.sum(x.data, axis=axis, keepdims=keepdims).astype(dtype))


def mean(x, axis=None, keepdims=False) -> Tensor:
    """The mean over ``axis`` (floatx for integer inputs).

    >>> mean([1, 2])
    Tensor(1.5, dtype=float32)
    """
    return _p.mean(to_float(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None) -> Tensor:  # noqa: A001 - Keras's name
    """The maximum over ``axis`` (ties share the gradient); ``initial`` is a lower bound."""
    x, axis = to_tensor(x), _axis(axis)
    if x.dtype.kind not in "fc":
        return constant(np.max(x.data, axis=axis, keepdims=keepdims, initial=initial))
    out = _p.max(x, axis=axis, keepdims=keepdims)
    return out if initial is None else _p.maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None) -> Tensor:  # noqa: A001 - Keras's name
    """The minimum over ``axis`` (ties share the gradient); ``initial`` is an upper bound."""
    x, axis = to_tensor(x), _axis(axis)
    if x.dtype.kind not in "fc":
        return constant(np.min(x.data, axis=axis, keepdims=keepdims, initial=initial))
    out = _p.min(x, axis=axis, keepdims=keepdims)
    return out if initial is None else _p.minimum(out, initial)


def amax(x, axis=None, keepdims=False) -> Tensor:
    """Same as :func:`max`."""
    return max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False) -> Tensor:
    """Same as :func:`min`."""
    return min(x, axis=axis, keepdims=keepdims)


def ptp(x, axis=None, keepdims=False) -> Tensor:
    """``max - min`` over ``axis``."""
    return subtract(max(x, axis, keepdims), min(x, axis, keepdims))


def prod(x, axis=None, keepdims=False, dtype=None) -> Tensor:
    """The product over ``axis``.

    >>> prod([[1.0, 2.0], [3.0, 4.0]], axis=1)
    Tensor([ 2., 12.], dtype=float32)
    """
    x, axis = to_tensor(x), _axis(axis)
    if dtype is not None:
        x = cast(x, dtype)
    if x.dtype.kind in "fc":
        return _m.prod(x, axis=axis, keepdims=keepdims)
    out_dtype = "int32" if x.dtype.kind == "b" else x.dtype
    return constant(np.prod(x.data, axis=axis, keepdims=keepdims).astype(out_dtype))


def var(x, axis=None, keepdims=False) -> Tensor:
    """The (biased) variance over ``axis``.

    >>> var([1.0, 2.0, 3.0, 4.0])
    Tensor(1.25, dtype=float32)
    """
    x, axis = to_float(x), _axis(axis)
    centred = _p.subtract(x, _p.mean(x, axis=axis, keepdims=True))
    return _p.mean(_p.multiply(centred, centred), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False) -> Tensor:
    """The (biased) standard deviation over ``axis``."""
    return _p.sqrt(var(x, axis=axis, keepdims=keepdims))


def average(x, axis=None, weights=None) -> Tensor:
    """The mean over ``axis`` weighted by ``weights`` (1-D along ``axis``, or ``x``'s shape).

    >>> average([1.0, 2.0, 3.0], weights=[3.0, 1.0, 0.0])
    Tensor(1.25, dtype=float32)
    """
    x = to_float(x)
    if weights is None:
        return _p.mean(x, axis=axis)
    w = to_float(weights)
    if w.ndim == 1 and x.ndim > 1 and axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        w = _p.reshape(w, shape=tuple(shape))
    total = _p.sum(_p.multiply(x, w), axis=axis)
    return _p.divide(total, _p.sum(_p.broadcast_to(w, shape=x.shape), axis=axis))


def all(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """Whether every element along ``axis`` is truthy."""
    return constant(np.all(value(x), axis=_axis(axis), keepdims=keepdims))


def any(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """Whether some element along ``axis`` is truthy."""
    return constant(np.any(value(x), axis=_axis(axis), keepdims=keepdims))


def count_nonzero(x, axis=None) -> Tensor:
    """How many elements along ``axis`` are not zero (int32)."""
    return constant(np.count_nonzero(value(x), axis=_axis(axis)), "int32")


def _arg_reduce(numpy_fn, x, axis, keepdims):
    data = value(x)
    if axis is None:
        out = numpy_fn(data.reshape(-1))
        out = np.reshape(out, (1,) * data.ndim) if keepdims else out
    else:
        out = numpy_fn(data, axis=axis, keepdims=keepdims)
    return constant(out, "int32")


def argmax(x, axis=None, keepdims=False) -> Tensor:
    """The index of the largest value along ``axis`` (of the flattened ``x`` by default).

    >>> argmax([[1, 5], [7, 2]], axis=1)
    Tensor([1, 0], dtype=int32)
    """
    return _arg_reduce(np.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False) -> Tensor:
    """The index of the smallest value along ``axis`` (of the flattened ``x`` by default)."""
    return _arg_reduce(np.argmin, x, axis, keepdims)


def _nan_reduce(reduce, x, axis, keepdims, fill):
    x = to_float(x)
    nan = np.isnan(x.data)
    return reduce(_p.where(nan, fill, x), axis=_axis(axis), keepdims=keepdims)


def nansum(x, axis=None, keepdims=False) -> Tensor:
    """:func:`sum` treating NaNs as 0."""
    return _nan_reduce(_p.sum, x, axis, keepdims, 0.0)


def nanmax(x, axis=None, keepdims=False) -> Tensor:
    """:func:`max` ignoring NaNs."""
    return _nan_reduce(_p.max, x, axis, keepdims, -np.inf)


def nanmin(x, axis=None, keepdims=False) -> Tensor:
    """:func:`min` ignoring NaNs."""
    return _nan_reduce(_p.min, x, axis, keepdims, np.inf)


def nanmean(x, axis=None, keepdims=False) -> Tensor:
    """:func:`mean` ignoring NaNs."""
    x = to_float(x)
    count = np.sum(~np.isnan(x.data), axis=_axis(axis), keepdims=keepdims)
    return _p.divide(nansum(x, axis, keepdims), count.astype(x.dtype))


def _cumulative(primitive, numpy_fn, x, axis, dtype):
    x = to_tensor(x)
    if dtype is not None:
        x = cast(x, dtype)
    if axis is None:
        x, axis = _p.reshape(x, shape=(-1,)), 0
    if x.dtype.kind in "fc":
        return primitive(x, axis=axis)
    out_dtype = "int32" if x.dtype.kind == "b" else x.dtype
    return constant(numpy_fn(x.data, axis=axis).astype(out_dtype))


def cumsum(x, axis=None, dtype=None) -> Tensor:
    """Running sums along ``axis`` (of the flattened ``x`` by default).

    >>> cumsum([1, 2, 3])
    Tensor([1, 3, 6], dtype=int32)
    """
    return _cumulative(_m.cumsum, np.cumsum, x, axis, dtype)


def cumprod(x, axis=None, dtype=None) -> Tensor:
    """Running products along ``axis`` (of the flattened ``x`` by default)."""
    return _cumulative(_m.cumprod, np.cumprod, x, axis, dtype)


def quantile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """The ``q``-th quantiles (``q`` in [0, 1]) along ``axis``, differentiable through the
    sorted values it interpolates between (``method``: linear, lower, higher, midpoint,
    nearest).

    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5)
    Tensor(2.5, dtype=float32)
    """
    return _quantile(x, q, axis, method, keepdims, skip_nan=False)


def _quantile(x, q, axis, method, keepdims, skip_nan: bool) -> Tensor:
    methods = ("linear", "lower", "higher", "midpoint", "nearest")
    if method not in methods:
        raise ValueError(f"quantile: method must be one of {methods}, got {method!r}.")
    x = to_float(x)
    qs = np.asarray(value(q), dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"quantile: q must lie in [0, 1], got {qs.tolist()}.")
    axis = _axis(axis)
    axes = list(range(x.ndim)) if axis is None else [
        a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,))]
    rest = [a for a in range(x.ndim) if a not in axes]
    # The reduced axes moved last and merged into one: (..., n).
    moved = _p.transpose(x, axes=tuple(rest + axes))
    flat = _p.reshape(moved, shape=moved.shape[:len(rest)] + (-1,))
    ordered = sort(flat, axis=-1)  # NaNs sort last
    n = ordered.shape[-1]
    counts = (np.sum(~np.isnan(flat.data), axis=-1, keepdims=True) if skip_nan
              else np.full(flat.shape[:-1] + (1,), n))  # (..., 1) values to choose from
    position = qs.reshape(-1) * (counts - 1)  # (..., nq)
    low = np.floor(position)
    frac = position - low
    high = np.minimum(low + 1, counts - 1)
    if method == "lower":
        high, frac = low, np.zeros_like(frac)
    elif method == "higher":
        low = high = np.ceil(position)
        frac = np.zeros_like(frac)
    elif method == "midpoint":
        frac = np.where(frac > 0, 0.5, 0.0)
    elif method == "nearest":
        low = high = np.round(position)  # halves to even, as NumPy
        frac = np.zeros_like(frac)
    empty = np.broadcast_to(counts == 0, position.shape)  # all NaN: the result is NaN
    low, high = (np.clip(i, 0, n - 1).astype(np.int64) for i in (low, high))
    lo = take_along_axis(ordered, low, axis=-1)
    hi = take_along_axis(ordered, high, axis=-1)
    out = _p.add(lo, _p.multiply(_p.subtract(hi, lo), frac.astype(x.dtype)))
    if empty.any():
        out = _p.where(empty, np.asarray(np.nan, x.dtype), out)
    out = _p.reshape(out, shape=out.shape[:-1] + qs.shape)
    out = moveaxis(out, tuple(range(len(rest), out.ndim)), tuple(range(qs.ndim)))
    if keepdims:
        kept = tuple(1 if a in axes else size for a, size in enumerate(x.shape))
        out = _p.reshape(out, shape=qs.shape + kept)
    return out


def percentile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """:func:`quantile` with ``q`` in percent."""
    return quantile(x, np.asarray(value(q), np.float64) / 100.0, axis, method, keepdims)


def median(x, axis=None, keepdims=False) -> Tensor:
    """The median along ``axis`` (the mean of the two middle values for even lengths)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """:func:`quantile` of the values that are not NaN (NaN where there are none)."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=True)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """:func:`percentile` of the values that are not NaN."""
    return nanquantile(x, np.asarray(value(q), np.float64) / 100.0, axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False) -> Tensor:
    """:func:`median` of the values that are not NaN.

    >>> nanmedian([1.0, np.nan, 3.0])
    Tensor(2., dtype=float32)
    """
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False) -> Tensor:
    """:func:`prod` treating NaNs as 1."""
    return _nan_reduce(lambda t, **kw: _m.prod(t, **kw), x, axis, keepdims, 1.0)


def nanvar(x, axis=None, keepdims=False) -> Tensor:
    """:func:`var` of the values that are not NaN."""
    x, axis = to_float(x), _axis(axis)
    valid = ~np.isnan(x.data)
    # NaNs replaced before the square: a NaN inside a where's unused branch would still turn
    # its gradient into NaN (0 * NaN).
    clean = _p.where(valid, x, np.zeros((), x.dtype))
    centred = _p.where(valid, _p.subtract(clean, nanmean(x, axis, keepdims=True)),
                       np.zeros((), x.dtype))
    squares = _p.multiply(centred, centred)
    count = np.sum(valid, axis=axis, keepdims=keepdims).astype(x.dtype)
    return _p.divide(_p.sum(squares, axis=axis, keepdims=keepdims), count)


def nanstd(x, axis=None, keepdims=False) -> Tensor:
    """:func:`std` of the values that are not NaN."""
    return _p.sqrt(nanvar(x, axis, keepdims))


def nancumsum(x, axis=None, dtype=None) -> Tensor:
    """:func:`cumsum` treating NaNs as 0."""
    x = to_tensor(x)
    return cumsum(_p.where(np.isnan(x.data), np.zeros((), x.dtype), x) if x.dtype.kind == "f"
                  else x, axis, dtype)


def nancumprod(x, axis=None, dtype=None) -> Tensor:
    """:func:`cumprod` treating NaNs as 1."""
    x = to_tensor(x)
    return cumprod(_p.where(np.isnan(x.data), np.ones((), x.dtype), x) if x.dtype.kind == "f"
                   else x, axis, dtype)


def nanargmax(x, axis=None, keepdims=False) -> Tensor:
    """:func:`argmax` ignoring NaNs."""
    data = value(x)
    return argmax(np.where(np.isnan(data), -np.inf, data) if data.dtype.kind == "f" else data,
                  axis, keepdims)


def nanargmin(x, axis=None, keepdims=False) -> Tensor:
    """:func:`argmin` ignoring NaNs."""
    data = value(x)
    return argmin(np.where(np.isnan(data), np.inf, data) if data.dtype.kind == "f" else data,
                  axis, keepdims)


# ----- shape -----


def reshape(x, newshape) -> Tensor:
    """``x`` with shape ``newshape`` (one entry may be -1).

    >>> reshape(arange(6), (2, -1)).shape
    (2, 3)
    """
    shape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    return _p.reshape(to_tensor(x), shape=tuple(int(s) for s in shape))


def ravel(x) -> Tensor:
    """``x`` as one axis."""
    return _p.reshape(to_tensor(x), shape=(-1,))


def transpose(x, axes=None) -> Tensor:
    """``x`` with its axes permuted (reversed by default)."""
    return _p.transpose(to_tensor(x), axes=None if axes is None else tuple(axes))


def expand_dims(x, axis) -> Tensor:
    """``x`` with new axes of size 1 at ``axis`` (an int or a tuple)."""
    x = to_tensor(x)
    return _p.reshape(x, shape=np.expand_dims(np.empty(x.shape, bool), _axis(axis)).shape)


def squeeze(x, axis=None) -> Tensor:
    """``x`` without the axes of size 1 (only ``axis`` if given)."""
    x = to_tensor(x)
    return _p.reshape(x, shape=np.squeeze(np.empty(x.shape, bool), _axis(axis)).shape)


def moveaxis(x, source, destination) -> Tensor:
    """``x`` with axes ``source`` moved to ``destination``."""
    x = to_tensor(x)
    source = [int(a) % x.ndim for a in ((source,) if np.isscalar(source) else source)]
    destination = [int(a) % x.ndim for a in
                   ((destination,) if np.isscalar(destination) else destination)]
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: source {source} and destination {destination} must name "
                         f"the same number of axes.")
    order = [a for a in range(x.ndim) if a not in source]
    for dest, src in sorted(zip(destination, source)):  # NumPy's own construction
        order.insert(dest, src)
    return _p.transpose(x, axes=tuple(order))


def swapaxes(x, axis1, axis2) -> Tensor:
    """``x`` with two axes exchanged."""
    x = to_tensor(x)
    order = list(range(x.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return _p.transpose(x, axes=tuple(order))


def broadcast_to(x, shape) -> Tensor:
    """``x`` broadcast to ``shape``."""
    return _p.broadcast_to(to_tensor(x), shape=tuple(shape))


def _tensors(xs) -> list:
    tensors = [to_tensor(x) for x in xs]
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        # Keras's promotion: ints and bools join the widest float present, not float64.
        floats = [d for d in dtypes if d.kind in "fc"]
        common = np.result_type(*floats) if floats else np.result_type(*dtypes)
        tensors = [cast(t, common) for t in tensors]
    return tensors


def concatenate(xs, axis=0) -> Tensor:
    """The tensors of ``xs`` joined along ``axis``.

    >>> concatenate([[1, 2], [3]])
    Tensor([1, 2, 3], dtype=int32)
    """
    tensors = _tensors(xs)
    if axis is None:
        tensors, axis = [ravel(t) for t in tensors], 0
    return _p.concatenate(*tensors, axis=axis)


def stack(x, axis=0) -> Tensor:
    """The tensors of ``x`` stacked along a new ``axis``."""
    return _p.stack(*_tensors(x), axis=axis)


def hstack(xs) -> Tensor:
    """Join along the second axis (the first for 1-D tensors)."""
    tensors = [to_tensor(x) for x in xs]
    return concatenate(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def vstack(xs) -> Tensor:
    """Join along the first axis, 1-D tensors as rows."""
    return concatenate([reshape(t, (1, -1)) if to_tensor(t).ndim < 2 else t for t in xs], 0)


def dstack(xs) -> Tensor:
    """Join along the third axis (1-D and 2-D tensors as ``(1, n, 1)`` and ``(m, n, 1)``)."""
    def as_3d(t):
        t = to_tensor(t)
        shape = {0: (1, 1, 1), 1: (1, t.size, 1), 2: t.shape + (1,)}.get(t.ndim, t.shape)
        return reshape(t, shape)

    return concatenate([as_3d(t) for t in xs], axis=2)


def append(x1, x2, axis=None) -> Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened if None)."""
    return concatenate([x1, x2], axis=axis)


def _split_points(length, indices_or_sections, axis, even: bool):
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if even and length % sections:
            raise ValueError(
                f"split: axis {axis} of length {length} cannot be split into {sections} equal "
                f"parts. Use array_split for unequal parts.")
        base, extra = divmod(length, sections)
        sizes = [base + 1] * extra + [base] * (sections - extra)
        return list(np.cumsum(sizes)[:-1])
    return [int(i) for i in indices_or_sections]


def _split(x, indices_or_sections, axis, even):
    x = to_tensor(x)
    points = _split_points(x.shape[axis], indices_or_sections, axis, even)
    bounds = [0] + points + [x.shape[axis]]
    position = axis % x.ndim
    return [_p.getitem(x, index=(slice(None),) * position + (slice(a, b),))
            for a, b in zip(bounds[:-1], bounds[1:])]


def split(x, indices_or_sections, axis=0) -> list:
    """``x`` cut along ``axis`` into equal sections or at the given indices.

    >>> [t.shape for t in split(zeros((4, 2)), 2)]
    [(2, 2), (2, 2)]
    """
    return _split(x, indices_or_sections, axis, even=True)


def array_split(x, indices_or_sections, axis=0) -> list:
    """Like :func:`split`, but sections may differ in size by one."""
    return _split(x, indices_or_sections, axis, even=False)


def hsplit(x, indices_or_sections) -> list:
    """:func:`split` along the second axis (the first for 1-D)."""
    return split(x, indices_or_sections, axis=0 if to_tensor(x).ndim == 1 else 1)


def vsplit(x, indices_or_sections) -> list:
    """:func:`split` along the first axis."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections) -> list:
    """:func:`split` along the third axis."""
    return split(x, indices_or_sections, axis=2)


def tile(x, repeats) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis.

    >>> tile([1, 2], 2)
    Tensor([1, 2, 1, 2], dtype=int32)
    """
    x = to_tensor(x)
    reps = (int(repeats),) if np.isscalar(repeats) else tuple(int(r) for r in repeats)
    ndim = builtins.max(x.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    x = _p.reshape(x, shape=(1,) * (ndim - x.ndim) + x.shape)
    # (r0, n0, r1, n1, ...) by broadcasting, then merged: no copy per repetition in Python.
    spread = _p.reshape(x, shape=tuple(v for n in x.shape for v in (1, n)))
    target = tuple(v for r, n in zip(reps, x.shape) for v in (r, n))
    return _p.reshape(_p.broadcast_to(spread, shape=target),
                      shape=tuple(r * n for r, n in zip(reps, x.shape)))


def repeat(x, repeats, axis=None) -> Tensor:
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (flattened if None).

    >>> repeat([1, 2], 2)
    Tensor([1, 1, 2, 2], dtype=int32)
    """
    x = to_tensor(x)
    if axis is None:
        x, axis = ravel(x), 0
    position = axis % x.ndim
    index = np.repeat(np.arange(x.shape[position]), value(repeats))
    return _p.getitem(x, index=(slice(None),) * position + (index,))


def flip(x, axis=None) -> Tensor:
    """``x`` reversed along ``axis`` (all axes if None)."""
    x = to_tensor(x)
    axes = range(x.ndim) if axis is None else [
        a % x.ndim for a in ((axis,) if np.isscalar(axis) else axis)]
    index = [slice(None)] * x.ndim
    for a in axes:
        index[a] = slice(None, None, -1)
    return _p.getitem(x, index=tuple(index))


def fliplr(x) -> Tensor:
    """``x`` reversed along its second axis."""
    return flip(x, 1)


def flipud(x) -> Tensor:
    """``x`` reversed along its first axis."""
    return flip(x, 0)


def roll(x, shift, axis=None) -> Tensor:
    """``x`` shifted cyclically by ``shift`` along ``axis`` (flattened if None).

    >>> roll([1, 2, 3], 1)
    Tensor([3, 1, 2], dtype=int32)
    """
    x = to_tensor(x)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    shifts = np.broadcast_to(value(shift), np.shape(axis)).reshape(-1)
    for a, s in zip(np.reshape(axis, -1), shifts):
        position = int(a) % x.ndim
        index = np.roll(np.arange(x.shape[position]), int(s))
        x = _p.getitem(x, index=(slice(None),) * position + (index,))
    return x


def rot90(array, k=1, axes=(0, 1)) -> Tensor:
    """``array`` rotated by 90 degrees ``k`` times in the plane of ``axes``."""
    x = to_tensor(array)
    k = int(k) % 4
    a, b = axes
    if k == 1:
        return swapaxes(flip(x, b), a, b)
    if k == 2:
        return flip(flip(x, a), b)
    if k == 3:
        return flip(swapaxes(x, a, b), b)
    return x


def pad(x, pad_width, mode="constant", constant_values=None) -> Tensor:
    """``x`` padded by ``pad_width`` (``((before, after), ...)`` or one pair for every axis).

    Modes ``"constant"`` (differentiable), and ``"reflect"``, ``"symmetric"``, ``"edge"``,
    ``"wrap"`` (differentiable too: they gather existing entries).

    >>> pad([1, 2], 1)
    Tensor([0, 1, 2, 0], dtype=int32)
    """
    x = to_tensor(x)
    widths = [tuple(int(v) for v in w) for w in np.broadcast_to(
        np.asarray(value(pad_width)).reshape(-1, 2) if np.ndim(value(pad_width)) else
        [[int(value(pad_width))] * 2], (x.ndim, 2))]
    if mode == "constant":
        fill = 0 if constant_values is None else value(constant_values)
        return _p.pad(x, pad_width=tuple(widths), value=fill)
    if constant_values is not None:
        raise ValueError(f"pad: constant_values is only used with mode='constant', not {mode!r}.")
    modes = ("reflect", "symmetric", "edge", "wrap")
    if mode not in modes:
        raise ValueError(f"pad: mode must be 'constant' or one of {modes}, got {mode!r}.")
    for axis, (before, after) in enumerate(widths):
        index = np.pad(np.arange(x.shape[axis]), (before, after), mode=mode)
        x = _p.getitem(x, index=(slice(None),) * axis + (index,))
    return x


def diagonal(x, offset=0, axis1=0, axis2=1) -> Tensor:
    """The ``offset``-th diagonal of the planes ``(axis1, axis2)``, as the last axis."""
    x = to_tensor(x)
    positions = np.arange(x.shape[axis1])
    cols = positions + offset
    keep = (cols >= 0) & (cols < x.shape[axis2])
    rows, cols = positions[keep], cols[keep]
    moved = moveaxis(x, (axis1, axis2), (-2, -1))
    return _p.getitem(moved, index=(Ellipsis, rows, cols))


def trace(x, offset=0, axis1=0, axis2=1) -> Tensor:
    """The sum of the ``offset``-th diagonal.

    >>> trace([[1, 2], [3, 4]])
    Tensor(5, dtype=int32)
    """
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(x, k=0) -> Tensor:
    """A 1-D ``x``'s matrix with ``x`` on the ``k``-th diagonal, or a 2-D ``x``'s diagonal."""
    x = to_tensor(x)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D input, got shape {x.shape}.")
    n = x.shape[0] + builtins.abs(k)
    # Row i of a k >= 0 diagonal holds x[i]; column j of a k < 0 one holds x[j].
    spread = _p.getitem(x, index=np.minimum(np.arange(n), x.shape[0] - 1))
    spread = _p.reshape(spread, shape=(n, 1) if k >= 0 else (1, n))
    return _p.where(np.eye(n, k=k, dtype=bool), spread, np.zeros((), x.dtype))


def diagflat(x, k=0) -> Tensor:
    """:func:`diag` of the flattened ``x``."""
    return diag(ravel(x), k)


def tril(x, k=0) -> Tensor:
    """``x`` with the entries above the ``k``-th diagonal set to 0 (last two axes)."""
    x = to_tensor(x)
    mask = np.tri(x.shape[-2], x.shape[-1], k, dtype=bool)
    return _p.where(mask, x, np.zeros((), x.dtype))


def triu(x, k=0) -> Tensor:
    """``x`` with the entries below the ``k``-th diagonal set to 0 (last two axes)."""
    x = to_tensor(x)
    mask = ~np.tri(x.shape[-2], x.shape[-1], k - 1, dtype=bool)
    return _p.where(mask, x, np.zeros((), x.dtype))


def diff(a, n=1, axis=-1) -> Tensor:
    """The ``n``-th discrete difference along ``axis``.

    >>> diff([1, 4, 9])
    Tensor([3, 5], dtype=int32)
    """
    x = to_tensor(a)
    position = axis % x.ndim
    for _ in range(int(n)):
        head = (slice(None),) * position
        x = _p.subtract(_p.getitem(x, index=head + (slice(1, None),)),
                        _p.getitem(x, index=head + (slice(None, -1),)))
    return x


# ----- indexing and sorting -----


def get_item(x, key) -> Tensor:
    """``x[key]`` (differentiable)."""
    key = tuple(value(k) if isinstance(k, Tensor) else k for k in key) if isinstance(
        key, tuple) else (value(key) if isinstance(key, Tensor) else key)
    return _p.getitem(to_tensor(x), index=key)


def _int_indices(indices) -> np.ndarray:
    indices = np.asarray(value(indices))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"Expected integer indices, got dtype {indices.dtype}.")
    return indices


def take(x, indices, axis=None) -> Tensor:
    """The entries of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` if None);
    negative indices count from the end. Repeated indices accumulate gradients.

    >>> take([[1, 2], [3, 4]], [1, 0], axis=1)
    Tensor([[2, 1],
            [4, 3]], dtype=int32)
    """
    x = to_tensor(x)
    if axis is None:
        x, axis = ravel(x), 0
    position = axis % x.ndim
    indices = _int_indices(indices)
    n = x.shape[position]
    if indices.size and (indices.max() >= n or indices.min() < -n):
        raise IndexError(f"take: indices must lie in [{-n}, {n}) for axis {axis} of shape "
                         f"{x.shape}; got {indices.min()}..{indices.max()}.")
    return _p.getitem(x, index=(slice(None),) * position + (indices,))


def take_along_axis(x, indices, axis=None) -> Tensor:
    """``x``'s entries at ``indices`` along ``axis``, as NumPy's ``take_along_axis``.

    >>> take_along_axis([[10, 30, 20]], [[1, 2]], axis=1)
    Tensor([[30, 20]], dtype=int32)
    """
    x = to_tensor(x)
    indices = _int_indices(indices)
    if axis is None:
        x, axis = ravel(x), 0
    position = axis % x.ndim
    shape = list(np.broadcast_shapes(
        tuple(n for i, n in enumerate(x.shape) if i != position),
        tuple(n for i, n in enumerate(indices.shape) if i != position)))
    x_shape, i_shape = shape.copy(), shape.copy()
    x_shape.insert(position, x.shape[position])
    i_shape.insert(position, indices.shape[position])
    x = _p.broadcast_to(x, shape=tuple(x_shape)) if tuple(x_shape) != x.shape else x
    indices = np.broadcast_to(indices, i_shape)
    if x.dtype.kind not in "fc":
        return constant(np.take_along_axis(x.data, indices, axis=position))
    return _m.take_along_axis(x, indices=indices, axis=position)


def argsort(x, axis=-1) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (stable; of the flattened ``x`` if None).

    >>> argsort([3, 1, 2])
    Tensor([1, 2, 0], dtype=int32)
    """
    data = value(x)
    if axis is None:
        data, axis = data.reshape(-1), 0
    return constant(np.argsort(data, axis=axis, kind="stable"), "int32")


def sort(x, axis=-1) -> Tensor:
    """``x`` sorted along ``axis``; the gradient goes back to where each value came from.

    >>> sort([3.0, 1.0, 2.0])
    Tensor([1., 2., 3.], dtype=float32)
    """
    x = to_tensor(x)
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, argsort(x, axis).data, axis=axis)


def argpartition(x, kth, axis=-1) -> Tensor:
    """Indices that put the ``kth`` element in its sorted place along ``axis``."""
    return constant(np.argpartition(value(x), kth, axis=axis), "int32")


def searchsorted(sorted_sequence, values, side="left") -> Tensor:
    """Where ``values`` would be inserted into the 1-D ``sorted_sequence`` (int32)."""
    return constant(np.searchsorted(value(sorted_sequence), value(values), side=side), "int32")


def digitize(x, bins) -> Tensor:
    """The index of the bin of ``bins`` each element of ``x`` falls into (int32)."""
    return constant(np.digitize(value(x), value(bins)), "int32")


def bincount(x, weights=None, minlength=0, sparse=False) -> Tensor:
    """How many times each non-negative integer occurs in ``x`` (weighted by ``weights``)."""
    if sparse:
        raise ValueError("bincount: numkeras has no sparse tensors; pass sparse=False.")
    data = np.asarray(value(x))
    w = None if weights is None else np.asarray(value(weights))
    if data.ndim == 2:  # one count per row, as Keras does for a batch
        length = builtins.max(int(minlength), int(data.max(initial=-1)) + 1)
        rows = [np.bincount(r, None if w is None else wr, length)
                for r, wr in zip(data, w if w is not None else data)]
        out = np.stack(rows)
    else:
        out = np.bincount(data, w, int(minlength))
    return constant(out.astype("int32" if w is None else w.dtype))


def isin(x1, x2, assume_unique=False, invert=False) -> Tensor:
    """Whether each element of ``x1`` occurs in ``x2``."""
    return constant(np.isin(value(x1), value(x2), assume_unique=assume_unique, invert=invert))


def nonzero(x) -> tuple:
    """The indices of the non-zero elements, one int32 tensor per axis."""
    return tuple(constant(i, "int32") for i in np.nonzero(value(x)))


def unravel_index(indices, shape) -> tuple:
    """Flat ``indices`` as one coordinate tensor per axis of ``shape``."""
    return tuple(constant(i, "int32") for i in np.unravel_index(value(indices), tuple(shape)))


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` else ``x2`` (differentiable in both); with only
    ``condition``, the indices of its true elements.

    >>> where([True, False], [1.0, 2.0], 0.0)
    Tensor([1., 0.], dtype=float32)
    """
    condition = np.asarray(value(condition)).astype(bool)
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: pass both x1 and x2, or neither.")
    a, b = _pair(x1, x2)
    return _p.where(condition, a, b)


def select(condlist, choicelist, default=0) -> Tensor:
    """Per element, the choice of the first true condition, else ``default``."""
    out = to_tensor(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        out = where(condition, choice, out)
    return out


# ----- linear algebra -----


def matmul(x1, x2) -> Tensor:
    """The matrix product, batched over leading axes (as NumPy's ``matmul``).

    >>> matmul([[1.0, 2.0]], [[3.0], [4.0]])
    Tensor([[11.]], dtype=float32)
    """
    a, b = _pair(x1, x2)
    return _p.matmul(to_tensor(a), to_tensor(b))


def tensordot(x1, x2, axes=2) -> Tensor:
    """Sum of products over ``axes`` (an int: the last of ``x1`` with the first of ``x2``; or
    two lists of axes).

    >>> tensordot([[1.0, 2.0]], [[3.0], [4.0]], axes=1)
    Tensor([[11.]], dtype=float32)
    """
    a, b = (to_tensor(t) for t in _pair(x1, x2))
    if isinstance(axes, (int, np.integer)):
        axes_a = list(range(a.ndim - int(axes), a.ndim))
        axes_b = list(range(int(axes)))
    else:
        axes_a, axes_b = ([int(v)] if np.isscalar(v) else [int(i) for i in v] for v in axes)
    axes_a = [i % a.ndim for i in axes_a]
    axes_b = [i % b.ndim for i in axes_b]
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    inner = int(np.prod([a.shape[i] for i in axes_a]))
    left = _p.reshape(_p.transpose(a, axes=tuple(free_a + axes_a)), shape=(-1, inner))
    right = _p.reshape(_p.transpose(b, axes=tuple(axes_b + free_b)), shape=(inner, -1))
    return _p.reshape(_p.matmul(left, right),
                      shape=tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b))


def dot(x1, x2) -> Tensor:
    """NumPy's ``dot``: products for scalars, ``matmul`` for 1-D and 2-D, and for N-D a sum
    over the last axis of ``x1`` and the second to last of ``x2``."""
    a, b = (to_tensor(t) for t in _pair(x1, x2))
    if a.ndim == 0 or b.ndim == 0:
        return _p.multiply(a, b)
    if b.ndim <= 2:
        return _p.matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2]))


def vdot(x1, x2) -> Tensor:
    """The dot product of the flattened inputs."""
    return _p.sum(_p.multiply(ravel(x1), ravel(x2)))


def inner(x1, x2) -> Tensor:
    """Sum of products over the last axes of both."""
    a, b = (to_tensor(t) for t in _pair(x1, x2))
    if a.ndim == 0 or b.ndim == 0:
        return _p.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(x1, x2) -> Tensor:
    """The outer product of the flattened inputs.

    >>> outer([1, 2], [3, 4])
    Tensor([[3, 4],
            [6, 8]], dtype=int32)
    """
    a, b = _pair(x1, x2)
    return _p.multiply(_p.reshape(to_tensor(a), shape=(-1, 1)),
                       _p.reshape(to_tensor(b), shape=(1, -1)))


def kron(x1, x2) -> Tensor:
    """The Kronecker product."""
    a, b = (to_tensor(t) for t in _pair(x1, x2))
    ndim = builtins.max(a.ndim, b.ndim)
    a = _p.reshape(a, shape=(1,) * (ndim - a.ndim) + a.shape)
    b = _p.reshape(b, shape=(1,) * (ndim - b.ndim) + b.shape)
    spread_a = _p.reshape(a, shape=tuple(v for n in a.shape for v in (n, 1)))
    spread_b = _p.reshape(b, shape=tuple(v for n in b.shape for v in (1, n)))
    return _p.reshape(_p.multiply(spread_a, spread_b),
                      shape=tuple(m * n for m, n in zip(a.shape, b.shape)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None) -> Tensor:
    """The cross product of 3-vectors along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(to_float(x1), axisa, -1)
    b = moveaxis(to_float(x2), axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ValueError(f"cross: needs vectors of 3 components, got shapes {a.shape} and "
                         f"{b.shape} (after moving the vector axis last).")

    def part(t, i):
        return _p.getitem(t, index=(Ellipsis, i))

    out = stack([
        subtract(multiply(part(a, 1), part(b, 2)), multiply(part(a, 2), part(b, 1))),
        subtract(multiply(part(a, 2), part(b, 0)), multiply(part(a, 0), part(b, 2))),
        subtract(multiply(part(a, 0), part(b, 1)), multiply(part(a, 1), part(b, 0)))], axis=-1)
    return moveaxis(out, -1, axisc)


def einsum(subscripts, *operands, **kwargs) -> Tensor:
    """Einstein summation (``...`` and implicit outputs supported; gradients of repeated
    indices within one operand are not).

    >>> einsum("ij,j->i", [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])
    Tensor([3., 7.], dtype=float32)
    """
    tensors = _tensors(operands)
    spec = _m.explicit_subscripts(subscripts, [t.shape for t in tensors])
    return _m.einsum(*tensors, subscripts=spec)


def trapezoid(y, x=None, dx=1.0, axis=-1) -> Tensor:
    """The integral of ``y`` along ``axis`` by the trapezoidal rule."""
    y = to_float(y)
    position = axis % y.ndim
    head = (slice(None),) * position
    pairs = _p.add(_p.getitem(y, index=head + (slice(1, None),)),
                   _p.getitem(y, index=head + (slice(None, -1),)))
    widths = dx if x is None else diff(to_float(x), axis=axis)
    return _p.multiply(_p.sum(_p.multiply(pairs, widths), axis=position), 0.5)


def vander(x, N=None, increasing=False) -> Tensor:  # noqa: N803 - Keras's argument name
    """The Vandermonde matrix of the 1-D ``x``: powers of ``x`` as columns."""
    x = to_tensor(x)
    n = x.shape[0] if N is None else int(N)
    exponents = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    column = _p.reshape(x, shape=(-1, 1))
    if x.dtype.kind in "iu":
        return constant(np.power(x.data[:, None], exponents))
    return _p.power(column, exponents.astype(x.dtype))


# ----- statistics, signals and number theory -----


def cdist(x, y) -> Tensor:
    """Euclidean distances between the rows of ``x`` ``(..., m, d)`` and ``y`` ``(..., n, d)``:
    ``(..., m, n)``.

    >>> cdist([[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0]])
    Tensor([[1.],
            [1.]], dtype=float32)
    """
    a, b = (to_float(t) for t in _float_pair(x, y))
    gaps = _p.subtract(expand_dims(a, -2), expand_dims(b, -3))  # (..., m, n, d)
    return _p.sqrt(_p.sum(_p.multiply(gaps, gaps), axis=-1))


def correlate(x1, x2, mode="valid") -> Tensor:
    """The cross-correlation of two 1-D tensors: ``out[k] = sum_n x1[n + k] * x2[n]``
    (``mode``: 'valid', 'same' or 'full', as NumPy's).

    >>> correlate([1.0, 2.0, 3.0], [0.0, 1.0])
    Tensor([2., 3.], dtype=float32)
    """
    a, b = (to_float(t) for t in _float_pair(x1, x2))
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"correlate needs two 1-D tensors, got shapes {a.shape} and {b.shape}.")
    swapped = a.shape[0] < b.shape[0]  # NumPy slides the shorter one over the longer
    long, short = (b, a) if swapped else (a, b)
    n = short.shape[0]
    pads = {"valid": (0, 0), "same": (n // 2, n - 1 - n // 2), "full": (n - 1, n - 1)}
    if mode not in pads:
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}.")
    padded = _p.pad(long, pad_width=(pads[mode],))
    length = padded.shape[0] - n + 1
    windows = _p.getitem(padded, index=np.arange(length)[:, None] + np.arange(n))  # (L, n)
    out = _p.matmul(windows, short)
    return flip(out) if swapped else out


def corrcoef(x) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x`` (variables by observations)."""
    x = to_float(x)
    centred = _p.subtract(x, _p.mean(x, axis=-1, keepdims=True))
    scale = _p.sqrt(_p.sum(_p.multiply(centred, centred), axis=-1, keepdims=True))
    unit = _p.divide(centred, scale)
    return _p.clip(_p.matmul(unit, _p.transpose(unit)), low=-1.0, high=1.0)


def histogram(x, bins=10, range=None) -> tuple:  # noqa: A002 - Keras's argument name
    """``(counts, edges)`` of the 1-D ``x`` in ``bins`` equal bins over ``range`` (both in
    ``x``'s float dtype, as Keras's JAX backend gives them).

    >>> histogram([0.0, 0.1, 1.0], bins=2)[0]
    Tensor([2., 1.], dtype=float32)
    """
    data = np.asarray(value(to_float(x)))
    if data.ndim != 1:
        raise ValueError(f"histogram: input must be 1-dimensional, got shape {data.shape}.")
    counts, edges = np.histogram(data, bins=int(bins), range=range)
    return constant(counts.astype(data.dtype)), constant(edges.astype(data.dtype))


def unique(x, sorted=True, return_index=False, return_inverse=False,  # noqa: A002
           return_counts=False, axis=None, size=None, fill_value=None):
    """The distinct values of ``x`` (sorted), optionally with the index of each one's first
    occurrence, the inverse indices and the counts; ``size`` pads (with ``fill_value``, by
    default the smallest value) or cuts the result to a fixed length.

    >>> unique([3, 1, 3, 2])
    Tensor([1, 2, 3], dtype=int32)
    """
    data = np.asarray(value(to_tensor(x)))
    values, index, inverse, counts = np.unique(data, return_index=True, return_inverse=True,
                                               return_counts=True, axis=axis)
    if size is not None:
        extra = int(size) - values.shape[0 if axis is None else axis]
        take_n = np.arange(builtins.min(int(size), values.shape[0 if axis is None else axis]))
        fill = values.min() if fill_value is None else fill_value
        values = np.take(values, take_n, axis=0 if axis is None else axis)
        index, counts = index[take_n], counts[take_n]
        if extra > 0:
            pad_shape = list(values.shape)
            pad_shape[0 if axis is None else axis] = extra
            values = np.concatenate([values, np.full(pad_shape, fill, values.dtype)],
                                    axis=0 if axis is None else axis)
            index = np.concatenate([index, np.zeros(extra, index.dtype)])
            counts = np.concatenate([counts, np.zeros(extra, counts.dtype)])
    out = [constant(values)]
    if return_index:
        out.append(constant(index, "int32"))
    if return_inverse:
        out.append(constant(inverse.reshape(data.shape) if axis is None else inverse, "int32"))
    if return_counts:
        out.append(constant(counts, "int32"))
    return out[0] if len(out) == 1 else tuple(out)


def gcd(x1, x2) -> Tensor:
    """The greatest common divisor of integers."""
    return constant(np.gcd(*_values(*_pair(x1, x2))))


def lcm(x1, x2) -> Tensor:
    """The least common multiple of integers."""
    return constant(np.lcm(*_values(*_pair(x1, x2))))


def ldexp(x1, x2) -> Tensor:
    """``x1 * 2 ** x2`` for integer ``x2`` (differentiable in ``x1``).

    >>> ldexp([1.0, 3.0], [2, 1])
    Tensor([4., 6.], dtype=float32)
    """
    x1 = to_float(x1)
    return _p.multiply(x1, np.ldexp(np.ones((), x1.dtype), np.asarray(value(x2))))


def nextafter(x1, x2) -> Tensor:
    """The next float after ``x1`` toward ``x2`` (no gradient)."""
    a, b = _float_pair(x1, x2)
    va, vb = _values(a, b)
    return constant(np.nextafter(va, np.asarray(vb, np.result_type(va))))


def angle(x) -> Tensor:
    """The argument of each (real) number: 0 for positives, pi for negatives (floatx)."""
    x = to_float(x)
    return constant(np.angle(x.data).astype(x.dtype))


def i0(x) -> Tensor:
    """The modified Bessel function of the first kind, order 0 (no gradient here)."""
    x = to_float(x)
    return constant(np.i0(x.data).astype(x.dtype))


def _window(numpy_fn, x, *args):
    return constant(numpy_fn(int(value(x)), *args).astype(config.floatx()))


def bartlett(x) -> Tensor:
    """The Bartlett (triangular) window of ``x`` points."""
    return _window(np.bartlett, x)


def blackman(x) -> Tensor:
    """The Blackman window of ``x`` points."""
    return _window(np.blackman, x)


def hamming(x) -> Tensor:
    """The Hamming window of ``x`` points."""
    return _window(np.hamming, x)


def hanning(x) -> Tensor:
    """The Hann window of ``x`` points."""
    return _window(np.hanning, x)


def kaiser(x, beta) -> Tensor:
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    return _window(np.kaiser, x, float(value(beta)))


# ----- einops-style rearrange and vectorize -----


def _rearrange_groups(side: str, pattern: str) -> list:
    """``"b (h w) c"`` as ``[["b"], ["h", "w"], ["c"]]``."""
    groups, current = [], None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses in {pattern!r}.")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange: unbalanced parentheses in {pattern!r}.")
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in {pattern!r}.")
    return groups


def rearrange(tensor, pattern, **axes_lengths) -> Tensor:
    """Reorder, merge and split axes as einops's ``rearrange`` (``"b h w c -> b (h w) c"``;
    split sizes by keyword, e.g. ``p=2``).

    >>> rearrange(np.zeros((2, 4, 6, 3)), "b (h p) w c -> b h (w p) c", p=2).shape
    (2, 2, 12, 3)
    """
    x = to_tensor(tensor)
    left, arrow, right = pattern.partition("->")
    if not arrow:
        raise ValueError(f"rearrange: the pattern needs '->', got {pattern!r}.")
    inputs, outputs = _rearrange_groups(left, pattern), _rearrange_groups(right, pattern)
    if len(inputs) != x.ndim:
        raise ValueError(f"rearrange: {pattern!r} names {len(inputs)} input axes, the tensor "
                         f"has shape {x.shape}.")
    names = [n for g in inputs for n in g]
    if sorted(names) != sorted(n for g in outputs for n in g) or len(set(names)) != len(names):
        raise ValueError(f"rearrange: the two sides of {pattern!r} must name the same axes, "
                         f"each once.")
    sizes = {}
    for group, size in zip(inputs, x.shape):
        unknown = [n for n in group if n not in axes_lengths]
        known = int(np.prod([axes_lengths[n] for n in group if n in axes_lengths]))
        if len(unknown) > 1:
            raise ValueError(f"rearrange: give the sizes of all but one of {group} "
                             f"(e.g. {unknown[0]}=...).")
        if size % known or (not unknown and known != size):
            raise ValueError(f"rearrange: axis of size {size} cannot be split as {group} "
                             f"with {axes_lengths}.")
        sizes.update({n: axes_lengths[n] for n in group if n in axes_lengths})
        sizes.update({n: size // known for n in unknown})
    split = _p.reshape(x, shape=tuple(sizes[n] for n in names))
    order = [names.index(n) for g in outputs for n in g]
    moved = _p.transpose(split, axes=tuple(order))
    return _p.reshape(moved, shape=tuple(int(np.prod([sizes[n] for n in g])) for g in outputs))


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` applied to every element (or, with a gufunc ``signature`` such as
    ``"(m,n),(n)->(m)"``, every core block) of its broadcast arguments; arguments whose
    positions are in ``excluded`` are passed as they are. Gradients flow through ``pyfunc``.

    >>> vectorize(lambda a, b: a + b)([1, 2, 3], 2)
    Tensor([3, 4, 5], dtype=int32)
    """
    excluded = set(excluded or ())
    cores_in, cores_out = _parse_signature(signature)

    def vectorized(*args):
        mapped = [i for i in range(len(args)) if i not in excluded]
        tensors = {i: to_tensor(args[i]) for i in mapped}
        cores = cores_in if cores_in is not None else [()] * len(mapped)
        if len(cores) != len(mapped):
            raise ValueError(f"vectorize: the signature {signature!r} names {len(cores)} "
                             f"inputs, {len(mapped)} were given.")
        loops = [tensors[i].shape[:tensors[i].ndim - len(c)] for i, c in zip(mapped, cores)]
        loop = np.broadcast_shapes(*loops) if loops else ()
        count = int(np.prod(loop))
        flat = {}
        for i, core in zip(mapped, cores):
            t = tensors[i]
            core_shape = t.shape[t.ndim - len(core):]
            spread = _p.broadcast_to(t, shape=loop + core_shape)
            flat[i] = _p.reshape(spread, shape=(count,) + core_shape)
        results = []
        for k in range(count):
            call = [_p.getitem(flat[i], index=k) if i in flat else a for i, a in enumerate(args)]
            results.append(pyfunc(*call))
        return _reshape_loop(_stack(results), loop)

    return vectorized


def _parse_signature(signature):
    if signature is None:
        return None, None
    inputs, arrow, outputs = signature.replace(" ", "").partition("->")
    if not arrow:
        raise ValueError(f"vectorize: signature needs '->', got {signature!r}.")

    def cores(side):
        return [tuple(filter(None, part.strip("()").split(","))) for part in
                side.replace("),(", ")|(").split("|")]

    return cores(inputs), cores(outputs)


def _stack(results):
    if isinstance(results[0], (tuple, list)):
        return tuple(_stack([r[i] for r in results]) for i in range(len(results[0])))
    return _p.stack(*[to_tensor(r) for r in results], axis=0)


def _reshape_loop(stacked, loop):
    if isinstance(stacked, tuple):
        return tuple(_reshape_loop(s, loop) for s in stacked)
    return _p.reshape(stacked, shape=tuple(loop) + stacked.shape[1:])
