"""Functional models to Keras 3 config dicts and back (tf.keras 2 configs are read too).

A layer's entry carries its ``inbound_nodes``: for each call, the input tensors named by
``[layer name, node index, tensor index]``. Node indices count only the calls that belong to
this model. A nested functional model's index is 1-based in ``input_layers``/``output_layers``
(and everywhere in tf.keras 2 files, whose functional models own a node 0 linking their inputs
to their outputs) but 0-based in Keras 3's node arguments; numkeras writes what Keras 3 writes
and reads both.
"""

from __future__ import annotations

import inspect

import numpy as np

from numkeras.backprop import Tensor
from numkeras.layers.layer import Layer
from numkeras.layers.node import KerasTensor, flatten, map_structure

_KERAS_TENSOR = "__keras_tensor__"


def _first_node_index(layer) -> int:
    from numkeras.models.functional import Functional

    return 1 if isinstance(layer, Functional) else 0


def _node_indices(model, shift_functional: bool) -> dict:
    """(id of layer, original node index) -> node index in this model's config."""
    relevant = model._graph.node_depths
    mapping = {}
    for layer in model.layers:
        kept = _first_node_index(layer) if shift_functional else 0
        for index, node in enumerate(layer._inbound_nodes):
            if node in relevant:
                mapping[(id(layer), index)] = kept
                kept += 1
    return mapping


def functional_config(model, serialize_layer=None) -> dict:
    """Keras 3's config of a functional model (``layers``, ``input_layers``, ...)."""
    if serialize_layer is None:
        from numkeras.layers import serialize as serialize_layer
    in_args, at_ends = _node_indices(model, False), _node_indices(model, True)
    relevant = model._graph.node_depths

    def history(tensor, mapping=at_ends) -> list:
        layer, node_index, tensor_index = tensor._keras_history
        return [layer.name, mapping[(id(layer), node_index)], tensor_index]

    def tensor_entry(tensor) -> dict:
        if not isinstance(tensor, KerasTensor):  # an operation's constant argument
            return _constant_entry(tensor)
        return {"class_name": _KERAS_TENSOR,
                "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                           "keras_history": history(tensor, in_args)}}

    layers = []
    for layer in model.layers:
        entry = dict(serialize_layer(layer))
        entry["name"] = layer.name
        entry["inbound_nodes"] = [_node_entry(layer, node, tensor_entry)
                                  for node in layer._inbound_nodes
                                  if node in relevant and not node.is_input]
        layers.append(entry)

    def ends(structure):
        if isinstance(structure, KerasTensor):
            return [history(structure)]
        return map_structure(history, structure)

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": ends(model._inputs_structure),
            "output_layers": ends(model._outputs_structure)}


def _constant_entry(value):
    """A constant argument of an operation node as Keras 3 writes it (``x[..., 1:3]``,
    ``1.0 - x``, ``ops.where(c, x, 0)``)."""
    if isinstance(value, slice):
        return {"class_name": "__slice__",
                "config": {"start": value.start, "stop": value.stop, "step": value.step}}
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_lists(value):
    """Tuples as lists (an index ``x[..., 0]``), as JSON and Keras's configs have them."""
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    return value


def _constant(entry: dict):
    """The value of a constant's entry (see :func:`_constant_entry`)."""
    config = entry.get("config") or {}
    if entry["class_name"] == "__slice__":
        return slice(config.get("start"), config.get("stop"), config.get("step"))
    if entry["class_name"] == "__ellipsis__":
        return Ellipsis
    return np.asarray(config.get("value"), dtype=np.dtype(str(config.get("dtype"))))


_CONSTANT_CLASSES = ("__slice__", "__ellipsis__", "__numpy__")


