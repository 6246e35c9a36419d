"""Time forward + backward of a small CNN's conv/pool stack, per batch of 64 MNIST-sized images.

Run: ``PYTHONPATH=src python3 benchmarks/bench_conv.py [--repeats N] [--profile]``

The stack is the feature extractor of the course CNN: Conv2D(32, 3x3, relu) -> MaxPooling2D ->
Conv2D(64, 3x3, relu) -> MaxPooling2D on (64, 28, 28, 1) float32 inputs. One step is the
forward pass plus ``backward`` of the output (the first convolution skips its input gradient,
as in training). The whole network (-> Flatten -> Dense(128, relu) -> Dropout -> Dense(10)) is
timed too. If PyTorch is installed the same stacks run in torch (CPU, its default threads),
in blocks taking turns with ours so both see the same machine load, and the ratio is printed.
Medians and minima are in milliseconds per step; on a shared machine trust the minima.

``--keep-freed-memory`` tells glibc's allocator to keep freed memory instead of returning it
to the OS after each step. Without it every step re-faults tens of megabytes of fresh pages
(one fault per 4 KiB page), which measured a third of numkeras's step on a 2-core VM; PyTorch
avoids the same cost with its own caching allocator. Set ``OPENBLAS_NUM_THREADS`` (and torch's
threads follow it) to compare at a given thread count.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import time

import numpy as np

from numkeras.backprop import Tensor
from numkeras.layers.convolutional import Conv2D
from numkeras.layers.core import Dense, Dropout, Flatten
from numkeras.layers.pooling import MaxPooling2D

BATCH, HEIGHT, WIDTH, CHANNELS = 64, 28, 28, 1
WARMUP = 5


def numkeras_stacks(rng):
    features = [Conv2D(32, 3, activation="relu"), MaxPooling2D(),
                Conv2D(64, 3, activation="relu"), MaxPooling2D()]
    head = [Flatten(), Dense(128, activation="relu"), Dropout(0.5), Dense(10)]
    images = rng.standard_normal((BATCH, HEIGHT, WIDTH, CHANNELS)).astype(np.float32)

    def run(layers):
        def step():
            x = Tensor(images)
            for layer in layers:
                x = layer(x, training=True)
            x.backward(np.ones(x.shape, dtype=x.dtype))
            for w in (w for layer in layers for w in layer.weights):
                w.grad = None
        return step

    return run(features), run(features + head)


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory mapped (no trimming, no per-array mmap)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's mallopt parameter numbers
    return bool(libc.mallopt(m_trim_threshold, 1 << 30)
                and libc.mallopt(m_mmap_threshold, 1 << 28))


def torch_stacks():
    try:
        import torch
    except ImportError:
        return None
    if os.environ.get("OPENBLAS_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
    nn = torch.nn
    features = nn.Sequential(nn.Conv2d(CHANNELS, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2))
    whole = nn.Sequential(*features, nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
                          nn.Dropout(0.5), nn.Linear(128, 10)).train()
    images = torch.randn(BATCH, CHANNELS, HEIGHT, WIDTH)

    def run(model):
        def step():
            model.zero_grad(set_to_none=True)
            out = model(images)
            out.backward(torch.ones_like(out))
        return step

    return run(features), run(whole), torch.get_num_threads()


def time_steps(steps: dict, repeats: int, rounds: int = 5) -> dict:
    """Run each step in blocks, the blocks of all steps taking turns, so that machine load
    hits each step alike. The first call of a block is not timed: the threads of the library
    that ran before may still be spinning (OpenBLAS and OpenMP busy-wait after their work)."""
    for step in steps.values():
        for _ in range(WARMUP):
            step()
    times = {name: [] for name in steps}
    per_block = max(1, repeats // rounds)
    for _ in range(rounds):
        for name, step in steps.items():
            step()
            for _ in range(per_block):
                start = time.perf_counter()
                step()
                times[name].append((time.perf_counter() - start) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--profile", action="store_true",
                        help="print where numkeras's conv/pool step spends its time")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="glibc mallopt: keep freed memory mapped between steps")
    args = parser.parse_args()
    if args.keep_freed_memory:
        print(f"keep freed memory: {keep_freed_memory()}")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")

    ours_features, ours_whole = numkeras_stacks(np.random.default_rng(0))
    steps = {"numkeras conv/pool": ours_features, "numkeras whole net": ours_whole}
    torch = torch_stacks()
    if torch is not None:
        steps["torch conv/pool"], steps["torch whole net"], threads = torch
        print(f"torch threads: {threads}")
    times = time_steps(steps, args.repeats)
    print(f"batch {BATCH} of {HEIGHT}x{WIDTH}x{CHANNELS}, forward + backward, ms per step")
    for name, values in times.items():
        print(f"  {name:22s} median {statistics.median(values):7.2f}   min {min(values):7.2f}")
    if torch is not None:
        for part in ("conv/pool", "whole net"):
            ours, theirs = times[f"numkeras {part}"], times[f"torch {part}"]
            print(f"  ratio numkeras/torch {part:10s} median "
                  f"{statistics.median(ours) / statistics.median(theirs):5.2f}x   "
                  f"min {min(ours) / min(theirs):5.2f}x")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeats):
            ours_features()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
