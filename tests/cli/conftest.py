"""Fixtures for the command-line tests: a small synthetic data set in place of the real one."""

from __future__ import annotations

import numpy as np
import pytest

from numkeras.cli import main, train
from numkeras.datasets import fashion_mnist
from tests.helpers import synthetic_images


class FakeLoader:
    """Stands in for ``train.load_dataset``: uint8 images like the real data, and a call log."""

    def __init__(self, n_train: int = 300, n_test: int = 100):
        self.n_train, self.n_test = n_train, n_test
        self.calls: list[str] = []

    def __call__(self, name: str, quiet: bool = False):
        self.calls.append(name)
        x_train, y_train = synthetic_images(self.n_train, seed=0)
        x_test, y_test = synthetic_images(self.n_test, seed=1)
        return ((_as_uint8(x_train), y_train), (_as_uint8(x_test), y_test),
                list(fashion_mnist.CLASS_NAMES))


def _as_uint8(images: np.ndarray) -> np.ndarray:
    return np.round(images * 255).astype(np.uint8)


@pytest.fixture
def loader(monkeypatch, tmp_path):
    """Replace the data set by a small synthetic one and work inside ``tmp_path``."""
    fake = FakeLoader()
    monkeypatch.setattr(train, "load_dataset", fake)
    monkeypatch.chdir(tmp_path)
    return fake


@pytest.fixture
def trained_run(loader, tmp_path, capsys):
    """A run directory written by one quiet epoch of ``numkeras train``."""
    directory = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--quiet", "--output", str(directory)]) == 0
    capsys.readouterr()
    return directory
