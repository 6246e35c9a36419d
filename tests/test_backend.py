"""keras.backend's tf.keras 2 random helpers (random_normal, random_uniform)."""

import numpy as np

import numkeras as keras
import numkeras.compat.tf as tf


def test_random_normal_takes_tf_shape_entries_and_repeats_with_a_seed():
    """The tf.keras subclassing guide's Sampling layer: shape=(tf.shape(z)[0], tf.shape(z)[1])."""
    z = tf.ones((512, 8))
    draws = keras.backend.random_normal(shape=(tf.shape(z)[0], tf.shape(z)[1]), mean=1.0,
                                        stddev=2.0, seed=3)
    values = np.asarray(draws)
    assert values.shape == (512, 8) and values.dtype == np.float32
    assert abs(values.mean() - 1.0) < 0.2 and abs(values.std() - 2.0) < 0.2
    again = keras.backend.random_normal(shape=(512, 8), mean=1.0, stddev=2.0, seed=3)
    np.testing.assert_array_equal(np.asarray(again), values)


def test_random_uniform_bounds():
    values = np.asarray(keras.backend.random_uniform((1000,), minval=-2.0, maxval=-1.0, seed=0))
    assert values.min() >= -2.0 and values.max() < -1.0 and values.dtype == np.float32
