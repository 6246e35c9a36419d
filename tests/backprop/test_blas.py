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


def test_managed_region_picks_threads_by_product_size():
    before = blas.get_blas_threads()
    if before is None:
        pytest.skip("no controllable BLAS library in this process")
    with blas.managed(2):
        blas.for_product(32 * 784 * 128)  # a batch of 32 through Dense(128): small
        assert blas.get_blas_threads() == 1
        blas.for_product(10000 * 784 * 128)  # predict on 10,000 images: large
        assert blas.get_blas_threads() == 2
    assert blas.get_blas_threads() == before
    blas.for_product(1)  # outside fit/predict nothing changes
    assert blas.get_blas_threads() == before


def test_fit_restores_the_process_setting():
    before = blas.get_blas_threads()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    model.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    assert blas.get_blas_threads() == before


def test_config_validates_the_count():
    with pytest.raises(ValueError, match="positive integer"):
        keras.config.set_blas_threads(0)
    keras.config.set_blas_threads(1)
    assert keras.config.blas_threads() == 1
    keras.config.set_blas_threads(None)


def test_keep_freed_memory_is_idempotent():
    from numkeras.backprop import memory

    first = memory.keep_freed_memory()
    assert memory.keep_freed_memory() == first
