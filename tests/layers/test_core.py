"""Core layers: Dense, Flatten, Reshape, Dropout, Input; the Layer base contract."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, check_grads
from numkeras.layers.core import Dense, Dropout, Flatten, Input, InputLayer, Reshape


def test_dense_computes_activation_of_affine_map():
    layer = Dense(3, activation="relu", kernel_initializer="ones", bias_initializer="zeros")
    x = np.array([[1.0, -2.0], [0.5, 0.5]], dtype=np.float32)
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, np.maximum(x @ np.ones((2, 3)), 0))
    assert [w.path for w in layer.weights] == ["dense/kernel", "dense/bias"]


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "softmax", "elu", "gelu"])
def test_dense_gradients_match_finite_differences(activation):
    layer = Dense(3, activation=activation, dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, 5))
    layer(x)

    def through_layer(x, kernel, bias):
        # The check's own leaf tensors stand in for the weights, so it sees their gradients.
        layer.kernel, layer.bias = kernel, bias
        return layer(x)

    assert check_grads(through_layer, x, layer.kernel.data.copy(), layer.bias.data.copy())


def test_dense_on_higher_rank_inputs_and_without_bias():
    layer = Dense(4, use_bias=False)
    assert layer(np.ones((2, 3, 5))).shape == (2, 3, 4)
    assert len(layer.weights) == 1 and layer.count_params() == 20
    assert layer.compute_output_shape((None, 3, 5)) == (None, 3, 4)


@pytest.mark.parametrize("units", [0, -1, 2.5, "8", True])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        Dense(units)


def test_dense_config_round_trip():
    layer = Dense(7, activation="swish", kernel_regularizer="l2", name="d")
    config = layer.get_config()
    assert list(config) == ["name", "trainable", "dtype", "units", "activation", "use_bias",
                            "kernel_initializer", "bias_initializer", "kernel_regularizer",
                            "bias_regularizer", "kernel_constraint", "bias_constraint",
                            "quantization_config"]
    assert config["activation"] == "silu"
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    clone = Dense.from_config(config)
    assert clone.get_config() == config


def test_unknown_keyword_is_an_error():
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to Dense: "
                                        r"\['unit'\]"):
        Dense(3, unit=4)


def test_flatten_and_reshape():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    assert Flatten()(x).shape == (2, 12)
    assert Flatten().compute_output_shape((None, 3, 4)) == (None, 12)
    assert Reshape((4, 3))(x).shape == (2, 4, 3)
    assert Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(3, 4\)"):
        Reshape((5, 2))(x)
    with pytest.raises(ValueError, match="at most one -1"):
        Reshape((-1, -1))


def test_reshape_gradient():
    assert check_grads(lambda x: Reshape((6,), dtype="float64")(x) * 2.0, np.ones((2, 3, 2)))


def test_dropout_training_and_inference():
    layer = Dropout(0.5, seed=3)
    x = np.ones((1000, 10), dtype=np.float32)
    assert layer(x, training=False).data is not None
    np.testing.assert_array_equal(layer(x).data, x)  # inference by default
    dropped = layer(x, training=True).data
    assert set(np.unique(dropped)) == {0.0, 2.0}
    assert abs((dropped == 0).mean() - 0.5) < 0.02
    with pytest.raises(ValueError, match=r"rate=1.0"):
        Dropout(1.0)


def test_dropout_noise_shape_drops_whole_columns():
    out = Dropout(0.5, noise_shape=(1, None), seed=0)(np.ones((6, 8)), training=True).data
    assert all(len(np.unique(column)) == 1 for column in out.T)


def test_dropout_gradient_uses_the_mask():
    layer = Dropout(0.5, seed=1)
    x = Tensor(np.ones((4, 4)), requires_grad=True)
    out = layer(x, training=True)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


def test_input_and_input_layer():
    tensor = Input(shape=(28, 28))
    assert tensor.shape == (None, 28, 28)
    assert repr(tensor).startswith("<KerasTensor shape=(None, 28, 28), dtype=float32")
    layer = InputLayer(input_shape=(3,))  # Keras 2 spelling
    assert layer.batch_shape == (None, 3)
    with pytest.raises(ValueError, match="shape="):
        InputLayer()


def test_input_dim_keyword_on_first_layer():
    model = keras.Sequential([Dense(2, input_dim=5)])
    assert model.input_shape == (None, 5) and model.built


def test_non_numeric_input_to_a_layer():
    with pytest.raises(TypeError, match="needs numbers"):
        Dense(2)(np.array([["a", "b"]]))


def test_regularizer_penalty_reaches_the_gradient():
    layer = Dense(2, kernel_regularizer=keras.regularizers.L2(0.5), kernel_initializer="ones",
                  dtype="float64")
    layer(np.zeros((1, 3)))
    (penalty,) = layer.losses
    assert float(penalty.data) == pytest.approx(0.5 * 6)
    penalty.backward()
    np.testing.assert_allclose(layer.kernel.grad, np.ones((3, 2)))


def test_initializers_follow_keras_formulas():
    keras.config.set_random_seed(0)
    fan_in, fan_out = 784, 128
    glorot = keras.initializers.get("glorot_uniform")((fan_in, fan_out))
    assert np.abs(glorot).max() <= np.sqrt(6 / (fan_in + fan_out))
    he = keras.initializers.get("he_normal")((2000, 500))
    assert he.std() == pytest.approx(np.sqrt(2 / 2000), rel=0.05)
    assert np.abs(he).max() <= 2 * np.sqrt(2 / 2000) / 0.8796 + 1e-6
    lecun = keras.initializers.LecunUniform()((300, 10))
    assert np.abs(lecun).max() <= np.sqrt(3 / 300)
    conv = keras.initializers.GlorotUniform()((3, 3, 1, 8))  # fans multiply by kernel area
    assert np.abs(conv).max() <= np.sqrt(6 / (9 + 72))
    assert keras.initializers.Constant(2.0)((2,)).tolist() == [2.0, 2.0]
    q = keras.initializers.Orthogonal()((5, 5))
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-5)


def test_seeded_initializer_repeats():
    a = keras.initializers.RandomNormal(seed=5)((3,))
    b = keras.initializers.RandomNormal(seed=5)((3,))
    np.testing.assert_array_equal(a, b)


def test_custom_layer_with_only_call_gets_gradients():
    class Square(keras.layers.Layer):
        def call(self, x):
            return x * x

    model = keras.Sequential([keras.Input((3,)), Square(), Dense(1)])
    assert model.output_shape == (None, 1)
    assert check_grads(lambda x: Square()(x), np.array([[1.0, -2.0, 0.5]]))


def test_calling_build_directly_marks_the_layer_built():
    layer = Dense(2)
    layer.build((None, 3))
    assert layer.built and layer.input_shape == (None, 3)
    layer.set_weights([np.ones((3, 2)), np.zeros(2)])
    np.testing.assert_array_equal(layer(np.ones((1, 3))).data, [[3.0, 3.0]])
