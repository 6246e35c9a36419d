"""ZeroPadding2D and UpSampling2D: values, shapes, gradients, config, errors."""

import math

import numpy as np
import pytest

from numkeras.backprop import check_grads
from numkeras.layers.reshaping import UpSampling2D, ZeroPadding2D

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
