"""Turn run.py's raw results into the Markdown report (deterministic text: same layout each run).

Medians are over rounds, ranges are min-max over rounds, and every ratio is numkeras's time
over the other system's time within one round (for throughputs: time per sample), median over
rounds; below 1, numkeras is faster. "numkeras" is the default install (no numba);
"numkeras[fast]" has the optional ``fast`` extra, and the ratios of both are shown.
"""

from __future__ import annotations

import statistics

from _common import CNN, LSTM, TRAINING, epoch_seconds

NAMES = {
    "numkeras": "numkeras",
    "numkeras-fast": "numkeras[fast]",
    "keras-tensorflow": "Keras 3 + TensorFlow",
    "keras-jax": "Keras 3 + JAX (jit)",
    "torch": "PyTorch (eager)",
    "torch-1thread": "PyTorch (eager, 1 thread)",
    "numpy": "hand-written NumPy loop",
}
PEERS = ("keras-tensorflow", "keras-jax", "torch", "torch-1thread")
TORCH = ("torch", "torch-1thread")
FLOOR = "GEMM floor (matrix products only)"
# The default install, then the fast extra: the two numkeras rows every ratio is shown for.
OURS = ("numkeras", "numkeras-fast")
MLPS = [name for name, (model, _, _) in TRAINING.items() if model not in (CNN, LSTM)]
CNNS = [name for name, (model, _, _) in TRAINING.items() if model == CNN]
RNNS = [name for name, (model, _, _) in TRAINING.items() if model == LSTM]


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
    kernels = "" if "compiled_kernels" not in result else \
        f", compiled kernels {'on' if result['compiled_kernels'] else 'off'}"
    if "epoch_s" in result:
        return (f"{epoch_time(result):.3f} s/epoch, test acc {result['test_acc']:.4f}, "
                f"peak RSS {result['peak_rss_mb']:.0f} MB{kernels}")
    if "floor_s" in result:
        return ", ".join(f"{k} {v:.3f} s/epoch" for k, v in result["floor_s"].items()) + \
            f", predict {result['predict_sps']:,.0f} samples/s"
    if "import_s" in result:
        return f"import {median(result['import_s']):.3f} s, " \
               f"with the API {median(result['import_api_s']):.3f} s"
    return ", ".join(f"{k} {num(v)}" for k, v in result.items()
                     if not isinstance(v, bool)) + kernels


# ----- the report -----
def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ours_in(meta) -> list[str]:
    """The numkeras rows of this run: the default install, and the fast extra if measured."""
    return [s for s in OURS if s in meta["systems"]]


def ratio_cells(meta, results, workload: str, theirs: list) -> list[str]:
    """For each numkeras row, its time over ``theirs`` (one figure per round)."""
    return [ratio_text(ratio(per_round(results, workload, ours, epoch_time), theirs))
            for ours in ours_in(meta)]


def ratio_headers(meta) -> list[str]:
    return ["nk ÷ this" if ours == "numkeras" else "nk[fast] ÷ this" for ours in ours_in(meta)]


def training_table(meta, results, workloads: list[str], accuracies: list[str],
                   extra=None) -> str:
    """Seconds per epoch of ``workloads`` for every system that ran them, each numkeras row's
    ratio to it, the test accuracy after ``accuracies``; ``extra`` (header, function of the
    system) adds a column."""
    systems = [s for s in meta["systems"]
               if any(per_round(results, w, s, epoch_time) for w in workloads)]
    header = ["system"]
    for name in workloads:
        header += [f"{name} s/epoch", *ratio_headers(meta)]
    header += [f"test acc ({name})" for name in accuracies]
    if extra:
        header.append(extra[0])
    rows = []
    for system in systems:
        row = [NAMES[system]]
        for name in workloads:
            theirs = per_round(results, name, system, epoch_time)
            row += [cell(theirs), *("" if ours == system else text for ours, text in
                                    zip(ours_in(meta),
                                        ratio_cells(meta, results, name, theirs)))]
        for name in accuracies:
            row.append(cell(per_round(results, name, system, lambda r: r["test_acc"]),
                            lambda v: f"{v:.3f}"))
        rows.append(row + ([extra[1](system)] if extra else []))
    if results.get("gemm"):
        row = [FLOOR]
        for name in workloads:
            row += [cell(floors(results, name)),
                    *ratio_cells(meta, results, name, floors(results, name))]
        rows.append(row + [""] * (len(accuracies) + bool(extra)))
    return table(header, rows)


