"""What a GradientMonitor costs: one epoch of the lecture's model with and without it.

Run: ``PYTHONPATH=src python3 benchmarks/bench_gradient_monitor.py [--repeats N] [--every N]``

The model is the lecture's Flatten(28, 28) -> Dense(128, relu) -> Dense(10, softmax) with adam
and batch 32, for one epoch over Fashion-MNIST's 60,000 training images (synthetic images of
the same shape when the data set is not on this machine). Runs alternate (plain, monitored,
monitored, plain, ...), each from the same seed, so that a machine getting busier or quieter
during the benchmark weighs on both sides alike; the ratio of the median epoch times is the
cost. With ``--activation-stats`` a third variant adds ``dead_relu=True`` and a 256-image probe.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from numkeras import callbacks, config, layers
from numkeras.models import Sequential


def load_images(samples: int) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        from numkeras.datasets import fashion_mnist

        (x, y), _ = fashion_mnist.load_data(quiet=True)
        source = "Fashion-MNIST"
    except Exception:  # noqa: BLE001 -- no data set here: the same shapes, random pixels
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (samples, 28, 28), dtype=np.uint8), rng.integers(0, 10,
                                                                                     samples)
        source = "synthetic images"
    return (x[:samples] / np.float32(255)).astype(np.float32), y[:samples], source


def lecture_model() -> Sequential:
    model = Sequential([layers.Flatten(input_shape=(28, 28)),
                        layers.Dense(128, activation="relu"),
                        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def epoch_seconds(x, y, monitor) -> float:
    config.set_random_seed(0)
    model = lecture_model()
    started = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0,
              callbacks=[] if monitor is None else [monitor])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="epochs per variant (3)")
    parser.add_argument("--every", type=int, default=50, help="the monitor's `every` (50)")
    parser.add_argument("--samples", type=int, default=60000, help="training images (60000)")
    parser.add_argument("--activation-stats", action="store_true",
                        help="also time dead_relu=True with a 256-image probe")
    args = parser.parse_args()
    x, y, source = load_images(args.samples)
    variants = {"plain": lambda: None,
                f"GradientMonitor(every={args.every})":
                    lambda: callbacks.GradientMonitor(every=args.every)}
    if args.activation_stats:
        variants[f"GradientMonitor(every={args.every}, dead_relu, probe 256)"] = \
            lambda: callbacks.GradientMonitor(every=args.every, dead_relu=True, probe=x[:256])
    print(f"Lecture MLP, one epoch of {len(x):,} {source}, batch 32, adam; "
          f"{args.repeats} alternating run(s) per variant.")
    epoch_seconds(x[:2048], y[:2048], None)  # warm up caches and BLAS
    times = {name: [] for name in variants}
    for repeat in range(args.repeats):
        order = list(variants) if repeat % 2 == 0 else list(variants)[::-1]
        for name in order:
            times[name].append(epoch_seconds(x, y, variants[name]()))
    base = statistics.median(times["plain"])
    for name, seconds in times.items():
        median = statistics.median(seconds)
        runs = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"{name:<48} median {median:6.2f} s  ratio {median / base:6.3f}  ({runs})")


if __name__ == "__main__":
    main()
