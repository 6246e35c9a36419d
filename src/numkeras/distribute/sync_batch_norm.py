"""Batch normalization with the statistics of the *global* batch (SyncBatchNorm).

``BatchNormalization(synchronized=True)`` under a data-parallel ``fit``: each process holds a
shard of the global batch; the mean and variance are those of the whole global batch (one
all-reduce of per-feature sums in the forward pass), and the backward pass all-reduces the two
per-feature sums of the closed-form VJP, so the gradients equal those of one process
normalizing the whole batch.

Gradient weighting: the training step scales each process's parameter gradient by its share
``weight = n_local / n_global`` of the global batch before summing them. The VJP here receives
this process's *unscaled* cotangent, so it sums the weighted cotangents of all processes and
divides by this process's weight, which makes the later scaling exact.

Not in ``ops.PRIMITIVES`` (it needs a communicator); its float64 gradient check with a
one-process reducer is in tests/distribute/test_sync_batch_norm.py.
"""

from __future__ import annotations

import numpy as np

from numkeras.backprop.tensor import wrap_primitive


def _no_reduce(array) -> None:
    """One process: the local sums are the global sums."""


def _sync_batch_norm(x, gamma=None, beta=None, *, axis=-1, epsilon=1e-3, moments_out=None,
                     reduce=_no_reduce, weight=1.0):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` with ``mean`` and the biased ``var``
    of the global batch. ``reduce(array)`` sums a float64 array over the processes in place;
    ``weight`` is this process's share of the global batch (0: a stand-in sample that
    contributes nothing)."""
    axis = axis % x.ndim
    axes = tuple(a for a in range(x.ndim) if a != axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    present = 1.0 if weight > 0 else 0.0
    # (sum, sum of squares, count) per feature in float64, one all-reduce for all three.
    sums = np.empty((3, x.shape[axis]))
    x64 = x.astype(np.float64)
    np.sum(x64, axis=axes, out=sums[0])
    np.sum(np.square(x64), axis=axes, out=sums[1])
    sums[2] = x.size / x.shape[axis]
    sums *= present
    reduce(sums)
    count = sums[2, 0]
    mean64 = sums[0] / count
    mean = mean64.astype(x.dtype).reshape(shape)
    var = np.maximum(sums[1] / count - np.square(mean64), 0.0).astype(x.dtype).reshape(shape)
    inv_std = 1.0 / np.sqrt(var + np.asarray(epsilon, var.dtype))
    normed = (x - mean) * inv_std
    out = normed if gamma is None else normed * gamma.reshape(shape)
    if beta is not None:
        out = out + beta.reshape(shape)
    if moments_out is not None:
        moments_out.extend([mean.reshape(-1), var.reshape(-1)])

    def vjp(g, needs):
        g_normed = g if gamma is None else g * gamma.reshape(shape)
        gx = None
        if needs[0]:
            totals = np.stack([np.sum(g_normed, axis=axes, dtype=np.float64),
                               np.sum(g_normed * normed, axis=axes, dtype=np.float64)])
            totals *= weight
            reduce(totals)
            if weight > 0:
                mean_g = (totals[0] / (count * weight)).astype(x.dtype).reshape(shape)
                mean_gn = (totals[1] / (count * weight)).astype(x.dtype).reshape(shape)
                gx = (g_normed - mean_g - normed * mean_gn) * inv_std
            else:
                gx = np.zeros_like(x)
        g_gamma = np.sum(g * normed, axis=axes) if len(needs) > 1 and needs[1] else None
        g_beta = np.sum(g, axis=axes) if len(needs) > 2 and needs[2] else None
        return gx, g_gamma, g_beta

    return out, vjp


sync_batch_norm = wrap_primitive(_sync_batch_norm, "sync_batch_norm", selective=True)
