"""keras.activations: values against float64 references, stability, gradients, lookup, dir()."""

import doctest
import inspect
import math
import warnings

import numpy as np
import pytest

from numkeras import activations
from numkeras.backprop import Tensor, check_grads

# The spec's grid: both tails (where overflow and cancellation bite), the kinks' neighbourhoods
# and small values (where cancellation near 0 shows).
GRID = np.array([-1e4, -100, -20, -3, -1, -0.5, -1e-3, -1e-7, -1e-30, 0.0,
                 1e-30, 1e-7, 1e-3, 0.5, 1, 3, 20, 100, 1e4], dtype=np.float32)
# Results below float32's smallest normal number are denormal (fewer significant bits) or
# flush to 0, so only there an absolute tolerance of that size applies; above it, the check
# is purely relative.
TINY = float(np.finfo(np.float32).tiny)
RTOL = 1e-6

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# The 35 names of dir(keras.activations) in Keras 3.15.1 (spec section 4.1).
KERAS_3_NAMES = [
    "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid",
    "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "soft_shrink",
    "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
    "swish", "tanh", "tanh_shrink", "threshold",
]
# dir(tf.keras.activations) in TF 2.0-2.1, the lecture's list (spec section 5).
LECTURE_NAMES = [
    "deserialize", "elu", "exponential", "get", "hard_sigmoid", "linear", "relu", "selu",
    "serialize", "sigmoid", "softmax", "softplus", "softsign", "tanh",
]


# ----- float64 references: the spec's formulas, written independently of the library -----

def _ref_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    positive = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        positive = np.clip(positive, 0.0, max_value)
    return positive - negative_slope * np.maximum(threshold - x, 0.0)


def _ref_leaky_relu(x, negative_slope=0.2):
    return np.where(x >= 0, x, negative_slope * x)


def _ref_relu6(x):
    return np.minimum(np.maximum(x, 0.0), 6.0)


def _ref_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))  # expm1 is e^x - 1 without cancellation


def _ref_selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))


def _ref_celu(x, alpha=1.0):
    return np.where(x >= 0, x, alpha * np.expm1(x / alpha))


def _ref_gelu(x):
    erf, erfc = np.vectorize(math.erf), np.vectorize(math.erfc)
    # Below x = -3, 1 + erf(x / sqrt(2)) cancels even in float64 (to nothing by x = -8), so the
    # left tail uses the identity 1 + erf(z) = erfc(-z).
    return np.where(x >= -3, 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
                    0.5 * x * erfc(-x / math.sqrt(2.0)))


def _ref_gelu_approximate(x):
    u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
    # For u < 0, 1 + tanh(u) cancels (tanh(-25) is -1 in float64); 2 e^2u / (1 + e^2u) is equal.
    left_tail = x * np.exp(2 * np.minimum(u, 0)) / (1.0 + np.exp(2 * np.minimum(u, 0)))
    return np.where(u >= 0, 0.5 * x * (1.0 + np.tanh(u)), left_tail)


def _ref_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ref_hard_sigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def _ref_hard_silu(x):
    return x * _ref_relu6(x + 3.0) / 6.0


def _ref_silu(x):
    return x / (1.0 + np.exp(-x))


def _ref_softplus(x):
    return np.logaddexp(x, 0.0)  # log(e^x + 1), NumPy's stable form


def _ref_log_sigmoid(x):
    return -np.logaddexp(-x, 0.0)


def _ref_softsign(x):
    return x / (np.abs(x) + 1.0)


def _ref_tanh_shrink(x):
    # x - tanh(x) cancels even in float64 for small x (at 1e-7 it keeps 2 digits), so below
    # 0.1 the reference sums the Taylor series x^3/3 - 2x^5/15 + 17x^7/315 - 62x^9/2835
    # (truncation error < 3e-10 relative there).
    series = x ** 3 / 3 - 2 * x ** 5 / 15 + 17 * x ** 7 / 315 - 62 * x ** 9 / 2835
    return np.where(np.abs(x) < 0.1, series, x - np.tanh(x))


