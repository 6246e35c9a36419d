"""Conv2D: values against a slow reference, Keras's shapes, weights, config and errors."""

import json
import math

import numpy as np
import pytest

from numkeras.backprop import Tensor, check_grads
from numkeras.layers.convolutional import Conv2D


def reference_conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Cross-correlation by explicit loops, with TensorFlow's 'same' padding (extra at the end)."""
    n, h, w, _ = x.shape
    kh, kw, _, filters = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        out_h, out_w = math.ceil(h / sh), math.ceil(w / sw)
        top = max((out_h - 1) * sh + span_h - h, 0) // 2
        left = max((out_w - 1) * sw + span_w - w, 0) // 2
    else:
        out_h, out_w = (h - span_h) // sh + 1, (w - span_w) // sw + 1
        top = left = 0
    out = np.zeros((n, out_h, out_w, filters))
    for b in range(n):
        for i in range(out_h):
            for j in range(out_w):
                for p in range(kh):
                    for q in range(kw):
                        y, z = i * sh + p * dh - top, j * sw + q * dw - left
                        if 0 <= y < h and 0 <= z < w:
                            out[b, i, j] += x[b, y, z] @ kernel[p, q]
    return out if bias is None else out + bias


def with_weights(layer, x, kernel, bias=None):
    """Run ``layer`` on ``x`` with the given weights (any arrays or Tensors)."""
    saved = layer.kernel, layer.bias
    layer.kernel, layer.bias = kernel, bias
    try:
        return layer(x)
    finally:
        layer.kernel, layer.bias = saved


CONFIGS = [
    {"kernel_size": 3},
    {"kernel_size": 3, "padding": "same"},
    {"kernel_size": (2, 3), "strides": 2},
    {"kernel_size": (3, 2), "strides": (2, 1), "padding": "same"},
    {"kernel_size": 2, "strides": (1, 3), "padding": "same"},
    {"kernel_size": 3, "dilation_rate": 2},
    {"kernel_size": (2, 3), "dilation_rate": (2, 1), "padding": "same"},
    {"kernel_size": 1},
]


@pytest.mark.parametrize("options", CONFIGS)
@pytest.mark.parametrize("channels", [1, 3])
def test_values_match_the_reference(options, channels, rng):
    x = rng.standard_normal((2, 7, 8, channels)).astype(np.float32)
    layer = Conv2D(4, **options, bias_initializer="random_normal")
    out = layer(x)
    kernel, bias = layer.get_weights()
    expected = reference_conv2d(x, kernel, bias, layer.strides, layer.padding,
                                layer.dilation_rate)
    assert out.dtype == np.float32
    assert out.shape == expected.shape == layer.compute_output_shape((2, 7, 8, channels))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)


def test_same_padding_puts_the_extra_pixel_at_the_bottom_right():
    # 5x5 input, 2x2 kernel of ones, stride 2: TensorFlow pads 0 rows on top, 1 at the bottom,
    # so the first output sums x[0:2, 0:2] and the last one sees only x[4, 4].
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    layer = Conv2D(1, 2, strides=2, padding="same", kernel_initializer="ones", use_bias=False)
    out = layer(x).data[0, :, :, 0]
    assert out.shape == (3, 3)
    assert out[0, 0] == 0 + 1 + 5 + 6
    assert out[2, 2] == 24
    assert out[0, 2] == 4 + 9


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear", None])
def test_activation(activation, rng):
    x = rng.standard_normal((2, 6, 6, 2)).astype(np.float32)
    layer = Conv2D(3, 3, activation=activation, bias_initializer="random_normal")
    layer.build_from_shape(x.shape)
    kernel, bias = layer.get_weights()
    linear = reference_conv2d(x, kernel, bias)
    expected = {"relu": np.maximum(linear, 0), "tanh": np.tanh(linear),
                "sigmoid": 1 / (1 + np.exp(-linear))}.get(activation, linear)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-5, atol=1e-6)
    assert layer.get_config()["activation"] == (activation or "linear")


