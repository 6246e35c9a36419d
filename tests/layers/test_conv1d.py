"""Conv1D: values against a loop, causal/same/valid shapes, weights, config, saving, and (when
Keras is installed) Keras's own outputs with the same weights."""

import json

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, check_grads, ops
from numkeras.layers import Conv1D, deserialize, serialize

CONFIGS = [{}, {"padding": "same"}, {"padding": "causal"}, {"strides": 2},
           {"strides": 2, "padding": "same"}, {"dilation_rate": 2, "padding": "causal"},
           {"dilation_rate": 2}, {"activation": "relu"}, {"activation": "sigmoid"}]


def reference_conv1d(x, kernel, bias, stride=1, padding="valid", dilation=1):
    """Keras's Conv1D by loops: ``out[t] = sum_j x[t * stride + j * dilation - left] @ k[j]``."""
    k = kernel.shape[0]
    span = (k - 1) * dilation + 1
    steps = x.shape[1]
    if padding == "causal":
        left, length = span - 1, -(-steps // stride)
    elif padding == "same":
        length = -(-steps // stride)
        left = max((length - 1) * stride + span - steps, 0) // 2
    else:
        left, length = 0, (steps - span) // stride + 1
    out = np.zeros((x.shape[0], length, kernel.shape[2]))
    for t in range(length):
        for j in range(k):
            i = t * stride + j * dilation - left
            if 0 <= i < steps:
                out[:, t] += x[:, i] @ kernel[j]
    return out + bias


@pytest.mark.parametrize("options", CONFIGS)
def test_values_match_the_loop_reference(options, rng):
    x = rng.standard_normal((2, 9, 3))
    layer = Conv1D(4, 3, bias_initializer="random_normal", dtype="float64", **options)
    out = layer(x).data
    kernel, bias = layer.get_weights()
    linear = reference_conv1d(x, kernel, bias, options.get("strides", 1),
                              options.get("padding", "valid"), options.get("dilation_rate", 1))
    expected = {"relu": np.maximum(linear, 0), "sigmoid": 1 / (1 + np.exp(-linear))}.get(
        options.get("activation"), linear)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert layer.compute_output_shape((None, 9, 3)) == (None,) + out.shape[1:]


def test_causal_output_ignores_future_steps(rng):
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = rng.standard_normal((1, 10, 2)).astype(np.float32)
    changed = x.copy()
    changed[:, 6:] += 1.0
    np.testing.assert_array_equal(layer(x).data[:, :6], layer(changed).data[:, :6])


@pytest.mark.parametrize("options", [{}, {"padding": "causal", "dilation_rate": 2},
                                     {"strides": 2, "padding": "same"}])
def test_gradients_by_finite_differences(options, rng):
    layer = Conv1D(3, 2, bias_initializer="random_normal", dtype="float64", **options)
    x = rng.standard_normal((2, 7, 2))
    layer.build_from_shape(x.shape)
    kernel, bias = layer.kernel, layer.bias

    # check_grads passes its own Tensors: route them through the layer's kernel and bias.
    def through_layer(x_, k_, b_):
        layer.kernel, layer.bias = k_, b_
        try:
            return ops.sum(ops.tanh(layer(x_)))
        finally:
            layer.kernel, layer.bias = kernel, bias

    assert check_grads(through_layer, x, kernel.numpy(), bias.numpy())


def test_weights_layout_and_parameter_count():
    layer = Conv1D(8, 5, use_bias=True)
    layer.build_from_shape((None, 20, 3))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert [w.shape for w in layer.weights] == [(5, 3, 8), (8,)]
    assert layer.count_params() == 5 * 3 * 8 + 8
    bare = Conv1D(2, 1, use_bias=False)
    bare.build_from_shape((None, 4, 3))
    assert [w.shape for w in bare.weights] == [(1, 3, 2)]


def test_symbolic_input_shapes():
    x = keras.Input(shape=(None, 6))
    assert Conv1D(4, 3, padding="causal")(x).shape == (None, None, 4)
    x = keras.Input(shape=(16, 6))
    assert Conv1D(4, 3, strides=2)(x).shape == (None, 7, 4)
    assert Conv1D(4, 3, strides=2, padding="same")(x).shape == (None, 8, 4)


def test_wrong_rank_names_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"'seq'.*ndim=3.*\(2, 9\)"):
        Conv1D(2, 3, name="seq")(np.zeros((2, 9)))
    with pytest.raises(ValueError, match=r"'seq2'.*ndim=3.*\(None, 4, 4, 1\)"):
        Conv1D(2, 3, name="seq2")(keras.Input(shape=(4, 4, 1)))


def test_kernel_longer_than_the_input_is_an_error():
    with pytest.raises(ValueError, match="longer than the input"):
        Conv1D(2, 5, name="c")(np.zeros((1, 3, 2)))


@pytest.mark.parametrize("options,pattern", [
    ({"padding": "full"}, "padding"), ({"kernel_size": (2, 2)}, "kernel_size"),
    ({"strides": 2, "dilation_rate": 2}, "dilation_rate"), ({"groups": 2}, "groups")])
def test_invalid_arguments_are_refused(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        Conv1D(**{"filters": 2, "kernel_size": 3, **options})


def test_config_has_keras_keys_and_round_trips():
    layer = Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu", name="c1")
    config = layer.get_config()
    assert config["kernel_size"] == (3,) and config["strides"] == (1,)
    assert config["dilation_rate"] == (2,) and config["padding"] == "causal"
    assert set(config) == {
        "name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
        "data_format", "dilation_rate", "groups", "activation", "use_bias",
        "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "bias_constraint"}
    clone = deserialize(json.loads(json.dumps(serialize(layer))))
    assert isinstance(clone, Conv1D) and clone.get_config() == config
    assert keras.layers.Convolution1D is Conv1D


def model():
    return keras.Sequential([keras.Input(shape=(12, 3)),
                             Conv1D(4, 3, padding="causal", activation="relu"),
                             Conv1D(2, 2, strides=2), keras.layers.Flatten(),
                             keras.layers.Dense(1)])


def test_model_trains_and_round_trips_through_a_keras_archive(tmp_path, rng):
    pytest.importorskip("h5py")
    net = model()
    net.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((8, 12, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    net.fit(x, y, epochs=1, verbose=0)
    net.save(tmp_path / "model.keras")
    clone = keras.models.load_model(tmp_path / "model.keras")
    for saved, loaded in zip(net.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), net.predict(x, verbose=0))


# ----- against Keras 3 (skipped without it) -----


@pytest.mark.parametrize("options", CONFIGS)
def test_outputs_equal_keras_with_the_same_weights(options, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.standard_normal((2, 9, 3)).astype(np.float32)
    theirs = real_keras.layers.Conv1D(4, 3, **options)
    ours = Conv1D(4, 3, **options, bias_initializer="random_normal")
    ours.build_from_shape(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    assert tuple(theirs.compute_output_shape(x.shape)) == ours.compute_output_shape(x.shape)
    np.testing.assert_allclose(ours(x).data, np.asarray(theirs(x)), rtol=1e-5, atol=1e-5)
    assert set(theirs.get_config()) == set(ours.get_config())


def test_keras_opens_a_numkeras_archive(tmp_path, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.standard_normal((4, 12, 3)).astype(np.float32)
    net = model()
    net.save(tmp_path / "ours.keras")
    theirs = real_keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               net.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_float_inputs_only(rng):
    assert Conv1D(2, 2)(Tensor(rng.standard_normal((1, 4, 1)).astype(np.float32))).shape == (
        1, 3, 2)
