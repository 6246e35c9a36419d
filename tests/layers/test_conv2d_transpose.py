"""Conv2DTranspose: values against a scatter-add loop, Keras 3's shapes, weights, config,
saving, and (when Keras is installed) Keras's own outputs with the same weights."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, check_grads
from numkeras.layers.convolutional import Conv2DTranspose
from numkeras.saving import serialization


def reference_conv2d_transpose(x, kernel, bias, strides, padding, output_padding, dilation):
    """The adjoint of TensorFlow's conv2d, by explicit loops: each input pixel (i, j) adds
    ``kernel[a, b] @ x[i, j]`` to output pixel ``(i*sh + a*dh - top, j*sw + b*dw - left)``.

    The output length is Keras's; ``top`` is TensorFlow's 'same' padding of the forward conv2d
    that maps the output back to the input (half the excess, the odd pixel at the end).
    """
    n, h, w, _ = x.shape
    kh, kw, filters, _ = kernel.shape
    lengths, pads = [], []
    for size, k, s, extra, d in zip((h, w), (kh, kw), strides, output_padding or (None, None),
                                    dilation):
        span = (k - 1) * d + 1
        if padding == "valid":
            length = (size - 1) * s + span + (max(s - span, 0) if extra is None else extra)
            pads.append(0)
        else:
            length = size * s if extra is None else (size - 1) * s + span % 2 + extra
            pads.append(max((size - 1) * s + span - length, 0) // 2)
        lengths.append(length)
    out = np.zeros((n, *lengths, filters))
    (sh, sw), (dh, dw), (top, left) = strides, dilation, pads
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    y, z = i * sh + a * dh - top, j * sw + b * dw - left
                    if 0 <= y < lengths[0] and 0 <= z < lengths[1]:
                        out[:, y, z] += x[:, i, j] @ kernel[a, b].T
    return out if bias is None else out + bias


CONFIGS = [
    {"kernel_size": 3},
    {"kernel_size": 3, "strides": 2, "padding": "same"},
    {"kernel_size": 3, "strides": 2},
    {"kernel_size": (4, 2), "strides": (2, 3), "padding": "same"},
    {"kernel_size": 3, "strides": 2, "output_padding": 1},
    {"kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 0},
    {"kernel_size": (2, 3), "strides": (3, 2), "output_padding": (2, 1)},
    {"kernel_size": 1, "strides": 2},
    {"kernel_size": 2, "strides": 3, "padding": "same"},
    {"kernel_size": 3, "dilation_rate": 2},
    {"kernel_size": (3, 2), "dilation_rate": (1, 2), "padding": "same"},
]


@pytest.mark.parametrize("options", CONFIGS)
@pytest.mark.parametrize("channels", [1, 3])
def test_values_match_the_scatter_add_loop(options, channels, rng):
    x = rng.standard_normal((2, 4, 5, channels)).astype(np.float32)
    layer = Conv2DTranspose(4, **options, bias_initializer="random_normal")
    out = layer(x)
    kernel, bias = layer.get_weights()
    expected = reference_conv2d_transpose(x, kernel, bias, layer.strides, layer.padding,
                                          layer.output_padding, layer.dilation_rate)
    assert out.dtype == np.float32
    assert out.shape == expected.shape == layer.compute_output_shape((2, 4, 5, channels))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)


def test_stride_2_kernel_2_tiles_each_pixel_into_a_block():
    # The classic 2x upsampling: with a kernel of ones, every input pixel becomes a 2x2 block.
    x = np.arange(4.0, dtype=np.float32).reshape(1, 2, 2, 1)
    layer = Conv2DTranspose(1, 2, strides=2, kernel_initializer="ones", use_bias=False)
    np.testing.assert_array_equal(layer(x).data[0, :, :, 0],
                                  np.kron(x[0, :, :, 0], np.ones((2, 2))))


# Expected shapes printed by Keras 3.15.1's Conv2DTranspose.compute_output_shape.
@pytest.mark.parametrize("shape,options,expected", [
    ((None, 7, 7, 16), {"kernel_size": 3, "strides": 2, "padding": "same"}, (None, 14, 14, 8)),
    ((None, 7, 7, 16), {"kernel_size": 3, "strides": 2}, (None, 15, 15, 8)),
    ((None, 7, 7, 16), {"kernel_size": 3, "strides": 2, "output_padding": 1},
     (None, 16, 16, 8)),
    ((None, 7, 7, 16), {"kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 0},
     (None, 13, 13, 8)),
    ((None, 7, 5, 16), {"kernel_size": (4, 2), "strides": (2, 3), "padding": "same"},
     (None, 14, 15, 8)),
    ((None, 7, 7, 16), {"kernel_size": 1, "strides": 2}, (None, 14, 14, 8)),
    ((None, 7, 7, 16), {"kernel_size": 3, "dilation_rate": 2}, (None, 11, 11, 8)),
    ((None, 7, 7, 16), {"kernel_size": (5, 2), "strides": (3, 2), "output_padding": (2, 1)},
     (None, 25, 15, 8)),
    ((4, None, None, 3), {"kernel_size": 3, "strides": 2}, (4, None, None, 8)),
    ((None, 28, 28, 1), {"kernel_size": 3}, (None, 30, 30, 8)),
])
def test_compute_output_shape_uses_keras_formulas(shape, options, expected):
    assert Conv2DTranspose(8, **options).compute_output_shape(shape) == expected


def test_weights_have_keras_layout_order_and_counts():
    layer = Conv2DTranspose(8, (3, 2), strides=2)
    layer.build_from_shape((None, 7, 7, 16))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert [w.shape for w in layer.weights] == [(3, 2, 8, 16), (8,)]  # filters before channels
    assert layer.count_params() == 3 * 2 * 8 * 16 + 8
    assert all(w.dtype == np.float32 for w in layer.weights)
    no_bias = Conv2DTranspose(8, 3, use_bias=False)
    no_bias.build_from_shape((None, 7, 7, 16))
    assert len(no_bias.weights) == 1 and no_bias.count_params() == 3 * 3 * 8 * 16


KERAS_KEYS = {"name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
              "output_padding", "data_format", "dilation_rate", "activation", "use_bias",
              "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
              "activity_regularizer", "kernel_constraint", "bias_constraint"}


def test_config_has_keras_keys_and_round_trips():
    layer = Conv2DTranspose(6, (3, 2), strides=(2, 3), padding="SAME", output_padding=(1, 2),
                            activation="relu", kernel_initializer="he_normal",
                            kernel_regularizer="l2", bias_constraint="non_neg", name="up")
    config = layer.get_config()
    assert set(config) == KERAS_KEYS
    assert config["output_padding"] == (1, 2) and config["padding"] == "same"
    assert config["name"] == "up" and config["activation"] == "relu"
    assert Conv2DTranspose.from_config(config).get_config() == config
    assert Conv2DTranspose(2, 3).get_config()["output_padding"] is None
    entry = keras.layers.serialize(layer)
    assert entry["class_name"] == "Conv2DTranspose"
    assert keras.layers.deserialize(entry).get_config() == config
    assert keras.layers.Convolution2DTranspose is Conv2DTranspose


def test_default_name_is_keras_s():
    assert Conv2DTranspose(2, 3).name == "conv2d_transpose"


@pytest.mark.parametrize("options,pattern", [
    ({"strides": 2, "output_padding": 2}, r"`output_padding` must be less than the stride"),
    ({"output_padding": 1}, r"`output_padding` must be less than the stride"),
    ({"strides": 2, "dilation_rate": 2}, r"`strides > 1` is not supported together"),
    ({"output_padding": -1}, r"`output_padding` .* non-negative"),
    ({"padding": "full"}, r"`padding` .* 'valid' or 'same'"),
    ({"data_format": "channels_first"}, r"only 'channels_last'"),
])
def test_invalid_arguments_name_the_argument_and_value(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        Conv2DTranspose(4, 3, **options)


def test_empty_output_is_an_error_naming_the_shapes():
    layer = Conv2DTranspose(2, 2, strides=2, padding="same", output_padding=0)
    with pytest.raises(ValueError, match=r"give an empty output \(0, 0\)"):
        layer(np.zeros((1, 1, 1, 3), np.float32))


def test_a_3d_batch_suggests_adding_the_channel_axis():
    with pytest.raises(ValueError, match="add one with"):
        Conv2DTranspose(2, 3)(np.zeros((2, 5, 5), np.float32))


@pytest.mark.parametrize("options", [{}, {"strides": 2, "padding": "same"},
                                     {"strides": (2, 3), "output_padding": (1, 2)}])
def test_gradients_through_the_layer(options, rng):
    layer = Conv2DTranspose(3, (3, 2), **options, activation="tanh", dtype="float64")
    x = rng.standard_normal((2, 3, 4, 2))
    layer.build_from_shape(x.shape)
    kernel, bias = layer.get_weights()

    def run(x, kernel, bias):
        saved = layer.kernel, layer.bias
        layer.kernel, layer.bias = kernel, bias
        try:
            return layer(x)
        finally:
            layer.kernel, layer.bias = saved

    assert check_grads(run, x, kernel, bias)
    out = layer(Tensor(x))
    out.sum().backward()
    assert layer.kernel.grad.shape == kernel.shape and layer.bias.grad.shape == bias.shape


def test_regularizers_add_losses(rng):
    layer = Conv2DTranspose(2, 3, kernel_regularizer=keras.regularizers.L2(0.1),
                            activity_regularizer="l1")
    layer(rng.standard_normal((1, 3, 3, 2)).astype(np.float32))
    assert len(layer.losses) == 2


def autoencoder():
    return keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2DTranspose(1, 3, padding="same", output_padding=None),
    ])


def test_an_autoencoder_trains(rng):
    model = autoencoder()
    model.compile(optimizer="adam", loss="mse")
    x = rng.uniform(0, 1, (32, 6, 6, 1)).astype(np.float32)
    history = model.fit(x, x, epochs=5, batch_size=8, verbose=0)
    assert model.predict(x, verbose=0).shape == x.shape
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_save_and_load_round_trip(tmp_path, suffix, rng):
    pytest.importorskip("h5py")
    model = autoencoder()
    model.compile(optimizer="adam", loss="mse")
    x = rng.uniform(0, 1, (4, 6, 6, 1)).astype(np.float32)
    model.fit(x, x, epochs=1, verbose=0)
    path = tmp_path / f"model{suffix}"
    if suffix == ".keras":
        model.save(path)
        clone = keras.models.load_model(path)
        assert [type(layer).__name__ for layer in clone.layers] == [
            "Conv2D", "Conv2DTranspose", "Conv2DTranspose"]
        assert clone.layers[1].get_config() == model.layers[1].get_config()
    else:
        model.save_weights(path)
        clone = autoencoder()
        clone.load_weights(path)
    for saved, loaded in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    np.testing.assert_array_equal(model.predict(x, verbose=0), clone.predict(x, verbose=0))


def test_legacy_tf_keras_config_with_groups_loads():
    # tf.keras 2.x's Conv2DTranspose inherits Conv2D.get_config, so its .h5 files say groups=1.
    config = {**Conv2DTranspose(2, 3, name="up").get_config(), "groups": 1}
    layer = serialization.layer_from_entry(
        {"class_name": "Conv2DTranspose", "config": config})
    assert isinstance(layer, Conv2DTranspose) and layer.name == "up"
    with pytest.raises(Exception, match="groups=2"):
        serialization.layer_from_entry(
            {"class_name": "Conv2DTranspose", "config": {**config, "groups": 2}})


# ----- against Keras 3 (skipped without it) -----


@pytest.mark.parametrize("options", CONFIGS)
def test_outputs_equal_keras_with_the_same_weights(options, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    theirs = real_keras.layers.Conv2DTranspose(4, **options)
    ours = Conv2DTranspose(4, **options, bias_initializer="random_normal")
    ours.build_from_shape(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    expected = np.asarray(theirs(x))
    assert tuple(theirs.compute_output_shape(x.shape)) == ours.compute_output_shape(x.shape)
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-5)


def test_keras_opens_a_numkeras_archive_and_numkeras_opens_keras_s(tmp_path, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.uniform(0, 1, (4, 6, 6, 1)).astype(np.float32)
    model = autoencoder()
    model.save(tmp_path / "ours.keras")
    theirs = real_keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    theirs.save(tmp_path / "theirs.keras")
    back = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), np.asarray(theirs.predict(
        x, verbose=0)), rtol=1e-5, atol=1e-6)