def cnn_text(meta, results, names=None) -> str:
    """The CNN's (or ``names``') table and a line of milliseconds per step."""
    n = meta.get("n_train")
    parts = []
    for name in CNNS if names is None else names:
        if not results.get(name):
            continue
        batch = TRAINING[name][1]

        def rss(system, name=name):
            return cell(per_round(results, name, system, lambda r: r["peak_rss_mb"]))

        parts.append(training_table(meta, results, [name], [name], ("peak RSS MB", rss)))
        if n:
            steps = -(-n // batch)
            figures = [(NAMES[s], median(per_round(results, name, s, epoch_time)))
                       for s in meta["systems"]]
            if results.get("gemm"):
                figures.append(("the GEMM floor", median(floors(results, name))))
            parts.append(f"Per step of {name} ({steps:,} steps an epoch), ms: " + "; ".join(
                f"{label} {1e3 * seconds / steps:.1f}" for label, seconds in figures
                if seconds is not None) + ".")
    return "\n\n".join(parts)


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
    ratios = ratio_headers(meta)
    header = ["system"]
    for label in ("predict b10000 samples/s", "predict b32 samples/s",
                  "`model(x)` 1 sample µs", "`predict` 1 sample µs"):
        header += [label, *ratios]
    rows = []
    for system in meta["systems"]:
        row = [NAMES[system]]
        for key in ("predict10000_sps", "predict32_sps", "call_us", "predict1_us"):
            theirs = per_round(results, "infer", system, lambda r, k=key: r.get(k))
            row.append(cell(theirs))
            for ours_system in ours_in(meta):
                ours = per_round(results, "infer", ours_system, lambda r, k=key: r.get(k))
                # Time per sample: numkeras's over theirs is their throughput over ours.
                value = ratio(theirs, ours) if key.endswith("_sps") else ratio(ours, theirs)
                row.append("" if system == ours_system or not any(theirs) else
                           ratio_text(value))
        rows.append(row)
    if results.get("gemm"):
        bare = bare_predict(results)
        row = ["bare matrix products", cell(bare)]
        for ours_system in ours_in(meta):
            ours = per_round(results, "infer", ours_system, lambda r: r["predict10000_sps"])
            row.append(ratio_text(ratio(bare, ours)))
        rows.append(row + [""] * (len(header) - len(row)))
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


def _verdict(ok) -> str:
    return "—" if ok is None else ("PASS" if ok else "MISS")


def _faster(results, workload: str, systems) -> str | None:
    """Of ``systems``, the one with the lowest median epoch time on ``workload``."""
    timed = [(median(per_round(results, workload, s, epoch_time)), s) for s in systems]
    timed = [(t, s) for t, s in timed if t is not None]
    return min(timed)[1] if timed else None


def targets_of(meta, results, ours: str) -> dict[str, tuple[str, str]]:
    """{target: (measured, PASS/MISS)} for the numkeras row ``ours``, for each target of
    issues 4 and 7 that this run measured."""
    out = {}
    systems = meta["systems"]
    times = per_round(results, "lecture32", ours, epoch_time)
    fastest = _faster(results, "lecture32", [p for p in PEERS if p in systems])
    value = ratio(times, per_round(results, "lecture32", fastest, epoch_time)) \
        if fastest else None
    if value is not None:
        out["Lecture's model, batch 32: epoch time ≤ 0.75× the fastest peer's"] = (
            f"{value:.2f}× {NAMES[fastest]}", _verdict(value <= 0.75))
    keras_acc = median([a for p in ("keras-tensorflow", "keras-jax") if p in systems
                        for a in per_round(results, "lecture32", p, lambda r: r["test_acc"])])
    our_acc = median(per_round(results, "lecture32", ours, lambda r: r["test_acc"]))
    if keras_acc is not None and our_acc is not None:
        gap = 100 * (our_acc - keras_acc)
        out["Test accuracy after the run within 1 point of Keras's"] = (
            f"{our_acc:.3f} vs {keras_acc:.3f} ({gap:+.1f} points)", _verdict(abs(gap) <= 1.0))
    value = ratio(per_round(results, "lecture256", ours, epoch_time),
                  floors(results, "lecture256"))
    if value is not None:
        out["Batch 256: epoch time ≤ 1.5× the GEMM floor"] = (
            f"{value:.2f}× the floor", _verdict(value <= 1.5))
    ours_sps = per_round(results, "infer", ours, lambda r: r["predict10000_sps"])
    value = ratio(ours_sps, bare_predict(results))
    if value is not None:
        out["`predict` at batch 10,000 ≥ 0.9× the bare matrix products' throughput"] = (
            f"{value:.2f}×", _verdict(value >= 0.9))
    for key, label, limit in (("call_us", "One-sample `model(x)` latency < 50 µs", 50),
                              ("predict1_us", "`predict` on one sample < 200 µs", 200)):
        value = median(per_round(results, "infer", ours, lambda r, k=key: r[k]))
        if value is not None:
            out[label] = (f"{num(value)} µs", _verdict(value < limit))
    full = [v for r in per_round(results, "import", ours, lambda r: r["import_api_s"])
            if r for v in r]
    bare = [v for r in per_round(results, "import", ours, lambda r: r["import_s"]) if r
            for v in r]
    if full:
        out["`import numkeras` < 0.15 s (judged with the lecture's API loaded)"] = (
            f"{median(full):.3f} s (bare `import numkeras`: {median(bare):.3f} s)",
            _verdict(median(full) < 0.15))
    rss = median(per_round(results, "lecture32", ours, lambda r: r["peak_rss_mb"]))
    if rss is not None:
        out["Peak RSS of the 5-epoch run < 330 MB"] = (f"{rss:.0f} MB", _verdict(rss < 330))
    size = meta.get("installed_mb", {}).get(ours)
    if size is not None:
        out["Installed size with required dependencies < 100 MB"] = (
            f"{size:.1f} MB", _verdict(size < 100))
    torch = _faster(results, "cnn64", [p for p in TORCH if p in systems])
    times = per_round(results, "cnn64", ours, epoch_time)
    value = ratio(times, per_round(results, "cnn64", torch, epoch_time)) if torch else None
    if value is not None:
        out["Issue 7: the CNN (cnn64), epoch time ≤ 1.0× PyTorch's (its faster setting)"] = (
            f"{value:.2f}× {NAMES[torch]}", _verdict(value <= 1.0))
    eager = _faster(results, "lstm64", [p for p in TORCH if p in systems])
    times = per_round(results, "lstm64", ours, epoch_time)
    value = ratio(times, per_round(results, "lstm64", eager, epoch_time)) if eager else None
    if value is not None:
        out["Issue 13: the LSTM (lstm64), epoch time ≤ 1.0× the fastest eager peer's"] = (
            f"{value:.2f}× {NAMES[eager]}", _verdict(value <= 1.0))
    return out


def targets_table(meta, results) -> str | None:
    """The targets with the default install's figures (what the issues judge) and, when it was
    measured, the fast extra's beside them; None if numkeras was not measured."""
    columns = {ours: targets_of(meta, results, ours) for ours in ours_in(meta)}
    if not columns.get("numkeras"):
        return None
    header = ["target", "numkeras (default install)", "result"]
    if columns.get("numkeras-fast"):
        header += ["numkeras[fast]", "result"]
    rows = []
    for target, measured in columns["numkeras"].items():
        row = [target, *measured]
        if len(header) > 3:
            row += list(columns["numkeras-fast"].get(target, ("—", "")))
        rows.append(row)
    return table(header, rows)


def configuration_line(meta, results) -> str | None:
    """What every numkeras run recorded about the compiled kernels, checked per system."""
    parts = []
    for ours in ours_in(meta):
        runs = [r for by_system in results.values() if isinstance(by_system, dict)
                for r in by_system.get(ours, []) if "compiled_kernels" in r]
        if not runs:
            continue
        kernels = {r["compiled_kernels"] for r in runs}
        loaded = sum(bool(r.get("numba_loaded")) for r in runs)
        state = ("on" if kernels == {True} else "off" if kernels == {False} else "MIXED")
        parts.append(f"{NAMES[ours]}: compiled kernels {state} in all {len(runs)} runs, "
                     f"numba imported in {loaded}")
    if not parts:
        return None
    return ("- Configuration checked by every numkeras worker "
            "(`numkeras.backprop.kernels.available()`): " + "; ".join(parts))


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
        ("numkeras against its peers on the CPU (issues 4 and 7), all on the same machine in "
         "the same run. Each system runs each workload in a process of its own; the systems "
         "take turns in every round (in an order rotated from round to round) so that the drift "
         "of a shared machine hits them alike. Figures are medians over rounds with the range "
         "in brackets. **nk ÷ this** is numkeras's time divided by that system's time in the "
         "same round, median over rounds: below 1, numkeras is faster (for throughputs it "
         "compares time per sample). *numkeras* is the default install (NumPy and h5py; the "
         "worker makes numba unimportable even where the venv has it); *numkeras[fast]* adds "
         "the optional `fast` extra (numba: the optimizer's update as one compiled loop), and "
         "**nk[fast] ÷ this** is its ratio."),
        "",
        "## This run",
        "",
        *machine_lines(meta),
        *filter(None, [configuration_line(meta, results)]),
        "",
        "## Targets (issues 4 and 7)",
        "",
    ]
    targets = targets_table(meta, results)
    parts.append(targets or "numkeras was not measured in this run.")
    if targets:
        parts += ["", ("The issues judge the default install; the `fast` extra's figures are "
                       "beside them for reference. The peers are Keras 3 on TensorFlow, Keras 3 "
                       "on JAX and PyTorch (either thread setting); the hand-written NumPy loop "
                       "is a reference, not a peer. Ratios pair runs of the same round; the "
                       "GEMM-floor targets use that round's faster thread setting; the CNN's "
                       "target compares with the PyTorch setting whose median is lower.")]
    sections = [
        (any(name in results for name in MLPS), "Training: seconds per epoch",
         ("Fashion-MNIST (60,000 training images, float32 in [0, 1]), Adam, sparse categorical "
          "crossentropy, accuracy tracked as in the lecture. *lecture* is Flatten → Dense(128, "
          "relu) → Dense(10, softmax); *deep* has ten hidden Dense(64, relu). The figure of a "
          "run is its median epoch leaving out the first (compilation, warm-up). Test accuracy "
          "is on the 10,000 test images after the run. The GEMM floor row times only the "
          "matrix products of those steps (see below)."),
         lambda: "\n\n".join(p for p in (
             training_table(meta, results, MLPS, ["lecture32", "lecture256"]),
             step_costs(meta, results)) if p)),
        (any(name in results for name in CNNS), "The CNN (issue 7): seconds per epoch",
         ("The course's CNN on the same images with a channel axis, (28, 28, 1): Conv2D(32, "
          "3×3, relu) → MaxPooling2D(2) → Conv2D(64, 3×3, relu) → MaxPooling2D(2) → Flatten → "
          "Dense(128, relu) → Dropout(0.5) → Dense(10, softmax), Adam, sparse categorical "
          f"crossentropy, batch 64, all {meta.get('n_train') or 0:,} training images "
          "(the same for every system), "
          f"{meta.get('epochs') or TRAINING['cnn64'][2]} epochs; the figure is the median "
          "epoch leaving out the first (which compiles and warms up). numkeras and Keras run "
          "it channels_last through the same Keras code; PyTorch runs the same network in "
          "NCHW with a hand-written loop (Glorot-uniform kernels and zero biases, as Keras), "
          "with its default threads and with one. The hand-written NumPy loop has no CNN (not "
          "written: a NumPy im2col convolution by hand would be a second numkeras). Test "
          "accuracy is on the 10,000 test images after the run. The GEMM floor row is the "
          "step's matrix products alone, the convolutions counted as im2col products (see "
          "below)."),
         lambda: cnn_text(meta, results)),
        (any(name in results for name in RNNS), "The LSTM (issue 13): seconds per epoch",
         ("Each image read as a sequence of 28 rows of 28 pixels by LSTM(128) (tanh, sigmoid "
          "gates, Keras's initialisation), then Dense(10, softmax); Adam, sparse categorical "
          f"crossentropy, batch 64, {meta.get('epochs') or TRAINING['lstm64'][2]} epochs, the "
          "median epoch leaving out the first. numkeras runs the whole sequence as one fused "
          "node; Keras runs its LSTM layer (on JAX a compiled scan); PyTorch runs `nn.LSTM` "
          "eagerly in a hand-written loop, with its default threads and with one. The GEMM "
          "floor row is the step's matrix products alone (the input projection, one recurrent "
          "product per time step, the head; see below). On a shared 2-core machine the "
          "figures are noisy."),
         lambda: cnn_text(meta, results, RNNS)),
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
          "10,000 for `predict`. For the CNN the convolutions are their im2col products: "
          "(64·26·26, 9) @ (9, 32) and (64·11·11, 288) @ (288, 64) forward, then each "
          "kernel's gradient and the second one's input gradient, plus the dense layers' "
          "products (building the patches, col2im, pooling and relu are not counted). No "
          "implementation of the same algorithm on this BLAS can go below it. The targets use "
          "the faster of the two thread settings."),
         lambda: gemm_table(results)),
    ]
    for present, title, intro, body in sections:
        if present:
            parts += ["", f"## {title}", "", intro, "", body()]
    profiles = results.get("profile") or {}
    if isinstance(profiles, str):  # results saved before the fast extra had its own profile
        profiles = {"numkeras": profiles}
    profiles = {system: text for system, text in profiles.items() if text}
    if profiles:
        parts += ["", "## Where one training step's time goes (numkeras, batch 32)", "",
                  ("From `benchmarks/profile_step.py` on the lecture's model, in this run: the "
                   "default install first, then with the `fast` extra (only the optimizer's "
                   "piece should differ).")]
        for system, text in profiles.items():
            parts += ["", f"### {NAMES[system]}", "", text]
    failed = failures(results)
    if failed:
        parts += ["", "## Runs that failed", "", *failed]
    parts += ["", "## How to rerun", "",
              ("`scripts/bench.sh` builds `.venv-bench` with numkeras and the peers of "
               "`benchmarks/requirements-peers.txt` and runs `benchmarks/run.py`, which rewrites "
               "this file up to the sections that bench_mpi.py and compare_step.py write at its "
               "end (it keeps those); a run of some workloads only replaces every table, so "
               "give such a run another `--output`. `--quick` gives a one-round look; "
               "`--systems` and `--workloads` select parts; `--numkeras-src` measures another "
               "checkout; `--wait-load 0.5` waits for a quiet machine first. The machine is "
               "shared and noisy: compare ratios from the same run, not absolute times across "
               "runs."), ""]
    return "\n".join(parts)
