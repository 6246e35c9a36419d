"""Losses: Keras's observed numbers, reductions, the logits shortcut, gradients, target checks."""

import numpy as np
import pytest

from numkeras import losses
from numkeras.backprop import Tensor, check_grads, ops

F32 = np.float32


def f32(x):
    return np.asarray(x, dtype=F32)


def softmax_output(z):
    """What the softmax activation hands the loss: probabilities that remember their logits."""
    p = ops.softmax(z)
    p.logits = z
    return p


def sigmoid_output(z):
    p = ops.sigmoid(z)
    p.logits = z
    return p


# ----- observed Keras values (spec 4.3) -----


def test_sparse_crossentropy_observed_values():
    y_pred = f32([[0.2, 0.2, 0.6], [0.5, 0.5, 1.0], [1.0, 0.0, 0.0]])
    out = losses.sparse_categorical_crossentropy([2, 0, 1], y_pred)
    assert out.dtype == F32
    np.testing.assert_allclose(out.numpy(), [0.5108256, 1.3862942, 16.118095], rtol=1e-6)


def test_binary_crossentropy_observed_keras3_value():
    out = losses.binary_crossentropy(f32([0, 1]), f32([1.0, 0.7]))
    assert out.shape == () and out.dtype == F32
    assert float(out) == pytest.approx(8.149529, rel=1e-6)


def test_sum_over_batch_size_divisor_ignores_sample_weights():
    y_pred = f32([[0.2, 0.2, 0.6], [0.5, 0.5, 1.0], [1.0, 0.0, 0.0]])
    loss = losses.SparseCategoricalCrossentropy()
    value = loss([2, 0, 1], y_pred, sample_weight=[1.0, 0.0, 0.0])
    assert float(value) == pytest.approx(0.5108256 / 3, rel=1e-6)
    assert round(float(value), 4) == 0.1703


KERAS_DOC_TRUE = [1, 2]
KERAS_DOC_PRED = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]


@pytest.mark.parametrize("reduction, expected", [
    ("sum_over_batch_size", 1.177), ("mean", 1.177), ("sum", 2.354), ("auto", 1.177)])
def test_keras_documented_crossentropy_reductions(reduction, expected):
    sparse = losses.SparseCategoricalCrossentropy(reduction=reduction)
    dense = losses.CategoricalCrossentropy(reduction=reduction)
    one_hot = np.eye(3)[KERAS_DOC_TRUE]
    assert float(sparse(KERAS_DOC_TRUE, f32(KERAS_DOC_PRED))) == pytest.approx(expected, abs=1e-3)
    assert float(dense(one_hot, f32(KERAS_DOC_PRED))) == pytest.approx(expected, abs=1e-3)


def test_keras_documented_weighted_and_unreduced_values():
    loss = losses.SparseCategoricalCrossentropy()
    weighted = loss(KERAS_DOC_TRUE, f32(KERAS_DOC_PRED), sample_weight=np.array([0.3, 0.7]))
    assert float(weighted) == pytest.approx(0.814, abs=1e-3)
    per_sample = losses.SparseCategoricalCrossentropy(reduction=None)(KERAS_DOC_TRUE,
                                                                      f32(KERAS_DOC_PRED))
    np.testing.assert_allclose(per_sample.numpy(), [-np.log(0.95), -np.log(0.1)], rtol=1e-5)


def test_keras_documented_binary_crossentropy_values():
    y_true = [[0, 1], [0, 0]]
    logits = f32([[-18.6, 0.51], [2.94, -12.8]])
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert float(bce(y_true, logits)) == pytest.approx(0.8654, abs=2e-4)
    assert float(bce(y_true, logits, sample_weight=[0.8, 0.2])) == pytest.approx(0.243, abs=1e-3)
    total = losses.BinaryCrossentropy(from_logits=True, reduction="sum")(y_true, logits)
    assert float(total) == pytest.approx(1.730, abs=1e-3)
    none = losses.BinaryCrossentropy(from_logits=True, reduction=None)(y_true, logits)
    np.testing.assert_allclose(none.numpy(), [0.235, 1.496], atol=1e-3)
    probs = losses.binary_crossentropy(y_true, f32([[0.6, 0.4], [0.4, 0.6]]))
    np.testing.assert_allclose(probs.numpy(), [0.916, 0.714], atol=1e-3)


