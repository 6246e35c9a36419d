"""The examples run end to end (on a tiny data set injected in place of Fashion-MNIST)."""

import pathlib
import runpy
import sys

import numpy as np

import numkeras

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def tiny_fashion_mnist():
    rng = np.random.default_rng(0)
    images = lambda n: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)  # noqa: E731
    labels = lambda n: rng.integers(0, 10, n).astype(np.uint8)  # noqa: E731
    return (images(64), labels(64)), (images(32), labels(32))


def test_fashion_mnist_cnn_example(monkeypatch, capsys):
    monkeypatch.setattr(numkeras.datasets.fashion_mnist, "load_data", tiny_fashion_mnist)
    monkeypatch.setattr(sys, "argv", ["fashion_mnist_cnn.py", "--epochs", "1"])
    runpy.run_path(str(EXAMPLES / "fashion_mnist_cnn.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "conv2d (Conv2D)" in out and "Total params: 225,034" in out
    assert "test accuracy:" in out


def test_functional_api_example(monkeypatch, capsys):
    monkeypatch.setattr(numkeras.datasets.fashion_mnist, "load_data", tiny_fashion_mnist)
    monkeypatch.setattr(sys, "argv", ["functional_api.py", "--quick"])
    runpy.run_path(str(EXAMPLES / "functional_api.py"), run_name="__main__")
    out = capsys.readouterr().out
    # (a) two inputs, two outputs: the summary's Connected to column, per-output logs
    assert 'Model: "two_io"' in out and "Connected to" in out
    assert "concatenate[0][0]" in out and "Total params: 113,453" in out
    assert "label_accuracy:" in out and "val_group_loss:" in out
    assert "Test label accuracy:" in out and "group accuracy:" in out
    # (b) the autoencoder's summary shows the two nested models
    assert "encoder (Functional)         (None, 32)" in out
    assert "decoder (Functional)         (None, 28, 28)" in out
    assert "Test reconstruction MSE:" in out and "decoder -> (5, 28, 28)" in out


def test_lstm_fashion_mnist_example(monkeypatch, capsys):
    monkeypatch.setattr(numkeras.datasets.fashion_mnist, "load_data", tiny_fashion_mnist)
    monkeypatch.setattr(sys, "argv", ["lstm_fashion_mnist.py", "--epochs", "1"])
    runpy.run_path(str(EXAMPLES / "lstm_fashion_mnist.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "lstm (LSTM)" in out and "Total params: 81,674" in out
    assert "test accuracy:" in out


def test_custom_training_loop_example(monkeypatch, capsys):
    monkeypatch.setattr(numkeras.datasets.fashion_mnist, "load_data", tiny_fashion_mnist)
    monkeypatch.setattr(sys, "argv", ["custom_training_loop.py", "--epochs", "2"])
    runpy.run_path(str(EXAMPLES / "custom_training_loop.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "tape epoch 2:" in out and "fit  epoch 2:" in out
    # The hand-written loop and fit take the same steps: same weights, same accuracy.
    assert "same test accuracy: True - largest weight difference 0.00e+00" in out
