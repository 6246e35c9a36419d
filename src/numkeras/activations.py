"""Activation functions with Keras 3's names, signatures, defaults and formulas.

Every function takes a Tensor (or anything array-like) and returns a Tensor built only from the
primitive ops of :mod:`numkeras.backprop.ops`, so gradients come for free. Float inputs keep their
dtype; Python numbers and lists become ``floatx()`` as Keras's ``convert_to_tensor`` makes them.
The forms are chosen to stay finite and accurate far into the tails (``softplus(-1e4)``,
``elu(1e4)``): no overflow, no NaN, no cancellation near 0.

>>> from numkeras import activations
>>> activations.get("relu")([-1.0, 0.0, 2.0])
Tensor([0., 0., 2.], dtype=float32)
>>> activations.serialize(activations.swish)
'silu'
"""

import math as _math
import warnings as _warnings

import numpy as _np

from numkeras import config as _config
from numkeras.backprop import ops as _ops
from numkeras.backprop.tensor import Tensor as _Tensor
from numkeras.backprop.tensor import as_tensor as _as_tensor
from numkeras.utils.registry import unknown_name_error as _unknown_name_error

__all__ = [
    "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid",
    "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "soft_shrink",
    "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
    "swish", "tanh", "tanh_shrink", "threshold",
]

# SELU's constants (Klambauer et al., 2017), to the digits Keras uses.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = _math.sqrt(0.5)
_SQRT_2_OVER_PI = _math.sqrt(2.0 / _math.pi)


def __dir__():
    # Keras 3's dir(keras.activations): the module's dunders and the 35 public names, no helpers.
    dunders = [name for name in globals() if name.startswith("__") and name.endswith("__")]
    return sorted(dunders) + sorted(__all__)


def _to_float_tensor(x) -> _Tensor:
    """``x`` as a Tensor of a float dtype.

    Tensors and NumPy float arrays keep their dtype; Python numbers and lists become ``floatx()``
    (Keras's ``convert_to_tensor`` does the same); integers and booleans are cast to ``floatx()``.
    """
    if not isinstance(x, (_Tensor, _np.ndarray, _np.generic)):
        x = _np.asarray(x)
        if x.dtype.kind in "biuf":
            x = x.astype(_config.floatx())
    tensor = _as_tensor(x)
    kind = tensor.dtype.kind
    if kind == "f":
        return tensor
    if kind in "biu":
        return _ops.cast(tensor, dtype=_config.floatx())
    raise TypeError(
        f"Activations need numbers, but received an input of dtype {tensor.dtype} (shape "
        f"{tensor.shape}). Convert it to a float array first."
    )


def _in_float64(function, x: _Tensor) -> _Tensor:
    """``function(x)`` evaluated in float64 and rounded once to ``x``'s dtype.

    For the few activations whose float32 evaluation loses digits (cancellation or an
    ill-conditioned tail); the casts are ops too, so gradients flow through unchanged.
    """
    wide = x if x.dtype == _np.float64 else _ops.cast(x, dtype=_np.float64)
    out = function(wide)
    return out if out.dtype == x.dtype else _ops.cast(out, dtype=x.dtype)


def _select_axis(x: _Tensor, axis: int, part: slice) -> _Tensor:
    """``x`` restricted to ``part`` of ``axis`` (a basic slice, so it stays a view)."""
    position = axis % x.ndim
    return x[(slice(None),) * position + (part,)]


# ----- rectifiers -----


def relu(x, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0, *, alpha: float | None = None) -> _Tensor:
    """Rectified linear unit, optionally leaky, capped and shifted.

    ``x`` where ``x > threshold`` else 0; clipped to ``[0, max_value]`` when ``max_value`` is
    given; minus ``negative_slope * max(threshold - x, 0)``. ``alpha`` is Keras 2's name for
    ``negative_slope``.

    >>> relu([-5.0, 0.5, 1.0, 2.5, 5.0], negative_slope=0.1, max_value=2.0, threshold=1.0)
    Tensor([-0.6 , -0.05,  0.  ,  2.  ,  2.  ], dtype=float32)
    """
    x = _to_float_tensor(x)
    if alpha is not None:
        if negative_slope != 0.0 and negative_slope != alpha:
            raise ValueError(
                f"relu received both negative_slope={negative_slope} and its Keras 2 name "
                f"alpha={alpha}. Pass only `negative_slope`."
            )
        negative_slope = alpha
    negative_slope, threshold = float(negative_slope), float(threshold)
    if threshold == 0.0:
        out = _ops.relu(x)
    else:
        out = _ops.where(x.data > threshold, x, 0.0)
    if max_value is not None:
        out = _ops.clip(out, low=0.0, high=float(max_value))
    if negative_slope != 0.0:
        out = out - _ops.relu(threshold - x) * negative_slope
    return out


