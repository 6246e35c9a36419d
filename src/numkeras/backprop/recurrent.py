"""Whole-sequence recurrent primitives: SimpleRNN, LSTM and GRU, each one node for all steps.

A recurrent layer built from per-step graph ops would record a dozen nodes per time step and walk
them all in ``backward``. Here each cell is one primitive over the whole sequence, as
``ops.dense`` is for a layer: the input projection ``x @ kernel`` of every step is one matrix
product up front, the loop over time keeps only the recurrent product and the gate arithmetic,
and backpropagation through time is one VJP whose weight gradients are again single products
over all steps (``h_prev.T @ d_gates`` summed over time in one matmul).

Shared conventions (Keras 3's, so weights and outputs match it):

* ``x`` is ``(batch, time, features)``; ``kernel`` is ``(features, gates * units)`` and
  ``recurrent_kernel`` ``(units, gates * units)``, gates in Keras's order (LSTM ``i, f, c, o``;
  GRU ``z, r, h``).
* ``mask`` (keyword, ``(batch, time)`` booleans): at a masked step the states are carried over
  unchanged and the output is the previous output (the carried ``h``), as Keras's JAX backend
  does.
* ``go_backwards``: the sequence is read from the last step to the first and the outputs come
  in that (processing) order, as Keras returns them.
* ``recurrent_mask`` (keyword, ``(batch, units)``): recurrent dropout, multiplied into the
  previous ``h`` before the recurrent product (the carried state itself is not dropped).
* The output is ``(batch, time, units)``, every step's ``h``; the last step is the final ``h``.
  The LSTM appends its final carry ``c`` as one more step: ``(batch, time + 1, units)``.

Activations are those whose derivative follows from their output (:data:`ACTIVATIONS`); a layer
with any other activation runs its cell step by step instead.

>>> import numpy as np
>>> from numkeras.backprop import Tensor
>>> x = Tensor(np.ones((2, 5, 3)))
>>> w, u = np.full((3, 4), 0.1), np.eye(4) * 0.5
>>> simple_rnn(x, np.zeros((2, 4)), w, u, None).shape
(2, 5, 4)
"""

from __future__ import annotations

import numpy as np

from numkeras.backprop.tensor import wrap_primitive

RECURRENT_PRIMITIVES: dict = {}


def _register(forward):
    op = wrap_primitive(forward, forward.__name__, selective=True)
    RECURRENT_PRIMITIVES[forward.__name__] = op
    return op


def _hard_sigmoid(z):
    return np.clip((z + 3) / 6, 0, 1)


def _sigmoid(z):
    """``sigmoid(z) = (tanh(z / 2) + 1) / 2``: one tanh and three in-place passes, about half
    the time of the two-branch exp form (which gates pay every step), never overflowing; its
    error (under 1.2e-7 in float32) is absolute, which is what gates need."""
    out = np.multiply(z, 0.5)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


# name -> (activation on an array, its derivative written from the activation's output)
ACTIVATIONS = {
    "tanh": (np.tanh, lambda y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda y: y * (1 - y)),
    "relu": (lambda z: np.maximum(z, 0), lambda y: (y > 0).astype(y.dtype)),
    "linear": (lambda z: z, lambda y: np.ones_like(y)),
    "hard_sigmoid": (_hard_sigmoid, lambda y: ((y > 0) & (y < 1)).astype(y.dtype) / 6),
}


# ----- shared pieces -----

# Activations of the form a * tanh(a * z) + b: sigmoid (a = b = 1/2) and tanh (a = 1, b = 0).
_TANH_FORM = {"sigmoid": (0.5, 0.5), "tanh": (1.0, 0.0)}


def _tanh_form(names, units, dtype):
    """Per-column ``(scale, shift)`` when every gate's activation (``names``, one per block of
    ``units`` columns) is sigmoid or tanh, so that all the gates of a step are
    ``scale * tanh(scale * z) + shift``: one pass of tanh, no branches; else None."""
    if not all(name in _TANH_FORM for name in names):
        return None
    scale = np.repeat([_TANH_FORM[name][0] for name in names], units).astype(dtype)
    shift = np.repeat([_TANH_FORM[name][1] for name in names], units).astype(dtype)
    return scale, shift



def _time_major(x, mask, go_backwards, dtype):
    """``x`` as a contiguous ``(time, batch, features)`` array in processing order, and the
    mask as ``(time, batch, 1)`` floats (or None)."""
    xs = np.swapaxes(x, 0, 1)
    keep = None if mask is None else np.swapaxes(np.asarray(mask, dtype=dtype), 0, 1)[..., None]
    if go_backwards:
        xs = xs[::-1]
        keep = None if keep is None else keep[::-1]
    return np.ascontiguousarray(xs, dtype=dtype), keep


