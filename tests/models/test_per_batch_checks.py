"""Issue 15, item 6: fit and evaluate check memory-mapped (and very large) arrays batch by
batch as they use them, instead of reading them whole before the first step."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.utils import data


def mapped(tmp_path, rows=256, bad_row=None, bad_value=np.nan):
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64,
                                  shape=(rows, 3))
    x[:] = np.random.default_rng(0).random((rows, 3))
    if bad_row is not None:
        x[bad_row, 1] = bad_value
    x.flush()
    return np.load(tmp_path / "x.npy", mmap_mode="r")


def model():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    net.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def test_memmaps_and_views_of_them_are_checked_per_batch(tmp_path):
    x = mapped(tmp_path)
    assert data.checked_per_batch(x) and data.checked_per_batch(np.asarray(x)[10:])
    assert not data.checked_per_batch(np.ones((4, 3)))


def test_fit_uses_only_the_rows_it_trains_on(tmp_path):
    x = mapped(tmp_path, bad_row=200)  # never reached in two steps of 32 without shuffling
    y = np.zeros(len(x), np.int64)
    history = model().fit(x, y, batch_size=32, steps_per_epoch=2, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("value, message", [
    (np.nan, r"contains NaN or infinite value\(s\) \(first at index \(37, 1\)"),
    (1e39, r"beyond the range of float32 .* at index \(37, 1\)"),
])
def test_a_bad_row_stops_fit_and_evaluate_when_its_batch_comes(tmp_path, value, message):
    x = mapped(tmp_path, bad_row=37, bad_value=value)
    y = np.zeros(len(x), np.int64)
    net = model()
    before = net.get_weights()
    with pytest.raises(ValueError, match=message):
        net.fit(x, y, batch_size=32, shuffle=False, verbose=0)
    after = net.get_weights()  # the first batch (rows 0-31) trained, the bad one did not
    assert not all(np.array_equal(a, b) for a, b in zip(before, after))
    assert all(np.isfinite(w).all() for w in after)
    with pytest.raises(ValueError, match=message):
        net.evaluate(x, y, batch_size=32, verbose=0)


def test_in_memory_arrays_are_still_checked_before_the_first_step():
    x = np.random.default_rng(0).random((64, 3))
    x[60, 0] = np.nan
    net = model()
    before = net.get_weights()
    with pytest.raises(ValueError, match=r"first at index \(60, 0\)"):
        net.fit(x, np.zeros(64, np.int64), batch_size=8, shuffle=False, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
