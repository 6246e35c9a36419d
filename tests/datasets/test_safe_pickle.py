"""Pickle bombs in dataset files are refused quickly, without allocating what they ask for."""

import pickle
import tracemalloc

import numpy as np
import pytest

from numkeras.datasets import CIFARFormatError, DatasetFormatError, _cifar, reuters
from numkeras.datasets import _safe_pickle


def peak_bytes(function):
    """(exception raised by function, peak traced allocation in bytes)."""
    tracemalloc.start()
    try:
        with pytest.raises((CIFARFormatError, DatasetFormatError)) as info:
            function()
        return info.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_ndarray_constructor_bomb_is_refused():
    n = 100_000  # numpy.ndarray((n, 3072), 'u1'): 307 MB from an 81-byte pickle
    bomb = (b"\x80\x02}q\x00(C\x04dataq\x01cnumpy\nndarray\nq\x02"
            + pickle.dumps((n, 3072), 2)[2:-1] + b"X\x02\x00\x00\x00u1\x86R"
            + b"C\x06labels" + b"h\x02" + pickle.dumps((n,), 2)[2:-1]
            + b"X\x03\x00\x00\x00<i8\x86Ru.")
    error, peak = peak_bytes(lambda: _cifar.parse_batch(bomb, "labels", "bomb_batch", 10))
    assert "bomb_batch" in str(error) and "numpy.ndarray" in str(error)
    assert peak < 2 << 20


def test_the_shared_list_bomb_is_refused(tmp_path):
    rows = np.empty(5000, dtype=object)
    rows.fill(list(range(1000)))  # one list, referenced 5,000 times through the memo
    path = tmp_path / "reuters.npz"
    np.savez(path, x=rows, y=np.zeros(5000, np.int64))
    error, peak = peak_bytes(lambda: reuters.load_data(path=str(path)))
    assert str(path) in str(error) and "more elements than" in str(error)
    assert peak < 4 << 20


def test_amplified_and_nested_labels_are_refused():
    images = np.zeros((2, 3072), np.uint8)
    shared = [0] * 100_000
    data = pickle.dumps({b"data": images, b"labels": [shared, shared]}, protocol=3)
    error, peak = peak_bytes(lambda: _cifar.parse_batch(data, "labels", "lab_batch", 10))
    assert "lab_batch" in str(error) and peak < 4 << 20
    data = pickle.dumps({b"data": images, b"labels": [[0], [1]]}, protocol=3)
    with pytest.raises(CIFARFormatError, match="list of integers"):
        _cifar.parse_batch(data, "labels", "lab_batch", 10)


@pytest.mark.parametrize("value", [
    {"a": [1, 2], "x": np.arange(3, dtype=np.uint8)},
    np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3)),
    np.array([[1, 2], [3]], dtype=object), np.zeros((0, 3)), np.array([True, False])])
def test_ordinary_pickles_load_as_pickle_does(value):
    data = pickle.dumps(value, protocol=3)
    got, expected = _safe_pickle.load(data), pickle.loads(data)
    if isinstance(expected, dict):
        got, expected = got["x"], expected["x"]
    # NumPy swaps big-endian data to native order; the values are the same either way.
    assert got.dtype.newbyteorder("=") == expected.dtype.newbyteorder("=")
    assert got.shape == expected.shape
    for a, b in zip(got.ravel(), expected.ravel()):
        assert a == b