def _project(xs, kernel, bias):
    """Every step's input product at once: ``(time, batch, features) @ kernel + bias``."""
    steps, batch, features = xs.shape
    z = np.matmul(xs.reshape(steps * batch, features), kernel)
    if bias is not None:
        z += bias
    return z.reshape(steps, batch, -1)


def _carry(keep, new, old):
    """The state after a step: ``new`` where the step is kept, else ``old`` (no mask: new)."""
    return new if keep is None else np.where(keep > 0, new, old)


def _split_masked(grad, keep):
    """A state's gradient split into the part that reaches the step's own update and the part
    that passes around a masked step to the previous state."""
    if keep is None:
        return grad, None
    return grad * keep, grad * (1 - keep)


def _input_grads(need_x, need_kernel, d_in, xs, kernel, x_shape, go_backwards):
    """Gradients of ``x`` and ``kernel`` from the gradient of the input projection
    ``d_in`` ``(time, batch, gates * units)``: one matrix product each."""
    steps, batch, width = d_in.shape
    flat = d_in.reshape(steps * batch, width)
    gx = None
    if need_x:
        gx = np.matmul(flat, kernel.T).reshape(steps, batch, x_shape[-1])
        if go_backwards:
            gx = gx[::-1]
        gx = np.swapaxes(gx, 0, 1)
    gk = np.matmul(xs.reshape(steps * batch, -1).T, flat) if need_kernel else None
    return gx, gk


def _step_inputs(h_prev, recurrent_mask):
    """``h_{t-1}`` of every step as the recurrent product saw it, flattened for one matmul."""
    hin = h_prev if recurrent_mask is None else h_prev * recurrent_mask
    return hin.reshape(-1, hin.shape[-1])


# ----- SimpleRNN -----


