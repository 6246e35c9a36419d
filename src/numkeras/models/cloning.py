"""``keras.models.clone_model``: the same architecture with new layers (and new weights).

>>> import numkeras as keras
>>> inputs = keras.Input((3,), name="x")
>>> model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
>>> twin = clone_model(model)
>>> [layer.name for layer in twin.layers], twin.layers[1] is model.layers[1]
(['x', 'd'], False)
"""

from __future__ import annotations

from numkeras.layers.core import InputLayer
from numkeras.layers.node import KerasTensor, flatten, map_structure, pack_like
from numkeras.models.functional import Functional
from numkeras.models.sequential import Sequential


def _fresh_copy(layer):
    """Keras's default ``clone_function``: a new layer from the old one's config."""
    return layer.__class__.from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, **kwargs):
    """A new Sequential or functional model with the same layers' configs, newly
    initialised weights (copy them with ``set_weights`` if needed) and the same names.

    Args:
        model: a ``Sequential`` or functional model (a subclassed model has no graph to copy).
        input_tensors: optional new ``keras.Input`` tensor(s) to build the clone on.
        clone_function: ``layer -> new layer``; default ``cls.from_config(layer.get_config())``.
            Return the layer itself to share it between the two models.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments to clone_model: {sorted(kwargs)}.")
    clone_function = clone_function or _fresh_copy
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone_function)
    raise ValueError(
        f"clone_model needs a Sequential or functional model; '{model.name}' is a subclassed "
        f"{type(model).__name__}, whose architecture is Python code. Create a new instance of "
        f"the class instead.")


def _clone_sequential(model, input_tensors, clone_function):
    layers = [clone_function(layer) for layer in model.layers]
    if input_tensors is not None:
        layers.insert(0, flatten(input_tensors)[0])
    elif model._input_layer is not None:
        layers.insert(0, InputLayer(batch_shape=model._input_layer.batch_shape,
                                    dtype=model._input_layer.dtype,
                                    name=model._input_layer.name))
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, input_tensors, clone_function):
    old_inputs = model._graph.inputs
    if input_tensors is None:
        new_inputs = [InputLayer(batch_shape=t.shape, dtype=t.dtype,
                                 name=t._keras_history[0].name).output for t in old_inputs]
    else:
        new_inputs = flatten(input_tensors)
        if len(new_inputs) != len(old_inputs) or not all(
                isinstance(t, KerasTensor) for t in new_inputs):
            raise ValueError(f"`input_tensors` must be {len(old_inputs)} keras.Input tensor(s) "
                             f"for model '{model.name}'; received {input_tensors!r}.")
    tensors = {id(old): new for old, new in zip(old_inputs, new_inputs)}
    clones = {}
    for node in model._graph.nodes:
        if node.is_input:
            continue
        layer = clones.setdefault(id(node.layer), clone_function(node.layer))
        args = map_structure(lambda t: tensors[id(t)] if isinstance(t, KerasTensor) else t,
                             node.call_args)  # (an operation's constants stay)
        out = layer(args, **node.call_kwargs)
        for old, new in zip(node.output_tensors, flatten(out)):
            tensors[id(old)] = new
    inputs = pack_like(model._inputs_structure, new_inputs)
    outputs = pack_like(model._outputs_structure,
                        [tensors[id(t)] for t in model._graph.outputs])
    return Functional(inputs, outputs, name=model.name, trainable=model.trainable)
