"""Legacy tf.keras HDF5 files: ``model.save("m.h5")`` and ``model.save_weights("w.h5")``.

Layout (tf.keras 2.x; Keras 3 writes the same when asked for ``.h5``): root attributes
``keras_version``, ``backend``, ``model_config`` (JSON) and ``training_config`` (JSON);
``/model_weights`` (or the root, for a weights-only file) has the attribute ``layer_names`` and
one group per layer, named by ``layer.name``, whose attribute ``weight_names`` lists dataset
paths relative to it (``dense/kernel:0``); ``/optimizer_weights`` lists the optimizer state the
same way. Layers are matched by position among the layers that have weights, as Keras does.
Optimizer state is restored from the tf.keras 2.11+ and Keras 3 layouts (``iteration`` first);
the TF <= 2.10 layout (``Adam/iter:0`` ...) is skipped with a warning, as Keras 3 skips it.

>>> import io
>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> buffer = io.BytesIO()
>>> write_model(model, buffer)
>>> buffer.getvalue()[:4]
b'\\x89HDF'
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from numkeras.saving import keras_compat, serialization
from numkeras.saving.archive import KERAS_VERSION, parse_json
from numkeras.saving.errors import SavingError
from numkeras.saving.weights import WeightsFile, _optimizer_targets, h5py_module

_MAX_NAMES = 1_000_000
_MAX_CHUNKS = 10_000
# Keys Keras 3 writes that tf.keras 2 constructors do not take (dropped when writing .h5).
_KERAS3_ONLY_KEYS = ("quantization_config", "lora_rank", "lora_alpha", "optional")


def is_legacy(weights: WeightsFile) -> bool:
    """Whether an open HDF5 file has the legacy layout (``layer_names`` or ``model_weights``)."""
    root = weights.file
    try:
        # layer_names0, layer_names1 ...: tf.keras splits a long list over several attributes
        return "layer_names" in root.attrs or "layer_names0" in root.attrs \
            or "model_config" in root.attrs or (
            "model_weights" in root and "layers" not in root)
    except Exception as error:
        raise SavingError(f"{weights.description}: cannot read the file's root ({error}); the "
                          f"file is corrupt.") from error


# ----- reading attributes -----
def _attribute(weights: WeightsFile, node, name: str):
    """The value of attribute ``name`` of ``node`` (tf.keras splits long ones into ``name0``,
    ``name1`` ...), or None; its size and type are checked before it is read."""
    where = f"{weights.description}, attribute '{name}' of '{node.name}'"
    try:
        attrs = node.attrs
        if name in attrs:
            return _read_attribute(weights, node, name, where)
        if f"{name}0" not in attrs:
            return None
        parts, index = [], 0
        while f"{name}{index}" in attrs:
            if index >= _MAX_CHUNKS:
                raise SavingError(f"{where} is split into more than {_MAX_CHUNKS} parts.")
            parts.extend(_as_list(_read_attribute(weights, node, f"{name}{index}", where)))
            index += 1
        return parts
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(f"{where} cannot be read ({error}); the file is corrupt.") from error


def _read_attribute(weights: WeightsFile, node, name: str, where: str):
    h5py = weights.h5py
    attrs = node.attrs
    attribute = attrs.get_id(name)
    shape, dtype = attribute.shape, attribute.dtype
    if shape is not None and (len(shape) > 1 or (shape and shape[0] > _MAX_NAMES)):
        raise SavingError(f"{where} has shape {shape}; expected a string or a list of names.")
    is_text = dtype.kind in "SU" or h5py.check_string_dtype(dtype) is not None
    if not is_text and not (dtype.kind == "f" and shape and shape[0] == 0):
        raise SavingError(f"{where} has dtype {dtype}; expected text.")
    weights.check_text_attribute(node, name)
    return attrs[name]


def _text(value) -> str:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    if isinstance(value, str):
        return value
    raise SavingError(f"Expected text, found {type(value).__name__}.")


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):  # joined from chunks
        return [_text(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return [_text(value)]
        if value.size == 0:
            return []
        return [_text(item) for item in value.tolist()]
    return [_text(value)]


def _names(weights: WeightsFile, node, name: str) -> list[str] | None:
    value = _attribute(weights, node, name)
    if value is None:
        return None
    try:
        return _as_list(value)
    except (SavingError, UnicodeDecodeError) as error:
        raise SavingError(f"{weights.description}: attribute '{name}' of '{node.name}' is not a "
                          f"list of names ({error}).") from error


def _json_attribute(weights: WeightsFile, name: str):
    value = _attribute(weights, weights.file, name)
    if value is None:
        return None
    where = f"{weights.description}, attribute '{name}'"
    try:
        text = _text(value)
    except (SavingError, UnicodeDecodeError) as error:
        raise SavingError(f"{where} is not text ({error}).") from error
    # h5py hands undecodable bytes back as lone surrogates: encoding them back gives the
    # file's bytes, which parse_json then reports as not UTF-8.
    return parse_json(text.encode("utf-8", "surrogateescape"), where)


# ----- loading -----
def load_model(filepath, description: str, custom_objects=None, compile: bool = True,
               safe_mode: bool = True):
    """The model stored in a legacy ``.h5`` file (see :func:`numkeras.saving.load_model`)."""
    source = filepath.read() if hasattr(filepath, "read") else filepath
    with WeightsFile(source, description) as weights:
        config = _json_attribute(weights, "model_config")
        if config is None:
            raise SavingError(
                f"{description} has no 'model_config' attribute: it holds only weights. Build "
                f"the model in code and call model.load_weights({description}).")
        where = f"{description}, attribute 'model_config'"
        if not isinstance(config, dict):
            raise SavingError(f"{where} must hold a JSON object, found {type(config).__name__}.")
        serialization.check_safe(config, custom_objects, safe_mode, where)
        model = serialization.build_model(config, custom_objects,
                                          max_weight_bytes=2 * weights.size + 2 ** 20,
                                          where=where)
        group = "model_weights" if weights.group("model_weights") is not None else ""
        _load_layer_weights(model, weights, group, skip_mismatch=False)
        if compile:
            training = _json_attribute(weights, "training_config")
            if isinstance(training, dict):
                serialization.compile_from_config(
                    model, _compile_arguments(training), custom_objects,
                    f"{description}, attribute 'training_config'")
                if model.compiled and weights.group("optimizer_weights") is not None:
                    _load_optimizer(model, weights)
    return model


def load_weights(model, weights: WeightsFile, skip_mismatch: bool = False) -> None:
    """Load a legacy weights file (or the weights of a legacy full-model file) into ``model``."""
    group = "model_weights" if weights.group("model_weights") is not None else ""
    _load_layer_weights(model, weights, group, skip_mismatch)


def _join(*parts: str) -> str:
    return "/".join(part for part in parts if part)


_MAX_NAME_LENGTH = 1024
_LISTED_NAMES = 20


def _listing(names) -> str:
    """Names for an error message: the first 20, then how many more (messages stay short)."""
    names = list(names)
    shown = ", ".join(name[:100] for name in names[:_LISTED_NAMES])
    return shown + (f", ... ({len(names) - _LISTED_NAMES} more)"
                    if len(names) > _LISTED_NAMES else "")


def _legacy_weights(layer) -> list:
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _load_layer_weights(model, weights: WeightsFile, group_path: str,
                        skip_mismatch: bool) -> None:
    group = weights.group(group_path)
    layer_names = _names(weights, group, "layer_names")
    if layer_names is None:
        raise SavingError(f"{weights.description} has no 'layer_names' attribute at "
                          f"'/{group_path}': it is not a Keras weights file.")
    # A file cannot list more layers than its group holds, nor names longer than HDF5 paths
    # sensibly are: checked before any lookup, so a list of a million names fails at once.
    if len(layer_names) > len(group) or any(len(name) > _MAX_NAME_LENGTH for name in layer_names):
        raise SavingError(
            f"{weights.description}: 'layer_names' lists {len(layer_names)} names (longest "
            f"{max(map(len, layer_names), default=0)} characters) for a group of {len(group)} "
            f"members. The file is damaged or not a Keras weights file.")
    saved = []
    for name in layer_names:
        layer_group = weights.group(_join(group_path, name))
        if layer_group is None:
            raise SavingError(f"{weights.description}: 'layer_names' lists '{name}', but the file "
                              f"has no group '/{_join(group_path, name)}'. The file is incomplete.")
        weight_names = _names(weights, layer_group, "weight_names") or []
        if weight_names:
            saved.append((name, weight_names))
    layers = [layer for layer in model.layers if _legacy_weights(layer)]
    if len(saved) != len(layers):
        raise SavingError(
            f"{weights.description}: layer count mismatch. The model has {len(layers)} layers "
            f"with weights ({_listing(layer.name for layer in layers)}), the file has "
            f"{len(saved)} ({_listing(name for name, _ in saved)}). Build the same "
            f"architecture as the saved model.")
    assignments = []
    for (name, weight_names), layer in zip(saved, layers):
        try:
            assignments += _layer_assignments(weights, group_path, name, weight_names, layer)
        except SavingError as error:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping loading weights for layer '{layer.name}': {error}",
                          stacklevel=3)
    top = weights.group(_join(group_path, "top_level_model_weights"))
    if top is not None and (_names(weights, top, "weight_names") or []):
        raise SavingError(f"{weights.description}: the file has weights owned by the model "
                          f"itself ('top_level_model_weights'), which numkeras models do not "
                          f"have.")
    for variable, value in assignments:
        variable.assign(value)


def _layer_assignments(weights: WeightsFile, group_path: str, name: str, weight_names: list,
                       layer) -> list:
    targets = _legacy_weights(layer)
    if len(weight_names) != len(targets):
        raise SavingError(
            f"{weights.description}: weight count mismatch for layer '{layer.name}' (saved as "
            f"'{name}'): the layer expects {len(targets)} weights, the file has "
            f"{len(weight_names)} ({_listing(weight_names)}).")
    result = []
    for weight_name, variable in zip(weight_names, targets):
        path = _join(group_path, name, weight_name)
        dataset = weights.node(path)
        if not isinstance(dataset, weights.h5py.Dataset):
            raise SavingError(f"{weights.description}: weight '{weight_name}' of layer '{name}' "
                              f"is missing (no dataset at '/{path}').")
        result.append((variable, weights.read(dataset, variable.shape, "float",
                                              f"weight '{weight_name}' of layer '{name}'")))
    return result


def _compile_arguments(training: dict) -> dict:
    """tf.keras's ``training_config`` as ``compile_config`` keys."""
    loss = training.get("loss")
    if isinstance(loss, dict) and isinstance(loss.get("config"), dict) \
            and loss["config"].get("reduction") == "auto":
        loss = {**loss, "config": {**loss["config"], "reduction": "sum_over_batch_size"}}
    return {"optimizer": training.get("optimizer_config", "rmsprop"), "loss": loss,
            "metrics": training.get("metrics"),
            "weighted_metrics": training.get("weighted_metrics"),
            "loss_weights": training.get("loss_weights")}


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def _load_optimizer(model, weights: WeightsFile) -> None:
    optimizer = model.optimizer
    group = weights.group("optimizer_weights")
    names = _names(weights, group, "weight_names") or []
    if not names:
        return
    if _short(names[0]) != "iteration":
        warnings.warn(
            f"{weights.description}: the optimizer state is in the TF <= 2.10 layout "
            f"({names[0]}, ...), which numkeras (like Keras 3) does not restore; the optimizer "
            f"starts fresh.", stacklevel=3)
        return
    datasets = []
    for name in names:
        node = weights.node(_join("optimizer_weights", name))
        if not isinstance(node, weights.h5py.Dataset):
            raise SavingError(f"{weights.description}: optimizer weight '{name}' is listed but "
                              f"missing.")
        datasets.append(node)
    has_lr = len(names) > 1 and _short(names[1]) == "learning_rate"
    slots = datasets[2:] if has_lr else datasets[1:]
    own_lr = len(optimizer.variables) >= 2 and optimizer._schedule is None
    targets = _optimizer_targets(model, optimizer, len(slots) + (2 if own_lr else 1))
    slot_targets = targets[2:] if own_lr else targets[1:]
    if len(slot_targets) != len(slots):
        warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}', because it "
                      f"has {len(slot_targets)} slot variables whereas the saved optimizer "
                      f"({weights.description}) has {len(slots)}.", stacklevel=3)
        return
    try:
        values = [weights.read(datasets[0], (), "int", "optimizer iteration")]
        if own_lr:
            values.append(weights.read(datasets[1], (), "float", "learning rate") if has_lr
                          else np.asarray(optimizer.variables[1]))
        values += [weights.read(d, t.shape, "float", f"optimizer weight '{n}'")
                   for d, t, n in zip(slots, slot_targets, names[len(names) - len(slots):])]
    except SavingError as error:
        warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}': {error}",
                      stacklevel=3)
        return
    if len(values) != len(optimizer.variables) and not optimizer.built:
        optimizer.build(model.trainable_weights)
    optimizer.load_own_variables(values)