@_register
def simple_rnn(x, h0, kernel, recurrent_kernel, bias, *, mask=None, recurrent_mask=None,
               go_backwards=False, activation="tanh"):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`` over all steps.

    Positional: ``x (batch, time, features)``, ``h0 (batch, units)``, ``kernel``,
    ``recurrent_kernel``, ``bias`` (or None). Returns ``(batch, time, units)``.
    """
    act, dact = ACTIVATIONS[activation]
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = np.result_type(x, kernel, recurrent_kernel)
    xs, keep = _time_major(x, mask, go_backwards, dtype)
    z_in = _project(xs, kernel, bias)                    # (T, B, U)
    h_prev = np.empty((steps, batch, units), dtype)      # h_{t-1} of each step
    y = np.empty((steps, batch, units), dtype)           # activation output, before masking
    out = np.empty((batch, steps, units), dtype)
    h = np.asarray(h0, dtype)
    for t in range(steps):
        h_prev[t] = h
        hin = h if recurrent_mask is None else h * recurrent_mask
        y[t] = act(z_in[t] + hin @ recurrent_kernel)
        h = _carry(None if keep is None else keep[t], y[t], h)
        out[:, t] = h

    def vjp(g, needs):
        d_in = np.empty_like(z_in)
        u_t = recurrent_kernel.T
        dh = np.zeros((batch, units), dtype)
        for t in reversed(range(steps)):
            dh, passed = _split_masked(dh + g[:, t], None if keep is None else keep[t])
            d_in[t] = dh * dact(y[t])
            dh = d_in[t] @ u_t
            if recurrent_mask is not None:
                dh *= recurrent_mask
            if passed is not None:
                dh += passed
        gx, gk = _input_grads(needs[0], needs[2], d_in, xs, kernel, x.shape, go_backwards)
        flat = d_in.reshape(-1, units)
        gu = _step_inputs(h_prev, recurrent_mask).T @ flat if needs[3] else None
        gb = flat.sum(axis=0) if needs[4] and bias is not None else None
        return gx, dh, gk, gu, gb

    return out, vjp


# ----- LSTM -----


@_register
def lstm(x, h0, c0, kernel, recurrent_kernel, bias, *, mask=None, recurrent_mask=None,
         go_backwards=False, activation="tanh", recurrent_activation="sigmoid"):
    """Keras's LSTM over all steps: gates ``i, f, c, o`` from
    ``z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias``; ``c_t = f * c_{t-1} + i * g``,
    ``h_t = o * activation(c_t)``.

    Positional: ``x (batch, time, features)``, ``h0``, ``c0 (batch, units)``, ``kernel
    (features, 4 units)``, ``recurrent_kernel (units, 4 units)``, ``bias (4 units,)`` or None.
    Returns ``(batch, time + 1, units)``: each step's ``h``, then the final carry ``c``.
    """
    act, dact = ACTIVATIONS[activation]
    ract, dract = ACTIVATIONS[recurrent_activation]
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = np.result_type(x, kernel, recurrent_kernel)
    xs, keep = _time_major(x, mask, go_backwards, dtype)
    z_in = _project(xs, kernel, bias)                    # (T, B, 4U)
    gates = np.empty_like(z_in)                          # i, f, g, o after their activations
    carries = np.empty((steps + 1, batch, units), dtype)  # c_{t-1} of step t at index t
    act_c = np.empty((steps, batch, units), dtype)       # activation(c_t) before masking
    h_prev = np.empty((steps, batch, units), dtype)
    out = np.empty((batch, steps + 1, units), dtype)
    h, c = np.asarray(h0, dtype), np.asarray(c0, dtype)
    carries[0] = c
    two, three = 2 * units, 3 * units
    tanh_form = _tanh_form((recurrent_activation, recurrent_activation, activation,
                            recurrent_activation), units, dtype)
    if tanh_form is not None:  # pre-scale the columns once: each step is then one tanh
        scale, shift = tanh_form
        z_scaled, kernel_scaled = z_in * scale, recurrent_kernel * scale
    for t in range(steps):
        h_prev[t] = h
        hin = h if recurrent_mask is None else h * recurrent_mask
        gate = gates[t]
        if tanh_form is not None:
            np.matmul(hin, kernel_scaled, out=gate)
            gate += z_scaled[t]
            np.tanh(gate, out=gate)
            gate *= scale
            gate += shift
        else:
            z = z_in[t] + hin @ recurrent_kernel
            gate[:, :two] = ract(z[:, :two])
            gate[:, two:three] = act(z[:, two:three])
            gate[:, three:] = ract(z[:, three:])
        c_new = gate[:, units:two] * c + gate[:, :units] * gate[:, two:three]
        act_c[t] = act(c_new)
        step_keep = None if keep is None else keep[t]
        h = _carry(step_keep, gate[:, three:] * act_c[t], h)
        c = _carry(step_keep, c_new, c)
        carries[t + 1] = c
        out[:, t] = h
    out[:, steps] = c

    def vjp(g, needs):
        d_in = np.empty_like(z_in)
        u_t = recurrent_kernel.T
        dh = np.zeros((batch, units), dtype)
        dc = np.array(g[:, steps], dtype)
        # The activations' derivatives of every step at once (from their outputs), so the
        # loop only multiplies: (T, B, 4U) for the gates, (T, B, U) for activation(c).
        if tanh_form is not None:  # d/dz of s * tanh(s * z) + b is s^2 - (y - b)^2
            deriv = np.square(gates - shift)
            np.subtract(scale * scale, deriv, out=deriv)
        else:
            deriv = np.concatenate([dract(gates[..., :two]), dact(gates[..., two:three]),
                                    dract(gates[..., three:])], axis=-1)
        dact_c = dact(act_c)
        for t in reversed(range(steps)):
            step_keep = None if keep is None else keep[t]
            dh, h_passed = _split_masked(dh + g[:, t], step_keep)
            dc, c_passed = _split_masked(dc, step_keep)
            gate, d = gates[t], d_in[t]
            dc = dc + dh * gate[:, three:] * dact_c[t]
            np.multiply(dc, gate[:, two:three], out=d[:, :units])    # i
            np.multiply(dc, carries[t], out=d[:, units:two])         # f
            np.multiply(dc, gate[:, :units], out=d[:, two:three])    # candidate
            np.multiply(dh, act_c[t], out=d[:, three:])              # o
            d *= deriv[t]
            dc = dc * gate[:, units:two]
            dh = d @ u_t
            if recurrent_mask is not None:
                dh *= recurrent_mask
            if h_passed is not None:
                dh += h_passed
                dc += c_passed
        gx, gk = _input_grads(needs[0], needs[3], d_in, xs, kernel, x.shape, go_backwards)
        flat = d_in.reshape(-1, 4 * units)
        gu = _step_inputs(h_prev, recurrent_mask).T @ flat if needs[4] else None
        gb = flat.sum(axis=0) if needs[5] and bias is not None else None
        return gx, dh, dc, gk, gu, gb

    return out, vjp


# ----- GRU -----


@_register
def gru(x, h0, kernel, recurrent_kernel, bias, *, mask=None, recurrent_mask=None,
        go_backwards=False, activation="tanh", recurrent_activation="sigmoid",
        reset_after=True):
    """Keras's GRU over all steps: update gate ``z``, reset gate ``r``, candidate ``hh``;
    ``h_t = z * h_{t-1} + (1 - z) * hh``.

    With ``reset_after`` (Keras's default) ``r`` multiplies the recurrent product
    (``hh = act(x W_h + b_h + r * (h U_h + rb_h))``, ``bias`` of shape ``(2, 3 units)``: input
    and recurrent biases); without it ``r`` multiplies ``h`` before it
    (``hh = act(x W_h + (r * h) U_h + b_h)``, ``bias (3 units,)``). Returns
    ``(batch, time, units)``.
    """
    act, dact = ACTIVATIONS[activation]
    ract, dract = ACTIVATIONS[recurrent_activation]
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    two = 2 * units
    dtype = np.result_type(x, kernel, recurrent_kernel)
    xs, keep = _time_major(x, mask, go_backwards, dtype)
    in_bias, rec_bias = (None, None) if bias is None else (
        (bias[0], bias[1]) if reset_after else (bias, None))
    z_in = _project(xs, kernel, in_bias)                 # (T, B, 3U)
    zr = np.empty((steps, batch, two), dtype)            # z and r after their activation
    cand = np.empty((steps, batch, units), dtype)        # hh
    # reset_after: h U_h + rb_h (what r multiplies); else r * h (what U_h multiplies)
    reset_part = np.empty((steps, batch, units), dtype)
    h_prev = np.empty((steps, batch, units), dtype)
    out = np.empty((batch, steps, units), dtype)
    h = np.asarray(h0, dtype)
    u_zr, u_h = recurrent_kernel[:, :two], recurrent_kernel[:, two:]
    for t in range(steps):
        h_prev[t] = h
        hin = h if recurrent_mask is None else h * recurrent_mask
        if reset_after:
            hu = hin @ recurrent_kernel
            if rec_bias is not None:
                hu += rec_bias
            zr[t] = ract(z_in[t, :, :two] + hu[:, :two])
            reset_part[t] = hu[:, two:]
            cand[t] = act(z_in[t, :, two:] + zr[t, :, units:] * reset_part[t])
        else:
            zr[t] = ract(z_in[t, :, :two] + hin @ u_zr)
            reset_part[t] = zr[t, :, units:] * hin
            cand[t] = act(z_in[t, :, two:] + reset_part[t] @ u_h)
        z = zr[t, :, :units]
        h = _carry(None if keep is None else keep[t], z * h + (1 - z) * cand[t], h)
        out[:, t] = h

    def vjp(g, needs):
        d_in = np.empty_like(z_in)                       # gradient of the input projection
        d_rec = np.empty_like(z_in) if reset_after else None  # ... of h U + rb (reset_after)
        u_t, u_zr_t, u_h_t = recurrent_kernel.T, u_zr.T, u_h.T
        dh = np.zeros((batch, units), dtype)
        for t in reversed(range(steps)):
            dh, passed = _split_masked(dh + g[:, t], None if keep is None else keep[t])
            z, r = zr[t, :, :units], zr[t, :, units:]
            d = d_in[t]
            d[:, :units] = dh * (h_prev[t] - cand[t]) * dract(z)
            d[:, two:] = dh * (1 - z) * dact(cand[t])
            direct = dh * z
            if reset_after:
                d[:, units:two] = d[:, two:] * reset_part[t] * dract(r)
                rec = d_rec[t]
                rec[:, :two] = d[:, :two]
                rec[:, two:] = d[:, two:] * r
                dhin = rec @ u_t
            else:
                d_reset = d[:, two:] @ u_h_t             # gradient of r * hin
                hin = h_prev[t] if recurrent_mask is None else h_prev[t] * recurrent_mask
                d[:, units:two] = d_reset * hin * dract(r)
                dhin = d_reset * r + d[:, :two] @ u_zr_t
            if recurrent_mask is not None:
                dhin *= recurrent_mask
            dh = direct + dhin
            if passed is not None:
                dh += passed
        gx, gk = _input_grads(needs[0], needs[2], d_in, xs, kernel, x.shape, go_backwards)
        gu = gb = None
        flat_in = d_in.reshape(-1, 3 * units)
        if needs[3]:
            hin = _step_inputs(h_prev, recurrent_mask)
            if reset_after:
                gu = hin.T @ d_rec.reshape(-1, 3 * units)
            else:
                gu = np.concatenate([hin.T @ flat_in[:, :two],
                                     reset_part.reshape(-1, units).T @ flat_in[:, two:]], axis=1)
        if needs[4] and bias is not None:
            gb = flat_in.sum(axis=0)
            if reset_after:
                gb = np.stack([gb, d_rec.reshape(-1, 3 * units).sum(axis=0)])
        return gx, dh, gk, gu, gb

    return out, vjp