def _node_entry(layer, node, tensor_entry) -> dict:
    """One node as Keras 3 writes it: ``{"args": [...], "kwargs": {...}}``. A recurrent
    layer's initial states, which numkeras's graph records as extra inputs
    (``[sequences, *states]``), go to ``kwargs["initial_state"]`` as Keras has them."""
    call_args, kwargs = node.call_args, dict(node.call_kwargs)
    if getattr(layer, "_states_as_inputs", False) and isinstance(call_args, list) \
            and len(call_args) > 1:
        kwargs["initial_state"] = [tensor_entry(state) for state in call_args[1:]]
        call_args = call_args[0]
    return {"args": _as_lists(_node_args(layer, call_args, tensor_entry)), "kwargs": kwargs}


def _node_args(layer, call_args, tensor_entry) -> list:
    """Keras 3's ``args`` of a node: one entry per positional argument. Most layers take one
    (a tensor or a list); a layer with ``_call_positional`` (MultiHeadAttention's
    ``layer(query, value)``) took each tensor as its own argument."""
    if getattr(layer, "_call_positional", False):
        return [map_structure(tensor_entry, item) for item in call_args]
    return [map_structure(tensor_entry, call_args)]


def functional_from_config(cls, config: dict, custom_objects=None, make_layer=None,
                           where: str = "config"):
    """A functional model from its Keras 3 or tf.keras 2 config. ``make_layer(entry)`` turns
    one layer entry into an unbuilt layer (default: ``numkeras.layers.deserialize``)."""
    if make_layer is None:
        from numkeras.layers import deserialize

        def make_layer(entry):
            return deserialize(entry, custom_objects=custom_objects)

    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError(f"{where}: a functional config needs a 'layers' list.")
    created: dict[str, Layer] = {}
    outputs: dict[tuple, list] = {}   # (layer name, node index) -> output tensors
    pending = []                      # (layer, node index, node config), in file order
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"{where}, layers[{index}]: expected a dict.")
        layer = make_layer(entry)
        name = entry.get("name", layer.name)
        if name in created:
            raise ValueError(f"{where}: layer name '{name}' appears twice.")
        created[name] = layer
        if layer._inbound_nodes and not entry.get("inbound_nodes"):  # an InputLayer
            outputs[(name, 0)] = layer._inbound_nodes[0].output_tensors
        for node_index, node in enumerate(entry.get("inbound_nodes") or []):
            pending.append((name, node_index + _first_node_index(layer), node))
    _replay(pending, created, outputs, where)

    def tensor(reference):
        name, node_index, tensor_index = _reference(reference, where)
        key = (name, node_index)
        if key not in outputs or tensor_index >= len(outputs[key]):
            raise ValueError(f"{where}: the model's inputs/outputs name {reference}, which no "
                             f"layer produces.")
        return outputs[key][tensor_index]

    inputs = _ends(config.get("input_layers"), tensor)
    model_outputs = _ends(config.get("output_layers"), tensor)
    return cls(inputs, model_outputs, name=config.get("name"),
               trainable=bool(config.get("trainable", True)))


def _replay(pending: list, created: dict, outputs: dict, where: str) -> None:
    """Call each layer on the tensors its nodes name, in passes until every node ran (a
    node may name a layer listed later, as in shared layers)."""
    while pending:
        waiting = []
        for name, node_index, node in pending:
            args, kwargs = _node_arguments(node, where, created[name])
            try:
                inputs = _resolve(args, _Outputs(outputs, created))
            except KeyError:
                waiting.append((name, node_index, node))
                continue
            if isinstance(args, _Positional):  # layer(query, value): several arguments
                result = created[name](*inputs, **kwargs)
            else:
                result = created[name](inputs, **kwargs)
            outputs[(name, node_index)] = flatten(result)
        if len(waiting) == len(pending):
            name, _, node = waiting[0]
            raise ValueError(f"{where}: layer '{name}' is called on tensors that no layer in "
                             f"the file produces ({str(node)[:200]}).")
        pending = waiting


class _Positional(list):
    """A node's ``args`` when the layer took several positional tensors."""