# ----- writing -----
def _keras2_value(value):
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy" and isinstance(value.get("config"), dict):
            return value["config"].get("name", "float32")
        return {key: _keras2_value(item) for key, item in value.items()
                if key not in ("input_axes", "output_axes")}
    if isinstance(value, list):
        return [_keras2_value(item) for item in value]
    return value


def _keras2_layer(entry: dict) -> dict:
    config = {key: _keras2_value(value) for key, value in entry["config"].items()
              if key not in _KERAS3_ONLY_KEYS}
    if entry["class_name"] == "InputLayer" and "batch_shape" in config:
        config = {"batch_input_shape": config.pop("batch_shape"), **config}
    if entry["class_name"] == "Sequential":
        config["layers"] = [_keras2_layer(layer) for layer in config.get("layers", [])]
    for key in keras_compat._LAYER_KEYS.get(entry["class_name"], {}):
        config.pop(key, None)
    return {"class_name": entry["class_name"], "config": config}


def write_model(model, handle, include_optimizer: bool = True) -> None:
    """Write ``model`` as a tf.keras 2 style ``.h5`` file to ``handle`` (a path or a binary
    file object), readable by tf.keras 2, Keras 3 and numkeras."""
    h5py = h5py_module()
    entry = serialization.serialize_model(model, include_compile=False)
    model_config = _keras2_layer(entry)
    with h5py.File(handle, "w") as store:
        store.attrs["keras_version"] = KERAS_VERSION
        store.attrs["backend"] = "numpy"
        store.attrs["model_config"] = json.dumps(model_config)
        if include_optimizer and getattr(model, "compiled", False):
            compiled = serialization.compile_config(model)
            store.attrs["training_config"] = json.dumps({
                "loss": compiled["loss"], "metrics": compiled["metrics"],
                "weighted_metrics": compiled["weighted_metrics"],
                "loss_weights": compiled["loss_weights"],
                "optimizer_config": _keras2_optimizer(compiled["optimizer"])})
        weights_group = store.create_group("model_weights")
        _write_layer_weights(model, weights_group)
        if include_optimizer and getattr(model, "compiled", False):
            _write_optimizer(model.optimizer, store.create_group("optimizer_weights"))


