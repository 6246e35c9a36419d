"""Turn run.py's raw results into the Markdown report (deterministic text: same layout each run).

Medians are over rounds, ranges are min-max over rounds, and every ratio is numkeras's time
over the other system's time within one round (for throughputs: time per sample), median over
rounds; below 1, numkeras is faster.
"""

from __future__ import annotations

import statistics

from _common import TRAINING, epoch_seconds

NAMES = {
    "numkeras": "numkeras",
    "numkeras-fast": "numkeras + `fast` extra (numba)",
    "keras-tensorflow": "Keras 3 + TensorFlow",
    "keras-jax": "Keras 3 + JAX (jit)",
    "torch": "PyTorch (eager)",
    "torch-1thread": "PyTorch (eager, 1 thread)",
    "numpy": "hand-written NumPy loop",
}
PEERS = ("keras-tensorflow", "keras-jax", "torch", "torch-1thread")
FLOOR = "GEMM floor (matrix products only)"


# ----- numbers -----
def num(x) -> str:
    """A figure with about three significant digits; a dash when missing."""
    if x is None:
        return "—"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cell(values, fmt=num) -> str:
    """``median (min–max)`` over rounds, or just the value when there is one."""
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    low, high = min(values), max(values)
    text = fmt(statistics.median(values))
    return text if len(values) == 1 or fmt(low) == fmt(high) else \
        f"{text} ({fmt(low)}–{fmt(high)})"


def ratio(ours, theirs) -> float | None:
    """Median over rounds of ours / theirs, pairing the same round's runs."""
    pairs = [a / b for a, b in zip(ours, theirs) if a is not None and b]
    return statistics.median(pairs) if pairs else None


def ratio_text(value) -> str:
    return "—" if value is None else f"{value:.2f}×"


# ----- reading the results -----
def per_round(results: dict, workload: str, system: str, key) -> list:
    """One figure per round (None where the run failed); ``key`` picks it from a result."""
    out = []
    for result in (results.get(workload) or {}).get(system, []):
        try:
            out.append(None if "error" in result else key(result))
        except (KeyError, TypeError, ValueError):
            out.append(None)
    return out


def epoch_time(result: dict) -> float:
    return epoch_seconds(result["epoch_s"])


def floors(results: dict, name: str) -> list:
    """Per round, the faster of the 1-thread and default-thread GEMM floors of ``name``."""
    gemm = results.get("gemm") or {}
    one = per_round(results, "gemm", "1 thread", lambda r: r["floor_s"][name]) \
        if "1 thread" in gemm else []
    default = per_round(results, "gemm", "default", lambda r: r["floor_s"][name]) \
        if "default" in gemm else []
    rounds = max(len(one), len(default))
    one, default = one + [None] * (rounds - len(one)), default + [None] * (rounds - len(default))
    return [min((v for v in pair if v is not None), default=None) for pair in zip(one, default)]


def bare_predict(results: dict) -> list:
    """Per round, the faster of the bare-matmul predict throughputs (samples/s)."""
    pairs = zip(per_round(results, "gemm", "1 thread", lambda r: r["predict_sps"]),
                per_round(results, "gemm", "default", lambda r: r["predict_sps"]))
    return [max((v for v in pair if v is not None), default=None) for pair in pairs]


def brief(result: dict) -> str:
    """One line of progress for a finished run."""
    if "error" in result:
        return "FAILED " + result["error"][:200]
    if "epoch_s" in result:
        return (f"{epoch_time(result):.3f} s/epoch, test acc {result['test_acc']:.4f}, "
                f"peak RSS {result['peak_rss_mb']:.0f} MB")
    if "floor_s" in result:
        return ", ".join(f"{k} {v:.3f} s/epoch" for k, v in result["floor_s"].items()) + \
            f", predict {result['predict_sps']:,.0f} samples/s"
    if "import_s" in result:
        return f"import {median(result['import_s']):.3f} s, " \
               f"with the API {median(result['import_api_s']):.3f} s"
    return ", ".join(f"{k} {num(v)}" for k, v in result.items())


