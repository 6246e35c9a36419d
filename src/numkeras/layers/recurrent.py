"""Recurrent layers (Keras 3): SimpleRNN, LSTM, GRU, their cells, RNN(cell), Bidirectional,
TimeDistributed.

``SimpleRNN``, ``LSTM`` and ``GRU`` (and ``RNN`` over one of their cells) run the whole sequence
as one primitive (:mod:`numkeras.backprop.recurrent`): one node in the graph, whatever the length.
``RNN`` over any other cell (a user's layer with ``state_size`` and ``call(inputs, states)``)
steps through time with graph ops. Weights, configs and outputs are Keras's: a ``.keras`` file
or ``set_weights`` from Keras gives the same numbers.

>>> import numpy as np
>>> layer = LSTM(4, return_sequences=True, return_state=True)
>>> seq, h, c = layer(np.ones((2, 5, 3), dtype="float32"))
>>> seq.shape, h.shape, c.shape, [w.shape for w in layer.weights]
((2, 5, 4), (2, 4), (2, 4), [(3, 16), (4, 16), (16,)])
"""

from __future__ import annotations

import numbers

import numpy as np

from numkeras import activations as _activations
from numkeras import config as _config
from numkeras import constraints as _constraints
from numkeras import initializers as _initializers
from numkeras import regularizers as _regularizers
from numkeras.backprop import Tensor, ops
from numkeras.backprop import recurrent as _recurrent
from numkeras.layers.layer import InputSpec, Layer, check_positive_int, is_shape

# ----- cells -----


