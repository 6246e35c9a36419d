"""compile / fit / evaluate / predict: contracts, outputs, determinism and errors."""

import io
import re
import sys

import numpy as np
import pytest

import numkeras as keras
from numkeras import config
from tests.helpers import lecture_model, synthetic_images


def compiled_lecture_model(**compile_args):
    model = lecture_model(keras)
    model.compile(optimizer=compile_args.pop("optimizer", "adam"),
                  loss=compile_args.pop("loss", "sparse_categorical_crossentropy"),
                  metrics=compile_args.pop("metrics", ["accuracy"]), **compile_args)
    return model


def test_lecture_snippet_learns_a_synthetic_task():
    x, y = synthetic_images(1200)
    model = compiled_lecture_model()
    history = model.fit(x, y, epochs=5, verbose=0)
    losses, accuracies = history.history["loss"], history.history["accuracy"]
    assert losses[-1] < 0.5 * losses[0] and accuracies[-1] > accuracies[0] + 0.2, history.history
    test_loss, test_acc = model.evaluate(x, y, verbose=0)
    assert test_acc > 0.8 and isinstance(test_loss, float)


def test_history_keys_params_and_epochs():
    x, y = synthetic_images(100)
    history = compiled_lecture_model().fit(x, y, epochs=2, batch_size=16, validation_split=0.2,
                                           verbose=0)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epoch == [0, 1] and history.params == {"verbose": 0, "epochs": 2, "steps": 5,
                                                          "steps_done": 5}
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_acc_keeps_the_users_name():
    x, y = synthetic_images(64)
    history = compiled_lecture_model(metrics=["acc"]).fit(x, y, verbose=0,
                                                         validation_data=(x, y))
    assert list(history.history) == ["loss", "acc", "val_loss", "val_acc"]


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = synthetic_images(70)
    model = compiled_lecture_model(optimizer=keras.optimizers.SGD(learning_rate=0.0))
    history = model.fit(x, y, batch_size=32, shuffle=False, verbose=0)
    batch_losses = [model.test_on_batch(x[s], y[s])[0] for s in (slice(0, 32), slice(32, 64),
                                                                   slice(64, 70))]
    expected = (32 * batch_losses[0] + 32 * batch_losses[1] + 6 * batch_losses[2]) / 70
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_evaluate_return_forms():
    x, y = synthetic_images(50)
    model = compiled_lecture_model()
    assert len(model.evaluate(x, y, verbose=0)) == 2
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["loss", "accuracy"]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    assert model.metrics_names == ["loss"]


def test_predict_is_float32_in_order_and_batch_independent():
    x, _ = synthetic_images(70)
    model = lecture_model(keras)
    full = model.predict(x, verbose=0)
    assert full.dtype == np.float32 and full.shape == (70, 10)
    # Matrix products of other batch sizes may round differently in the last bits.
    np.testing.assert_allclose(model.predict(x, batch_size=7, verbose=0), full, rtol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), full[:5], rtol=1e-5)


def test_same_seed_gives_bit_identical_runs():
    x, y = synthetic_images(200)

    def run():
        config.set_random_seed(42)
        keras.utils.clear_session()
        model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dropout(0.2),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, y, epochs=2, validation_split=0.1, verbose=0)
        return model.get_weights(), history.history

    (weights_a, history_a), (weights_b, history_b) = run(), run()
    assert history_a == history_b
    assert all(np.array_equal(a, b) for a, b in zip(weights_a, weights_b))


def test_train_on_batch_and_test_on_batch():
    x, y = synthetic_images(32)
    model = compiled_lecture_model()
    before = model.test_on_batch(x, y)[0]
    for _ in range(5):
        loss, acc = model.train_on_batch(x, y)
    assert loss < before
    assert set(model.train_on_batch(x, y, return_dict=True)) == {"loss", "accuracy"}


def test_sample_and_class_weights_change_the_loss():
    x, y = synthetic_images(64)
    model = compiled_lecture_model()
    plain = model.evaluate(x, y, verbose=0)[0]
    zero = model.evaluate(x, y, sample_weight=np.zeros(64), verbose=0)[0]
    assert zero == 0.0 and plain > 0
    model.fit(x, y, class_weight={0: 2.0, 1: 0.5}, verbose=0)
    with pytest.raises(ValueError, match="class 12"):
        model.fit(x, y, class_weight={12: 1.0}, verbose=0)


