"""``keras.ops`` calls and tensor operators on symbolic tensors: operation nodes of a graph.

As in Keras 3, ``x + 1.0``, ``x[:, 0]`` or ``keras.ops.sum(x, axis=1)`` on a tensor from
``keras.Input`` records a node whose layer is an :class:`Operation` (``Add``, ``GetItem``,
``Sum`` ...): no weights, the op's tensor arguments and constants in the node, its other
options in the config. A functional model runs it like any layer, and writes and reads it the
way Keras 3 does (``"module": "keras.src.ops.numpy"``), so such models open in Keras 3.

>>> import numkeras as keras
>>> x = keras.Input((3,))
>>> y = keras.ops.sum(x * 2.0, axis=1, keepdims=True)
>>> model = keras.Model(x, y)
>>> [type(layer).__name__ for layer in model.layers]
['InputLayer', 'Multiply', 'Sum']
>>> model.predict(np.ones((2, 3)), verbose=0)
array([[6.],
       [6.]], dtype=float32)
"""

from __future__ import annotations

import inspect

import numpy as np

from numkeras.backprop import Tensor, no_grad
from numkeras.layers.layer import Layer
from numkeras.layers.node import KerasTensor, Node, flatten, map_structure
from numkeras.utils import naming, symbolic

# The parameters that Keras 3's op classes take at call time (tensors and operands: kept in the
# node's args); the others (axis, keepdims ...) are the op's options, kept in its config.
_OPERAND_PARAMETERS = frozenset({
    "x", "x1", "x2", "y", "xs", "key", "condition", "inputs", "a", "b", "target", "output",
    "kernel", "indices", "updates", "start_indices", "values", "tensors", "arrays", "mean",
    "variance", "offset", "scale", "labels", "logits", "predictions", "segment_ids", "data",
    "weights", "bias", "elements", "keys", "fill_value", "value", "lower", "upper",
    "x_min", "x_max", "alpha", "query", "outputs",
})
_CLASSES: dict = {}


class Operation(Layer):
    """One ``keras.ops`` call in a functional graph (subclassed per op: ``Add``, ``Sum`` ...).

    ``options`` are the op's keyword arguments that are not tensors (``axis=1``)."""

    function = None  # the op (numkeras.ops.*), set on each subclass
    keras_module = "keras.src.ops.numpy"
    _call_positional = True  # each op argument is one entry of the node's args

    def __init__(self, name=None, **options):
        super().__init__(name=name or naming.unique_name(naming.to_snake_case(
            type(self).__name__)))
        self.options = options
        # Options named before the op's *operands (einsum's subscripts) go first, by position.
        leading = _leading_parameters(type(self).function)
        self._leading = [options[name] for name in leading if name in options]
        self._keywords = {k: v for k, v in options.items() if k not in leading}
        self.built = True

    def _run(self, args):
        return type(self).function(*self._leading, *args, **self._keywords)

    def __call__(self, *args, training=None, **kwargs):
        if len(args) == 1 and type(args[0]) is _Arguments:  # a graph runs or clones its node
            args = tuple(args[0])
        if _has_symbol(args):
            return self._record(args)
        return self._run(args)

    def _record(self, args):
        if type(self).__name__ == "GetItem" and len(args) == 2 \
                and isinstance(args[1], list):  # an index read back from a file: a tuple
            args = (args[0], tuple(args[1]))
        outputs = _infer_outputs(self._run, args, self.name, type(self).__name__)
        Node(self, _Arguments(args), {}, outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        """Output shape(s) for the shapes in place of the node's tensors (``input_shape`` is
        the node's arguments with each tensor replaced by its shape; constants stay)."""
        def symbols(template, given):
            if isinstance(template, KerasTensor):
                return KerasTensor(given, dtype=template.dtype)
            if isinstance(template, (list, tuple)):
                return type(template)(symbols(t, g) for t, g in zip(template, given))
            if isinstance(template, dict):
                return {key: symbols(value, given[key]) for key, value in template.items()}
            return template

        args = symbols(self._inbound_nodes[0].call_args, input_shape)
        outputs = _infer_outputs(self._run, args, self.name, type(self).__name__)
        return map_structure(lambda tensor: tensor.shape, outputs)

    def get_config(self) -> dict:
        return {"name": self.name, **self.options}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        name = config.pop("name", None)
        try:
            inspect.signature(cls.function).bind_partial(**config)
        except TypeError as error:
            raise ValueError(f"Operation '{name}' ({cls.__name__}): keras.ops."
                             f"{naming.to_snake_case(cls.__name__)} does not take the options "
                             f"{config} "
                             f"({error}).") from None
        return cls(name=name, **config)


class _Arguments(list):
    """A node's positional op arguments (tensors and constants), as the node recorded them."""


def _has_symbol(structure) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in flatten(list(structure)))


