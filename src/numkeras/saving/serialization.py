"""Models to Keras 3 config dicts and back, reading only data and never code.

Writing gives the structure Keras 3.15 writes (``module``, ``class_name``, ``config``,
``registered_name``, ``build_config``, ``compile_config``; the Sequential's ``layers`` list
starts with its ``InputLayer``). Reading is safe to do on a stranger's file:

- classes come only from numkeras's own allowlist (its layers, ``Sequential``) or from the
  ``custom_objects`` the caller passes; no module named in a file is imported, nothing is
  ``eval``-ed or unpickled;
- ``Lambda`` layers and Python lambdas (bytecode) are refused, and so is any object whose
  ``module`` is not Keras or numkeras or whose ``registered_name`` names a custom object, unless
  the caller registered that name;
- the model is built under a budget: each weight's size is checked before it is allocated, and
  so are the shapes flowing between layers, so a config cannot ask for a huge allocation.

>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> entry = serialize_model(model)
>>> [layer["class_name"] for layer in entry["config"]["layers"]]
['InputLayer', 'Dense']
>>> restored = build_model(entry, where="example")
>>> restored.count_params()
8
"""

from __future__ import annotations

import contextlib
import inspect
import math

import numpy as np

from numkeras import layers as layers_module
from numkeras import losses, metrics, optimizers
from numkeras.layers.core import InputLayer
from numkeras.layers.layer import Layer
from numkeras.layers.operation import Operation, operation_from_config
from numkeras.models.functional import Functional, with_graph
from numkeras.models.model import Model
from numkeras.models.graph_config import functional_config, functional_from_config
from numkeras.models.sequential import Sequential
from numkeras.saving import keras_compat
from numkeras.saving.errors import SavingError, UnsafeFileError

# Largest values one sample may have anywhere in a model being loaded (inputs, outputs of
# every layer): 2**27 float32 values are 512 MiB.
MAX_ACTIVATION_VALUES = 2 ** 27
# Weights a config alone (``model_from_json``, no weights file to bound it) may ask for.
MAX_CONFIG_WEIGHT_BYTES = 2 ** 30
_MAX_DIMENSION = 2 ** 31
_MAX_CONFIG_DEPTH = 100
_KERAS_MODULES = ("keras", "tf_keras", "numkeras", "tensorflow.keras")
_MODEL_CLASSES = {"Sequential": Sequential, "Functional": Functional}


def layer_classes() -> dict[str, type]:
    """The allowlist: every layer class numkeras has, by Keras class name (and Keras's
    aliases such as ``Convolution2D``), from :mod:`numkeras.layers`.

    >>> "Dense" in layer_classes(), "Lambda" in layer_classes()
    (True, False)
    """
    return dict(layers_module.layer_classes())


# ----- writing -----
def _object_entry(obj, module: str, builtins: dict, config: dict) -> dict:
    """Keras's dict for ``obj``; a class numkeras does not have is named by its own module and
    class name, as Keras writes custom objects."""
    cls = type(obj)
    if builtins.get(cls.__name__) is cls:
        return {"module": module, "class_name": cls.__name__, "config": config,
                "registered_name": None}
    return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
            "registered_name": cls.__name__}


def serialize_layer(layer: Layer) -> dict:
    """Keras 3.15's dict for one layer (a nested ``Sequential`` or functional model
    included)."""
    if isinstance(layer, (Sequential, Functional)):
        entry = serialize_model(layer, include_compile=False)
        entry.pop("compile_config", None)
        return entry
    name = type(layer).__name__
    if isinstance(layer, Operation):  # keras.ops on symbolic tensors: as Keras 3 writes it
        return {"module": layer.keras_module, "class_name": name, "config": layer.get_config(),
                "registered_name": name}
    config = keras_compat.to_keras_layer(name, layer.get_config())
    entry = _object_entry(layer, "keras.layers", layer_classes(), config)
    if not isinstance(layer, InputLayer) and name not in keras_compat.NO_BUILD_CONFIG:
        build_config = layer.get_build_config()
        if build_config is not None:
            entry["build_config"] = build_config
    return entry


