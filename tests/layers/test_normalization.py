"""BatchNormalization: training vs inference, moving statistics, weights, config, gradients."""

import numpy as np
import pytest

from numkeras.backprop import Tensor, check_grads
from numkeras.layers.normalization import BatchNormalization


def reference(x, mean, var, gamma, beta, epsilon, axis=-1):
    shape = [1] * x.ndim
    shape[axis] = -1
    return (gamma.reshape(shape) * (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape)
            + epsilon) + beta.reshape(shape))


def trained_layer(rng, **options):
    """A built layer whose four weights are random (variance positive)."""
    layer = BatchNormalization(**options)
    layer.build_from_shape((None, 5, 5, 3))
    layer.set_weights([rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3),
                       rng.uniform(0.5, 2.0, 3)])
    return layer


def test_weights_order_shapes_and_parameter_counts():
    layer = BatchNormalization()
    layer.build_from_shape((None, 26, 26, 8))
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.shape for w in layer.weights] == [(8,)] * 4
    assert layer.count_params() == 32  # as Keras prints: 32 params, 16 non-trainable
    assert sum(w.size for w in layer.non_trainable_weights) == 16
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    gamma, beta, mean, var = layer.get_weights()
    assert (gamma == 1).all() and (beta == 0).all() and (mean == 0).all() and (var == 1).all()
    bare = BatchNormalization(center=False, scale=False)
    bare.build_from_shape((None, 8))
    assert [w.name for w in bare.weights] == ["moving_mean", "moving_variance"]


def test_training_normalizes_with_batch_statistics_and_updates_moving_ones(rng):
    layer = trained_layer(rng, momentum=0.9)
    gamma, beta, mean0, var0 = layer.get_weights()
    x = (rng.standard_normal((4, 5, 5, 3)) * 3 + 2).astype(np.float32)
    out = layer(x, training=True)
    batch_mean, batch_var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))  # biased variance
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference(x, batch_mean, batch_var, gamma, beta, 1e-3),
                               rtol=1e-4, atol=1e-5)
    # Keras: moving = moving * momentum + batch * (1 - momentum), in place.
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean0 * 0.9 + batch_mean * 0.1,
                               rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), var0 * 0.9 + batch_var * 0.1,
                               rtol=1e-5)


def test_moving_statistics_converge_to_the_data_statistics(rng):
    layer = BatchNormalization(momentum=0.5)
    x = rng.standard_normal((64, 3)) * 2 + 5
    for _ in range(40):
        layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.var(axis=0), rtol=1e-5)


@pytest.mark.parametrize("training", [None, False])
def test_inference_uses_moving_statistics_and_changes_nothing(training, rng):
    layer = trained_layer(rng, epsilon=0.01)
    before = layer.get_weights()
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    out = layer(x, training=training)
    gamma, beta, mean, var = before
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference(x, mean, var, gamma, beta, 0.01), rtol=1e-5,
                               atol=1e-5)
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_a_frozen_layer_runs_in_inference_mode_even_in_training(rng):
    layer = trained_layer(rng)
    layer.trainable = False
    before = layer.get_weights()
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    gamma, beta, mean, var = before
    np.testing.assert_allclose(layer(x, training=True).data,
                               reference(x, mean, var, gamma, beta, 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), before[2])
    assert layer.trainable_weights == []


def test_other_axis_and_without_center_or_scale(rng):
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32) + 1
    layer = BatchNormalization(axis=1, center=False, scale=False)
    out = layer(x, training=True).data
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out, reference(x, mean, var, np.ones(3), np.zeros(3), 1e-3,
                                              axis=1), rtol=1e-4, atol=1e-5)
    assert layer.compute_output_shape((None, 3, 2, 2)) == (None, 3, 2, 2)


@pytest.mark.parametrize("training", [True, False])
def test_gradients_through_the_layer(training, rng):
    layer = BatchNormalization(dtype="float64", momentum=0.0)
    layer.build_from_shape((None, 3, 2, 4))
    layer.set_weights([np.ones(4), np.zeros(4), rng.standard_normal(4), rng.uniform(1, 2, 4)])
    frozen = [w.numpy() for w in (layer.moving_mean, layer.moving_variance)]

    def run(x, gamma, beta):
        saved = layer.gamma, layer.beta
        layer.gamma, layer.beta = gamma, beta
        try:
            return layer(x, training=training)
        finally:
            layer.gamma, layer.beta = saved
            # Finite differences run the layer many times; keep the moving averages fixed so
            # every inference run sees the same statistics.
            layer.moving_mean.assign(frozen[0])
            layer.moving_variance.assign(frozen[1])

    x = rng.standard_normal((5, 3, 2, 4))
    assert check_grads(run, x, rng.standard_normal(4), rng.standard_normal(4))


def test_gamma_and_beta_receive_gradients_in_training(rng):
    layer = BatchNormalization()
    x = Tensor(rng.standard_normal((8, 3)).astype(np.float32), requires_grad=True)
    (layer(x, training=True) * 2.0).sum().backward()
    np.testing.assert_allclose(layer.beta.grad, np.full(3, 16.0))
    np.testing.assert_allclose(layer.gamma.grad, np.zeros(3), atol=1e-5)  # sum of x_hat is 0
    np.testing.assert_allclose(x.grad, np.zeros((8, 3)), atol=1e-5)
    assert layer.moving_mean.grad is None


KERAS_KEYS = {"name", "trainable", "dtype", "axis", "momentum", "epsilon", "center", "scale",
              "beta_initializer", "gamma_initializer", "moving_mean_initializer",
              "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
              "beta_constraint", "gamma_constraint", "synchronized"}


def test_config_has_keras_keys_and_round_trips():
    layer = BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False,
                               gamma_regularizer="l2", beta_constraint="non_neg", name="bn")
    config = layer.get_config()
    assert set(config) == KERAS_KEYS
    assert (config["axis"], config["momentum"], config["epsilon"]) == (1, 0.9, 1e-5)
    assert config["synchronized"] is False
    assert BatchNormalization.from_config(config).get_config() == config
    assert BatchNormalization().name == "batch_normalization"


def test_feature_count_must_match_the_built_weights():
    layer = BatchNormalization()
    layer(np.zeros((2, 4, 4, 8)))
    with pytest.raises(ValueError, match=r"axis -1 .* value 8.*\(2, 4, 4, 3\)"):
        layer(np.zeros((2, 4, 4, 3)))


@pytest.mark.parametrize("options,error,pattern", [
    ({"axis": 1.5}, TypeError, r"`axis`.*axis=1\.5"),
    ({"momentum": 1.5}, ValueError, r"`momentum`.*momentum=1\.5"),
    ({"epsilon": 0}, ValueError, r"`epsilon`.*epsilon=0"),
])
def test_invalid_arguments_name_the_argument_and_value(options, error, pattern):
    with pytest.raises(error, match=pattern):
        BatchNormalization(**options)


def test_axis_out_of_range():
    with pytest.raises(ValueError, match=r"axis=3.*\(None, 4\)"):
        BatchNormalization(axis=3).build_from_shape((None, 4))