# ----- hand-computed values of every loss -----


def test_regression_losses_by_hand():
    t = np.array([[0.0, 1.0], [2.0, -1.0]])
    p = f32([[0.5, 3.0], [2.0, 1.0]])
    e = p - t
    np.testing.assert_allclose(losses.mean_squared_error(t, p).numpy(), [2.125, 2.0])
    np.testing.assert_allclose(losses.mean_absolute_error(t, p).numpy(), [1.25, 1.0])
    np.testing.assert_allclose(losses.huber(t, p).numpy(),
                               [(0.125 + 1.5) / 2, (0.0 + 1.5) / 2])
    np.testing.assert_allclose(losses.huber(t, p, delta=3.0).numpy(), np.mean(0.5 * e * e, -1))
    np.testing.assert_allclose(losses.log_cosh(t, p).numpy(), np.mean(np.log(np.cosh(e)), -1),
                               rtol=1e-6)
    mape = 100 * np.mean(np.abs(e) / np.maximum(np.abs(t), 1e-7), -1)
    np.testing.assert_allclose(losses.mean_absolute_percentage_error(t, p).numpy(), mape,
                               rtol=1e-6)


def test_msle_poisson_kld_by_hand():
    t = np.array([[0.0, 3.0], [1.0, 2.0]])
    p = f32([[1.0, 1.0], [0.5, 4.0]])
    msle = np.mean((np.log1p(p) - np.log1p(np.maximum(t, 1e-7))) ** 2, -1)
    np.testing.assert_allclose(losses.mean_squared_logarithmic_error(t, p).numpy(), msle,
                               rtol=1e-5)
    np.testing.assert_allclose(losses.poisson(t, p).numpy(),
                               np.mean(p - t * np.log(p + 1e-7), -1), rtol=1e-6)
    q_true, q_pred = np.array([[0.2, 0.8]]), f32([[0.5, 0.5]])
    kld = np.sum(q_true * np.log(q_true / q_pred), -1)
    np.testing.assert_allclose(losses.kl_divergence(q_true, q_pred).numpy(), kld, rtol=1e-6)
    # A zero target contributes eps * log(eps / p): (almost) nothing.
    assert float(losses.kl_divergence([[0.0, 1.0]], f32([[0.5, 0.5]]))[0]) == pytest.approx(
        np.log(2.0), rel=1e-5)


def test_hinge_family_by_hand():
    p = f32([[0.3, -2.0, 0.8]])
    # 0/1 labels become -1/+1.
    np.testing.assert_allclose(losses.hinge([[0, 1, 1]], p).numpy(), [(1.3 + 3.0 + 0.2) / 3],
                               rtol=1e-6)
    np.testing.assert_allclose(losses.hinge([[-1, 1, 1]], p).numpy(), [(1.3 + 3.0 + 0.2) / 3],
                               rtol=1e-6)
    np.testing.assert_allclose(losses.squared_hinge([[0, 1, 1]], p).numpy(),
                               [(1.69 + 9.0 + 0.04) / 3], rtol=1e-6)
    # pos = 0.8, neg = max(0.3, -2.0) = 0.3: max(0.3 - 0.8 + 1, 0) = 0.5
    np.testing.assert_allclose(losses.categorical_hinge([[0, 0, 1]], p).numpy(), [0.5],
                               rtol=1e-6)


def test_cosine_similarity_keras_example_and_zero_vector():
    out = losses.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]],
                                   f32([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [1.0, 2.0]]))
    np.testing.assert_allclose(out.numpy(), [0.0, -1.0, 1.0, 0.0], atol=1e-6)