def serialize_model(model, include_compile: bool = True) -> dict:
    """The whole model as Keras 3 writes it in ``config.json``."""
    if isinstance(model, Sequential):
        config = model.get_config()
        members = ([model._input_layer] if model._input_layer is not None else []) + model.layers
        config["layers"] = [serialize_layer(layer) for layer in members]
        entry = _object_entry(model, "keras", _MODEL_CLASSES, config)
    elif isinstance(model, Functional):
        config = functional_config(model, serialize_layer=serialize_layer)
        entry = _object_entry(model, "keras.src.models.functional", _MODEL_CLASSES, config)
        entry["registered_name"] = "Functional"
    else:
        try:
            config = model.get_config()
        except NotImplementedError as error:
            raise SavingError(f"Model '{model.name}' ({type(model).__name__}) cannot be saved "
                              f"whole: {error}. Implement get_config(), or use "
                              f"save_weights().") from error
        entry = _object_entry(model, "keras", _MODEL_CLASSES, config)
    shape = getattr(model, "_build_input_shape", None)
    if model.built and shape is not None and not isinstance(model, Functional):
        entry["build_config"] = {"input_shape": list(shape)}
    if include_compile:
        entry["compile_config"] = compile_config(model)
    return entry


def compile_config(model) -> dict:
    """Keras's ``compile_config``: ``{}`` for a model never compiled, else the optimizer fully
    serialized (its learning rate the float32 value widened) and the loss and metrics as given
    (strings stay strings)."""
    if not getattr(model, "compiled", False):
        return {}
    given = dict(model._compile_config)
    optimizer = model.optimizer
    return {
        "optimizer": _object_entry(optimizer, "keras.optimizers", optimizers.ALL_OBJECTS,
                                   optimizer.get_config()),
        "loss": _serialize_losses(model.loss),
        "loss_weights": given.get("loss_weights"),
        "metrics": _serialize_list(given.get("metrics"), metrics, "keras.metrics"),
        "weighted_metrics": _serialize_list(given.get("weighted_metrics"), metrics,
                                            "keras.metrics"),
        "run_eagerly": bool(given.get("run_eagerly", False)),
        "steps_per_execution": given.get("steps_per_execution", 1),
        "jit_compile": False,
    }


def _serialize_losses(loss):
    """One loss, or a list or dict of them (one per output)."""
    if isinstance(loss, dict):
        return {key: _serialize_function_or_object(value, losses, "keras.losses")
                for key, value in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_serialize_function_or_object(value, losses, "keras.losses") for value in loss]
    return _serialize_function_or_object(loss, losses, "keras.losses")


def _serialize_list(values, family, module: str):
    if values is None:
        return None
    if isinstance(values, dict):  # per output
        return {key: _serialize_list(value, family, module) for key, value in values.items()}
    if not isinstance(values, (list, tuple)):
        values = [values]
    return [_serialize_list(value, family, module) if isinstance(value, (list, tuple))
            else _serialize_function_or_object(value, family, module) for value in values]


def _serialize_function_or_object(value, family, module: str):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, type):
        value = value()
    if callable(value) and not hasattr(value, "get_config"):
        name = getattr(value, "__name__", None)
        if not name or name == "<lambda>":
            raise SavingError(f"Cannot save the function {value!r}: a lambda has no name. Define "
                              f"it with `def` and pass it in custom_objects when loading.")
        builtin = family.ALL_OBJECTS.get(name) is value
        return {"module": module if builtin else value.__module__, "class_name": "function",
                "config": name, "registered_name": name}
    serialized = family.serialize(value)
    if isinstance(serialized, dict):
        return _object_entry(value, module, family.ALL_OBJECTS, serialized["config"])
    return serialized


