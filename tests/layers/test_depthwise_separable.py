"""DepthwiseConv1D/2D and SeparableConv1D/2D against Keras 3: outputs with the same weights
(fixtures captured by tests/fixtures/depthwise_separable/make_fixtures.py, so no Keras is
needed), serialized configs, weight layouts, gradients, errors, training and .keras files
(both ways with real Keras when it is installed)."""

import json
import pathlib

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, check_grads, image_ops
from numkeras.layers import (
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
    SeparableConvolution2D, deserialize,
)
from numkeras.saving.serialization import layer_from_entry, serialize_layer

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "depthwise_separable"
CASES = json.loads((FIXTURES / "cases.json").read_text())
ARRAYS = dict(np.load(FIXTURES / "cases.npz"))


def _weights(name):
    return [ARRAYS[f"{name}/w{i}"] for i in range(8) if f"{name}/w{i}" in ARRAYS]


def _without_axes(value):
    """A config without Keras 3.15's initializer axes keys (numkeras computes them)."""
    if isinstance(value, dict):
        return {k: _without_axes(v) for k, v in value.items()
                if k not in ("input_axes", "output_axes")}
    return value


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_equal_keras_with_the_same_weights(name):
    x = ARRAYS[f"{name}/x"]
    layer = layer_from_entry(CASES[name]["entry"])
    layer.build_from_shape(x.shape)
    assert [w.name for w in layer.weights] == CASES[name]["weights"]
    layer.set_weights(_weights(name))
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == ARRAYS[f"{name}/y"].shape
    assert layer.compute_output_shape(x.shape) == out.shape
    np.testing.assert_allclose(out.data, ARRAYS[f"{name}/y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_serialized_layer_equals_keras(name):
    layer = layer_from_entry(CASES[name]["entry"])
    layer.build_from_shape(ARRAYS[f"{name}/x"].shape)
    ours = json.loads(json.dumps(serialize_layer(layer)))
    assert _without_axes(ours) == _without_axes(CASES[name]["entry"])


def test_aliases_and_registry():
    assert SeparableConvolution2D is SeparableConv2D
    for alias in ("SeparableConvolution1D", "SeparableConvolution2D", "DepthwiseConv2D"):
        layer = deserialize({"class_name": alias, "config": {
            "kernel_size": 3, **({} if alias.startswith("Depthwise") else {"filters": 2})}})
        assert layer.kernel_size[0] == 3


def test_depthwise_equals_a_block_diagonal_conv2d(rng):
    # Output channel c*M + m is filter m of input channel c: Conv2D with a kernel that is
    # zero between different channels computes the same numbers.
    x = rng.standard_normal((2, 7, 7, 3)).astype("float32")
    kernel = rng.standard_normal((3, 3, 3, 2)).astype("float32")
    dense_kernel = np.zeros((3, 3, 3, 6), np.float32)
    for c in range(3):
        dense_kernel[:, :, c, 2 * c:2 * c + 2] = kernel[:, :, c]
    for options in ({}, {"padding": "same", "strides": 2}, {"dilation_rate": 2}):
        np.testing.assert_allclose(image_ops.depthwise_conv2d(x, kernel, **options).data,
                                   image_ops.conv2d(x, dense_kernel, **options).data,
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer,shape", [
    (DepthwiseConv2D(3, depth_multiplier=2, padding="same", dtype="float64"), (2, 5, 5, 2)),
    (SeparableConv2D(3, 2, strides=2, activation="tanh", dtype="float64"), (2, 5, 6, 2)),
    (DepthwiseConv1D(3, dtype="float64"), (2, 6, 3)),
    (SeparableConv1D(2, 3, padding="same", depth_multiplier=2, dtype="float64"), (2, 6, 3)),
])
def test_gradients_with_respect_to_inputs_and_weights(layer, shape, rng):
    x = rng.standard_normal(shape)
    layer.build_from_shape(shape)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.weights])
    # The weights' gradients come from the gradient-checked primitives (depthwise_conv2d,
    # dense); here: they reach every Variable, and the input gradient is right end to end.
    out = layer(Tensor(x, requires_grad=True))
    out.backward(np.ones(out.shape))
    assert all(w.grad is not None and np.abs(w.grad).sum() > 0 for w in layer.weights)
    assert check_grads(lambda inputs: layer(inputs), x)


def test_float32_stays_float32(rng):
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    for layer in (DepthwiseConv2D(3), SeparableConv2D(2, 3, activation="relu")):
        out = layer(Tensor(x, requires_grad=True))
        out.backward(np.ones(out.shape, np.float32))
        assert out.dtype == np.float32 and all(w.grad.dtype == np.float32
                                               for w in layer.weights)


@pytest.mark.parametrize("make,shape,message", [
    (lambda: DepthwiseConv2D(3), (2, 8, 8), "channel axis"),
    (lambda: DepthwiseConv2D(5), (2, 3, 3, 2), "larger than the input"),
    (lambda: SeparableConv1D(2, 3), (2, 8, 3, 1), "expected ndim=3"),
    (lambda: DepthwiseConv1D(4), (2, 3, 2), "longer than the input"),
])
def test_bad_shapes_name_the_layer_and_shape(make, shape, message):
    layer = make()
    with pytest.raises(ValueError, match=message) as error:
        layer(np.zeros(shape, np.float32))
    assert layer.name in str(error.value) and str(shape) in str(error.value)


@pytest.mark.parametrize("make,message", [
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: SeparableConv2D(0, 3), "filters"),
    (lambda: DepthwiseConv2D(3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: SeparableConv2D(2, 3, data_format="channels_middle"), "data_format"),
    (lambda: DepthwiseConv1D(3, padding="causal"), "padding"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def _image_model(api):
    L = api.layers
    return api.Sequential([
        api.Input((8, 8, 3)), L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        L.SeparableConv2D(4, 3, strides=2, activation="relu"), L.GroupNormalization(2),
        L.Flatten(), L.Dense(3, activation="softmax")])


def _sequence_model(api):
    L = api.layers
    return api.Sequential([
        api.Input((10, 4)), L.SeparableConv1D(6, 3, padding="same", activation="relu"),
        L.DepthwiseConv1D(3, depth_multiplier=2), L.GlobalAveragePooling1D(), L.Dense(2)])


def test_model_trains_and_round_trips(tmp_path, rng):
    x = rng.standard_normal((48, 8, 8, 3)).astype("float32")
    y = (x[..., 0].mean(axis=(1, 2)) > 0).astype("int64")
    model = _image_model(keras)
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "conv.keras")
    loaded = keras.models.load_model(tmp_path / "conv.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("build,shape", [(_image_model, (3, 8, 8, 3)),
                                         (_sequence_model, (3, 10, 4))])
def test_keras_file_round_trips_both_ways(build, shape, tmp_path, rng):
    k = pytest.importorskip("keras")
    theirs, ours = build(k), build(keras)
    for w in theirs.weights:  # random biases and GroupNormalization weights too
        w.assign(rng.standard_normal(w.shape).astype("float32") * 0.5)
    x = rng.standard_normal(shape).astype("float32")
    theirs.save(tmp_path / "theirs.keras")
    loaded = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    ours.set_weights([rng.standard_normal(w.shape) * 0.5 for w in ours.weights])
    ours.save(tmp_path / "ours.keras")
    back = k.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_docstring_examples_run():
    import doctest

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for obj in (DepthwiseConv2D, DepthwiseConv1D, SeparableConv2D, SeparableConv1D,
                image_ops.depthwise_conv2d):
        for test in finder.find(obj):
            runner.run(test)
    assert runner.failures == 0 and runner.tries >= 10