def _ref_squareplus(x, b=4.0):
    # In float64 the cancellation at x = -1e4 costs ~5e-9 relative: well inside 1e-6.
    return (x + np.sqrt(x * x + b)) / 2.0


def _ref_sparse_plus(x):
    return np.where(x <= -1, 0.0, np.where(x >= 1, x, 0.25 * (x + 1.0) ** 2))


def _ref_sparse_sigmoid(x):
    return np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1.0)))


def _ref_hard_shrink(x, threshold=0.5):
    return np.where(np.abs(x) > threshold, x, 0.0)


def _ref_soft_shrink(x, threshold=0.5):
    return np.where(x > threshold, x - threshold, np.where(x < -threshold, x + threshold, 0.0))


def _ref_threshold(x, threshold, default_value):
    return np.where(x > threshold, x, default_value)


def _ref_softmax(x, axis=-1):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _ref_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _ref_glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _ref_sigmoid(b)


def _ref_sparsemax(x):
    """Rows of ``x`` projected onto the simplex: tau solves sum(max(z - tau, 0)) = 1 by
    bisection (a different route from the library's sort-based support)."""
    out = np.empty_like(x)
    for i, z in enumerate(x):
        low, high = z.max() - 1.0, z.max()
        for _ in range(200):
            tau = (low + high) / 2
            low, high = (tau, high) if np.maximum(z - tau, 0).sum() > 1 else (low, tau)
        out[i] = np.maximum(z - (low + high) / 2, 0.0)
    return out


# name -> (library call, reference); every elementwise function, with non-default arguments too.
ELEMENTWISE = {
    "relu": (activations.relu, _ref_relu),
    "relu(slope, max, threshold)": (
        lambda x: activations.relu(x, negative_slope=0.1, max_value=2.0, threshold=1.0),
        lambda x: _ref_relu(x, 0.1, 2.0, 1.0)),
    # Thresholds exact in float32 (-0.75, not -0.7): the function rounds them to the input's
    # dtype as Keras does, and that rounding is not what this test measures.
    "relu(negative threshold)": (
        lambda x: activations.relu(x, negative_slope=0.3, threshold=-0.75),
        lambda x: _ref_relu(x, 0.3, None, -0.75)),
    "leaky_relu": (activations.leaky_relu, _ref_leaky_relu),
    "leaky_relu(0.05)": (lambda x: activations.leaky_relu(x, 0.05),
                         lambda x: _ref_leaky_relu(x, 0.05)),
    "relu6": (activations.relu6, _ref_relu6),
    "elu": (activations.elu, _ref_elu),
    "elu(alpha=2)": (lambda x: activations.elu(x, alpha=2.0), lambda x: _ref_elu(x, 2.0)),
    "selu": (activations.selu, _ref_selu),
    "celu": (activations.celu, _ref_celu),
    "celu(alpha=0.5)": (lambda x: activations.celu(x, alpha=0.5), lambda x: _ref_celu(x, 0.5)),
    "gelu": (activations.gelu, _ref_gelu),
    "gelu(approximate)": (lambda x: activations.gelu(x, approximate=True),
                          _ref_gelu_approximate),
    "sigmoid": (activations.sigmoid, _ref_sigmoid),
    "hard_sigmoid": (activations.hard_sigmoid, _ref_hard_sigmoid),
    "hard_silu": (activations.hard_silu, _ref_hard_silu),
    "hard_swish": (activations.hard_swish, _ref_hard_silu),
    "silu": (activations.silu, _ref_silu),
    "swish": (activations.swish, _ref_silu),
    "softplus": (activations.softplus, _ref_softplus),
    "log_sigmoid": (activations.log_sigmoid, _ref_log_sigmoid),
    "softsign": (activations.softsign, _ref_softsign),
    "exponential": (activations.exponential, np.exp),
    "tanh": (activations.tanh, np.tanh),
    "tanh_shrink": (activations.tanh_shrink, _ref_tanh_shrink),
    "hard_tanh": (activations.hard_tanh, lambda x: np.clip(x, -1.0, 1.0)),
    "hard_shrink": (activations.hard_shrink, _ref_hard_shrink),
    "hard_shrink(2)": (lambda x: activations.hard_shrink(x, 2.0),
                       lambda x: _ref_hard_shrink(x, 2.0)),
    "soft_shrink": (activations.soft_shrink, _ref_soft_shrink),
    "soft_shrink(2)": (lambda x: activations.soft_shrink(x, threshold=2.0),
                       lambda x: _ref_soft_shrink(x, 2.0)),
    "threshold": (lambda x: activations.threshold(x, 0.75, -3.0),
                  lambda x: _ref_threshold(x, 0.75, -3.0)),
    "sparse_plus": (activations.sparse_plus, _ref_sparse_plus),
    "sparse_sigmoid": (activations.sparse_sigmoid, _ref_sparse_sigmoid),
    "squareplus": (activations.squareplus, _ref_squareplus),
    "squareplus(b=0.5)": (lambda x: activations.squareplus(x, b=0.5),
                          lambda x: _ref_squareplus(x, 0.5)),
    "squareplus(b=0)": (lambda x: activations.squareplus(x, b=0), lambda x: np.maximum(x, 0)),
    "mish": (activations.mish, lambda x: x * np.tanh(_ref_softplus(x))),
    "linear": (activations.linear, lambda x: x),
}