def _node_arguments(node, where: str, layer=None):
    """(inputs structure with references, kwargs) from a Keras 3 or a tf.keras 2 node."""
    if isinstance(node, dict):  # Keras 3: {"args": [inputs, ...], "kwargs": {...}}
        args = node.get("args") or []
        if not args:
            raise ValueError(f"{where}: a node without arguments: {str(node)[:200]}.")
        # Replayed: `training` and the boolean options the layer's call takes
        # (use_causal_mask, return_attention_scores); Keras writes mask=None, ignored.
        accepted = _call_parameters(layer)
        kwargs = {k: v for k, v in (node.get("kwargs") or {}).items()
                  if isinstance(v, bool) and (k == "training" or k in accepted)}
        if len(args) > 1 and getattr(layer, "_call_positional", False):
            return _Positional(args), kwargs
        states = (node.get("kwargs") or {}).get("initial_state")
        if getattr(layer, "_states_as_inputs", False) and isinstance(states, list) and states:
            return [args[0], *states], kwargs  # Keras's initial_state=[...]: numkeras's inputs
        return args[0], kwargs
    if isinstance(node, list):  # tf.keras 2: [[name, node, tensor, kwargs], ...]
        refs = [("ref", item[0], item[1], item[2]) for item in node]
        return (refs[0] if len(refs) == 1 else refs), {}
    raise ValueError(f"{where}: cannot read node {str(node)[:200]}.")


def _call_parameters(layer) -> frozenset:
    if layer is None:
        return frozenset()
    try:
        return frozenset(inspect.signature(layer.call).parameters)
    except (TypeError, ValueError):
        return frozenset()


class _Outputs:
    """Node outputs by (layer name, node index). Keras 3 writes a nested functional model's
    node index 1-based in ``output_layers`` (as tf.keras does everywhere) but 0-based in
    node arguments; both are read."""

    def __init__(self, outputs: dict, created: dict):
        self.outputs, self.created = outputs, created

    def get(self, name, node_index, tensor_index):
        from numkeras.models.functional import Functional

        key = (name, node_index)
        if key not in self.outputs and isinstance(self.created.get(name), Functional):
            key = (name, node_index + 1)
        return self.outputs[key][tensor_index]


def _resolve(args, outputs: _Outputs):
    if isinstance(args, tuple) and args and args[0] == "ref":
        return outputs.get(args[1], args[2], args[3])
    if isinstance(args, dict):
        if args.get("class_name") == _KERAS_TENSOR:
            name, node_index, tensor_index = args["config"]["keras_history"]
            return outputs.get(name, node_index, tensor_index)
        if args.get("class_name") in _CONSTANT_CLASSES:
            return _constant(args)
        return {key: _resolve(value, outputs) for key, value in args.items()}
    if isinstance(args, list):
        return type(args)(_resolve(item, outputs) for item in args)
    if args is None or isinstance(args, (bool, int, float, str)):
        return args  # an operation's constant argument (``1.0 - x``)
    raise KeyError(args)


def _reference(reference, where: str) -> tuple:
    if not (isinstance(reference, list) and len(reference) == 3
            and isinstance(reference[0], str)):
        raise ValueError(f"{where}: expected [layer name, node index, tensor index], found "
                         f"{str(reference)[:120]}.")
    return reference[0], int(reference[1]), int(reference[2])


def _ends(structure, tensor):
    """input_layers/output_layers: one reference, a list of them, or a dict of them."""
    if isinstance(structure, dict):
        return {key: tensor(value) for key, value in structure.items()}
    if not isinstance(structure, list) or not structure:
        raise ValueError(f"expected a list of [layer, node, tensor] references, found "
                         f"{str(structure)[:120]}.")
    if isinstance(structure[0], str):  # a single bare reference
        return tensor(structure)
    items = [tensor(item) for item in structure]
    return items[0] if len(items) == 1 else items  # as Keras: one tensor, not a list of one