def _infer_outputs(run, args, name, kind):
    """KerasTensors for the op's outputs: ``run(args)`` is tried on stand-in values, unknown
    sizes taken as 1 and then 2, and an axis whose size follows them is unknown in the output
    too. The stand-ins are zeros, or identity matrices for ops that need invertible or
    positive-definite ones (inv, cholesky); warnings of the stand-in arithmetic (log of 0) are
    silenced."""
    runs, error = [], None
    for fill in (np.zeros, _identities):
        try:
            runs = [flatten(_stand_in_run(run, args, size, fill)) for size in (1, 2)]
            break
        except Exception as failure:  # the op's own checks: report them with the shapes
            error = error or failure
    if not runs:
        shapes = "[" + ", ".join(map(_describe, args)) + "]"
        raise ValueError(f"keras.ops.{naming.to_snake_case(kind)} ('{name}') cannot be "
                         f"applied to arguments {shapes}: {type(error).__name__}: "
                         f"{error}") from error
    outputs = []
    for first, second in zip(*runs):
        first, second = np.asarray(_data(first)), np.asarray(_data(second))
        shape = tuple(None if a != b else a for a, b in zip(first.shape, second.shape))
        outputs.append(KerasTensor(shape, dtype=first.dtype.name))
    return outputs[0] if len(outputs) == 1 else outputs


def _stand_in_run(run, args, size, fill):
    def stand_in(leaf):
        if not isinstance(leaf, KerasTensor):
            return leaf
        shape = tuple(size if d is None else d for d in leaf.shape)
        dtype = leaf.dtype if leaf.dtype != "string" else object
        return Tensor(fill(shape, dtype=dtype))

    with no_grad(), np.errstate(all="ignore"):
        return run(tuple(map_structure(stand_in, list(args))))


def _identities(shape, dtype):
    """Identity matrices over the last two axes (zeros below two axes)."""
    if len(shape) < 2:
        return np.zeros(shape, dtype=dtype)
    return np.ascontiguousarray(np.broadcast_to(np.eye(shape[-2], shape[-1], dtype=dtype), shape))


def _leading_parameters(function) -> tuple:
    """The names of the parameters before ``*args`` (none if the op has no ``*args``)."""
    names = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            return tuple(names)
        names.append(parameter.name)
    return ()


def _describe(value) -> str:
    """An op argument in an error message: a tensor or array by its shape."""
    if isinstance(value, KerasTensor):
        return f"KerasTensor{value.shape}"
    if hasattr(value, "shape") and not isinstance(value, (int, float)):
        return f"array{tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_describe, value)) + "]"
    return repr(value)


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def operation_class(name: str, function) -> type:
    """The :class:`Operation` subclass of the ``keras.ops`` function ``name`` (``add`` ->
    ``Add``, ``true_divide`` -> ``TrueDivide``: Keras 3's class names)."""
    cls = _CLASSES.get(name)
    if cls is None:
        class_name = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
        module = function.__module__.replace("numkeras.ops.", "keras.src.ops.")
        cls = type(class_name, (Operation,), {"function": staticmethod(function),
                                              "keras_module": module,
                                              "__doc__": f"keras.ops.{name} in a functional "
                                                         f"graph."})
        _CLASSES[name] = cls
    return cls


def symbolic_call(name, function, args, kwargs):
    """What ``keras.ops.<function>(*args, **kwargs)`` returns when a symbolic tensor is among
    its arguments: the output tensors of a new operation node. Operands (tensors, and the
    operands of binary ops, even constant) go to the node; other options to the config."""
    bound = inspect.signature(function).bind(*args, **kwargs)
    operands, options = [], {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name not in bound.arguments:
            continue
        value = bound.arguments[parameter.name]
        if parameter.kind is parameter.VAR_POSITIONAL:
            operands.extend(value)
        elif (parameter.name in _OPERAND_PARAMETERS or _has_symbol([value])) \
                and len(operands) == _position(function, parameter.name):
            operands.append(value)
        else:
            options[parameter.name] = list(value) if isinstance(value, tuple) else value
    return operation_class(name, function)(**options)(*operands)


def _position(function, name: str) -> int:
    return list(inspect.signature(function).parameters).index(name)


def operation_from_config(entry: dict):
    """An :class:`Operation` from a Keras 3 entry (``"module": "keras.src.ops.numpy"``)."""
    from numkeras import ops

    class_name = entry.get("class_name")
    name = naming.to_snake_case(str(class_name))
    function = getattr(ops, name, None) if name in ops.__all__ else None
    if not callable(function):
        raise ValueError(f"Unknown operation {class_name!r} (module {entry.get('module')!r}): "
                         f"numkeras.ops has no {name!r}.")
    function = getattr(function, "symbolic_function", function)
    return operation_class(name, function).from_config(dict(entry.get("config") or {}))


symbolic.register(KerasTensor, symbolic_call)
