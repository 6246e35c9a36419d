"""plot_history: panels, labels, legends, files, and life without matplotlib."""

from __future__ import annotations

import builtins
import os
import pathlib
import subprocess
import sys

import pytest

from numkeras import callbacks
from numkeras.utils import plotting

pytest.importorskip("matplotlib")

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOGS = {"loss": [0.6, 0.45, 0.4], "accuracy": [0.78, 0.84, 0.86],
        "val_loss": [0.5, 0.44, 0.42], "val_accuracy": [0.82, 0.84, 0.85]}


def legend_labels(axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def test_a_dict_gives_loss_and_accuracy_panels_with_validation():
    figure = plotting.plot_history(LOGS)
    loss, accuracy = figure.axes
    assert (loss.get_title(), accuracy.get_title()) == ("Loss per epoch", "Accuracy per epoch")
    assert loss.get_xlabel() == accuracy.get_xlabel() == "Epoch"
    assert (loss.get_ylabel(), accuracy.get_ylabel()) == ("Loss", "Accuracy")
    assert legend_labels(loss) == legend_labels(accuracy) == ["train", "validation"]
    train_line, validation_line = accuracy.get_lines()
    assert list(train_line.get_xdata()) == [1, 2, 3]
    assert list(validation_line.get_ydata()) == LOGS["val_accuracy"]


def test_test_curves_are_drawn_too():
    logs = {**LOGS, "test_loss": [0.55, 0.47, 0.43], "test_accuracy": [0.8, 0.83, 0.84]}
    loss, accuracy = plotting.plot_history(logs).axes
    assert legend_labels(loss) == legend_labels(accuracy) == ["train", "validation", "test"]
    assert list(accuracy.get_lines()[2].get_ydata()) == logs["test_accuracy"]


def test_a_history_object_and_the_acc_spelling():
    history = callbacks.History()
    for epoch, (loss, acc) in enumerate([(0.9, 0.6), (0.7, 0.7)]):
        history.on_epoch_end(epoch, {"loss": loss, "acc": acc})
    figure = plotting.plot_history(history)
    assert figure.axes[1].get_ylabel() == "Accuracy"
    assert legend_labels(figure.axes[0]) == ["train"]  # no validation logged
    assert list(figure.axes[1].get_lines()[0].get_ydata()) == [0.6, 0.7]


def test_another_metric_or_none():
    figure = plotting.plot_history({"loss": [1.0, 0.5], "mean_absolute_error": [0.8, 0.4]})
    assert figure.axes[1].get_title() == "Mean absolute error per epoch"
    assert len(plotting.plot_history({"loss": [1.0]}).axes) == 1


def test_the_png_is_written_whole(tmp_path):
    path = tmp_path / "plots" / "history.png"
    plotting.plot_history(LOGS, path)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert os.listdir(path.parent) == ["history.png"]


def test_a_history_without_loss_is_refused():
    with pytest.raises(ValueError, match="needs the History returned by `model.fit`"):
        plotting.plot_history({"accuracy": [0.5]})


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"pip install 'numkeras\[plot\]'"):
        plotting.plot_history(LOGS)


def test_importing_the_module_does_not_import_matplotlib():
    code = ("import sys, numkeras.utils.plotting; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                            timeout=60)
    assert result.returncode == 0, result.stderr
