"""Sequential: building, layers, shapes, weights, config, naming, errors."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.models.sequential import EmptyModelError
from tests.helpers import lecture_model


def test_three_ways_to_declare_the_input_build_the_same_model():
    models = [
        lecture_model(keras),
        keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                          keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)]),
        keras.Sequential([keras.layers.InputLayer(shape=(28, 28)), keras.layers.Flatten(),
                          keras.layers.Dense(128), keras.layers.Dense(10)]),
    ]
    for model in models:
        assert model.built and model.count_params() == 101770
        assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)
        assert len(model.layers) == 3  # the InputLayer is not listed


def test_lazy_build_on_first_call():
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
    assert not model.built
    out = model(np.ones((3, 5)))
    assert out.shape == (3, 2) and model.built and model.count_params() == 5 * 4 + 4 + 4 * 2 + 2
    model2 = keras.Sequential([keras.layers.Dense(4)])
    model2.build((None, 5))
    assert model2.count_params() == 24


def test_add_pop_and_names():
    model = keras.Sequential()
    model.add(keras.Input(shape=(3,)))
    model.add(keras.layers.Dense(2))
    model.add(keras.layers.Dense(1))
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.name == "sequential"
    popped = model.pop()
    assert popped.name == "dense_1" and model.output_shape == (None, 2)
    model.pop()
    with pytest.raises(EmptyModelError, match="There are no layers in the model"):
        model.pop()
    assert keras.Sequential().name == "sequential_1"
    keras.utils.clear_session()
    assert keras.layers.Dense(1).name == "dense"


def test_add_rejects_non_layers_and_duplicate_names():
    model = keras.Sequential()
    with pytest.raises(TypeError, match="Only instances of `keras.layers.Layer`"):
        model.add("dense")
    model.add(keras.layers.Dense(2, name="same"))
    with pytest.raises(ValueError, match="unique names"):
        model.add(keras.layers.Dense(2, name="same"))


def test_get_and_set_weights():
    model = lecture_model(keras)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(784, 128), (128,), (128, 10), (10,)]
    assert all(w.dtype == np.float32 for w in weights)
    limit = np.sqrt(6 / (784 + 128))
    assert np.abs(weights[0]).max() <= limit and not weights[1].any()
    model.set_weights([np.ones_like(w) for w in weights])
    assert model.get_weights()[0].min() == 1
    with pytest.raises(ValueError, match=r"weight shape \(784, 128\) is not compatible with "
                                         r"provided weight shape \(3, 2\)"):
        model.set_weights([np.ones((3, 2))] + weights[1:])
    with pytest.raises(ValueError, match="expects 4 weights"):
        model.set_weights(weights[:2])


def test_wrong_input_shape_is_a_clear_error():
    model = lecture_model(keras)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 28, 28\), found "
                                         r"shape=\(None, 28, 29\)"):
        model.predict(np.zeros((2, 28, 29)), verbose=0)
    with pytest.raises(ValueError, match="expected shape"):
        model(np.zeros((2, 784)))


def test_built_dense_rejects_other_widths():
    layer = keras.layers.Dense(3)
    layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4, but "
                                         r"received input with shape \(2, 5\)"):
        layer(np.ones((2, 5)))


def test_model_call_returns_a_tensor_that_converts():
    model = lecture_model(keras)
    out = model(np.zeros((2, 28, 28)))
    assert np.asarray(out).shape == (2, 10) and out.numpy().dtype == np.float32
    np.testing.assert_allclose(np.asarray(out).sum(axis=1), 1.0, rtol=1e-6)


def test_config_round_trip_keeps_names_and_shapes():
    model = lecture_model(keras)
    config = model.get_config()
    assert list(config) == ["name", "trainable", "dtype", "layers", "build_input_shape"]
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert config["layers"][0]["config"]["batch_shape"] == [None, 28, 28]
    assert config["layers"][2]["config"]["activation"] == "relu"
    clone = keras.Sequential.from_config(config)
    assert [layer.name for layer in clone.layers] == ["flatten", "dense", "dense_1"]
    assert clone.count_params() == 101770


def test_trainable_flag_moves_weights():
    model = lecture_model(keras)
    model.layers[1].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4


def test_subclassed_model_trains():
    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(8, activation="tanh")
            self.out = keras.layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    model = TwoLayers()
    assert model.name == "two_layers"
    x = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert len(model.weights) == 4


def test_functional_model_without_outputs_is_refused_clearly():
    with pytest.raises(ValueError, match="every entry of `outputs` must be a symbolic tensor"):
        keras.Model(inputs=keras.Input((2,)), outputs=None)
