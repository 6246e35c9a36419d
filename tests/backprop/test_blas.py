"""BLAS thread control: set, restore, and the training default."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import blas


def test_set_and_restore_threads():
    before = blas.get_blas_threads()
    if before is None:
        pytest.skip("no controllable BLAS library in this process")
    with blas.blas_threads(1):
        assert blas.get_blas_threads() == 1
    assert blas.get_blas_threads() == before


def test_fit_runs_with_the_configured_thread_count(monkeypatch):
    seen = []
    monkeypatch.setattr(keras.config, "_BLAS_THREADS", 1)
    original = blas.set_blas_threads
    monkeypatch.setattr(blas, "set_blas_threads", lambda n: seen.append(n) or original(n))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    model.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    if blas.get_blas_threads() is not None:
        assert seen and seen[0] == 1


def test_config_validates_the_count():
    with pytest.raises(ValueError, match="positive integer"):
        keras.config.set_blas_threads(0)
    keras.config.set_blas_threads(None)
    assert keras.config.blas_threads() is None
    keras.config.set_blas_threads(1)