# ----- reading: safety first -----
def _is_keras_module(module) -> bool:
    return isinstance(module, str) and any(
        module == root or module.startswith(root + ".") for root in _KERAS_MODULES)


def check_safe(config, custom_objects: dict, safe_mode: bool, where: str) -> None:
    """Raise :class:`UnsafeFileError` if ``config`` asks for code or for classes that neither
    numkeras nor the caller provides. Nothing is created; this only reads the dicts."""
    _check_node(config, custom_objects or {}, safe_mode, where, 0)


def _check_node(node, custom_objects: dict, safe_mode: bool, where: str, depth: int) -> None:
    if depth > _MAX_CONFIG_DEPTH:
        raise UnsafeFileError(f"{where}: the config is nested more than {_MAX_CONFIG_DEPTH} "
                              f"levels deep; refusing it.")
    if isinstance(node, list):
        for item in node:
            _check_node(item, custom_objects, safe_mode, where, depth + 1)
        return
    if not isinstance(node, dict):
        return
    if "class_name" in node and _check_object(node, custom_objects, safe_mode, where):
        return  # the caller's own class: its config is data for that class alone
    for value in node.values():
        _check_node(value, custom_objects, safe_mode, where, depth + 1)


def _check_object(entry: dict, custom_objects: dict, safe_mode: bool, where: str) -> bool:
    """Check one serialized object; True if the caller provides its class or function."""
    class_name = entry["class_name"]
    if not isinstance(class_name, str):
        raise SavingError(f"{where}: 'class_name' must be a string, found {class_name!r}.")
    label = entry.get("config", {}).get("name") if isinstance(entry.get("config"), dict) \
        else None
    what = f"{class_name} '{label}'" if isinstance(label, str) else class_name
    if class_name == "__lambda__":
        raise UnsafeFileError(
            f"{where}: the config holds a Python lambda (bytecode). numkeras never runs code "
            f"stored in a file. Replace the lambda with a named function and pass it in "
            f"custom_objects when loading.")
    registered = entry.get("registered_name")
    function_name = entry.get("config") if class_name == "function" else None
    provided = any(isinstance(key, str) and key in custom_objects
                   for key in (class_name, registered, function_name))
    if class_name == "Lambda" and (safe_mode or "Lambda" not in custom_objects):
        raise UnsafeFileError(
            f"{where}: layer {what} is a Lambda layer, whose function is Python bytecode stored "
            f"in the file. numkeras never runs code from a file. Rewrite it as a layer class; "
            f"if you trust the file and have your own implementation, pass safe_mode=False and "
            f"custom_objects={{'Lambda': YourLambdaLayer}}.")
    if provided:
        return True
    module = entry.get("module")
    if module is not None and not _is_keras_module(module):
        raise UnsafeFileError(
            f"{where}: {what} comes from module '{module}', which is not Keras or numkeras. "
            f"numkeras does not import modules named in a file; if you trust the file, pass the "
            f"class or function yourself: custom_objects={{'{registered or class_name}': ...}}.")
    if registered is not None and registered not in (class_name, function_name):
        raise UnsafeFileError(
            f"{where}: {what} has registered_name '{registered}', a custom object. Pass its "
            f"implementation: custom_objects={{'{registered}': ...}}.")
    return False


# ----- reading: creating objects -----
def _lookup_class(entry: dict, custom_objects: dict, table: dict, kind: str, where: str):
    class_name = entry["class_name"]
    for key in (entry.get("registered_name"), class_name):
        if isinstance(key, str) and key in custom_objects:
            return custom_objects[key]
    if class_name in table:
        return table[class_name]
    known = ", ".join(sorted(table))
    raise SavingError(
        f"{where}: numkeras has no {kind} '{class_name}' (from module "
        f"'{entry.get('module')}'). Supported {kind}s: {known}. If you have an implementation, "
        f"pass it: custom_objects={{'{class_name}': YourClass}}.")