def test_regularization_counts_in_the_loss():
    x, y = synthetic_images(32)
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                              keras.layers.Dense(10, kernel_regularizer=keras.regularizers.L2(1.0),
                                                 activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy")
    kernel = model.layers[1].kernel.data
    penalty = float((kernel.astype(np.float64) ** 2).sum())
    with_penalty = model.evaluate(x, y, verbose=0)
    model.layers[1].kernel_regularizer = None
    model.layers[1].kernel.regularizer = None
    assert with_penalty == pytest.approx(model.evaluate(x, y, verbose=0) + penalty, rel=1e-5)


def test_validation_data_wins_over_validation_split():
    x, y = synthetic_images(50)
    history = compiled_lecture_model().fit(x, y, validation_split=0.5, validation_data=(x[:10],
                                           y[:10]), verbose=0)
    assert history.params["steps"] == 2  # all 50 samples trained on


def test_classic_progress_output_when_not_a_terminal(capsys):
    x, y = synthetic_images(64)
    compiled_lecture_model().fit(x, y, epochs=2, validation_split=0.5)
    out = capsys.readouterr().out
    assert "\b" not in out and "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    number = r"\d\.\d{4}(e[+-]\d\d)?"
    assert re.fullmatch(rf"1/1 \[={{30}}\] - \d+s \d+(ms|us)/step - loss: {number} - "
                        rf"accuracy: {number} - val_loss: {number} - val_accuracy: {number}",
                        lines[1]), lines[1]


def test_single_epoch_prints_no_epoch_header_and_verbose_2(capsys):
    x, y = synthetic_images(40)
    model = compiled_lecture_model()
    model.fit(x, y, verbose=2)
    out = capsys.readouterr().out
    assert re.fullmatch(r"2/2 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - "
                        r"\d+(s|ms|us)/epoch - \d+(s|ms|us)/step\n", out), out  # tf.keras 2.7+
    model.evaluate(x, y)
    assert re.fullmatch(r"2/2 \[={30}\] - \d+s \d+(ms|us)/step - loss: \d\.\d{4} - accuracy: "
                        r"\d\.\d{4}\n", capsys.readouterr().out)


def test_terminal_output_redraws_in_place(monkeypatch):
    x, y = synthetic_images(64)
    stream = io.StringIO()
    stream.isatty = lambda: True
    monkeypatch.setattr(sys, "stdout", stream)
    compiled_lecture_model().fit(x, y, batch_size=8)
    assert "\r" in stream.getvalue() and stream.getvalue().endswith("\n")


# ----- bad input -----


def test_fit_before_compile():
    with pytest.raises(RuntimeError, match=r"You must call `compile\(\)`"):
        lecture_model(keras).fit(np.zeros((2, 28, 28)), np.zeros(2))


def test_compile_without_loss():
    model = lecture_model(keras)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.zeros((2, 28, 28)), np.zeros(2))


@pytest.mark.parametrize("argument,value,message", [
    ("optimizer", "adamm", r"Unknown optimizer 'adamm'.*Did you mean 'adam'"),
    ("loss", "sparse_crossentropy", r"Unknown loss"),
    ("metrics", ["acuracy"], r"Unknown metric"),
])
def test_unknown_names_in_compile(argument, value, message):
    model = lecture_model(keras)
    kwargs = {"optimizer": "adam", "loss": "mse", argument: value}
    with pytest.raises(ValueError, match=message):
        model.compile(**kwargs)  # raised by compile itself, before any data


def test_unknown_activation_and_initializer_in_the_constructor():
    with pytest.raises(ValueError, match=r"Unknown activation 'rellu'.*relu"):
        keras.layers.Dense(3, activation="rellu")
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'.*glorot_uniform"):
        keras.layers.Dense(3, kernel_initializer="glorot")


