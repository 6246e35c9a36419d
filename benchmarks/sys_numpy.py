"""The hand-written NumPy loop (numpy_loop.py) through the same measurements as the others.

It has the MLPs only: the CNN (``cnn64``) has no hand-written NumPy counterpart (run.py does
not ask for it).
"""

from __future__ import annotations

import time

import numpy as np
from _common import MODELS, PREDICT_BATCHES, SEED, per_call_seconds
from numpy_loop import NumpyMLP


def train(data, model_name: str, batch_size: int, epochs: int) -> dict:
    if model_name not in MODELS:
        raise ValueError(f"the NumPy loop has the MLPs only, not {model_name!r}")
    x, y, x_test, y_test = data
    model, rng, times = NumpyMLP(MODELS[model_name], seed=SEED), np.random.default_rng(SEED), []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit_epoch(x, y, batch_size, rng)
        times.append(time.perf_counter() - start)
    return {"epoch_s": times, "test_acc": model.accuracy(x_test, y_test)}


def infer(data, model_name: str, budget_s: float) -> dict:
    x_test = data[2]
    one = x_test[:1]
    model = NumpyMLP(MODELS[model_name], seed=SEED)
    result = {}
    for batch in PREDICT_BATCHES:
        seconds = per_call_seconds(lambda b=batch: model.predict(x_test, b), budget_s)
        result[f"predict{batch}_sps"] = len(x_test) / seconds
    result["call_us"] = per_call_seconds(lambda: model.predict(one, 1), budget_s) * 1e6
    return result
