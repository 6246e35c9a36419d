"""``numkeras vanishing``: the lecture's vanishing-gradient experiment in one command.

The same deep MLP, Flatten -> ``depth`` x Dense(``units``, activation) -> Dense(10, softmax),
is trained on a Fashion-MNIST subset once per activation, each time from the same seed and
with the same data order (SELU with LeCun-normal weights, which its self-normalization needs).
For each run the gradient of every hidden layer is measured on the same 512 training images
at initialization and after training (``model.gradients``), and a ``GradientMonitor`` follows
it during training. The command prints a table (first and last hidden layer, their ratio, test
accuracy) and writes the figures; see docs/tutorial.md.

Backprop multiplies by the activation's derivative at every layer: sigmoid's is at most 0.25,
so the first layers of a deep sigmoid network get gradients orders of magnitude smaller than
the last ones and barely learn, while ReLU's is 1 wherever a unit is active.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from numkeras import callbacks, config, layers, optimizers
from numkeras.cli import train
from numkeras.datasets import DatasetNotFoundError, DownloadError, IDXFormatError
from numkeras.models import Sequential
from numkeras.utils import plotting

DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu")
# SELU keeps activations normalized only with LeCun-normal weights (Klambauer et al., 2017).
KERNEL_INITIALIZERS = {"selu": "lecun_normal"}
PROBE_SIZE = 512  # training images on which the gradient norms of the table are measured
MONITOR_EVERY = 50
RESULTS_FILE = "results.json"
TABLE_FILE = "vanishing.csv"

EPILOG = """\
files written to the output directory:
  vanishing.csv              the table: per activation, the gradient norms of the first and
                             the last hidden layer at initialization and after training,
                             their ratios, the test accuracy and the training time
  results.json               the same, plus the gradient norm of every layer and the history
  gradient_norms.png         gradient norm by layer depth (log scale), one line per
                             activation: at initialization and after training
  accuracy.png               training and test accuracy per epoch, one line per activation
  gradient_flow_<name>.png   per activation: each layer's gradient norm during training
  (the PNGs need matplotlib: pip install 'numkeras[plot]')

examples:
  numkeras vanishing                                   the lecture's comparison (about 1 min)
  numkeras vanishing --activations sigmoid,relu --depth 20
  numkeras vanishing --samples 60000 --epochs 10       the whole training set
"""


# ----- the command line -----
def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``vanishing`` subcommand to the ``numkeras`` parser."""
    parser = subparsers.add_parser(
        "vanishing", help="compare gradient flow through a deep MLP across activations",
        description="Train the same deep MLP on Fashion-MNIST once per activation and show how "
                    "large the gradients of its first and last layers are.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--depth", type=_depth, default=10, help="number of hidden Dense layers (10)")
    add("--units", type=train._positive_int, default=64, help="units per hidden layer (64)")
    add("--activations", type=_activations, default=list(DEFAULT_ACTIVATIONS), metavar="NAMES",
        help=f"comma-separated activation names (default {','.join(DEFAULT_ACTIVATIONS)})")
    add("--epochs", type=train._positive_int, default=5, help="passes over the subset (5)")
    add("--samples", type=train._positive_int, default=20000,
        help="training images used, the first ones of the training set (20000)")
    add("--batch-size", type=train._positive_int, default=32, help="samples per step (32)")
    add("--learning-rate", type=train._positive_float, default=0.01, metavar="RATE",
        help="learning rate of plain SGD, the same for every activation (0.01)")
    add("--seed", type=train._seed, default=0,
        help="seed of the initial weights and of the data order, shared by all runs "
             "(default 0; 'random' draws one, shown in the first line and in results.json)")
    add("--output", type=train._output_dir, default=None, metavar="DIR",
        help="directory for the table and figures (default runs/<timestamp>/)")
    add("--quiet", action="store_true", help="print only the table and where the files went")
    parser.set_defaults(run=run)
    return parser


def _depth(text: str) -> int:
    value = train._positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(
            f"expected at least 2 hidden layers (the table compares the first with the last), "
            f"got {text!r}")
    return value


def _activations(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected activation names separated by commas, such as sigmoid,relu; got {text!r}")
    for name in names:
        train._activation(name)  # an unknown name raises with the valid ones listed
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"activation(s) listed twice: {', '.join(repeated)}")
    return names