def _resolve_custom(config: dict, custom_objects: dict) -> dict:
    """Replace config values naming the caller's custom objects by the objects themselves."""
    if not custom_objects:
        return config
    resolved = {}
    for key, value in config.items():
        if isinstance(value, str) and (key == "activation" or key.endswith("_activation")) \
                and value in custom_objects:
            value = custom_objects[value]
        elif isinstance(value, dict) and "class_name" in value:
            names = (value.get("registered_name"), value.get("class_name"),
                     value.get("config") if value.get("class_name") == "function" else None)
            for name in names:
                if isinstance(name, str) and name in custom_objects:
                    target = custom_objects[name]
                    inner = value.get("config") if isinstance(value.get("config"), dict) else {}
                    if isinstance(target, type):
                        target = target.from_config(inner) if hasattr(target, "from_config") \
                            else target(**inner)
                    value = target
                    break
        resolved[key] = value
    return resolved


def _entry(entry, where: str) -> dict:
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise SavingError(f"{where}: expected an object entry (a dict with 'class_name' and "
                          f"'config'), found {str(entry)[:120]!r}.")
    config = entry.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, (dict, list)):
        raise SavingError(f"{where}: the 'config' of {entry['class_name']} must be a dict, "
                          f"found {type(config).__name__}.")
    return config


def layer_from_entry(entry, custom_objects: dict | None = None, where: str = "config") -> Layer:
    """An unbuilt layer from its Keras 2 or 3 dict (call :func:`check_safe` first)."""
    custom_objects = custom_objects or {}
    config = _entry(entry, where)
    class_name = entry["class_name"]
    if class_name in _MODEL_CLASSES and class_name not in custom_objects:
        return model_from_entry(entry, custom_objects, where)[0]
    if str(entry.get("module", "")).startswith("keras.src.ops.") \
            and class_name not in custom_objects:
        try:  # a keras.ops call recorded in a functional graph (x + 1, ops.sum(x, axis=1))
            return operation_from_config(entry)
        except ValueError as error:
            raise SavingError(f"{where}: {error}") from None
    cls = _lookup_class(entry, custom_objects, layer_classes(), "layer", where)
    if not isinstance(config, dict):
        raise SavingError(f"{where}: the config of layer {class_name} must be a dict.")
    label = f"{where}: layer {class_name} '{config.get('name', '?')}'"
    config = keras_compat.from_keras_layer(class_name, config, label)
    try:
        layer = cls.from_config(_resolve_custom(config, custom_objects))
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(f"{label} cannot be created from its config: {type(error).__name__}: "
                          f"{error}") from error
    if not isinstance(layer, Layer):
        raise SavingError(f"{label}: {cls!r}.from_config returned {type(layer).__name__}, "
                          f"not a layer.")
    return layer


def _input_shape(value, where: str):
    if value is None:
        return None
    def size(d) -> bool:
        return d is None or (isinstance(d, int) and not isinstance(d, bool)
                             and 0 <= d < _MAX_DIMENSION)

    if not isinstance(value, (list, tuple)) or len(value) > 16 or not all(map(size, value)):
        raise SavingError(f"{where}: an input shape must be a list of at most 16 sizes (ints or "
                          f"null), found {str(value)[:120]}.")
    return tuple(value)