def test_label_smoothing():
    p = f32([[0.7, 0.2, 0.1]])
    smoothed = np.array([[0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3]])
    expected = -np.sum(smoothed * np.log(p), -1)
    out = losses.categorical_crossentropy([[1, 0, 0]], p, label_smoothing=0.1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    b = f32([[0.7, 0.2]])
    t = np.array([[1.0, 0.0]]) * 0.8 + 0.1
    expected = -np.mean(t * np.log(b) + (1 - t) * np.log(1 - b), -1)
    out = losses.binary_crossentropy([[1, 0]], b, label_smoothing=0.2)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_probabilities_are_renormalised_and_clipped():
    # Rows that do not sum to 1 are normalised first, then clipped.
    out = losses.categorical_crossentropy([[1, 0, 0], [0, 1, 0]],
                                          f32([[0.5, 0.5, 1.0], [1.0, 0.0, 0.0]]))
    np.testing.assert_allclose(out.numpy(), [np.log(4.0), -np.log(1e-7)], rtol=1e-6)


def test_sparse_labels_of_shape_n_1_are_squeezed_and_floats_accepted():
    y_pred = f32([[0.2, 0.2, 0.6], [0.1, 0.7, 0.2]])
    base = losses.sparse_categorical_crossentropy([2, 1], y_pred).numpy()
    np.testing.assert_array_equal(
        losses.sparse_categorical_crossentropy(np.array([[2], [1]]), y_pred).numpy(), base)
    np.testing.assert_array_equal(
        losses.sparse_categorical_crossentropy(np.array([[2.0], [1.0]]), y_pred).numpy(), base)
    assert float(losses.SparseCategoricalCrossentropy()([[2], [1]], y_pred)) == pytest.approx(
        base.mean())


def test_sparse_class_axis_other_than_last():
    rng = np.random.default_rng(0)
    p = rng.random((2, 4, 3)).astype(F32)  # classes on axis 1
    labels = np.array([[0, 3, 1], [2, 2, 0]])
    moved = np.moveaxis(p, 1, -1)
    expected = losses.sparse_categorical_crossentropy(labels, moved).numpy()
    out = losses.sparse_categorical_crossentropy(labels, p, axis=1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    one_hot = np.moveaxis(np.eye(4)[labels], -1, 1)
    out = losses.categorical_crossentropy(one_hot, p, axis=1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_ignore_class_drops_samples_from_value_and_mean():
    y_pred = f32([[0.2, 0.2, 0.6], [0.1, 0.7, 0.2], [0.3, 0.3, 0.4]])
    out = losses.sparse_categorical_crossentropy([2, -1, 1], y_pred, ignore_class=-1)
    np.testing.assert_allclose(out.numpy(), [-np.log(0.6), 0.0, -np.log(0.3)], rtol=1e-6)
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    value = loss([2, -1, 1], y_pred)
    assert float(value) == pytest.approx((-np.log(0.6) - np.log(0.3)) / 2, rel=1e-6)
    total = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction="sum")
    assert float(total([2, -1, 1], y_pred)) == pytest.approx(-np.log(0.6) - np.log(0.3),
                                                             rel=1e-6)


# ----- dtypes -----

ALL_FUNCTIONS = [
    losses.mean_squared_error, losses.mean_absolute_error, losses.mean_absolute_percentage_error,
    losses.mean_squared_logarithmic_error, losses.huber, losses.log_cosh, losses.kl_divergence,
    losses.poisson, losses.hinge, losses.squared_hinge, losses.categorical_hinge,
    losses.cosine_similarity, losses.binary_crossentropy, losses.categorical_crossentropy,
]


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prediction_dtype_is_kept(fn, dtype):
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # float64 targets must not upcast
    p = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]], dtype=dtype)
    out = fn(t, p)
    assert out.dtype == dtype and out.shape == (2,)
    assert losses.sparse_categorical_crossentropy([1, 0], p).dtype == dtype


def test_lists_become_floatx():
    assert losses.mean_squared_error([[1.0]], [[0.5]]).dtype == F32


# ----- reductions -----


def test_all_reductions_by_hand():
    values = f32([[1.0, 3.0], [2.0, 2.0], [4.0, 0.0]])  # per-sample MSE vs zeros: 5, 4, 8
    t = np.zeros((3, 2))
    w = np.array([1.0, 2.0, 0.5])
    expected = {"sum_over_batch_size": 17 / 3, "mean": 17 / 3, "sum": 17.0}
    for reduction, value in expected.items():
        loss = losses.MeanSquaredError(reduction=reduction)
        assert float(loss(t, values)) == pytest.approx(value, rel=1e-6)
    weighted = 5 * 1.0 + 4 * 2.0 + 8 * 0.5
    assert float(losses.MeanSquaredError()(t, values, sample_weight=w)) == pytest.approx(
        weighted / 3, rel=1e-6)
    mws = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert float(mws(t, values, sample_weight=w)) == pytest.approx(weighted / 3.5, rel=1e-6)
    assert float(mws(t, values)) == pytest.approx(17 / 3, rel=1e-6)  # no weights: plain mean
    assert float(mws(t, values, sample_weight=np.zeros(3))) == 0.0  # divide_no_nan
    for none in ("none", None):
        out = losses.MeanSquaredError(reduction=none)(t, values, sample_weight=w)
        np.testing.assert_allclose(out.numpy(), [5.0, 8.0, 4.0])


