"""Metrics: accuracy resolution, running means and weights, precision/recall, get/serialize."""

import numpy as np
import pytest

from numkeras import losses, metrics
from numkeras.backprop import Tensor, ops

F32 = np.float32


# ----- 'accuracy' resolution (spec 4.4) -----


@pytest.mark.parametrize("true_shape, pred_shape, expected", [
    ((8,), (None, 10), metrics.SparseCategoricalAccuracy),     # integer labels, softmax
    ((8, 1), (None, 10), metrics.SparseCategoricalAccuracy),   # labels as a column
    ((8, 10), (None, 10), metrics.CategoricalAccuracy),        # to_categorical labels
    ((8,), (None, 1), metrics.BinaryAccuracy),                 # sigmoid output
    ((8, 1), (8, 1), metrics.BinaryAccuracy),
    ((8, 4, 1), (8, 4, 6), metrics.SparseCategoricalAccuracy),
    ((8, 4, 6), (8, 4, 6), metrics.CategoricalAccuracy),
])
def test_accuracy_resolution_from_shapes(true_shape, pred_shape, expected):
    for name in ("accuracy", "acc", "ACC", "Accuracy"):
        metric = metrics.get(name, y_true=np.zeros(true_shape), y_pred_shape=pred_shape)
        assert type(metric) is expected
        assert metric.name == name  # the user's string stays the name


def test_crossentropy_resolution_from_shapes():
    cases = {((4,), (4, 3)): metrics.SparseCategoricalCrossentropy,
             ((4, 3), (4, 3)): metrics.CategoricalCrossentropy,
             ((4,), (4, 1)): metrics.BinaryCrossentropy}
    for (true_shape, pred_shape), cls in cases.items():
        metric = metrics.get("ce", y_true=np.zeros(true_shape), y_pred_shape=pred_shape)
        assert type(metric) is cls and metric.name == "ce"


def test_accuracy_without_shapes_resolves_on_first_update():
    metric = metrics.get("acc")
    assert metric.name == "acc" and metric.result() == 0.0
    metric.update_state(np.array([2, 0]), np.array([[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]]))
    assert isinstance(metric.resolved, metrics.SparseCategoricalAccuracy)
    assert metric.result() == 0.5
    metric.reset_state()
    assert metric.result() == 0.0
    binary = metrics.get("accuracy")
    binary.update_state(np.array([1, 0]), np.array([[0.9], [0.2]]))
    assert isinstance(binary.resolved, metrics.BinaryAccuracy) and binary.result() == 1.0


# ----- accuracy values -----


def test_binary_accuracy_threshold_is_strict():
    metric = metrics.BinaryAccuracy()
    metric.update_state([[1], [0], [1], [0]], [[0.5], [0.5], [0.51], [0.49]])
    assert metric.result() == 0.75  # exactly 0.5 counts as 0
    high = metrics.BinaryAccuracy(threshold=0.7)
    assert high([1, 1, 0], [0.7, 0.71, 0.2]) == pytest.approx(2 / 3)
    # Targets of shape (N,) against predictions of shape (N, 1).
    assert metrics.BinaryAccuracy()(np.array([1, 0]), np.array([[0.8], [0.9]])) == 0.5


def test_sparse_categorical_accuracy_ties_go_to_the_first_index():
    p = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.3], [0.1, 0.45, 0.45]])
    assert metrics.SparseCategoricalAccuracy()([0, 0, 1], p) == 1.0
    assert metrics.SparseCategoricalAccuracy()([1, 2, 2], p) == 0.0
    assert metrics.SparseCategoricalAccuracy()(np.array([[0.0], [0.0], [1.0]]), p) == 1.0