def model_from_entry(entry, custom_objects: dict | None = None, where: str = "config"):
    """``(model, input_shape)``: an unbuilt model from the top-level dict of ``config.json`` (or
    a tf.keras ``model_config``), and the shape to build it for (None if unknown)."""
    custom_objects = custom_objects or {}
    config = _entry(entry, where)
    class_name = entry["class_name"]
    build_config = entry.get("build_config")
    if class_name in ("Functional", "Model") and class_name not in custom_objects:
        return _functional_from_config(config, custom_objects, where), None
    shape = _input_shape(build_config.get("input_shape"), f"{where}, build_config") \
        if isinstance(build_config, dict) else None
    if class_name == "Sequential" and "Sequential" not in custom_objects:
        return _sequential_from_config(config, custom_objects, where, shape)
    cls = _lookup_class(entry, custom_objects, {}, "model class", where)
    if isinstance(cls, type) and issubclass(cls, Model) and isinstance(config, dict) \
            and {"layers", "input_layers", "output_layers"} <= set(config):
        # A subclass made as CustomModel(inputs, outputs): its graph, its methods on top.
        return _functional_from_config(config, custom_objects, where, with_graph(cls)), None
    try:
        model = cls.from_config(config if isinstance(config, dict) else {})
    except Exception as error:
        raise SavingError(f"{where}: model {class_name} cannot be created from its config: "
                          f"{type(error).__name__}: {error}") from error
    if not isinstance(model, Layer):
        raise SavingError(f"{where}: {class_name}.from_config did not return a model.")
    return model, shape


def _functional_from_config(config, custom_objects: dict, where: str, cls=None):
    """A functional model, its layers created from the allowlist and built (under the active
    budget) by replaying the graph's nodes."""
    if not isinstance(config, dict):
        raise SavingError(f"{where}: a functional model's config must be a dict.")
    budget = _Budget.active
    counter = [0]

    def make_layer(layer_entry):
        layer_where = f"{where}, layers[{counter[0]}]"
        counter[0] += 1
        layer = layer_from_entry(layer_entry, custom_objects, layer_where)
        if budget is not None:
            budget.guard(layer)
        return layer

    try:
        return functional_from_config(cls or Functional, config, custom_objects, make_layer,
                                      where)
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(f"{where}: the functional model cannot be rebuilt from its config: "
                          f"{type(error).__name__}: {error}") from error


def _sequential_from_config(config, custom_objects: dict, where: str, shape):
    if isinstance(config, list):  # Keras 1 / early tf.keras: the config is the layer list
        config = {"layers": config}
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise SavingError(f"{where}: a Sequential config needs a 'layers' list.")
    name = config.get("name")
    try:
        model = Sequential(name=name if isinstance(name, str) else None,
                           trainable=bool(config.get("trainable", True)))
    except Exception as error:
        raise SavingError(f"{where}: invalid Sequential config ({error}).") from error
    first_build_shape = None
    for index, layer_entry in enumerate(entries):
        layer_where = f"{where}, layers[{index}]"
        layer = layer_from_entry(layer_entry, custom_objects, layer_where)
        build = layer_entry.get("build_config") if isinstance(layer_entry, dict) else None
        if index <= 1 and isinstance(build, dict) and first_build_shape is None:
            first_build_shape = _input_shape(build.get("input_shape"), layer_where)
        try:
            model.add(layer, rebuild=False)
        except Exception as error:
            raise SavingError(f"{layer_where}: cannot add layer '{layer.name}' to the "
                              f"Sequential: {error}") from error
    if model._input_layer is not None:
        return model, model._input_layer.batch_shape
    shape = shape or _input_shape(config.get("build_input_shape"), where) or first_build_shape
    return model, shape