@pytest.mark.parametrize("shape,options,expected", [
    ((None, 28, 28, 1), {"filters": 32, "kernel_size": 3}, (None, 26, 26, 32)),
    ((None, 28, 28, 1), {"filters": 8, "kernel_size": 3, "padding": "same"}, (None, 28, 28, 8)),
    ((None, 28, 28, 3), {"filters": 8, "kernel_size": 3, "strides": 2}, (None, 13, 13, 8)),
    ((None, 28, 28, 3), {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
     (None, 14, 14, 8)),
    ((None, 27, 20, 3), {"filters": 8, "kernel_size": (4, 2), "strides": (3, 2)}, (None, 8, 10, 8)),
    ((None, 28, 28, 1), {"filters": 4, "kernel_size": 3, "dilation_rate": 2}, (None, 24, 24, 4)),
    ((None, 28, 28, 1),
     {"filters": 4, "kernel_size": 5, "dilation_rate": (3, 1), "padding": "same"},
     (None, 28, 28, 4)),
    ((None, None, None, 3), {"filters": 4, "kernel_size": 3}, (None, None, None, 4)),
    ((16, 11, None, 3), {"filters": 4, "kernel_size": 3, "strides": 2}, (16, 5, None, 4)),
])
def test_compute_output_shape_uses_keras_formulas(shape, options, expected):
    assert Conv2D(**options).compute_output_shape(shape) == expected


def test_weights_have_keras_layout_order_and_counts():
    # The layers of the Keras fixture keras3_cnn_model.weights.h5: conv2d/vars/0 (3, 3, 1, 8),
    # vars/1 (8,).
    layer = Conv2D(8, (3, 3))
    layer.build_from_shape((None, 28, 28, 1))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert [w.shape for w in layer.weights] == [(3, 3, 1, 8), (8,)]
    assert layer.count_params() == 80
    assert all(w.dtype == np.float32 for w in layer.weights)
    second = Conv2D(64, 3)
    second.build_from_shape((None, 13, 13, 32))
    assert second.count_params() == 18496
    no_bias = Conv2D(64, 3, use_bias=False)
    no_bias.build_from_shape((None, 13, 13, 32))
    assert no_bias.count_params() == 18432 and len(no_bias.weights) == 1


def test_default_initializers_are_glorot_uniform_and_zeros():
    layer = Conv2D(16, 3)
    layer.build_from_shape((None, 8, 8, 4))
    limit = math.sqrt(6 / (3 * 3 * 4 + 3 * 3 * 16))  # fans multiply by the kernel area
    kernel, bias = layer.get_weights()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    assert not bias.any()


KERAS_KEYS = {"name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
              "data_format", "dilation_rate", "groups", "activation", "use_bias",
              "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
              "activity_regularizer", "kernel_constraint", "bias_constraint"}


def test_config_has_keras_keys_and_round_trips():
    layer = Conv2D(6, (3, 2), strides=(2, 1), padding="SAME", activation="relu",
                   use_bias=False, kernel_initializer="he_normal", kernel_regularizer="l2",
                   bias_constraint="non_neg", activity_regularizer="l1", name="features")
    config = layer.get_config()
    assert set(config) == KERAS_KEYS
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 1)
    assert config["padding"] == "same" and config["data_format"] == "channels_last"
    assert config["dilation_rate"] == (1, 1) and config["groups"] == 1
    assert config["name"] == "features" and config["activation"] == "relu"
    clone = Conv2D.from_config(config)
    assert clone.get_config() == config


def test_int_arguments_become_pairs():
    layer = Conv2D(2, 5, strides=1, dilation_rate=1)
    assert (layer.kernel_size, layer.strides, layer.dilation_rate) == ((5, 5), (1, 1), (1, 1))


@pytest.mark.parametrize("options", [
    {"kernel_size": 3},
    {"kernel_size": (2, 3), "strides": (2, 1), "padding": "same"},
    {"kernel_size": 2, "dilation_rate": 2, "padding": "same"},
    {"kernel_size": 3, "activation": "tanh"},
])
def test_gradients_through_the_layer(options, rng):
    layer = Conv2D(3, **options, dtype="float64")
    x = rng.standard_normal((2, 6, 5, 2))
    layer.build_from_shape(x.shape)
    kernel, _ = layer.get_weights()
    assert check_grads(lambda x, k, b: with_weights(layer, x, k, b), x, kernel,
                       rng.standard_normal(3))


def test_gradients_through_relu_and_no_bias(rng):
    layer = Conv2D(2, 2, activation="relu", use_bias=False, dtype="float64")
    x = np.abs(rng.standard_normal((2, 4, 4, 1))) + 0.1
    layer.build_from_shape(x.shape)
    kernel = np.abs(rng.standard_normal((2, 2, 1, 2))) + 0.1  # away from relu's kink
    assert check_grads(lambda x, k: with_weights(layer, x, k), x, kernel)


def test_first_layer_trains_without_an_input_gradient(rng):
    layer = Conv2D(4, 3)
    x = Tensor(rng.standard_normal((2, 5, 5, 1)).astype(np.float32))
    layer(x).sum().backward()
    assert x.grad is None
    assert layer.kernel.grad.shape == (3, 3, 1, 4) and layer.kernel.grad.dtype == np.float32
    # Each bias gets one unit of gradient per output pixel.
    np.testing.assert_allclose(layer.bias.grad, np.full(4, 2 * 3 * 3))