class _Cell(Layer):
    """What the three built-in cells share: units, activations, initializers, regularizers,
    constraints and dropout (one mask per sequence, as Keras's ``DropoutRNNCell``)."""

    _GATES = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        kwargs.pop("implementation", None)  # Keras's choice of kernel split: same numbers
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units", self.name)
        self.activation = _activations.get(activation, "activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializers.get(kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = _initializers.get(recurrent_initializer,
                                                       "recurrent_initializer")
        self.bias_initializer = _initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = _regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.recurrent_regularizer = _regularizers.get(recurrent_regularizer,
                                                       "recurrent_regularizer")
        self.bias_regularizer = _regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = _constraints.get(kernel_constraint, "kernel_constraint")
        self.recurrent_constraint = _constraints.get(recurrent_constraint,
                                                     "recurrent_constraint")
        self.bias_constraint = _constraints.get(bias_constraint, "bias_constraint")
        self.dropout = _rate(dropout, "dropout", self.name)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", self.name)
        self.seed = seed
        self._rng = _config.make_rng(seed)
        self._sequence_masks = None  # (input mask, recurrent mask) while an RNN runs a sequence
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        width = self._GATES * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", (self.units, width), self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init(),
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def _bias_shape(self):
        return (self._GATES * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [Tensor(np.zeros((batch_size, n), dtype=self.dtype)) for n in sizes]

    def dropout_masks(self, batch: int, features: int, training) -> tuple:
        """``(input mask (batch, features), recurrent mask (batch, units))``, each None when
        not training or its rate is 0; kept entries are scaled by ``1 / (1 - rate)``."""
        if not training:
            return None, None
        return (self._mask(batch, features, self.dropout),
                self._mask(batch, self.units, self.recurrent_dropout))

    def _mask(self, batch, width, rate):
        if not 0 < rate < 1:
            return None
        keep = self._rng.random((batch, width), dtype=np.float32) >= rate
        return keep.astype(self.dtype) * np.asarray(1 / (1 - rate), self.dtype)

    def _step_masks(self, inputs, training):
        if self._sequence_masks is not None:
            return self._sequence_masks
        return self.dropout_masks(inputs.shape[0], inputs.shape[-1], training)

    def _step_input(self, inputs, h_tm1, training):
        """The step's input and previous ``h`` after dropout."""
        input_mask, recurrent_mask = self._step_masks(inputs, training)
        if input_mask is not None:
            inputs = inputs * input_mask
        if recurrent_mask is not None:
            h_tm1 = h_tm1 * recurrent_mask
        return inputs, h_tm1

    def _linear(self, inputs, kernel, bias):
        out = ops.matmul(inputs, kernel)
        return out if bias is None else out + bias

    def get_config(self):
        config = {**super().get_config(), "units": self.units,
                  "activation": _activations.serialize(self.activation)}
        config.update(self._gate_config())
        config.update({
            "use_bias": self.use_bias,
            "kernel_initializer": _initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": _initializers.serialize(self.recurrent_initializer),
            "bias_initializer": _initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": _regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": _regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": _constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": _constraints.serialize(self.recurrent_constraint),
            "bias_constraint": _constraints.serialize(self.bias_constraint),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout})
        config.update(self._extra_config())
        config["seed"] = self.seed
        return config

    def _gate_config(self):
        return {}

    def _extra_config(self):
        return {}


class SimpleRNNCell(_Cell):
    """One step of a fully connected RNN: ``h = activation(x @ kernel + h_prev @
    recurrent_kernel + bias)``.

    Args:
        units: size of the state and output.
        activation: default ``"tanh"``.
        use_bias, kernel_initializer (``"glorot_uniform"``), recurrent_initializer
            (``"orthogonal"``), bias_initializer (``"zeros"``), ``*_regularizer``,
            ``*_constraint``: as Keras.
        dropout, recurrent_dropout: fractions of the inputs / previous state to drop in
            training (one mask per sequence).
        seed: seed of the dropout masks.

    >>> import numpy as np
    >>> cell = SimpleRNNCell(4)
    >>> out, states = cell(np.ones((2, 3)), [np.zeros((2, 4))])
    >>> out.shape, len(states)
    ((2, 4), 1)
    """

    def __call__(self, inputs, states=None, training=None, **kwargs):
        return _call_cell(self, inputs, states, training, kwargs)

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        x, h_in = self._step_input(inputs, h_tm1, training)
        h = self.activation(self._linear(x, self.kernel, self.bias)
                            + ops.matmul(h_in, self.recurrent_kernel))
        return h, ([h] if isinstance(states, (list, tuple)) else h)


class LSTMCell(_Cell):
    """One step of a long short-term memory (Hochreiter 1997), Keras's layout: gates ``i, f,
    c, o`` side by side in ``kernel (features, 4 units)``, ``recurrent_kernel (units, 4 units)``
    and ``bias (4 units,)``; states ``[h, c]``.

    Args:
        units: size of the states and output.
        activation: default ``"tanh"``; recurrent_activation: of the gates, default
            ``"sigmoid"``.
        unit_forget_bias: start the forget gate's bias at 1 (default True).
        Others: as :class:`SimpleRNNCell`.

    >>> import numpy as np
    >>> out, (h, c) = LSTMCell(2)(np.ones((1, 3)), [np.zeros((1, 2)), np.zeros((1, 2))])
    >>> out.shape, c.shape
    ((1, 2), (1, 2))
    """

    _GATES = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = _activations.get(recurrent_activation,
                                                     "recurrent_activation")
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def forget_ones(shape, dtype=None):  # Keras: [init(u), ones(u), init(2u)]
            return np.concatenate([np.asarray(base((units,), dtype=dtype)),
                                   np.ones((units,), dtype=dtype),
                                   np.asarray(base((2 * units,), dtype=dtype))])

        return forget_ones

    def __call__(self, inputs, states=None, training=None, **kwargs):
        return _call_cell(self, inputs, states, training, kwargs)

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        x, h_in = self._step_input(inputs, h_tm1, training)
        z = self._linear(x, self.kernel, self.bias) + ops.matmul(h_in, self.recurrent_kernel)
        u = self.units
        i = self.recurrent_activation(z[:, :u])
        f = self.recurrent_activation(z[:, u:2 * u])
        c = f * c_tm1 + i * self.activation(z[:, 2 * u:3 * u])
        o = self.recurrent_activation(z[:, 3 * u:])
        h = o * self.activation(c)
        return h, [h, c]

    def _gate_config(self):
        return {"recurrent_activation": _activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """One step of a gated recurrent unit (Cho 2014), Keras's layout: gates ``z, r, h`` in
    ``kernel (features, 3 units)`` and ``recurrent_kernel (units, 3 units)``.

    Args:
        units: size of the state and output.
        activation: default ``"tanh"``; recurrent_activation: default ``"sigmoid"``.
        reset_after: apply the reset gate after the recurrent product (default True, the
            cuDNN convention; ``bias`` is then ``(2, 3 units)``: input and recurrent biases);
            False applies it to the previous state before the product (``bias (3 units,)``).
        Others: as :class:`SimpleRNNCell`.

    >>> import numpy as np
    >>> cell = GRUCell(2)
    >>> out, _ = cell(np.ones((1, 3)), [np.zeros((1, 2))])
    >>> out.shape, cell.bias.shape
    ((1, 2), (2, 6))
    """

    _GATES = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = _activations.get(recurrent_activation,
                                                     "recurrent_activation")
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def __call__(self, inputs, states=None, training=None, **kwargs):
        return _call_cell(self, inputs, states, training, kwargs)

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        x, h_in = self._step_input(inputs, h_tm1, training)
        u = self.units
        in_bias = rec_bias = None
        if self.bias is not None:
            in_bias, rec_bias = (self.bias[0], self.bias[1]) if self.reset_after \
                else (self.bias, None)
        xz = self._linear(x, self.kernel, in_bias)
        if self.reset_after:
            hu = self._linear(h_in, self.recurrent_kernel, rec_bias)
            z = self.recurrent_activation(xz[:, :u] + hu[:, :u])
            r = self.recurrent_activation(xz[:, u:2 * u] + hu[:, u:2 * u])
            hh = self.activation(xz[:, 2 * u:] + r * hu[:, 2 * u:])
        else:
            hu = ops.matmul(h_in, self.recurrent_kernel[:, :2 * u])
            z = self.recurrent_activation(xz[:, :u] + hu[:, :u])
            r = self.recurrent_activation(xz[:, u:2 * u] + hu[:, u:])
            hh = self.activation(xz[:, 2 * u:] + ops.matmul(r * h_in,
                                                            self.recurrent_kernel[:, 2 * u:]))
        h = z * h_tm1 + (1 - z) * hh
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def _gate_config(self):
        return {"recurrent_activation": _activations.serialize(self.recurrent_activation)}

    def _extra_config(self):
        return {"reset_after": self.reset_after}


def _call_cell(cell, inputs, states, training, kwargs):
    """A cell called directly (outside an RNN): build it for the inputs, then one step."""
    if states is None:
        raise ValueError(f"Cell '{cell.name}' needs `states`: call it as cell(inputs, states), "
                         f"states being {cell.state_size} zeros for a first step.")
    x = inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs, dtype=cell.dtype))
    given = list(states) if isinstance(states, (list, tuple)) else states
    states = [s if isinstance(s, Tensor) else Tensor(np.asarray(s, dtype=cell.dtype))
              for s in (given if isinstance(given, list) else [given])]
    if not cell.built:
        cell.build_from_shape(x.shape)
    return cell.call(x, states if isinstance(given, list) else states[0], training=training)