def test_sample_weight_shapes():
    t, p = np.zeros((3, 2)), f32([[1.0, 3.0], [2.0, 2.0], [4.0, 0.0]])
    loss = losses.MeanSquaredError(reduction="sum")
    column = loss(t, p, sample_weight=np.array([[1.0], [0.0], [1.0]]))
    assert float(column) == pytest.approx(13.0)
    per_element = losses.MeanAbsoluteError(reduction=None)
    elementwise = per_element(t[:, :, None], p[:, :, None], sample_weight=np.ones((3, 2)))
    assert elementwise.shape == (3, 2)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        loss(t, p, sample_weight=np.ones(4))


def test_invalid_reduction_names_the_choices():
    with pytest.raises(ValueError, match="reduction.*'sum_over_batch_size'"):
        losses.MeanSquaredError(reduction="average")


def test_loss_call_returns_scalar_tensor_with_gradient():
    p = Tensor(f32([[0.2, 0.8], [0.6, 0.4]]), requires_grad=True)
    value = losses.MeanSquaredError()([[0.0, 1.0], [1.0, 0.0]], p)
    assert isinstance(value, Tensor) and value.shape == () and value.dtype == F32
    value.backward()
    np.testing.assert_allclose(p.grad, 2 * (p.numpy() - [[0, 1], [1, 0]]) / 4, rtol=1e-6)


# ----- logits: from_logits and the softmax/sigmoid shortcut -----


def test_from_logits_agrees_with_probabilities_when_not_saturated():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 4))
    labels = np.array([0, 3, 2, 1, 1])
    probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(labels, z, from_logits=True).numpy(),
        losses.sparse_categorical_crossentropy(labels, probs).numpy(), rtol=1e-10)
    one_hot = np.eye(4)[labels]
    np.testing.assert_allclose(
        losses.categorical_crossentropy(one_hot, z, from_logits=True).numpy(),
        losses.categorical_crossentropy(one_hot, probs).numpy(), rtol=1e-10)
    targets = rng.random((5, 4))
    np.testing.assert_allclose(
        losses.binary_crossentropy(targets, z, from_logits=True).numpy(),
        losses.binary_crossentropy(targets, 1 / (1 + np.exp(-z))).numpy(), rtol=1e-10)


def test_sparse_shortcut_is_exactly_the_fused_op():
    z = Tensor(f32([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]), requires_grad=True)
    labels = np.array([2, 0])
    shortcut = losses.sparse_categorical_crossentropy(labels, softmax_output(z))
    fused = ops.sparse_softmax_cross_entropy(z, labels)
    np.testing.assert_array_equal(shortcut.numpy(), fused.numpy())
    logits = losses.sparse_categorical_crossentropy(labels, z, from_logits=True)
    np.testing.assert_array_equal(logits.numpy(), fused.numpy())
    # The gradient goes straight to the logits: softmax - one_hot, averaged over the batch.
    losses.SparseCategoricalCrossentropy()(labels, softmax_output(z)).backward()
    probs = np.exp(z.numpy()) / np.exp(z.numpy()).sum(-1, keepdims=True)
    np.testing.assert_allclose(z.grad, (probs - np.eye(3)[labels]) / 2, rtol=1e-5, atol=1e-7)


def test_categorical_and_binary_shortcuts_are_exact():
    z = Tensor(f32([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]))
    t = np.array([[0.0, 0.0, 1.0], [0.2, 0.3, 0.5]], dtype=F32)
    shortcut = losses.categorical_crossentropy(t, softmax_output(z))
    np.testing.assert_array_equal(shortcut.numpy(),
                                  (-ops.sum(t * ops.log_softmax(z), axis=-1)).numpy())
    np.testing.assert_array_equal(
        losses.binary_crossentropy(t, sigmoid_output(z)).numpy(),
        losses.binary_crossentropy(t, z, from_logits=True).numpy())


