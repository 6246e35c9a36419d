"""The Model base class: a Layer that can be compiled, trained, summarised and saved.

Subclass it and write ``call`` to build a model from layers stored as attributes:

>>> import numpy as np
>>> import numkeras as keras
>>> class TwoLayers(keras.Model):
...     def __init__(self):
...         super().__init__()
...         self.hidden = keras.layers.Dense(8, activation="relu")
...         self.out = keras.layers.Dense(1)
...     def call(self, x):
...         return self.out(self.hidden(x))
>>> model = TwoLayers()
>>> model(np.zeros((2, 3))).shape
(2, 1)
"""

from __future__ import annotations

import numpy as np

from numkeras import config
from numkeras.layers.layer import Layer, standardize_shape
from numkeras.models import summary as _summary
from numkeras.models.training import Trainer
from numkeras.models.training import _take as take_batch


class Model(Trainer, Layer):
    """Base class of models (subclassing API). ``Sequential`` derives from it."""

    # Whether `cls(inputs, outputs)` makes a graph (False for Sequential, whose first
    # argument is a list of layers).
    _graph_from_arguments = True

    def __new__(cls, *args, **kwargs):
        # keras.Model(inputs, outputs) makes a functional model, as in Keras; so does a
        # subclass called that way (the "customizing fit" guides' `CustomModel(inputs,
        # outputs)`): its methods run on top of a functional graph, as Keras 3 injects it.
        # A subclass with its own __init__ takes its own arguments (the subclassing guide's
        # `VariationalAutoEncoder(784, 64, 32)`); it becomes a graph only if that __init__
        # passes inputs and outputs on to Model.__init__ (below), as in Keras 3.
        if cls._graph_from_arguments and (args or "inputs" in kwargs or "outputs" in kwargs) \
                and cls.__init__ is Model.__init__:
            from numkeras.models.functional import Functional, with_graph

            return super().__new__(Functional if cls is Model else with_graph(cls))
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            # `super().__init__(inputs, outputs)` from a subclass's own __init__: the
            # instance becomes that subclass on top of Functional (Keras 3 injects it so).
            from numkeras.models.functional import Functional, with_graph

            self.__class__ = with_graph(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        super().__init__(**kwargs)
        self.history = None

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``layers``."""
        if name is None and index is None:
            raise ValueError("Provide either a layer name or layer index at `get_layer`.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def build(self, input_shape) -> None:
        """Build by running ``call`` once on a zero batch of ``input_shape``."""
        self._probe_call(standardize_shape(input_shape))

    def build_from_shape(self, input_shape) -> None:
        if not self.built:
            Layer.build_from_shape(self, input_shape)

    def output_shape_for(self, input_shape) -> tuple:
        """The output shape for a batch of ``input_shape``."""
        return self.compute_output_shape((None,) + tuple(input_shape[1:]))

    def check_input_shape(self, input_shape, method: str) -> None:
        """Subclassed models accept any shape their layers accept."""

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None, style="classic"):
        """Print a table of layers, output shapes and parameter counts.

        ``style="classic"`` (default) prints tf.keras's text of TF 2.0 to 2.6, as the lecture
        shows it; ``style="keras3"`` prints Keras 3's box table.
        """
        _summary.print_summary(self, line_length=line_length, positions=positions,
                               print_fn=print_fn, show_trainable=show_trainable,
                               layer_range=layer_range, style=style)

    # ----- config -----
    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """A model from its ``get_config()``, as ``keras.Model.from_config`` does.

        On ``keras.Model`` itself, a functional config (``name``, ``layers``,
        ``input_layers``, ``output_layers``) rebuilds the graph; ``custom_objects`` maps the
        class names of your own layers in it to the classes. Any other config, and any config
        on a subclass, goes to the constructor, ``cls(**config)``. (Keras 3 also revives a
        subclass whose ``__init__`` takes ``(*args, **kwargs)`` as a graph; not yet here,
        because ``load_model`` reaches this method for custom model classes and must keep
        building their layers under its safe-loading checks.)

        >>> import numkeras as keras
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
        >>> type(keras.Model.from_config(model.get_config())).__name__
        'Functional'
        """
        if cls is Model and _is_functional_config(config):
            from numkeras.models.graph_config import functional_from_config

            return functional_from_config(cls, config, custom_objects)
        return cls(**config)

    # ----- saving (implemented in numkeras.saving) -----
    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Save the whole model (architecture, weights, compile config, optimizer state) to a
        Keras 3 ``.keras`` archive that real Keras opens. Written atomically. In a
        data-parallel run (numkeras.distribute) only rank 0 writes."""
        from numkeras import distribute, saving

        if not distribute.is_chief():  # the others hold the same weights
            return
        saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights to a Keras 3 ``.weights.h5`` file. Written atomically. In a
        data-parallel run (numkeras.distribute) only rank 0 writes."""
        from numkeras import distribute, saving

        if not distribute.is_chief():  # the others hold the same weights
            return
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights from a ``.weights.h5`` (Keras 3), legacy ``.h5`` or ``.keras`` file."""
        from numkeras import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def export(self, filepath, format: str = "tf_saved_model", verbose=None,
               input_signature=None, **kwargs) -> None:
        """Export the model for inference outside numkeras; ``format="onnx"`` writes an ONNX
        file (needs the ``onnx`` package) with a dynamic batch axis. Keras 3's other formats
        (TensorFlow SavedModel, LiteRT, OpenVINO) need TensorFlow and are refused.

        ``opset_version=`` (default 17) picks the ONNX operator set.
        """
        if format != "onnx":
            raise ValueError(f"numkeras can export only format='onnx' (received "
                             f"format={format!r}; Keras 3's default 'tf_saved_model' needs "
                             f"TensorFlow). Call model.export(path, format='onnx').")
        if input_signature is not None:
            raise ValueError("numkeras's ONNX export takes the input shapes from the model "
                             "itself (batch axis dynamic); leave input_signature=None.")
        from numkeras.saving.onnx_export import export_onnx

        export_onnx(self, filepath, verbose=verbose, **kwargs)

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras 3 JSON (``models.model_from_json`` reads it)."""
        from numkeras import saving

        return saving.model_to_json(self, **kwargs)

    def summary_rows(self) -> list[tuple[Layer, object]]:
        """(layer, output shape) per row of the summary: the shape every call of the layer
        gives, ``multiple`` if they differ or it has no recorded shape."""
        rows = []
        for layer in self.layers:
            try:
                shape = layer.output_shape
            except AttributeError:
                shape = "multiple"
            rows.append((layer, shape))
        return rows

    # ----- gradients: inspect backprop on one batch (no training) -----
    def gradients(self, x, y, sample_weight=None, training: bool = False) -> list[np.ndarray]:
        """Gradients of the compiled loss (regularization included) on one batch.

        One forward and one backward pass; no weight, optimizer slot or metric changes. The
        result lines up with ``model.trainable_weights``: one float array per weight, owned by
        the caller. A ``fit`` in progress (e.g. a callback calling this) is not disturbed:
        each weight's ``.grad``, a view into the flat gradient buffer of the training step, is
        set aside during the pass and put back after it, so ``buffer.grad`` keeps the last
        step's gradients.

        Args:
            x, y: one batch of inputs and targets.
            sample_weight: optional per-sample weights of the loss.
            training: run layers in training mode. Default False, so the gradients are
                deterministic and side-effect free; with True, Dropout draws masks (from its
                generator) and BatchNormalization uses and updates its batch statistics.

        >>> import numpy as np
        >>> import numkeras as keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> [g.shape for g in model.gradients(np.ones((4, 3)), np.zeros((4, 2)))]
        [(3, 2), (2,)]
        """
        self._assert_compiled("gradients")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "evaluate")
        x = take_batch(x, slice(None), config.floatx())
        weights = self.trainable_weights
        saved = [w.grad for w in weights]
        try:
            for w in weights:
                w.grad = None  # backward then writes fresh arrays, not into the buffer's views
            y_pred = self(x, training=training)
            self._loss_of(x, y, y_pred, sample_weight, training=training).backward()
            return [np.zeros_like(w.data) if w.grad is None else w.grad for w in weights]
        finally:
            for w, grad in zip(weights, saved):
                w.grad = grad


_FUNCTIONAL_CONFIG_KEYS = ("name", "layers", "input_layers", "output_layers")


def _is_functional_config(config) -> bool:
    return isinstance(config, dict) and all(key in config for key in _FUNCTIONAL_CONFIG_KEYS)
