"""What every benchmark worker shares: the workloads' definitions, the data, timing, reporting.

The workers (``worker.py`` and the modules it dispatches to) run in their own processes, one
system and one workload each, and hand their figures to ``run.py`` as one JSON line on stdout.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

# The MLPs: hidden layer widths between Flatten(28, 28) and Dense(10, softmax).
MODELS = {
    "lecture": (128,),    # the lecture's Flatten -> Dense(128, relu) -> Dense(10, softmax)
    "deep": (64,) * 10,   # a deep narrow MLP: ten hidden Dense(64, relu)
}
# The course's CNN (issue 7) on (28, 28, 1) images, channels_last: Conv2D(32, 3x3, relu) ->
# MaxPooling2D(2) -> Conv2D(64, 3x3, relu) -> MaxPooling2D(2) -> Flatten -> Dense(128, relu) ->
# Dropout(0.5) -> Dense(10, softmax); "valid" padding, so 28 -> 26 -> 13 -> 11 -> 5.
CNN = "cnn"
CNN_FILTERS = (32, 64)
CNN_KERNEL = 3
CNN_POOL = 2
CNN_DENSE = 128
CNN_DROPOUT = 0.5
# The LSTM (issue 13): each image read as 28 time steps of 28 pixels by LSTM(128), then
# Dense(10, softmax).
LSTM = "lstm"
LSTM_UNITS = 128
# Training workloads: name -> (model, batch size, epochs of a full run).
TRAINING = {
    "lecture32": ("lecture", 32, 5),
    "lecture256": ("lecture", 256, 5),
    "deep32": ("deep", 32, 3),
    "cnn64": (CNN, 64, 3),
    "lstm64": (LSTM, 64, 3),
}
IMAGE_SHAPE = (28, 28)
CLASSES = 10
PREDICT_BATCHES = (10_000, 32)
RESULT_MARKER = "BENCH-RESULT "  # a worker's one line for run.py; other output is ignored
SEED = 0


# numkeras's optional `fast` extra: numba (with llvmlite), for the compiled optimizer update.
FAST_EXTRA = ("numba", "llvmlite")


class _HideModules(importlib.abc.MetaPathFinder):
    """An import finder for which some top-level packages do not exist."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the benchmark: "
                                      "numkeras's default install has no numba)", name=name)
        return None


def hide_fast_extra() -> None:
    """Make this process numkeras's default install: numba cannot be imported, even where the
    venv has it for the ``numkeras-fast`` runs. Call it before importing numkeras."""
    if any(name in sys.modules for name in FAST_EXTRA):
        raise RuntimeError("numba is already imported: too late to hide the fast extra")
    sys.meta_path.insert(0, _HideModules(FAST_EXTRA))


def numkeras_configuration(system: str) -> dict:
    """What this process's numkeras ran with, checked against what ``system`` means.

    ``numba_loaded``: numba was imported (by the first optimizer step of a ``fast`` run), read
    before ``compiled_kernels``, whether numkeras's compiled kernels can run (which imports
    numba when they can). A mismatch raises: a numkeras row must be the configuration it names.
    """
    from numkeras.backprop import kernels

    loaded = "numba" in sys.modules
    result = {"numba_loaded": loaded, "compiled_kernels": bool(kernels.available())}
    wanted = system == "numkeras-fast"
    if result["compiled_kernels"] != wanted:
        raise RuntimeError(f"{system} ran with compiled kernels "
                           f"{'on' if result['compiled_kernels'] else 'off'}")
    return result


def save_data(directory: str, x_train, y_train, x_test, y_test) -> None:
    """Write the arrays every system trains on: images float32 in [0, 1], labels int64."""
    os.makedirs(directory, exist_ok=True)
    for name, array, dtype in (("x_train", x_train, np.float32), ("y_train", y_train, np.int64),
                               ("x_test", x_test, np.float32), ("y_test", y_test, np.int64)):
        np.save(os.path.join(directory, f"{name}.npy"), np.ascontiguousarray(array, dtype=dtype))


def load_data(directory: str, mmap: bool = True):
    """``(x_train, y_train, x_test, y_test)`` from ``save_data``'s files.

    With ``mmap`` the images stay in the page cache, shared by all the workers, and only the
    pages a process touches count towards its memory; ``mmap=False`` reads private copies (for
    frameworks that need writable arrays).
    """
    mode = "r" if mmap else None
    arrays = [np.load(os.path.join(directory, f"{name}.npy"), mmap_mode=mode)
              for name in ("x_train", "y_train", "x_test", "y_test")]
    # Plain ndarray views of the maps: some frameworks special-case the np.memmap subclass.
    return tuple(np.asarray(a) for a in arrays)


def epoch_seconds(times: list[float]) -> float:
    """The figure of one training run: the median epoch, leaving out the first (warm-up,
    compilation, first-touch page faults); a one-epoch run has only that one."""
    return statistics.median(times[1:] if len(times) > 1 else times)


def per_call_seconds(fn, budget_s: float = 1.0, blocks: int = 10, warmup: int = 2) -> float:
    """Median seconds per call of ``fn`` over ``blocks`` timed blocks of equal length.

    Fast calls run many times per block so the clock's resolution and the loop do not count;
    slow ones run at least three times whatever the budget.
    """
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    blocks = max(3, min(blocks, int(budget_s / once)))
    inner = max(1, int(budget_s / blocks / once))
    samples = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result: dict) -> None:
    """Hand the result to run.py: one marked JSON line, after whatever the framework printed."""
    print(RESULT_MARKER + json.dumps(result), flush=True)
