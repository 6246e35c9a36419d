"""Saving and loading models: Keras 3 ``.keras`` archives and ``.weights.h5`` files both ways,
legacy tf.keras ``.h5`` files, JSON configs; safe to open, atomic to write.

>>> import os, tempfile
>>> import numpy as np
>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
>>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
>>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
>>> model.save(path)                                    # what real Keras 3 opens
>>> restored = keras.models.load_model(path)
>>> x = np.ones((2, 4), np.float32)
>>> bool(np.array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0)))
True

Loading reads data and never runs code; see ``docs/saving.md`` for the formats and for every
check made on a file.
"""

from numkeras.saving.api import (
    archive_bytes,
    load_model,
    load_weights,
    model_from_json,
    model_to_json,
    save_model,
    save_weights,
)
from numkeras.saving.errors import SavingError, UnsafeFileError
from numkeras.saving.serialization import MAX_ACTIVATION_VALUES, MAX_CONFIG_WEIGHT_BYTES
from numkeras.saving.weights import get_random_state, set_random_state

__all__ = [
    "MAX_ACTIVATION_VALUES", "MAX_CONFIG_WEIGHT_BYTES", "SavingError", "UnsafeFileError",
    "archive_bytes", "get_random_state", "load_model", "load_weights", "model_from_json",
    "model_to_json", "save_model", "save_weights", "set_random_state",
]
