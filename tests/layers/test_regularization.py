"""SpatialDropout2D: whole channels dropped in training, identity at inference."""

import numpy as np
import pytest

from numkeras.backprop import Tensor
from numkeras.layers.core import Dropout
from numkeras.layers.regularization import SpatialDropout2D


def test_training_drops_whole_channels_and_scales_the_rest(rng):
    x = rng.uniform(1, 2, (16, 5, 4, 8)).astype(np.float32)
    out = SpatialDropout2D(0.25, seed=3)(x, training=True).data
    assert out.dtype == np.float32
    ratio = out / x  # (N, H, W, C), each (sample, channel) constant over H and W
    per_map = ratio[:, 0, 0, :]
    assert np.allclose(ratio, per_map[:, None, None, :])
    kept = per_map[per_map != 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    dropped = np.mean(per_map == 0)
    assert 0.1 < dropped < 0.4  # 128 maps at rate 0.25


@pytest.mark.parametrize("training", [None, False])
def test_inference_passes_inputs_through(training, rng):
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(SpatialDropout2D(0.5)(x, training=training).data, x)


def test_seed_repeats_and_masks_change_between_calls():
    x = np.ones((4, 2, 2, 16), np.float32)
    first = SpatialDropout2D(0.5, seed=7)
    second = SpatialDropout2D(0.5, seed=7)
    a, b = first(x, training=True).data, second(x, training=True).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, first(x, training=True).data)


def test_gradient_follows_the_mask(rng):
    x = Tensor(rng.standard_normal((3, 4, 4, 5)), requires_grad=True)
    layer = SpatialDropout2D(0.4, seed=1, dtype="float64")
    out = layer(x, training=True)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, out.data / x.data)


def test_config_is_keras_spatial_dropout_config():
    layer = SpatialDropout2D(0.3, seed=5, name="drop")
    config = layer.get_config()
    assert config == {"rate": 0.3, "seed": 5, "name": "drop", "dtype": "float32",
                      "data_format": "channels_last"}
    assert SpatialDropout2D.from_config(config).get_config() == config
    assert isinstance(layer, Dropout)
    assert layer.compute_output_shape((None, 5, 5, 3)) == (None, 5, 5, 3)
    assert SpatialDropout2D(0.1).name == "spatial_dropout2d"


@pytest.mark.parametrize("options,pattern", [
    ({"rate": 1.0}, r"rate"),
    ({"rate": -0.1}, r"rate"),
    ({"rate": 0.5, "data_format": "channels_first"}, r"channels_last"),
])
def test_invalid_arguments(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        SpatialDropout2D(**options)


def test_a_3d_batch_suggests_adding_the_channel_axis():
    with pytest.raises(ValueError, match=r"ndim=4.*x\[\.\.\., None\]"):
        SpatialDropout2D(0.5)(np.zeros((4, 28, 28)), training=True)