def _keras2_optimizer(entry: dict) -> dict:
    """tf.keras 2.11+'s form of an optimizer: ``Custom>Adam`` (its name for the new optimizers),
    without the keys it does not take, and ``is_legacy_optimizer: false``."""
    config = {key: value for key, value in entry["config"].items()
              if key not in ("loss_scale_factor", "gradient_accumulation_steps")}
    config.update(jit_compile=False, is_legacy_optimizer=False)
    name = entry["class_name"]
    return {"class_name": f"Custom>{name}" if entry.get("registered_name") is None else name,
            "config": config}


def _names_array(names: list[str]):
    if not names:
        return np.array([], dtype=np.float64)  # what tf.keras writes for "no weights"
    return np.array([name.encode("utf-8") for name in names])


def _write_layer_weights(model, group) -> None:
    group.attrs["backend"] = "numpy"
    group.attrs["keras_version"] = KERAS_VERSION
    group.attrs["layer_names"] = _names_array([layer.name for layer in model.layers])
    for layer in model.layers:
        layer_group = group.create_group(layer.name)
        variables = _legacy_weights(layer)
        names = [f"{layer.name}/{variable.name}:0" for variable in variables]
        layer_group.attrs["weight_names"] = _names_array(names)
        for name, variable in zip(names, variables):
            layer_group.create_dataset(name, data=np.asarray(variable.data))
    group.create_group("top_level_model_weights").attrs["weight_names"] = _names_array([])


def _write_optimizer(optimizer, group) -> None:
    names = [f"{optimizer.name}/{name}:0" for name in optimizer._variable_names()]
    names[0] = "iteration:0"
    if optimizer._schedule is None:
        names[1] = "learning_rate:0"
    group.attrs["weight_names"] = _names_array(names)
    for name, value in zip(names, optimizer.variables):
        group.create_dataset(name, data=np.asarray(value))