# ----- the run -----
def run(args) -> int:
    """Train once per activation, print the table and write the files; returns the exit code."""
    started = time.perf_counter()
    say = (lambda *_: None) if args.quiet else print
    if args.seed is None:  # --seed random: one fresh seed, still shared by every activation
        args.seed = int(np.random.SeedSequence().entropy % 2**31)
    try:
        (x_train, y_train), (x_test, y_test), _ = train.load_dataset("fashion_mnist",
                                                                     quiet=args.quiet)
        directory = train.make_output_dir(args.output)
    except (DatasetNotFoundError, DownloadError, IDXFormatError, OSError) as error:
        print(f"numkeras vanishing: error: {error}", file=sys.stderr)
        return 1
    samples = min(args.samples, len(x_train))
    x_train, y_train = train.scale_pixels(x_train[:samples]), y_train[:samples]
    x_test = train.scale_pixels(x_test)
    say(f"Fashion-MNIST: the first {samples:,} training images, {len(x_test):,} test images; "
        f"{args.depth} hidden Dense({args.units}) layers, SGD(learning_rate="
        f"{args.learning_rate}), {args.epochs} epoch(s) of batch {args.batch_size}, seed "
        f"{args.seed}.")
    results = []
    for index, activation in enumerate(args.activations, start=1):
        result = train_one(activation, args, (x_train, y_train), (x_test, y_test))
        say(f"[{index}/{len(args.activations)}] {activation}: {result['seconds']:.1f} s, test "
            f"accuracy {result['test_accuracy']:.4f}")
        results.append(result)
    print(format_table(results))
    files = write_files(directory, args, results)
    print(f"Wrote {', '.join(files)} to {directory}{os.sep} "
          f"({time.perf_counter() - started:.0f} s in all)")
    return 0


def build_model(activation: str, depth: int, units: int, input_shape=train.IMAGE_SHAPE,
                classes: int = 10) -> Sequential:
    """Flatten -> ``depth`` x Dense(units, activation) named hidden_1 ... -> Dense(classes)."""
    initializer = KERNEL_INITIALIZERS.get(activation, "glorot_uniform")
    hidden = [layers.Dense(units, activation=activation, kernel_initializer=initializer,
                           name=f"hidden_{i}") for i in range(1, depth + 1)]
    return Sequential([layers.Flatten(input_shape=tuple(input_shape), name="flatten"), *hidden,
                       layers.Dense(classes, activation="softmax", name="output")])


