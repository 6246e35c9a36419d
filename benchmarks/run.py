"""numkeras against its peers on the CPU, side by side: the benchmark suite of issues 4 and 7.

Usage: ``python benchmarks/run.py [--quick] [--systems a,b] [--workloads a,b] [--rounds N]``
(``scripts/bench.sh`` makes the venv with the peers and calls this).

Every system runs every workload in a process of its own (frameworks never share one), and the
systems take turns: each round runs every workload once per system, in an order rotated from
round to round, so that the drift of a shared machine hits all of them alike. Figures are the
median over rounds with their range, and ratios are numkeras's time over the peer's time within
the same round (< 1: numkeras is faster), then the median of those.

Systems: numkeras as installed by default (NumPy only: the worker makes numba unimportable,
even in a venv that has it); numkeras with its optional ``fast`` extra (numba's compiled
optimizer update), when numba is installed; every numkeras run records whether the compiled
kernels ran and fails if that is not what its system names. Keras 3 on TensorFlow and on JAX
(Keras's defaults: a jit-compiled step on JAX); PyTorch eager (a hand-written loop), with its
default threads and with one thread; the hand-written NumPy loop (numpy_loop.py, MLPs only).
Peers that are not installed are skipped. Workloads (see _common.py): the lecture's model at
batch 32 and 256, a deep narrow MLP at batch 32, the course's CNN at batch 64 (``cnn64``,
issue 7) and LSTM(128) over the images' 28 rows at batch 64 (``lstm64``, issue 13) (seconds
per epoch: median of epochs 2 to the last; test accuracy; peak RSS),
``infer`` (predict throughput at batch 10,000 and 32, one-sample latency of ``model(x)`` and
``predict``), ``import`` (fresh interpreters, warm bytecode), the GEMM floor (``gemm``, see
gemm_floor.py), installed size, and numkeras's step profile (``profile``, see
profile_step.py), with and without the ``fast`` extra.

The tables go to stdout and, with the machine's description and the issues' targets marked
PASS or MISS, to docs/benchmarks.md (``--output``); the file is rewritten whole, so a rerun
replaces the numbers and nothing else.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import bench_mpi  # noqa: E402 - after the sys.path line above
import compare_step  # noqa: E402
import report  # noqa: E402
from _common import RESULT_MARKER, TRAINING, save_data  # noqa: E402

SYSTEMS = ("numkeras", "numkeras-fast", "keras-tensorflow", "keras-jax", "torch",
           "torch-1thread", "numpy")
WORKLOADS = (*TRAINING, "infer", "import", "gemm", "profile")
# What `import` times: the package's import, then the names the lecture's code touches, since
# a lazy package (numkeras) defers its real cost to the first attribute.
IMPORTS = {
    "numkeras": ("import numkeras",
                 "numkeras.Sequential, numkeras.layers.Dense, numkeras.optimizers.Adam"),
    "keras-tensorflow": ("import keras", "keras.Sequential, keras.layers.Dense"),
    "keras-jax": ("import keras", "keras.Sequential, keras.layers.Dense"),
    "torch": ("import torch", "torch.nn.Linear, torch.optim.Adam"),
    "numpy": ("import numpy", "numpy.matmul"),
}
IMPORTS["torch-1thread"] = IMPORTS["torch"]
IMPORTS["numkeras-fast"] = IMPORTS["numkeras"]  # numba loads at the first optimizer step
# The sections other scripts write at the end of the report, in their order there: a rewrite
# keeps everything from the first of them on.
KEPT_MARKERS = (bench_mpi.MARKER, compare_step.MARKER)
# Workloads a system does not have: the hand-written NumPy loop has no CNN and no LSTM.
MISSING = {("numpy", "cnn64"), ("numpy", "lstm64")}
# Distributions whose files (with their required dependencies) make up each installed size;
# numkeras counts its package tree and the dependencies pyproject.toml requires.
DISTRIBUTIONS = {
    "numkeras": (),
    "numkeras-fast": ("numba",),
    "keras-tensorflow": ("keras", "tensorflow-cpu|tensorflow"),
    "keras-jax": ("keras", "jax"),
    "torch": ("torch",),
    "torch-1thread": ("torch",),
    "numpy": ("numpy",),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one round, two epochs, short timing budgets: a quick look")
    parser.add_argument("--rounds", type=int, help="rounds of alternating runs (default 3)")
    parser.add_argument("--epochs", type=int,
                        help="epochs of every training run (default: 5, deep MLP 3)")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"comma-separated subset of {', '.join(SYSTEMS)}")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of {', '.join(WORKLOADS)}")
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"),
                        help="the Markdown report to write (default docs/benchmarks.md)")
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    parser.add_argument("--json", help="also save every raw result to this JSON file")
    parser.add_argument("--render", metavar="JSON",
                        help="measure nothing: rewrite the report from a --json file")
    parser.add_argument("--synthetic", type=int, metavar="N",
                        help="random data of N training images instead of Fashion-MNIST")
    parser.add_argument("--numkeras-src", default=os.path.join(ROOT, "src"),
                        help="directory holding the numkeras package to measure (default src/)")
    parser.add_argument("--wait-load", type=float, metavar="LOAD",
                        help="first wait (up to --wait-max minutes) for the 1-minute load "
                             "average to fall below LOAD")
    parser.add_argument("--wait-max", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds before one worker process is abandoned")
    args = parser.parse_args(argv)
    args.systems = _subset(parser, args.systems, SYSTEMS, "systems")
    args.workloads = _subset(parser, args.workloads, WORKLOADS, "workloads")
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.import_repeats = 2 if args.quick else 3
    args.budget = 0.3 if args.quick else 1.0
    if args.epochs is None and args.quick:
        args.epochs = 2
    args.numkeras_src = os.path.abspath(args.numkeras_src)
    return args


def _subset(parser, text: str, allowed: tuple, what: str) -> list[str]:
    chosen = [item.strip() for item in text.split(",") if item.strip()]
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        parser.error(f"unknown {what}: {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return [item for item in allowed if item in chosen]  # canonical order


# ----- the data and the processes -----
def prepare_data(args, directory: str) -> int:
    """Save the arrays once (every worker maps the same files); returns the training size."""
    import numpy as np

    if args.synthetic:
        rng = np.random.default_rng(0)
        n_test = max(args.synthetic // 4, 64)
        save_data(directory, rng.random((args.synthetic, 28, 28), dtype=np.float32),
                  rng.integers(0, 10, args.synthetic), rng.random((n_test, 28, 28),
                                                                 dtype=np.float32),
                  rng.integers(0, 10, n_test))
        return args.synthetic
    sys.path.insert(0, args.numkeras_src)
    from numkeras.datasets import fashion_mnist

    (x, y), (x_test, y_test) = fashion_mnist.load_data(quiet=True)
    scale = np.float32(1 / 255)
    save_data(directory, x * scale, y, x_test * scale, y_test)
    return len(x)


def child_env(args, system: str | None = None, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    # Warm bytecode caches, as on a user's machine (some sandboxes forbid writing them).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (args.numkeras_src, env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    if system in ("keras-tensorflow", "keras-jax"):
        env["KERAS_BACKEND"] = system.split("-")[1]
    env.update(extra or {})
    return env


def run_process(command: list[str], env: dict, timeout: float) -> dict:
    """Run a worker; its result is the JSON after RESULT_MARKER, or an ``error`` entry."""
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                              timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {done.returncode}: " + " | ".join(tail)}


def run_worker(args, system: str, workload: str, data_dir: str, extra_env=None) -> dict:
    command = [sys.executable, os.path.join(HERE, "worker.py"), system, workload,
               "--data", data_dir, "--budget", str(args.budget)]
    if args.epochs and workload in TRAINING:
        command += ["--epochs", str(args.epochs)]
    return run_process(command, child_env(args, system, extra_env), args.timeout)


def run_imports(args, system: str, repeats: int) -> dict:
    """Import times in fresh interpreters (after one untimed run that warms the caches)."""
    first, rest = IMPORTS[system]
    code = (f"import time; t0 = time.perf_counter(); {first}; t1 = time.perf_counter(); "
            f"{rest}; t2 = time.perf_counter(); import json; "
            f"print({RESULT_MARKER!r} + json.dumps({{'import_s': t1 - t0, "
            f"'import_api_s': t2 - t0}}))")
    command, env = [sys.executable, "-c", code], child_env(args, system)
    run_process(command, env, args.timeout)
    samples = [run_process(command, env, args.timeout) for _ in range(repeats)]
    errors = [s["error"] for s in samples if "error" in s]
    if errors:
        return {"error": errors[0]}
    return {key: [s[key] for s in samples] for key in ("import_s", "import_api_s")}


def available(system: str, numkeras_src: str) -> bool:
    def has(module: str) -> bool:
        return importlib.util.find_spec(module) is not None

    if system.startswith("numkeras"):
        found = os.path.isdir(os.path.join(numkeras_src, "numkeras")) or has("numkeras")
        return found and (system == "numkeras" or has("numba"))
    if system == "keras-tensorflow":
        return has("keras") and has("tensorflow")
    if system == "keras-jax":
        return has("keras") and has("jax")
    return has("torch") if system.startswith("torch") else True


# ----- what cannot vary between runs: sizes, versions, the machine -----
def numkeras_requirements() -> list[str]:
    """The distributions numkeras requires, from pyproject.toml (installed or not)."""
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    return [re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", d).group(1) for d in dependencies]


def installed_mb(roots, numkeras_src: str | None = None) -> float | None:
    """MB of the files of ``roots`` and of every distribution they require (extras aside);
    with ``numkeras_src``, plus numkeras's package tree and requirements."""
    try:
        from packaging.markers import Marker
    except ImportError:
        Marker = None
    seen_files, seen_dists, total = set(), set(), 0
    todo = list(roots)
    if numkeras_src:
        package = os.path.join(numkeras_src, "numkeras")
        for directory, _, files in os.walk(package):
            for name in files:
                path = os.path.realpath(os.path.join(directory, name))
                seen_files.add(path)
                total += os.path.getsize(path)
        roots = todo = numkeras_requirements() + list(roots)
    while todo:
        names = todo.pop().split("|")  # alternatives: the first one installed counts
        dist = None
        for name in names:
            try:
                dist = importlib.metadata.distribution(name)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
        if dist is None:
            if names[0] in roots:
                return None
            continue
        key = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        if key in seen_dists:
            continue
        seen_dists.add(key)
        for path in (dist.locate_file(f) for f in dist.files or []):
            path = os.path.realpath(path)
            if path not in seen_files and os.path.isfile(path):
                seen_files.add(path)
                total += os.path.getsize(path)
        for requirement in dist.requires or []:
            name, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue
            if marker.strip() and Marker is not None and not Marker(marker).evaluate():
                continue
            todo.append(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name).group(1))
    return total / 1e6