def test_shortcut_differs_only_for_saturated_predictions():
    z = Tensor(f32([[0.0, 30.0]]))
    clipped = losses.sparse_categorical_crossentropy([0], ops.softmax(z))
    assert float(clipped[0]) == pytest.approx(16.118095, rel=1e-6)  # -log(1e-7)
    exact = losses.sparse_categorical_crossentropy([0], softmax_output(z))
    assert float(exact[0]) == pytest.approx(30.0, rel=1e-6)
    saturated = Tensor(f32([[40.0]]))
    assert float(losses.binary_crossentropy([[0.0]], sigmoid_output(saturated))[0]) == \
        pytest.approx(40.0, rel=1e-6)
    assert float(losses.binary_crossentropy([[0.0]], ops.sigmoid(saturated))[0]) == \
        pytest.approx(15.942385, rel=1e-6)  # -log(1 - (1 - 1e-7)) in float32


def test_shortcut_is_not_taken_across_activations():
    # A sigmoid's logits are not softmax logits: categorical losses must use the values.
    z = Tensor(f32([[0.5, 1.5, -0.5]]))
    p = sigmoid_output(z)
    expected = -np.log(p.numpy()[0, 1] / p.numpy().sum())
    assert float(losses.sparse_categorical_crossentropy([1], p)[0]) == pytest.approx(
        expected, rel=1e-6)
    q = softmax_output(z)
    plain = losses.binary_crossentropy([[0.0, 1.0, 0.0]], ops.softmax(z))
    np.testing.assert_array_equal(losses.binary_crossentropy([[0.0, 1.0, 0.0]], q).numpy(),
                                  plain.numpy())


def test_from_logits_on_an_activated_output_warns():
    z = Tensor(f32([[0.5, 1.5]]))
    with pytest.warns(UserWarning, match="does not represent logits"):
        losses.categorical_crossentropy([[0, 1]], softmax_output(z), from_logits=True)


def test_binary_logits_gradient_at_exactly_zero():
    # Zero-initialised output layers give z == 0 exactly: the gradient is sigmoid(0) - t.
    z = Tensor(np.zeros((1, 2)), requires_grad=True)
    losses.binary_crossentropy([[0.0, 1.0]], z, from_logits=True).sum().backward()
    np.testing.assert_allclose(z.grad, [[0.25, -0.25]])  # (0.5 - t) / 2 (mean over 2)


def test_log_cosh_gradient_at_zero_error_is_zero():
    p = Tensor(np.ones((1, 2)), requires_grad=True)
    losses.log_cosh([[1.0, 1.0]], p).sum().backward()
    np.testing.assert_array_equal(p.grad, [[0.0, 0.0]])


# ----- gradient checks in float64 -----

RNG = np.random.default_rng(7)
T_BIN = RNG.integers(0, 2, size=(4, 3)).astype(np.float64)
T_SOFT = RNG.random((4, 3))
T_ONE_HOT = np.eye(3)[[0, 2, 1, 1]]
LABELS = np.array([0, 2, 1, 1])
P_PROB = RNG.uniform(0.1, 0.9, size=(4, 3))
P_ANY = RNG.normal(size=(4, 3)) * 2  # errors away from 0 and from Huber's delta below
P_POS = RNG.uniform(0.2, 3.0, size=(4, 3))

