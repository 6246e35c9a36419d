"""Plots of training runs, drawn with matplotlib (the optional ``plot`` extra).

matplotlib is imported inside each function, never at import time, so numkeras itself needs only
NumPy. Figures are built on the Agg canvas without pyplot: nothing changes the user's backend
or opens a window, and it works on machines without a display.

>>> history = {"loss": [0.5, 0.4], "accuracy": [0.8, 0.85]}
>>> figure = plot_history(history)  # doctest: +SKIP
>>> figure.savefig("history.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile

INSTALL_HINT = "pip install 'numkeras[plot]'"


# Prefix of the logged name -> label of its curve. ``test_`` entries are what ``numkeras train``
# logs when it evaluates the test set after each epoch.
CURVES = {"": "train", "val_": "validation", "test_": "test"}


def plot_history(history, path=None):
    """Loss and accuracy curves of a training run, in two panels.

    Each panel draws the training curve and, when logged, the validation one (``val_loss`` ...)
    and the test one (``test_loss`` ...).

    Args:
        history: the ``History`` returned by ``model.fit`` or its ``history`` dict
            (``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``). The accuracy
            metric may be called ``accuracy``, ``acc`` or ``sparse_categorical_accuracy``; when
            there is no accuracy metric the first other metric is drawn, and with no metric at
            all only the loss panel.
        path: where to write the figure as PNG (written to a temporary file, then renamed);
            None writes nothing.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ImportError: matplotlib is not installed; the message says how to install it.
        ValueError: the history holds no ``loss``.
    """
    logs, epochs = _logs_and_epochs(history)
    metric = _main_metric(logs)
    figure = _new_figure(panels=2 if metric else 1)
    axes = figure.axes
    _draw_panel(axes[0], logs, "loss", epochs, "Loss")
    if metric:
        _draw_panel(axes[1], logs, metric, epochs, _title(metric))
    if path is not None:
        _save_png_atomic(figure, os.fspath(path))
    return figure


def _logs_and_epochs(history):
    """``(dict of lists, epoch numbers from 1)`` from a History object or its dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or "loss" not in logs:
        raise ValueError(
            "plot_history needs the History returned by `model.fit` or its `history` dict, with "
            f"a 'loss' entry; received {type(history).__name__} with keys "
            f"{sorted(logs) if isinstance(logs, dict) else 'none'}.")
    epochs = [int(epoch) + 1 for epoch in getattr(history, "epoch", [])]
    if len(epochs) != len(logs["loss"]):
        epochs = list(range(1, len(logs["loss"]) + 1))
    return logs, epochs


def _main_metric(logs: dict) -> str | None:
    """The training metric of the second panel: an accuracy if there is one."""
    metrics = [key for key in logs if key != "loss" and not key.startswith(("val_", "test_"))]
    accuracies = [key for key in metrics if key == "acc" or "accuracy" in key]
    return (accuracies or metrics or [None])[0]


def _title(metric: str) -> str:
    return "Accuracy" if metric in ("acc", "accuracy") else metric.replace("_", " ").capitalize()


def _new_figure(panels: int):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"Plotting needs matplotlib, which is not installed. Install it with: "
                          f"{INSTALL_HINT}") from error
    figure = Figure(figsize=(5.5 * panels, 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    figure.subplots(1, panels)
    return figure


def _draw_panel(axes, logs: dict, key: str, epochs: list, title: str) -> None:
    """One metric against the epoch: train, validation and test curves, those logged."""
    for prefix, label in CURVES.items():
        values = logs.get(prefix + key)
        if values is not None and len(values) == len(epochs):  # not with validation_freq > 1
            axes.plot(epochs, values, marker="o", label=label)
    axes.set_title(f"{title} per epoch")
    axes.set_xlabel("Epoch")
    axes.set_ylabel(title)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(True, alpha=0.3)
    axes.legend()


def _save_png_atomic(figure, path: str) -> None:
    """Write the PNG beside ``path`` under a temporary name, then rename it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as handle:
            figure.savefig(handle, format="png", dpi=100)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
