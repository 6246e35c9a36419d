"""compile/fit/evaluate/predict of functional models with several inputs and outputs, and
models that override Keras 3's ``compute_loss`` (issues 11 and 17).

Logged losses are checked against the weighted sum of per-output losses computed by hand from
``predict``: a learning rate of 0 and one full batch make the logged value the loss of the
weights the test reads.
"""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import ops

L = keras.layers
N = 8


class _TinyConcatenate(keras.layers.Layer):
    def call(self, inputs):
        return ops.concatenate(*inputs, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0][:-1] + (sum(shape[-1] for shape in input_shape),)


def concat_layer(name=None):
    return L.Concatenate(name=name) if hasattr(L, "Concatenate") else _TinyConcatenate(name=name)


def frozen_sgd():
    return keras.optimizers.SGD(learning_rate=0.0)


def make_model():
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    h = L.Dense(4, activation="tanh", name="h")(concat_layer("cat")([a, b]))
    price = L.Dense(1, name="price")(h)
    kind = L.Dense(3, activation="softmax", name="kind")(h)
    return keras.Model([a, b], [price, kind], name="two_io")


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    xa = rng.normal(size=(N, 3)).astype("float32")
    xb = rng.normal(size=(N, 2)).astype("float32")
    price = rng.normal(size=(N, 1)).astype("float32")
    kind = rng.integers(0, 3, size=N)
    return xa, xb, price, kind


def hand_losses(model, xa, xb, price, kind, sample_weight=None):
    """(mse of price, sparse categorical crossentropy of kind), from predict, in float64."""
    p_price, p_kind = (p.astype(np.float64) for p in model.predict([xa, xb], verbose=0))
    sw = np.ones(N) if sample_weight is None else sample_weight
    mse = np.mean((p_price - price) ** 2, axis=-1)
    ce = -np.log(p_kind[np.arange(N), kind])
    return float(np.sum(mse * sw) / N), float(np.sum(ce * sw) / N)


MSE, SCCE = "mse", "sparse_categorical_crossentropy"