def leaky_relu(x, negative_slope: float = 0.2) -> _Tensor:
    """``x`` for ``x >= 0``, else ``negative_slope * x`` (default 0.2, unlike the layer's 0.3).

    >>> leaky_relu([-10.0, 0.0, 10.0])
    Tensor([-2.,  0., 10.], dtype=float32)
    """
    x = _to_float_tensor(x)
    return _ops.where(x.data >= 0, x, x * float(negative_slope))


def relu6(x) -> _Tensor:
    """``min(max(x, 0), 6)``.

    >>> relu6([-1.0, 3.0, 8.0])
    Tensor([0., 3., 6.], dtype=float32)
    """
    # 6 as the first argument: at x == 6 the gradient then goes to the constant, so the
    # derivative is 0 at both corners, as TensorFlow's relu6 gives.
    return _ops.minimum(6.0, _ops.relu(_to_float_tensor(x)))


def elu(x, alpha: float = 1.0) -> _Tensor:
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> elu([-1.0, 0.0, 2.0])
    Tensor([-0.63212055,  0.        ,  2.        ], dtype=float32)
    """
    x = _to_float_tensor(x)
    # exp only sees min(x, 0): exp of a large positive x would overflow, even though `where`
    # discards it, and its infinite value would poison the gradient with NaN.
    negative = _ops.expm1(_ops.minimum(x, 0.0)) * float(alpha)
    return _ops.where(x.data > 0, x, negative)


def selu(x) -> _Tensor:
    """Scaled ELU: ``scale * elu(x, alpha)`` with SELU's fixed ``alpha`` and ``scale``.

    >>> selu([1.0])
    Tensor([1.050701], dtype=float32)
    """
    x = _to_float_tensor(x)
    negative = _ops.expm1(_ops.minimum(x, 0.0)) * (_SELU_SCALE * _SELU_ALPHA)
    return _ops.where(x.data > 0, x * _SELU_SCALE, negative)


def celu(x, alpha: float = 1.0) -> _Tensor:
    """Continuously differentiable ELU: ``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``.

    >>> celu([-1.0, 0.0, 2.0])
    Tensor([-0.63212055,  0.        ,  2.        ], dtype=float32)
    """
    x = _to_float_tensor(x)
    alpha = float(alpha)
    return _ops.relu(x) + _ops.expm1(_ops.minimum(x, 0.0) / alpha) * alpha


# ----- smooth gates -----


def sigmoid(x) -> _Tensor:
    """``1 / (1 + exp(-x))``; the result remembers ``x`` as ``.logits`` for crossentropy.

    >>> sigmoid([0.0])
    Tensor([0.5], dtype=float32)
    """
    x = _to_float_tensor(x)
    out = _ops.sigmoid(x)
    out.logits = x
    return out


def softplus(x) -> _Tensor:
    """``log(exp(x) + 1)``, computed as ``max(x, 0) + log1p(exp(-|x|))`` so it never overflows.

    >>> softplus([0.0])
    Tensor([0.6931472], dtype=float32)
    """
    x = _to_float_tensor(x)
    positive = _ops.relu(x)
    # -|x| written as min(x, 0) - relu(x): relu' (0) = 0 and min' (0) = 1, so the derivative
    # at x == 0 comes out as the exact sigmoid(0) = 0.5 (with abs it would be 0).
    return positive + _ops.log1p(_ops.exp(_ops.minimum(x, 0.0) - positive))


def log_sigmoid(x) -> _Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite even where sigmoid rounds to 0.

    >>> log_sigmoid([0.0])
    Tensor([-0.6931472], dtype=float32)
    """
    return -softplus(-_to_float_tensor(x))


