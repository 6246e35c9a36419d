"""numkeras and Keras 3 run the workloads through the very same code: the lecture's Keras API.

``system`` is ``numkeras`` (the default install: NumPy only, so numba's compiled kernels are
switched off even where numba is installed), ``numkeras-fast`` (with the ``fast`` extra's
compiled optimizer update), ``keras-tensorflow`` or ``keras-jax``. Keras's backend is chosen by
``KERAS_BACKEND``, which must be set before ``import keras``: the worker process sets it first.
Keras's defaults stand, so on JAX the training step is jit-compiled and on TensorFlow (CPU only)
it runs as a ``tf.function`` without XLA.
"""

from __future__ import annotations

import os
import time

import numpy as np
from _common import (CLASSES, CNN, CNN_DENSE, CNN_DROPOUT, CNN_FILTERS, CNN_KERNEL, CNN_POOL,
                     IMAGE_SHAPE, LSTM, LSTM_UNITS, MODELS, PREDICT_BATCHES, SEED,
                     per_call_seconds)

BACKENDS = {"keras-tensorflow": "tensorflow", "keras-jax": "jax"}


def import_keras(system: str):
    if system.startswith("numkeras"):
        import numkeras

        set_kernels = getattr(numkeras.config, "set_compiled_kernels", None)
        if set_kernels is not None:
            set_kernels(system == "numkeras-fast")
        return numkeras
    os.environ["KERAS_BACKEND"] = BACKENDS[system]
    import keras

    return keras


def build(keras, model: str):
    """A model of ``_common`` (an MLP of MODELS, the CNN or the LSTM), compiled as in the
    lecture."""
    keras.utils.set_random_seed(SEED)
    if model == LSTM:  # 28 rows (time steps) of 28 pixels
        layers = [keras.Input(IMAGE_SHAPE), keras.layers.LSTM(LSTM_UNITS)]
    elif model == CNN:
        conv = keras.layers.Conv2D
        pool = keras.layers.MaxPooling2D
        layers = [keras.Input((*IMAGE_SHAPE, 1))]
        for filters in CNN_FILTERS:
            layers += [conv(filters, (CNN_KERNEL, CNN_KERNEL), activation="relu"),
                       pool((CNN_POOL, CNN_POOL))]
        layers += [keras.layers.Flatten(), keras.layers.Dense(CNN_DENSE, activation="relu"),
                   keras.layers.Dropout(CNN_DROPOUT)]
    else:
        layers = [keras.Input(IMAGE_SHAPE), keras.layers.Flatten()]
        layers += [keras.layers.Dense(units, activation="relu") for units in MODELS[model]]
    layers.append(keras.layers.Dense(CLASSES, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def train(system: str, data, model_name: str, batch_size: int, epochs: int) -> dict:
    keras = import_keras(system)
    x, y, x_test, y_test = data
    if model_name == CNN:  # one channel, last: views of the same arrays
        x, x_test = x[..., np.newaxis], x_test[..., np.newaxis]
    model = build(keras, model_name)
    times: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[EpochTimer()])
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return {"epoch_s": times, "test_acc": float(accuracy)}


def infer(system: str, data, model_name: str, budget_s: float) -> dict:
    keras = import_keras(system)
    x_test = data[2]
    one = x_test[:1]
    model = build(keras, model_name)
    result = {}
    for batch in PREDICT_BATCHES:
        seconds = per_call_seconds(
            lambda b=batch: model.predict(x_test, batch_size=b, verbose=0), budget_s)
        result[f"predict{batch}_sps"] = len(x_test) / seconds
    # np.asarray waits for the values: JAX dispatches asynchronously.
    result["call_us"] = per_call_seconds(lambda: np.asarray(model(one)), budget_s) * 1e6
    result["predict1_us"] = per_call_seconds(lambda: model.predict(one, verbose=0),
                                             budget_s) * 1e6
    return result
