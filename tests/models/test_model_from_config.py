"""keras.Model.from_config(config, custom_objects=...) rebuilds a functional model, as the Keras 3
functional-API guide does with its CustomDense layer (issue 11)."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import ops


class CustomDense(keras.layers.Layer):
    """The guide's layer: a config with `units` only, weights from add_weight."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


def test_model_from_config_with_custom_objects_as_in_the_guide():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, CustomDense(10)(inputs))
    new_model = keras.Model.from_config(model.get_config(),
                                        custom_objects={"CustomDense": CustomDense})
    assert type(new_model).__name__ == "Functional"
    assert [type(layer) for layer in new_model.layers] == [keras.layers.InputLayer, CustomDense]
    assert new_model.output_shape == (None, 10)
    new_model.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(new_model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_from_config_keeps_the_graph():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = keras.layers.Dense(4, name="h")(keras.layers.concatenate([a, b], name="cat"))
    model = keras.Model([a, b], [keras.layers.Dense(1, name="y1")(h),
                                 keras.layers.Dense(2, name="y2")(h)], name="two_io")
    new_model = keras.Model.from_config(model.get_config())
    assert new_model.name == "two_io"
    assert [layer.name for layer in new_model.layers] == [layer.name for layer in model.layers]
    assert new_model.get_layer("cat").output.shape == (None, 5)
    assert [t.shape for t in new_model.outputs] == [(None, 1), (None, 2)]


def test_model_from_config_without_the_custom_class_names_it():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, CustomDense(2)(inputs))
    with pytest.raises(ValueError, match="CustomDense"):
        keras.Model.from_config(model.get_config())


def test_subclass_from_config_calls_its_constructor():
    class Scaled(keras.Model):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = Scaled.from_config(Scaled(factor=3.0, name="scaled").get_config())
    assert isinstance(model, Scaled) and model.factor == 3.0 and model.name == "scaled"


def test_docstring_examples_of_model_module():
    import doctest

    from numkeras.models import model

    assert doctest.testmod(model).failed == 0
