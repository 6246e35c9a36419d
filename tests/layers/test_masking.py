"""Masks from Embedding(mask_zero=True) and Masking through RNNs, wrappers, Dropout, Dense and
GlobalAveragePooling1D in a model and when the layers are called directly (a subclassed Model's
``call``), against Keras 3 (fixtures from tests/fixtures/recurrent/make_fixtures.py); and models
without masks keep the plain path."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import numkeras as keras
from numkeras.layers import GlobalAveragePooling1D, Masking
from numkeras.layers import layer as layer_module
from numkeras.layers.layer import carried_mask

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


# ----- layers called directly (eagerly, as in a subclassed Model's call) -----
def _fixture_model(name):
    model = models(keras)[name]
    count = sum(key.startswith(f"{name}/w") for key in ARRAYS)
    model.set_weights([ARRAYS[f"{name}/w{i}"] for i in range(count)])
    return model


@pytest.mark.parametrize("name", NAMES)
def test_layers_called_directly_follow_the_mask_like_keras(name):
    """Each fixture model's layers called one after the other on arrays (RNNs, Bidirectional,
    TimeDistributed, Dropout, GlobalAveragePooling1D, Masking) give Keras 3's numbers."""
    model = _fixture_model(name)
    out = ARRAYS[f"{name}/x"]
    for layer in model.layers:
        out = layer(out)
    np.testing.assert_allclose(out.data, ARRAYS[f"{name}/y"], rtol=1e-5, atol=1e-5)