def test_categorical_and_plain_accuracy():
    y_true = np.eye(3)[[0, 1, 2, 2]]
    p = np.array([[0.8, 0.1, 0.1], [0.2, 0.2, 0.6], [0.1, 0.1, 0.8], [0.5, 0.5, 0.0]])
    assert metrics.CategoricalAccuracy()(y_true, p) == 0.5
    assert metrics.Accuracy()([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75


def test_top_k_accuracy():
    p = np.array([[0.1, 0.5, 0.4, 0.0], [0.3, 0.3, 0.3, 0.1], [0.7, 0.2, 0.1, 0.0]])
    sparse = metrics.SparseTopKCategoricalAccuracy(k=2)
    assert sparse([2, 2, 3], p) == pytest.approx(2 / 3)  # ties at the boundary count
    dense = metrics.TopKCategoricalAccuracy(k=1)
    assert dense(np.eye(4)[[1, 0, 0]], p) == 1.0
    assert metrics.SparseTopKCategoricalAccuracy()([3, 3, 3], p) == 1.0  # k=5 >= 4 classes
    assert metrics.SparseTopKCategoricalAccuracy(k=1)(np.array([[1], [0], [1]]), p) == \
        pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="label 4 is out of range for 4 classes"):
        sparse([4, 0, 0], p)


# ----- running state, weights, reset -----


def test_mean_is_a_weighted_running_mean_over_batches():
    metric = metrics.SparseCategoricalAccuracy()
    p = np.eye(3)[[0, 1, 2, 0, 1]]
    metric.update_state([0, 1, 2], p[:3])  # 3 of 3
    metric.update_state([1, 1], p[3:])  # 1 of 2
    assert metric.result() == pytest.approx(4 / 5)  # not the mean of batch means (0.75)
    metric.reset_state()
    assert metric.result() == 0.0
    metric.update_state([0, 1, 2, 1, 1], p, sample_weight=[1.0, 0.0, 0.0, 3.0, 1.0])
    assert metric.result() == pytest.approx((1.0 + 1.0) / 5.0)


def test_mean_and_sum_with_weights():
    mean = metrics.Mean()
    mean.update_state([[1.0, 3.0], [5.0, 7.0]])  # per-sample means 2 and 6
    assert mean.result() == 4.0
    mean.update_state([10.0], sample_weight=[2.0])
    assert mean.result() == pytest.approx((2 + 6 + 20) / 4)
    total = metrics.Sum()
    total.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[1.0, 0.5])
    assert total.result() == 4.0 + 6.0
    total.reset_state()
    assert total.result() == 0.0


def test_results_are_python_floats_rounded_like_keras_float32():
    metric = metrics.Mean()
    metric.update_state(np.r_[np.ones(119), np.zeros(201)])
    value = metric.result()
    assert type(value) is float and value == 0.37187498807907104  # float32(119/320)
    assert metrics.Mean(dtype="float64")(np.r_[np.ones(119), np.zeros(201)]) == 119 / 320


# ----- loss-valued metrics -----


def test_loss_named_metrics_match_the_losses():
    y_true = np.array([1, 2])
    p = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], F32)
    metric = metrics.get("sparse_categorical_crossentropy")
    assert metric.name == "sparse_categorical_crossentropy"
    metric.update_state(y_true, p)
    loss = losses.SparseCategoricalCrossentropy()(y_true, p)
    assert metric.result() == pytest.approx(float(loss), rel=1e-6)
    mse = metrics.get("mse")
    assert mse.name == "mse" and isinstance(mse, metrics.MeanSquaredError)
    assert mse([[0.0, 1.0]], [[1.0, 1.0]]) == 0.5
    huber = metrics.get("huber")
    assert isinstance(huber, metrics.MeanMetricWrapper) and huber.name == "huber"
    assert huber([[0.0, 0.0]], [[0.5, 3.0]]) == pytest.approx((0.125 + 2.5) / 2)


def test_loss_metric_on_a_softmax_tensor_uses_its_logits_and_builds_no_graph():
    z = Tensor(np.array([[0.0, 30.0]], F32), requires_grad=True)
    p = ops.softmax(z)
    p.logits = z
    metric = metrics.SparseCategoricalCrossentropy()
    assert metric([0], p) == pytest.approx(30.0, rel=1e-6)  # as the training loss would
    assert metrics.SparseCategoricalCrossentropy()([0], np.asarray(p)) == pytest.approx(
        16.118095, rel=1e-6)
    assert z.grad is None


def test_cosine_similarity_metric_is_positive():
    assert metrics.cosine_similarity([[0.0, 2.0]], [[0.0, 1.0]]) == pytest.approx([1.0])
    metric = metrics.get("cosine_similarity")
    assert metric([[1.0, 0.0]], [[-3.0, 0.0]]) == pytest.approx(-1.0)


# ----- precision and recall -----

Y_TRUE = np.array([1, 0, 1, 1, 0, 0])
Y_PRED = np.array([0.9, 0.6, 0.4, 0.7, 0.2, 0.5])
# threshold 0.5: predicted positive = [1, 1, 0, 1, 0, 0] -> tp 2, fp 1, fn 1