# name -> function of a 2-D array, applied along the last axis.
ALONG_AXIS = {
    "softmax": activations.softmax,
    "log_softmax": activations.log_softmax,
    "glu": activations.glu,
    "sparsemax": activations.sparsemax,
}


def _reference(fn, x32):
    """``fn`` in float64 at the float32 points, with results beyond float32's range as +-inf
    (exp(100) is 2.7e43: a float32 result can only be inf, the correct overflow)."""
    with np.errstate(over="ignore"):  # exp(1e4) is inf even in float64: that is the answer
        exact = fn(x32.astype(np.float64))
    beyond = np.abs(exact) > np.finfo(np.float32).max
    return np.where(beyond, np.copysign(np.inf, exact), exact)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_float64_reference_in_float32(name):
    function, reference = ELEMENTWISE[name]
    out = function(GRID)
    assert isinstance(out, Tensor)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, _reference(reference, GRID), rtol=RTOL, atol=TINY)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_reference_on_random_inputs(name, rng):
    function, reference = ELEMENTWISE[name]
    x = np.concatenate([rng.uniform(-8, 8, 300), rng.uniform(-1.5, 1.5, 300)]).astype(np.float32)
    np.testing.assert_allclose(function(x).data, _reference(reference, x), rtol=RTOL, atol=TINY)


def _rows_with_extremes():
    """Rows of the grid (even length, for glu) plus random rows, float32."""
    extremes = np.array([[-1e4, -20, -1, 0, 0.5, 3],
                         [1e4, 100, 20, -3, -1e-3, 1e-7],
                         [-100, -100, -100, -100, -100, -100]], dtype=np.float32)
    random = np.random.default_rng(7).normal(0, 2, size=(4, 6)).astype(np.float32)
    return np.concatenate([extremes, random])


def test_softmax_and_log_softmax_match_reference():
    x = _rows_with_extremes()
    np.testing.assert_allclose(activations.softmax(x).data, _ref_softmax(x.astype(float)),
                               rtol=RTOL, atol=TINY)
    np.testing.assert_allclose(activations.log_softmax(x).data,
                               _ref_log_softmax(x.astype(float)), rtol=RTOL, atol=TINY)
    np.testing.assert_allclose(activations.softmax(x, axis=0).data,
                               _ref_softmax(x.astype(float), axis=0), rtol=RTOL, atol=TINY)


def test_glu_matches_reference_on_either_axis():
    x = _rows_with_extremes()
    np.testing.assert_allclose(activations.glu(x).data, _ref_glu(x.astype(float)),
                               rtol=RTOL, atol=TINY)
    tall = x[:6]
    np.testing.assert_allclose(activations.glu(tall, axis=0).data,
                               _ref_glu(tall.astype(float), axis=0), rtol=RTOL, atol=TINY)


