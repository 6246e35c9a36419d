"""Preprocessing layers: values against NumPy formulas (and Keras 3 where installed), seeded
repeatability, training vs inference, configs and .keras archives."""

import json
import pathlib

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor
from numkeras.layers import (
    CenterCrop, Dense, Flatten, Normalization, RandomBrightness, RandomContrast, RandomCrop,
    RandomFlip, Rescaling, Resizing,
)


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


def test_random_contrast_is_the_keras_formula_with_the_layer_s_generator(rng):
    x = rng.uniform(0, 255, (4, 3, 3, 2)).astype(np.float32)
    layer = RandomContrast(0.5, seed=7)
    assert layer.factor == (0, 0.5)  # Keras 3 stores a number f as (0, f)
    np.testing.assert_array_equal(layer(x).data, x)
    c = np.random.default_rng(7).uniform(1.0, 1.5, (4, 1, 1, 1))
    mean = x.mean(axis=(1, 2), keepdims=True)
    expected = np.clip((x - mean) * c + mean, 0, 255)
    np.testing.assert_allclose(layer(x, training=True).data, expected, rtol=1e-5, atol=1e-4)


def test_random_brightness_adds_a_clipped_delta_per_image(rng):
    x = rng.uniform(0, 1, (4, 3, 3, 2)).astype(np.float32)
    layer = RandomBrightness(0.2, value_range=(1, 0), seed=5)
    assert layer.factor == (-0.2, 0.2) and layer.value_range == [0, 1]
    np.testing.assert_array_equal(layer(x, training=False).data, x)
    delta = np.random.default_rng(5).uniform(-0.2, 0.2, (4, 1, 1, 1))
    np.testing.assert_allclose(layer(x, training=True).data, np.clip(x + delta, 0, 1),
                               rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        RandomBrightness(1.5)


def test_resizing_bilinear_uses_half_pixel_centres():
    x = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
    out = Resizing(1, 4)(x).data.ravel()
    np.testing.assert_allclose(out, [0.0, 0.25, 0.75, 1.0])
    nearest = Resizing(1, 4, interpolation="nearest")(x).data.ravel()
    np.testing.assert_array_equal(nearest, [0.0, 0.0, 1.0, 1.0])
    image = np.arange(4 * 6, dtype=np.float32).reshape(1, 4, 6, 1)
    cropped = Resizing(2, 2, crop_to_aspect_ratio=True)(image).data
    np.testing.assert_allclose(cropped, Resizing(2, 2)(image[:, :, 1:5]).data)
    assert Resizing(3, 5).compute_output_shape((None, 8, 8, 3)) == (None, 3, 5, 3)


def test_random_crop_takes_one_window_per_batch_in_training(rng):
    x = rng.normal(size=(3, 6, 7, 2)).astype(np.float32)
    layer = RandomCrop(4, 3, seed=2)
    y = layer(x, training=True).data
    assert y.shape == (3, 4, 3, 2)
    windows = [(t, c) for t in range(3) for c in range(5)
               if np.array_equal(x[:, t:t + 4, c:c + 3], y)]
    assert len(windows) == 1
    np.testing.assert_array_equal(RandomCrop(4, 3, seed=2)(x, training=True).data, y)


def test_configs_are_keras_s_and_round_trip():
    layers = [Rescaling(1 / 255, name="r"), Normalization(mean=0.5, variance=2.0, name="n"),
              CenterCrop(2, 3, name="c"), RandomFlip("horizontal", seed=1, name="f"),
              RandomContrast(0.2, seed=1, name="rc"), RandomBrightness(0.2, seed=1, name="rb"),
              RandomCrop(2, 2, seed=1, name="crop"), Resizing(2, 3, name="rs")]
    keys = [["name", "trainable", "dtype", "scale", "offset"],
            ["name", "trainable", "dtype", "axis", "invert", "mean", "variance"],
            ["name", "trainable", "dtype", "data_format", "height", "width"],
            ["name", "trainable", "dtype", "data_format", "seed", "mode"],
            ["name", "trainable", "dtype", "data_format", "factor", "value_range", "seed"],
            ["name", "trainable", "dtype", "data_format", "factor", "value_range", "seed"],
            ["name", "trainable", "dtype", "data_format", "height", "width", "seed"],
            ["name", "trainable", "dtype", "data_format", "height", "width", "interpolation",
             "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode", "fill_value",
             "antialias"]]
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


@pytest.mark.parametrize("size", [(7, 5), (3, 3), (2, 9), (10, 10)])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("crop", [False, True])
def test_resizing_equals_keras(size, interpolation, crop, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.normal(size=(2, 5, 6, 3)).astype(np.float32)
    theirs = real_keras.layers.Resizing(*size, interpolation, crop)(x)
    ours = Resizing(*size, interpolation, crop)(x).data
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(8, 4), (5, 6), (2, 9), (5, 3)])
def test_random_crop_of_small_inputs_equals_keras(size, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.normal(size=(2, 5, 6, 3)).astype(np.float32)
    theirs = real_keras.layers.RandomCrop(*size)(x, training=True)
    np.testing.assert_allclose(RandomCrop(*size)(x, training=True).data, np.asarray(theirs),
                               rtol=1e-5, atol=1e-5)


_CROP_FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "random_crop"


@pytest.mark.parametrize("case", sorted(json.loads(
    (_CROP_FIXTURES / "cases.json").read_text())["cases"]))
def test_random_crop_at_inference_is_keras_s_documented_smart_resize(case):
    # Reference: Keras 3.15.1's smart_resize, which tf.keras 2.21's RandomCrop matches at
    # inference (make_fixtures.py); Keras 3.15.1's layer itself returns its input there.
    stored = np.load(_CROP_FIXTURES / "cases.npz")
    size = json.loads((_CROP_FIXTURES / "cases.json").read_text())["cases"][case]["size"]
    x, expected = stored[f"{case}/x"], stored[f"{case}/y"]
    layer = RandomCrop(*size)
    out = layer(x).data
    assert out.shape == expected.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)  # pixels in [0, 255]
    np.testing.assert_array_equal(layer(x, training=False).data, out)