@pytest.mark.parametrize("x,y,error,message", [
    (np.zeros((4, 28, 28)), np.zeros(3), ValueError, r"x: 4, y: 3"),
    (np.zeros((2, 28, 28)), np.array([0, 10]), ValueError, r"10 is out of range"),
    (np.zeros((2, 28, 28)), np.array([0.5, 1.0]), ValueError, r"integer"),
    (np.full((2, 28, 28), np.nan), np.zeros(2), ValueError, r"`x` contains 1568 NaN"),
    (np.zeros((2, 28, 28)), np.array([0.0, np.inf]), ValueError, r"`y` contains 1 NaN"),
    (np.array([["a"] * 28] * 28 * 2).reshape(2, 28, 28), np.zeros(2), TypeError, r"dtype <U1"),
    (np.zeros((2, 28, 28)), np.zeros((2, 3)), ValueError, r"shape"),
])
def test_bad_training_data(x, y, error, message):
    model = compiled_lecture_model()
    with pytest.raises(error, match=message):
        model.fit(x, y, verbose=0)


@pytest.mark.parametrize("kwargs,message", [
    ({"validation_split": 1.0}, "validation_split"),
    ({"validation_split": 0.5, "x": np.zeros((1, 28, 28)), "y": np.zeros(1)}, "not sufficient"),
    ({"batch_size": 0}, "batch_size"),
    ({"epochs": -1}, "epochs"),
    ({"verbose": 3}, "verbose"),
])
def test_bad_fit_arguments(kwargs, message):
    model = compiled_lecture_model()
    arguments = {"x": np.zeros((4, 28, 28)), "y": np.zeros(4), "verbose": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        model.fit(**arguments)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_nan_loss_stops_with_terminate_on_nan(capsys):
    x = np.ones((64, 4), dtype=np.float32)
    y = np.ones((64, 1), dtype=np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e10), loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert len(history.history["loss"]) == 1


def test_freezing_a_layer_between_fits_takes_effect():
    x, y = synthetic_images(64)
    model = compiled_lecture_model(optimizer="sgd")
    model.fit(x, y, verbose=0)
    frozen = model.layers[1].get_weights()
    model.layers[1].trainable = False
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, verbose=0)
    for before, after in zip(frozen, model.layers[1].get_weights()):
        np.testing.assert_array_equal(before, after)


def test_add_loss_from_a_custom_layer_counts_in_training():
    class Penalised(keras.layers.Layer):
        def call(self, x):
            self.add_loss(ops_sum_of_squares(x) * 0.0 + 5.0)
            return x

    def ops_sum_of_squares(x):
        return (x * x).sum()

    model = keras.Sequential([keras.Input((3,)), Penalised(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 3), np.float32), np.zeros((4, 1), np.float32)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(5.0)


def test_predict_names_nan_in_x():
    model = lecture_model(keras)
    x = np.zeros((3, 28, 28), np.float32)
    x[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"`x` contains 1 NaN .* \(1, 2, 3\)"):
        model.predict(x, verbose=0)
    with pytest.raises(ValueError, match="`x` contains 1 NaN"):
        model.predict_on_batch(x)


def test_validation_freq_as_a_list_and_steps_per_epoch_checked():
    x, y = synthetic_images(40)
    model = compiled_lecture_model()
    history = model.fit(x, y, epochs=3, validation_split=0.25, validation_freq=[1, 3],
                        verbose=0)
    assert len(history.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(x, y, steps_per_epoch=0, verbose=0)


def test_predict_on_no_samples_gives_an_empty_array():
    out = lecture_model(keras).predict(np.zeros((0, 28, 28)), verbose=0)
    assert out.shape == (0, 10) and out.dtype == np.float32


def test_mixed_float_types_get_a_clear_error():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, dtype="float64"),
                              keras.layers.Dense(1)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=r"dense/kernel \(float64\).*same dtype"):
        model.fit(np.ones((4, 3)), np.ones(4), verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_fit_and_evaluate_refuse_empty_data(method):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=f"`{method}\\(\\)` received no samples"):
        getattr(model, method)(np.zeros((0, 3)), np.zeros((0, 1)), verbose=0)
    assert model.predict(np.zeros((0, 3)), verbose=0).shape == (0, 1)  # as Keras
