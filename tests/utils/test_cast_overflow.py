"""Finite values that the cast to the model's float type would make inf (issue 15, item 4):
refused with the argument, the first index and the value, in fit, evaluate and predict."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.utils import data


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _with(value, row=37, column=2, n=50):
    x = np.linspace(-1, 1, n * 3).reshape(n, 3)
    x[row, column] = value
    return x


@pytest.mark.parametrize("value", [1e39, -3.5e38, np.finfo(np.float64).max])
def test_fit_evaluate_and_predict_refuse_values_beyond_float32(value):
    model, x, y = _model(), _with(value), np.zeros(50)
    weights = [w.copy() for w in model.get_weights()]
    expected = r"`x` holds 1 value\(s\) beyond the range of float32.*index \(37, 2\)"
    with pytest.raises(ValueError, match=expected):
        model.fit(x, y, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=expected):
        model.evaluate(x, y, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=expected):
        model.predict(x, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=expected):
        model.predict_on_batch(x)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))


def test_targets_and_sample_weights_are_checked_too():
    model, x = _model(), _with(0.0)
    y = np.zeros(50)
    y[3] = 1e39
    with pytest.raises(ValueError, match=r"`y` holds 1 value.*index \(3,\)"):
        model.fit(x, y, verbose=0)
    weights = np.ones(50)
    weights[5] = -1e40
    with pytest.raises(ValueError, match=r"`sample_weight` holds 1 value.*index \(5,\)"):
        model.fit(x, np.zeros(50), sample_weight=weights, verbose=0)


def test_the_largest_float32_passes_and_float64_models_take_anything():
    model = _model()
    model.predict(_with(float(np.finfo(np.float32).max)), verbose=0)
    keras.config.set_floatx("float64")
    try:
        data.check_finite(_with(1e300), "x")
        assert data.take(_with(1e300), slice(30, 40), "float64")[7, 2] == 1e300
    finally:
        keras.config.set_floatx("float32")


def test_take_names_the_row_of_the_data_for_shuffled_batches():
    x = _with(1e39, row=11, column=0)
    order = np.array([40, 3, 11, 7])
    with pytest.raises(ValueError, match=r"index \(11, 0\)"):
        data.take(x, order, "float32")
    assert data.take(x, order[[0, 1, 3]], "float32").dtype == np.float32


def test_nan_and_inf_in_the_data_keep_their_own_message():
    x = _with(np.inf)
    with pytest.raises(ValueError, match="contains 1 NaN or infinite"):
        data.check_finite(x, "x")
    assert np.isinf(data.take(x, slice(None), "float32")).sum() == 1  # reported by the caller


def test_integers_beyond_float16():
    labels = np.array([1, 70000, 3], dtype=np.int32)
    with pytest.raises(ValueError, match="beyond the range of float16"):
        data.check_finite(labels, "y", dtype="float16")
    data.check_finite(labels, "y", dtype="float32")
    data.check_finite(np.array([1, 2], dtype=np.int64), "y")  # no scan: int64 fits float32


def test_the_scan_reads_in_blocks(monkeypatch):
    monkeypatch.setattr(data, "_SCAN_ELEMENTS", 7)
    x = np.zeros((100, 3))
    x[[5, 60, 99], [0, 1, 2]] = 1e39
    with pytest.raises(ValueError, match=r"holds 3 value.*index \(5, 0\)"):
        data.check_finite(x, "x")
