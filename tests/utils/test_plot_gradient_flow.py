"""plot_gradient_flow, and plot_history with either spelling of the accuracy metric."""

from __future__ import annotations

import numpy as np
import pytest

import numkeras as keras
from numkeras import callbacks, layers, utils
from numkeras.models import Sequential

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def monitor():
    model = Sequential([keras.Input((4,)), layers.Dense(5, activation="sigmoid", name="h1"),
                        layers.Dense(5, activation="sigmoid", name="h2"),
                        layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    rng = np.random.default_rng(0)
    watcher = callbacks.GradientMonitor(every=2)
    model.fit(rng.normal(size=(48, 4)), rng.integers(0, 2, 48), batch_size=8, epochs=2,
              verbose=0, callbacks=[watcher])
    return watcher


def test_two_log_scale_panels_with_labels_and_legends(monitor, tmp_path):
    figure = utils.plot_gradient_flow(monitor, tmp_path / "flow.png")
    by_depth, over_steps = figure.axes
    assert by_depth.get_yscale() == over_steps.get_yscale() == "log"
    assert by_depth.get_title() == "Gradient norm by layer"
    assert by_depth.get_xlabel() == "Layer (input side first)"
    assert over_steps.get_xlabel() == "Training step (batch)"
    assert "Gradient norm" in by_depth.get_ylabel() and "Gradient norm" in over_steps.get_ylabel()
    assert [t.get_text() for t in by_depth.get_legend().get_texts()] == [
        "initialization", f"step {monitor.steps[-1]}"]
    assert [t.get_text() for t in over_steps.get_legend().get_texts()] == ["h1", "h2", "out"]
    assert [t.get_text() for t in by_depth.get_xticklabels()] == ["h1", "h2", "out"]
    first_line = by_depth.get_lines()[0]
    np.testing.assert_allclose(first_line.get_ydata(), monitor.stat("grad_norm")[0])
    np.testing.assert_array_equal(over_steps.get_lines()[0].get_xdata(), monitor.steps)
    assert (tmp_path / "flow.png").read_bytes().startswith(PNG_MAGIC)


def test_a_zero_norm_is_left_out_rather_than_breaking_the_log_axis(monitor):
    monitor._rows[0]["grad_norm/h1"] = 0.0
    figure = utils.plot_gradient_flow(monitor)
    assert np.isnan(figure.axes[0].get_lines()[0].get_ydata()[0])


def test_an_empty_monitor_says_to_train_first():
    with pytest.raises(ValueError, match="no samples yet"):
        utils.plot_gradient_flow(callbacks.GradientMonitor())


@pytest.mark.parametrize("name", ["acc", "accuracy"])
def test_plot_history_takes_acc_and_accuracy(name):
    logs = {"loss": [0.6, 0.4], name: [0.7, 0.8], "val_loss": [0.5, 0.45],
            f"val_{name}": [0.75, 0.78]}
    _, accuracy = utils.plot_history(logs).axes
    assert accuracy.get_title() == "Accuracy per epoch" and accuracy.get_ylabel() == "Accuracy"
    assert [t.get_text() for t in accuracy.get_legend().get_texts()] == ["train", "validation"]
    assert list(accuracy.get_lines()[1].get_ydata()) == [0.75, 0.78]


def test_plot_history_of_a_fit_with_metrics_acc(monitor):
    history = monitor.model.history
    assert "acc" in history.history
    figure = utils.plot_history(history)
    assert figure.axes[1].get_title() == "Accuracy per epoch"