def _rate(value, argument, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid value for argument `{argument}` of '{name}': expected a float "
                         f"in [0, 1], received {argument}={value!r}.")
    return min(1.0, max(0.0, float(value)))


# ----- the RNN layer -----

_FAST = {SimpleRNNCell: "simple_rnn", LSTMCell: "lstm", GRUCell: "gru"}


class RNN(Layer):
    """Run a cell over the time axis of ``(batch, timesteps, features)`` inputs.

    Args:
        cell: a layer with ``state_size`` and ``call(inputs, states) -> (output, states)``
            (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` or your own).
        return_sequences: return every step's output ``(batch, timesteps, units)`` instead of
            the last one.
        return_state: also return the final states (``[output, *states]``).
        go_backwards: read the sequence backwards (outputs come in that order).
        stateful: keep the final states of each batch as the initial states of the next
            (same batch size every call); ``reset_states()`` zeroes them.
        unroll: accepted for Keras compatibility (same numbers either way).
        zero_output_for_mask: output zeros (not the previous output) at masked steps.

    Call arguments: ``initial_state`` (a list of ``(batch, units)`` arrays), ``mask``
    (``(batch, timesteps)`` booleans, False = skip the step), ``training``.

    >>> import numpy as np
    >>> RNN(GRUCell(3), return_sequences=True)(np.ones((2, 4, 5))).shape
    (2, 4, 3)
    """

    # Initial states are recorded as inputs [sequences, *states] (graph_config writes them
    # as Keras's initial_state keyword).
    _states_as_inputs = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            raise ValueError("RNN: a list of cells (StackedRNNCells) is not supported; stack "
                             "RNN layers with return_sequences=True instead.")
        _refuse_time_major(kwargs, type(self).__name__)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError(f"Argument `cell` should have a `call` method and a `state_size` "
                             f"attribute. Received: cell={cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.input_spec = InputSpec(ndim=3)
        self.supports_masking = True
        self.states = None
        sizes = cell.state_size
        self.state_size = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]

    # ----- shapes -----
    def build(self, sequences_shape, initial_state_shape=None):
        sequences_shape = _first_shape(sequences_shape)
        self._check_rank(sequences_shape)
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build_from_shape((sequences_shape[0],) + tuple(sequences_shape[2:]))

    def _check_rank(self, shape):
        if len(shape) != 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim=3, found ndim={len(shape)}. Full shape received: {tuple(shape)}. "
                f"{type(self).__name__} reads (batch, timesteps, features): reshape the data, "
                f"e.g. images (batch, 28, 28) as 28 steps of 28 features.")

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = _first_shape(sequences_shape)
        self._check_rank(shape)
        batch = shape[0]
        units = getattr(self.cell, "output_size", None) or self.state_size[0]
        output = (batch, shape[1], units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [output] + [(batch, n) for n in self.state_size]
        return output

    def get_build_config(self):
        if self._build_input_shape is None:
            return None
        return {"input_shape": list(_first_shape(self._build_input_shape))}

    # ----- calling -----
    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        # Initial states travel with the inputs, so a functional graph records them as inputs.
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            inputs = [inputs, *states]
        return super().__call__(inputs, training=training, **kwargs)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(sequences, (list, tuple)):
            sequences, initial_state = sequences[0], list(sequences[1:]) or initial_state
        if isinstance(mask, (list, tuple)):  # the masks of [sequences, *states]
            mask = mask[0]
        self._check_rank(sequences.shape)
        batch, steps = sequences.shape[0], sequences.shape[1]
        mask = self._check_mask(mask, sequences.shape)
        states = self._initial_states(initial_state, batch)
        seq, last, final = self._run(sequences, states, mask, training)
        if self.zero_output_for_mask and mask is not None:
            order = mask[:, ::-1] if self.go_backwards else mask  # seq is in reading order
            seq = seq * order[:, :, None].astype(seq.dtype)
            last = seq[:, steps - 1]
        if self.stateful:
            self.states = [np.array(s.data) for s in final]
        output = seq if self.return_sequences else last
        return [output, *final] if self.return_state else output

    def compute_mask(self, inputs, previous_mask=None):
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * len(self.state_size) if self.return_state \
            else output_mask

    def _check_mask(self, mask, shape):
        if mask is None:
            return None
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.shape != tuple(shape[:2]):
            raise ValueError(
                f"Layer '{self.name}' received a mask of shape {mask.shape} for inputs of shape "
                f"{tuple(shape)}; the mask must be (batch, timesteps) = {tuple(shape[:2])}, "
                f"True for the steps to use.")
        return mask.astype(bool)

    def get_initial_state(self, batch_size):
        make = getattr(self.cell, "get_initial_state", None)
        if make is not None:
            states = make(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        return [Tensor(np.zeros((batch_size, n), dtype=self.dtype)) for n in self.state_size]

    def _initial_states(self, initial_state, batch):
        if initial_state is None:
            if self.stateful and self.states is not None:
                if self.states[0].shape[0] != batch:
                    raise ValueError(
                        f"Layer '{self.name}' is stateful with a batch size of "
                        f"{self.states[0].shape[0]}, but received a batch of {batch}. A stateful "
                        f"RNN needs the same batch size every call: pass batches of "
                        f"{self.states[0].shape[0]} (predict(batch_size=...), no partial last "
                        f"batch), or use a new layer for another size.")
                return [Tensor(s) for s in self.states]
            return self.get_initial_state(batch)
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
            else [initial_state]
        expected = [(batch, n) for n in self.state_size]
        states = [s if isinstance(s, Tensor) else Tensor(np.asarray(s, dtype=self.dtype))
                  for s in states]
        if [tuple(s.shape) for s in states] != expected:
            raise ValueError(
                f"Layer '{self.name}' received initial_state with shapes "
                f"{[tuple(s.shape) for s in states]}; it expects {len(expected)} state(s) of "
                f"shapes {expected} (batch, units), e.g. [h, c] for an LSTM.")
        return states

    def reset_states(self):
        """Zero the states of a stateful layer (Keras's compatibility alias)."""
        self.reset_state()

    def reset_state(self):
        if self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]

    # ----- the loop -----
    def _run(self, sequences, states, mask, training):
        """(every step's output, the last output, the final states)."""
        cell = self.cell
        input_mask, recurrent_mask = (cell.dropout_masks(sequences.shape[0], sequences.shape[2],
                                                         training)
                                      if isinstance(cell, _Cell) else (None, None))
        kind = self._fast_kind()
        if kind is not None:
            if input_mask is not None:
                sequences = sequences * input_mask[:, None, :]
            return self._run_fused(kind, sequences, states, mask, recurrent_mask)
        if isinstance(cell, _Cell):
            cell._sequence_masks = (input_mask, recurrent_mask)
        try:
            return self._run_steps(sequences, states, mask, training)
        finally:
            if isinstance(cell, _Cell):
                cell._sequence_masks = None

    def _fast_kind(self):
        kind = _FAST.get(type(self.cell))
        if kind is None:
            return None
        for fn in (self.cell.activation, getattr(self.cell, "recurrent_activation", None)):
            if fn is not None and _activation_name(fn) not in _recurrent.ACTIVATIONS:
                return None
        return kind

    def _run_fused(self, kind, sequences, states, mask, recurrent_mask):
        cell = self.cell
        steps = sequences.shape[1]
        options = {"mask": mask, "recurrent_mask": recurrent_mask,
                   "go_backwards": self.go_backwards,
                   "activation": _activation_name(cell.activation)}
        weights = (cell.kernel, cell.recurrent_kernel, cell.bias)
        if kind == "simple_rnn":
            out = _recurrent.simple_rnn(sequences, states[0], *weights, **options)
        else:
            options["recurrent_activation"] = _activation_name(cell.recurrent_activation)
            if kind == "gru":
                out = _recurrent.gru(sequences, states[0], *weights,
                                     reset_after=cell.reset_after, **options)
            else:
                out = _recurrent.lstm(sequences, states[0], states[1], *weights, **options)
                last = out[:, steps - 1]
                return out[:, :steps], last, [last, out[:, steps]]
        last = out[:, steps - 1]
        return out, last, [last]

    def _run_steps(self, sequences, states, mask, training):
        """Any cell, one step at a time with graph ops (Keras's masking: a masked step keeps
        the states and outputs the previous state ``states[0]``)."""
        cell = self.cell
        if not cell.built:
            cell.build_from_shape((sequences.shape[0],) + tuple(sequences.shape[2:]))
        takes_training = "training" in _parameters(cell.call)
        order = range(sequences.shape[1])
        outputs = []
        for t in (reversed(order) if self.go_backwards else order):
            x_t = sequences[:, t]
            out, new = cell.call(x_t, states, training=training) if takes_training \
                else cell.call(x_t, states)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:
                keep = mask[:, t:t + 1]
                out = ops.where(keep, out, states[0])
                new = [ops.where(keep, n, s) for n, s in zip(new, states)]
            outputs.append(out)
            states = new
        return ops.stack(*outputs, axis=1), outputs[-1], states

    # ----- config -----
    def get_config(self):
        from numkeras.layers import serialize

        return {**super().get_config(), **self._rnn_config(), "cell": serialize(self.cell)}

    def _rnn_config(self):
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful,
                "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        return cls(_nested(config.pop("cell"), custom_objects), **config)


def _nested(entry, custom_objects=None):
    """A wrapped layer or cell from its entry in a wrapper's config. Keras 3.15 writes
    ``input_axes``/``output_axes`` in its fan-based initializers; None (the last two axes) is
    what numkeras computes, so those keys are dropped (and any other value refused)."""
    from numkeras.layers import deserialize

    if isinstance(entry, dict) and isinstance(entry.get("config"), dict):
        config = {key: _without_axes(value) for key, value in entry["config"].items()}
        entry = {**entry, "config": config}
    return deserialize(entry, custom_objects)


def _without_axes(value):
    inner = value.get("config") if isinstance(value, dict) else None
    if not isinstance(inner, dict) or not {"input_axes", "output_axes"} & set(inner):
        return value
    axes = {key: inner[key] for key in ("input_axes", "output_axes") if key in inner}
    if any(v is not None for v in axes.values()):
        raise ValueError(f"Initializer {value.get('class_name')} with {axes}: numkeras computes "
                         f"fans from the last two axes only (input_axes=None, output_axes=None).")
    return {**value, "config": {k: v for k, v in inner.items() if k not in axes}}


def _refuse_time_major(kwargs, class_name):
    """tf.keras 2 wrote ``time_major`` (False by default) in every RNN's config; Keras 3 reads
    only (batch, time, ...) inputs, as numkeras does."""
    if kwargs.pop("time_major", False):
        raise ValueError(f"{class_name}: time_major=True is not supported (Keras 3 neither): "
                         f"pass inputs as (batch, timesteps, features).")


def _first_shape(shape):
    return shape if is_shape(shape) else _first_shape(shape[0])


def _parameters(function):
    import inspect

    return inspect.signature(function).parameters


def _activation_name(function):
    try:
        return _activations.serialize(function)
    except ValueError:
        return None


# ----- SimpleRNN, LSTM, GRU: an RNN over their own cell, with the cell's arguments -----

_CELL_ARGUMENTS = ("units", "activation", "use_bias", "kernel_initializer",
                   "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                   "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                   "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")
_RNN_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                  "zero_output_for_mask")


