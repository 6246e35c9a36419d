"""The functional graph's pieces: symbolic tensors and the nodes that connect layers.

Calling a layer on :class:`KerasTensor` objects (what ``keras.Input`` returns) computes nothing:
it builds the layer, infers the output shape and records a :class:`Node` (this layer, these
input tensors, these output tensors). A functional model is the set of nodes between its
inputs and its outputs; it runs them in topological order.

>>> from numkeras.layers import Dense, Input
>>> x = Input(shape=(4,))
>>> y = Dense(2)(x)
>>> y.shape, y._keras_history[0] is y.node.layer
((None, 2), True)
"""

from __future__ import annotations

from numkeras import config as _config
from numkeras.utils import naming


class KerasTensor:
    """A symbolic tensor: a shape and a dtype, no values, and the node that made it.

    >>> KerasTensor((None, 28, 28), name="pixels")
    <KerasTensor shape=(None, 28, 28), dtype=float32, sparse=False, ragged=False, name=pixels>
    """

    def __init__(self, shape, dtype=None, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype or _config.floatx()
        self.name = name or naming.unique_name("keras_tensor")
        # (layer, node index in layer._inbound_nodes, index among the node's outputs)
        self._keras_history = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self) -> "Node":
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    @property
    def _layer(self):
        return None if self._keras_history is None else self._keras_history[0]

    def __repr__(self) -> str:
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, "
                f"ragged=False, name={self.name}>")

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor has no value, so it cannot be used as a Python "
                        "bool (in `if` or `and`). Use keras.layers or keras.ops on it instead.")

    def __array__(self, dtype=None, copy=None):
        from numkeras.utils.symbolic import SymbolicInputError

        raise SymbolicInputError(
            f"{self!r} is symbolic (from keras.Input): it has a shape but no values, so it "
            f"cannot become a NumPy array. Use keras.layers or keras.ops on it (they record "
            f"graph nodes), or call the model on data.")

    # Operators record operation nodes through keras.ops, as Keras 3's KerasTensor does
    # (they are set below, from _OPERATORS).
    def __pos__(self):
        return self

    # == and != keep Python's identity meaning: graphs look tensors up in lists and dicts.
    __hash__ = object.__hash__
    # NumPy hands `np.float32(2) * x` and `array + x` to these operators instead of trying to
    # convert x.
    __array_ufunc__ = None


def _ops():
    from numkeras import ops  # level 2: loaded when a graph first uses an operator

    return ops


# Python operator -> keras.ops function; "r" marks the reflected form (other <op> self).
_OPERATORS = {
    "add": "add", "radd": "r add", "sub": "subtract", "rsub": "r subtract",
    "mul": "multiply", "rmul": "r multiply", "truediv": "true_divide",
    "rtruediv": "r true_divide", "floordiv": "floor_divide", "rfloordiv": "r floor_divide",
    "mod": "mod", "rmod": "r mod", "and": "logical_and", "rand": "r logical_and",
    "or": "logical_or", "ror": "r logical_or", "xor": "logical_xor", "rxor": "r logical_xor",
    "pow": "power", "rpow": "r power", "matmul": "matmul", "rmatmul": "r matmul",
    "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "getitem": "get_item", "neg": "negative", "abs": "absolute", "invert": "logical_not",
}


def _operator(spec: str):
    reflected, name = spec.startswith("r "), spec.removeprefix("r ")

    def binary(self, other):
        op = getattr(_ops(), name)
        return op(other, self) if reflected else op(self, other)

    def unary(self):
        return getattr(_ops(), name)(self)

    return unary if name in ("negative", "absolute", "logical_not") else binary


for _dunder, _spec in _OPERATORS.items():
    setattr(KerasTensor, f"__{_dunder}__", _operator(_spec))


class Node:
    """One call of ``layer`` in a graph: the input tensors (nested as they were passed), the
    non-tensor keyword arguments, and the output tensors."""

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_args = call_args          # the structure passed to the layer
        self.call_kwargs = dict(call_kwargs)
        # Operation nodes (keras.ops on symbolic tensors) also hold constants: only tensors
        # are inputs.
        self.input_tensors = [leaf for leaf in flatten(call_args) if isinstance(leaf, KerasTensor)]
        self.outputs = outputs              # a KerasTensor or a list of them
        self.output_tensors = flatten(outputs)
        self.is_input = not self.input_tensors
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, node_index, i)

    @property
    def parent_nodes(self) -> list["Node"]:
        """The nodes that made this node's inputs, in input order."""
        return [tensor.node for tensor in self.input_tensors]

    def iterate_inbound(self):
        """(inbound layer, node index, tensor index) for each input tensor, as tf.keras."""
        for tensor in self.input_tensors:
            yield tensor._keras_history

    def __repr__(self) -> str:
        return f"<Node layer={self.layer.name} inputs={len(self.input_tensors)}>"


def flatten(structure) -> list:
    """The leaves of nested lists, tuples and dicts (dicts in key order), left to right."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(function, structure):
    """``structure`` with ``function`` applied to every leaf (lists, tuples, dicts kept)."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(function, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(function, value) for key, value in structure.items()}
    return function(structure)


def pack_like(structure, leaves: list):
    """Put ``leaves`` (in :func:`flatten` order) in the places of the KerasTensors of
    ``structure`` (other leaves, an operation's constants, stay)."""
    iterator = iter(leaves)

    def rebuild(item):
        if isinstance(item, (list, tuple)):
            return type(item)(rebuild(sub) for sub in item)
        if isinstance(item, dict):
            values = {key: rebuild(item[key]) for key in sorted(item)}
            return {key: values[key] for key in item}
        return next(iterator) if isinstance(item, KerasTensor) else item

    return rebuild(structure)


def check_dict_keys(given: dict, names: list, what: str) -> None:
    """Raise if the keys of ``given`` are not exactly ``names``, listing the unknown and the
    missing ones (``what`` says whose keys: "Model 'm' expects inputs named ...")."""
    unknown = sorted(set(given) - set(names))
    missing = [name for name in names if name not in given]
    if unknown or missing:
        raise ValueError(
            f"{what} {names}; the dict passed has keys {sorted(given)}"
            + (f" (unknown: {unknown})" if unknown else "")
            + (f" (missing: {missing})" if missing else "") + ".")


def is_symbolic(structure) -> bool:
    """Whether ``structure`` holds a KerasTensor (fast for the single-array case)."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple, dict)):
        return any(isinstance(leaf, KerasTensor) for leaf in flatten(structure))
    return False


def forget_nodes(nodes) -> None:
    """Remove ``nodes`` from their layers (a model rebuilding its graph drops the old one)
    and renumber the layers' remaining nodes, so every tensor's history stays right."""
    layers = {}
    for node in nodes:
        layers[id(node.layer)] = node.layer
        node.layer._inbound_nodes = [n for n in node.layer._inbound_nodes if n is not node]
    for layer in layers.values():
        for node_index, node in enumerate(layer._inbound_nodes):
            for tensor_index, tensor in enumerate(node.output_tensors):
                tensor._keras_history = (layer, node_index, tensor_index)
