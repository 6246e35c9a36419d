"""ZeroPadding2D, UpSampling2D, Cropping2D, RepeatVector, Permute: values, shapes, gradients,
config, errors."""

import math

import numpy as np
import pytest

from numkeras.backprop import check_grads
from numkeras import layers
from numkeras.layers.reshaping import (
    Cropping2D, Permute, RepeatVector, UpSampling2D, ZeroPadding2D,
)

# ----- ZeroPadding2D -----


@pytest.mark.parametrize("padding,expected", [
    (1, ((1, 1), (1, 1))),
    ((2, 0), ((2, 2), (0, 0))),
    (((1, 2), (3, 0)), ((1, 2), (3, 0))),
    ([[0, 1], 2], ((0, 1), (2, 2))),
])
def test_zero_padding_forms_and_values(padding, expected, rng):
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    layer = ZeroPadding2D(padding)
    out = layer(x)
    (top, bottom), (left, right) = expected
    assert layer.padding == expected
    assert out.dtype == np.float32
    assert out.shape == (2, 3 + top + bottom, 4 + left + right, 2)
    assert out.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_array_equal(out.data, np.pad(x, ((0, 0), *expected, (0, 0))))


def test_zero_padding_shapes_gradient_and_config(rng):
    layer = ZeroPadding2D(((1, 0), (2, 1)), dtype="float64")
    assert layer.compute_output_shape((None, None, 5, 3)) == (None, None, 8, 3)
    assert check_grads(layer, rng.standard_normal((2, 3, 2, 2)))
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "padding", "data_format"}
    assert config["padding"] == ((1, 0), (2, 1))
    assert ZeroPadding2D.from_config(config).get_config() == config


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), ((1, 2, 3), 1), "same", ((1, -2), 0)])
def test_zero_padding_rejects_bad_padding(padding):
    with pytest.raises(ValueError, match="padding"):
        ZeroPadding2D(padding)


# ----- UpSampling2D -----


def test_nearest_repeats_rows_and_columns(rng):
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    layer = UpSampling2D((2, 3))
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_array_equal(out.data, x.repeat(2, axis=1).repeat(3, axis=2))


def reference_bilinear(x, fy, fx):
    """TensorFlow's bilinear resize with half-pixel centres, by loops."""
    n, h, w, c = x.shape
    out = np.zeros((n, h * fy, w * fx, c))

    def taps(i, factor, length):
        source = (i + 0.5) / factor - 0.5
        low = math.floor(source)
        frac = source - low
        return [(min(max(low, 0), length - 1), 1 - frac), (min(low + 1, length - 1), frac)]

    for i in range(h * fy):
        for j in range(w * fx):
            for r, wr in taps(i, fy, h):
                for q, wq in taps(j, fx, w):
                    out[:, i, j] += wr * wq * x[:, r, q]
    return out


def test_bilinear_matches_tensorflow_resize(rng):
    # tf.image.resize([0, 1] -> 4 samples, "bilinear") gives [0, 0.25, 0.75, 1].
    row = UpSampling2D((1, 2), interpolation="bilinear")(np.array([[[[0.0], [1.0]]]]))
    np.testing.assert_allclose(row.data[0, 0, :, 0], [0, 0.25, 0.75, 1])
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    out = UpSampling2D((3, 2), interpolation="Bilinear")(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference_bilinear(x, 3, 2), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_upsampling_gradients(interpolation, rng):
    layer = UpSampling2D((2, 3), interpolation=interpolation, dtype="float64")
    assert check_grads(layer, rng.standard_normal((2, 3, 2, 2)))


def test_upsampling_shape_and_config():
    layer = UpSampling2D(2, interpolation="bilinear")
    assert layer.compute_output_shape((None, 14, None, 8)) == (None, 28, None, 8)
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "size", "data_format", "interpolation"}
    assert config["size"] == (2, 2) and config["interpolation"] == "bilinear"
    assert UpSampling2D.from_config(config).get_config() == config


def test_default_names_are_keras_snake_case():
    assert UpSampling2D().name == "up_sampling2d" and ZeroPadding2D().name == "zero_padding2d"


