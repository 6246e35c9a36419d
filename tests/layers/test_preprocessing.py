"""Preprocessing layers: values against NumPy formulas (and Keras 3 where installed), seeded
repeatability, training vs inference, configs and .keras archives."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor
from numkeras.layers import CenterCrop, Dense, Flatten, Normalization, RandomFlip, Rescaling


def test_rescaling_is_scale_then_offset(rng):
    x = rng.uniform(0, 255, (2, 4, 4, 3)).astype(np.float32)
    out = Rescaling(1 / 127.5, offset=-1.0)(x)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, x / 127.5 - 1.0, rtol=1e-6, atol=1e-6)


def test_normalization_adapt_stores_population_statistics(rng):
    data = rng.normal(3.0, 2.0, (50, 4))
    layer = Normalization()
    layer.adapt(data)
    assert [(w.name, w.shape, w.trainable) for w in layer.weights] == [
        ("mean", (4,), False), ("variance", (4,), False), ("count", (), False)]
    assert int(layer.count.data) == 50
    np.testing.assert_allclose(layer(data).data, (data - data.mean(0)) / data.std(0),
                               rtol=1e-5, atol=1e-5)


def test_normalization_given_statistics_invert_and_other_axes(rng):
    x = rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
    layer = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    assert layer.weights == [] or not layer.built
    y = layer(x).data
    np.testing.assert_allclose(y, (x - [1.0, 2.0]) / [2.0, 3.0], rtol=1e-6)
    back = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)(y).data
    np.testing.assert_allclose(back, x, rtol=1e-5, atol=1e-6)
    per_row = Normalization(axis=(1, 2))
    per_row.adapt(x)
    assert per_row.mean.shape == (3, 3)
    np.testing.assert_allclose(per_row.mean.data, x.mean(axis=(0, 3)), rtol=1e-5, atol=1e-6)
    constant = Normalization()
    constant.adapt(np.ones((4, 1)))
    assert np.isfinite(constant(np.ones((2, 1))).data).all()  # max(sqrt(var), epsilon)


def test_normalization_needs_both_statistics():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        Normalization(mean=1.0)


def test_center_crop_takes_the_middle(rng):
    x = rng.normal(size=(2, 5, 6, 3)).astype(np.float32)
    layer = CenterCrop(3, 2)
    np.testing.assert_array_equal(layer(x).data, x[:, 1:4, 2:4, :])
    assert layer.compute_output_shape((None, 5, 6, 3)) == (None, 3, 2, 3)


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_flips_whole_images_in_training_only(mode, rng):
    x = rng.normal(size=(64, 3, 4, 2)).astype(np.float32)
    layer = RandomFlip(mode, seed=3)
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(layer(x, training=False).data, x)
    y = layer(x, training=True).data
    candidates = [x, x[:, :, ::-1], x[:, ::-1], x[:, ::-1, ::-1]]
    if mode == "horizontal":
        candidates = candidates[:2]
    elif mode == "vertical":
        candidates = [candidates[0], candidates[2]]
    matches = np.stack([(y == c).all(axis=(1, 2, 3)) for c in candidates])
    assert matches.any(axis=0).all()
    assert (~matches[0]).any()  # with 64 images, some are flipped
    again = RandomFlip(mode, seed=3)(x, training=True).data
    np.testing.assert_array_equal(again, y)


def test_configs_are_keras_s_and_round_trip():
    layers = [Rescaling(1 / 255, name="r"), Normalization(mean=0.5, variance=2.0, name="n"),
              CenterCrop(2, 3, name="c"), RandomFlip("horizontal", seed=1, name="f")]
    keys = [["name", "trainable", "dtype", "scale", "offset"],
            ["name", "trainable", "dtype", "axis", "invert", "mean", "variance"],
            ["name", "trainable", "dtype", "data_format", "height", "width"],
            ["name", "trainable", "dtype", "data_format", "seed", "mode"]]
    for layer, expected in zip(layers, keys):
        config = layer.get_config()
        assert sorted(config) == sorted(expected)
        assert type(layer).from_config(config).get_config() == config


def _model():
    return keras.Sequential([keras.Input((4, 4, 1)), Rescaling(1 / 255), Normalization(axis=None),
                             RandomFlip(seed=0), Flatten(), Dense(2)])


def test_keras_archive_keeps_adapted_statistics(tmp_path, rng):
    pytest.importorskip("h5py")
    x = rng.uniform(0, 255, (8, 4, 4, 1)).astype(np.float32)
    model = _model()
    model.layers[1].adapt(x / 255)
    model.save(tmp_path / "m.keras")
    clone = keras.models.load_model(tmp_path / "m.keras")
    assert [type(layer).__name__ for layer in clone.layers][:3] == [
        "Rescaling", "Normalization", "RandomFlip"]
    for saved, loaded in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))


# ----- against Keras 3 (skipped without it) -----


def test_normalization_and_rescaling_equal_keras(rng):
    real_keras = pytest.importorskip("keras")
    data = rng.normal(3.0, 2.0, (20, 3)).astype(np.float32)
    ours, theirs = Normalization(), real_keras.layers.Normalization()
    ours.adapt(data)
    theirs.adapt(data)
    np.testing.assert_allclose(ours(data).data, np.asarray(theirs(data)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(Rescaling(0.5, 2.0)(data).data,
                               np.asarray(real_keras.layers.Rescaling(0.5, 2.0)(data)))


def test_keras_opens_a_numkeras_archive_with_preprocessing(tmp_path, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.uniform(0, 255, (8, 4, 4, 1)).astype(np.float32)
    model = _model()
    model.layers[1].adapt(x / 255)
    model.save(tmp_path / "ours.keras")
    theirs = real_keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    theirs.save(tmp_path / "theirs.keras")
    back = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
