"""Masks from Embedding(mask_zero=True) and Masking through RNNs, wrappers, Dropout, Dense and
GlobalAveragePooling1D in a model, against Keras 3 (fixtures from
tests/fixtures/recurrent/make_fixtures.py); and models without masks keep the plain path."""

import pathlib
import sys

import numpy as np
import pytest

import numkeras as keras
from numkeras.layers import GlobalAveragePooling1D, Masking

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "recurrent"
sys.path.insert(0, str(FIXTURES))
from mask_models import models  # noqa: E402

ARRAYS = dict(np.load(FIXTURES / "masked.npz"))
NAMES = sorted({key.split("/")[0] for key in ARRAYS})


@pytest.mark.parametrize("name", NAMES)
def test_masked_models_equal_keras(name):
    model = models(keras)[name]
    count = sum(key.startswith(f"{name}/w") for key in ARRAYS)
    model.set_weights([ARRAYS[f"{name}/w{i}"] for i in range(count)])
    out = model.predict(ARRAYS[f"{name}/x"], verbose=0)
    np.testing.assert_allclose(out, ARRAYS[f"{name}/y"], rtol=1e-5, atol=1e-5)


def test_the_mask_changes_the_numbers():
    """Against a model without the mask, so the test above cannot pass by ignoring it."""
    name = "embedding_lstm_pool"
    count = sum(key.startswith(f"{name}/w") for key in ARRAYS)
    weights = [ARRAYS[f"{name}/w{i}"] for i in range(count)]
    L = keras.layers
    plain = keras.Sequential([keras.Input((7,)), L.Embedding(12, 4),
                              L.LSTM(5, return_sequences=True), L.GlobalAveragePooling1D(),
                              L.Dense(3)])
    plain.set_weights(weights)
    out = plain.predict(ARRAYS[f"{name}/x"], verbose=0)
    assert not np.allclose(out, ARRAYS[f"{name}/y"], atol=1e-3)


def test_models_without_a_mask_keep_the_plain_chain():
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(2)])
    assert model._functional._plan.masks is None
    assert model._functional._plan.chain is not None
    masked = keras.Sequential([keras.Input((5,)), keras.layers.Embedding(9, 3, mask_zero=True),
                               keras.layers.LSTM(4)])
    assert masked._functional._plan.masks is not None


def test_masked_model_trains(rng):
    x = rng.integers(1, 12, (32, 7))
    x[:, 5:] = 0
    y = (x[:, 0] > 6).astype("int64")
    model = models(keras)["embedding_lstm_pool"]
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_masking_layer_zeroes_masked_steps():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], dtype="float32")
    layer = Masking()
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(Masking(mask_value=3.0)(x).data[0, 2], [3.0, 0.0])
    np.testing.assert_array_equal(Masking(1.0).compute_mask(np.ones((1, 2, 2))), [[False, False]])
    assert Masking(2.0).get_config()["mask_value"] == 2.0


def test_global_average_pooling_uses_the_mask_only_when_given():
    x = np.arange(12, dtype="float32").reshape(1, 4, 3)
    layer = GlobalAveragePooling1D()
    np.testing.assert_allclose(layer(x).data, x.mean(axis=1))
    mask = np.array([[True, False, True, False]])
    np.testing.assert_allclose(layer(x, mask=mask).data, x[:, [0, 2]].mean(axis=1))
    assert layer.compute_mask(x, mask) is None


def test_padding_at_the_end_changes_nothing_in_a_functional_model(rng):
    ids = keras.Input((None,))
    embedded = keras.layers.Embedding(9, 3, mask_zero=True)(ids)
    seq, h, c = keras.layers.LSTM(4, return_sequences=True, return_state=True)(embedded)
    out = keras.layers.GRU(2)(seq, initial_state=[keras.layers.Dense(2)(h)])
    model = keras.Model(ids, [out, c])
    x = rng.integers(1, 9, (3, 6))
    x[:, 4:] = 0
    padded, trimmed = model.predict(x, verbose=0), model.predict(x[:, :4], verbose=0)
    for a, b in zip(padded, trimmed):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_masked_keras_files_move_both_ways(tmp_path):
    k = pytest.importorskip("keras")
    name = "embedding_bidirectional"
    x = ARRAYS[f"{name}/x"]
    theirs, ours = models(k)[name], models(keras)[name]
    theirs.save(tmp_path / "theirs.keras")
    loaded = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    ours.save(tmp_path / "ours.keras")
    back = k.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