class _Budget:
    """While a model is built from a file: check every weight's size before it is allocated
    (the total may not exceed ``max_bytes``) and every shape passed between layers. Layers
    are guarded one by one (``guard``), so a functional graph replayed from its config is
    checked as it is built; a nested model being loaded shares the outer budget."""

    active = None

    def __init__(self, max_bytes: int, where: str):
        self.max_bytes, self.where, self.spent, self.patched = max_bytes, where, 0, []

    def guard(self, root: Layer) -> None:
        for layer in root.flatten_layers():
            if "add_weight" not in vars(layer):
                self._guard_one(layer)

    def _guard_one(self, layer: Layer) -> None:
        add_weight, output_shape = layer.add_weight, layer.compute_output_shape
        signature, where = inspect.signature(Layer.add_weight), self.where

        def checked_add_weight(*args, **kwargs):
            try:
                bound = signature.bind(layer, *args, **kwargs)
            except TypeError:  # a custom layer's own add_weight signature: not checked
                return add_weight(*args, **kwargs)
            bound.apply_defaults()
            shape = _weight_shape(bound.arguments["shape"], layer, where)
            itemsize = np.dtype(bound.arguments["dtype"] or layer.dtype).itemsize
            self.spent += math.prod(shape) * itemsize
            if self.spent > self.max_bytes:
                raise SavingError(
                    f"{where}: layer '{layer.name}' asks for a weight of shape {shape}, which "
                    f"brings the model to {self.spent} bytes of weights; the file can hold at "
                    f"most {self.max_bytes}. The config and the weights disagree (or the config "
                    f"is hostile).")
            return add_weight(*args, **kwargs)

        def checked_output_shape(input_shape):
            _check_activation(input_shape, layer, where)
            out = output_shape(input_shape)
            _check_activation(out, layer, where)
            return out

        object.__setattr__(layer, "add_weight", checked_add_weight)
        object.__setattr__(layer, "compute_output_shape", checked_output_shape)
        self.patched.append(layer)

    def release(self) -> None:
        for layer in self.patched:
            vars(layer).pop("add_weight", None)
            vars(layer).pop("compute_output_shape", None)
        self.patched = []


@contextlib.contextmanager
def _budget(max_bytes: int, where: str):
    """The active budget (a nested model shares its parent's), released at the end."""
    if _Budget.active is not None:
        yield _Budget.active
        return
    budget = _Budget.active = _Budget(max_bytes, where)
    try:
        yield budget
    finally:
        _Budget.active = None
        budget.release()


def _weight_shape(shape, layer: Layer, where: str) -> tuple:
    try:
        shape = tuple(int(d) for d in (shape if isinstance(shape, (list, tuple)) else [shape]))
    except (TypeError, ValueError) as error:
        raise SavingError(f"{where}: layer '{layer.name}' asks for a weight of shape {shape!r} "
                          f"({error}).") from error
    if any(d < 0 or d >= _MAX_DIMENSION for d in shape):
        raise SavingError(f"{where}: layer '{layer.name}' asks for a weight of shape {shape}.")
    return shape


def _check_activation(shape, layer: Layer, where: str) -> None:
    if shape is None:
        return
    if isinstance(shape, dict):
        shape = list(shape.values())
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(item, (list, tuple, dict)) for item in shape):
        for item in shape:  # several shapes (a merge layer's inputs)
            _check_activation(item, layer, where)
        return
    try:
        sizes = [d for d in tuple(shape)[1:] if d is not None]
    except TypeError:
        return
    if any(not isinstance(d, (int, np.integer)) or d < 0 or d >= _MAX_DIMENSION for d in sizes) \
            or math.prod(int(d) for d in sizes) > MAX_ACTIVATION_VALUES:
        raise SavingError(
            f"{where}: layer '{layer.name}' would handle samples of shape {tuple(shape)}, more "
            f"than {MAX_ACTIVATION_VALUES} values; refusing to build it.")


