"""Recurrent layers against Keras 3: outputs with the same weights (fixtures captured by
tests/fixtures/recurrent/make_fixtures.py, so no Keras is needed), configs, errors, dropout,
stateful inference, training, and .keras round trips with real Keras when it is installed."""

import json
import pathlib

import numpy as np
import pytest

import numkeras as keras
from numkeras.layers import (
    GRU, LSTM, RNN, Bidirectional, Dense, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell,
    TimeDistributed,
)
from numkeras.saving.serialization import layer_from_entry, serialize_layer

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "recurrent"
CONFIGS = json.loads((FIXTURES / "cases.json").read_text())
ARRAYS = dict(np.load(FIXTURES / "cases.npz"))


def _case(name):
    prefix = f"{name}/"
    items = {k[len(prefix):]: v for k, v in ARRAYS.items() if k.startswith(prefix)}
    weights = [items[f"w{i}"] for i in range(sum(k.startswith("w") for k in items))]
    outputs = [items[f"y{i}"] for i in range(sum(k.startswith("y") for k in items))]
    states = [items[f"state{i}"] for i in range(sum(k.startswith("state") for k in items))]
    return items["x"], items.get("mask"), states, weights, outputs


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_outputs_equal_keras_with_the_same_weights(name):
    x, mask, states, weights, expected = _case(name)
    layer = layer_from_entry(CONFIGS[name])
    layer.build_from_shape(x.shape)
    layer.set_weights(weights)
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = mask
    if states:
        kwargs["initial_state"] = states
    out = layer(x, **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    assert len(outs) == len(expected)
    for got, want in zip(outs, expected):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.data, want, rtol=1e-5, atol=1e-5)


def _without_axes(value):
    """A config without Keras 3.15's initializer axes keys (None: what numkeras computes)."""
    if isinstance(value, dict):
        return {k: _without_axes(v) for k, v in value.items()
                if k not in ("input_axes", "output_axes")}
    return value


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_equals_keras(name):
    layer = layer_from_entry(CONFIGS[name])
    layer.build_from_shape(tuple(CONFIGS[name]["build_config"]["input_shape"]))
    assert _without_axes(serialize_layer(layer)) == _without_axes(CONFIGS[name])


def test_default_configs_have_keras_keys():
    lstm_keys = set(CONFIGS["lstm"]["config"])
    assert set(LSTM(3).get_config()) == lstm_keys
    assert set(GRU(3).get_config()) == set(CONFIGS["gru"]["config"])
    assert set(SimpleRNN(3).get_config()) == set(CONFIGS["simple"]["config"])


def test_weight_layouts():
    layer = LSTM(5)
    layer.build((None, 7, 4))
    assert [w.shape for w in layer.weights] == [(4, 20), (5, 20), (20,)]
    np.testing.assert_array_equal(layer.cell.bias.numpy()[5:10], 1.0)  # unit_forget_bias
    gru = GRU(5)
    gru.build((None, 7, 4))
    assert [w.shape for w in gru.weights] == [(4, 15), (5, 15), (2, 15)]
    before = GRU(5, reset_after=False)
    before.build((None, 7, 4))
    assert before.weights[2].shape == (15,)
    assert [w.path.split("/")[0] for w in layer.weights] == ["lstm_cell"] * 3


def test_generic_rnn_loop_equals_the_fused_primitive(rng):
    """A cell subclass runs step by step; the same weights must give the same numbers."""

    class MyCell(LSTMCell):
        pass

    x = rng.standard_normal((2, 5, 3)).astype("float32")
    mask = rng.random((2, 5)) > 0.3
    for options in ({}, {"go_backwards": True}):
        fused = RNN(LSTMCell(4), return_sequences=True, return_state=True, **options)
        stepped = RNN(MyCell(4), return_sequences=True, return_state=True, **options)
        fused.build(x.shape)
        stepped.build(x.shape)
        stepped.set_weights(fused.get_weights())
        for a, b in zip(fused(x, mask=mask), stepped(x, mask=mask)):
            np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-6)