class _CellLayer(RNN):
    """An RNN whose constructor takes its cell's arguments (Keras's SimpleRNN, LSTM, GRU)."""

    _CELL: type = _Cell
    _CELL_NAME = ""
    _WRITES_SEED = True

    def __init__(self, units, **kwargs):
        use_cudnn = kwargs.pop("use_cudnn", "auto")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"Invalid value received for argument `use_cudnn`. Expected one of "
                             f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}")
        _refuse_time_major(kwargs, type(self).__name__)
        rnn_kwargs = {k: kwargs.pop(k) for k in _RNN_ARGUMENTS if k in kwargs}
        layer_kwargs = {k: kwargs.pop(k) for k in ("name", "trainable", "dtype", "input_shape",
                                                   "input_dim", "batch_input_shape",
                                                   "batch_size", "activity_regularizer",
                                                   "weights") if k in kwargs}
        cell = self._CELL(units, name=self._CELL_NAME, dtype=layer_kwargs.get("dtype"),
                          trainable=layer_kwargs.get("trainable", True), **kwargs)
        super().__init__(cell, **rnn_kwargs, **layer_kwargs)
        self.use_cudnn = use_cudnn

    def get_config(self):
        config = {**Layer.get_config(self), **self._rnn_config()}
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key)
        seed = cell_config.pop("seed")
        config.update(cell_config)
        config["activity_regularizer"] = _regularizers.serialize(self.activity_regularizer)
        if self._WRITES_SEED:  # Keras's SimpleRNN layer leaves its cell's seed out
            config["seed"] = seed
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def _delegate(name):
    return property(lambda self: getattr(self.cell, name))