def test_regularizers_add_losses(rng):
    layer = Conv2D(2, 3, kernel_regularizer="l2", bias_regularizer="l1",
                   bias_initializer="ones")
    layer(rng.standard_normal((1, 5, 5, 1)))
    kernel, _ = layer.get_weights()
    penalties = [float(p.data) for p in layer.losses]
    assert penalties == pytest.approx([0.01 * np.sum(kernel ** 2), 0.01 * 2])


# ----- errors -----


def test_a_3d_batch_suggests_adding_the_channel_axis():
    with pytest.raises(ValueError, match=r"ndim=4.*\(32, 28, 28\).*x\[\.\.\., None\].*"
                                         r"Reshape\(\(28, 28, 1\)\)"):
        Conv2D(8, 3)(np.zeros((32, 28, 28)))
    layer = Conv2D(8, 3)
    layer(np.zeros((1, 28, 28, 1)))
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        layer(np.zeros((32, 28, 28)))


def test_a_kernel_larger_than_the_input_is_an_error_with_the_shapes():
    with pytest.raises(ValueError, match=r"larger than the input.*\(2, 3\).*\(1, 2, 3, 1\)"):
        Conv2D(4, 3)(np.zeros((1, 2, 3, 1)))
    with pytest.raises(ValueError, match=r"spans \(5, 5\)"):
        Conv2D(4, 3, dilation_rate=2).compute_output_shape((None, 4, 4, 1))
    assert Conv2D(4, 3, padding="same")(np.zeros((1, 2, 3, 1))).shape == (1, 2, 3, 4)
    layer = Conv2D(4, 3)
    layer.build_from_shape((None, None, None, 1))  # sizes known only at call time
    with pytest.raises(ValueError, match="larger than the input"):
        layer(np.zeros((1, 2, 8, 1)))


def test_channels_must_match_the_built_kernel():
    layer = Conv2D(4, 3)
    layer(np.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"axis -1 .* value 1.*\(2, 8, 8, 3\)"):
        layer(np.zeros((2, 8, 8, 3)))


@pytest.mark.parametrize("options,pattern", [
    ({"filters": 0, "kernel_size": 3}, r"`filters`.*filters=0"),
    ({"filters": 2.5, "kernel_size": 3}, r"`filters`.*filters=2\.5"),
    ({"filters": 4, "kernel_size": 0}, r"`kernel_size`.*kernel_size=0"),
    ({"filters": 4, "kernel_size": (3, 3, 3)}, r"`kernel_size`.*tuple of 2"),
    ({"filters": 4, "kernel_size": 3, "strides": (1, 0)}, r"`strides`.*strides=\(1, 0\)"),
    ({"filters": 4, "kernel_size": 3, "padding": "full"}, r"`padding`.*'full'"),
    ({"filters": 4, "kernel_size": 3, "padding": "causal"}, r"`padding`.*'causal'"),
    ({"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, r"channels_last"),
    ({"filters": 4, "kernel_size": 3, "data_format": "nhwc"}, r"`data_format`.*'nhwc'"),
    ({"filters": 4, "kernel_size": 3, "groups": 2}, r"groups=2"),
    ({"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, r"strides.*dilation_rate"),
    ({"filters": 4, "kernel_size": 3, "activation": "relux"}, r"relux"),
])
def test_invalid_arguments_name_the_argument_and_value(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        Conv2D(**options)


def test_config_survives_json_like_keras_files(rng):
    layer = Conv2D(3, (2, 3), strides=(1, 2), padding="same", kernel_regularizer="l1")
    clone = Conv2D.from_config(json.loads(json.dumps(layer.get_config())))
    assert clone.get_config() == layer.get_config()
    x = rng.standard_normal((1, 5, 6, 2)).astype(np.float32)
    clone.build_from_shape(x.shape)
    layer.build_from_shape(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, layer(x).data)


def test_backward_passes_do_not_share_buffers(rng):
    # VJP temporaries come from a pool of reused buffers: two graphs alive at once, and one
    # graph differentiated twice, must give the gradients a fresh run gives.
    layer = Conv2D(4, 3, activation="relu", padding="same")
    inputs = [rng.standard_normal((2, 6, 6, 3)).astype(np.float32) for _ in range(2)]

    def gradient(x, runs=1):
        tensor = Tensor(x, requires_grad=True)
        out = layer(tensor)
        for _ in range(runs):
            out.backward(np.ones(out.shape, np.float32))
        return tensor.grad

    expected = [gradient(x) for x in inputs]
    first, second = (Tensor(x, requires_grad=True) for x in inputs)
    out_first, out_second = layer(first), layer(second)
    out_second.backward(np.ones(out_second.shape, np.float32))
    out_first.backward(np.ones(out_first.shape, np.float32))
    np.testing.assert_array_equal(first.grad, expected[0])
    np.testing.assert_array_equal(second.grad, expected[1])
    np.testing.assert_allclose(gradient(inputs[0], runs=2), 2 * expected[0], rtol=1e-6)