def test_custom_cell_with_integer_state_size(rng):
    class Accumulate(keras.layers.Layer):
        state_size = 2

        def call(self, inputs, states):
            total = states[0] + inputs
            return total, [total]

    x = rng.standard_normal((3, 4, 2)).astype("float32")
    out = RNN(Accumulate(), return_sequences=True)(x).data
    np.testing.assert_allclose(out, np.cumsum(x, axis=1), rtol=1e-6)


def test_cells_step_like_keras_formulas(rng):
    x = rng.standard_normal((2, 3)).astype("float32")
    h = rng.standard_normal((2, 4)).astype("float32")
    cell = SimpleRNNCell(4)
    out, states = cell(x, [h])
    k, r, b = cell.get_weights()
    np.testing.assert_allclose(out.data, np.tanh(x @ k + h @ r + b), rtol=1e-6)
    out, (h2, c2) = LSTMCell(4)(x, [h, h])
    assert out.shape == c2.shape == (2, 4)
    out, new = GRUCell(4)(x, [h])
    assert out.shape == (2, 4) and len(new) == 1


# ----- errors -----


def test_wrong_rank_names_the_layer_and_the_shape():
    with pytest.raises(ValueError, match=r"layer 'lstm'.*expected ndim=3, found ndim=2.*\(8, 28\)"):
        LSTM(4)(np.ones((8, 28), dtype="float32"))
    with pytest.raises(ValueError, match="expected ndim=3"):
        keras.Sequential([keras.Input((28,)), GRU(3)])


def test_wrong_mask_shape_is_refused():
    with pytest.raises(ValueError,
                       match=r"mask of shape \(2, 4\).*\(batch, timesteps\) = \(2, 5\)"):
        LSTM(3)(np.ones((2, 5, 3), dtype="float32"), mask=np.ones((2, 4), bool))


def test_wrong_initial_state_is_refused():
    x = np.ones((2, 5, 3), dtype="float32")
    with pytest.raises(ValueError, match=r"initial_state with shapes \[\(2, 3\)\].*\[\(2, 3\), "
                                         r"\(2, 3\)\]"):
        LSTM(3)(x, initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"initial_state.*\(2, 4\)"):
        GRU(4)(x, initial_state=[np.zeros((2, 3))])


def test_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="merge mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        TimeDistributed(Dense(2))(np.ones((2, 3), dtype="float32"))


# ----- dropout, stateful, functional use, training -----


def test_dropout_only_in_training_and_seeded(rng):
    x = rng.standard_normal((4, 6, 3)).astype("float32")
    layer = LSTM(5, dropout=0.5, recurrent_dropout=0.3, seed=1)
    plain = layer(x).data
    np.testing.assert_array_equal(plain, layer(x, training=False).data)
    train1 = layer(x, training=True).data
    assert not np.allclose(train1, plain)
    again = LSTM(5, dropout=0.5, recurrent_dropout=0.3, seed=1)
    again.build(x.shape)
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(again(x, training=True).data, train1)


def test_stateful_carries_states_between_batches(rng):
    x = rng.standard_normal((2, 8, 3)).astype("float32")
    whole = LSTM(4)
    stateful = LSTM(4, stateful=True)
    stateful.build(x.shape)
    whole.build(x.shape)
    stateful.set_weights(whole.get_weights())
    stateful(x[:, :4])
    np.testing.assert_allclose(stateful(x[:, 4:]).data, whole(x).data, rtol=1e-5, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :4]).data, whole(x[:, :4]).data, rtol=1e-6)
    with pytest.raises(ValueError, match="stateful"):
        stateful(x[:1, :4])