def test_precision_and_recall_by_hand():
    assert metrics.Precision()(Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    assert metrics.Recall()(Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    # threshold 0.3: predicted positive = [1, 1, 1, 1, 0, 1] -> tp 3, fp 2, fn 0
    several = metrics.Precision(thresholds=[0.3, 0.5, 0.95])
    assert several(Y_TRUE, Y_PRED) == pytest.approx([3 / 5, 2 / 3, 0.0])  # 0/0 -> 0
    assert metrics.Recall(thresholds=[0.3, 0.95])(Y_TRUE, Y_PRED) == pytest.approx([1.0, 0.0])


def test_precision_recall_weights_accumulate_and_reset():
    precision = metrics.Precision()
    weights = np.array([1.0, 3.0, 1.0, 1.0, 1.0, 1.0])  # the false positive counts 3 times
    precision.update_state(Y_TRUE, Y_PRED, sample_weight=weights)
    assert precision.result() == pytest.approx(2 / 5)
    precision.update_state([1], [0.8])
    assert precision.result() == pytest.approx(3 / 6)
    precision.reset_state()
    assert precision.result() == 0.0


def test_precision_recall_class_id_and_top_k():
    y_true = np.eye(3)[[0, 1, 2, 1]]
    p = np.array([[0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.55, 0.25]])
    # class 1: scores [0.3, 0.2, 0.3, 0.55] > 0.5 -> only sample 3, which is class 1.
    assert metrics.Precision(class_id=1)(y_true, p) == 1.0
    assert metrics.Recall(class_id=1)(y_true, p) == 0.5
    # top_k=1 keeps each row's argmax as the only positive: [0, 0, 2, 1] vs [0, 1, 2, 1].
    assert metrics.Precision(top_k=1)(y_true, p) == pytest.approx(3 / 4)
    assert metrics.Recall(top_k=1)(y_true, p) == pytest.approx(3 / 4)


def test_precision_rejects_logits_and_bad_thresholds():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*sigmoid"):
        metrics.Precision()([1, 0], [2.5, -1.0])
    with pytest.raises(ValueError, match="Threshold values must be in"):
        metrics.Recall(thresholds=[0.5, 1.5])


def test_default_names_are_unique_like_keras():
    assert metrics.Precision().name == "precision"
    assert metrics.Precision().name == "precision_1"
    assert metrics.Recall(name="r").name == "r"


# ----- get / serialize -----


def test_get_variants():
    assert metrics.get(None) is None
    instance = metrics.Recall()
    assert metrics.get(instance) is instance
    assert type(metrics.get(metrics.Precision)) is metrics.Precision
    assert type(metrics.get("Precision")) is metrics.Precision
    assert type(metrics.get("precision")) is metrics.Precision
    named = metrics.get("sparse_categorical_accuracy")
    assert type(named) is metrics.SparseCategoricalAccuracy
    assert named.name == "sparse_categorical_accuracy"
    assert type(metrics.get(metrics.binary_accuracy)) is metrics.BinaryAccuracy

    def double_error(y_true, y_pred):
        return 2 * np.abs(np.subtract(y_true, y_pred))

    custom = metrics.get(double_error)
    assert isinstance(custom, metrics.MeanMetricWrapper) and custom.name == "double_error"
    assert custom([1.0, 2.0], [1.5, 2.0]) == 0.5


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'.*Did you mean "
                                         r"'accuracy'.*Valid names:.*acc.*mse"):
        metrics.get("acuracy")
    with pytest.raises(ValueError, match="Could not interpret metric"):
        metrics.get(3.5)


METRIC_INSTANCES = [
    metrics.Accuracy(), metrics.BinaryAccuracy(threshold=0.7, name="bin"),
    metrics.CategoricalAccuracy(), metrics.SparseCategoricalAccuracy(),
    metrics.TopKCategoricalAccuracy(k=2), metrics.SparseTopKCategoricalAccuracy(k=3),
    metrics.MeanSquaredError(), metrics.MeanAbsoluteError(), metrics.Mean(name="m"),
    metrics.Sum(), metrics.Precision(thresholds=[0.2, 0.8], class_id=1),
    metrics.Recall(top_k=2), metrics.SparseCategoricalCrossentropy(from_logits=True),
    metrics.CategoricalCrossentropy(label_smoothing=0.1), metrics.BinaryCrossentropy(),
    metrics.MeanMetricWrapper(metrics.huber, name="hub", delta=2.0),
]


@pytest.mark.parametrize("metric", METRIC_INSTANCES, ids=lambda m: type(m).__name__)
def test_serialize_round_trip(metric):
    config = metrics.serialize(metric)
    assert config["module"] == "keras.metrics"
    assert config["class_name"] == type(metric).__name__
    restored = metrics.deserialize(config)
    assert type(restored) is type(metric)
    assert restored.get_config() == metric.get_config()


def test_keras_configs_and_string_serialization():
    assert metrics.TopKCategoricalAccuracy().get_config() == {
        "name": "top_k_categorical_accuracy", "dtype": "float32", "k": 5}
    assert metrics.Precision().get_config() == {
        "name": "precision", "dtype": "float32", "thresholds": None, "top_k": None,
        "class_id": None}
    assert metrics.serialize(metrics.get("acc")) == "acc"
    assert metrics.deserialize("acc").name == "acc"
    wrapper = metrics.deserialize(metrics.serialize(metrics.MeanMetricWrapper(metrics.hinge)))
    assert wrapper([[1.0]], [[0.5]]) == 0.5


def test_reset_states_is_tf_keras_spelling_of_reset_state():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state([1, 0], [[0.2, 0.8], [0.1, 0.9]])
    assert float(metric.result()) == 0.5
    metric.reset_states()
    assert float(metric.result()) == 0.0
    mean = metrics.Mean()
    mean.update_state([2.0, 4.0])
    mean.reset_states()
    mean.update_state([1.0])
    assert float(mean.result()) == 1.0