for _name in _CELL_ARGUMENTS + ("recurrent_activation", "unit_forget_bias", "reset_after",
                                "seed"):
    setattr(_CellLayer, _name, _delegate(_name))


class SimpleRNN(_CellLayer):
    """Fully connected RNN whose output is fed back as input (Keras 3).

    Args: ``units`` and the arguments of :class:`SimpleRNNCell` and :class:`RNN`.

    >>> import numpy as np
    >>> SimpleRNN(4)(np.ones((2, 6, 3))).shape
    (2, 4)
    """

    _CELL, _CELL_NAME = SimpleRNNCell, "simple_rnn_cell"
    _WRITES_SEED = False


class LSTM(_CellLayer):
    """Long short-term memory layer (Keras 3); the whole sequence is one fused node.

    Args: ``units`` and the arguments of :class:`LSTMCell` (``recurrent_activation``,
    ``unit_forget_bias`` ...) and :class:`RNN` (``return_sequences``, ``return_state``,
    ``go_backwards``, ``stateful`` ...).

    >>> import numpy as np
    >>> LSTM(4, return_sequences=True)(np.ones((2, 6, 3))).shape
    (2, 6, 4)
    """

    _CELL, _CELL_NAME = LSTMCell, "lstm_cell"


class GRU(_CellLayer):
    """Gated recurrent unit layer (Keras 3); ``reset_after=True`` by default.

    Args: ``units`` and the arguments of :class:`GRUCell` and :class:`RNN`.

    >>> import numpy as np
    >>> GRU(4, reset_after=False)(np.ones((2, 6, 3))).shape
    (2, 4)
    """

    _CELL, _CELL_NAME = GRUCell, "gru_cell"


