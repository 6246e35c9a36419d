"""Data checks, Keras's validation split, batching and one-hot labels."""

import numpy as np
import pytest

from numkeras.utils import data


def test_check_array_rejects_nan_inf_strings_and_none():
    message = r"`x` contains 2 NaN or infinite value\(s\) \(first at index \(0, 1\)\)"
    with pytest.raises(ValueError, match=message):
        data.check_array(np.array([[0.0, np.nan], [np.inf, 1.0]]), "x")
    with pytest.raises(TypeError, match="`y` must hold numbers, but has dtype <U1"):
        data.check_array(np.array(["a", "b"]), "y")
    with pytest.raises(TypeError, match="dtype object"):
        data.check_array(np.array([1, None], dtype=object), "x")
    with pytest.raises(ValueError, match="received None"):
        data.check_array(None, "x")
    assert data.check_array(None, "sample_weight", allow_none=True) is None


def test_check_array_accepts_integers_without_copy():
    x = np.zeros((3, 2), np.uint8)
    assert data.check_array(x, "x") is x


def test_lengths_must_match():
    with pytest.raises(ValueError, match="x: 3, y: 2"):
        data.check_lengths(x=np.zeros(3), y=np.zeros(2), sample_weight=None)


def test_validation_split_takes_the_last_fraction():
    x, y = np.arange(10), np.arange(10) * 2
    (x_train, y_train), (x_val, y_val) = data.split_validation((x, y), 0.2)
    assert x_train.tolist() == list(range(8)) and x_val.tolist() == [8, 9]
    assert y_val.tolist() == [16, 18]


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5, "0.2"])
def test_validation_split_out_of_range(split):
    with pytest.raises(ValueError, match="validation_split"):
        data.split_validation((np.arange(10),), split)


def test_validation_split_that_leaves_no_training_data():
    with pytest.raises(ValueError, match="Training data contains 1 samples"):
        data.split_validation((np.arange(1),), 0.5)


def test_batches_cover_every_sample_once():
    order = np.random.default_rng(0).permutation(70)
    batches = list(data.batch_slices(70, 32, order))
    assert [len(order[b] if isinstance(b, slice) else b) for b in batches] == [32, 32, 6]
    assert sorted(np.concatenate(batches).tolist()) == list(range(70))
    assert list(data.batch_slices(5, 2)) == [slice(0, 2), slice(2, 4), slice(4, 5)]


def test_take_casts_one_batch():
    x = np.arange(12, dtype=np.uint8).reshape(6, 2)
    batch = data.take(x, slice(0, 2), np.float32)
    assert batch.dtype == np.float32 and batch.tolist() == [[0, 1], [2, 3]]


def test_to_categorical():
    out = data.to_categorical(np.array([[1], [0], [3]]))
    assert out.dtype == np.float32 and out.shape == (3, 4)
    assert out.argmax(axis=1).tolist() == [1, 0, 3]
    with pytest.raises(ValueError, match="out of range"):
        data.to_categorical([5], num_classes=3)
    with pytest.raises(ValueError, match="integer"):
        data.to_categorical([0.5])