@pytest.mark.parametrize("loss, loss_weights, weights", [
    ([MSE, SCCE], None, (1.0, 1.0)),
    ([MSE, SCCE], [2.0, 0.5], (2.0, 0.5)),
    ({"price": MSE, "kind": SCCE}, {"kind": 3.0}, (1.0, 3.0)),
    ({"kind": SCCE, "price": MSE}, {"price": 0.25, "kind": 2.0}, (0.25, 2.0)),
    ([None, SCCE], None, (0.0, 1.0)),
    ({"kind": SCCE}, None, (0.0, 1.0)),
])
def test_total_loss_is_the_weighted_sum_of_output_losses(arrays, loss, loss_weights, weights):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer=frozen_sgd(), loss=loss, loss_weights=loss_weights)
    mse, ce = hand_losses(model, xa, xb, price, kind)
    expected = weights[0] * mse + weights[1] * ce
    logs = model.evaluate([xa, xb], [price, kind], batch_size=N, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    assert logs["kind_loss"] == pytest.approx(ce, rel=1e-5)  # unweighted, as Keras logs it
    if weights[0]:
        assert logs["price_loss"] == pytest.approx(mse, rel=1e-5)
    else:
        assert "price_loss" not in logs
    history = model.fit([xa, xb], [price, kind], batch_size=N, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_one_loss_applies_to_every_output(arrays):
    xa, xb, price, _ = arrays
    target_b = np.eye(3, dtype="float32")[arrays[3]]
    model = make_model()
    model.compile(optimizer=frozen_sgd(), loss="mse", loss_weights=[1.0, 10.0])
    p_price, p_kind = model.predict([xa, xb], verbose=0)
    mse_a = np.mean((p_price - price) ** 2)
    mse_b = np.mean((p_kind - target_b) ** 2)
    loss, loss_a, loss_b = model.evaluate([xa, xb], [price, target_b], batch_size=N, verbose=0)
    assert (loss_a, loss_b) == (pytest.approx(mse_a, rel=1e-5), pytest.approx(mse_b, rel=1e-5))
    assert loss == pytest.approx(mse_a + 10.0 * mse_b, rel=1e-5)


def test_sample_weight_applies_to_every_output(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer=frozen_sgd(), loss=[MSE, SCCE])
    sw = np.arange(N, dtype="float32")
    mse, ce = hand_losses(model, xa, xb, price, kind, sample_weight=sw)
    loss, loss_price, loss_kind = model.evaluate([xa, xb], [price, kind], sample_weight=sw,
                                                 batch_size=N, verbose=0)
    assert loss_price == pytest.approx(mse, rel=1e-5)
    assert loss_kind == pytest.approx(ce, rel=1e-5)
    assert loss == pytest.approx(mse + ce, rel=1e-5)


def test_logged_loss_over_several_batches_is_the_sample_weighted_mean(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer=frozen_sgd(), loss=[MSE, SCCE], loss_weights=[2.0, 1.0])
    mse, ce = hand_losses(model, xa, xb, price, kind)
    logs = model.evaluate([xa, xb], [price, kind], batch_size=3, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(2.0 * mse + ce, rel=1e-5)
    assert logs["price_loss"] == pytest.approx(mse, rel=1e-5)


def test_history_and_evaluate_keys_in_tf_keras_order(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer="sgd", loss=[MSE, SCCE],
                  metrics={"price": ["mae"], "kind": ["accuracy"]})
    history = model.fit([xa, xb], [price, kind], epochs=2, verbose=0,
                        validation_data=([xa, xb], [price, kind]))
    keys = ["loss", "price_loss", "kind_loss", "price_mae", "kind_accuracy"]
    assert list(history.history) == keys + [f"val_{k}" for k in keys]
    assert all(len(values) == 2 for values in history.history.values())
    assert model.metrics_names == keys
    values = model.evaluate([xa, xb], [price, kind], verbose=0)
    assert isinstance(values, list) and len(values) == 5
    logs = model.evaluate([xa, xb], [price, kind], verbose=0, return_dict=True)
    assert list(logs) == keys and list(logs.values()) == pytest.approx(values)


def test_metrics_as_a_flat_list_apply_to_every_output(arrays):
    xa, xb, price, kind = arrays
    target_b = np.eye(3, dtype="float32")[kind]
    model = make_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit([xa, xb], [price, target_b], verbose=0, validation_split=0.25)
    assert list(history.history) == [
        "loss", "price_loss", "kind_loss", "price_mae", "kind_mae",
        "val_loss", "val_price_loss", "val_kind_loss", "val_price_mae", "val_kind_mae"]


def test_metric_values_are_those_of_each_output(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer=frozen_sgd(), loss=[MSE, SCCE],
                  metrics=[["mae"], ["accuracy"]])
    p_price, p_kind = model.predict([xa, xb], verbose=0)
    logs = model.evaluate([xa, xb], [price, kind], batch_size=N, verbose=0, return_dict=True)
    assert logs["price_mae"] == pytest.approx(np.mean(np.abs(p_price - price)), rel=1e-5)
    assert logs["kind_accuracy"] == pytest.approx(np.mean(p_kind.argmax(-1) == kind))


def test_x_and_y_as_dicts_keyed_by_names(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer=frozen_sgd(), loss={"price": MSE, "kind": SCCE})
    as_lists = model.evaluate([xa, xb], [price, kind], verbose=0)
    as_dicts = model.evaluate({"b": xb, "a": xa}, {"kind": kind, "price": price}, verbose=0)
    assert as_dicts == pytest.approx(as_lists)
    model.compile(optimizer="adam", loss={"price": MSE, "kind": SCCE})
    history = model.fit({"a": xa, "b": xb}, {"price": price, "kind": kind}, epochs=3,
                        verbose=0, validation_data=({"a": xa, "b": xb},
                                                    {"price": price, "kind": kind}))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "val_kind_loss" in history.history


def test_predict_returns_a_list_or_a_dict_as_the_outputs_were_given(arrays):
    xa, xb, _, _ = arrays
    model = make_model()
    outs = model.predict([xa, xb], verbose=0, batch_size=3)
    assert isinstance(outs, list) and [o.shape for o in outs] == [(N, 1), (N, 3)]
    a, b = model.inputs
    as_dict = keras.Model({"a": a, "b": b}, {"kind": model.outputs[1], "price": model.outputs[0]})
    outs_dict = as_dict.predict({"a": xa, "b": xb}, verbose=0, batch_size=3)
    assert isinstance(outs_dict, dict) and set(outs_dict) == {"kind", "price"}
    np.testing.assert_allclose(outs_dict["price"], outs[0], rtol=1e-6)
    np.testing.assert_allclose(outs_dict["kind"], outs[1], rtol=1e-6)
    single = model.predict_on_batch([xa, xb])
    assert isinstance(single, list) and len(single) == 2


def test_dict_outputs_in_sorted_key_order_train(arrays):
    xa, xb, price, kind = arrays
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = L.Dense(4, name="h")(concat_layer()([a, b]))
    model = keras.Model({"a": a, "b": b}, {"kind": L.Dense(3, activation="softmax")(h),
                                           "price": L.Dense(1)(h)})
    model.compile(optimizer="adam", loss={"price": MSE, "kind": SCCE}, metrics={"kind": "acc"})
    history = model.fit({"a": xa, "b": xb}, {"price": price, "kind": kind}, epochs=3,
                        verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "kind_loss", "price_loss", "kind_acc"}


def test_dict_outputs_in_unsorted_key_order_train(arrays):
    xa, xb, price, kind = arrays
    a = keras.Input((3,), name="a")
    model = keras.Model(a, {"price": L.Dense(1)(a), "kind": L.Dense(3, activation="softmax")(a)})
    model.compile(optimizer="adam", loss={"price": MSE, "kind": SCCE})
    history = model.fit(xa, {"price": price, "kind": kind}, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "price_loss", "kind_loss"}


def test_dict_outputs_in_unsorted_key_order_predict_zero_samples():
    a = keras.Input((3,), name="a")
    model = keras.Model(a, {"wide": L.Dense(2)(a), "narrow": L.Dense(1)(a)})
    out = model.predict(np.zeros((0, 3), "float32"), verbose=0)
    assert {k: v.shape for k, v in out.items()} == {"wide": (0, 2), "narrow": (0, 1)}


def test_single_output_given_as_a_list_trains(arrays):
    xa, _, price, _ = arrays
    a = keras.Input((3,))
    model = keras.Model(a, [L.Dense(1)(a)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(xa, price, verbose=0)
    assert np.isfinite(model.evaluate(xa, [price], verbose=0))


def test_single_output_given_as_a_dict_trains(arrays):
    xa, _, price, _ = arrays
    a = keras.Input((3,), name="a")
    model = keras.Model({"a": a}, {"out": L.Dense(1)(a)})
    model.compile(optimizer="sgd", loss={"out": "mse"})
    model.fit({"a": xa}, {"out": price}, verbose=0)


def test_two_outputs_from_one_layer_get_distinct_names(arrays):
    xa, _, _, _ = arrays
    a = keras.Input((3,), name="a")
    h = L.Dense(2, name="h")(a)
    model = keras.Model(a, [h, h])
    assert len(set(model.output_names)) == 2
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(xa, [np.ones((N, 2)), np.zeros((N, 2))], verbose=0)
    assert len(history.history) == 3


def test_multi_output_gradients_follow_the_loss_weights(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer="sgd", loss=[MSE, SCCE], loss_weights=[1.0, 0.0])
    grads = dict(zip([w.path for w in model.trainable_weights],
                     model.gradients([xa, xb], [price, kind])))
    assert np.abs(grads["price/kernel"]).sum() > 0
    assert np.all(grads["kind/kernel"] == 0) and np.all(grads["kind/bias"] == 0)
    model.compile(optimizer="sgd", loss=[MSE, SCCE], loss_weights=[2.0, 0.0])
    doubled = model.gradients([xa, xb], [price, kind])
    np.testing.assert_allclose(doubled[0], 2.0 * grads["h/kernel"], rtol=1e-5)


def test_single_output_functional_trains_like_the_same_sequential(regression):
    x, y = regression
    seq = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(1)])
    i = keras.Input((4,))
    func = keras.Model(i, L.Dense(1)(L.Dense(8, activation="relu")(i)))
    func.set_weights(seq.get_weights())
    results = []
    for model in (seq, func):
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse",
                      metrics=["mae"])
        history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0,
                            validation_split=0.25)
        results.append((history.history, model.evaluate(x, y, verbose=0), model.get_weights()))
    (h_seq, e_seq, w_seq), (h_func, e_func, w_func) = results
    assert list(h_func) == ["loss", "mae", "val_loss", "val_mae"] == list(h_seq)
    for key in h_seq:
        assert h_func[key] == pytest.approx(h_seq[key], rel=1e-5)
    assert isinstance(e_func, list) and e_func == pytest.approx(e_seq, rel=1e-5)
    for a, b in zip(w_func, w_seq):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


# ----- bad input -----

def test_y_with_the_wrong_number_of_arrays(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer="sgd", loss=[MSE, SCCE])
    for bad in ([price], price, [price, kind, kind]):
        with pytest.raises(ValueError, match="2 outputs.*price.*kind") as info:
            model.fit([xa, xb], bad, verbose=0)
        assert "target array" in str(info.value)


def test_y_dict_with_unknown_or_missing_keys(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer="sgd", loss=[MSE, SCCE])
    with pytest.raises(ValueError) as info:
        model.fit([xa, xb], {"price": price, "knd": kind}, verbose=0)
    assert "unknown: ['knd']" in str(info.value) and "missing: ['kind']" in str(info.value)


@pytest.mark.parametrize("argument", ["loss", "loss_weights", "metrics"])
def test_compile_dict_with_an_unknown_output_name(argument):
    value = {"prise": MSE if argument == "loss" else (1.0 if argument == "loss_weights"
                                                        else ["mae"])}
    kwargs = {"loss": MSE, argument: value}
    with pytest.raises(ValueError, match=f"`{argument}`.*prise") as info:
        make_model().compile(optimizer="sgd", **kwargs)
    assert "price" in str(info.value) and "kind" in str(info.value)


def test_compile_list_of_the_wrong_length():
    with pytest.raises(ValueError, match="`loss` has 3 entries.*2 outputs"):
        make_model().compile(optimizer="sgd", loss=[MSE, MSE, MSE])


def test_single_output_model_refuses_a_loss_list_of_several():
    a = keras.Input((3,))
    model = keras.Model(a, L.Dense(1)(a))
    with pytest.raises(ValueError, match="one"):
        model.compile(optimizer="sgd", loss=[MSE, MSE])


def test_wrong_number_of_input_arrays_in_fit(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer="sgd", loss=[MSE, SCCE])
    with pytest.raises(ValueError, match="expects 2 input.*received 1"):
        model.fit([xa], [price, kind], verbose=0)
    with pytest.raises(ValueError, match="unknown: \\['c'\\]"):
        model.fit({"a": xa, "c": xb}, [price, kind], verbose=0)


def test_inputs_of_different_lengths(arrays):
    xa, xb, price, kind = arrays
    model = make_model()
    model.compile(optimizer="sgd", loss=[MSE, SCCE])
    with pytest.raises(ValueError, match="'b'"):
        model.fit([xa, xb[:-1]], [price, kind], verbose=0)


# ----- compute_loss overrides (Keras 3's hook, issue 17) -----

class MaeModel(keras.Model):
    """The 'customizing what happens in fit' guide: compute_loss overridden, no compiled
    loss."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(1)
        self.calls = []

    def call(self, x):
        return self.dense(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        self.calls.append((np.shape(x), np.shape(y), sample_weight))
        return ops.mean(ops.abs(y_pred - y))


class MaeModelWithTraining(MaeModel):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        self.calls.append(training)
        return ops.mean(ops.abs(y_pred - y))


@pytest.fixture
def regression():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [3.0]])).astype("float32")


@pytest.mark.parametrize("cls", [MaeModel, MaeModelWithTraining])
def test_compute_loss_override_trains_without_a_compiled_loss(cls, regression):
    x, y = regression
    model = cls()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert list(history.history) == ["loss"]
    assert losses[-1] < 0.7 * losses[0]
    value = model.evaluate(x, y, verbose=0, batch_size=64)
    assert value == pytest.approx(np.mean(np.abs(model.predict(x, verbose=0) - y)), rel=1e-5)
    if cls is MaeModelWithTraining:
        assert set(model.calls) == {True, False}
        assert model.calls[-1] is False  # evaluate
    else:
        assert model.calls[-1] == ((64, 4), (64, 1), None)


def test_compute_loss_override_sees_the_sample_weight(regression):
    x, y = regression
    model = MaeModel()
    model.compile(optimizer="sgd")
    model.evaluate(x, y, sample_weight=np.ones(64), verbose=0, batch_size=64)
    assert model.calls[-1][2] is not None and np.shape(model.calls[-1][2]) == (64,)


def test_compute_loss_override_logged_value_is_the_override(regression):
    x, y = regression
    model = MaeModel()
    model.compile(optimizer=frozen_sgd(), metrics=["mae"])
    history = model.fit(x, y, batch_size=64, verbose=0)
    mae = np.mean(np.abs(model.predict(x, verbose=0) - y))
    assert history.history["loss"][0] == pytest.approx(mae, rel=1e-5)
    assert history.history["mae"][0] == pytest.approx(mae, rel=1e-5)


def test_compute_loss_override_and_model_gradients(regression):
    x, y = regression
    model = MaeModel()
    model.compile(optimizer="sgd")
    kernel_grad, bias_grad = model.gradients(x, y)
    residual = np.sign(model.predict(x, verbose=0) - y)
    np.testing.assert_allclose(kernel_grad, x.T @ residual / len(x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bias_grad, residual.mean(0), rtol=1e-5, atol=1e-7)


def test_compute_loss_override_may_call_the_compiled_loss(regression):
    x, y = regression

    class Doubled(MaeModel):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            base = super(MaeModel, self).compute_loss(x=x, y=y, y_pred=y_pred,
                                                      sample_weight=sample_weight,
                                                      training=training)
            return base * 2.0

    model = Doubled()
    model.compile(optimizer=frozen_sgd(), loss="mse")
    value = model.evaluate(x, y, batch_size=64, verbose=0)
    mse = np.mean((model.predict(x, verbose=0) - y) ** 2)
    assert value == pytest.approx(2.0 * mse, rel=1e-5)
    assert model.fit(x, y, batch_size=64, verbose=0).history["loss"][0] == pytest.approx(
        2.0 * mse, rel=1e-5)


def test_functional_subclass_overriding_compute_loss_with_several_outputs(arrays):
    xa, xb, price, kind = arrays
    functional = type(make_model())

    class Custom(functional):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            self.seen = (type(y).__name__, type(y_pred).__name__, len(x))
            return ops.mean((y_pred[0] - y[0]) ** 2) + ops.mean((y_pred[1] - y[1]) ** 2)

    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = concat_layer()([a, b])
    model = Custom([a, b], [L.Dense(1, name="o1")(h), L.Dense(1, name="o2")(h)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05))
    history = model.fit([xa, xb], [price, -price], epochs=5, batch_size=N, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.seen == ("list", "list", 2)
    p1, p2 = model.predict([xa, xb], verbose=0)
    expected = np.mean((p1 - price) ** 2) + np.mean((p2 + price) ** 2)
    assert model.evaluate([xa, xb], [price, -price], batch_size=N, verbose=0) == \
        pytest.approx(expected, rel=1e-5)


def test_without_loss_or_override_fit_names_the_missing_loss(regression):
    x, y = regression
    a = keras.Input((4,))
    model = keras.Model(a, L.Dense(1)(a))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute in `fit\\(\\)`"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="No loss to compute in `evaluate\\(\\)`"):
        model.evaluate(x, y, verbose=0)


def test_subclass_built_from_inputs_and_outputs_overrides_compute_loss(regression):
    x, y = regression

    class CustomModel(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            return ops.mean(ops.abs(y_pred - y))

    inputs = keras.Input((4,))
    model = CustomModel(inputs, L.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
