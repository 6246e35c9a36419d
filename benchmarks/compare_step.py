"""Has a change slowed the lecture's training step? Time two numkeras trees, interleaved.

Usage::

    git worktree add /tmp/base <commit>        # the tree to compare against
    python benchmarks/compare_step.py /tmp/base/src src [--rounds 5] [--steps 300] \
        [--write docs/benchmarks.md --label "functional graph (issue 11)"]

Each round runs one short process per tree (alternating which goes first), and each process
times ``model.train_step`` and ``model.predict_step`` on the lecture's model (Flatten 28x28 ->
Dense 128 relu -> Dense 10 softmax, Adam, batch 32) on random data after a warm-up, and
``model.fit`` over ``--steps`` batches of float64 data (the loop's own cost included), reporting
the median CPU microseconds per step (process time: waiting for a busy machine's cores is left
out) (one BLAS thread unless ``--threads``). Interleaving keeps
a busy machine's load from favouring one side. The result is the ratio of the medians over
rounds (new / base). ``--write`` puts the table in a section at the end of the report, which
run.py keeps when it rewrites the rest.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

MARKER = "<!-- Written by benchmarks/compare_step.py; run.py keeps this section. -->"

_WORKER = r"""
import json, statistics, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import numkeras as keras
from numkeras.utils import set_random_seed
set_random_seed(0)
steps = int(sys.argv[2])
model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                          keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
rng = np.random.default_rng(0)
x = rng.random((32, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, 32).astype(np.uint8)
model.train_on_batch(x, y)

# CPU time of this process, not wall time: on a shared machine, time spent waiting for a core
# is not the step's cost (BLAS runs on one thread here, so CPU time is the step's time).
clock = time.process_time

def timed(step):
    times = []
    for _ in range(steps):
        start = clock()
        step()
        times.append(clock() - start)
    return statistics.median(times) * 1e6

train = timed(lambda: model.train_step(x, y))
predict = timed(lambda: model.predict_step(x))
# The whole loop too: fit's per-step cost (batching, shuffling, callbacks, the step), from
# float64 data as the lecture passes it (x_train / 255.0), over `steps` batches per epoch.
xs = rng.random((steps * 32, 28, 28))
ys = rng.integers(0, 10, steps * 32).astype(np.uint8)
epochs = []
for _ in range(5):
    start = clock()
    model.fit(xs, ys, batch_size=32, epochs=1, verbose=0)
    epochs.append(clock() - start)
fit = statistics.median(epochs) / steps * 1e6
print(json.dumps({"train_step_us": train, "predict_step_us": predict, "fit_step_us": fit}))
"""


def run(src: str, steps: int, threads: int) -> dict:
    # One BLAS thread by default: the step's Python overhead is what a change can add, and
    # spinning BLAS threads on a loaded machine would drown it in noise.
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", _WORKER, src, str(steps)], check=True,
                         capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="src directory of the tree to compare against")
    parser.add_argument("new", help="src directory of the changed tree")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--write", metavar="REPORT", help="add the table to this report")
    parser.add_argument("--label", default="Change", help="what the new tree changes")
    args = parser.parse_args()
    results = {"base": [], "new": []}
    for round_index in range(args.rounds):
        order = ("base", "new") if round_index % 2 == 0 else ("new", "base")
        for side in order:
            results[side].append(run(getattr(args, side), args.steps, args.threads))
    table = ["| figure | base (us) | new (us) | new / base |", "|---|---:|---:|---:|"]
    for key in ("train_step_us", "predict_step_us", "fit_step_us"):
        base = statistics.median(r[key] for r in results["base"])
        new = statistics.median(r[key] for r in results["new"])
        table.append(f"| {key[:-3]} | {base:.1f} | {new:.1f} | {new / base:.3f} |")
    print("\n".join(table))
    if args.write:
        write_section(args, table)


def write_section(args, table: list[str]) -> None:
    """Replace (or add) the section after MARKER at the end of the report."""
    with open(args.write, encoding="utf-8") as file:
        text = file.read()
    at = text.find(MARKER)
    head = (text if at < 0 else text[:at]).rstrip("\n") + "\n\n"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    section = [MARKER, "", "## The lecture's step before and after a change", "",
               f"{args.label}: `python benchmarks/compare_step.py {args.base} {args.new} "
               f"--rounds {args.rounds} --steps {args.steps}`, {when}, {platform.machine()}, "
               f"{os.cpu_count()} CPUs, load {load} at the end; {args.threads} BLAS "
               f"thread(s); medians of per-step medians over the rounds.", "", *table, ""]
    tmp = f"{args.write}.tmp"
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(head + "\n".join(section))
    os.replace(tmp, args.write)


if __name__ == "__main__":
    main()
