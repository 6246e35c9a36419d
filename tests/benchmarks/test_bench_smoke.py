"""The benchmark suite must not rot: it runs end to end on tiny synthetic data (numkeras, with
its `fast` extra where numba is installed, and the NumPy loop; no peers; one quick round; every
workload, the CNN included), and the NumPy reference loop computes the same training step as
numkeras. Nothing here checks a timing."""

from __future__ import annotations

import importlib.util
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
               "--synthetic", "256", "--systems", "numkeras,numkeras-fast,numpy",
               "--output", str(output), "--json", str(raw)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(raw.read_text())["results"]
    failed = [(workload, system, run) for workload, by_system in results.items()
              if isinstance(by_system, dict)
              for system, runs in by_system.items() for run in runs if "error" in run]
    assert not failed
    fast = importlib.util.find_spec("numba") is not None
    # The CNN ran for numkeras (the NumPy loop has none), with the configuration each numkeras
    # system names: the default install never has the compiled kernels.
    assert set(results["cnn64"]) == {"numkeras", *(["numkeras-fast"] if fast else [])}
    assert [run["compiled_kernels"] for run in results["cnn64"]["numkeras"]] == [False]
    assert not any(run["numba_loaded"] for runs in (results[w]["numkeras"] for w in
                                                      ("lecture32", "cnn64", "infer"))
                   for run in runs)
    if fast:
        assert [run["compiled_kernels"] for run in results["cnn64"]["numkeras-fast"]] == [True]
    assert set(results["gemm"]["default"][0]["floor_s"]) == {"lecture32", "lecture256",
                                                             "deep32", "cnn64", "lstm64"}
    assert set(results["lstm64"]) == {"numkeras", *(["numkeras-fast"] if fast else [])}
    text = output.read_text()
    for heading in ("## Targets (issues 4 and 7)", "## Training: seconds per epoch",
                    "## The CNN (issue 7): seconds per epoch",
                    "## The LSTM (issue 13): seconds per epoch", "## Inference",
                    "## Import, memory, installed size", "## The GEMM floor",
                    "## Where one training step's time goes"):
        assert heading in text
    assert "| numkeras |" in text and "| hand-written NumPy loop |" in text
    assert "| cnn64: s per epoch |" in text  # the CNN's GEMM floor
    assert "Issue 7: the CNN" not in text  # no PyTorch in this run: its target is not judged
    assert "backward: engine" in text  # the step profile's table made it into the report
    assert "compiled kernels: off (numba not importable)" in text
    assert ("| numkeras[fast] |" in text) == fast
    assert done.stdout.strip().startswith("# Benchmarks")


def test_rewrite_keeps_the_hand_run_sections(tmp_path, monkeypatch):
    """run.py rewrites the report but keeps what bench_mpi.py and compare_step.py wrote at its
    end (measured by hand; a rerun of the suite cannot redo them), and only that."""
    monkeypatch.syspath_prepend(BENCHMARKS)
    import run

    report = tmp_path / "benchmarks.md"
    assert run.kept_sections(str(report)) == ""  # no report yet
    mpi = f"{run.bench_mpi.MARKER}\n\n## MPI\n\nmpi table\n\n"
    step = f"{run.compare_step.MARKER}\n\n## Before and after\n\nstep table\n"
    report.write_text(f"# Benchmarks\n\nold numbers\n\n{mpi}{step}")
    assert run.kept_sections(str(report)) == "\n" + mpi + step
    report.write_text(f"# Benchmarks\n\nold numbers\n\n{step}")  # no MPI section
    assert run.kept_sections(str(report)) == "\n" + step
    report.write_text("# Benchmarks\n\nold numbers\n")
    assert run.kept_sections(str(report)) == ""


def test_unknown_system_is_rejected():
    done = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "run.py"), "--systems",
                           "numkeras,mxnet", "--no-write"], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode != 0 and "mxnet" in done.stderr


def test_default_install_hides_numba():
    """The numkeras rows are the default install even in a venv that has numba."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import _common; "
            "_common.hide_fast_extra()\n"
            "try:\n    import numba\nexcept ModuleNotFoundError:\n    pass\n"
            "else:\n    raise SystemExit('numba imported')\n"
            "print(_common.numkeras_configuration('numkeras'))")
    done = subprocess.run([sys.executable, "-c", code, BENCHMARKS], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'compiled_kernels': False" in done.stdout


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


def test_gemm_floor_counts_the_cnn_products(numpy_loop):
    """The convolutions as im2col products (no input gradient for the first), then the dense
    layers: 985 MFLOP a step of 64 images, 924 GFLOP an epoch of 60,000."""
    import gemm_floor

    assert gemm_floor.cnn_shapes(64) == [(64 * 26 * 26, 9, 32, False),
                                         (64 * 11 * 11, 288, 64, True),
                                         (64, 1600, 128, True), (64, 128, 10, True)]
    products = gemm_floor.cnn_step_products(2, np.random.default_rng(0))
    assert [out.shape for _, _, out in products] == [
        (1352, 32), (9, 32), (242, 64), (288, 64), (242, 288), (2, 128), (1600, 128),
        (2, 1600), (2, 10), (128, 10), (2, 128)]
    assert gemm_floor.cnn_step_flops(64) * 60000 / 64 == 923_811_840_000


def test_the_cnn_is_the_same_network_everywhere(numpy_loop):
    """numkeras (and Keras, through the same code) and PyTorch build the CNN with the same
    225,034 parameters."""
    import numkeras
    import sys_keras

    assert sys_keras.build(numkeras, "cnn").count_params() == 225_034
    pytest.importorskip("torch")
    import sys_torch

    assert sum(p.numel() for p in sys_torch.build("cnn").parameters()) == 225_034


def test_gemm_floor_counts_the_lstm_products(numpy_loop):
    """The input projection of all 28 steps, 28 recurrent products (each with its kernel and
    input gradients) and the head: 808 MFLOP a step of 64 images."""
    import gemm_floor

    assert gemm_floor.lstm_shapes(64) == [(64 * 28, 28, 512, False, 1), (64, 128, 512, True, 28),
                                          (64, 128, 10, True, 1)]
    products = gemm_floor.lstm_step_products(2, np.random.default_rng(0))
    assert len(products) == 2 + 3 * 28 + 3
    assert gemm_floor.lstm_step_flops(64) == 807_895_040


def test_the_lstm_is_the_same_network_everywhere(numpy_loop):
    """LSTM(128) over 28 rows of 28 pixels, then Dense(10): 81,674 parameters in Keras's
    layout; PyTorch's nn.LSTM keeps two bias vectors (512 more, the same function)."""
    import numkeras
    import sys_keras

    assert sys_keras.build(numkeras, "lstm").count_params() == 81_674
    pytest.importorskip("torch")
    import sys_torch

    assert sum(p.numel() for p in sys_torch.build("lstm").parameters()) == 81_674 + 512
