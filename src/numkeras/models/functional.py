"""The functional API: a model that is a graph of layers, from ``keras.Input`` to outputs.

>>> import numpy as np
>>> import numkeras as keras
>>> inputs = keras.Input(shape=(4,), name="features")
>>> hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
>>> outputs = keras.layers.Dense(2, name="scores")(hidden)
>>> model = keras.Model(inputs, outputs, name="tiny")
>>> [layer.name for layer in model.layers]
['features', 'hidden', 'scores']
>>> model(np.ones((3, 4))).shape
(3, 2)

The graph is mapped once, without recursion (a 10,000-layer chain is fine), into a plan: one
step per node, reading and writing numbered slots. Running the model walks that plan. A
``Sequential`` model with a known input shape runs on the same plan.
"""

from __future__ import annotations

import inspect

import numpy as np

from numkeras.backprop import Tensor
from numkeras.layers.core import InputLayer
from numkeras.layers.layer import passes_mask, standardize_shape
from numkeras.layers.node import KerasTensor, Node, check_dict_keys, flatten, pack_like
from numkeras.models.model import Model
from numkeras.utils import naming


class GraphMap:
    """The nodes and layers between ``inputs`` and ``outputs`` (flat lists of KerasTensors),
    ordered as Keras orders them: ``layers`` by decreasing depth (inputs first), ties in the
    order a depth-first walk from the outputs meets them."""

    def __init__(self, inputs: list, outputs: list, model_name: str):
        self.inputs, self.outputs, self.model_name = inputs, outputs, model_name
        nodes, layer_indices = _walk_from_outputs(outputs, model_name)
        self.nodes = nodes                      # post-order: every node after its parents
        self.node_depths, self.layer_depths = _depths(nodes)
        self._check_every_input_used()
        self.layers = _ordered_by_depth(self.layer_depths, layer_indices)
        self.nodes_by_depth: dict[int, list[Node]] = {}
        for node, depth in self.node_depths.items():
            self.nodes_by_depth.setdefault(depth, []).append(node)
        self._check_computable()
        self._check_unique_names()

    def _check_every_input_used(self) -> None:
        used = {id(layer) for layer in self.layer_depths}
        for tensor in self.inputs:
            layer = tensor._keras_history[0]
            if id(layer) not in used:
                raise ValueError(
                    f"Input '{layer.name}' of model '{self.model_name}' is not connected to "
                    f"any output: no output depends on it. Remove it from `inputs`, or use it "
                    f"in the graph.")

    def _check_computable(self) -> None:
        computable = {id(t) for t in self.inputs}
        done = []
        for node in self.nodes:
            if node.is_input:
                if id(node.output_tensors[0]) not in computable:
                    tensor = node.output_tensors[0]
                    raise ValueError(
                        f"Graph disconnected in model '{self.model_name}': output(s) depend on "
                        f"input '{node.layer.name}' (shape {tensor.shape}), which is not in the "
                        f"model's `inputs` {[t._keras_history[0].name for t in self.inputs]}. "
                        f"Pass it in `inputs=`. Layers reached without issue: {done}.")
                continue
            computable.update(id(t) for t in node.output_tensors)
            done.append(node.layer.name)

    def _check_unique_names(self) -> None:
        seen = set()
        for layer in self.layers:
            if layer.name in seen:
                count = sum(other.name == layer.name for other in self.layers)
                raise ValueError(
                    f'The name "{layer.name}" is used {count} times in the model '
                    f"'{self.model_name}'. All layer names should be unique: pass distinct "
                    f"`name=` arguments.")
            seen.add(layer.name)


