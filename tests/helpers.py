"""Shared test helpers: a small learnable classification task and the lecture's model."""

import pathlib

import numpy as np

# Exact outputs of real Keras (copied from shared/docs/keras-fixtures).
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "keras-compat"


def synthetic_images(n=600, seed=0, classes=10):
    """Images of shape (n, 28, 28) in [0, 1]: a noisy copy of one prototype per class."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(99).random((classes, 28, 28), dtype=np.float32)
    y = rng.integers(0, classes, n).astype(np.uint8)
    noise = rng.random((n, 28, 28), dtype=np.float32)
    return 0.3 * prototypes[y] + 0.7 * noise, y


def lecture_model(keras):
    """Flatten(28, 28) -> Dense(128, relu) -> Dense(10, softmax), as the lecture builds it."""
    return keras.models.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax")])
