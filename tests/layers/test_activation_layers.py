"""Activation layers: values, shapes, configs, weights and errors."""

import doctest
import json

import numpy as np
import pytest

from numkeras import activations, initializers
from numkeras.backprop import Tensor, check_grads
from numkeras.layers import activations as activation_layers
from numkeras.layers.activations import (ELU, PReLU, Activation, LeakyReLU, Maxout, ReLU,
                                         Softmax)

X = np.array([[-5.0, -1.0, -0.25, 0.0, 0.5, 1.0, 2.5, 5.0]], dtype=np.float32)


def _check_round_trip(layer, inputs):
    """get_config -> JSON -> from_config gives the same config and the same outputs."""
    expected = layer(inputs)
    config = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    clone.build_from_shape(np.shape(inputs))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(inputs).data, expected.data)


def _check_shapes(layer, inputs):
    out = layer(inputs)
    assert out.shape == np.shape(inputs)
    assert out.dtype == np.float32
    symbolic = (None,) + tuple(np.shape(inputs)[1:])
    assert layer.compute_output_shape(symbolic) == symbolic


# ----- Activation -----

def test_activation_applies_the_named_function():
    np.testing.assert_array_equal(Activation("relu")(X).data, activations.relu(X).data)
    np.testing.assert_array_equal(Activation(activations.tanh)(X).data, np.tanh(X))
    np.testing.assert_array_equal(Activation(None)(X).data, X)
    _check_shapes(Activation("gelu"), X)


def test_activation_softmax_output_keeps_its_logits():
    x = Tensor(X)
    assert Activation("softmax")(x).logits is x


def test_activation_config_uses_keras_names():
    layer = Activation("swish")
    config = layer.get_config()
    assert config["activation"] == "silu"
    assert set(config) == {"name", "trainable", "dtype", "activation"}
    _check_round_trip(layer, X)


def test_activation_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"'rellu'.*argument `activation`.*Did you mean 'relu'"):
        Activation("rellu")


# ----- ReLU -----

def test_relu_layer_spec_example():
    layer = ReLU(max_value=2.0, negative_slope=0.1, threshold=1.0)
    out = layer(np.array([[-5.0, 0.5, 1.0, 2.5, 5.0]]))
    np.testing.assert_allclose(out.data, [[-0.6, -0.05, 0.0, 2.0, 2.0]], rtol=1e-6)
    _check_shapes(layer, X)


def test_relu_layer_defaults_and_config():
    layer = ReLU()
    np.testing.assert_array_equal(layer(X).data, np.maximum(X, 0))
    config = layer.get_config()
    assert {k: config[k] for k in ("max_value", "negative_slope", "threshold")} == {
        "max_value": None, "negative_slope": 0.0, "threshold": 0.0}
    _check_round_trip(ReLU(max_value=6, negative_slope=0.2, threshold=-1), X)


@pytest.mark.parametrize("arguments, message", [
    ({"max_value": -1.0}, "max_value of a ReLU layer cannot be a negative value. Received: "
                          "max_value=-1.0"),
    ({"negative_slope": -0.1}, "negative_slope of a ReLU layer cannot be a negative value. "
                               "Received: negative_slope=-0.1"),
    ({"negative_slope": None}, r"negative_slope of a ReLU layer must be a number\. "
                               r"Received: negative_slope=None"),
    ({"threshold": None}, "threshold of a ReLU layer must be a number. Received: threshold=None"),
    ({"max_value": "6"}, r"max_value of a ReLU layer must be a number or None\. "
                         r"Received: max_value='6'"),
])
def test_relu_layer_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        ReLU(**arguments)


# ----- LeakyReLU -----

def test_leaky_relu_layer_default_slope_is_0_3():
    np.testing.assert_allclose(LeakyReLU()(np.array([[-10.0, 10.0]])).data, [[-3.0, 10.0]])
    assert LeakyReLU().get_config()["negative_slope"] == 0.3
    _check_shapes(LeakyReLU(), X)


def test_leaky_relu_layer_accepts_keras_2_alpha():
    layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    assert "alpha" not in layer.get_config()
    np.testing.assert_array_equal(layer(X).data, LeakyReLU(negative_slope=0.1)(X).data)
    keras_2_config = {"name": "leaky", "trainable": True, "dtype": "float32", "alpha": 0.3}
    assert LeakyReLU.from_config(keras_2_config).negative_slope == 0.3
    _check_round_trip(layer, X)