def _walk_from_outputs(outputs: list, model_name: str):
    """Depth-first from each output, inputs of a node in order: the nodes in post-order and
    each layer's position in the walk (Keras's ``_build_map``, without recursion)."""
    finished, in_progress = set(), set()
    nodes, layer_indices = [], {}
    for output in outputs:
        stack = [(output.node, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                in_progress.discard(id(node))
                finished.add(id(node))
                nodes.append(node)
                continue
            if id(node) in finished:
                continue
            if id(node) in in_progress:
                raise ValueError(f"Model '{model_name}': the graph has a cycle at layer "
                                 f"'{node.layer.name}'.")
            layer_indices.setdefault(node.layer, len(layer_indices))
            in_progress.add(id(node))
            stack.append((node, True))
            for parent in reversed(node.parent_nodes):
                if id(parent) not in finished:
                    stack.append((parent, False))
    return nodes, layer_indices


def _depths(nodes: list) -> tuple[dict, dict]:
    """Keras's depths: an output node is 0, a node is 1 + the deepest node it feeds; a shared
    layer takes the largest depth of its nodes."""
    node_depths, layer_depths = {}, {}
    for node in reversed(nodes):
        depth = max(node_depths.setdefault(node, 0), layer_depths.get(node.layer, 0))
        layer_depths[node.layer] = depth
        node_depths[node] = depth
        for parent in node.parent_nodes:
            node_depths[parent] = max(depth + 1, node_depths.get(parent, 0))
    return node_depths, layer_depths


def _ordered_by_depth(layer_depths: dict, layer_indices: dict) -> list:
    return sorted(layer_depths, key=lambda layer: (-layer_depths[layer], layer_indices[layer]))


class Functional(Model):
    """A model defined by its inputs and outputs (``keras.Model(inputs, outputs)``).

    Args:
        inputs: a ``keras.Input`` tensor, or a list or dict of them.
        outputs: the tensor(s) computed from them: one, a list or a dict.
        name: model name (default ``functional``, ``functional_1`` ...).
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        # "functional", or a subclass's own name ("custom_model"), as Keras 3 names them.
        default = naming.unique_name(naming.to_snake_case(type(self).__name__)) \
            if name is None else name
        super().__init__(name=default, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs) -> None:
        _check_symbolic(inputs, "inputs", self.name)
        _check_symbolic(outputs, "outputs", self.name)
        for tensor in flatten(inputs):
            if not isinstance(tensor._keras_history[0], InputLayer):
                raise ValueError(
                    f"Model '{self.name}': every entry of `inputs` must come straight from "
                    f"keras.Input(...); {tensor.name} was made by layer "
                    f"'{tensor._keras_history[0].name}'.")
        # A list of one tensor is that tensor (Keras: predict returns an array, not a list).
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1 \
                and isinstance(inputs[0], KerasTensor):
            inputs = inputs[0]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1 \
                and isinstance(outputs[0], KerasTensor):
            outputs = outputs[0]
        object.__setattr__(self, "_inputs_structure", inputs)
        object.__setattr__(self, "_outputs_structure", outputs)
        graph = GraphMap(flatten(inputs), flatten(outputs), self.name)
        object.__setattr__(self, "_graph", graph)
        self._layers = list(graph.layers)
        self._plan = _execution_plan(graph, outputs)
        self.built = True
        shapes = [t.shape for t in graph.inputs]
        self._build_input_shape = shapes[0] if len(shapes) == 1 else shapes

    # ----- the graph's ends -----
    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._graph.inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._graph.outputs)

    @property
    def input_names(self) -> list[str]:
        """Names of the inputs in ``self.inputs`` order: the dict's keys (sorted, the order
        of ``flatten``) or the Input layers' names."""
        if isinstance(self._inputs_structure, dict):
            return sorted(self._inputs_structure)
        return [t._keras_history[0].name for t in self._graph.inputs]

    @property
    def output_names(self) -> list[str]:
        """Names of the outputs in ``self.outputs`` order: the dict's keys (sorted) or the
        names of the layers that make them (``name_1`` ... for a layer that makes several)."""
        if isinstance(self._outputs_structure, dict):
            return sorted(self._outputs_structure)
        names, seen = [], {}
        for tensor in self._graph.outputs:
            name = tensor._keras_history[0].name
            count = seen.get(name, 0)
            seen[name] = count + 1
            names.append(name if count == 0 else f"{name}_{count}")
        return names

    @property
    def input_shape(self):
        return _one_or_list([t.shape for t in self._graph.inputs])

    @property
    def output_shape(self):
        return _one_or_list([t.shape for t in self._graph.outputs])

    @property
    def input(self):
        return self._inputs_structure

    @property
    def output(self):
        return self._outputs_structure

    # ----- running the graph -----
    def call(self, inputs, training=None):
        plan = self._plan
        if plan.chain is not None and not isinstance(inputs, (list, tuple, dict)):
            for layer in plan.chain:
                inputs = layer(inputs, training=training)
            return inputs
        if plan.masks is not None:
            return self._call_with_masks(inputs, training)
        values = [None] * plan.slots
        if plan.single_input and not isinstance(inputs, (list, tuple, dict)):
            values[plan.input_slots[0]] = inputs
        else:
            for slot, value in zip(plan.input_slots, self.flatten_inputs(inputs)):
                values[slot] = value
        # A step is (layer, node, input slot or slots, output slot or slots, kwargs, simple):
        # "simple" (one tensor in, one out, no kwargs) is the Sequential chain's fast path.
        for layer, node, input_slots, output_slots, kwargs, simple in plan.steps:
            if simple:
                values[output_slots] = layer(values[input_slots], training=training)
                continue
            args = pack_like(node.call_args, [values[s] for s in input_slots])
            if "training" in kwargs:
                out = layer(args, **kwargs)
            else:
                out = layer(args, training=training, **kwargs)
            for slot, value in zip(output_slots, [out] if isinstance(out, Tensor)
                                   else flatten(out)):
                values[slot] = value
        if plan.single_output:
            return values[plan.output_slots[0]]
        return pack_like(self._outputs_structure, [values[s] for s in plan.output_slots])

    def _call_with_masks(self, inputs, training):
        """``call`` for a graph where a layer makes a mask (decided when the plan was made):
        each step also reads its first input's mask, hands it to ``call(mask=)`` when the
        layer takes one, and keeps ``compute_mask``'s result for the layers after it."""
        plan = self._plan
        values, masks = [None] * plan.slots, [None] * plan.slots
        for slot, value in zip(plan.input_slots, self.flatten_inputs(inputs)):
            values[slot] = value
        for (layer, node, input_slots, output_slots, kwargs, simple), (takes, passes) in zip(
                plan.steps, plan.masks):
            ins, outs = ([input_slots], [output_slots]) if simple else (input_slots, output_slots)
            args = pack_like(node.call_args, [values[s] for s in ins])
            mask = pack_like(node.call_args, [masks[s] for s in ins])
            if not any(m is not None for m in flatten(mask)):
                mask = None
            call_kwargs = dict(kwargs)
            call_kwargs.setdefault("training", training)
            if takes and mask is not None and call_kwargs.get("mask") is None:
                call_kwargs["mask"] = mask
            out = layer(args, **call_kwargs)
            out_mask = layer.compute_mask(args, mask) if passes else None
            leaves = [out] if isinstance(out, Tensor) else flatten(out)
            out_masks = [out_mask] if len(leaves) == 1 or out_mask is None \
                else list(out_mask)
            for i, (slot, value) in enumerate(zip(outs, leaves)):
                values[slot] = value
                masks[slot] = out_masks[i] if i < len(out_masks) else None
        if plan.single_output:
            return values[plan.output_slots[0]]
        return pack_like(self._outputs_structure, [values[s] for s in plan.output_slots])

    def flatten_inputs(self, inputs) -> list:
        """The model's inputs as a list in ``self.inputs`` order, from one array, a list or a
        dict keyed by input names; a clear error for a wrong count or unknown keys."""
        names = self.input_names
        if isinstance(inputs, dict):
            check_dict_keys(inputs, names, f"Model '{self.name}' expects inputs named")
            return [inputs[name] for name in names]
        if isinstance(inputs, (list, tuple)) and _is_array_list(inputs):
            if len(inputs) != len(names):
                raise ValueError(
                    f"Model '{self.name}' expects {len(names)} input(s) {names}, but it "
                    f"received {len(inputs)} input arrays. Pass one array per input, in this "
                    f"order, or a dict keyed by these names.")
            return list(inputs)
        if len(names) != 1:
            raise ValueError(
                f"Model '{self.name}' expects {len(names)} inputs {names}, but it received a "
                f"single array. Pass a list of {len(names)} arrays or a dict keyed by these "
                f"names.")
        return [inputs]

    def compute_output_shape(self, input_shape):
        shapes = {}
        given = input_shape if not _is_shape_tuple(input_shape) else [input_shape]
        if isinstance(input_shape, dict):
            given = [input_shape[name] for name in self.input_names]
        for tensor, shape in zip(self._graph.inputs, given):
            shapes[id(tensor)] = standardize_shape(shape)
            self._check_symbolic_input(tensor, shapes[id(tensor)])
        for node in self._graph.nodes:
            if node.is_input:
                continue
            args = pack_like(node.call_args, [shapes[id(t)] for t in node.input_tensors])
            out = node.layer.compute_output_shape(args)
            if out is None:
                out = node.layer._probe_output_shape(args)
            leaves = [out] if _is_shape_tuple(out) else flatten_shapes(out)
            for tensor, shape in zip(node.output_tensors, leaves):
                shapes[id(tensor)] = standardize_shape(shape)
        result = [shapes[id(t)] for t in self._graph.outputs]
        if isinstance(self._outputs_structure, KerasTensor):
            return result[0]
        return pack_like(self._outputs_structure, result)

    def _check_symbolic_input(self, tensor, shape) -> None:
        expected = tensor.shape
        if len(expected) != len(shape) or any(
                e is not None and r is not None and e != r
                for e, r in zip(expected[1:], shape[1:])):
            raise ValueError(
                f"Input '{tensor._keras_history[0].name}' of model '{self.name}' is "
                f"incompatible with the layer: expected shape={expected}, found shape={shape}.")

    def build(self, input_shape=None) -> None:
        """A functional model is built when it is made."""

    def build_from_shape(self, input_shape) -> None:
        """Built at construction."""

    def output_shape_for(self, input_shape):
        """The output shape, or a list of them (in ``output_names`` order) when the outputs
        were given as a list or dict."""
        shapes = [t.shape for t in self._graph.outputs]
        return shapes[0] if isinstance(self._outputs_structure, KerasTensor) else shapes

    def check_input_shape(self, input_shape, method: str) -> None:
        """Raise if data shapes (one per input) do not fit the model's inputs."""
        shapes = input_shape if not _is_shape_tuple(input_shape) else [input_shape]
        for tensor, received in zip(self._graph.inputs, shapes):
            expected = tensor.shape
            received = tuple(received)
            if len(expected) != len(received) or any(
                    e is not None and e != r for e, r in zip(expected[1:], received[1:])):
                raise ValueError(
                    f"Input '{tensor._keras_history[0].name}' of model '{self.name}' is "
                    f"incompatible: expected shape={expected}, found shape="
                    f"{(None,) + received[1:]} in `{method}()`. Each sample must have shape "
                    f"{expected[1:]}.")

    # ----- summary -----
    def summary_rows(self) -> list:
        return [(layer, summary_shape(layer)) for layer in self.layers]

    def summary_connections(self, layer) -> list[str]:
        """``name[node][tensor]`` for each input of each of the layer's nodes in this model."""
        relevant = self._graph.node_depths
        out = []
        for node in layer._inbound_nodes:
            if node in relevant:
                out += [f"{inbound.name}[{node_index}][{tensor_index}]"
                        for inbound, node_index, tensor_index in node.iterate_inbound()]
        return out

    def is_sequential_like(self) -> bool:
        """tf.keras's test for the 3-column summary: one node per depth, one input per node,
        no layer with two nodes in the model."""
        nodes = []
        for depth_nodes in self._graph.nodes_by_depth.values():
            if len(depth_nodes) > 1 or (len(depth_nodes) == 1
                                        and len(depth_nodes[0].input_tensors) > 1):
                return False
            nodes += depth_nodes
        node_ids = {id(node) for node in nodes}
        return all(sum(id(node) in node_ids for node in layer._inbound_nodes) <= 1
                   for layer in self.layers)

    # ----- config -----
    def get_config(self) -> dict:
        from numkeras.models.graph_config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from numkeras.models.graph_config import functional_from_config

        return functional_from_config(cls, config, custom_objects)


class _Plan:
    """Numbered slots for the graph's tensors and one step per node."""

    def __init__(self, slots, input_slots, output_slots, steps, single_output):
        self.slots, self.input_slots, self.output_slots, self.steps = \
            slots, input_slots, output_slots, steps
        self.single_input = len(input_slots) == 1
        self.single_output = single_output
        # Per step (takes a mask argument, passes masks on) when a layer can make a mask; None
        # otherwise, so graphs without masks keep the plain walk and pay nothing for masking.
        self.masks = _mask_steps(steps)
        self.chain = _chain_of(input_slots, self.output_slots, steps) \
            if single_output and self.masks is None else None


def _mask_steps(steps):
    if not any(step[0].produces_mask() for step in steps):
        return None
    return [("mask" in inspect.signature(step[0].call).parameters, passes_mask(step[0]))
            for step in steps]


def _chain_of(input_slots, output_slots, steps):
    """The layers in order when the graph is one plain chain (every Sequential model): each
    step takes the previous step's one output. ``call`` then runs them in a loop without the
    slot list, the cheapest walk for the lecture's training step."""
    slot = input_slots[0] if len(input_slots) == 1 else None
    for _, _, input_slot, output_slot, _, simple in steps:
        if not simple or input_slot != slot:
            return None
        slot = output_slot
    return tuple(step[0] for step in steps) if output_slots == [slot] else None


def _execution_plan(graph: GraphMap, outputs_structure) -> _Plan:
    slot_of: dict[int, int] = {}

    def slot(tensor) -> int:
        return slot_of.setdefault(id(tensor), len(slot_of))

    input_slots = [slot(t) for t in graph.inputs]
    steps = []
    for node in graph.nodes:
        if node.is_input:
            continue
        ins = [slot(t) for t in node.input_tensors]
        outs = [slot(t) for t in node.output_tensors]
        simple = isinstance(node.call_args, KerasTensor) and isinstance(node.outputs, KerasTensor) \
            and not node.call_kwargs
        steps.append((node.layer, node, ins[0] if simple else ins, outs[0] if simple else outs,
                      node.call_kwargs, simple))
    single_output = isinstance(outputs_structure, KerasTensor)
    return _Plan(len(slot_of), input_slots, [slot(t) for t in graph.outputs], steps,
                 single_output)


def summary_shape(layer):
    """What tf.keras's summary prints for a layer's output shape: the shape, a list for an
    InputLayer, ``multiple`` when its calls disagree."""
    try:
        shape = layer.output_shape
    except AttributeError:
        return "multiple"
    if isinstance(layer, InputLayer):
        return [shape]
    return shape


def flatten_shapes(structure) -> list:
    if _is_shape_tuple(structure):
        return [structure]
    if isinstance(structure, dict):
        return [s for key in sorted(structure) for s in flatten_shapes(structure[key])]
    return [s for item in structure for s in flatten_shapes(item)]


def _is_shape_tuple(value) -> bool:
    from numkeras.layers.layer import is_shape

    return is_shape(value)


def _is_array_list(inputs) -> bool:
    return all(isinstance(item, (np.ndarray, Tensor, KerasTensor)) or hasattr(item, "shape")
               for item in inputs)


def _one_or_list(shapes: list):
    return shapes[0] if len(shapes) == 1 else shapes


def _check_symbolic(structure, argument: str, model_name: str) -> None:
    leaves = flatten(structure)
    if not leaves:
        raise ValueError(f"Model '{model_name}': `{argument}` is empty.")
    for leaf in leaves:
        if not isinstance(leaf, KerasTensor) or leaf._keras_history is None:
            raise ValueError(
                f"Model '{model_name}': every entry of `{argument}` must be a symbolic tensor "
                f"from keras.Input(...) or a layer called on one; received {leaf!r} "
                f"({type(leaf).__name__}).")


_GRAPH_CLASSES: dict[type, type] = {}


def with_graph(cls: type) -> type:
    """``cls`` (a subclass of Model) on top of Functional, made once per class: its own
    methods (train_step, compute_loss ...) first, then the graph's. Keeps the class's name."""
    if issubclass(cls, Functional):
        return cls
    if cls not in _GRAPH_CLASSES:
        _GRAPH_CLASSES[cls] = type(cls.__name__, (cls, Functional),
                                   {"__module__": cls.__module__,
                                    "__qualname__": cls.__qualname__})
    return _GRAPH_CLASSES[cls]