# ----- the report -----
def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def training_table(meta, results) -> str:
    systems = meta["systems"]
    header = ["system"]
    for name in TRAINING:
        header += [f"{name} s/epoch", "nk ÷ this"]
    header += ["test acc (b32)", "test acc (b256)"]
    rows = []
    for system in systems:
        row = [NAMES[system]]
        for name in TRAINING:
            ours = per_round(results, name, "numkeras", epoch_time)
            theirs = per_round(results, name, system, epoch_time)
            row += [cell(theirs),
                    "" if system == "numkeras" else ratio_text(ratio(ours, theirs))]
        for name in ("lecture32", "lecture256"):
            row.append(cell(per_round(results, name, system, lambda r: r["test_acc"]),
                            lambda v: f"{v:.3f}"))
        rows.append(row)
    if results.get("gemm"):
        row = [FLOOR]
        for name in TRAINING:
            ours = per_round(results, name, "numkeras", epoch_time)
            row += [cell(floors(results, name)), ratio_text(ratio(ours, floors(results, name)))]
        rows.append(row + ["", ""])
    return table(header, rows)


def step_costs(meta, results) -> str:
    """Batch 32's epoch time as microseconds per step: the per-step cost that decides it."""
    n = meta.get("n_train")
    if not n or not results.get("lecture32"):
        return ""
    steps = -(-n // 32)
    figures = [(NAMES[s], median(per_round(results, "lecture32", s, epoch_time)))
               for s in meta["systems"]]
    if results.get("gemm"):
        figures.append(("the GEMM floor", median(floors(results, "lecture32"))))
    text = "; ".join(f"{name} {1e6 * seconds / steps:,.0f}" for name, seconds in figures
                     if seconds is not None)
    return f"Per step of the lecture's model at batch 32 ({steps:,} steps an epoch), µs: {text}."


def inference_table(meta, results) -> str:
    header = ["system", "predict b10000 samples/s", "nk ÷ this", "predict b32 samples/s",
              "nk ÷ this", "`model(x)` 1 sample µs", "nk ÷ this", "`predict` 1 sample µs",
              "nk ÷ this"]
    rows = []
    for system in meta["systems"]:
        row = [NAMES[system]]
        for key in ("predict10000_sps", "predict32_sps"):
            theirs = per_round(results, "infer", system, lambda r, k=key: r[k])
            ours = per_round(results, "infer", "numkeras", lambda r, k=key: r[k])
            # Time per sample: numkeras's over theirs is their throughput over ours.
            row += [cell(theirs), "" if system == "numkeras" else
                    ratio_text(ratio(theirs, ours))]
        for key in ("call_us", "predict1_us"):
            theirs = per_round(results, "infer", system, lambda r, k=key: r.get(k))
            ours = per_round(results, "infer", "numkeras", lambda r, k=key: r.get(k))
            row += [cell(theirs), "" if system == "numkeras" or not any(theirs) else
                    ratio_text(ratio(ours, theirs))]
        rows.append(row)
    if results.get("gemm"):
        bare = bare_predict(results)
        ours = per_round(results, "infer", "numkeras", lambda r: r["predict10000_sps"])
        rows.append(["bare matrix products", cell(bare), ratio_text(ratio(bare, ours)),
                     "", "", "", "", "", ""])
    return table(header, rows)


def footprint_table(meta, results) -> str:
    header = ["system", "import s (package)", "import s (+ the lecture's API)",
              "peak RSS MB (lecture b32 run)", "installed MB"]
    rows = []
    for system in meta["systems"]:
        imports = [v for r in per_round(results, "import", system, lambda r: r["import_s"])
                   if r for v in r]
        full = [v for r in per_round(results, "import", system, lambda r: r["import_api_s"])
                if r for v in r]
        rss = per_round(results, "lecture32", system, lambda r: r["peak_rss_mb"])
        rows.append([NAMES[system], cell(imports), cell(full), cell(rss),
                     num(meta.get("installed_mb", {}).get(system))])
    return table(header, rows)


def gemm_table(results) -> str:
    header = ["GEMM floor", "1 BLAS thread", "default threads", "GFLOP per epoch",
              "GFLOP/s (faster setting)"]
    rows = []
    for name in TRAINING:
        one = per_round(results, "gemm", "1 thread", lambda r, n=name: r["floor_s"][n])
        default = per_round(results, "gemm", "default", lambda r, n=name: r["floor_s"][n])
        flop = per_round(results, "gemm", "default",
                         lambda r, n=name: r["gflop_per_epoch"][n])
        best = [f / s if f and s else None for f, s in zip(flop, floors(results, name))]
        rows.append([f"{name}: s per epoch", cell(one), cell(default), num(median(flop)),
                     cell(best)])
    rows.append(["predict b10000: samples/s",
                 cell(per_round(results, "gemm", "1 thread", lambda r: r["predict_sps"])),
                 cell(per_round(results, "gemm", "default", lambda r: r["predict_sps"])),
                 "", ""])
    return table(header, rows)


def targets(meta, results) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/MISS) for each of the issue's targets numkeras was run for."""
    out = []

    def verdict(ok):
        return "—" if ok is None else ("PASS" if ok else "MISS")

    if "numkeras" not in meta["systems"]:
        return out
    ours = per_round(results, "lecture32", "numkeras", epoch_time)
    peers = [p for p in PEERS if p in meta["systems"] and
             median(per_round(results, "lecture32", p, epoch_time)) is not None]
    if results.get("lecture32") and peers and median(ours) is not None:
        fastest = min(peers, key=lambda p: median(per_round(results, "lecture32", p,
                                                            epoch_time)))
        value = ratio(ours, per_round(results, "lecture32", fastest, epoch_time))
        out.append(("Lecture's model, batch 32: epoch time ≤ 0.75× the fastest peer's",
                    f"{value:.2f}× {NAMES[fastest]}", verdict(value <= 0.75)))
        fast = ratio(per_round(results, "lecture32", "numkeras-fast", epoch_time),
                     per_round(results, "lecture32", fastest, epoch_time))
        if fast is not None:
            out.append(("— the same with the `fast` extra (not the default install)",
                        f"{fast:.2f}× {NAMES[fastest]}", verdict(fast <= 0.75)))
    keras_acc = median([a for p in ("keras-tensorflow", "keras-jax") if p in meta["systems"]
                        for a in per_round(results, "lecture32", p, lambda r: r["test_acc"])])
    our_acc = median(per_round(results, "lecture32", "numkeras", lambda r: r["test_acc"]))
    if keras_acc is not None and our_acc is not None:
        gap = 100 * (our_acc - keras_acc)
        out.append(("Test accuracy after the run within 1 point of Keras's",
                    f"{our_acc:.3f} vs {keras_acc:.3f} ({gap:+.1f} points)",
                    verdict(abs(gap) <= 1.0)))
    ours256 = per_round(results, "lecture256", "numkeras", epoch_time)
    value = ratio(ours256, floors(results, "lecture256"))
    if value is not None:
        out.append(("Batch 256: epoch time ≤ 1.5× the GEMM floor",
                    f"{value:.2f}× the floor", verdict(value <= 1.5)))
    ours_sps = per_round(results, "infer", "numkeras", lambda r: r["predict10000_sps"])
    value = ratio(ours_sps, bare_predict(results))
    if value is not None:
        out.append(("`predict` at batch 10,000 ≥ 0.9× the bare matrix products' throughput",
                    f"{value:.2f}×", verdict(value >= 0.9)))
    for key, label, limit in (("call_us", "One-sample `model(x)` latency < 50 µs", 50),
                              ("predict1_us", "`predict` on one sample < 200 µs", 200)):
        value = median(per_round(results, "infer", "numkeras", lambda r, k=key: r[k]))
        if value is not None:
            out.append((label, f"{num(value)} µs", verdict(value < limit)))
    full = [v for r in per_round(results, "import", "numkeras", lambda r: r["import_api_s"])
            if r for v in r]
    bare = [v for r in per_round(results, "import", "numkeras", lambda r: r["import_s"])
            if r for v in r]
    if full:
        out.append(("`import numkeras` < 0.15 s (judged with the lecture's API loaded)",
                    f"{median(full):.3f} s (bare `import numkeras`: {median(bare):.3f} s)",
                    verdict(median(full) < 0.15)))
    rss = median(per_round(results, "lecture32", "numkeras", lambda r: r["peak_rss_mb"]))
    if rss is not None:
        out.append(("Peak RSS of the 5-epoch run < 330 MB", f"{rss:.0f} MB",
                    verdict(rss < 330)))
    size = meta.get("installed_mb", {}).get("numkeras")
    if size is not None:
        out.append(("Installed size with required dependencies < 100 MB", f"{size:.1f} MB",
                    verdict(size < 100)))
    return out


