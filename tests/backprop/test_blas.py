"""BLAS thread control: set, restore, and the training default."""

import threading

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


def test_a_managed_region_holds_blas_at_one_thread_and_splits_large_work():
    before = blas.get_blas_threads()
    if before is None:
        pytest.skip("no controllable BLAS library in this process")
    assert blas.large_product_threads() is None
    with blas.managed(3):
        assert blas.get_blas_threads() == 1 and blas.large_product_threads() == 3
        with blas.managed(5):  # nested: the outer region's settings hold
            assert blas.large_product_threads() == 3
        assert blas.get_blas_threads() == 1
    assert blas.get_blas_threads() == before and blas.large_product_threads() is None
    with blas.managed(None):  # None: as many parts as BLAS's own setting
        assert blas.large_product_threads() == before


def test_overlapping_regions_in_threads_restore_the_setting_when_the_last_ends():
    before = blas.get_blas_threads()
    if before is None:
        pytest.skip("no controllable BLAS library in this process")
    inside, leave = threading.Event(), threading.Event()
    seen = []

    def other():
        with blas.managed(2):
            inside.set()
            leave.wait(30)
            seen.append((blas.get_blas_threads(), blas.large_product_threads()))

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(30)
    with blas.managed(4):  # this thread's region: its own parts, the same BLAS setting
        assert blas.large_product_threads() == 4 and blas.get_blas_threads() == 1
    assert blas.get_blas_threads() == 1  # the other region is still running
    leave.set()
    thread.join()
    assert seen == [(1, 2)] and blas.get_blas_threads() == before


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