def softsign(x) -> _Tensor:
    """``x / (|x| + 1)``.

    >>> softsign([-1.0, 3.0])
    Tensor([-0.5 ,  0.75], dtype=float32)
    """
    x = _to_float_tensor(x)
    return x / (_ops.abs(x) + 1.0)


def silu(x) -> _Tensor:
    """Sigmoid-weighted linear unit ``x * sigmoid(x)``; ``swish`` is the same function.

    >>> silu([0.0, 1.0])
    Tensor([0.       , 0.7310586], dtype=float32)
    """
    x = _to_float_tensor(x)
    return x * _ops.sigmoid(x)


swish = silu


def gelu(x, approximate: bool = False) -> _Tensor:
    """Gaussian error linear unit ``x * P(N(0, 1) <= x)``.

    Exact: ``0.5 * x * erfc(-x / sqrt(2))``; approximate: Hendrycks and Gimpel's tanh form
    ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``.

    >>> gelu([1.0]), gelu([1.0], approximate=True)
    (Tensor([0.8413447], dtype=float32), Tensor([0.841192], dtype=float32))
    """
    # Evaluated in float64, rounded once: the left tail is ill-conditioned (the value falls like
    # exp(-x^2 / 2)), and rounding x / sqrt(2) or the cubic to float32 would cost up to 1e-5 of
    # relative accuracy by x = -10. erfc works in float64 internally anyway.
    return _in_float64(_gelu_approximate if approximate else _gelu_exact, _to_float_tensor(x))


def _gelu_exact(x: _Tensor) -> _Tensor:
    # erfc rather than 1 + erf: for negative x the sum cancels to nothing, erfc keeps full
    # relative precision in the left tail.
    return x * _ops.erfc(x * -_SQRT_HALF) * 0.5


def _gelu_approximate(x: _Tensor) -> _Tensor:
    # 0.5 * (1 + tanh(u)) == sigmoid(2u): the same value without the cancellation of 1 + tanh
    # for negative u. The cubic sees x clipped to [-100, 100] (the gate is exactly 0 or 1
    # well before that), so x**3 cannot overflow.
    bounded = _ops.clip(x, low=-100.0, high=100.0)
    gate_input = bounded * (bounded * bounded * (0.044715 * 2.0 * _SQRT_2_OVER_PI)
                            + 2.0 * _SQRT_2_OVER_PI)
    return x * _ops.sigmoid(gate_input)


def mish(x) -> _Tensor:
    """``x * tanh(softplus(x))``.

    >>> mish([0.0, 1.0])
    Tensor([0.       , 0.8650984], dtype=float32)
    """
    x = _to_float_tensor(x)
    return x * _ops.tanh(softplus(x))


def tanh(x) -> _Tensor:
    """Hyperbolic tangent.

    >>> tanh([0.0, 1.0])
    Tensor([0.       , 0.7615942], dtype=float32)
    """
    return _ops.tanh(_to_float_tensor(x))


# Taylor series of x - tanh(x) = x^3/3 - 2x^5/15 + 17x^7/315 - ..., used where |x| < 0.01.
_TANH_SHRINK_SERIES_LIMIT = 0.01
_TANH_SHRINK_SERIES = (1.0 / 3.0, -2.0 / 15.0, 17.0 / 315.0)


def tanh_shrink(x) -> _Tensor:
    """``x - tanh(x)``.

    >>> tanh_shrink([0.0, 1.0])
    Tensor([0.        , 0.23840584], dtype=float32)
    """
    # x - tanh(x) ~ x^3 / 3 cancels catastrophically near 0: in float32 every digit is lost
    # below |x| ~ 1e-2. So it is computed in float64, and a short Taylor series takes over
    # where even float64 cancels (|x| < 0.01; the series' truncation error there is < 1e-13).
    return _in_float64(_tanh_shrink_wide, _to_float_tensor(x))


def _tanh_shrink_wide(x: _Tensor) -> _Tensor:
    small = _np.abs(x.data) < _TANH_SHRINK_SERIES_LIMIT
    near_zero = _ops.where(small, x, 0.0)
    square = near_zero * near_zero
    c3, c5, c7 = _TANH_SHRINK_SERIES
    series = near_zero * square * (square * (square * c7 + c5) + c3)
    return _ops.where(small, series, x - _ops.tanh(x))


