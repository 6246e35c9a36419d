"""Whole-sequence recurrent primitives: float64 finite-difference checks of every gradient
(inputs, initial states, kernels, biases) with masks, go_backwards and recurrent dropout, and the
forward pass against a plain per-step reference."""

import numpy as np
import pytest

from numkeras.backprop import Tensor, check_grads, no_grad
from numkeras.backprop.recurrent import RECURRENT_PRIMITIVES, gru, lstm, simple_rnn

B, T, D, U = 2, 4, 3, 3


def _mask(rng):
    mask = rng.random((B, T)) > 0.4
    mask[0, 0] = False  # a masked first step: the output is the initial state
    mask[1, -1] = False  # a masked last step: the final state is carried from before
    return mask


def _options(kind, rng):
    """Keyword options to try for every primitive."""
    return [
        {},
        {"go_backwards": True},
        {"mask": _mask(rng)},
        {"mask": _mask(rng), "go_backwards": True},
        {"recurrent_mask": (rng.random((B, U)) > 0.3) * 1.4},
        {"activation": "relu"} if kind != "lstm" else {"recurrent_activation": "hard_sigmoid"},
    ]


def _args(kind, rng, reset_after=True):
    gates = {"simple": 1, "lstm": 4, "gru": 3}[kind]
    x = rng.standard_normal((B, T, D))
    states = [rng.standard_normal((B, U)) * 0.5 for _ in range(2 if kind == "lstm" else 1)]
    kernel = rng.standard_normal((D, gates * U)) * 0.5
    recurrent = rng.standard_normal((U, gates * U)) * 0.5
    bias_shape = (2, gates * U) if kind == "gru" and reset_after else (gates * U,)
    bias = rng.standard_normal(bias_shape) * 0.3
    return [x, *states, kernel, recurrent, bias]


PRIMS = {"simple": simple_rnn, "lstm": lstm, "gru": gru}
CASES = [("simple", {}), ("lstm", {}), ("gru", {"reset_after": True}),
         ("gru", {"reset_after": False})]


@pytest.mark.parametrize("kind, extra", CASES)
@pytest.mark.parametrize("which", range(6))
def test_gradients_match_finite_differences(kind, extra, which):
    rng = np.random.default_rng(which)
    options = {**_options(kind, rng)[which], **extra}
    args = _args(kind, rng, extra.get("reset_after", True))
    assert check_grads(lambda *a: PRIMS[kind](*a, **options), *args)


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_gradients_without_bias(kind):
    rng = np.random.default_rng(7)
    args = _args(kind, rng)[:-1]
    assert check_grads(lambda *a: PRIMS[kind](*a, None), *args)


def test_every_recurrent_primitive_is_checked():
    assert set(RECURRENT_PRIMITIVES) == {"simple_rnn", "lstm", "gru"}


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def reference(kind, x, states, kernel, recurrent, bias, mask=None, go_backwards=False,
              reset_after=True):
    """Keras's cells step by step (plain NumPy), Keras's masking (carry state and output)."""
    steps = list(range(x.shape[1]))[::-1] if go_backwards else range(x.shape[1])
    states = [s.copy() for s in states]
    outs = []
    u = recurrent.shape[0]
    for t in steps:
        h = states[0]
        if kind == "simple":
            new = [np.tanh(x[:, t] @ kernel + h @ recurrent + bias)]
        elif kind == "lstm":
            z = x[:, t] @ kernel + h @ recurrent + bias
            i, f, g, o = (_sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]),
                          _sigmoid(z[:, 3 * u:]))
            c = f * states[1] + i * g
            new = [o * np.tanh(c), c]
        else:
            xb = x[:, t] @ kernel + (bias[0] if reset_after else bias)
            if reset_after:
                hu = h @ recurrent + bias[1]
                z, r = _sigmoid(xb[:, :u] + hu[:, :u]), _sigmoid(xb[:, u:2 * u] + hu[:, u:2 * u])
                hh = np.tanh(xb[:, 2 * u:] + r * hu[:, 2 * u:])
            else:
                hu = h @ recurrent[:, :2 * u]
                z, r = _sigmoid(xb[:, :u] + hu[:, :u]), _sigmoid(xb[:, u:2 * u] + hu[:, u:])
                hh = np.tanh(xb[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
            new = [z * h + (1 - z) * hh]
        if mask is not None:
            keep = mask[:, t:t + 1]
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
        states = new
        outs.append(states[0])
    return np.stack(outs, axis=1), states


@pytest.mark.parametrize("kind, extra", CASES)
@pytest.mark.parametrize("options", [{}, {"go_backwards": True}, {"masked": True},
                                     {"masked": True, "go_backwards": True}])
def test_forward_matches_the_per_step_reference(kind, extra, options, rng):
    args = _args(kind, rng, extra.get("reset_after", True))
    n_states = 2 if kind == "lstm" else 1
    mask = _mask(rng) if options.get("masked") else None
    go_backwards = options.get("go_backwards", False)
    out = PRIMS[kind](*args, mask=mask, go_backwards=go_backwards, **extra).data
    expected, states = reference(kind, args[0], args[1:1 + n_states], *args[1 + n_states:],
                                 mask=mask, go_backwards=go_backwards, **extra)
    np.testing.assert_allclose(out[:, :T], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out[:, T - 1], states[0], rtol=1e-12, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(out[:, T], states[1], rtol=1e-12, atol=1e-12)


def test_float32_in_float32_out_and_no_graph_under_no_grad(rng):
    args = [a.astype(np.float32) for a in _args("lstm", rng)]
    kernel = Tensor(args[3], requires_grad=True)
    out = lstm(args[0], args[1], args[2], kernel, args[4], args[5])
    assert out.dtype == np.float32 and out.requires_grad
    with no_grad():
        assert not lstm(args[0], args[1], args[2], kernel, args[4], args[5]).requires_grad


def test_first_layer_skips_the_input_gradient(rng):
    """Only the weights need gradients: the VJP must not compute one for x (selective)."""
    x, h0, kernel, recurrent, bias = _args("simple", rng)
    k = Tensor(kernel, requires_grad=True)
    out = simple_rnn(x, h0, k, recurrent, bias)
    out.backward(np.ones(out.shape))
    assert k.grad.shape == kernel.shape
