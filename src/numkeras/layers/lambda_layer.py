"""Lambda (a Python function as a layer) and Identity (Keras 3).

A ``Lambda``'s function computes on Tensors with :mod:`numkeras.backprop.ops` (or Tensor
operators), so its gradient comes from those ops.

>>> import numpy as np
>>> Lambda(lambda x: x * 2.0)(np.array([[1.0, 2.0]])).numpy().tolist()
[[2.0, 4.0]]
>>> Lambda(lambda x: x[:, :1], output_shape=(1,)).compute_output_shape((None, 3))
(None, 1)

Saving follows Keras 3: a lambda's config holds its bytecode (``"__lambda__"``), which numkeras
writes but never loads (running code from a file is unsafe); a named function is written by
name and must be passed back in ``custom_objects`` when loading.
"""

from __future__ import annotations

import base64
import inspect
import marshal
import types

from numkeras.layers.layer import Layer, is_shape


class Lambda(Layer):
    """Wrap ``function`` (Tensor(s) in, Tensor(s) out) as a layer.

    Args:
        function: called as ``function(inputs, **arguments)``; it also receives ``mask`` and
            ``training`` if its signature names them.
        output_shape: the output shape without the batch axis (a tuple, or a list of tuples
            for several outputs), or a function of the full input shape; default: found by
            running ``function`` on a batch of zeros.
        mask: kept for Keras compatibility and written in the config (numkeras has no
            masking).
        arguments: keyword arguments passed to ``function``.

    >>> import numpy as np
    >>> Lambda(lambda x, power: x ** power, arguments={"power": 3})(np.array([[2.0]])).item()
    8.0
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"The `function` argument of Lambda '{self.name}' must be callable "
                            f"(a function of the input Tensor). Received: {function!r}.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        # Not `_output_shape`: the base Layer records the shape of the last call there.
        self._given_output_shape = _as_shape_argument(output_shape)
        names = _parameter_names(function)
        self._fn_expects_training_arg = "training" in names
        self._fn_expects_mask_arg = "mask" in names

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        given = self._given_output_shape
        if callable(given):
            return given(input_shape)
        if given is None:
            # Keras infers the shape with a symbolic run; numkeras runs the function on zeros.
            try:
                return super().compute_output_shape(input_shape)
            except Exception as error:
                raise NotImplementedError(
                    f"We could not automatically infer the shape of the output of Lambda "
                    f"'{self.name}' (running it on zeros of shape {input_shape} raised "
                    f"{type(error).__name__}: {error}). Please specify the `output_shape` "
                    f"argument for this Lambda layer.") from error
        batch = input_shape[0] if is_shape(input_shape) else _first_shape(input_shape)[0]
        if is_shape(given):
            return (batch,) + tuple(given)
        return [(batch,) + tuple(shape) for shape in given]

    def get_config(self):
        config = {"function": serialize_function(self.function)}
        given = self._given_output_shape
        if given is not None:
            config["output_shape"] = serialize_function(given) if callable(given) else given
        if self.mask is not None:
            config["mask"] = serialize_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = dict(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Rebuild from a config whose functions are callables or named functions found in
        ``custom_objects``; a lambda's bytecode is refused (numkeras never runs it)."""
        config = dict(config)
        custom_objects = custom_objects or {}
        config["function"] = _load_function(config["function"], custom_objects, "function")
        for key in ("output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict):
                config[key] = _load_function(value, custom_objects, key)
        return cls(**config)


class Identity(Layer):
    """Return the inputs unchanged: a placeholder where no operation is wanted.

    >>> import numpy as np
    >>> Identity()(np.ones((2, 3))).shape
    (2, 3)
    """

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config()


# ----- functions in configs, as Keras 3 writes them -----
def func_dump(function) -> tuple:
    """``(code, defaults, closure)`` of a Python function, as Keras's ``func_dump``: the
    code is its marshalled bytecode in base64 (readable only by the same Python version)."""
    code = base64.encodebytes(marshal.dumps(function.__code__)).decode("ascii")
    closure = None
    if function.__closure__:
        closure = tuple(cell.cell_contents for cell in function.__closure__)
    return code, function.__defaults__, closure


def serialize_function(function) -> dict:
    """Keras 3's config of a function in a Lambda: a lambda's bytecode (``"__lambda__"``);
    a named function by name (``{"module": "builtins", "class_name": "function", ...}``);
    another callable by its class and name (or its own ``get_config``)."""
    if isinstance(function, types.LambdaType) and function.__name__ == "<lambda>":
        code, defaults, closure = func_dump(function)
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": defaults, "closure": closure}}
    if isinstance(function, types.FunctionType):
        # Keras serializes the function's class (`function`, from `builtins`) and its name.
        return {"module": "builtins", "class_name": "function", "config": function.__name__,
                "registered_name": "function"}
    cls = type(function)
    if hasattr(function, "get_config"):
        config = function.get_config()
    elif hasattr(function, "__name__"):
        config = function.__name__
    else:
        raise TypeError(f"Cannot serialize object {function!r} of type {cls}. To be "
                        f"serializable, a class must implement the `get_config()` method.")
    return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
            "registered_name": cls.__name__}


def _load_function(entry, custom_objects: dict, argument: str):
    if callable(entry):
        return entry
    if isinstance(entry, dict) and entry.get("class_name") == "__lambda__":
        raise ValueError(
            f"The Lambda config's `{argument}` is a Python lambda stored as bytecode; numkeras "
            f"never runs code from a config. Rebuild the layer with the function itself: "
            f"Lambda({argument}=...), or use a named function and pass it in custom_objects.")
    name = entry.get("config") if isinstance(entry, dict) else entry
    if isinstance(name, str):
        for key in (name, name.rsplit(">", 1)[-1]):
            if key in custom_objects:
                return custom_objects[key]
    raise ValueError(
        f"Cannot find the function {name!r} named by the Lambda config's `{argument}`. Pass "
        f"it when loading: custom_objects={{{name!r}: your_function}}.")


def _as_shape_argument(output_shape):
    """A tuple for one shape, a list of tuples for several; callables and None unchanged."""
    if output_shape is None or callable(output_shape):
        return output_shape
    if isinstance(output_shape, (int, bool)) or not isinstance(output_shape, (list, tuple)):
        raise TypeError(f"`output_shape` of a Lambda layer must be a tuple, a list of tuples "
                        f"or a function. Received: output_shape={output_shape!r}.")
    if is_shape(output_shape):
        return tuple(output_shape)
    return [tuple(shape) for shape in output_shape]


def _first_shape(shapes):
    while not is_shape(shapes):
        shapes = next(iter(shapes.values())) if isinstance(shapes, dict) else shapes[0]
    return shapes


def _parameter_names(function) -> set[str]:
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # some builtins have no introspectable signature
        return set()
