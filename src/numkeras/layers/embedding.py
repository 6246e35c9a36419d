"""Embedding: integer indices to dense vectors, one trainable row per index."""

from __future__ import annotations

import numpy as np

from numkeras import constraints as _constraints
from numkeras import initializers as _initializers
from numkeras import regularizers as _regularizers
from numkeras.backprop import Tensor, ops
from numkeras.layers.layer import Layer, check_positive_int
from numkeras.layers.node import is_symbolic


class Embedding(Layer):
    """Turn integer indices into rows of a ``(input_dim, output_dim)`` matrix (Keras 3).

    Args:
        input_dim: size of the vocabulary; indices must lie in ``[0, input_dim)``.
        output_dim: length of each embedding vector.
        embeddings_initializer: default ``"uniform"`` (U(-0.05, 0.05)).
        embeddings_regularizer, embeddings_constraint, activity_regularizer: as Keras.
        mask_zero: treat index 0 as padding: the layer makes a mask ``inputs != 0`` that the
            layers after it follow, in a model or called directly (RNNs skip the padded
            steps, GlobalAveragePooling1D leaves them out of the mean), as in Keras; called
            directly, the output carries it as ``_keras_mask``. Index 0 then cannot be a real
            token, so ``input_dim`` should be the vocabulary size + 1.

    Input shape ``(batch, ...)`` of whole numbers (an integer array, or floats holding whole
    numbers, as a float dataset gives); output ``(batch, ..., output_dim)``. Indices out of
    range are refused rather than wrapped.

    >>> import numpy as np
    >>> layer = Embedding(10, 4)
    >>> layer(np.array([[1, 2, 9]])).shape, layer.weights[0].shape
    ((1, 3, 4), (10, 4))
    >>> Embedding(10, 4, mask_zero=True)(np.array([[5, 0]]))._keras_mask.tolist()
    [[True, False]]
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 lora_rank=None, quantization_config=None, **kwargs):
        kwargs.pop("input_length", None)  # Keras 2 argument, ignored by Keras 3 as well
        super().__init__(**kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim", self.name)
        self.output_dim = check_positive_int(output_dim, "output_dim", self.name)
        self.embeddings_initializer = _initializers.get(embeddings_initializer,
                                                        "embeddings_initializer")
        self.embeddings_regularizer = _regularizers.get(embeddings_regularizer,
                                                        "embeddings_regularizer")
        self.embeddings_constraint = _constraints.get(embeddings_constraint,
                                                      "embeddings_constraint")
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if lora_rank or quantization_config:
            raise ValueError(f"Embedding '{self.name}': LoRA and quantization are not "
                             "supported; pass lora_rank=None, quantization_config=None.")

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)

    def __call__(self, inputs, *args, **kwargs):
        # Integer indices stay integers (the base class would cast them to the float type,
        # which rounds ids above 2**24 in float32).
        if not isinstance(inputs, Tensor) and not is_symbolic(inputs):
            array = np.asarray(inputs)
            if array.dtype.kind in "iu":
                inputs = Tensor(array)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        return ops.embedding_lookup(self.embeddings, indices=self._indices(inputs))

    def _indices(self, inputs) -> np.ndarray:
        """The inputs as int64 indices; ``Layer.__call__`` has cast them to floats, so check
        they are whole numbers in range before casting back."""
        values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        if values.dtype.kind == "f":
            if not np.isfinite(values).all() or (values != np.round(values)).any():
                raise ValueError(
                    f"Embedding '{self.name}' needs integer indices; received non-integer "
                    f"values in inputs of shape {values.shape}. Pass token ids as integers.")
        indices = values.astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.input_dim):
            bad = indices[(indices < 0) | (indices >= self.input_dim)].ravel()[0]
            raise ValueError(
                f"Embedding '{self.name}' received index {bad} (inputs of shape "
                f"{indices.shape}), outside [0, {self.input_dim}): input_dim={self.input_dim}. "
                f"Indices are not wrapped; raise `input_dim` or fix the data.")
        return indices

    def produces_mask(self) -> bool:
        return self.mask_zero

    def compute_mask(self, inputs, previous_mask=None):
        """``inputs != 0`` with ``mask_zero=True`` (padding is index 0), else None.

        >>> import numpy as np
        >>> Embedding(5, 2, mask_zero=True).compute_mask(np.array([[3, 1, 0]])).tolist()
        [[True, True, False]]
        """
        if not self.mask_zero:
            return None
        values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return values != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": _initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": _regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": _constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "quantization_config": None}
