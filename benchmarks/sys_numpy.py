"""The hand-written NumPy loop (numpy_loop.py) through the same measurements as the others."""

from __future__ import annotations

import time

import numpy as np
from _common import PREDICT_BATCHES, SEED, per_call_seconds
from numpy_loop import NumpyMLP


def train(data, hidden, batch_size: int, epochs: int) -> dict:
    x, y, x_test, y_test = data
    model, rng, times = NumpyMLP(hidden, seed=SEED), np.random.default_rng(SEED), []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit_epoch(x, y, batch_size, rng)
        times.append(time.perf_counter() - start)
    return {"epoch_s": times, "test_acc": model.accuracy(x_test, y_test)}


def infer(data, hidden, budget_s: float) -> dict:
    x_test = data[2]
    one = x_test[:1]
    model = NumpyMLP(hidden, seed=SEED)
    result = {}
    for batch in PREDICT_BATCHES:
        seconds = per_call_seconds(lambda b=batch: model.predict(x_test, b), budget_s)
        result[f"predict{batch}_sps"] = len(x_test) / seconds
    result["call_us"] = per_call_seconds(lambda: model.predict(one, 1), budget_s) * 1e6
    return result