def test_random_crop_model_predicts_its_declared_shape(rng):
    model = keras.Sequential([keras.Input((8, 8, 3)), RandomCrop(4, 6, seed=0), Flatten(),
                              Dense(2)])
    assert model.output_shape == (None, 2)
    x = rng.uniform(size=(5, 8, 8, 3)).astype(np.float32)
    assert model.predict(x, verbose=0).shape == (5, 2)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((5, 2), np.float32), epochs=1, verbose=0)  # random windows
    centred = model.layers[0](x).data  # the 8x8 images' centred 5x8 window, resized
    np.testing.assert_allclose(centred, Resizing(4, 6, crop_to_aspect_ratio=True)(x).data)


# ----- affine augmentations -----


class _Draws:
    """Stands in for a layer's generator: returns the given draws in order."""

    def __init__(self, *draws):
        self.draws = list(draws)

    def uniform(self, low, high, size):
        return np.asarray(self.draws.pop(0), dtype=np.float64).reshape(size)


def test_random_translation_by_whole_pixels_shifts_and_reflects():
    from numkeras.layers import RandomTranslation

    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5, 1)
    layer = RandomTranslation(0.0, 0.4)
    np.testing.assert_array_equal(layer(x).data, x)
    layer._rng = _Draws([0.0], [0.4])  # 0.4 * width 5 = 2 columns to the right
    np.testing.assert_array_equal(layer(x, training=True).data.ravel(), [1, 0, 0, 1, 2])


def test_random_rotation_half_turn_and_zoom_identity():
    from numkeras.layers import RandomRotation, RandomZoom

    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1)
    rotation = RandomRotation(0.5)
    assert rotation.factor == (-0.5, 0.5)
    rotation._rng = _Draws([180.0])
    np.testing.assert_allclose(rotation(x, training=True).data, x[:, ::-1, ::-1], atol=1e-5)
    zoom = RandomZoom(0.2, seed=1)
    zoom._rng = _Draws([0.0])
    np.testing.assert_allclose(zoom(x, training=True).data, x, atol=1e-6)


@pytest.mark.parametrize("name", ["RandomTranslation", "RandomRotation", "RandomZoom"])
def test_affine_layers_repeat_with_a_seed_and_round_trip(name, rng):
    from numkeras import layers

    cls = getattr(layers, name)
    args = (0.2,) if name == "RandomRotation" else (0.2, 0.3)
    x = rng.normal(size=(4, 6, 5, 2)).astype(np.float32)
    first = cls(*args, seed=4)(x, training=True).data
    np.testing.assert_array_equal(cls(*args, seed=4)(x, training=True).data, first)
    assert not np.allclose(first, x)
    config = cls(*args, seed=4, fill_mode="constant").get_config()
    assert cls.from_config(config).get_config() == config


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_layers_equal_keras_for_the_same_draws(fill_mode, interpolation, rng):
    real_keras = pytest.importorskip("keras")
    from numkeras.layers import RandomRotation, RandomTranslation, RandomZoom

    x = rng.normal(size=(3, 5, 6, 2)).astype(np.float32)
    options = {"fill_mode": fill_mode, "interpolation": interpolation, "fill_value": 0.5}
    pairs = []
    theirs = real_keras.layers.RandomRotation(0.3, **options)
    draw = theirs.get_random_transformation(x, training=True)
    ours = RandomRotation(0.3, **options)
    ours._rng = _Draws(np.asarray(draw["angle"]))
    pairs.append((ours, theirs, draw))
    theirs = real_keras.layers.RandomTranslation(0.3, (-0.2, 0.4), **options)
    draw = theirs.get_random_transformation(x, training=True)
    shifts = np.asarray(draw["translations"])
    ours = RandomTranslation(0.3, (-0.2, 0.4), **options)
    ours._rng = _Draws(shifts[:, 1] / 5, shifts[:, 0] / 6)
    pairs.append((ours, theirs, draw))
    theirs = real_keras.layers.RandomZoom(0.3, (-0.2, 0.4), **options)
    draw = theirs.get_random_transformation(x, training=True)
    ours = RandomZoom(0.3, (-0.2, 0.4), **options)
    ours._rng = _Draws(np.asarray(draw["height_zoom"]).ravel() - 1,
                       np.asarray(draw["width_zoom"]).ravel() - 1)
    pairs.append((ours, theirs, draw))
    for ours, theirs, draw in pairs:
        expected = np.asarray(theirs.transform_images(x, draw, training=True))
        np.testing.assert_allclose(ours(x, training=True).data, expected, atol=1e-5)
        assert sorted(ours.get_config()) == sorted(theirs.get_config())