def version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe_machine(args) -> dict:
    import numpy as np

    cpu, memory = platform.processor() or "unknown", None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf-8") as info:
            kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal"))
            memory = kib / 2**20
    except (OSError, StopIteration):
        pass
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{config.get('name')} {config.get('version')}"
    except Exception:  # noqa: BLE001 - an older NumPy: the description just says unknown
        blas = "unknown"
    tf_version = version("tensorflow-cpu") or version("tensorflow")
    return {
        "cpu": cpu, "cpus": os.cpu_count(), "memory_gib": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "numpy": np.__version__, "blas": blas,
        "keras": version("keras"), "tensorflow": tf_version, "jax": version("jax"),
        "jaxlib": version("jaxlib"), "torch": version("torch"),
        "numkeras_commit": numkeras_commit(args.numkeras_src),
    }


def numkeras_commit(src: str) -> str:
    def git(*command):
        return subprocess.run(["git", "-C", src, *command], capture_output=True, text=True,
                              check=False).stdout.strip()

    commit = git("rev-parse", "--short=10", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return commit + (" plus uncommitted changes" if dirty else "")


def wait_for_load(limit: float, minutes: float) -> None:
    deadline = time.monotonic() + 60 * minutes
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        log(f"waiting for the load average ({os.getloadavg()[0]:.2f}) to fall below {limit}")
        time.sleep(30)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----- the rounds -----
def run_rounds(args, systems: list[str], data_dir: str) -> tuple[dict, list[float]]:
    """results[workload][system] = one result per round; also the load seen before each run."""
    results: dict = {w: {} for w in args.workloads}
    loads = []
    for round_index in range(args.rounds):
        shift = round_index % len(systems)
        order = systems[shift:] + systems[:shift]
        for workload in args.workloads:
            if workload == "profile":
                continue
            if workload == "gemm":
                runs = [("1 thread", {"OPENBLAS_NUM_THREADS": "1"}), ("default", {})]
                for label, env in runs[::-1] if round_index % 2 else runs:
                    loads.append(os.getloadavg()[0])
                    result = run_worker(args, "gemm", "floor", data_dir, env)
                    results[workload].setdefault(label, []).append(result)
                    log(f"round {round_index + 1}/{args.rounds}  gemm floor ({label}): "
                        f"{report.brief(result)}")
                continue
            for system in order:
                if (system, workload) in MISSING:
                    continue
                loads.append(os.getloadavg()[0])
                if workload == "import":
                    result = run_imports(args, system, args.import_repeats)
                else:
                    result = run_worker(args, system, workload, data_dir)
                results[workload].setdefault(system, []).append(result)
                log(f"round {round_index + 1}/{args.rounds}  {workload:<10} {system:<17} "
                    f"{report.brief(result)}")
    return results, loads


def run_profile(args, data_dir: str, system: str) -> str | None:
    """profile_step.py's Markdown for numkeras's default install or (``numkeras-fast``) with
    the ``fast`` extra; None if it failed."""
    command = [sys.executable, os.path.join(HERE, "profile_step.py"), "--data", data_dir,
               "--markdown"] + (["--steps", "300"] if args.quick else []) + \
        (["--fast"] if system == "numkeras-fast" else [])
    try:
        done = subprocess.run(command, env=child_env(args, system), capture_output=True,
                              text=True, check=False, timeout=args.timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        log(f"profile_step.py ({system}) timed out")
        return None
    if done.returncode != 0:
        log(f"profile_step.py ({system}) failed: "
            + " | ".join(done.stderr.strip().splitlines()[-3:]))
        return None
    log(f"profiled one training step ({system})")
    return done.stdout.strip()


def kept_sections(path: str) -> str:
    """The part of an existing report that other scripts write (from the first marker that
    bench_mpi.py or compare_step.py puts there to the end), kept when the report is
    rewritten: their measurements are run by hand and a rerun of this suite cannot redo them."""
    try:
        with open(path, encoding="utf-8") as file:
            old = file.read()
    except OSError:
        return ""
    found = [at for at in (old.find(m) for m in KEPT_MARKERS) if at >= 0]
    return "\n" + old[min(found):] if found else ""


def write_report(args, meta: dict, results: dict) -> None:
    text = report.markdown(meta, results)
    print(text)
    if not args.no_write:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        text += kept_sections(args.output)
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
        log(f"wrote {args.output}")


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.render:
        with open(args.render, encoding="utf-8") as file:
            saved = json.load(file)
        write_report(args, saved["meta"], saved["results"])
        return
    if args.wait_load:
        wait_for_load(args.wait_load, args.wait_max)
    systems = [s for s in args.systems if available(s, args.numkeras_src)]
    skipped = [s for s in args.systems if s not in systems]
    for system in skipped:
        log(f"skipping {system}: not installed")
    command = os.environ.get("BENCH_COMMAND") or shlex.join(
        ["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])])
    meta = {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": os.getloadavg(), "machine": describe_machine(args),
        "systems": systems, "skipped": skipped, "rounds": args.rounds, "quick": args.quick,
        "epochs": args.epochs, "synthetic": args.synthetic,
    }
    data_dir = tempfile.mkdtemp(prefix="numkeras-bench-")
    try:
        meta["n_train"] = prepare_data(args, data_dir)
        results, loads = run_rounds(args, systems, data_dir)
        if "profile" in args.workloads:
            results["profile"] = {
                system: run_profile(args, data_dir, system)
                for system in ("numkeras", "numkeras-fast") if system in systems}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    meta["load_end"] = os.getloadavg()
    meta["load_during"] = (statistics.median(loads), max(loads)) if loads else None
    meta["installed_mb"] = {
        s: installed_mb(DISTRIBUTIONS[s], args.numkeras_src if s.startswith("numkeras")
                        else None)
        for s in systems}
    if args.json:  # first, so a failing report still leaves the measurements
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"meta": meta, "results": results}, out, indent=1)
    write_report(args, meta, results)


if __name__ == "__main__":
    main()
