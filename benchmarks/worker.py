"""Run one workload of one system in this process and print its figures (for run.py).

Usage: ``python benchmarks/worker.py SYSTEM WORKLOAD --data DIR [--epochs N] [--budget S]``

SYSTEM: numkeras, numkeras-fast, keras-tensorflow, keras-jax, torch, torch-1thread, numpy
(the hand-written loop) or gemm (the GEMM floor). WORKLOAD: a training workload of
``_common.TRAINING`` (``lecture32``, ``lecture256``, ``deep32``, ``cnn64``), ``infer`` (predict
throughput and one-sample latencies), or, for gemm, ``floor``. The result is one JSON line after
``_common.RESULT_MARKER``; a training run also reports the process's peak RSS. ``numkeras`` is
the default install (numba made unimportable first); both numkeras systems record and check
whether the compiled kernels ran (``_common.numkeras_configuration``).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (TRAINING, emit, hide_fast_extra, load_data, numkeras_configuration,
                     peak_rss_mb)

SYSTEMS = ("numkeras", "numkeras-fast", "keras-tensorflow", "keras-jax", "torch",
           "torch-1thread", "numpy", "gemm")


def run(system: str, workload: str, data_dir: str, epochs: int | None, budget_s: float) -> dict:
    if system == "gemm":
        import gemm_floor

        _, y_train, x_test, _ = load_data(data_dir)
        return gemm_floor.measure(len(y_train), len(x_test), budget_s)
    if system == "numkeras":
        hide_fast_extra()  # the default install, even in a venv that has numba
    # PyTorch needs writable arrays: it gets private copies; the others map the shared files.
    data = load_data(data_dir, mmap=not system.startswith("torch"))
    if system.startswith("torch"):
        import sys_torch as module

        module.set_threads(1 if system == "torch-1thread" else None)
    elif system == "numpy":
        import sys_numpy as module
    else:
        import functools

        import sys_keras

        module = argparse.Namespace(train=functools.partial(sys_keras.train, system),
                                    infer=functools.partial(sys_keras.infer, system))
    if workload == "infer":
        result = module.infer(data, "lecture", budget_s)
    else:
        model, batch, default_epochs = TRAINING[workload]
        result = module.train(data, model, batch, epochs or default_epochs)
        result["peak_rss_mb"] = peak_rss_mb()
    if system.startswith("numkeras"):
        result.update(numkeras_configuration(system))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=SYSTEMS)
    parser.add_argument("workload", choices=[*TRAINING, "infer", "floor"])
    parser.add_argument("--data", required=True, help="directory of _common.save_data's files")
    parser.add_argument("--epochs", type=int, help="epochs of a training run")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="seconds of timing per inference figure")
    args = parser.parse_args()
    emit(run(args.system, args.workload, args.data, args.epochs, args.budget))


if __name__ == "__main__":
    main()