# ----- wrappers -----


class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy of it backwards, and merge the two outputs.

    Args:
        layer: an RNN layer (``LSTM``, ``GRU`` ...); a copy named ``forward_<name>`` reads the
            sequence forwards.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or None (a list of
            both outputs).
        weights: initial weights, forward layer's then backward layer's.
        backward_layer: the layer for the backward direction (default: a copy of ``layer``
            with ``go_backwards`` flipped, named ``backward_<name>``).

    With ``return_sequences`` the backward outputs are put back in time order before merging,
    and masked steps give zeros (Keras forces ``zero_output_for_mask`` there).

    >>> import numpy as np
    >>> Bidirectional(LSTM(3, return_sequences=True))(np.ones((2, 5, 4))).shape
    (2, 5, 6)
    """

    # Initial states are recorded as inputs [sequences, *states] (graph_config writes them
    # as Keras's initial_state keyword).
    _states_as_inputs = True

    _MODES = ("sum", "mul", "ave", "concat", None)

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        from numkeras.layers import deserialize, serialize

        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: {backward_layer!r}")
        if merge_mode not in self._MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be "
                             f'one of {{"sum", "mul", "ave", "concat", None}}')
        super().__init__(**kwargs)
        entry = serialize(layer)
        entry["config"]["name"] = "forward_" + layer.name.removeprefix("forward_")
        self.forward_layer = deserialize(entry)
        if backward_layer is None:
            entry = serialize(layer)
            entry["config"]["go_backwards"] = not entry["config"].get("go_backwards", False)
            entry["config"]["name"] = "backward_" + layer.name.removeprefix("backward_")
            backward_layer = deserialize(entry)
        self.backward_layer = backward_layer
        self._verify_layers()
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._pending_weights = list(weights) if weights else None
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.input_spec = InputSpec(ndim=3)
        self.supports_masking = True

    def _verify_layers(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                f"Forward layer and backward layer should have different `go_backwards` value. "
                f"Received: forward_layer.go_backwards {forward.go_backwards}, "
                f"backward_layer.go_backwards={backward.go_backwards}")
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attribute) != getattr(backward, attribute):
                raise ValueError(
                    f"Forward layer and backward layer are expected to have the same value for "
                    f'attribute "{attribute}", got "{getattr(forward, attribute)}" for forward '
                    f'layer and "{getattr(backward, attribute)}" for backward layer')

    def build(self, sequences_shape, initial_state_shape=None):
        shape = _first_shape(sequences_shape)
        for sub in (self.forward_layer, self.backward_layer):
            sub.build_from_shape(shape)
        if self._pending_weights is not None:
            half = len(self._pending_weights) // 2
            self.forward_layer.set_weights(self._pending_weights[:half])
            self.backward_layer.set_weights(self._pending_weights[half:])
            self._pending_weights = None

    def get_build_config(self):
        if self._build_input_shape is None:
            return None
        return {"input_shape": list(_first_shape(self._build_input_shape))}

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output = self.forward_layer.compute_output_shape(_first_shape(sequences_shape))
        states = []
        if self.return_state:
            output, states = output[0], list(output[1:])
        if self.merge_mode == "concat":
            output = tuple(output[:-1]) + (output[-1] * 2,)
        outputs = [output, output] if self.merge_mode is None else [output]
        if self.return_state or self.merge_mode is None:
            return outputs + states + states
        return output

    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        if initial_state is not None:
            inputs = [inputs, *list(initial_state)]
        return super().__call__(inputs, training=training, **kwargs)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(sequences, (list, tuple)):
            sequences, initial_state = sequences[0], list(sequences[1:]) or initial_state
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask,
                               training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask,
                                    training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        merged = self._merge(y, y_rev)
        if self.return_state:
            return (merged if self.merge_mode is None else [merged]) + states
        return merged

    def compute_mask(self, inputs, previous_mask=None):
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        if self.return_sequences:
            output_mask = [mask, mask] if self.merge_mode is None else mask
        else:
            output_mask = [None, None] if self.merge_mode is None else None
        if not self.return_state:
            return output_mask
        heads = output_mask if self.merge_mode is None else [output_mask]
        return heads + [None] * (2 * len(self.forward_layer.state_size))

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return ops.concatenate(y, y_rev, axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) * 0.5
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def reset_states(self):
        self.reset_state()

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    @property
    def states(self):
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(self.forward_layer.states + self.backward_layer.states)
        return None

    def get_config(self):
        from numkeras.layers import serialize

        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = _nested(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _nested(config["backward_layer"], custom_objects)
        return cls(**config)


class TimeDistributed(Layer):
    """Apply a layer to every time step: inputs ``(batch, time, ...)``, the layer sees
    ``(batch, ...)`` slices and the outputs are stacked back along ``time``.

    The steps go through the layer together as one batch of ``batch * time`` rows (the same
    numbers as one call per step for any layer that treats rows independently, such as Dense
    or Conv2D; a BatchNormalization in training would see all steps' statistics at once).

    >>> import numpy as np
    >>> from numkeras.layers import Dense
    >>> TimeDistributed(Dense(2))(np.ones((4, 5, 3))).shape
    (4, 5, 2)
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _child_shape(self, input_shape):
        if not is_shape(input_shape) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at "
                             f"least 3 dimensions, received: {input_shape}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer.build_from_shape(self._child_shape(input_shape))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1]) + tuple(child[1:])

    def call(self, inputs, training=None, mask=None):
        shape = inputs.shape
        self._child_shape(shape)
        flat = ops.reshape(inputs, shape=(shape[0] * shape[1],) + tuple(shape[2:]))
        out = self.layer(flat, training=training, **self._child_mask(mask, shape))
        return ops.reshape(out, shape=(shape[0], shape[1]) + tuple(out.shape[1:]))

    def _child_mask(self, mask, shape) -> dict:
        """``mask=`` for the wrapped layer: each step's slice of a mask with axes beyond
        (batch, time), e.g. Masking's before ``TimeDistributed(LSTM)``, as Keras 3 hands it
        to a layer whose ``call`` takes a mask; nothing otherwise."""
        if mask is None:
            return {}
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.ndim < 2 or mask.shape[:2] != tuple(shape[:2]):
            raise ValueError(
                f"The `mask` passed to the `TimeDistributed` layer '{self.name}' has shape "
                f"{mask.shape}, incompatible with inputs of shape {tuple(shape)}: its first "
                f"two axes must be (batch, timesteps) = {tuple(shape[:2])}.")
        if mask.ndim == 2 or not self.layer._call_takes_mask:
            return {}
        return {"mask": mask.reshape((shape[0] * shape[1],) + mask.shape[2:])}

    def get_config(self):
        from numkeras.layers import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        return cls(_nested(config.pop("layer"), custom_objects), **config)


class Masking(Layer):
    """Mask the time steps whose features all equal ``mask_value``: the layers after it (RNNs,
    GlobalAveragePooling1D) skip them, and the masked steps' outputs are set to 0.

    Args:
        mask_value: the padding value (default 0.0).

    >>> import numpy as np
    >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
    >>> layer = Masking()
    >>> layer.compute_mask(x).tolist()
    [[True, False, True]]
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def produces_mask(self) -> bool:
        return True

    def compute_mask(self, inputs, previous_mask=None):
        values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.any(values != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self.compute_mask(inputs)[..., None]
        return ops.multiply(inputs, keep.astype(inputs.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