GRAD_CASES = [
    ("mse", lambda p: losses.mean_squared_error(T_SOFT, p), P_ANY),
    ("mae", lambda p: losses.mean_absolute_error(T_SOFT, p), P_ANY),
    ("mape", lambda p: losses.mean_absolute_percentage_error(T_SOFT + 0.5, p), P_ANY),
    ("msle", lambda p: losses.mean_squared_logarithmic_error(T_SOFT, p), P_POS),
    ("huber", lambda p: losses.huber(T_SOFT, p, delta=0.8), P_ANY),
    ("log_cosh", lambda p: losses.log_cosh(T_SOFT, p), P_ANY),
    ("kld", lambda p: losses.kl_divergence(T_SOFT, p), P_PROB),
    ("poisson", lambda p: losses.poisson(T_SOFT, p), P_POS),
    ("hinge", lambda p: losses.hinge(T_BIN, p), P_PROB * 3),
    ("squared_hinge", lambda p: losses.squared_hinge(T_BIN, p), P_PROB * 3),
    ("categorical_hinge", lambda p: losses.categorical_hinge(T_ONE_HOT, p), P_PROB),
    ("cosine", lambda p: losses.cosine_similarity(T_SOFT, p), P_ANY),
    ("bce", lambda p: losses.binary_crossentropy(T_SOFT, p, label_smoothing=0.1), P_PROB),
    ("bce_logits", lambda z: losses.binary_crossentropy(T_SOFT, z, from_logits=True), P_ANY),
    ("bce_shortcut", lambda z: losses.binary_crossentropy(T_SOFT, sigmoid_output(z)), P_ANY),
    ("cce", lambda p: losses.categorical_crossentropy(T_SOFT, p, label_smoothing=0.1), P_PROB),
    ("cce_logits", lambda z: losses.categorical_crossentropy(T_SOFT, z, from_logits=True),
     P_ANY),
    ("cce_shortcut", lambda z: losses.categorical_crossentropy(T_SOFT, softmax_output(z)),
     P_ANY),
    ("scce", lambda p: losses.sparse_categorical_crossentropy(LABELS, p), P_PROB),
    ("scce_logits", lambda z: losses.sparse_categorical_crossentropy(LABELS, z,
                                                                     from_logits=True), P_ANY),
    ("scce_shortcut", lambda z: losses.sparse_categorical_crossentropy(LABELS, softmax_output(z)),
     P_ANY),
    ("scce_class", lambda p: losses.SparseCategoricalCrossentropy()(LABELS, p,
                                                                   sample_weight=T_SOFT[:, 0]),
     P_PROB),
    ("huber_class", lambda p: losses.Huber(delta=0.8, reduction="sum")(T_SOFT, p), P_ANY),
]