def exponential(x) -> _Tensor:
    """``exp(x)``; overflows to ``inf`` (quietly, as in Keras) beyond the float's range.

    >>> exponential([0.0, 1.0])
    Tensor([1.      , 2.718282], dtype=float32)
    """
    x = _to_float_tensor(x)
    # exp(x) really is inf beyond the range; that is the answer, not an accident to warn about.
    with _np.errstate(over="ignore"):
        return _ops.exp(x)


def squareplus(x, b: float = 4) -> _Tensor:
    """``(x + sqrt(x^2 + b)) / 2``, a smooth ReLU (``b = 0`` gives ReLU).

    >>> squareplus([-3.0, 0.0, 3.0], b=16)
    Tensor([1., 2., 4.], dtype=float32)
    """
    x = _to_float_tensor(x)
    b = float(b)
    if b < 0:
        raise ValueError(f"squareplus needs b >= 0 (sqrt(x^2 + b) must be real); got b={b}.")
    if b == 0:
        return _ops.relu(x)
    magnitude = _ops.abs(x)
    root = _ops.sqrt(x * x + b)
    # For x < 0, x + sqrt(x^2 + b) cancels (to exactly 0 at x = -1e4 in float32); the equal
    # b / (sqrt(x^2 + b) - x) has no cancellation. Its denominator |x| + root >= sqrt(b) > 0.
    left = b / ((magnitude + root) * 2.0)
    right = (x + root) * 0.5
    return _ops.where(x.data < 0, left, right)


# ----- piecewise linear -----


def hard_sigmoid(x) -> _Tensor:
    """Keras 3's hard sigmoid ``relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1)``.

    (Keras 2 used ``clip(0.2 * x + 0.5, 0, 1)``.)

    >>> hard_sigmoid([-4.0, 1.0, 4.0])
    Tensor([0.       , 0.6666667, 1.       ], dtype=float32)
    """
    x = _to_float_tensor(x)
    # x + 3 (exact near -3) then / 6 keeps more precision than x / 6 + 0.5 near the corner.
    return _ops.clip(x + 3.0, low=0.0, high=6.0) / 6.0


def hard_silu(x) -> _Tensor:
    """``x * relu6(x + 3) / 6``; ``hard_swish`` is the same function.

    >>> hard_silu([-4.0, 1.0, 4.0])
    Tensor([-0.       ,  0.6666667,  4.       ], dtype=float32)
    """
    x = _to_float_tensor(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x) -> _Tensor:
    """``clip(x, -1, 1)``.

    >>> hard_tanh([-2.0, 0.5, 2.0])
    Tensor([-1. ,  0.5,  1. ], dtype=float32)
    """
    return _ops.clip(_to_float_tensor(x), low=-1.0, high=1.0)


def hard_shrink(x, threshold: float = 0.5) -> _Tensor:
    """``x`` where ``|x| > threshold``, else 0.

    >>> hard_shrink([-1.0, 0.2, 1.0])
    Tensor([-1.,  0.,  1.], dtype=float32)
    """
    x = _to_float_tensor(x)
    return _ops.where(_np.abs(x.data) > float(threshold), x, 0.0)


def soft_shrink(x, threshold: float = 0.5) -> _Tensor:
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0.

    >>> soft_shrink([-1.0, 0.2, 1.0])
    Tensor([-0.5,  0. ,  0.5], dtype=float32)
    """
    x = _to_float_tensor(x)
    threshold = float(threshold)
    below = _ops.where(x.data < -threshold, x + threshold, 0.0)
    return _ops.where(x.data > threshold, x - threshold, below)


def threshold(x, threshold: float, default_value: float) -> _Tensor:
    """``x`` where ``x > threshold``, else ``default_value``.

    >>> threshold([-1.0, 0.5, 2.0], 0.0, -9.0)
    Tensor([-9. ,  0.5,  2. ], dtype=float32)
    """
    x = _to_float_tensor(x)
    fill = default_value if isinstance(default_value, _Tensor) else float(default_value)
    return _ops.where(x.data > float(threshold), x, fill)


def sparse_plus(x) -> _Tensor:
    """0 for ``x <= -1``, ``(x + 1)^2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``.

    >>> sparse_plus([-2.0, 0.0, 2.0])
    Tensor([0.  , 0.25, 2.  ], dtype=float32)
    """
    x = _to_float_tensor(x)
    shifted = _ops.clip(x, low=-1.0, high=1.0) + 1.0  # clipped: the square never overflows
    middle = shifted * shifted * 0.25
    return _ops.where(x.data >= 1, x, _ops.where(x.data <= -1, 0.0, middle))


def sparse_sigmoid(x) -> _Tensor:
    """0 for ``x <= -1``, ``(x + 1) / 2`` for ``-1 < x < 1``, 1 for ``x >= 1``.

    >>> sparse_sigmoid([-2.0, 0.0, 2.0])
    Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    x = _to_float_tensor(x)
    return _ops.clip((x + 1.0) * 0.5, low=0.0, high=1.0)