def failures(results) -> list[str]:
    lines = []
    for workload, by_system in results.items():
        if not isinstance(by_system, dict):
            continue
        for system, runs in by_system.items():
            for index, result in enumerate(runs):
                if "error" in result:
                    lines.append(f"- {workload}, {system}, round {index + 1}: {result['error']}")
    return lines


def machine_lines(meta) -> list[str]:
    m = meta["machine"]
    memory = f"{m['memory_gib']:.0f} GiB RAM" if m.get("memory_gib") else "RAM unknown"
    load = meta.get("load_during")
    peers = [f"Keras {m['keras']}" if m.get("keras") else None,
             f"TensorFlow {m['tensorflow']}" if m.get("tensorflow") else None,
             f"JAX {m['jax']} (jaxlib {m['jaxlib']})" if m.get("jax") else None,
             f"PyTorch {m['torch']}" if m.get("torch") else None]
    threads = meta.get("torch_threads")
    lines = [
        f"- Command: `{meta['command']}`",
        f"- Date: {meta['date']}",
        f"- numkeras: commit {m['numkeras_commit']}",
        f"- Machine: {m['cpu']}, {m['cpus']} logical CPUs, {memory}; {m['os']}",
        f"- Python {m['python']}; NumPy {m['numpy']} with BLAS {m['blas']}",
        "- Peers: " + (", ".join(p for p in peers if p) or "none installed")
        + (f"; PyTorch's default `torch.get_num_threads()` = {threads}" if threads else ""),
        f"- Rounds: {meta['rounds']}; epochs per training run: "
        + (str(meta["epochs"]) if meta.get("epochs") else
           ", ".join(f"{n} {e}" for n, (_, _, e) in TRAINING.items()))
        + (" (quick run)" if meta.get("quick") else ""),
        "- Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{v:.2f}" for v in meta["load_start"]) + "; at the end: "
        + ", ".join(f"{v:.2f}" for v in meta["load_end"])
        + (f"; 1-minute load before each run: median {load[0]:.2f}, max {load[1]:.2f}"
           if load else ""),
    ]
    if meta.get("synthetic"):
        lines.append(f"- Data: synthetic, {meta['synthetic']} random training images")
    if meta.get("skipped"):
        lines.append("- Not installed, skipped: " + ", ".join(meta["skipped"]))
    return lines