@pytest.mark.parametrize("name, fn, point", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_finite_differences(name, fn, point):
    assert check_grads(fn, point)


# ----- shape handling in the functions -----


def test_targets_of_shape_n_fit_outputs_of_shape_n_1():
    p = f32([[0.5], [2.0]])
    np.testing.assert_allclose(losses.mean_squared_error([1.0, 2.0], p).numpy(), [0.25, 0.0])
    assert float(losses.MeanSquaredError()([1.0, 2.0], p)) == pytest.approx(0.125)


def test_functions_never_broadcast_mismatched_targets():
    with pytest.raises(ValueError, match=r"y_true has shape \(4,\) but y_pred has shape"):
        losses.mean_squared_error(np.zeros(4), np.zeros((4, 10), F32))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(np.zeros(4), np.ones((4, 10), F32))
    with pytest.raises(ValueError, match="one integer label per sample"):
        losses.sparse_categorical_crossentropy(np.zeros((4, 10)), np.ones((4, 10), F32))


def test_sparse_function_rejects_bad_labels_at_call_time():
    p = np.full((2, 3), 1 / 3, F32)
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        losses.sparse_categorical_crossentropy([0, 3], p)
    with pytest.raises(ValueError, match="label -1 is out of range"):
        losses.sparse_categorical_crossentropy([0, -1], p, from_logits=True)
    with pytest.raises(ValueError, match="found the value 0.5"):
        losses.sparse_categorical_crossentropy([0.5, 1], p)


# ----- check_targets -----


def test_check_targets_sparse_messages():
    loss = losses.SparseCategoricalCrossentropy()
    with pytest.raises(ValueError, match=r"label 10 is out of range for 10 classes \(valid "
                                         r"labels are 0 to 9\)") as info:
        loss.check_targets(np.array([0, 3, 10, 9]), (None, 10))
    assert "sparse_categorical_crossentropy" in str(info.value)
    with pytest.raises(ValueError, match=r"found the value 2.5 at index \(1,\)"):
        loss.check_targets(np.array([1.0, 2.5]), (None, 10))
    with pytest.raises(ValueError, match="pass ignore_class=-1"):
        loss.check_targets(np.array([1, -1]), (None, 10))
    with pytest.raises(ValueError, match="look one-hot encoded"):
        loss.check_targets(np.eye(10)[[1, 2]], (None, 10))
    with pytest.raises(ValueError, match="single unit"):
        loss.check_targets(np.array([0, 1]), (None, 1))
    with pytest.raises(ValueError, match="must be numbers"):
        loss.check_targets(np.array(["a", "b"]), (None, 10))
    # Fine: integers, whole floats, (N, 1) labels, a concrete output shape, ignored values.
    loss.check_targets(np.array([0, 9]), (None, 10))
    loss.check_targets(np.array([0.0, 9.0]), (2, 10))
    loss.check_targets(np.array([[0], [9]]), (None, 10))
    losses.SparseCategoricalCrossentropy(ignore_class=255).check_targets(np.array([0, 255]),
                                                                         (None, 10))


def test_check_targets_categorical_messages():
    loss = losses.CategoricalCrossentropy()
    with pytest.raises(ValueError, match=r"look like integer class labels.*to_categorical\(y, 10"):
        loss.check_targets(np.array([1, 2, 3]), (None, 10))
    with pytest.raises(ValueError, match="10 classes in the last axis"):
        loss.check_targets(np.zeros((3, 5)), (None, 10))
    with pytest.raises(ValueError, match="single unit"):
        loss.check_targets(np.zeros((3, 1)), (None, 1))
    loss.check_targets(np.eye(10)[[1, 2, 3]], (None, 10))


def test_check_targets_elementwise_losses():
    for name in ("mse", "mae", "huber", "binary_crossentropy", losses.MeanSquaredError()):
        losses.check_targets(name, np.zeros(5), (None, 1))  # Keras adds the trailing axis
        losses.check_targets(name, np.zeros((5, 1)), (None,))
        losses.check_targets(name, np.zeros((5, 3)), (5, 3))
    with pytest.raises(ValueError, match=r"mean_squared_error: targets of shape \(5,\) do not "
                                         r"match the model output of shape \(None, 10\).*never "
                                         r"broadcast.*sparse_categorical_crossentropy"):
        losses.check_targets("mse", np.arange(5), (None, 10))
    with pytest.raises(ValueError, match="change the number of units"):
        losses.check_targets("mae", np.zeros((5, 3)), (None, 4))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], but found 9.*Dense\(10"):
        losses.check_targets("binary_crossentropy", np.array([0, 9]), (None, 1))
    with pytest.raises(ValueError, match="5 targets for 6 predictions"):
        losses.check_targets(lambda t, p: p, np.zeros(5), (6, 1))


def test_check_targets_resolves_crossentropy_by_shape():
    losses.check_targets("ce", np.array([0, 1]), (None, 3))
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        losses.check_targets("crossentropy", np.array([0, 3]), (None, 3))


# ----- get / serialize / resolve -----


def test_aliases_are_the_same_functions():
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mae is losses.mean_absolute_error
    assert losses.mape is losses.mean_absolute_percentage_error
    assert losses.msle is losses.mean_squared_logarithmic_error
    assert losses.kld is losses.kl_divergence is losses.kullback_leibler_divergence
    assert losses.huber_loss is losses.huber and losses.logcosh is losses.log_cosh


def test_get_variants():
    assert losses.get(None) is None
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("BCE") is losses.binary_crossentropy
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    instance = losses.Huber(delta=2.0)
    assert losses.get(instance) is instance
    custom = lambda y_true, y_pred: y_pred  # noqa: E731
    assert losses.get(custom) is custom
    from_dict = losses.get({"class_name": "CategoricalCrossentropy",
                            "config": {"from_logits": True}})
    assert from_dict.from_logits is True


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown loss 'mean_sqared_error'.*Did you mean "
                                         r"'mean_squared_error'.*Valid names:.*mse"):
        losses.get("mean_sqared_error")
    with pytest.raises(ValueError, match="Could not interpret loss"):
        losses.get(42)