def test_sparsemax_matches_bisection_reference():
    random = np.random.default_rng(1).normal(0, 3, size=(200, 6)).astype(np.float32)
    x = np.concatenate([_rows_with_extremes(), random])
    out = activations.sparsemax(x).data
    # Each output is a difference z - tau of numbers below 1 (after the shift by the max), so
    # float32 rounds it *absolutely*, to about an ulp of 1: small outputs near the edge of the
    # support cannot be relatively exact. Two ulps of 1.0 bound that.
    two_ulps = 2 * float(np.finfo(np.float32).eps)
    np.testing.assert_allclose(out, _ref_sparsemax(x.astype(float)), rtol=RTOL, atol=two_ulps)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-6)
    assert (out >= 0).all()


def test_sparsemax_known_values():
    np.testing.assert_allclose(activations.sparsemax([1.0, 0.8, -1.0]).data, [0.6, 0.4, 0.0],
                               rtol=1e-6)
    np.testing.assert_array_equal(activations.sparsemax([1.0, 0.0, 3.0]).data, [0, 0, 1])
    # Ties at the boundary are in the support together.
    np.testing.assert_allclose(activations.sparsemax([0.5, 0.5, 0.5]).data, [1 / 3] * 3)
    on_axis_0 = activations.sparsemax(np.array([[1.0, 0.0], [0.8, 3.0], [-1.0, 0.0]]), axis=0)
    np.testing.assert_allclose(on_axis_0.data, [[0.6, 0.0], [0.4, 1.0], [0.0, 0.0]], rtol=1e-6)


def test_spec_reference_values():
    assert activations.selu(np.float64(1.0)).item() == pytest.approx(1.0507009873554805, rel=1e-15)
    assert activations.selu(np.array(-np.inf)).item() == pytest.approx(-1.7580993408473768,
                                                                       rel=1e-15)
    one = np.float32(1.0)  # the spec's values are Keras's float32 results
    assert activations.gelu(one).data == np.float32(0.84134471)
    assert activations.gelu(one, approximate=True).data == np.float32(0.84119201)
    assert activations.hard_sigmoid([1.0]).data[0] == np.float32(0.6666667)
    relu = activations.relu([-5.0, 0.5, 1.0, 2.5, 5.0], negative_slope=0.1, max_value=2.0,
                            threshold=1.0)
    np.testing.assert_allclose(relu.data, [-0.6, -0.05, 0.0, 2.0, 2.0], rtol=1e-6)
    assert activations.leaky_relu([-1.0]).data[0] == np.float32(-0.2)  # 0.2, not the layer's 0.3


def test_relu_keras_docstring_examples():
    x = [-10, -5, 0.0, 5, 10]
    np.testing.assert_array_equal(activations.relu(x).data, [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, negative_slope=0.5).data,
                                  [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0).data, [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0).data, [0, 0, 0, 0, 10])


def test_relu_accepts_keras_2_alpha():
    x = np.array([-2.0, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(activations.relu(x, alpha=0.5).data,
                                  activations.relu(x, negative_slope=0.5).data)
    with pytest.raises(ValueError, match="negative_slope=0.1.*alpha=0.5"):
        activations.relu(x, negative_slope=0.1, alpha=0.5)


# ----- dtypes and conversion -----

def test_input_kinds_and_dtypes():
    assert activations.relu([1.0, -1.0]).dtype == np.float32  # Python lists become floatx
    assert activations.relu(2).dtype == np.float32
    assert activations.sigmoid(np.array([1, 2])).dtype == np.float32  # ints are cast
    assert activations.gelu(np.zeros(3)).dtype == np.float64  # float64 stays float64
    assert activations.tanh_shrink(np.zeros(3, np.float16)).dtype == np.float16
    with pytest.raises(TypeError, match="dtype <U1"):
        activations.relu(np.array(["a"]))


def test_linear_returns_the_same_tensor():
    x = Tensor(np.ones(3, np.float32))
    assert activations.linear(x) is x


def test_softmax_and_sigmoid_keep_their_logits():
    x = Tensor(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]], np.float32))
    assert activations.softmax(x).logits is x
    assert activations.sigmoid(x).logits is x
    # Crossentropy reads logits over the last axis only, so another axis records none.
    assert activations.softmax(x, axis=0).logits is None