def linear(x) -> _Tensor:
    """The identity (``activation=None`` means this).

    >>> linear([1.5])
    Tensor([1.5], dtype=float32)
    """
    return _to_float_tensor(x)


# ----- along an axis -----


def softmax(x, axis: int = -1) -> _Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``; the result remembers ``x`` as ``.logits``.

    Works on 1-D input too (as in Keras 3). ``axis`` may be a tuple of axes.

    >>> softmax([0.0, 0.0])
    Tensor([0.5, 0.5], dtype=float32)
    """
    x = _to_float_tensor(x)
    if isinstance(axis, (list, tuple)):
        axis = tuple(axis)
    elif x.ndim and x.shape[axis] == 1:
        # Keras 3 warns too: Dense(1, activation="softmax") always outputs 1.
        _warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape {x.shape}. This axis "
            "has size 1. The softmax operation will always return the value 1, which is likely "
            "not what you intended. Did you mean to use a sigmoid instead?",
            stacklevel=2,
        )
    out = _ops.softmax(x, axis=axis)
    if not isinstance(axis, tuple) and x.ndim and axis % x.ndim == x.ndim - 1:
        # Crossentropy works over the last axis; logits of another axis would mislead it.
        out.logits = x
    return out


def log_softmax(x, axis: int = -1) -> _Tensor:
    """``x - logsumexp(x)`` along ``axis``, stable for any magnitude.

    >>> log_softmax([0.0, 0.0])
    Tensor([-0.6931472, -0.6931472], dtype=float32)
    """
    return _ops.log_softmax(_to_float_tensor(x), axis=axis)


def glu(x, axis: int = -1) -> _Tensor:
    """Gated linear unit: split ``x`` in halves ``a, b`` along ``axis``; ``a * sigmoid(b)``.

    >>> glu([[2.0, 0.0]])
    Tensor([[1.]], dtype=float32)
    """
    x = _to_float_tensor(x)
    size = x.shape[axis]
    if size % 2:
        raise ValueError(
            f"glu splits axis {axis} into two halves, so its size must be even. Received: "
            f"x.shape={x.shape} with axis={axis} of size {size}."
        )
    half = size // 2
    gated = _select_axis(x, axis, slice(0, half))
    gate = _select_axis(x, axis, slice(half, None))
    return gated * _ops.sigmoid(gate)


def sparsemax(x, axis: int = -1) -> _Tensor:
    """Euclidean projection of ``x`` onto the probability simplex along ``axis``.

    ``max(x - tau, 0)`` with ``tau`` such that the result sums to 1; unlike softmax it gives
    exact zeros.

    >>> sparsemax([1.0, 0.0, 3.0])
    Tensor([0., 0., 1.], dtype=float32)
    """
    x = _to_float_tensor(x)
    # sparsemax(z) == sparsemax(z - c): shifting by the (constant) max keeps z - tau a difference
    # of numbers below 1 in size, so large inputs (all -100) lose no digits.
    shifted = x - _np.max(x.data, axis=axis, keepdims=True)
    support = _sparsemax_support(shifted.data, axis)  # piecewise constant in x: no gradient
    count = _np.sum(support, axis=axis, keepdims=True).astype(x.dtype)
    tau = (_ops.sum(_ops.where(support, shifted, 0.0), axis=axis, keepdims=True) - 1.0) / count
    # tau stays in the graph, so the gradient is the true sparsemax Jacobian
    # diag(s) - s s^T / |s| (s = support), not just the mask.
    return _ops.relu(shifted - tau)


def _sparsemax_support(values: _np.ndarray, axis: int) -> _np.ndarray:
    """Which entries are positive in sparsemax(values): the k largest, k = max{j: 1 + j z_(j) >
    z_(1) + ... + z_(j)} with z sorted in decreasing order (Martins and Astudillo, 2016)."""
    last = _np.moveaxis(values, axis, -1)  # (..., n)
    ordered = -_np.sort(-last, axis=-1)
    ranks = _np.arange(1, last.shape[-1] + 1, dtype=last.dtype)
    k = _np.sum(1 + ranks * ordered > _np.cumsum(ordered, axis=-1), axis=-1, keepdims=True)
    smallest_kept = _np.take_along_axis(ordered, k - 1, axis=-1)
    # >= keeps every copy of a tied boundary value: ties are in or out of the support together.
    return _np.moveaxis(last >= smallest_kept, -1, axis)


# ----- lookup and serialization -----

_BUILTINS = {fn.__name__: fn for fn in (
    celu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_tanh,
    leaky_relu, linear, log_sigmoid, log_softmax, mish, relu, relu6, selu, sigmoid, silu,
    soft_shrink, softmax, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax, squareplus,
    tanh, tanh_shrink, threshold)}
_BY_NAME = {**_BUILTINS, "swish": silu, "hard_swish": hard_silu}


def get(identifier, argument: str | None = None):
    """An activation function from a name, a serialized dict or a callable; None is ``linear``.

    Names are case-sensitive, as in Keras. ``argument`` names the caller's argument in errors.

    >>> get("swish") is silu, get(None) is linear
    (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]
        raise _unknown_activation(identifier, _BY_NAME, argument)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    where = f" (argument `{argument}`)" if argument else ""
    raise ValueError(
        f"Could not interpret activation function identifier{where}: {identifier!r}. Pass a "
        f"name such as 'relu', a callable, or None."
    )