def markdown(meta, results) -> str:
    threads = [r.get("torch_threads") for runs in (results.get("infer") or {}).get("torch", [])
               for r in [runs] if "error" not in r]
    meta = dict(meta, torch_threads=threads[0] if threads else None)
    parts = [
        "# Benchmarks",
        "",
        "<!-- Written by benchmarks/run.py: rerun it rather than editing this file. -->",
        "",
        ("numkeras against its peers on the CPU (issue 4), all on the same machine in the same "
         "run. Each system runs each workload in a process of its own; the systems take turns "
         "in every round (in an order rotated from round to round) so that the drift of a "
         "shared machine hits them alike. Figures are medians over rounds with the range in "
         "brackets. **nk ÷ this** is numkeras's time divided by that system's time in the same "
         "round, median over rounds: below 1, numkeras is faster (for throughputs it compares "
         "time per sample)."),
        "",
        "## This run",
        "",
        *machine_lines(meta),
        "",
        "## Targets (issue 4)",
        "",
    ]
    rows = [list(t) for t in targets(meta, results)]
    parts.append(table(["target", "measured", "result"], rows) if rows else
                 "numkeras was not measured in this run.")
    if rows:
        parts += ["", ("The peers are Keras 3 on TensorFlow, Keras 3 on JAX and PyTorch (either "
                       "thread setting); the hand-written NumPy loop is a reference, not a peer. "
                       "Ratios pair runs of the same round; the GEMM-floor targets use that "
                       "round's faster thread setting.")]
    sections = [
        ("lecture32" in results or "lecture256" in results or "deep32" in results,
         "Training: seconds per epoch",
         ("Fashion-MNIST (60,000 training images, float32 in [0, 1]), Adam, sparse categorical "
          "crossentropy, accuracy tracked as in the lecture. *lecture* is Flatten → Dense(128, "
          "relu) → Dense(10, softmax); *deep* has ten hidden Dense(64, relu). The figure of a "
          "run is its median epoch leaving out the first (compilation, warm-up). Test accuracy "
          "is on the 10,000 test images after the run. The GEMM floor row times only the "
          "matrix products of those steps (see below)."),
         lambda: "\n\n".join(p for p in (training_table(meta, results),
                                          step_costs(meta, results)) if p)),
        ("infer" in results, "Inference",
         ("The lecture's model. `predict` on the 10,000 test images at batch 10,000 and at "
          "batch 32; one sample (shape (1, 28, 28)) through `model(x)` and through "
          "`model.predict(x)`. PyTorch and the NumPy loop have no `predict`: their `model(x)` "
          "is the module (under `no_grad`) or the forward function, softmax included."),
         lambda: inference_table(meta, results)),
        ("import" in results or "lecture32" in results, "Import, memory, installed size",
         ("Import: fresh interpreters with warm bytecode caches, the package alone and then "
          "with the names the lecture's code uses (numkeras loads its submodules lazily, so "
          "the first number alone would flatter it). Peak RSS: the whole process of the "
          "lecture-model batch-32 run (data mapped from a shared file; PyTorch reads a private "
          "copy). Installed size: the files of the distributions and of all their required "
          "dependencies (numkeras: numkeras, NumPy, h5py, and numba with llvmlite for the "
          "`fast` extra; Keras: keras and its dependencies plus TensorFlow or JAX and "
          "jaxlib)."),
         lambda: footprint_table(meta, results)),
        ("gemm" in results and results.get("gemm"), "The GEMM floor",
         ("The matrix products of one training step alone (x @ W forward; x.T @ g and g @ W.T "
          "backward, no input gradient for the first layer), float32 into preallocated "
          "outputs, times the steps in an epoch; and the two forward products at batch "
          "10,000 for `predict`. No implementation of the same algorithm on this BLAS can go "
          "below it. The targets use the faster of the two thread settings."),
         lambda: gemm_table(results)),
    ]
    for present, title, intro, body in sections:
        if present:
            parts += ["", f"## {title}", "", intro, "", body()]
    if results.get("profile"):
        parts += ["", "## Where one training step's time goes (numkeras, batch 32)", "",
                  ("From `benchmarks/profile_step.py` on the lecture's model, in this run, "
                   "with the default install (no numba)."), "",
                  results["profile"]]
    failed = failures(results)
    if failed:
        parts += ["", "## Runs that failed", "", *failed]
    parts += ["", "## How to rerun", "",
              ("`scripts/bench.sh` builds `.venv-bench` with numkeras and the peers of "
               "`benchmarks/requirements-peers.txt` and runs `benchmarks/run.py`, which rewrites "
               "this file. `--quick` gives a one-round look; `--systems` and `--workloads` "
               "select parts; `--numkeras-src` measures another checkout; `--wait-load 0.5` "
               "waits for a quiet machine first. The machine is shared and noisy: compare "
               "ratios from the same run, not absolute times across runs."), ""]
    return "\n".join(parts)