def train_one(activation: str, args, train_data, test_data) -> dict:
    """One run: gradient norms at initialization, fit, gradient norms after, test accuracy."""
    (x_train, y_train), (x_test, y_test) = train_data, test_data
    config.set_random_seed(args.seed)  # the same initial weights for every activation
    model = build_model(activation, args.depth, args.units, x_train.shape[1:])
    model.compile(optimizer=optimizers.SGD(learning_rate=args.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    probe = (x_train[:PROBE_SIZE], y_train[:PROBE_SIZE])
    initial = layer_gradient_norms(model, *probe)
    monitor = callbacks.GradientMonitor(every=MONITOR_EVERY, log_stats=("grad_norm",))
    test_monitor = train.TestSetMonitor(x_test, y_test, batch_size=256)
    config.set_random_seed(args.seed + 1)  # the same data order for every activation
    started = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        verbose=0, callbacks=[monitor, test_monitor])
    seconds = time.perf_counter() - started
    trained = layer_gradient_norms(model, *probe)
    return {"activation": activation, "initializer": KERNEL_INITIALIZERS.get(activation,
                                                                             "glorot_uniform"),
            "layers": list(initial), "initial": list(initial.values()),
            "trained": list(trained.values()), "seconds": seconds,
            "test_accuracy": float(history.history["test_accuracy"][-1]),
            "history": {key: [float(v) for v in values]
                        for key, values in history.history.items() if "/" not in key},
            "monitor": monitor}


def layer_gradient_norms(model, x, y) -> dict[str, float]:
    """``{layer name: norm of the gradient of all its weights}`` on one batch, in model order."""
    gradients = {id(w): g for w, g in zip(model.trainable_weights, model.gradients(x, y))}
    norms = {}
    for layer in model.layers:
        squares = [np.sum(np.square(gradients[id(w)], dtype=np.float64))
                   for w in layer.trainable_weights]
        if squares:
            norms[layer.name] = float(np.sqrt(sum(squares)))
    return norms


def _hidden(result: dict, key: str) -> list[float]:
    """The norms of the hidden layers only (the output layer is the last entry)."""
    return result[key][:-1]


def ratio(result: dict, key: str) -> float:
    """First hidden layer's gradient norm over the last hidden layer's."""
    norms = _hidden(result, key)
    return norms[0] / norms[-1] if norms[-1] > 0 else float("inf")


def format_table(results: list[dict]) -> str:
    """The printed table: one row per activation."""
    width = max(len("activation"), *(len(r["activation"]) for r in results))
    head = (f"{'':<{width}}  {'gradient norm at initialization':^31}  "
            f"{'gradient norm after training':^31}  {'test':>8}")
    columns = (f"{'activation':<{width}}  {'first':>9} {'last':>9} {'ratio':>9}  "
               f"{'first':>9} {'last':>9} {'ratio':>9}  {'accuracy':>8}")
    lines = [head, columns]
    for r in results:
        cells = []
        for key in ("initial", "trained"):
            norms = _hidden(r, key)
            cells.append(f"{norms[0]:9.2e} {norms[-1]:9.2e} {ratio(r, key):9.2e}")
        lines.append(f"{r['activation']:<{width}}  {cells[0]}  {cells[1]}  "
                     f"{r['test_accuracy']:8.4f}")
    lines.append("first, last: the first and the last hidden layer; ratio = first / last.")
    return "\n".join(lines)


# ----- files -----
def write_files(directory, args, results: list[dict]) -> list[str]:
    """The table (CSV), every number (JSON) and, with matplotlib, the figures."""
    rows = [("activation,first_initial,last_initial,ratio_initial,first_trained,last_trained,"
             "ratio_trained,test_accuracy,seconds")]
    for r in results:
        first_last = [f"{_hidden(r, k)[i]:.6g}" for k in ("initial", "trained") for i in (0, -1)]
        rows.append(",".join([r["activation"], *first_last[:2], f"{ratio(r, 'initial'):.6g}",
                              *first_last[2:], f"{ratio(r, 'trained'):.6g}",
                              f"{r['test_accuracy']:.4f}", f"{r['seconds']:.2f}"]))
    callbacks.write_text_atomic(directory / TABLE_FILE, "\n".join(rows) + "\n")
    settings = {key: getattr(args, key) for key in ("depth", "units", "activations", "epochs",
                                                     "samples", "batch_size", "learning_rate",
                                                     "seed")}
    runs = [{key: value for key, value in r.items() if key != "monitor"} for r in results]
    callbacks.write_text_atomic(directory / RESULTS_FILE,
                                json.dumps({"settings": settings, "runs": runs}, indent=1) + "\n")
    files = [TABLE_FILE, RESULTS_FILE]
    try:
        files += write_figures(directory, results)
    except ImportError:
        print(f"Figures not written: matplotlib is not installed. To get them, install it "
              f"with: {plotting.INSTALL_HINT}")
    return files


def write_figures(directory, results: list[dict]) -> list[str]:
    """gradient_norms.png, accuracy.png and one gradient_flow_<activation>.png per run."""
    plotting.save_png(gradient_norms_figure(results), str(directory / "gradient_norms.png"))
    plotting.save_png(accuracy_figure(results), str(directory / "accuracy.png"))
    files = ["gradient_norms.png", "accuracy.png"]
    for r in results:
        name = f"gradient_flow_{r['activation']}.png"
        figure = plotting.plot_gradient_flow(r["monitor"])
        figure.suptitle(f"Gradient flow with {r['activation']}")
        plotting.save_png(figure, str(directory / name))
        files.append(name)
    return files


def gradient_norms_figure(results: list[dict]):
    """Gradient norm against hidden-layer depth, log scale: at initialization, after training."""
    figure = plotting._new_figure(panels=2)
    titles = {"initial": "At initialization", "trained": "After training"}
    for axes, (key, title) in zip(figure.axes, titles.items()):
        for r in results:
            norms = _hidden(r, key)
            axes.plot(range(1, len(norms) + 1), norms, marker="o", label=r["activation"])
        axes.set_yscale("log")
        axes.set_title(f"Gradient norm by layer: {title.lower()}")
        axes.set_xlabel("Hidden layer (1 = next to the input)")
        axes.set_ylabel("Gradient norm (log scale)")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(True, alpha=0.3)
    _legend_beside(figure.axes[-1])
    return figure


def _legend_beside(axes) -> None:
    """One legend, to the right of the last panel, where it hides no line."""
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))


def accuracy_figure(results: list[dict]):
    """Training and test accuracy per epoch, one line per activation, chance level dotted."""
    figure = plotting._new_figure(panels=2)
    for axes, (key, title) in zip(figure.axes, (("accuracy", "Training accuracy"),
                                                ("test_accuracy", "Test accuracy"))):
        for r in results:
            values = r["history"][key]
            axes.plot(range(1, len(values) + 1), values, marker="o", label=r["activation"])
        axes.axhline(0.1, color="grey", linestyle=":", label="chance (10 classes)")
        axes.set_title(f"{title} per epoch")
        axes.set_xlabel("Epoch")
        axes.set_ylabel(title)
        axes.set_ylim(0, 1)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(True, alpha=0.3)
    _legend_beside(figure.axes[-1])
    return figure