def serialize(activation) -> str:
    """The name that :func:`deserialize` and :func:`get` turn back into ``activation``.

    >>> serialize(relu), serialize(swish), serialize(hard_swish)
    ('relu', 'silu', 'hard_silu')
    """
    if isinstance(activation, str):
        activation = get(activation)
    for name, builtin in _BUILTINS.items():
        if activation is builtin:
            return name
    name = getattr(activation, "__name__", None)
    if not callable(activation) or not name or name == "<lambda>":
        raise ValueError(
            f"Unknown activation function {activation!r} cannot be serialized: it has no name. "
            f"Define it with `def` (and pass it in `custom_objects` when loading)."
        )
    return name


def deserialize(config, custom_objects=None):
    """The activation function named by ``config``.

    ``config`` is a name (``"relu"``), Keras 3's dict (``{"class_name": "function", "config":
    "relu", ...}``) or a legacy ``{"class_name": "relu"}``. ``custom_objects`` maps names to
    user functions and is searched first.

    >>> deserialize("relu") is relu
    True
    """
    custom_objects = custom_objects or {}
    if isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(
                f"Cannot deserialize an activation from {config!r}: expected a name or a dict "
                f"with a 'class_name' key."
            )
        registered = config.get("registered_name")
        if registered in custom_objects:
            return custom_objects[registered]
        name = config["class_name"]
        if name == "function":  # Keras 3: {"class_name": "function", "config": "relu", ...}
            name = config.get("config")
    elif isinstance(config, str):
        name = config
    else:
        raise ValueError(
            f"Cannot deserialize an activation from {config!r}: expected a name or a dict."
        )
    if name in custom_objects:
        return custom_objects[name]
    if name in _BY_NAME:
        return _BY_NAME[name]
    raise _unknown_activation(name, {**_BY_NAME, **custom_objects})


def _unknown_activation(name, choices, argument: str | None = None) -> ValueError:
    """The registry's unknown-name error, plus a hint when only the letter case is wrong."""
    error = _unknown_name_error("activation", name, choices, argument)
    same_letters = [choice for choice in choices if choice.lower() == str(name).lower()]
    if same_letters and "Did you mean" not in str(error):
        return ValueError(f"{error} Names are case-sensitive: did you mean {same_letters[0]!r}?")
    return error
