"""Subclasses of keras.Model with their own __init__: positional arguments of their own, and
Keras 3's "functional subclass" that passes inputs and outputs on to Model.__init__."""

import numpy as np

import numkeras as keras
from numkeras.models.functional import Functional


class Autoencoder(keras.Model):
    """Positional constructor arguments (the subclassing guide's VariationalAutoEncoder(784,
    64, 32)) are the subclass's own, not a graph's inputs and outputs."""

    def __init__(self, original_dim, intermediate_dim=4, name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encode = keras.layers.Dense(intermediate_dim, activation="relu")
        self.decode = keras.layers.Dense(original_dim)

    def call(self, inputs):
        return self.decode(self.encode(inputs))


class Classifier(keras.Model):
    """Builds its graph in __init__ and hands it to Model.__init__ (Keras 3 allows it)."""

    def __init__(self, units, **kwargs):
        inputs = keras.Input((3,), name="features")
        outputs = keras.layers.Dense(units, activation="softmax")(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.units = units


def test_positional_arguments_of_a_subclass_are_its_own():
    model = Autoencoder(6, 3)
    assert not isinstance(model, Functional) and model.name == "autoencoder"
    assert model.original_dim == 6
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).random((8, 6)).astype("float32")
    model.fit(x, x, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (8, 6) and len(model.trainable_weights) == 4


def test_a_subclass_that_passes_inputs_and_outputs_is_a_graph():
    model = Classifier(4, name="clf")
    assert isinstance(model, Classifier) and isinstance(model, Functional)
    assert model.name == "clf" and model.units == 4
    assert model.input_names == ["features"] and model.output_shape == (None, 4)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(np.ones((4, 3)), np.array([0, 1, 2, 3]), verbose=0)
    assert len(history.history["loss"]) == 1
    assert np.allclose(model.predict(np.ones((2, 3)), verbose=0).sum(axis=1), 1.0)
