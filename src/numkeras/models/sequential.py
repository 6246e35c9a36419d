"""Sequential: a plain stack of layers, each feeding the next.

As in Keras 3, a Sequential model whose input shape is known is a functional graph inside
(``Input`` -> layer -> layer ...): the same code runs it, summarises it and saves it, and each
layer gets ``layer.input``/``layer.output`` for feature extraction.
"""

from __future__ import annotations

import numpy as np

from numkeras.backprop.variable import bump_structure_version
from numkeras.layers import core
from numkeras.layers.layer import Layer, dtype_policy, standardize_shape
from numkeras.layers.node import forget_nodes
from numkeras.models.functional import Functional
from numkeras.models.model import Model
from numkeras.utils import naming


class EmptyModelError(IndexError, TypeError):
    """``pop()`` on a model without layers (Keras 3 raises IndexError, tf.keras TypeError)."""


class Sequential(Model):
    """A model whose layers run one after another.

    Args:
        layers: list of layers; the first may be ``keras.Input(shape)`` or carry
            ``input_shape=``, which builds the model at once.
        trainable: whether training updates the weights.
        name: model name (default ``sequential``, ``sequential_1`` ...).

    >>> import numkeras as keras
    >>> model = keras.Sequential([
    ...     keras.layers.Flatten(input_shape=(28, 28)),
    ...     keras.layers.Dense(128, activation="relu"),
    ...     keras.layers.Dense(10, activation="softmax")])
    >>> model.output_shape, model.count_params()
    ((None, 10), 101770)
    """

    _graph_from_arguments = False

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._set_input_layer(None)
        self._set_graph(None)
        self._layer_names: set[str] = set()
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()

    # ----- the layer stack -----
    def add(self, layer, rebuild: bool = True) -> None:
        """Append ``layer`` (or set the input with ``keras.Input``/``InputLayer`` first)."""
        if isinstance(layer, core.KerasTensor):
            layer = layer._layer
        if isinstance(layer, core.InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f"An InputLayer (or keras.Input) can only be the first layer of Sequential "
                    f"'{self.name}'; it already has layers. Put the Input first."
                )
            self._set_input_layer(layer)
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Only instances of `keras.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})."
            )
        if layer.name in self._layer_names:  # a set: adding N layers stays linear in N
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the "
                f"`name` argument to pass a unique name."
            )
        if not self._layers and self._input_layer is None and layer._batch_input_shape:
            self._set_input_layer(core.InputLayer(batch_shape=layer._batch_input_shape,
                                                  name=naming.unique_name("input_layer")))
        self._layers.append(layer)
        self._layer_names.add(layer.name)
        bump_structure_version()
        if rebuild:
            self._rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise EmptyModelError("There are no layers in the model.")
        layer = self._layers.pop()
        self._layer_names.discard(layer.name)
        bump_structure_version()
        self.built = False
        self._set_graph(None)
        self._buffer = None
        if rebuild:
            self._rebuild()
        return layer

    def _set_input_layer(self, layer) -> None:
        # Not through Layer.__setattr__: the input layer is not one of `model.layers`.
        object.__setattr__(self, "_input_layer", layer)

    def _set_graph(self, graph) -> None:
        """Replace the functional graph that runs the model; the old graph's nodes leave its
        layers (the graph is not a sublayer: its layers are already tracked)."""
        old = self.__dict__.get("_functional")
        if old is not None:
            forget_nodes([node for node in old._graph.nodes if not node.is_input])
        object.__setattr__(self, "_functional", graph)

    def _rebuild(self) -> None:
        if self._input_layer is not None and self._layers:
            self.built = False
            self.build(self._input_layer.batch_shape)

    # ----- shapes -----
    def build(self, input_shape=None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis included)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("You must provide an `input_shape` argument, e.g. "
                                 "model.build((None, 784)).")
            input_shape = self._input_layer.batch_shape
        input_shape = standardize_shape(input_shape)
        if self._input_layer is None:
            self._set_input_layer(core.InputLayer(batch_shape=input_shape,
                                                  name=naming.unique_name("input_layer")))
        elif self._input_layer.batch_shape != input_shape:
            self._set_input_layer(core.InputLayer(batch_shape=input_shape,
                                                  name=self._input_layer.name))
        self._set_graph(None)
        x = self._input_layer.output
        for layer in self._layers:
            x = layer(x)
        # Named like any functional model (Keras 3 spends a `functional_N` name here too).
        self._set_graph(Functional(self._input_layer.output, x) if self._layers else None)
        self.built = True
        self._build_input_shape = input_shape
        self._output_shape = x.shape

    def build_from_shape(self, input_shape) -> None:
        if not self.built:
            self.build(input_shape)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = standardize_shape(input_shape)
        for layer in self._layers:
            shape = standardize_shape(layer.compute_output_shape(shape))
        return shape

    @property
    def input_shape(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input shape "
                                 f"yet. Build it or call it on data first.")
        return self._input_layer.batch_shape

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has not been built, so it "
                                 f"has no output shape. Build it or call it on data first.")
        return self._output_shape

    @property
    def inputs(self):
        return None if self._input_layer is None else [self._input_layer.output]

    @property
    def outputs(self):
        return None if self._functional is None else self._functional.outputs

    @property
    def input(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential model '{self.name}' has no input yet: give it "
                                 f"an Input or build it first.")
        return self._input_layer.output

    @property
    def output(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has not been built, so it "
                                 f"has no output. Build it or call it on data first.")
        return self._functional.output

    def check_input_shape(self, input_shape, method: str) -> None:
        """Raise if a data batch does not fit the model's declared input shape."""
        expected = self.input_shape
        received = tuple(input_shape)
        compatible = len(expected) == len(received) and all(
            e is None or e == r for e, r in zip(expected[1:], received[1:]))
        if not compatible:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"shape={expected}, found shape={(None,) + received[1:]} in `{method}()`. "
                f"Each sample must have shape {expected[1:]}; reshape the data (e.g. "
                f"x.reshape(len(x), {', '.join(str(d) for d in expected[1:])})) or change "
                f"the model's input shape."
            )

    # ----- computation -----
    def call(self, inputs, training=None):
        if self._functional is None:  # no layers: the identity, as Keras
            return inputs
        return self._functional.call(inputs, training=training)

    def __call__(self, inputs, training=None, **kwargs):
        if self.built:
            shape = inputs.shape if hasattr(inputs, "shape") else np.shape(inputs)
            self.check_input_shape(shape, "call")
        return super().__call__(inputs, training=training, **kwargs)

    # ----- config -----
    def get_config(self) -> dict:
        from numkeras.layers import serialize as serialize_layer  # layers' registry

        layers = [serialize_layer(layer) for layer in self._layers]
        if self._input_layer is not None:
            layers.insert(0, serialize_layer(self._input_layer))
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policy(self.dtype), "layers": layers}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from numkeras.layers import deserialize as deserialize_layer

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(deserialize_layer(layer_config, custom_objects=custom_objects),
                      rebuild=False)
        if model._input_layer is None and config.get("build_input_shape"):
            model._set_input_layer(core.InputLayer(batch_shape=config["build_input_shape"],
                                                   name=naming.unique_name("input_layer")))
        model._rebuild()
        return model
