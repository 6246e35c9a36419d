"""The ``tf.keras`` spelling of numkeras, so TensorFlow course code runs with one changed import.

>>> import numkeras.compat.tf as tf          # instead of: import tensorflow as tf
>>> model = tf.keras.models.Sequential([
...     tf.keras.layers.Flatten(input_shape=(28, 28)),
...     tf.keras.layers.Dense(128, activation='relu'),
...     tf.keras.layers.Dense(10, activation='softmax')])
>>> model.count_params()
101770
"""

import types

import numkeras as keras
from numkeras.config import set_random_seed

__version__ = "numkeras-" + keras.__version__

random = types.SimpleNamespace(set_seed=set_random_seed)
"""``tf.random.set_seed(s)``: numkeras's ``set_random_seed``."""

nn = types.SimpleNamespace(**{name: getattr(keras.activations, source) for name, source in {
    "relu": "relu", "relu6": "relu6", "elu": "elu", "selu": "selu", "gelu": "gelu",
    "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax", "log_softmax": "log_softmax",
    "softplus": "softplus", "softsign": "softsign", "swish": "silu", "silu": "silu",
    "leaky_relu": "leaky_relu"}.items()})
"""``tf.nn.relu`` and the other activations courses call through ``tf.nn``."""

from numkeras.distribute import tf as distribute  # noqa: E402 - light; MPI loads on use
"""``tf.distribute.MultiWorkerMirroredStrategy()`` and ``MirroredStrategy()`` over MPI."""

__all__ = ["distribute", "keras", "nn", "random"]
