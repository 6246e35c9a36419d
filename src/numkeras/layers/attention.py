"""Attention layers with Keras 3's arguments, weights and formulas: ``Attention`` (Luong,
dot-product), ``AdditiveAttention`` (Bahdanau) and ``MultiHeadAttention``.

All three are composed of primitives (matmul, softmax, where, reshape, transpose), so their
gradients need no rule of their own. Masks are boolean arrays, ``True`` where a position may
be attended to, passed explicitly or carried in a functional model from
``Embedding(mask_zero=True)`` or ``Masking`` (the output keeps the query's mask, as in Keras).

>>> import numpy as np
>>> query, value = np.ones((2, 3, 4)), np.ones((2, 5, 4))
>>> Attention()([query, value]).shape
(2, 3, 4)
>>> layer = MultiHeadAttention(num_heads=2, key_dim=8)
>>> layer(query, value).shape, [w.shape for w in layer.get_weights()][:2]
((2, 3, 4), [(4, 2, 8), (2, 8)])
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from numkeras import config as _config
from numkeras import constraints as _constraints
from numkeras import initializers as _initializers
from numkeras import regularizers as _regularizers
from numkeras.backprop import Tensor, ops
from numkeras.layers.activations import Softmax
from numkeras.layers.core import Dropout
from numkeras.layers.layer import Layer, check_positive_int
from numkeras.layers.node import KerasTensor

# Keras subtracts (Attention) or substitutes (MultiHeadAttention's softmax) this for masked
# scores: large enough that exp() of it is 0 next to any real score, finite so that a fully
# masked row gives a uniform distribution instead of NaN.
_LARGE_NEGATIVE = 1e9


def _mask_array(mask, argument: str, layer: Layer, expected: tuple | None = None) -> np.ndarray:
    """``mask`` (array, list or Tensor) as a boolean array (nonzero is True), its shape
    checked to broadcast to ``expected`` if given."""
    if isinstance(mask, KerasTensor):
        raise TypeError(
            f"Layer '{layer.name}' received a symbolic `{argument}` (a KerasTensor). numkeras "
            f"takes explicit masks as arrays when the layer is called on data; in a "
            f"functional model pass the mask as a model input to a custom layer instead.")
    values = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if values.dtype != bool:
        values = values != 0
    if expected is not None:
        try:
            np.broadcast_shapes(values.shape, tuple(expected))
        except ValueError:
            raise ValueError(
                f"Layer '{layer.name}' received `{argument}` of shape {values.shape}, which "
                f"does not broadcast to {tuple(expected)}. Pass a boolean mask of that "
                f"shape (True where attention is allowed).") from None
    return values


def _refuse_symbolic_masks(layer: Layer, kwargs: dict) -> None:
    """A mask that is itself a symbolic tensor would need its own graph edge: refused when the
    model is built, not when it first runs."""
    for argument, value in kwargs.items():
        for leaf in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(leaf, KerasTensor):
                _mask_array(leaf, argument, layer)  # raises, naming the argument


def _causal_mask(query_length: int, value_length: int) -> np.ndarray:
    """``(1, Tq, Tv)``: query step i sees value steps j <= i (Keras's row >= column)."""
    rows = np.arange(query_length)[:, None]
    return (rows >= np.arange(value_length)[None, :])[None]


def _check_rank(layer: Layer, argument: str, shape, minimum: int = 3) -> None:
    if len(shape) < minimum:
        raise ValueError(
            f"Layer '{layer.name}' expects `{argument}` of rank >= {minimum} "
            f"(batch, steps, features); received shape {tuple(shape)}.")


def _dropout(layer: Layer, weights, training):
    """``weights`` with a fraction ``layer.dropout`` zeroed (training only), as Keras's
    attention dropout: the rest scaled by ``1 / (1 - rate)``."""
    if not training or layer.dropout == 0:
        return weights
    keep = layer._rng.random(weights.shape, dtype=np.float32) >= layer.dropout
    scale = np.asarray(1.0 / (1.0 - layer.dropout), weights.dtype)
    return ops.multiply(weights, keep.astype(weights.dtype) * scale)


def _check_dropout(layer: Layer, dropout) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not (
            0 <= dropout < 1):
        raise ValueError(f"Layer '{layer.name}': `dropout` must be a float in [0, 1). "
                         f"Received: dropout={dropout!r}.")
    return float(dropout)


class _SymbolicScores:
    """For the attention layers in a functional model: masks that are symbolic tensors are
    refused when the model is built, and ``compute_output_shape`` learns (through
    ``_scores_requested``) whether the call asked for the attention scores too, since the
    output shape depends on it and shapes alone cannot tell."""

    _scores_requested = False

    def _symbolic_call(self, inputs, training, kwargs):
        _refuse_symbolic_masks(self, kwargs)
        self._scores_requested = bool(kwargs.get("return_attention_scores"))
        try:
            return super()._symbolic_call(inputs, training, kwargs)
        finally:
            self._scores_requested = False


# ----- Attention and AdditiveAttention -----


class Attention(_SymbolicScores, Layer):
    """Dot-product attention (Luong-style), Keras 3's ``Attention``.

    Called on ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to ``value``),
    shapes ``(batch, Tq, dim)``, ``(batch, Tv, dim)``, ``(batch, Tv, dim)``:
    ``scores = query @ key^T`` (times ``scale`` if ``use_scale``) for ``score_mode="dot"``,
    or ``concat_score_weight * sum(tanh(scale * (query_i + key_j)))`` for ``"concat"``;
    ``output = softmax(scores) @ value``, shape ``(batch, Tq, dim_value)``.

    Args:
        use_scale: learn a scalar ``scale`` for the scores.
        score_mode: ``"dot"`` or ``"concat"``.
        dropout: fraction of the attention weights dropped in training.
        seed: seed of the dropout generator.

    Call arguments: ``mask=[query_mask, value_mask]`` (booleans ``(batch, Tq)`` and
    ``(batch, Tv)``: masked values get no attention, masked query steps give zeros),
    ``training``, ``return_attention_scores`` (also return the ``(batch, Tq, Tv)``
    weights), ``use_causal_mask`` (step i attends to steps <= i).

    Weights: ``scale`` (if ``use_scale``), then ``concat_score_weight`` (``"concat"``), both
    scalars initialized to 1.

    >>> import numpy as np
    >>> out, weights = Attention()([np.ones((1, 2, 3)), np.ones((1, 4, 3))],
    ...                            return_attention_scores=True)
    >>> out.shape, weights.data[0, 0].tolist()
    ((1, 2, 3), [0.25, 0.25, 0.25, 0.25])
    """

    supports_masking = True  # the output keeps the query's mask

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Layer '{self.name}': `score_mode` must be 'dot' or 'concat'. "
                             f"Received: score_mode={score_mode!r}.")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = _check_dropout(self, dropout)
        self.seed = seed
        self._rng = _config.make_rng(seed)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones")

    def _check_inputs(self, shapes) -> None:
        kind = type(self).__name__
        if not isinstance(shapes, (list, tuple)) or not 2 <= len(shapes) <= 3 or not all(
                isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(
                f"{kind} layer '{self.name}' must be called on a list of inputs, namely "
                f"[query, value] or [query, value, key]. Received: {shapes!r}.")
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        for argument, shape in (("query", query), ("value", value), ("key", key)):
            _check_rank(self, argument, shape)
        if key[-2] is not None and value[-2] is not None and key[-2] != value[-2]:
            raise ValueError(f"{kind} layer '{self.name}': key and value must have the same "
                             f"number of steps; received key {tuple(key)} and value "
                             f"{tuple(value)}.")
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            raise ValueError(f"{kind} layer '{self.name}': query and key must have the same "
                             f"last dimension; received query {tuple(query)} and key "
                             f"{tuple(key)}.")

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, _swap_last(key))  # (B, Tq, Tv)
            return scores if self.scale is None else ops.multiply(scores, self.scale)
        pairs = _pairwise_sum(query, key)  # (B, Tq, Tv, dim)
        if self.scale is not None:
            pairs = ops.multiply(self.scale, pairs)
        return ops.multiply(self.concat_score_weight, ops.sum(ops.tanh(pairs), axis=-1))

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        self._check_inputs([tuple(x.shape) for x in inputs])
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask, value_mask = self._masks(mask, query.shape, value.shape)
        scores = self._calculate_scores(query, key)  # (B, Tq, Tv)
        scores_mask = value_mask[..., None, :] if value_mask is not None else None
        if use_causal_mask:
            causal = _causal_mask(scores.shape[-2], scores.shape[-1])
            scores_mask = causal if scores_mask is None else scores_mask & causal
        if scores_mask is not None:  # Keras subtracts, so scores stay ordered when all masked
            scores = ops.where(~scores_mask, ops.subtract(scores, _LARGE_NEGATIVE), scores)
        weights = ops.softmax(scores, axis=-1)
        output = ops.matmul(_dropout(self, weights, training), value)  # (B, Tq, dim)
        if query_mask is not None:
            output = ops.where(query_mask[..., None], output, np.zeros((), output.dtype))
        return (output, weights) if return_attention_scores else output

    def _masks(self, mask, query_shape, value_shape):
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': `mask` must be a "
                             f"list [query_mask, value_mask]. Received: mask={mask!r}.")
        query_mask = None if mask[0] is None else _mask_array(
            mask[0], "mask[0] (query_mask)", self, tuple(query_shape[:-1]))
        value_mask = None if mask[1] is None else _mask_array(
            mask[1], "mask[1] (value_mask)", self, tuple(value_shape[:-1]))
        return query_mask, value_mask

    def compute_mask(self, inputs, previous_mask=None):
        """The query's mask: masked query steps stay masked (Keras's ``compute_mask``)."""
        if not previous_mask or previous_mask[0] is None:
            return None
        return _mask_array(previous_mask[0], "mask[0] (query_mask)", self)

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        query, value = tuple(input_shape[0]), tuple(input_shape[1])
        key = tuple(input_shape[2]) if len(input_shape) > 2 else value
        output = query[:-1] + (value[-1],)
        return [output, query[:-1] + (key[-2],)] if self._scores_requested else output

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau-style), Keras 3's ``AdditiveAttention``:
    ``scores[i, j] = sum(scale * tanh(query_i + key_j))``; otherwise as :class:`Attention`
    (inputs, masks, causal mask, dropout, ``return_attention_scores``).

    Args:
        use_scale: learn the ``scale`` vector (shape ``(dim,)``, glorot-uniform initial);
            without it the tanh terms are summed as they are.
        dropout: fraction of the attention weights dropped in training.

    >>> import numpy as np
    >>> layer = AdditiveAttention()
    >>> layer([np.ones((2, 3, 4)), np.ones((2, 5, 4))]).shape, layer.weights[0].shape
    ((2, 3, 4), (4,))
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.concat_score_weight = None
        self.scale = self.add_weight("scale", (input_shape[0][-1],), "glorot_uniform") \
            if self.use_scale else None

    def _calculate_scores(self, query, key):
        terms = ops.tanh(_pairwise_sum(query, key))  # (B, Tq, Tv, dim)
        if self.scale is not None:
            terms = ops.multiply(self.scale, terms)
        return ops.sum(terms, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


def _swap_last(x):
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return ops.transpose(x, axes=axes)


def _pairwise_sum(query, key):
    """``query[..., i, None, :] + key[..., None, j, :]``: ``(B, Tq, Tv, dim)``."""
    q = ops.reshape(query, shape=query.shape[:-1] + (1, query.shape[-1]))
    k = ops.reshape(key, shape=key.shape[:-2] + (1,) + key.shape[-2:])
    return ops.add(q, k)


# ----- MultiHeadAttention -----


class _HeadsDense(Layer):
    """The projections of MultiHeadAttention, laid out as Keras 3's ``EinsumDense``
    sublayers: ``kernel`` ``in_dims + out_dims`` contracts the last ``len(in_dims)`` input
    axes; ``bias`` has shape ``out_dims``. Computed as one matrix product."""

    def __init__(self, in_dims: int, out_dims: tuple, use_bias: bool, options: dict,
                 **kwargs):
        super().__init__(**kwargs)
        self.in_dims, self.out_dims, self.use_bias = in_dims, tuple(out_dims), use_bias
        self.options = options

    def build(self, input_shape):
        o = self.options
        contracted = tuple(input_shape[-self.in_dims:])
        self.kernel = self.add_weight("kernel", contracted + self.out_dims,
                                      o["kernel_initializer"],
                                      regularizer=o["kernel_regularizer"],
                                      constraint=o["kernel_constraint"])
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", self.out_dims, o["bias_initializer"],
                                        regularizer=o["bias_regularizer"],
                                        constraint=o["bias_constraint"])

    def call(self, inputs):
        inner = int(np.prod(self.kernel.shape[:self.in_dims]))
        outer = int(np.prod(self.out_dims))
        batch = tuple(inputs.shape[:-self.in_dims])
        x = ops.reshape(inputs, shape=batch + (inner,))
        kernel = ops.reshape(self.kernel, shape=(inner, outer))
        bias = None if self.bias is None else ops.reshape(self.bias, shape=(outer,))
        return ops.reshape(ops.dense(x, kernel, bias), shape=batch + self.out_dims)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-self.in_dims]) + self.out_dims


