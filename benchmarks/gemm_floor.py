"""The GEMM floor: how long the matrix products of training and prediction take on their own.

A training step of an MLP does three matrix products per Dense layer: ``x @ W`` forward, then
``x.T @ g`` (the kernel's gradient) and ``g @ W.T`` (the input's gradient; not for the first
layer, whose input is the data). Timing exactly those products for the step's shapes, in
float32 with preallocated outputs, gives the time no implementation of the same algorithm on
the same BLAS can beat; ``run.py`` states the batch-256 target relative to it. Prediction's
floor is the forward products alone at batch 10,000.

The CNN's convolutions count as im2col matrix products: a convolution with a kh x kw kernel
over C channels into F filters, on a batch of N images whose output is Ho x Wo, is the product
of the ``(N*Ho*Wo, kh*kw*C)`` matrix of receptive fields with the ``(kh*kw*C, F)`` kernel; its
backward pass is ``cols.T @ g`` (the kernel's gradient) and ``g @ kernel.T`` (the fields'
gradient, not for the first convolution, whose input is the data). Building the fields
(im2col), adding their gradients back (col2im), pooling, relu and dropout are not counted: the
floor is the arithmetic of the products alone. Its dense layers count as the MLPs' do.

The LSTM's step counts its input projection (all time steps in one product), the recurrent
product of each of the 28 steps (with its kernel and input gradients) and the Dense head; the
gate arithmetic is not counted.

The BLAS thread count is the process's: ``run.py`` runs this once with OPENBLAS_NUM_THREADS=1
and once with the library's default.
"""

from __future__ import annotations

import itertools

import numpy as np
from _common import (CLASSES, CNN, CNN_DENSE, CNN_FILTERS, CNN_KERNEL, CNN_POOL, IMAGE_SHAPE,
                     LSTM, LSTM_UNITS, MODELS, TRAINING, per_call_seconds)

INPUTS = 28 * 28


def _widths(model: str) -> list[int]:
    return [INPUTS, *MODELS[model], CLASSES]


def step_products(widths: list[int], batch: int, rng) -> list[tuple]:
    """``(a, b, out)`` for each matrix product of one training step, inputs random."""
    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    products = []
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        x, kernel, grad = rand(batch, fan_in), rand(fan_in, fan_out), rand(batch, fan_out)
        products.append((x, kernel, np.empty((batch, fan_out), np.float32)))     # forward
        products.append((x.T, grad, np.empty((fan_in, fan_out), np.float32)))    # dW
        if layer > 0:
            products.append((grad, kernel.T, np.empty((batch, fan_in), np.float32)))  # dx
    return products


def step_flops(widths: list[int], batch: int) -> int:
    pairs = list(itertools.pairwise(widths))
    return sum(2 * batch * a * b * (2 if layer == 0 else 3) for layer, (a, b) in enumerate(pairs))


def cnn_shapes(batch: int) -> list[tuple[int, int, int, bool]]:
    """``(rows, inner, cols, input gradient?)`` of each layer's forward product ``(rows, inner)
    @ (inner, cols)`` in the CNN's step: the convolutions as im2col products, then the dense
    layers (the first layer has no input gradient)."""
    shapes, channels, size = [], 1, IMAGE_SHAPE[0]
    for filters in CNN_FILTERS:
        out = size - CNN_KERNEL + 1
        shapes.append((batch * out * out, CNN_KERNEL * CNN_KERNEL * channels, filters,
                       bool(shapes)))
        channels, size = filters, out // CNN_POOL
    widths = [channels * size * size, CNN_DENSE, CLASSES]
    shapes += [(batch, a, b, True) for a, b in itertools.pairwise(widths)]
    return shapes


def cnn_step_products(batch: int, rng) -> list[tuple]:
    """``(a, b, out)`` for each matrix product of one training step of the CNN."""
    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    products = []
    for rows, inner, cols, input_grad in cnn_shapes(batch):
        x, kernel, grad = rand(rows, inner), rand(inner, cols), rand(rows, cols)
        products.append((x, kernel, np.empty((rows, cols), np.float32)))        # forward
        products.append((x.T, grad, np.empty((inner, cols), np.float32)))       # dW
        if input_grad:
            products.append((grad, kernel.T, np.empty((rows, inner), np.float32)))  # dx
    return products


def cnn_step_flops(batch: int) -> int:
    return sum(2 * rows * inner * cols * (3 if input_grad else 2)
               for rows, inner, cols, input_grad in cnn_shapes(batch))


def lstm_shapes(batch: int) -> list[tuple[int, int, int, bool, int]]:
    """``(rows, inner, cols, input gradient?, count)`` of the LSTM step's forward products:
    the input projection of all 28 steps at once, the recurrent product once per step, the
    Dense head; each has the same two or three products as a Dense layer."""
    steps, features = IMAGE_SHAPE
    gates = 4 * LSTM_UNITS
    return [(batch * steps, features, gates, False, 1),
            (batch, LSTM_UNITS, gates, True, steps),
            (batch, LSTM_UNITS, CLASSES, True, 1)]


def lstm_step_products(batch: int, rng) -> list[tuple]:
    """``(a, b, out)`` for each matrix product of one training step of the LSTM."""
    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    products = []
    for rows, inner, cols, input_grad, count in lstm_shapes(batch):
        x, kernel, grad = rand(rows, inner), rand(inner, cols), rand(rows, cols)
        for _ in range(count):
            products.append((x, kernel, np.empty((rows, cols), np.float32)))
            products.append((x.T, grad, np.empty((inner, cols), np.float32)))
            if input_grad:
                products.append((grad, kernel.T, np.empty((rows, inner), np.float32)))
    return products


def lstm_step_flops(batch: int) -> int:
    return sum(2 * rows * inner * cols * (3 if input_grad else 2) * count
               for rows, inner, cols, input_grad, count in lstm_shapes(batch))


def _run(products) -> None:
    for a, b, out in products:
        np.matmul(a, b, out=out)


def measure(n_train: int, n_test: int, budget_s: float = 1.0) -> dict:
    """Floor seconds per epoch of each training workload and bare predict throughput."""
    rng = np.random.default_rng(0)
    result = {"floor_s": {}, "gflop_per_epoch": {}, "gflops": {}}
    for name, (model, batch, _) in TRAINING.items():
        if model == CNN:
            products, flops = cnn_step_products(batch, rng), cnn_step_flops(batch)
        elif model == LSTM:
            products, flops = lstm_step_products(batch, rng), lstm_step_flops(batch)
        else:
            widths = _widths(model)
            products, flops = step_products(widths, batch, rng), step_flops(widths, batch)
        step_s = per_call_seconds(lambda p=products: _run(p), budget_s)
        steps = n_train / batch
        result["floor_s"][name] = step_s * steps
        result["gflop_per_epoch"][name] = flops * steps / 1e9
        result["gflops"][name] = flops / step_s / 1e9
        del products
    widths = _widths("lecture")
    batch = n_test
    forward = []
    a = rng.standard_normal((batch, widths[0]), dtype=np.float32)
    for fan_in, fan_out in itertools.pairwise(widths):
        out = np.empty((batch, fan_out), np.float32)
        forward.append((a, rng.standard_normal((fan_in, fan_out), dtype=np.float32), out))
        a = out
    result["predict_sps"] = batch / per_call_seconds(lambda: _run(forward), budget_s)
    return result
