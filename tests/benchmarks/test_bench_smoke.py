"""The benchmark suite must not rot: it runs end to end on tiny synthetic data (numkeras and the
NumPy loop only, no peers, one quick round), and the NumPy reference loop computes the same
training step as numkeras. Nothing here checks a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCHMARKS = os.path.join(ROOT, "benchmarks")


def test_quick_run_writes_every_table(tmp_path):
    output, raw = tmp_path / "benchmarks.md", tmp_path / "raw.json"
    command = [sys.executable, os.path.join(BENCHMARKS, "run.py"), "--quick",
               "--synthetic", "256", "--systems", "numkeras,numpy", "--output", str(output),
               "--json", str(raw)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(raw.read_text())["results"]
    failed = [(workload, system, run) for workload, by_system in results.items()
              if isinstance(by_system, dict)
              for system, runs in by_system.items() for run in runs if "error" in run]
    assert not failed
    text = output.read_text()
    for heading in ("## Targets (issue 4)", "## Training: seconds per epoch", "## Inference",
                    "## Import, memory, installed size", "## The GEMM floor",
                    "## Where one training step's time goes"):
        assert heading in text
    assert "| numkeras |" in text and "| hand-written NumPy loop |" in text
    assert "backward: engine" in text  # the step profile's table made it into the report
    assert done.stdout.strip().startswith("# Benchmarks")


def test_unknown_system_is_rejected():
    done = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "run.py"), "--systems",
                           "numkeras,mxnet", "--no-write"], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode != 0 and "mxnet" in done.stderr


@pytest.fixture
def numpy_loop(monkeypatch):
    monkeypatch.syspath_prepend(BENCHMARKS)
    import numpy_loop

    return numpy_loop


def test_numpy_loop_trains_like_numkeras(numpy_loop):
    """Same weights, same batches: three Adam steps agree to float32 rounding, so the
    benchmark's baseline computes the very model and optimizer it is compared with."""
    import numkeras as keras

    reference = numpy_loop.NumpyMLP(hidden=(16,), seed=3)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.set_weights([w.copy() for pair in zip(reference.kernels, reference.biases)
                       for w in pair])
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.random((8, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 8)
        model.train_on_batch(x, y)
        buffers = reference._buffers_for(len(y))
        buffers.x[...] = x.reshape(len(x), -1)
        reference.train_step(buffers.x, y, buffers)
    expected = [w for pair in zip(reference.kernels, reference.biases) for w in pair]
    for ours, theirs in zip(model.get_weights(), expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_gemm_floor_counts_the_step_products(numpy_loop):
    """Two products per layer plus an input gradient for every layer but the first."""
    import gemm_floor

    widths = [784, 128, 10]
    products = gemm_floor.step_products(widths, 4, np.random.default_rng(0))
    assert [out.shape for _, _, out in products] == [(4, 128), (784, 128), (4, 10), (128, 10),
                                                    (4, 128)]
    assert gemm_floor.step_flops(widths, 32) * 60000 / 32 == 24_545_280_000