def test_leaky_relu_layer_rejects_negative_slopes():
    with pytest.raises(ValueError, match="Received: negative_slope=-0.5"):
        LeakyReLU(-0.5)
    with pytest.raises(ValueError, match="Received: alpha=-0.5"):
        LeakyReLU(alpha=-0.5)


# ----- ELU -----

def test_elu_layer():
    layer = ELU(alpha=2.0)
    np.testing.assert_allclose(layer(X).data, np.where(X > 0, X, 2.0 * np.expm1(X)), rtol=1e-6)
    assert layer.get_config()["alpha"] == 2.0
    assert ELU().alpha == 1.0
    _check_shapes(layer, X)
    _check_round_trip(layer, X)
    with pytest.raises(ValueError, match="alpha of an ELU layer must be a number"):
        ELU(alpha="one")


# ----- PReLU -----

def test_prelu_weight_shape_count_and_initial_relu():
    layer = PReLU()
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    out = layer(x)
    assert layer.alpha.shape == (3, 4) and layer.alpha.name == "alpha"
    assert layer.count_params() == 12
    assert [w.name for w in layer.trainable_weights] == ["alpha"]
    np.testing.assert_array_equal(out.data, np.maximum(x, 0))  # alpha starts at zero
    _check_shapes(layer, x)


def test_prelu_shared_axes_share_one_slope():
    layer = PReLU(alpha_initializer=initializers.Constant(0.25), shared_axes=[1, 2])
    x = -np.ones((2, 5, 5, 3), dtype=np.float32)
    np.testing.assert_allclose(layer(x).data, -0.25)
    assert layer.alpha.shape == (1, 1, 3)
    assert layer.count_params() == 3
    assert PReLU(shared_axes=2).shared_axes == [2]


def test_prelu_uses_its_learned_slopes_and_trains_them():
    layer = PReLU()
    layer.build_from_shape((None, 3))
    layer.set_weights([np.array([0.1, 0.2, 0.3], np.float32)])
    x = np.array([[-1.0, -2.0, 4.0]], np.float32)
    out = layer(x)
    np.testing.assert_allclose(out.data, [[-0.1, -0.4, 4.0]], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(layer.alpha.grad, [-1.0, -2.0, 0.0])  # d/dalpha = min(x, 0)


def test_prelu_gradients_match_finite_differences():
    alpha = np.array([0.3, -0.2, 0.7])

    def prelu(x, slopes):
        layer = PReLU()
        layer.build_from_shape(x.shape)
        layer.alpha = slopes
        return layer.call(x)

    assert check_grads(prelu, np.array([[-1.5, 0.4, -0.2], [2.0, -3.0, 0.9]]), alpha)


def test_prelu_config_round_trip_and_regularizer():
    layer = PReLU(alpha_initializer="ones", alpha_regularizer="l2", shared_axes=[1])
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype(np.float32)
    layer(x)
    config = layer.get_config()
    assert config["alpha_initializer"]["class_name"] == "Ones"
    assert config["alpha_regularizer"]["class_name"] == "L2"
    assert config["shared_axes"] == [1] and config["alpha_constraint"] is None
    assert len(layer.losses) == 1
    _check_round_trip(layer, x)


def test_prelu_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"shared_axes.*axis 0 is the batch.*shared_axes=\[0\]"):
        PReLU(shared_axes=[0])
    with pytest.raises(ValueError, match=r"no axis 3; shared_axes=\[3\]"):
        PReLU(shared_axes=[3])(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match=r"input shape \(None, None, 3\).*shared_axes"):
        PReLU().build_from_shape((None, None, 3))
    layer = PReLU()
    layer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 3"):
        layer(np.zeros((2, 4)))


# ----- Softmax -----

def test_softmax_layer_rows_sum_to_one():
    layer = Softmax()
    x = np.random.default_rng(2).normal(size=(4, 5)).astype(np.float32)
    out = layer(x)
    np.testing.assert_allclose(out.data.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out.data, activations.softmax(x).data)
    _check_shapes(layer, x)
    _check_round_trip(layer, x)