@pytest.mark.parametrize("options,pattern", [
    ({"size": 0}, r"`size`.*size=0"),
    ({"interpolation": "bicubic"}, r"interpolation='bicubic'"),
    ({"data_format": "channels_first"}, r"channels_last"),
])
def test_upsampling_rejects_bad_arguments(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        UpSampling2D(**options)


@pytest.mark.parametrize("layer", [ZeroPadding2D(), UpSampling2D()])
def test_a_3d_batch_suggests_adding_the_channel_axis(layer):
    with pytest.raises(ValueError, match=r"ndim=4.*x\[\.\.\., None\]"):
        layer(np.zeros((4, 28, 28)))


# ----- Cropping2D -----


@pytest.mark.parametrize("cropping,expected", [
    (1, ((1, 1), (1, 1))),
    ((2, 0), ((2, 2), (0, 0))),
    (((1, 2), (3, 0)), ((1, 2), (3, 0))),
    (((0, 0), (0, 0)), ((0, 0), (0, 0))),
])
def test_cropping_forms_and_values(cropping, expected, rng):
    x = rng.standard_normal((2, 7, 8, 3)).astype(np.float32)
    layer = Cropping2D(cropping)
    out = layer(x)
    (top, bottom), (left, right) = expected
    assert layer.cropping == expected
    assert out.dtype == np.float32 and out.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_array_equal(out.numpy(), x[:, top:7 - bottom, left:8 - right, :])


def test_cropping_channels_first(rng):
    x = rng.standard_normal((2, 3, 6, 5))
    layer = Cropping2D(((1, 2), (0, 1)), data_format="channels_first")
    np.testing.assert_allclose(layer(x).numpy(), x[:, :, 1:4, 0:4].astype(np.float32))
    assert layer.compute_output_shape((None, 3, 6, None)) == (None, 3, 3, None)


def test_cropping_shapes_gradient_and_config(rng):
    layer = Cropping2D(((1, 0), (2, 1)), dtype="float64")
    assert layer.compute_output_shape((None, None, 5, 3)) == (None, None, 2, 3)
    assert check_grads(layer, rng.standard_normal((2, 4, 5, 2)))
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "cropping", "data_format"}
    assert config["cropping"] == ((1, 0), (2, 1)) and config["data_format"] == "channels_last"
    assert Cropping2D.from_config(config).get_config() == config
    assert layers.Cropping2D(2)(layers.Input((10, 12, 3))).shape == (None, 6, 8, 3)


@pytest.mark.parametrize("cropping", [-1, (1, 2, 3), ((1, 2, 3), 1), "same", ((1, -2), 0)])
def test_cropping_rejects_bad_cropping(cropping):
    with pytest.raises(ValueError, match="cropping"):
        Cropping2D(cropping)


def test_cropping_larger_than_the_image_is_refused():
    layer = Cropping2D(((2, 2), (0, 0)))
    with pytest.raises(ValueError, match=r"Cropping2D 'cropping2d'.*smaller than.*\(None, 4, 5"):
        layer.build((None, 4, 5, 3))
    with pytest.raises(ValueError, match="smaller than"):
        Cropping2D(((0, 0), (3, 3)))(np.zeros((1, 8, 6, 1)))
    with pytest.raises(ValueError, match="ndim=4"):
        Cropping2D(1)(np.zeros((1, 8, 6)))
    with pytest.raises(ValueError, match="data_format"):
        Cropping2D(1, data_format="channels_middle")


# ----- RepeatVector -----


def test_repeat_vector_values_shape_gradient(rng):
    x = rng.standard_normal((2, 3))
    layer = RepeatVector(4, dtype="float64")
    out = layer(x)
    assert out.shape == (2, 4, 3) == layer.compute_output_shape(x.shape)
    np.testing.assert_array_equal(out.numpy(), np.repeat(x[:, None, :], 4, axis=1))
    assert check_grads(layer, x)
    assert layers.RepeatVector(3)(layers.Input((32,))).shape == (None, 3, 32)


def test_repeat_vector_config_and_errors():
    layer = RepeatVector(5)
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "n"} and config["n"] == 5
    assert RepeatVector.from_config(config).get_config() == config
    assert layer.name == "repeat_vector"
    with pytest.raises(TypeError, match="integer value for `n`"):
        RepeatVector(2.0)
    with pytest.raises(ValueError, match="positive integer. Received: n=0"):
        RepeatVector(0)
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        RepeatVector(2)(np.zeros((1, 2, 3)))


# ----- Permute -----


@pytest.mark.parametrize("dims", [(2, 1), (1, 2), (3, 1, 2), (2, 3, 1)])
def test_permute_values_shape_gradient(dims, rng):
    x = rng.standard_normal((2,) + (3, 4, 5)[:len(dims)])
    layer = Permute(dims, dtype="float64")
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), np.transpose(x, (0,) + dims))
    assert out.shape == layer.compute_output_shape(x.shape)
    assert check_grads(layer, x)


def test_permute_config_and_errors():
    layer = Permute([2, 1])
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "dims"} and config["dims"] == (2, 1)
    assert Permute.from_config(config).get_config() == config
    assert layers.Permute((2, 1))(layers.Input((10, 64))).shape == (None, 64, 10)
    assert layer.compute_output_shape((None, None, 7)) == (None, 7, None)
    for dims in [(0, 1), (1, 3), (2, 2), "ab"]:
        with pytest.raises(ValueError, match="consecutive and start from 1"):
            Permute(dims)
    with pytest.raises(ValueError, match="expected ndim=3"):
        Permute((2, 1))(np.zeros((2, 3)))


@pytest.mark.parametrize("layer", [Cropping2D(), Permute((2, 1)), RepeatVector(2)])
def test_new_layers_are_registered(layer):
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
