"""fit/evaluate with losses that layers add in call() (``self.add_loss``), as Keras's
subclassing guide trains them: with or without a compiled loss, and on a model that has no
trainable weights at all (Keras 3 warns and reports the loss)."""

import warnings

import numpy as np
import pytest

import numkeras as keras
from numkeras import ops


class ActivityRegularization(keras.layers.Layer):
    """Adds ``rate * mean(inputs)`` to the losses and passes its inputs on."""

    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class SquaredActivation(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.mean(ops.square(inputs)))
        return inputs


def test_compile_without_loss_trains_on_the_added_losses():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    inputs = keras.Input((3,))
    outputs = SquaredActivation()(keras.layers.Dense(2)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    expected = float(np.mean(model.predict(x, verbose=0) ** 2))
    assert model.evaluate(x, x[:, :2], verbose=0) == pytest.approx(expected, rel=1e-5)
    history = model.fit(x, x[:, :2], epochs=5, batch_size=64, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


def test_a_model_without_trainable_weights_reports_its_loss_and_warns():
    """The guide's ActivityRegularizationLayer model: Keras 3 (JAX) gives loss = mse + 0.01 *
    mean(x) and no update; the second compile without a loss gives the added loss alone."""
    rng = np.random.default_rng(1)
    x, y = rng.random((2, 3)), rng.random((2, 3))
    inputs = keras.Input((3,))
    model = keras.Model(inputs, ActivityRegularization()(inputs))
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(x, y, verbose=0)
    assert history.history["loss"][0] == pytest.approx(
        np.mean((x - y) ** 2) + 0.01 * x.mean(), rel=1e-5)
    model.compile(optimizer="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(x, y, verbose=0)
    assert history.history["loss"][0] == pytest.approx(0.01 * x.mean(), rel=1e-5)


def test_without_loss_and_without_added_losses_fit_says_what_is_missing():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"No loss to compute.*self\.add_loss"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)
    # A frozen model is refused the same way, before anything is trained.
    model.trainable = False
    with pytest.raises(ValueError, match="No loss to compute"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)
