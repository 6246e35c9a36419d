"""Pooling layers: values and gradients against slow references, shapes, config, errors."""

import json
import math

import numpy as np
import pytest

from numkeras.backprop import Tensor, check_grads
from numkeras.layers.pooling import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling2D,
)


def windows(shape, pool, strides, padding):
    """For each output (i, j), the input rows and columns of its window, TensorFlow's way:
    'same' pads the extra pixel at the end, and windows keep only real pixels."""
    _, h, w, _ = shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        out_h, out_w = math.ceil(h / sh), math.ceil(w / sw)
        top = max((out_h - 1) * sh + ph - h, 0) // 2
        left = max((out_w - 1) * sw + pw - w, 0) // 2
    else:
        out_h, out_w, top, left = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    for i in range(out_h):
        for j in range(out_w):
            rows = [r for r in range(i * sh - top, i * sh - top + ph) if 0 <= r < h]
            cols = [c for c in range(j * sw - left, j * sw - left + pw) if 0 <= c < w]
            yield i, j, rows, cols


def output_hw(shape, pool, strides, padding):
    cells = list(windows(shape, pool, strides, padding))
    return cells[-1][0] + 1, cells[-1][1] + 1


def reference_pool(x, pool, strides, padding, mode):
    out = np.zeros((x.shape[0], *output_hw(x.shape, pool, strides, padding), x.shape[3]))
    for i, j, rows, cols in windows(x.shape, pool, strides, padding):
        patch = x[:, rows][:, :, cols]  # (N, rows, cols, C)
        out[:, i, j] = patch.max(axis=(1, 2)) if mode == "max" else patch.mean(axis=(1, 2))
    return out


def reference_max_pool_grad(x, g, pool, strides, padding):
    """TensorFlow's MaxPoolGrad: each window's gradient goes to its first maximum (row-major)."""
    grad = np.zeros_like(x)
    for i, j, rows, cols in windows(x.shape, pool, strides, padding):
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                patch = x[n, rows][:, cols, c]
                r, q = np.unravel_index(np.argmax(patch), patch.shape)  # first maximum
                grad[n, rows[r], cols[q], c] += g[n, i, j, c]
    return grad


OPTIONS = [
    {},
    {"pool_size": 3},
    {"pool_size": (2, 2), "strides": 1},
    {"pool_size": 3, "strides": 2, "padding": "same"},
    {"pool_size": (3, 2), "strides": (2, 1), "padding": "same"},
    {"pool_size": (2, 3), "strides": (3, 2)},
    {"pool_size": 2, "padding": "same"},
]


def resolved(layer):
    return layer.pool_size, layer.strides, layer.padding


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("cls,mode", [(MaxPooling2D, "max"), (AveragePooling2D, "average")])
def test_values_match_the_reference(cls, mode, options, rng):
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    layer = cls(**options)
    out = layer(x)
    expected = reference_pool(x, *resolved(layer), mode)
    assert out.dtype == np.float32
    assert out.shape == expected.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)


def test_same_average_pooling_counts_only_real_pixels():
    # 3x3 ones, 2x2 windows, stride 2, 'same': TensorFlow pads one row and column at the end,
    # and those windows average their real pixels only, so every output is exactly 1.
    out = AveragePooling2D(padding="same")(np.ones((1, 3, 3, 1))).data
    assert out.shape == (1, 2, 2, 1) and (out == 1).all()


@pytest.mark.parametrize("options", OPTIONS)
def test_max_pool_gradient_goes_to_the_first_maximum(options, rng):
    # Few distinct values, so most windows hold ties.
    x = rng.integers(0, 3, (2, 7, 6, 3)).astype(np.float64)
    layer = MaxPooling2D(**options, dtype="float64")
    tensor = Tensor(x, requires_grad=True)
    out = layer(tensor)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    np.testing.assert_allclose(tensor.grad, reference_max_pool_grad(x, g, *resolved(layer)))


def test_max_pool_gradient_on_constant_input_lands_top_left():
    tensor = Tensor(np.zeros((1, 4, 4, 1)), requires_grad=True)
    MaxPooling2D()(tensor).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(tensor.grad[0, :, :, 0], expected)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_gradients_by_finite_differences(cls, options, rng):
    # A permutation: distinct values, so the maximum of each window is unique.
    x = rng.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3) * 0.1
    assert check_grads(cls(**options, dtype="float64"), x)


