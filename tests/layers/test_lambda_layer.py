"""Lambda and Identity: calls, output shapes, gradients, Keras 3 configs, refused bytecode."""

import base64
import doctest
import json
import marshal
import types

import numpy as np
import pytest

from numkeras import layers
from numkeras.backprop import Tensor, check_grads, ops
from numkeras.layers import lambda_layer
from numkeras.layers.lambda_layer import Identity, Lambda


def double(x):
    return x * 2.0


# ----- Lambda: calling -----


def test_lambda_runs_the_function_and_its_gradient_flows(rng):
    layer = Lambda(lambda x: ops.tanh(x) * x, dtype="float64")
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(layer(x).numpy(), np.tanh(x) * x)
    assert check_grads(layer, x)


def test_lambda_passes_arguments_and_training():
    seen = {}

    def function(x, scale, training=None):
        seen["training"] = training
        return x * scale

    layer = Lambda(function, arguments={"scale": 3.0})
    assert layer(np.ones((1, 2)), training=True).numpy().tolist() == [[3.0, 3.0]]
    assert seen["training"] is True


def test_lambda_on_a_list_of_inputs(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    layer = Lambda(lambda xs: ops.concatenate(xs[0], xs[1] * 2.0, axis=1))
    np.testing.assert_allclose(layer([a, b]).numpy(), np.concatenate([a, 2 * b], 1), rtol=1e-6)
    assert layer.compute_output_shape([(None, 3), (None, 3)]) == (None, 6)


def test_lambda_refuses_a_non_callable():
    with pytest.raises(TypeError, match="must be callable"):
        Lambda("x * 2")


# ----- Lambda: output shapes -----


def test_output_shape_given_as_a_tuple_or_a_function():
    assert Lambda(double, output_shape=(4, 2)).compute_output_shape((None, 8)) == (None, 4, 2)
    assert Lambda(double, output_shape=[5]).compute_output_shape((7, 3)) == (7, 5)
    several = Lambda(double, output_shape=[(2,), (3, 1)])
    assert several.compute_output_shape([(None, 4), (None, 4)]) == [(None, 2), (None, 3, 1)]
    layer = Lambda(double, output_shape=lambda s: (s[0], s[1] * 2))
    assert layer.compute_output_shape((None, 3)) == (None, 6)


def test_output_shape_inferred_by_running_on_zeros():
    layer = Lambda(lambda x: ops.reshape(x, shape=(x.shape[0], 2, -1)))
    assert layer.compute_output_shape((None, 6)) == (None, 2, 3)
    with pytest.raises(NotImplementedError, match="specify the `output_shape`"):
        Lambda(lambda x: x.no_such_method()).compute_output_shape((None, 3))


def test_lambda_in_a_functional_graph_and_a_sequential():
    x = layers.Input((6,))
    assert Lambda(lambda t: t[:, :2])(x).shape == (None, 2)
    assert Lambda(double, output_shape=(9,))(x).shape == (None, 9)
    from numkeras.models.sequential import Sequential
    model = Sequential([layers.Input((6,)), Lambda(lambda t: t[:, 1:]), layers.Dense(2)])
    assert model.compute_output_shape((None, 6)) == (None, 2)
    assert model.predict(np.ones((3, 6)), verbose=0).shape == (3, 2)


# ----- Lambda: config as Keras 3 writes it -----


def test_a_lambda_is_written_as_bytecode_like_keras():
    scale = 3.0
    layer = Lambda(lambda x, offset=1.0: x * scale + offset, name="lam")
    function = layer.function
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "function", "arguments"}
    entry = config["function"]
    assert entry["class_name"] == "__lambda__"
    assert set(entry["config"]) == {"code", "defaults", "closure"}
    assert entry["config"]["defaults"] == (1.0,) and entry["config"]["closure"] == (3.0,)
    # The code is the function's marshalled bytecode in base64 (Keras's func_dump).
    code = marshal.loads(base64.b64decode(entry["config"]["code"]))
    rebuilt = types.FunctionType(code, {}, closure=function.__closure__,
                                 argdefs=(1.0,))
    assert rebuilt(2.0) == 7.0
    json.dumps(config)  # plain JSON


def test_a_named_function_is_written_by_name():
    layer = Lambda(double, output_shape=(3,), mask=None, arguments={"k": 1})
    config = layer.get_config()
    assert config["function"] == {"module": "builtins", "class_name": "function",
                                  "config": "double", "registered_name": "function"}
    assert config["output_shape"] == (3,) and config["arguments"] == {"k": 1}
    assert "mask" not in config


def test_output_shape_and_mask_functions_are_serialized_too():
    config = Lambda(double, output_shape=double, mask=lambda x, m: m).get_config()
    assert config["output_shape"]["config"] == "double"
    assert config["mask"]["class_name"] == "__lambda__"


def test_from_config_round_trip_with_custom_objects():
    layer = Lambda(double, output_shape=(3,), name="dbl")
    config = json.loads(json.dumps(layer.get_config()))
    clone = Lambda.from_config(config, custom_objects={"double": double})
    assert clone.function is double and clone.get_config() == layer.get_config()
    assert clone.compute_output_shape((None, 3)) == (None, 3)


def test_from_config_never_runs_bytecode():
    config = Lambda(lambda x: x, name="lam").get_config()
    with pytest.raises(ValueError, match="never runs code"):
        Lambda.from_config(config)
    with pytest.raises(ValueError, match="custom_objects"):
        Lambda.from_config(Lambda(double).get_config())


def test_lambda_is_exported_but_not_loadable_by_the_registry():
    assert layers.Lambda is Lambda and "Lambda" in layers.__all__
    with pytest.raises(ValueError, match="Unknown layer 'Lambda'"):
        layers.deserialize(layers.serialize(Lambda(double)))


def test_default_names():
    assert Lambda(double).name == "lambda" and Identity().name == "identity"


# ----- Identity -----


def test_identity_returns_its_inputs_and_passes_gradients(rng):
    layer = Identity(dtype="float64")
    x = Tensor(rng.standard_normal((2, 3)))
    assert layer(x) is x
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    assert layer.compute_output_shape([(None, 3), (None, 4)]) == [(None, 3), (None, 4)]
    assert check_grads(layer, rng.standard_normal((2, 3)))
    assert layers.Identity()(layers.Input((5,))).shape == (None, 5)


def test_identity_config_round_trip():
    layer = Identity(name="same")
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype"}
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is Identity and clone.get_config() == config


def test_docstring_examples():
    assert doctest.testmod(lambda_layer).failed == 0