def test_functional_initial_state_and_return_state(rng):
    inputs = keras.Input((5, 3))
    seq, h, c = LSTM(4, return_sequences=True, return_state=True)(inputs)
    decoded = GRU(4)(seq, initial_state=[h])
    model = keras.Model(inputs, [decoded, c])
    out, carry = model.predict(rng.standard_normal((2, 5, 3)).astype("float32"), verbose=0)
    assert out.shape == (2, 4) and carry.shape == (2, 4)


def test_sequential_lstm_learns_and_round_trips(tmp_path, rng):
    x = rng.standard_normal((64, 6, 3)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int64")
    model = keras.Sequential([keras.Input((6, 3)), Bidirectional(LSTM(8, return_sequences=True)),
                              TimeDistributed(Dense(4)), GRU(6), Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "rnn.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


# ----- real Keras -----


def _keras():
    return pytest.importorskip("keras")


def _models(k):
    def build(api):
        L = api.layers
        return api.Sequential([
            api.Input((6, 3)), L.Bidirectional(L.LSTM(4, return_sequences=True)),
            L.TimeDistributed(L.Dense(3)), L.GRU(5, return_sequences=True),
            L.GRU(4, reset_after=False, go_backwards=True), L.Dense(2)])
    return build(k), build(keras)


def test_keras_file_round_trips_both_ways(tmp_path, rng):
    k = _keras()
    theirs, ours = _models(k)
    x = rng.standard_normal((3, 6, 3)).astype("float32")
    theirs.save(tmp_path / "theirs.keras")
    loaded = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    ours.save(tmp_path / "ours.keras")
    back = k.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_legacy_tf_keras_h5_with_lstm_and_gru_loads():
    """tf.keras 2 writes ``time_major: false`` and ``implementation`` in RNN configs."""
    expected = np.load(FIXTURES / "tfkeras_rnn.npz")
    model = keras.models.load_model(FIXTURES / "tfkeras_rnn.h5")
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["y"],
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="time_major=True"):
        LSTM(3, time_major=True)


def _model_with_initial_states():
    import numkeras as nk

    nk.utils.set_random_seed(0)
    x, h, c = nk.Input((5, 3)), nk.Input((4,)), nk.Input((4,))
    y = nk.layers.LSTM(4)(x, initial_state=[h, c])
    b = nk.layers.Bidirectional(nk.layers.GRU(4))(x, initial_state=[h, h])
    return nk.Model([x, h, c], [y, b])


def _state_inputs():
    rng = np.random.default_rng(0)
    return [rng.random(shape, dtype=np.float32) for shape in ((2, 5, 3), (2, 4), (2, 4))]


def test_initial_states_are_written_as_keras_initial_state_keyword(tmp_path):
    import numkeras as nk

    model = _model_with_initial_states()
    node = next(e for e in model.get_config()["layers"] if e["class_name"] == "LSTM")[
        "inbound_nodes"][0]
    assert len(node["args"]) == 1 and node["args"][0]["config"]["shape"] == [None, 5, 3]
    assert [s["config"]["keras_history"][0] for s in node["kwargs"]["initial_state"]] == \
        ["input_layer_1", "input_layer_2"]
    model.save(tmp_path / "states.keras")
    restored = nk.models.load_model(tmp_path / "states.keras")
    for got, want in zip(restored.predict(_state_inputs(), verbose=0),
                         model.predict(_state_inputs(), verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_initial_states_round_trip_with_keras_3(tmp_path):
    keras = pytest.importorskip("keras")
    import numkeras as nk

    model = _model_with_initial_states()
    model.save(tmp_path / "nk.keras")
    theirs = keras.models.load_model(tmp_path / "nk.keras")
    want = model.predict(_state_inputs(), verbose=0)
    for got, expected in zip(theirs.predict(_state_inputs(), verbose=0), want):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    theirs.save(tmp_path / "k3.keras")
    back = nk.models.load_model(tmp_path / "k3.keras")
    for got, expected in zip(back.predict(_state_inputs(), verbose=0), want):
        np.testing.assert_allclose(got, expected, atol=1e-5)