@pytest.mark.parametrize("shape,options,expected", [
    ((None, 26, 26, 32), {}, (None, 13, 13, 32)),
    ((None, 11, 11, 64), {}, (None, 5, 5, 64)),
    ((None, 11, 11, 64), {"padding": "same"}, (None, 6, 6, 64)),
    ((None, 28, 28, 3), {"pool_size": 3, "strides": 1}, (None, 26, 26, 3)),
    ((None, 28, 28, 3), {"pool_size": 3, "strides": 1, "padding": "same"}, (None, 28, 28, 3)),
    ((None, 10, 9, 3), {"pool_size": (3, 2), "strides": (2, 3)}, (None, 4, 3, 3)),
    ((8, None, 9, 3), {}, (8, None, 4, 3)),
])
@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_compute_output_shape_uses_keras_formulas(cls, shape, options, expected):
    assert cls(**options).compute_output_shape(shape) == expected


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_config_has_keras_keys_and_round_trips(cls):
    layer = cls(pool_size=3, padding="Same", name="pool")
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "pool_size", "padding", "strides",
                           "data_format"}
    assert config["pool_size"] == (3, 3) and config["strides"] == (3, 3)  # default: pool_size
    assert config["padding"] == "same" and config["data_format"] == "channels_last"
    assert cls.from_config(config).get_config() == config


def test_keras_aliases_and_default_names():
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D
    assert MaxPooling2D().name == "max_pooling2d"
    assert AveragePooling2D().name == "average_pooling2d"


def test_pooling_has_no_weights():
    layer = MaxPooling2D()
    layer(np.zeros((1, 4, 4, 2)))
    assert layer.weights == [] and layer.count_params() == 0


# ----- global pooling -----


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_values_and_shapes(keepdims, rng):
    x = rng.standard_normal((3, 5, 4, 2)).astype(np.float32)
    for cls, reduce in ((GlobalAveragePooling2D, np.mean), (GlobalMaxPooling2D, np.max)):
        layer = cls(keepdims=keepdims)
        out = layer(x)
        expected = reduce(x, axis=(1, 2), keepdims=keepdims)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.data, expected, rtol=1e-6)
        assert layer.compute_output_shape((None, 5, 4, 2)) == (
            (None, 1, 1, 2) if keepdims else (None, 2))


@pytest.mark.parametrize("cls", [GlobalAveragePooling2D, GlobalMaxPooling2D])
def test_global_pooling_gradients_and_config(cls, rng):
    x = rng.permutation(2 * 3 * 4 * 2).reshape(2, 3, 4, 2) * 0.1
    assert check_grads(cls(dtype="float64"), x)
    assert check_grads(cls(keepdims=True, dtype="float64"), x)
    config = cls(keepdims=True).get_config()
    assert set(config) == {"name", "trainable", "dtype", "data_format", "keepdims"}
    assert cls.from_config(config).get_config() == config


# ----- errors -----


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
                                 GlobalMaxPooling2D])
def test_a_3d_batch_suggests_adding_the_channel_axis(cls):
    with pytest.raises(ValueError, match=r"ndim=4.*\(8, 28, 28\).*x\[\.\.\., None\]"):
        cls()(np.zeros((8, 28, 28)))


def test_a_window_larger_than_the_input_is_an_error():
    with pytest.raises(ValueError, match=r"pool_size.*larger than the input.*\(1, 2, 5, 1\)"):
        MaxPooling2D(3)(np.zeros((1, 2, 5, 1)))
    assert MaxPooling2D(3, padding="same")(np.zeros((1, 2, 5, 1))).shape == (1, 1, 2, 1)


@pytest.mark.parametrize("options,pattern", [
    ({"pool_size": 0}, r"`pool_size`.*pool_size=0"),
    ({"pool_size": (2, 2, 2)}, r"`pool_size`"),
    ({"strides": (0, 1)}, r"`strides`.*\(0, 1\)"),
    ({"padding": "full"}, r"`padding`.*'full'"),
    ({"data_format": "channels_first"}, r"channels_last"),
])
def test_invalid_arguments_name_the_argument_and_value(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        MaxPooling2D(**options)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_config_survives_json(cls):
    layer = cls(pool_size=(3, 2), strides=(1, 2), padding="same")
    clone = cls.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone.get_config() == layer.get_config()
