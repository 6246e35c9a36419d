"""Where the microseconds of one numkeras training step go (the lecture's model, batch 32).

Usage: ``python benchmarks/profile_step.py [--steps N] [--batch-size B] [--markdown] [--fast]``
(with ``PYTHONPATH=src`` or numkeras installed; ``--data DIR`` takes run.py's saved arrays,
``--synthetic N`` random ones, and the default is Fashion-MNIST; ``--cprofile`` adds cProfile's
top functions).

The step is taken apart through the public-ish entry points that ``train_step`` itself uses,
so the profile keeps working while the engine changes underneath:

- batch: gathering and casting the batch, as ``fit`` does;
- zero_grad: ``model._parameter_buffer().zero_grad()``;
- forward, per layer: ``layer(x, training=True)`` for each layer of the Sequential model;
- loss: ``model.compute_loss(x, y, y_pred)``;
- backward, per graph node: each node's VJP is wrapped with a timer before
  ``loss.backward()`` (``dense #1`` is the Dense node nearest the loss); what the walk costs
  beyond the VJPs (sorting the graph, adding gradients, handing them to the weights) is
  "engine";
- optimizer: ``model.optimizer.apply_buffer(buffer)`` (numba's compiled update with
  ``--fast``; without it numba is made unimportable, as in numkeras's default install);
- metrics: the loss tracker and the compiled metrics (``model._update_logs``).

Two reference figures come with it: ``model.train_step`` timed whole (the pieces' sum can
differ: timers cost a little, and a train_step that replays a recorded step skips work the
pieces redo), and ``model.fit`` per step, whose excess over ``train_step`` is the loop's own
cost (shuffling, batching, callbacks). Each figure is the median over ``--steps`` steps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BLOCK = 100  # steps per timed block of the whole-step figures


def load(args):
    if args.data:
        from _common import load_data

        x, y, _, _ = load_data(args.data)
        x.sum()  # touch the mapped pages once, as fit's first epoch does, so no page faults
        return x, y
    if args.synthetic:
        rng = np.random.default_rng(0)
        return (rng.random((args.synthetic, 28, 28), dtype=np.float32),
                rng.integers(0, 10, args.synthetic))
    from numkeras.datasets import fashion_mnist

    (x, y), _ = fashion_mnist.load_data(quiet=True)
    return (x / np.float32(255)).astype(np.float32), y.astype(np.int64)


def build_model(fast: bool = False):
    import numkeras as keras

    # The default install has no numba: its compiled kernels stay off unless asked for.
    set_kernels = getattr(keras.config, "set_compiled_kernels", None)
    if set_kernels is not None:
        set_kernels(fast)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def graph_nodes(root) -> list:
    """The nodes with a VJP reachable from ``root``, nearest the loss first."""
    nodes, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if getattr(node, "vjp", None) is not None:
            nodes.append(node)
        stack.extend(getattr(node, "parents", ()))
    return nodes


def time_vjps(root, sink: dict) -> None:
    """Wrap every VJP of the graph under ``root`` so that it adds its seconds to ``sink``."""
    nodes = graph_nodes(root)
    ops = [getattr(node, "op", None) or "node" for node in nodes]
    totals, counts = {op: ops.count(op) for op in ops}, defaultdict(int)
    for node, op in zip(nodes, ops):
        counts[op] += 1  # #1 is the node of that op nearest the loss
        label = f"backward: {op}" + (f" #{counts[op]}" if totals[op] > 1 else "")
        vjp = node.vjp

        def timed(g, *rest, _vjp=vjp, _label=label, **kwargs):
            start = time.perf_counter()
            out = _vjp(g, *rest, **kwargs)
            sink[_label] = sink.get(_label, 0.0) + time.perf_counter() - start
            return out

        try:
            node.vjp = timed
        except AttributeError:  # a node type that cannot be instrumented: engine time
            pass


def profile_pieces(model, x, y, steps: int, batch: int, rng) -> dict[str, list[float]]:
    """Seconds of each piece of the step, one entry per step."""
    samples: dict[str, list[float]] = defaultdict(list)
    buffer = model._parameter_buffer()
    clock = time.perf_counter
    for _ in range(steps):
        index = rng.integers(0, len(x), batch)
        t0 = clock()
        x_batch = x[index].astype(np.float32, copy=False)
        y_batch = y[index]
        t1 = clock()
        buffer.zero_grad()
        t2 = clock()
        samples["batch: gather and cast"].append(t1 - t0)
        samples["zero_grad"].append(t2 - t1)
        out = x_batch
        for layer in model.layers:
            start = clock()
            out = layer(out, training=True)
            samples[f"forward: {layer.name} ({type(layer).__name__})"].append(clock() - start)
        start = clock()
        loss = model.compute_loss(x_batch, y_batch, out)
        samples["loss"].append(clock() - start)
        vjp_seconds: dict[str, float] = {}
        time_vjps(loss, vjp_seconds)
        start = clock()
        loss.backward()
        total = clock() - start
        for label, seconds in vjp_seconds.items():
            samples[label].append(seconds)
        samples["backward: engine (graph walk, gradient sums)"].append(
            total - sum(vjp_seconds.values()))
        start = clock()
        model.optimizer.apply_buffer(buffer)
        samples["optimizer: apply_buffer"].append(clock() - start)
        start = clock()
        model._update_logs(y_batch, out, loss, None)
        samples["metrics: loss tracker and accuracy"].append(clock() - start)
    return samples


def per_step_blocks(fn, steps: int) -> float:
    """Median seconds per step over blocks of BLOCK steps (for fit, which runs whole epochs)."""
    blocks = []
    for _ in range(max(1, steps // BLOCK)):
        start = time.perf_counter()
        fn(BLOCK)
        blocks.append((time.perf_counter() - start) / BLOCK)
    return statistics.median(blocks)


def profile(x, y, steps: int, batch: int,
            fast: bool = False) -> tuple[list[tuple[str, float]], float, float]:
    """(piece, median µs) rows, train_step µs and fit µs per step."""
    model = build_model(fast)
    rng = np.random.default_rng(0)
    warm = min(len(x), 50 * batch)
    model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)  # build, compile

    def train_steps(count):
        seconds = []
        for _ in range(count):
            index = rng.integers(0, len(x), batch)
            x_batch, y_batch = x[index].astype(np.float32, copy=False), y[index]
            start = time.perf_counter()
            model.train_step(x_batch, y_batch)
            seconds.append(time.perf_counter() - start)
        return seconds

    span = min(len(x), BLOCK * batch)

    def fit_steps(count):
        start = int(rng.integers(0, len(x) - span + 1))
        model.fit(x[start:start + span], y[start:start + span], batch_size=batch, epochs=1,
                  verbose=0)

    train_steps(BLOCK // 4)  # warm the caches before the timed pieces
    samples = profile_pieces(model, x, y, steps, batch, rng)
    rows = [(label, statistics.median(values) * 1e6) for label, values in samples.items()]
    step_us = statistics.median(train_steps(steps)) * 1e6
    fit_us = per_step_blocks(fit_steps, steps) * 1e6 * BLOCK / max(1, span // batch)
    return rows, step_us, fit_us


def render(rows, step_us: float, fit_us: float, markdown: bool) -> str:
    total = sum(us for _, us in rows)
    lines = []
    if markdown:
        lines += ["| piece of the step | µs (median) | share of the pieces |", "|---|---|---|"]
        lines += [f"| {label} | {us:.1f} | {100 * us / total:.0f}% |" for label, us in rows]
        lines += [f"| **sum of the pieces** | **{total:.1f}** | 100% |",
                  f"| `model.train_step` timed whole | {step_us:.1f} | |",
                  (f"| `model.fit`, per step (adds shuffling, batching, callbacks) | "
                   f"{fit_us:.1f} | |")]
        top = sorted(rows, key=lambda row: -row[1])[:3]
        lines += ["", "Largest pieces: " + "; ".join(
            f"{label} ({us:.0f} µs, {100 * us / total:.0f}%)" for label, us in top) + "."]
    else:
        width = max(len(label) for label, _ in rows) + 2
        lines += [f"{'piece of the step':<{width}}{'µs':>10}{'share':>8}"]
        lines += [f"{label:<{width}}{us:>10.1f}{100 * us / total:>7.0f}%" for label, us in rows]
        lines += [f"{'sum of the pieces':<{width}}{total:>10.1f}",
                  f"{'model.train_step (whole)':<{width}}{step_us:>10.1f}",
                  f"{'model.fit per step':<{width}}{fit_us:>10.1f}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps timed per figure")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--data", help="directory of run.py's saved arrays")
    parser.add_argument("--synthetic", type=int, metavar="N", help="N random images instead")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--fast", action="store_true",
                        help="use the `fast` extra's compiled kernels (numba) if installed")
    parser.add_argument("--cprofile", action="store_true",
                        help="also print cProfile's top functions over the train_step calls")
    args = parser.parse_args()
    from _common import hide_fast_extra, numkeras_configuration

    if not args.fast:
        hide_fast_extra()  # the default install, even in a venv that has numba
    x, y = load(args)
    rows, step_us, fit_us = profile(x, y, args.steps, args.batch_size, args.fast)
    print(render(rows, step_us, fit_us, args.markdown))
    # Raises if the kernels were not what was asked for (e.g. --fast without numba).
    configuration = numkeras_configuration("numkeras-fast" if args.fast else "numkeras")
    print(("\n" if args.markdown else "") + "numkeras's compiled kernels: "
          + ("on (numba)" if configuration["compiled_kernels"] else
             "off (numba not importable)"))
    if args.cprofile:
        import cProfile
        import pstats

        model, rng = build_model(args.fast), np.random.default_rng(1)
        model.fit(x[:args.batch_size * 10], y[:args.batch_size * 10], verbose=0)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.steps):
            index = rng.integers(0, len(x), args.batch_size)
            model.train_step(x[index], y[index])
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