class _PositionalInputs(tuple):
    """The tensors a layer was called on as separate positional arguments (``layer(query,
    value)``), kept apart from one list argument (``layer([query, value])``) so that a graph
    replays and saves the call as Keras does."""


class MultiHeadAttention(_SymbolicScores, Layer):
    """Multi-head attention (Vaswani et al., 2017), Keras 3's ``MultiHeadAttention``.

    ``layer(query, value, key=None)``: ``query`` ``(batch, Tq, dim_q)``, ``value``
    ``(batch, Tv, dim_v)``, ``key`` ``(batch, Tv, dim_k)`` (default ``value``); more axes are
    allowed, attention running over ``attention_axes``. Each input is projected to
    ``num_heads`` heads, ``softmax(query_h @ key_h^T / sqrt(key_dim)) @ value_h`` is taken per
    head, and the heads are projected back to ``output_shape`` (default ``dim_q``).

    Args:
        num_heads: number of heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: fraction of the attention weights dropped in training.
        use_bias: whether the four projections have biases.
        output_shape: int or tuple, the output's trailing shape (default the query's last
            dimension).
        attention_axes: axes of the inputs attention runs over (default all but batch and
            features).
        sliding_window: None, or w: step i attends only to steps with ``|i - j| < w``.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: for the projections.
        use_gate: a sigmoid gate ``gate_dense(query)`` multiplies the heads' output.
        seed: seed of the dropout generator.

    Call arguments: ``query_mask`` ``(batch, Tq)``, ``value_mask`` / ``key_mask``
    ``(batch, Tv)``, ``attention_mask`` ``(batch, Tq, Tv)`` (booleans, True = may attend),
    ``use_causal_mask``, ``return_attention_scores`` (also return the ``(batch, num_heads,
    Tq, Tv)`` weights), ``training``.

    Weights, Keras's names, shapes and order: ``query``, ``key``, (``gate``), ``value``
    sublayers with ``kernel`` ``(dim, num_heads, head_dim)`` and ``bias`` ``(num_heads,
    head_dim)``, then ``attention_output`` with ``kernel`` ``(num_heads, value_dim,
    *output_shape)`` and ``bias`` ``output_shape``: ``set_weights(keras_layer.get_weights())``
    works both ways.

    >>> import numpy as np
    >>> x = np.ones((2, 5, 16))
    >>> out, scores = MultiHeadAttention(4, 8)(x, x, return_attention_scores=True)
    >>> out.shape, scores.shape
    ((2, 5, 16), (2, 4, 5, 5))
    """

    _call_positional = True  # graph configs write layer(query, value) as Keras does
    supports_masking = True  # the output keeps the query's mask

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        name = self.name
        self.num_heads = check_positive_int(num_heads, "num_heads", name)
        self.key_dim = check_positive_int(key_dim, "key_dim", name)
        self.value_dim = self.key_dim if not value_dim else check_positive_int(
            value_dim, "value_dim", name)
        self.dropout = _check_dropout(self, dropout)
        self.use_bias, self.use_gate, self.seed = bool(use_bias), bool(use_gate), seed
        if flash_attention:
            raise ValueError(f"MultiHeadAttention '{name}': flash_attention=True needs an "
                             f"accelerator kernel; numkeras computes attention directly. "
                             f"Pass flash_attention=None.")
        # Not `_output_shape`: the base Layer keeps the last output's shape there.
        self._target_shape = _output_shape_tuple(output_shape, name)
        self.attention_axes = _axes_tuple(attention_axes, name)
        self.sliding_window = None if sliding_window is None else check_positive_int(
            sliding_window, "sliding_window", name)
        self._options = {
            "kernel_initializer": _initializers.get(kernel_initializer, "kernel_initializer"),
            "bias_initializer": _initializers.get(bias_initializer, "bias_initializer"),
            "kernel_regularizer": _regularizers.get(kernel_regularizer, "kernel_regularizer"),
            "bias_regularizer": _regularizers.get(bias_regularizer, "bias_regularizer"),
            "kernel_constraint": _constraints.get(kernel_constraint, "kernel_constraint"),
            "bias_constraint": _constraints.get(bias_constraint, "bias_constraint")}
        # Keras hands the activity regularizer to the four projections, not to this layer.
        self._sublayer_activity_regularizer = _regularizers.get(activity_regularizer)

    # ----- calling: layer(query, value, key=None, ...) as in Keras -----
    def __call__(self, query, value=None, key=None, training=None, **kwargs):
        if value is None and isinstance(query, _PositionalInputs):  # replayed from a graph
            query, value, key = (tuple(query) + (None,))[:3]
        if value is None:
            raise TypeError(f"MultiHeadAttention '{self.name}' must be called as "
                            f"layer(query, value) or layer(query, value, key); `value` is "
                            f"missing (for self-attention pass the same tensor twice).")
        inputs = [query, value] + ([] if key is None else [key])
        inputs = _PositionalInputs(
            x if isinstance(x, (Tensor, KerasTensor)) else np.asarray(x, dtype=self.dtype)
            for x in inputs)
        return super().__call__(inputs, training=training, **kwargs)

    # Keras's private names for the projections, which some Keras code reads.
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:  # the base class passes one list of shapes
            query_shape, value_shape, key_shape = (list(query_shape) + [None])[:3]
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_shapes(query_shape, value_shape, key_shape)
        heads = lambda size: (self.num_heads, size)  # noqa: E731
        dense = lambda name, out, ins=1: _HeadsDense(  # noqa: E731
            ins, out, self.use_bias, self._options, name=name, dtype=self.dtype,
            activity_regularizer=self._sublayer_activity_regularizer)
        self.query_dense = dense("query", heads(self.key_dim))
        self.query_dense.build_from_shape(query_shape)
        self.key_dense = dense("key", heads(self.key_dim))
        self.key_dense.build_from_shape(key_shape)
        self.gate_dense = None
        if self.use_gate:
            self.gate_dense = dense("gate", heads(self.value_dim))
            self.gate_dense.build_from_shape(query_shape)
        self.value_dense = dense("value", heads(self.value_dim))
        self.value_dense.build_from_shape(value_shape)
        self.output_dense = dense("attention_output",
                                  self._target_shape or (query_shape[-1],), 2)
        self.output_dense.build_from_shape(query_shape[:-1] + heads(self.value_dim))
        rank = len(query_shape) + 1  # the projected query: (batch, ..., heads, key_dim)
        axes = self.attention_axes or tuple(range(1, rank - 2))
        self.attention_axes = tuple(a if a >= 0 else rank - 1 + a for a in axes)
        self._softmax = Softmax(axis=-1, dtype=self.dtype)  # Keras's (weightless) sublayers
        self._dropout_layer = Dropout(self.dropout, seed=self.seed, dtype=self.dtype)
        self._build_shapes = {"query_shape": list(query_shape),
                              "value_shape": list(value_shape)}
        if key_shape is not value_shape:
            self._build_shapes["key_shape"] = list(key_shape)

    def _check_shapes(self, query_shape, value_shape, key_shape) -> None:
        for argument, shape in (("query", query_shape), ("value", value_shape),
                                ("key", key_shape)):
            _check_rank(self, argument, shape)
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f"MultiHeadAttention '{self.name}': all dimensions of `value` and `key`, "
                f"except the last one, must be equal. Received: value_shape={value_shape} "
                f"and key_shape={key_shape}.")
        if len(query_shape) != len(value_shape):
            raise ValueError(
                f"MultiHeadAttention '{self.name}': `query` and `value` must have the same "
                f"rank. Received: query_shape={query_shape} and value_shape={value_shape}.")

    def call(self, inputs, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False, mask=None):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        if mask is not None:  # a functional model's implicit masks, one per tensor passed
            implicit = list(mask) + [None] * (3 - len(mask))
            query_mask = implicit[0] if query_mask is None else query_mask
            value_mask = implicit[1] if value_mask is None else value_mask
            key_mask = implicit[2] if key_mask is None else key_mask
        self._check_shapes(query.shape, value.shape, key.shape)
        mask = self._attention_mask(query.shape, value.shape, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)
        gate = None if self.gate_dense is None else ops.sigmoid(self.gate_dense(query))
        q = self.query_dense(query)  # (B, *Tq, H, key_dim)
        k = self.key_dense(key)  # (B, *Tv, H, key_dim)
        v = self.value_dense(value)  # (B, *Tv, H, value_dim)
        output, scores = self._compute_attention(q, k, v, mask, training,
                                                 return_attention_scores)
        if gate is not None:
            output = ops.multiply(output, gate)
        output = self.output_dense(output)
        return (output, scores) if return_attention_scores else output

    def compute_mask(self, inputs, previous_mask=None):
        """The query's mask (Keras sets it on the attention output)."""
        if not previous_mask or previous_mask[0] is None:
            return None
        return _mask_array(previous_mask[0], "query_mask", self)

    def _attention_mask(self, query_shape, value_shape, query_mask, value_mask, key_mask,
                        attention_mask, use_causal_mask):
        """Keras's combined boolean mask ``(B, Tq, Tv)`` (broadcastable), or None."""
        masks = []
        if query_mask is not None:
            masks.append(_mask_array(query_mask, "query_mask", self,
                                     tuple(query_shape[:-1]))[..., None])
        for argument, given in (("value_mask", value_mask), ("key_mask", key_mask)):
            if given is not None:
                masks.append(_mask_array(given, argument, self,
                                         tuple(value_shape[:-1]))[..., None, :])
        if use_causal_mask:
            masks.append(_causal_mask(query_shape[1], value_shape[1]))
        if self.sliding_window is not None:
            distance = np.abs(np.arange(query_shape[1])[:, None]
                              - np.arange(value_shape[1])[None, :])
            masks.append((distance < self.sliding_window)[None])
        if attention_mask is not None:
            masks.append(_mask_array(attention_mask, "attention_mask", self))
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = combined & mask
        return combined

    def _compute_attention(self, query, key, value, mask, training, return_scores):
        """Scaled dot-product attention over ``self.attention_axes``: each of query, key and
        value is transposed to ``(*batch, *attention axes, features)`` (``batch`` holding the
        batch, heads and any other axis), the attention axes flattened, so one batched matmul
        makes the scores and one applies them."""
        rank = query.ndim
        attend = list(self.attention_axes)
        batch_axes = [a for a in range(rank) if a not in attend and a != rank - 1]
        perm = tuple(batch_axes + attend + [rank - 1])
        batch = tuple(query.shape[a] for a in batch_axes)
        tq = tuple(query.shape[a] for a in attend)
        tv = tuple(key.shape[a] for a in attend)

        def flat(x, steps):
            return ops.reshape(ops.transpose(x, axes=perm),
                               shape=batch + (int(np.prod(steps)), x.shape[-1]))

        # Keras scales the query (not the scores) by 1/sqrt(key_dim).
        q = ops.multiply(query, np.asarray(1.0 / math.sqrt(self.key_dim), query.dtype))
        scores = ops.matmul(flat(q, tq), _swap_last(flat(key, tv)))  # (*batch, Lq, Lv)
        # Keras keeps uniform weights on a fully masked row on its fused path (3-D inputs, no
        # dropout, no scores returned) but zeros on the softmax-layer path; both kept.
        zero_masked = self.dropout > 0 or return_scores or rank != 4
        keep = None
        if mask is not None:
            keep = self._broadcast_mask(mask, batch, tq, tv)
            scores = ops.where(keep, scores, np.asarray(-_LARGE_NEGATIVE, scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        if keep is not None and zero_masked:
            weights = ops.where(keep, weights, np.zeros((), weights.dtype))
        dropped = self._dropout_layer(weights, training=training) if self.dropout else weights
        out = ops.matmul(dropped, flat(value, tv))  # (*batch, Lq, value_dim)
        out = ops.reshape(out, shape=batch + tq + (value.shape[-1],))
        out = ops.transpose(out, axes=tuple(np.argsort(perm)))  # (B, *Tq, H, value_dim)
        scores_out = ops.reshape(weights, shape=batch + tq + tv) if return_scores else None
        return out, scores_out

    def _broadcast_mask(self, mask, batch, tq, tv):
        """The user's ``(B, *Tq, *Tv)`` mask with singleton axes inserted before the attention
        axes (Keras's expansion), broadcast to the scores and flattened like them."""
        full = batch + tq + tv
        while mask.ndim < len(full):
            mask = np.expand_dims(mask, axis=mask.ndim - 2 * len(tq))
        try:
            mask = np.broadcast_to(mask, full)
        except ValueError:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': the attention mask of shape "
                f"{mask.shape} does not broadcast to the attention scores {full} (batch, "
                f"heads, query steps, value steps).") from None
        return mask.reshape(batch + (int(np.prod(tq)), int(np.prod(tv))))

    def compute_output_shape(self, input_shape):
        query, value = tuple(input_shape[0]), tuple(input_shape[1])
        key = tuple(input_shape[2]) if len(input_shape) > 2 else value
        self._check_shapes(query, value, key)
        output = query[:-1] + (self._target_shape or (query[-1],))
        if not self._scores_requested:
            return output
        rank = len(query) + 1
        axes = self.attention_axes or tuple(range(1, rank - 2))
        attend = [a if a >= 0 else rank - 1 + a for a in axes]
        others = [query[a] for a in range(1, rank - 2) if a not in attend]
        scores = ((query[0], *others, self.num_heads) + tuple(query[a] for a in attend)
                  + tuple(key[a] for a in attend))
        return [output, scores]

    def get_build_config(self):
        # Keras builds MultiHeadAttention from named shapes, not one input_shape.
        shapes = getattr(self, "_build_shapes", None)
        return None if shapes is None else {"shapes_dict": dict(shapes)}

    def get_config(self):
        o = self._options
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout,
                "use_bias": self.use_bias, "use_gate": self.use_gate,
                "output_shape": self._target_shape, "attention_axes": self.attention_axes,
                "sliding_window": self.sliding_window,
                "kernel_initializer": _initializers.serialize(o["kernel_initializer"]),
                "bias_initializer": _initializers.serialize(o["bias_initializer"]),
                "kernel_regularizer": _regularizers.serialize(o["kernel_regularizer"]),
                "bias_regularizer": _regularizers.serialize(o["bias_regularizer"]),
                "activity_regularizer": _regularizers.serialize(
                    self._sublayer_activity_regularizer),
                "kernel_constraint": _constraints.serialize(o["kernel_constraint"]),
                "bias_constraint": _constraints.serialize(o["bias_constraint"]),
                "seed": self.seed}


def _output_shape_tuple(value, layer_name: str):
    if not value:
        return None
    items = (value,) if isinstance(value, (int, np.integer)) else value
    try:
        return tuple(check_positive_int(v, "output_shape", layer_name) for v in items)
    except TypeError:
        raise ValueError(f"MultiHeadAttention '{layer_name}': `output_shape` must be an int "
                         f"or a tuple of ints. Received: output_shape={value!r}.") from None


def _axes_tuple(value, layer_name: str):
    if value is None:
        return None
    items = (value,) if isinstance(value, (int, np.integer)) else value
    if not isinstance(items, (list, tuple)) or not all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in items):
        raise ValueError(f"MultiHeadAttention '{layer_name}': `attention_axes` must be an int, "
                         f"list, or tuple of ints. Received: attention_axes={value!r}.")
    return tuple(int(a) for a in items)