def test_softmax_layer_other_axes():
    x = np.random.default_rng(3).normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(Softmax(axis=1)(x).data.sum(axis=1), 1.0, rtol=1e-6)
    several = Softmax(axis=[1, 2])
    np.testing.assert_allclose(several(x).data.sum(axis=(1, 2)), 1.0, rtol=1e-6)
    assert several.get_config()["axis"] == [1, 2]
    _check_round_trip(several, x)
    with pytest.raises(ValueError, match="axis of a Softmax layer must be an integer"):
        Softmax(axis="last")


def test_softmax_layer_mask_gives_masked_positions_zero():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], np.float32)
    mask = np.array([[True, False, True], [False, False, False]])
    out = Softmax()(x, mask=mask).data
    np.testing.assert_allclose(out[0], activations.softmax([1.0, 3.0]).data[[0, 0, 1]] * [1, 0, 1])
    np.testing.assert_array_equal(out[1], 0.0)  # a fully masked row stays finite


# ----- Maxout -----

def test_maxout_pools_interleaved_groups():
    layer = Maxout(num_units=3)
    out = layer(np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]))
    np.testing.assert_array_equal(out.data, [[4.0, 5.0, 6.0]])  # not the contiguous [2, 4, 6]
    strided = np.array([[9.0, 0.0, 0.0, 0.0, 8.0, 0.0, 0.0, 0.0, 7.0]])
    np.testing.assert_array_equal(layer(strided).data, [[9.0, 8.0, 7.0]])
    assert layer.count_params() == 0


def test_maxout_on_another_axis_and_output_shape():
    x = np.random.default_rng(4).normal(size=(2, 6, 5, 5)).astype(np.float32)
    layer = Maxout(num_units=2, axis=1)
    out = layer(x)
    expected = x.reshape(2, 3, 2, 5, 5).max(axis=1)
    np.testing.assert_array_equal(out.data, expected)
    assert layer.compute_output_shape((None, 6, 5, 5)) == (None, 2, 5, 5)
    channels_last = Maxout(4)
    assert channels_last.compute_output_shape((None, 8, 8, 12)) == (None, 8, 8, 4)
    assert channels_last(np.zeros((1, 8, 8, 12))).shape == (1, 8, 8, 4)


def test_maxout_gradient_goes_to_the_maxima():
    x = Tensor(np.array([[1.0, 5.0, 3.0, 2.0]]), requires_grad=True)
    Maxout(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 1.0, 0.0]])
    assert check_grads(lambda t: Maxout(3).call(t), np.array([[0.3, -1.2, 2.0, 1.1, 0.4, -0.5]]))


def test_maxout_config_round_trip():
    layer = Maxout(num_units=2, axis=1)
    config = layer.get_config()
    assert config["num_units"] == 2 and config["axis"] == 1
    _check_round_trip(layer, np.random.default_rng(5).normal(size=(3, 4)).astype(np.float32))


def test_maxout_features_must_be_a_multiple_of_num_units():
    layer = Maxout(3, name="maxout_head")
    with pytest.raises(ValueError) as error:
        layer(np.zeros((2, 7)))
    message = str(error.value)
    assert message.startswith("number of features(7) is not a multiple of num_units(3)")
    assert "'maxout_head'" in message and "divides 7" in message
    with pytest.raises(ValueError, match=r"number of features\(7\)"):
        Maxout(3).compute_output_shape((None, 7))


@pytest.mark.parametrize("arguments, message", [
    ({"num_units": 0}, "num_units of a Maxout layer must be a positive integer. "
                       "Received: num_units=0"),
    ({"num_units": 2.5}, "Received: num_units=2.5"),
    ({"num_units": 2, "axis": 1.0}, "axis of a Maxout layer must be an integer"),
])
def test_maxout_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        Maxout(**arguments)


def test_maxout_axis_must_exist():
    with pytest.raises(ValueError, match="axis=2, but its input shape"):
        Maxout(2, axis=2)(np.zeros((1, 4)))


# ----- all layers -----

@pytest.mark.parametrize("make", [
    lambda: Activation("relu"), ReLU, LeakyReLU, ELU, Softmax, lambda: Maxout(2),
])
def test_weightless_layers_have_no_params_and_keep_the_batch(make):
    layer = make()
    out = layer(np.zeros((5, 4), np.float32))
    assert out.shape[0] == 5
    assert layer.count_params() == 0 and layer.weights == []


def test_docstring_examples_run():
    result = doctest.testmod(activation_layers)
    assert result.attempted > 5 and result.failed == 0
