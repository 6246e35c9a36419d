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

import numpy as np

from numkeras.utils.files import write_atomic

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
        save_png(figure, os.fspath(path))
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


def save_png(figure, path) -> None:
    """Write ``figure`` to ``path`` as a PNG, atomically (utils/files.py)."""
    write_atomic(path, lambda handle: figure.savefig(handle, format="png", dpi=100))


def plot_gradient_flow(monitor, path=None):
    """The gradient norm of each layer, on a log scale, from a ``GradientMonitor``.

    Left: the norm against the layer's depth, at the first sample (initialization when the
    monitor watched from the first batch) and at the last one; vanishing gradients show as a
    line falling towards the input. Right: each layer's norm against the training step.

    Args:
        monitor: a ``numkeras.callbacks.GradientMonitor`` that watched a ``fit``.
        path: where to write the figure as PNG; None writes nothing.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ImportError: matplotlib is not installed; the message says how to install it.
        ValueError: the monitor has recorded nothing yet.

    >>> figure = plot_gradient_flow(monitor, "gradient_flow.png")  # doctest: +SKIP
    """
    steps, names = np.asarray(monitor.steps), list(monitor.layer_names)
    if not len(steps) or not names:
        raise ValueError("plot_gradient_flow: the monitor has no samples yet. Pass it to "
                         "`model.fit(..., callbacks=[monitor])` first.")
    norms = np.asarray(monitor.stat("grad_norm"), dtype=float)
    norms = np.where(norms > 0, norms, np.nan)  # a log axis cannot show 0
    figure = _new_figure(panels=2)
    _draw_by_depth(figure.axes[0], steps, names, norms)
    _draw_over_steps(figure.axes[1], steps, names, norms)
    if path is not None:
        save_png(figure, os.fspath(path))
    return figure


def _draw_by_depth(axes, steps, names: list, norms) -> None:
    depth = np.arange(1, len(names) + 1)
    first = "initialization" if steps[0] == 0 else f"step {steps[0]}"
    samples = [(0, first)] + ([(len(steps) - 1, f"step {steps[-1]}")] if len(steps) > 1 else [])
    for row, label in samples:
        axes.plot(depth, norms[row], marker="o", label=label)
    axes.set_yscale("log")
    axes.set_xticks(depth, names, rotation=45, ha="right", fontsize="small")
    axes.set_title("Gradient norm by layer")
    axes.set_xlabel("Layer (input side first)")
    axes.set_ylabel("Gradient norm (log scale)")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend()


def _draw_over_steps(axes, steps, names: list, norms) -> None:
    from matplotlib import colormaps

    colours = colormaps["viridis"](np.linspace(0, 0.9, len(names)))
    for column, (name, colour) in enumerate(zip(names, colours)):
        axes.plot(steps, norms[:, column], color=colour, label=name)
    axes.set_yscale("log")
    axes.set_title("Gradient norm during training")
    axes.set_xlabel("Training step (batch)")
    axes.set_ylabel("Gradient norm (log scale)")
    axes.grid(True, which="major", alpha=0.3)
    # Beside the panel: inside it, a dozen entries would hide the lines.
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5),
                ncol=2 if len(names) > 16 else 1)