LOSS_INSTANCES = [
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="sum"),
    losses.CategoricalCrossentropy(label_smoothing=0.2, axis=1, name="cce"),
    losses.BinaryCrossentropy(from_logits=True, reduction=None),
    losses.MeanSquaredError(reduction="mean_with_sample_weight"),
    losses.MeanAbsoluteError(), losses.MeanAbsolutePercentageError(),
    losses.MeanSquaredLogarithmicError(), losses.Huber(delta=2.5), losses.LogCosh(),
    losses.KLDivergence(), losses.Poisson(), losses.Hinge(), losses.SquaredHinge(),
    losses.CategoricalHinge(), losses.CosineSimilarity(axis=0),
    losses.LossFunctionWrapper(losses.huber, delta=0.3, name="my_huber"),
]


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=lambda loss: type(loss).__name__)
def test_serialize_round_trip(loss):
    config = losses.serialize(loss)
    assert config["module"] == "keras.losses"
    assert config["class_name"] == type(loss).__name__
    restored = losses.deserialize(config)
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    t, p = np.array([[0.0, 1.0], [1.0, 0.0]]), f32([[0.3, 0.7], [0.6, 0.4]])
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        t = np.array([1, 0])
    np.testing.assert_array_equal(np.asarray(restored(t, p)), np.asarray(loss(t, p)))


def test_keras_configs():
    assert losses.SparseCategoricalCrossentropy().get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "ignore_class": None, "axis": -1}
    assert losses.BinaryCrossentropy().get_config() == {
        "name": "binary_crossentropy", "reduction": "sum_over_batch_size", "from_logits": False,
        "label_smoothing": 0.0, "axis": -1}
    assert losses.MeanSquaredError().get_config() == {"name": "mean_squared_error",
                                                      "reduction": "sum_over_batch_size"}
    assert losses.Huber().name == "huber_loss"
    assert losses.serialize(losses.mse) == "mean_squared_error"
    assert losses.deserialize("mean_squared_error") is losses.mean_squared_error
    assert losses.deserialize({"module": "keras.losses", "class_name": "function",
                               "config": "mae", "registered_name": "function"}) is losses.mae


def test_resolve_gives_loss_objects():
    mse = losses.resolve("mse")
    assert isinstance(mse, losses.MeanSquaredError)
    assert isinstance(losses.resolve(losses.sparse_categorical_crossentropy),
                      losses.SparseCategoricalCrossentropy)

    def double(y_true, y_pred):
        return 2.0 * losses.mean_absolute_error(y_true, y_pred)

    wrapped = losses.resolve(double)
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "double"
    assert float(wrapped([[1.0]], f32([[0.0]]))) == 2.0
    kinds = {((4,), (4, 1)): losses.BinaryCrossentropy,
             ((4,), (4, 3)): losses.SparseCategoricalCrossentropy,
             ((4, 1), (4, 3)): losses.SparseCategoricalCrossentropy,
             ((4, 3), (4, 3)): losses.CategoricalCrossentropy}
    for (true_shape, pred_shape), cls in kinds.items():
        resolved = losses.resolve("CE", np.zeros(true_shape), pred_shape)
        assert type(resolved) is cls and resolved.name == "CE"


def test_crossentropy_resolves_on_first_call_without_shapes():
    loss = losses.resolve("crossentropy")
    value = loss([2], f32([[0.2, 0.2, 0.6]]))
    assert float(value) == pytest.approx(0.5108256, rel=1e-6)
    assert isinstance(loss.resolved, losses.SparseCategoricalCrossentropy)
    assert losses.serialize(loss) == "crossentropy"


def test_custom_loss_subclass_gets_a_snake_case_name():
    class FocalThing(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(y_pred, axis=-1)

    assert FocalThing().name == "focal_thing"
    assert FocalThing().name == "focal_thing_1"
    assert float(FocalThing(reduction="sum")(None, f32([[1.0, 3.0]]))) == 2.0


def test_fused_mean_path_gives_the_general_paths_numbers_bit_for_bit():
    from numkeras import activations
    from numkeras.backprop import Tensor

    rng = np.random.default_rng(3)
    logits_data = rng.standard_normal((7, 5)).astype("float32")
    labels = rng.integers(0, 5, 7)
    results = []
    for weights in (None, np.ones(7, "float32")):  # sample weights take the general path
        logits = Tensor(logits_data, requires_grad=True)
        loss = losses.SparseCategoricalCrossentropy()(labels, activations.softmax(logits),
                                                      sample_weight=weights)
        loss.backward()
        results.append((loss.data, logits.grad))
    (fused, fused_grad), (general, general_grad) = results
    assert fused.tobytes() == general.tobytes()
    np.testing.assert_array_equal(fused_grad, general_grad)
