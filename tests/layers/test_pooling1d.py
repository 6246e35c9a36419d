"""1-D pooling: MaxPooling1D, AveragePooling1D and the global ones, against NumPy loops, with
Keras 3's shapes and configs, and (when Keras is installed) Keras's own outputs."""

import json

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import check_grads, ops
from numkeras.layers import (
    AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D, deserialize,
    serialize,
)

WINDOWED = [MaxPooling1D, AveragePooling1D]
GLOBAL = [GlobalMaxPooling1D, GlobalAveragePooling1D]
OPTIONS = [{}, {"padding": "same"}, {"pool_size": 3, "strides": 1},
           {"pool_size": 3, "strides": 2, "padding": "same"}, {"pool_size": 2, "strides": 3}]


def reference_pool(x, mode, pool, stride, padding):
    """TensorFlow's pooling by loops; 'same' windows use only real steps."""
    steps = x.shape[1]
    if padding == "same":
        length = -(-steps // stride)
        left = max((length - 1) * stride + pool - steps, 0) // 2
    else:
        length, left = (steps - pool) // stride + 1, 0
    out = np.empty((x.shape[0], length, x.shape[2]))
    for t in range(length):
        start = t * stride - left
        window = x[:, max(start, 0):min(start + pool, steps)]
        out[:, t] = window.max(axis=1) if mode == "max" else window.mean(axis=1)
    return out


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("cls", WINDOWED)
def test_values_match_the_loop_reference(cls, options, rng):
    x = rng.standard_normal((2, 9, 3))
    layer = cls(dtype="float64", **options)
    pool = options.get("pool_size", 2)
    expected = reference_pool(x, "max" if cls is MaxPooling1D else "avg", pool,
                              options.get("strides") or pool, options.get("padding", "valid"))
    out = layer(x).data
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert layer.compute_output_shape((None, 9, 3)) == (None,) + expected.shape[1:]


@pytest.mark.parametrize("options", OPTIONS[:3])
@pytest.mark.parametrize("cls", WINDOWED + GLOBAL)
def test_gradients_by_finite_differences(cls, options, rng):
    layer = cls(dtype="float64", **(options if cls in WINDOWED else {}))
    x = rng.permutation(70).reshape(2, 7, 5) * 0.1  # no ties, so max has a derivative
    assert check_grads(lambda x_: ops.sum(ops.tanh(layer(x_))), x)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_values_and_shapes(keepdims, rng):
    x = rng.standard_normal((2, 6, 4))
    np.testing.assert_allclose(GlobalAveragePooling1D(keepdims=keepdims)(x).data,
                               x.mean(axis=1, keepdims=keepdims), rtol=1e-6)
    np.testing.assert_allclose(GlobalMaxPooling1D(keepdims=keepdims)(x).data,
                               x.max(axis=1, keepdims=keepdims), rtol=1e-6)
    expected = (None, 1, 4) if keepdims else (None, 4)
    assert GlobalMaxPooling1D(keepdims=keepdims).compute_output_shape((None, 6, 4)) == expected


def test_symbolic_input_shapes():
    x = keras.Input(shape=(10, 3))
    assert MaxPooling1D()(x).shape == (None, 5, 3)
    assert AveragePooling1D(3, strides=2, padding="same")(x).shape == (None, 5, 3)
    assert GlobalAveragePooling1D()(x).shape == (None, 3)
    assert GlobalMaxPooling1D(keepdims=True)(keras.Input(shape=(None, 3))).shape == (None, 1, 3)
    assert MaxPooling1D()(keras.Input(shape=(None, 3))).shape == (None, None, 3)


@pytest.mark.parametrize("cls", WINDOWED + GLOBAL)
def test_wrong_rank_names_the_layer_and_shape(cls):
    with pytest.raises(ValueError, match=r"'p'.*ndim=3.*\(2, 4, 4, 1\)"):
        cls(name="p")(np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match=r"'q'.*ndim=3.*\(None, 8\)"):
        cls(name="q")(keras.Input(shape=(8,)))


def test_a_window_longer_than_the_input_is_an_error():
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling1D(4, name="m")(np.zeros((1, 3, 2)))


@pytest.mark.parametrize("cls", WINDOWED + GLOBAL)
def test_config_has_keras_keys_and_round_trips(cls):
    layer = cls(name="pool")
    config = layer.get_config()
    if cls in WINDOWED:
        assert config["pool_size"] == (2,) and config["strides"] == (2,)
        assert set(config) == {"name", "trainable", "dtype", "pool_size", "padding", "strides",
                               "data_format"}
    else:
        assert set(config) == {"name", "trainable", "dtype", "data_format", "keepdims"}
    clone = deserialize(json.loads(json.dumps(serialize(layer))))
    assert type(clone) is cls and clone.get_config() == config
    assert not layer.weights


def test_keras_aliases():
    assert keras.layers.MaxPool1D is MaxPooling1D and keras.layers.AvgPool1D is AveragePooling1D
    assert keras.layers.GlobalAvgPool1D is GlobalAveragePooling1D
    assert keras.layers.GlobalMaxPool1D is GlobalMaxPooling1D


def model():
    return keras.Sequential([keras.Input(shape=(12, 3)), keras.layers.Conv1D(4, 3),
                             MaxPooling1D(), AveragePooling1D(2, padding="same"),
                             GlobalMaxPooling1D(), keras.layers.Dense(1)])


def test_model_trains_and_round_trips_through_a_keras_archive(tmp_path, rng):
    pytest.importorskip("h5py")
    net = model()
    net.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((8, 12, 3)).astype(np.float32)
    net.fit(x, rng.standard_normal((8, 1)).astype(np.float32), epochs=1, verbose=0)
    net.save(tmp_path / "model.keras")
    clone = keras.models.load_model(tmp_path / "model.keras")
    assert [type(layer).__name__ for layer in clone.layers] == [
        "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "Dense"]
    np.testing.assert_array_equal(clone.predict(x, verbose=0), net.predict(x, verbose=0))


# ----- against Keras 3 (skipped without it) -----


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("name", ["MaxPooling1D", "AveragePooling1D"])
def test_windowed_outputs_equal_keras(name, options, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.standard_normal((2, 9, 3)).astype(np.float32)
    options = {"pool_size": 2, **options}
    theirs, ours = getattr(real_keras.layers, name)(**options), getattr(keras.layers, name)(
        **options)
    np.testing.assert_allclose(ours(x).data, np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
    assert tuple(theirs.compute_output_shape(x.shape)) == ours.compute_output_shape(x.shape)
    assert theirs.get_config().keys() == ours.get_config().keys()


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["GlobalMaxPooling1D", "GlobalAveragePooling1D"])
def test_global_outputs_equal_keras(name, keepdims, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.standard_normal((2, 9, 3)).astype(np.float32)
    theirs = getattr(real_keras.layers, name)(keepdims=keepdims)
    ours = getattr(keras.layers, name)(keepdims=keepdims)
    np.testing.assert_allclose(ours(x).data, np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
    assert theirs.get_config().keys() == ours.get_config().keys()


def test_keras_opens_a_numkeras_archive(tmp_path, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.standard_normal((4, 12, 3)).astype(np.float32)
    net = model()
    net.save(tmp_path / "ours.keras")
    theirs = real_keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               net.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
