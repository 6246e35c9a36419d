"""LayerNormalization: values against the NumPy formula, gradients, Keras 3's weights, shapes
and config, saving, and (when Keras is installed) Keras's own outputs with the same weights."""

import json

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import check_grads, ops
from numkeras.layers import LayerNormalization, deserialize, serialize


def reference(x, gamma, beta, axis, epsilon=1e-3):
    axes = tuple(axis)
    shape = [1] * x.ndim
    for a in axis:
        shape[a] = x.shape[a]
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma.reshape(shape) + beta.reshape(shape)


def random_weights(layer, rng):
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.weights])
    return layer.get_weights()


@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((2, 5, 6), -1), ((2, 5, 6), [1, 2]),
                                        ((2, 3, 4, 5), [1, 3]), ((2, 3, 4), 1)])
def test_values_match_the_formula(shape, axis, rng):
    x = rng.standard_normal(shape) * 3 + 1
    layer = LayerNormalization(axis=axis, dtype="float64")
    layer.build_from_shape(shape)
    gamma, beta = random_weights(layer, rng)
    axes = axis if isinstance(axis, list) else [axis]
    np.testing.assert_allclose(layer(x).data, reference(x, gamma, beta, axes), rtol=1e-10)


def test_defaults_normalize_each_sample_and_keep_float32(rng):
    x = (rng.standard_normal((3, 8)) * 5 + 2).astype(np.float32)
    out = LayerNormalization()(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data.mean(axis=-1), 0, atol=1e-5)
    np.testing.assert_allclose(out.data.var(axis=-1), x.var(-1) / (x.var(-1) + 1e-3), rtol=1e-4)


def test_center_scale_and_rms_scaling(rng):
    x = rng.standard_normal((2, 5))
    layer = LayerNormalization(center=False, scale=False, dtype="float64")
    assert layer(x).shape == (2, 5) and not layer.weights
    np.testing.assert_allclose(layer(x).data, reference(x, np.ones(5), np.zeros(5), [-1]))
    rms = LayerNormalization(rms_scaling=True, dtype="float64")
    out = rms(x).data
    assert [w.name for w in rms.weights] == ["gamma"]
    np.testing.assert_allclose(out, x / np.sqrt(x.var(-1, keepdims=True) + 1e-3))


@pytest.mark.parametrize("options", [{}, {"axis": [1, 2]}, {"rms_scaling": True},
                                     {"center": False}])
def test_gradients_by_finite_differences(options, rng):
    layer = LayerNormalization(dtype="float64", **options)
    x = rng.standard_normal((2, 3, 4))
    layer.build_from_shape(x.shape)
    random_weights(layer, rng)
    weights = list(layer.weights)
    mix = rng.standard_normal((2, 3, 4))

    def through_layer(x_, *ws):
        names = [w.name for w in weights]
        for name, w in zip(names, ws):
            setattr(layer, name, w)
        try:
            return ops.sum(ops.multiply(layer(x_), mix))
        finally:
            for name, w in zip(names, weights):
                setattr(layer, name, w)

    assert check_grads(through_layer, x, *[w.numpy() for w in weights])


def test_weights_names_shapes_and_initial_values():
    layer = LayerNormalization(axis=[1, 2])
    layer.build_from_shape((None, 4, 5, 6))
    assert [w.name for w in layer.weights] == ["gamma", "beta"]
    assert [w.shape for w in layer.weights] == [(4, 5), (4, 5)]
    gamma, beta = layer.get_weights()
    assert (gamma == 1).all() and (beta == 0).all()
    assert layer.axis == [1, 2]


def test_symbolic_input_shapes():
    x = keras.Input(shape=(7, 3))
    assert LayerNormalization()(x).shape == (None, 7, 3)
    assert LayerNormalization()(keras.Input(shape=(None, 3))).shape == (None, None, 3)
    assert LayerNormalization(axis=[1, 2]).compute_output_shape((None, 7, 3)) == (None, 7, 3)


def test_unknown_normalized_axis_is_an_error():
    with pytest.raises(ValueError, match=r"'ln'.*axes \[1\].*must be known"):
        LayerNormalization(axis=1, name="ln")(keras.Input(shape=(None, 3)))


def test_axis_out_of_bounds_names_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"'ln'.*axis 3.*\(2, 4\)"):
        LayerNormalization(axis=3, name="ln")(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="axis"):
        LayerNormalization(axis="last")


def test_config_has_keras_keys_and_round_trips():
    layer = LayerNormalization(epsilon=1e-5, center=False, name="ln")
    layer.build_from_shape((None, 4))
    config = layer.get_config()
    assert config["axis"] == [-1] and config["epsilon"] == 1e-5
    assert set(config) == {
        "name", "trainable", "dtype", "axis", "epsilon", "center", "scale", "rms_scaling",
        "beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
        "beta_constraint", "gamma_constraint"}
    clone = deserialize(json.loads(json.dumps(serialize(layer))))
    assert isinstance(clone, LayerNormalization) and clone.get_config() == config


def model():
    return keras.Sequential([keras.Input(shape=(6, 4)), LayerNormalization(),
                             keras.layers.Flatten(), keras.layers.Dense(2),
                             LayerNormalization(epsilon=1e-6)])


def test_model_trains_and_round_trips_through_a_keras_archive(tmp_path, rng):
    pytest.importorskip("h5py")
    net = model()
    net.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((8, 6, 4)).astype(np.float32)
    net.fit(x, rng.standard_normal((8, 2)).astype(np.float32), epochs=2, verbose=0)
    assert not np.allclose(net.layers[0].get_weights()[0], 1)
    net.save(tmp_path / "model.keras")
    clone = keras.models.load_model(tmp_path / "model.keras")
    for saved, loaded in zip(net.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), net.predict(x, verbose=0))


# ----- against Keras 3 (skipped without it) -----


@pytest.mark.parametrize("options", [{}, {"axis": [1, 2]}, {"axis": 1, "epsilon": 1e-5},
                                     {"center": False}, {"scale": False}])
def test_outputs_equal_keras_with_the_same_weights(options, rng):
    real_keras = pytest.importorskip("keras")
    x = (rng.standard_normal((2, 5, 6)) * 3 + 1).astype(np.float32)
    ours = LayerNormalization(name="ln", **options)
    theirs = real_keras.layers.LayerNormalization(name="ln", **options)
    ours.build_from_shape(x.shape)
    theirs.build(x.shape)
    random_weights(ours, rng)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).data, np.asarray(theirs(x)), rtol=1e-5, atol=1e-5)
    assert theirs.get_config() == {**ours.get_config(), "dtype": theirs.get_config()["dtype"]}


def test_keras_opens_a_numkeras_archive(tmp_path, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.standard_normal((4, 6, 4)).astype(np.float32)
    net = model()
    net.save(tmp_path / "ours.keras")
    theirs = real_keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               net.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
