"""Time one optimizer step over the flat buffer of a 784-128-10 MLP (101,770 float32 params).

Run: ``PYTHONPATH=src python3 benchmarks/bench_optimizers.py [--repeats N]``

Each optimizer's ``apply_buffer`` is timed (median of many runs, µs per step) next to one
``np.add`` over the same buffer, so ``step / pass`` shows how many memory passes a step costs.
One ``np.sqrt`` pass is listed too: it costs several ``add`` passes on many CPUs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from numkeras import optimizers
from numkeras.backprop import ParameterBuffer, Variable

SHAPES = [(784, 128), (128,), (128, 10), (10,)]  # 101,770 parameters

CASES = [
    ("SGD", lambda: optimizers.SGD()),
    ("SGD momentum=0.9", lambda: optimizers.SGD(momentum=0.9)),
    ("SGD nesterov", lambda: optimizers.SGD(momentum=0.9, nesterov=True)),
    ("Adam", lambda: optimizers.Adam()),
    ("Adam amsgrad", lambda: optimizers.Adam(amsgrad=True)),
    ("AdamW", lambda: optimizers.AdamW()),
    ("Adam clipnorm=1", lambda: optimizers.Adam(clipnorm=1.0)),
    ("Adam global_clipnorm=1", lambda: optimizers.Adam(global_clipnorm=1.0)),
    ("RMSprop", lambda: optimizers.RMSprop()),
    ("RMSprop centered+mom", lambda: optimizers.RMSprop(momentum=0.9, centered=True)),
    ("Adagrad", lambda: optimizers.Adagrad()),
    ("Adadelta", lambda: optimizers.Adadelta()),
    ("Adamax", lambda: optimizers.Adamax()),
    ("Nadam", lambda: optimizers.Nadam()),
]


def median_us(fn, repeats: int, inner: int = 20) -> float:
    fn()  # warm up (and build the optimizer)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples) * 1e6


def make_buffer(rng) -> ParameterBuffer:
    variables = [Variable(rng.normal(0, 0.05, s).astype(np.float32)) for s in SHAPES]
    buffer = ParameterBuffer(variables)
    buffer.grad[:] = rng.normal(0, 1e-3, buffer.size).astype(np.float32)
    return buffer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    buffer = make_buffer(rng)
    a, b = buffer.grad, buffer.data.copy()
    out = np.empty_like(a)
    one_pass = median_us(lambda: np.add(a, b, out=out), args.repeats)
    sqrt_pass = median_us(lambda: np.sqrt(np.abs(b, out=out), out=out), args.repeats) - \
        median_us(lambda: np.abs(b, out=out), args.repeats)
    print(f"{buffer.size:,} float32 parameters; median of {args.repeats} x 20 steps\n")
    print(f"{'case':<26}{'µs/step':>10}{'step/pass':>11}")
    print(f"{'one np.add pass':<26}{one_pass:>10.1f}{1:>11.1f}")
    print(f"{'one np.sqrt pass':<26}{sqrt_pass:>10.1f}{sqrt_pass / one_pass:>11.1f}")
    for label, make in CASES:
        buffer = make_buffer(rng)
        optimizer = make()
        us = median_us(lambda opt=optimizer, buf=buffer: opt.apply_buffer(buf), args.repeats)
        print(f"{label:<26}{us:>10.1f}{us / one_pass:>11.1f}")


if __name__ == "__main__":
    main()
