"""The TensorFlow spelling of numkeras, so TensorFlow course code runs with one changed import.

>>> import numkeras.compat.tf as tf          # instead of: import tensorflow as tf
>>> model = tf.keras.models.Sequential([
...     tf.keras.layers.Flatten(input_shape=(28, 28)),
...     tf.keras.layers.Dense(128, activation='relu'),
...     tf.keras.layers.Dense(10, activation='softmax')])
>>> model.count_params()
101770
>>> x = tf.Variable(3.0)
>>> with tf.GradientTape() as tape:
...     y = x * x
>>> float(tape.gradient(y, x))
6.0

Besides ``tf.keras``: ``tf.Variable``, ``tf.constant``, ``tf.convert_to_tensor``,
``tf.GradientTape``, creation (``ones``, ``zeros``, ``fill``, ``range``, ``linspace``, ``eye``,
``one_hot``), shapes (``reshape``, ``transpose``, ``concat``, ``stack``, ``shape``, ...),
``tf.reduce_*``, ``tf.math.*``, ``tf.nn.*``, ``tf.random.*``, ``tf.data``, ``tf.config``,
``tf.optimizers``/``tf.losses``/``tf.metrics``, ``tf.version.VERSION`` and ``tf.function``
(a decorator that returns the function unchanged: numkeras runs eagerly). Differentiable
functions go through numkeras's engine, so tapes see them.

Importing this module is cheap: the names load on first use.
"""

import importlib

__version__ = "numkeras-" + importlib.import_module("numkeras").__version__

# Modules that are names here as they are; everything else is in _tf_names.
_MODULES = {"keras": "numkeras", "data": "numkeras.data", "optimizers": "numkeras.optimizers",
            "losses": "numkeras.losses", "metrics": "numkeras.metrics",
            "initializers": "numkeras.initializers", "activations": "numkeras.activations"}


def __getattr__(name: str):
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name == "distribute":  # MultiWorkerMirroredStrategy etc. (MPI loads on use)
        value = importlib.import_module("numkeras.distribute.tf")
    elif name.startswith("__"):
        raise AttributeError(name)
    else:
        names = importlib.import_module("numkeras.compat._tf_names")
        if name.startswith("_") or not hasattr(names, name):
            raise AttributeError(
                f"module 'numkeras.compat.tf' has no attribute {name!r}: numkeras spells the "
                f"TensorFlow names course code uses (see the module docstring); for others use "
                f"numpy or numkeras's Keras API.")
        value = getattr(names, name)
    globals()[name] = value
    return value


def __dir__():
    names = importlib.import_module("numkeras.compat._tf_names")
    public = {n for n in vars(names) if not n.startswith("_")}
    return sorted(public | set(_MODULES) | {"distribute", "__version__"})