def test_softmax_works_on_1d_and_on_several_axes():
    np.testing.assert_allclose(activations.softmax([1.0, 1.0, 1.0, 1.0]).data, [0.25] * 4)
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    out = activations.softmax(x, axis=(1, 2)).data
    np.testing.assert_allclose(out, _ref_softmax(x.reshape(1, 12).astype(float)).reshape(x.shape),
                               rtol=1e-6)


def test_softmax_over_an_axis_of_size_one_warns_like_keras():
    with pytest.warns(UserWarning, match="Did you mean to use a sigmoid"):
        activations.softmax(np.zeros((4, 1), np.float32))


def test_glu_needs_an_even_axis():
    with pytest.raises(ValueError, match=r"x.shape=\(2, 3\) with axis=-1 of size 3"):
        activations.glu(np.zeros((2, 3)))


def test_squareplus_refuses_negative_b():
    with pytest.raises(ValueError, match="b=-1.0"):
        activations.squareplus([1.0], b=-1)


# ----- stability at +-1e4: no warning, no NaN, forward and backward -----

ALL_CALLS = {**{name: fn for name, (fn, _) in ELEMENTWISE.items()}, **ALONG_AXIS}


@pytest.mark.parametrize("name", ALL_CALLS)
def test_extreme_inputs_give_no_warning_and_no_nan(name):
    x = Tensor(np.array([[-1e4, 1e4], [-1e4, -1e4], [1e4, 1e4], [0.0, -0.0]], np.float32),
               requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ALL_CALLS[name](x)
        out.backward(np.ones(out.shape, np.float32))
    assert out.dtype == np.float32
    assert not np.isnan(out.data).any()
    assert not np.isnan(x.grad).any()
    if name != "exponential":  # exp(1e4) is inf; everything else is finite
        assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()


# ----- gradients: finite differences in float64, away from kinks -----

# Kinks sit at 0, +-0.5, +-0.75, +-1, +-2, +-3 and 6 for the functions and arguments above.
SMOOTH_POINTS = np.array([[-5.1, -3.7, -2.2, -1.3, -0.8, -0.3],
                          [0.2, 0.4, 0.8, 1.6, 2.9, 4.4]])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_gradients_match_finite_differences(name):
    function = ELEMENTWISE[name][0]
    assert check_grads(function, SMOOTH_POINTS)
    assert check_grads(function, SMOOTH_POINTS * 1e-3)  # small values (series branches)


@pytest.mark.parametrize("name", ALONG_AXIS)
def test_axis_gradients_match_finite_differences(name, rng):
    x = rng.normal(0, 1.5, size=(3, 6))
    assert check_grads(ALONG_AXIS[name], x)
    assert check_grads(lambda t: ALONG_AXIS[name](t, axis=0), x[:2])


def test_gradients_at_zero_follow_the_smooth_derivative():
    for function, expected in ((activations.softplus, 0.5), (activations.log_sigmoid, 0.5),
                               (activations.celu, 1.0), (activations.mish, 0.6),
                               (activations.gelu, 0.5), (activations.silu, 0.5)):
        x = Tensor(np.zeros(1), requires_grad=True)
        function(x).backward(np.ones(1))
        assert x.grad[0] == pytest.approx(expected, rel=1e-6), function.__name__


def test_relu6_gradient_is_zero_at_both_corners():
    x = Tensor(np.array([0.0, 3.0, 6.0]), requires_grad=True)
    activations.relu6(x).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


# ----- get / serialize / deserialize -----

FUNCTION_NAMES = [n for n in KERAS_3_NAMES if n not in ("get", "serialize", "deserialize")]
CANONICAL = {"swish": "silu", "hard_swish": "hard_silu"}


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_get_serialize_deserialize_round_trip(name):
    function = activations.get(name)
    assert function is getattr(activations, name)
    serialized = activations.serialize(function)
    assert serialized == CANONICAL.get(name, name)
    assert activations.deserialize(serialized) is function
    assert activations.get(serialized) is function


def test_get_special_identifiers():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu

    def custom(x):
        return x

    assert activations.get(custom) is custom
    keras_3_dict = {"module": "keras.activations", "class_name": "function", "config": "relu",
                    "registered_name": "relu"}
    assert activations.get(keras_3_dict) is activations.relu
    assert activations.get({"class_name": "softmax", "config": {}}) is activations.softmax


def test_get_is_case_sensitive_and_lists_valid_names():
    with pytest.raises(ValueError) as error:
        activations.get("ReLU")
    message = str(error.value)
    assert "'ReLU'" in message and "case-sensitive: did you mean 'relu'?" in message
    for name in FUNCTION_NAMES:
        assert name in message


def test_get_rejects_what_it_cannot_interpret():
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        activations.get(42)
    with pytest.raises(ValueError, match="class_name"):
        activations.deserialize({"config": "relu"})


def test_custom_functions_serialize_by_name_and_deserialize_with_custom_objects():
    def scaled_tanh(x):
        return activations.tanh(x) * 2.0

    assert activations.serialize(scaled_tanh) == "scaled_tanh"
    assert activations.deserialize("scaled_tanh", {"scaled_tanh": scaled_tanh}) is scaled_tanh
    registered = {"module": None, "class_name": "function", "config": "scaled_tanh",
                  "registered_name": "my_package>scaled_tanh"}
    found = activations.deserialize(registered, {"my_package>scaled_tanh": scaled_tanh})
    assert found is scaled_tanh
    with pytest.raises(ValueError, match="scaled_tanh"):
        activations.deserialize("scaled_tanh")
    with pytest.raises(ValueError, match="cannot be serialized"):
        activations.serialize(lambda x: x)


# ----- the public surface -----

def test_dir_lists_exactly_keras_3_names():
    public = [name for name in dir(activations) if not name.startswith("__")]
    assert public == KERAS_3_NAMES
    assert sorted(activations.__all__) == KERAS_3_NAMES
    assert set(LECTURE_NAMES) <= set(public)
    for dunder in ("__doc__", "__file__", "__name__", "__spec__"):
        assert dunder in dir(activations)


def test_every_public_name_is_callable_and_documented_with_an_example():
    for name in KERAS_3_NAMES:
        function = getattr(activations, name)
        assert callable(function)
        assert ">>>" in (function.__doc__ or ""), name


def test_signatures_and_defaults_follow_keras_3():
    expected = {
        "relu": "(x, negative_slope=0.0, max_value=None, threshold=0.0, *, alpha=None)",
        "leaky_relu": "(x, negative_slope=0.2)",
        "elu": "(x, alpha=1.0)", "celu": "(x, alpha=1.0)",
        "gelu": "(x, approximate=False)",
        "softmax": "(x, axis=-1)", "log_softmax": "(x, axis=-1)", "glu": "(x, axis=-1)",
        "sparsemax": "(x, axis=-1)",
        "hard_shrink": "(x, threshold=0.5)", "soft_shrink": "(x, threshold=0.5)",
        "threshold": "(x, threshold, default_value)",
        "squareplus": "(x, b=4)",
        "selu": "(x)", "tanh_shrink": "(x)", "sparse_plus": "(x)",
        "deserialize": "(config, custom_objects=None)",
    }
    for name, signature in expected.items():
        parameters = inspect.signature(getattr(activations, name)).replace(
            return_annotation=inspect.Signature.empty).parameters.values()
        plain = ", ".join(str(p.replace(annotation=inspect.Parameter.empty)) for p in parameters)
        keyword_only = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
        if keyword_only:
            first = list(parameters).index(keyword_only[0])
            names = [str(p.replace(annotation=inspect.Parameter.empty)) for p in parameters]
            plain = ", ".join(names[:first] + ["*"] + names[first:])
        assert f"({plain})" == signature, name


def test_docstring_examples_run():
    result = doctest.testmod(activations)
    assert result.attempted > 30 and result.failed == 0