def build_model(entry, custom_objects=None, max_weight_bytes: int = MAX_CONFIG_WEIGHT_BYTES,
                where: str = "config"):
    """A built model from its Keras dict: safety checks, then creation, then a build whose
    weights may total at most ``max_weight_bytes`` (the model stays unbuilt if its input
    shape is unknown)."""
    custom_objects = dict(custom_objects or {})
    with _budget(max_weight_bytes, where):  # a functional graph is built while it is read
        model, shape = model_from_entry(entry, custom_objects, where)
    if shape is None and not model.built:
        # Built later, at its first call: the same checks then, so a config cannot dodge
        # them by leaving out the input shape. (Without weights in the file to bound it, the
        # budget is that of a config alone.) The guards stay on the layers; they cost only
        # at build time.
        _Budget(max(max_weight_bytes, MAX_CONFIG_WEIGHT_BYTES),
                f"{where} (built after loading)").guard(model)
    if shape is not None and not model.built:
        _check_activation(shape, model, where)
        try:
            with _budget(max_weight_bytes, where) as budget:
                budget.guard(model)
                if isinstance(model, Sequential):
                    model.build(shape)
                else:
                    model.build_from_shape(shape)
        except SavingError:
            raise
        except Exception as error:
            raise SavingError(f"{where}: the model cannot be built for inputs of shape "
                              f"{shape}: {type(error).__name__}: {error}") from error
    return model


# ----- compile -----
def compile_from_config(model, config, custom_objects=None, where: str = "config") -> None:
    """``model.compile(...)`` with a Keras ``compile_config`` (or tf.keras's arguments)."""
    if not config:
        return
    if not isinstance(config, dict):
        raise SavingError(f"{where}: 'compile_config' must be a dict.")
    custom_objects = custom_objects or {}
    try:
        optimizer = config.get("optimizer", "rmsprop")
        if isinstance(optimizer, dict):
            optimizer = optimizers.deserialize(optimizer, custom_objects)
        loss = _deserialize_losses(config.get("loss"), custom_objects)
        multi = model._multi_output_names() is not None
        compiled_metrics = _deserialize_metrics(config.get("metrics"), custom_objects, multi)
        weighted = _deserialize_metrics(config.get("weighted_metrics"), custom_objects, multi)
        model.compile(optimizer=optimizer, loss=loss, metrics=compiled_metrics,
                      weighted_metrics=weighted, loss_weights=config.get("loss_weights"),
                      run_eagerly=bool(config.get("run_eagerly", False)),
                      steps_per_execution=config.get("steps_per_execution", 1))
    except SavingError:
        raise
    except Exception as error:
        raise SavingError(
            f"{where}: the model cannot be compiled from the saved compile_config: "
            f"{type(error).__name__}: {error}. Load with compile=False and compile it yourself, "
            f"or pass the missing objects in custom_objects.") from error


def _deserialize_function_or_object(value, family, custom_objects):
    if value is None:
        return None
    if isinstance(value, str):
        return custom_objects.get(value, value)
    if isinstance(value, dict):
        return family.deserialize(value, custom_objects)
    raise SavingError(f"Cannot read {value!r} as a loss or metric: expected a name or a dict.")


def _deserialize_losses(value, custom_objects):
    """One loss, or a list or dict of them (one per output)."""
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _deserialize_function_or_object(item, losses, custom_objects)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_deserialize_function_or_object(item, losses, custom_objects) for item in value]
    return _deserialize_function_or_object(value, losses, custom_objects)


def _deserialize_metrics(values, custom_objects, per_output: bool):
    """Metrics as compile takes them: a flat list, or per output (dict or list of lists) for a
    model with several outputs."""
    if isinstance(values, dict) and "class_name" not in values:
        return {key: _deserialize_list(item, custom_objects) for key, item in values.items()}
    if per_output and isinstance(values, list) and all(
            isinstance(item, list) or item is None for item in values):
        return [_deserialize_list(item, custom_objects) or [] for item in values]
    return _deserialize_list(values, custom_objects)


def _deserialize_list(values, custom_objects):
    if values is None:
        return None
    if not isinstance(values, list):
        values = [values]
    result = []
    for value in values:
        if isinstance(value, list):  # tf.keras nests metrics per output
            result.extend(_deserialize_list(value, custom_objects))
        elif isinstance(value, dict) and value.get("class_name") == "MeanMetricWrapper":
            inner = value.get("config") or {}
            result.append(inner.get("name") or inner.get("fn"))
        else:
            result.append(_deserialize_function_or_object(value, metrics, custom_objects))
    return result
