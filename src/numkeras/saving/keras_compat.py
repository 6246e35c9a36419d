"""Differences between the configs numkeras's classes write and those Keras writes.

Keras 3.15 writes a few keys numkeras's constructors do not take (and, reading, numkeras must
accept what Keras 3.0 to 3.15 and tf.keras 2 wrote). Each entry below is a key whose value has
exactly one meaning numkeras supports: when writing, the key is added with that value; when
reading, it is dropped if it has that value and refused (with the reason) otherwise. So a
file never loads into something that computes differently from what it describes.

>>> to_keras_layer("Dense", {"kernel_initializer": {"module": "keras.initializers",
...     "class_name": "GlorotUniform", "config": {"seed": None}}})["kernel_initializer"]["config"]
{'seed': None, 'input_axes': None, 'output_axes': None}
"""

from __future__ import annotations

from numkeras.saving.errors import SavingError

# Keras 3.15's VarianceScaling family takes the axes that define fan-in and fan-out; None (the
# last two axes, what numkeras computes) is the only value numkeras implements.
_VARIANCE_SCALING = frozenset({"VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
                               "HeNormal", "LecunUniform", "LecunNormal"})
_INITIALIZER_KEYS = {"input_axes": None, "output_axes": None}
_ANY = object()  # the key is meaningless given the others (e.g. renorm_momentum without renorm)
# Per layer class: keys Keras writes (or wrote) -> the value numkeras implements.
_LAYER_KEYS = {
    "BatchNormalization": {"renorm": False, "renorm_clipping": None, "renorm_momentum": _ANY},
}
# Keys only read (older Keras and tf.keras wrote them); never written.
_READ_ONLY_KEYS = {
    "Conv2DTranspose": {"groups": 1},  # tf.keras 2 inherits it from Conv2D's config
    "SpatialDropout2D": {"noise_shape": None, "trainable": _ANY},
    "SpatialDropout1D": {"noise_shape": None},
    "SpatialDropout3D": {"noise_shape": None},
}
# Layers whose Keras 3 counterpart writes no build_config (they do not override `build`).
NO_BUILD_CONFIG = frozenset({
    "Activation", "AveragePooling2D", "Dropout", "ELU", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "LeakyReLU", "MaxPooling2D", "ReLU", "Reshape", "Softmax",
    "SpatialDropout2D",
})
_WRITTEN_DEFAULTS = {"renorm_momentum": 0.99}


def to_keras_layer(class_name: str, config: dict) -> dict:
    """``config`` with the keys Keras 3.15 writes for ``class_name`` added (a new dict)."""
    config = {key: _to_keras_value(value) for key, value in config.items()}
    for key, value in _LAYER_KEYS.get(class_name, {}).items():
        if key not in config:
            config[key] = _WRITTEN_DEFAULTS.get(key) if value is _ANY else value
    return config


def _to_keras_value(value):
    if isinstance(value, dict) and value.get("class_name") in _VARIANCE_SCALING \
            and isinstance(value.get("config"), dict):
        inner = dict(value["config"])
        for key, default in _INITIALIZER_KEYS.items():
            inner.setdefault(key, default)
        return {**value, "config": inner}
    return value


def from_keras_layer(class_name: str, config: dict, where: str) -> dict:
    """``config`` without the Keras-only keys, after checking they mean what numkeras does."""
    config = dict(config)
    keys = {**_LAYER_KEYS.get(class_name, {}), **_READ_ONLY_KEYS.get(class_name, {})}
    for key, expected in keys.items():
        if key in config:
            value = config.pop(key)
            if expected is not _ANY and value != expected:
                raise SavingError(
                    f"{where}: {class_name} has {key}={value!r}, which numkeras does not "
                    f"implement (only {key}={expected!r}). The model cannot be loaded "
                    f"exactly; retrain it without that option.")
    if class_name == "BatchNormalization" and isinstance(config.get("axis"), list) \
            and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]  # tf.keras writes the built axis as a list
    for key, value in list(config.items()):
        config[key] = _from_keras_value(value, f"{where}, {key}")
    return config


def _from_keras_value(value, where: str):
    if isinstance(value, dict) and value.get("class_name") in _VARIANCE_SCALING \
            and isinstance(value.get("config"), dict):
        inner = dict(value["config"])
        for key, expected in _INITIALIZER_KEYS.items():
            if key in inner:
                found = inner.pop(key)
                if found != expected:
                    raise SavingError(
                        f"{where}: {value['class_name']} has {key}={found!r}; numkeras computes "
                        f"fans from the last two axes only ({key}=None).")
        return {**value, "config": inner}
    return value
