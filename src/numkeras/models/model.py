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

from numkeras.layers.layer import Layer, standardize_shape
from numkeras.models import summary as _summary
from numkeras.models.training import Trainer


class Model(Trainer, Layer):
    """Base class of models (subclassing API). ``Sequential`` derives from it."""

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError(
                "numkeras has no functional API yet (`Model(inputs, outputs)`). Use "
                "`keras.Sequential([...])` or subclass `keras.Model` and write `call()`."
            )
        super().__init__(**kwargs)
        self.history = None

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``layers``."""
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

    # ----- saving (implemented in numkeras.saving) -----
    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Save the whole model (architecture, weights, compile config, optimizer state) to a
        Keras 3 ``.keras`` archive that real Keras opens. Written atomically."""
        from numkeras import saving

        saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights to a Keras 3 ``.weights.h5`` file. Written atomically."""
        from numkeras import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights from a ``.weights.h5`` (Keras 3), legacy ``.h5`` or ``.keras`` file."""
        from numkeras import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras 3 JSON (``models.model_from_json`` reads it)."""
        from numkeras import saving

        return saving.model_to_json(self, **kwargs)

    def summary_rows(self) -> list[tuple[Layer, object]]:
        """(layer, output shape) per row of the summary."""
        return [(layer, layer._output_shape if layer._output_shape is not None else "multiple")
                for layer in self.layers]
