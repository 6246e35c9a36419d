"""check_gradients: backprop against finite differences, on any model, custom layers included."""

from __future__ import annotations

import numpy as np
import pytest

import numkeras as keras
from numkeras import config, layers, utils
from numkeras.backprop import ops
from numkeras.backprop.tensor import wrap_primitive
from numkeras.layers.layer import Layer
from numkeras.models import Sequential


def _wrong_square(x):
    """x ** 2 with a wrong VJP: it forgets the chain rule's factor x (2g instead of 2xg)."""
    return x * x, lambda g: (2 * g,)


def _right_square(x):
    return x * x, lambda g: (2 * x * g,)


wrong_square = wrap_primitive(_wrong_square, "wrong_square")
right_square = wrap_primitive(_right_square, "right_square")


class ScaledSquare(Layer):
    """A custom layer with a weight: ``square(x * scale)`` through the given primitive."""

    def __init__(self, square, **kwargs):
        super().__init__(**kwargs)
        self.square = square

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (input_shape[-1],), "random_normal")

    def call(self, x):
        return self.square(ops.multiply(x, self.scale))


def model_with(square, name) -> Sequential:
    model = Sequential([keras.Input((5,)), layers.Dense(6, activation="tanh", name="dense"),
                        ScaledSquare(square, name=name),
                        layers.Dense(3, activation="softmax", name="out")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def batch(n=12, features=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype(np.float32), rng.integers(0, 3, n)


def test_a_correct_custom_layer_passes():
    report = utils.check_gradients(model_with(right_square, "custom"), *batch())
    assert report.ok and report.failed == []
    assert list(report) == ["dense", "custom", "out"]
    assert max(report.values()) < 1e-6
    assert set(report.weights) == {"dense/kernel", "dense/bias", "custom/scale", "out/kernel",
                                   "out/bias"}


def test_a_wrong_vjp_in_a_custom_layer_is_caught_and_named():
    report = utils.check_gradients(model_with(wrong_square, "broken"), *batch())
    assert not report.ok
    # The broken layer and the one below it (its wrong gradient flows down) are both off;
    # the layer above it is computed before the broken VJP runs and stays right.
    assert report.failed == ["dense", "broken"]
    assert report["broken"] > 1e-2 and report["out"] < 1e-6
    table = str(report)
    assert "broken" in table and "WRONG" in table and table.splitlines()[0].startswith("Layer")


def test_vanishing_gradients_of_a_deep_sigmoid_network_are_checked_too():
    model = Sequential([keras.Input((20,))] +
                       [layers.Dense(16, activation="sigmoid") for _ in range(8)] +
                       [layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    report = utils.check_gradients(model, *batch(features=20))
    assert report.ok, str(report)
    first = report.largest[model.layers[0].name]
    assert first < 1e-4 * report.largest[model.layers[-1].name]  # they do vanish


def test_image_layers_dropout_batchnorm_and_regularizers():
    model = Sequential([
        keras.Input((6, 6, 2)),
        layers.Conv2D(3, 3, activation="relu", kernel_regularizer="l2"),
        layers.BatchNormalization(), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 6, 6, 2)).astype(np.float32), rng.integers(0, 3, 8)
    model.fit(x, y, verbose=0)  # moving statistics and weights away from their initial values
    assert utils.check_gradients(model, x, y, sample_weight=np.linspace(0.5, 1.5, 8)).ok


def test_a_subclassed_model_reports_its_top_level_layers():
    class Block(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(4, activation="elu")
            self.gate = layers.Dense(4, activation="sigmoid")

        def call(self, x):
            return ops.multiply(self.inner(x), self.gate(x))

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Block(name="block")
            self.head = layers.Dense(2, name="head")

        def call(self, x):
            return self.head(self.block(x))

    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    x = batch()[0]
    report = utils.check_gradients(model, x, np.zeros((len(x), 2)))
    assert report.ok and list(report) == ["block", "head"]
    assert len(report.weights) == 6


def test_the_model_is_given_back_exactly_as_it_was():
    model = model_with(right_square, "custom")
    x, y = batch()
    model.fit(x, y, verbose=0)
    buffer = model._parameter_buffer()
    weights, grads = [w.data for w in model.weights], buffer.grad.copy()
    values = model.get_weights()
    utils.check_gradients(model, x, y)
    assert all(w.data is data for w, data in zip(model.weights, weights))  # the same arrays
    assert all(np.array_equal(a, b) for a, b in zip(values, model.get_weights()))
    assert np.array_equal(buffer.grad, grads)
    assert config.floatx() == "float32" and model.dtype == "float32"
    assert all(layer.dtype == "float32" for layer in model.layers)
    assert model.predict(x, verbose=0).dtype == np.float32


def test_the_model_is_given_back_after_an_error_too():
    model = model_with(right_square, "custom")
    x, _ = batch()
    with pytest.raises(ValueError):
        utils.check_gradients(model, x, np.full(len(x), 7))  # class 7 of 3
    assert config.floatx() == "float32"
    assert all(w.dtype == np.float32 for w in model.weights)


def test_an_unbuilt_model_is_built_in_its_own_dtype():
    model = Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = batch()[0]
    assert utils.check_gradients(model, x, np.zeros((len(x), 2))).ok
    assert all(w.dtype == np.float32 for w in model.weights)


def test_anything_but_a_model_is_refused():
    with pytest.raises(TypeError, match="needs a compiled numkeras model"):
        utils.check_gradients(lambda x: x, np.ones(3), np.ones(3))


def test_the_module_docstring_example_runs():
    import doctest

    from numkeras.utils import gradients

    assert doctest.testmod(gradients).failed == 0