def test_lstm_of_embedding_called_directly_equals_the_sequential_model():
    model = _fixture_model("embedding_lstm_pool")
    embedding, lstm = model.layers[:2]
    x = ARRAYS["embedding_lstm_pool/x"]
    chained = keras.Sequential([keras.Input((7,)), embedding, lstm])
    np.testing.assert_allclose(lstm(embedding(x)).data, chained.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    unmasked = lstm(keras.backprop.Tensor(embedding(x).data)).data
    assert not np.allclose(unmasked, chained.predict(x, verbose=0), atol=1e-3)


class _Tagger(keras.Model):
    """The Keras 3 subclassing pattern: layers chained in ``call`` with no mask argument."""

    def __init__(self, embedding, lstm, dense):
        super().__init__()
        self.embedding, self.lstm, self.dense = embedding, lstm, dense

    def call(self, x):
        return self.dense(self.lstm(self.embedding(x)))


def _tagger_layers():
    L = keras.layers
    return L.Embedding(12, 4, mask_zero=True), L.LSTM(5), L.Dense(3)


def test_subclassed_model_equals_the_functional_model(rng):
    embedding, lstm, dense = _tagger_layers()
    ids = keras.Input((7,))
    functional = keras.Model(ids, dense(lstm(embedding(ids))))
    subclassed = _Tagger(embedding, lstm, dense)
    x = rng.integers(1, 12, (6, 7))
    x[:, 4:] = 0
    x[0, 2:] = 0
    np.testing.assert_allclose(subclassed.predict(x, verbose=0),
                               functional.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    # padding at the end changes nothing, as in Keras
    np.testing.assert_allclose(subclassed.predict(x[1:], verbose=0),
                               subclassed.predict(x[1:, :4], verbose=0), rtol=1e-6, atol=1e-6)


def test_subclassed_model_trains_like_the_functional_model(rng):
    x = rng.integers(1, 12, (8, 7))
    x[:, 5:] = 0
    y = rng.integers(0, 3, 8)
    losses = []
    for make in ("functional", "subclassed"):
        keras.utils.set_random_seed(3)
        embedding, lstm, dense = _tagger_layers()
        if make == "functional":
            ids = keras.Input((7,))
            model = keras.Model(ids, dense(lstm(embedding(ids))))
        else:
            model = _Tagger(embedding, lstm, dense)
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)


def test_explicit_mask_overrides_the_carried_one(rng):
    embedding, lstm, _ = _tagger_layers()
    x = rng.integers(1, 12, (3, 7))
    x[:, 3:] = 0
    embedded = embedding(x)
    plain = keras.backprop.Tensor(embedded.data)  # the same values, no mask attached
    everything = np.ones((3, 7), dtype=bool)
    np.testing.assert_allclose(lstm(embedded, mask=everything).data, lstm(plain).data,
                               rtol=1e-6, atol=1e-6)
    first_two = np.zeros((3, 7), dtype=bool)
    first_two[:, :2] = True
    np.testing.assert_allclose(lstm(embedded, mask=first_two).data,
                               lstm(plain[:, :2]).data, rtol=1e-6, atol=1e-6)


def test_masks_do_not_leak_between_calls(rng):
    embedding, lstm, dense = _tagger_layers()
    x = rng.integers(1, 12, (3, 7))
    x[:, 3:] = 0
    masked = lstm(embedding(x)).data
    values = embedding(x).data
    unmasked = lstm(values).data  # a later call on an array carries no mask
    np.testing.assert_allclose(unmasked, lstm(values, mask=np.ones((3, 7), bool)).data,
                               rtol=1e-6, atol=1e-6)
    assert not np.allclose(masked, unmasked, atol=1e-3)
    assert carried_mask(embedding(x[:, :3])).shape == (3, 3)
    assert carried_mask(keras.layers.Embedding(12, 4)(x)) is None
    assert carried_mask(keras.layers.Flatten()(embedding(x))) is None  # Flatten drops it


def test_mask_passes_through_dense_and_dropout_and_stops_at_the_last_step(rng):
    embedding, lstm, dense = _tagger_layers()
    x = rng.integers(1, 12, (2, 5))
    x[0, 3:] = 0
    mask = x != 0
    hidden = keras.layers.Dropout(0.5)(dense(embedding(x)), training=True)
    np.testing.assert_array_equal(carried_mask(hidden), mask)
    sequences = keras.layers.LSTM(3, return_sequences=True)(hidden)
    np.testing.assert_array_equal(carried_mask(sequences), mask)
    assert carried_mask(lstm(embedding(x))) is None  # the last step only: no time axis left
    seq, h, c = keras.layers.LSTM(2, return_sequences=True, return_state=True)(embedding(x))
    np.testing.assert_array_equal(carried_mask(seq), mask)
    assert carried_mask(h) is None and carried_mask(c) is None
    np.testing.assert_array_equal(embedding(x)._keras_mask, mask)  # Keras's attribute name


def test_initial_state_called_directly_keeps_the_mask(rng):
    embedding = keras.layers.Embedding(9, 3, mask_zero=True)
    gru = keras.layers.GRU(2)
    x = rng.integers(1, 9, (3, 6))
    x[:, 4:] = 0
    state = keras.backprop.Tensor(rng.normal(size=(3, 2)).astype("float32"))
    np.testing.assert_allclose(gru(embedding(x), initial_state=[state]).data,
                               gru(embedding(x[:, :4]), initial_state=[state]).data,
                               rtol=1e-6, atol=1e-6)


def test_custom_layers_take_and_pass_masks_as_in_keras(rng):
    class Count(keras.layers.Layer):
        def call(self, inputs, mask=None):
            return keras.ops.sum(keras.ops.cast(mask, "float32"), axis=1, keepdims=True)

    class Double(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return inputs * 2.0

    embedding = keras.layers.Embedding(9, 3, mask_zero=True)
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    np.testing.assert_array_equal(Count()(Double()(embedding(x))).data, [[2.0], [1.0]])


def test_layers_that_only_pass_masks_stay_on_the_plain_path_until_a_mask_exists(monkeypatch):
    """The lecture's Dense stack pays one flag test per call: classes that only pass masks on
    follow them from the first mask made in the process."""
    monkeypatch.setattr(layer_module, "_masks_made", False)
    monkeypatch.setattr(layer_module, "_waiting_passers", [])

    class Passing(keras.layers.Layer):
        supports_masking = True

        def call(self, inputs):
            return inputs + 1.0

    class Plain(keras.layers.Layer):
        def call(self, inputs):
            return inputs + 1.0

    passing, plain = Passing(), Plain()
    assert not Passing._mask_aware and not Plain._mask_aware
    assert not keras.layers.Flatten()._mask_aware
    embedded = keras.layers.Embedding(5, 2, mask_zero=True)(np.array([[1, 0]]))
    assert Passing._mask_aware and not Plain._mask_aware
    np.testing.assert_array_equal(carried_mask(passing(embedded)), [[True, False]])
    assert carried_mask(plain(embedded)) is None


def test_time_distributed_refuses_a_mask_of_other_steps():
    layer = keras.layers.TimeDistributed(keras.layers.LSTM(2))
    with pytest.raises(ValueError, match=r"TimeDistributed.*\(2, 5\).*\(batch, timesteps\)"):
        layer(np.ones((2, 3, 4, 1), "float32"), mask=np.ones((2, 5), bool))


def test_the_masking_guides_custom_layers_called_directly(rng):
    """Keras's "Masking and padding" guide, its layers called directly: ``_keras_mask`` on
    outputs, a layer with its own ``compute_mask`` supports masking by default (Keras 3),
    ``supports_masking = True`` passes the mask on, ``call(mask=)`` receives it."""
    ops = keras.ops

    class CustomEmbedding(keras.layers.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super().__init__(**kwargs)
            self.mask_zero = mask_zero
            self.embeddings = self.add_weight(shape=(input_dim, output_dim),
                                              initializer="random_normal", dtype="float32")

        def call(self, inputs):
            return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)

        def compute_mask(self, inputs, mask=None):
            return ops.not_equal(inputs, 0) if self.mask_zero else None

    class TemporalSplit(keras.layers.Layer):
        def call(self, inputs):
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else ops.split(mask, 2, axis=1)

    class MyActivation(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True  # "the layer is safe for mask propagation"

        def call(self, inputs):
            return ops.relu(inputs)

    class TemporalSoftmax(keras.layers.Layer):
        def call(self, inputs, mask=None):
            keep = ops.expand_dims(ops.cast(mask, "float32"), -1)
            exp = ops.exp(inputs) * keep
            return exp / ops.sum(exp, axis=1, keepdims=True)

    x = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    keep = x != 0
    embedded = CustomEmbedding(10, 4, mask_zero=True)(x)
    np.testing.assert_array_equal(np.asarray(embedded._keras_mask), keep)
    first, second = TemporalSplit()(embedded)
    np.testing.assert_array_equal(np.asarray(first._keras_mask), keep[:, :2])
    np.testing.assert_array_equal(np.asarray(second._keras_mask), keep[:, 2:])
    weights = TemporalSoftmax()(MyActivation()(keras.layers.Dense(1)(embedded))).data
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    assert (weights[~keep] == 0).all() and (weights[keep] > 0).all()
    assert carried_mask(CustomEmbedding(10, 4)(x)) is None


def test_the_lecture_model_never_follows_masks():
    """In a process without masks, the lecture's Flatten-Dense-Dense step runs with every
    layer on the plain path (a fresh interpreter: this one has made masks already)."""
    script = (
        "import numpy as np, numkeras as keras\n"
        "L = keras.layers\n"
        "model = keras.Sequential([L.Flatten(input_shape=(4, 4)), L.Dense(8, activation='relu'),"
        " L.Dense(3, activation='softmax')])\n"
        "model.compile('adam', 'sparse_categorical_crossentropy')\n"
        "model.train_on_batch(np.ones((2, 4, 4), 'float32'), np.array([0, 1]))\n"
        "print([type(layer)._mask_aware for layer in model.layers])\n")
    src = pathlib.Path(keras.__file__).parents[1]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(src)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[False,", "False,", "False]"]
