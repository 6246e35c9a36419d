"""Attention, AdditiveAttention and MultiHeadAttention against Keras 3: outputs with the same
weights (fixtures captured by tests/fixtures/attention/make_fixtures.py, so no Keras is
needed), serialized configs and weight layouts, gradients, masks, dropout, errors, functional
models, and .keras round trips (both ways with real Keras when it is installed)."""

import json
import pathlib

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import check_grads
from numkeras.layers import AdditiveAttention, Attention, MultiHeadAttention
from numkeras.saving.serialization import layer_from_entry, serialize_layer

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "attention"
CASES = json.loads((FIXTURES / "cases.json").read_text())
ARRAYS = dict(np.load(FIXTURES / "cases.npz"))


def _arrays(name, prefix):
    items = [ARRAYS[f"{name}/{prefix}{i}"] for i in range(64) if f"{name}/{prefix}{i}" in ARRAYS]
    return items


def _call(layer, name, inputs=None):
    """Call ``layer`` as the fixture's case was called in Keras."""
    case = CASES[name]
    inputs = _arrays(name, "x") if inputs is None else inputs
    kwargs = {}
    for key, value in case["call"].items():
        if key == "mask":
            kwargs["mask"] = [None if m is None else ARRAYS[f"{name}/{m}"] for m in value]
        elif isinstance(value, str) and value.startswith("array:"):
            kwargs[key] = ARRAYS[f"{name}/{value[6:]}"]
        else:
            kwargs[key] = value
    out = layer(*inputs, **kwargs) if case["positional"] else layer(inputs, **kwargs)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _weight_names(layer):
    """Weight names as Keras 3 prints their paths below the layer (``query/kernel``)."""
    return [w.path if w.path.split("/")[0] != layer.name else w.name for w in layer.weights]


def _without_axes(value):
    """A config without Keras 3.15's initializer axes keys (numkeras computes them)."""
    if isinstance(value, dict):
        return {k: _without_axes(v) for k, v in value.items()
                if k not in ("input_axes", "output_axes")}
    if isinstance(value, (list, tuple)):
        return [_without_axes(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_equal_keras_with_the_same_weights(name):
    case = CASES[name]
    layer = layer_from_entry(case["entry"])
    _call(layer, name)  # build
    assert _weight_names(layer) == case["weights"]
    layer.set_weights(_arrays(name, "w"))
    outputs, expected = _call(layer, name), _arrays(name, "y")
    assert len(outputs) == case["outputs"] == len(expected)
    for got, want in zip(outputs, expected):
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got.data, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_serialized_layer_equals_keras(name):
    layer = layer_from_entry(CASES[name]["entry"])
    _call(layer, name)
    ours = json.loads(json.dumps(serialize_layer(layer)))
    assert _without_axes(ours) == _without_axes(CASES[name]["entry"])


def test_default_configs_have_keras_keys():
    assert set(Attention().get_config()) == set(CASES["attention_dot"]["entry"]["config"])
    assert set(AdditiveAttention().get_config()) == set(CASES["additive"]["entry"]["config"])
    assert set(MultiHeadAttention(2, 3).get_config()) == set(CASES["mha"]["entry"]["config"])


# ----- gradients (float64, finite differences) -----


def _float64(layer, shapes, rng):
    layer.build_from_shape(shapes)
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.weights])
    return layer


def test_attention_gradients(rng):
    q, v, k = (rng.standard_normal(s) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 4)])
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 1, 1]], bool)
    for layer in (Attention(use_scale=True, dtype="float64"),
                  Attention(score_mode="concat", use_scale=True, dtype="float64"),
                  AdditiveAttention(dtype="float64")):
        _float64(layer, [q.shape, v.shape, k.shape], rng)
        assert check_grads(lambda a, b, c, layer=layer: layer(
            [a, b, c], mask=[None, value_mask], use_causal_mask=True), q, v, k)


def test_multi_head_attention_gradients(rng):
    x, y = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 3))
    layer = _float64(MultiHeadAttention(2, 3, value_dim=2, dtype="float64"),
                     [x.shape, y.shape], rng)
    mask = rng.random((2, 4, 5)) > 0.3
    mask[:, :, 0] = True
    assert check_grads(lambda a, b: layer(a, b, attention_mask=mask), x, y)
    causal = _float64(MultiHeadAttention(2, 3, use_gate=True, dtype="float64"),
                      [x.shape, x.shape], rng)
    assert check_grads(lambda a: causal(a, a, use_causal_mask=True), x)


def test_multi_head_attention_weight_gradients_reach_every_projection(rng):
    x = rng.standard_normal((2, 4, 6)).astype("float32")
    layer = MultiHeadAttention(2, 3)
    out = layer(x, x, use_causal_mask=True)
    out.sum().backward()
    assert all(w.grad is not None and np.abs(w.grad).sum() > 0 for w in layer.weights)


# ----- masks, dropout, shapes -----


def test_explicit_query_mask_equals_the_attention_mask_it_stands_for(rng):
    # Keras 3.15 reads query_mask only from a tensor's implicit mask (the argument is
    # overwritten); numkeras honours the documented argument: (B, Tq) -> (B, Tq, 1).
    x = rng.standard_normal((2, 4, 6)).astype("float32")
    query_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    layer = MultiHeadAttention(2, 3)
    got = layer(x, x, query_mask=query_mask, return_attention_scores=True)
    want = layer(x, x, attention_mask=np.broadcast_to(query_mask[:, :, None], (2, 4, 4)),
                 return_attention_scores=True)
    np.testing.assert_array_equal(got[0].data, want[0].data)
    assert (got[1].data[0, :, 3] == 0).all()  # a masked query row attends to nothing


def test_fully_masked_rows_follow_keras_paths(rng):
    # Keras's fused path (3-D inputs, no dropout, no scores) gives a fully masked row uniform
    # weights; its softmax-layer path (scores returned) gives zeros. numkeras does the same.
    x = rng.standard_normal((1, 3, 4)).astype("float32")
    mask = np.ones((1, 3, 3), bool)
    mask[0, 1] = False
    layer = MultiHeadAttention(1, 2)
    fused = layer(x, x, attention_mask=mask).data
    out, scores = layer(x, x, attention_mask=mask, return_attention_scores=True)
    assert (scores.data[0, 0, 1] == 0).all()
    np.testing.assert_allclose(fused[0, [0, 2]], out.data[0, [0, 2]], rtol=1e-6)
    assert not np.allclose(fused[0, 1], out.data[0, 1])


def test_dropout_only_in_training(rng):
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    for layer in (Attention(dropout=0.5, seed=1), MultiHeadAttention(2, 3, dropout=0.5, seed=1)):
        call = (lambda training, layer=layer: layer([q, q], training=training)) \
            if isinstance(layer, Attention) else \
            (lambda training, layer=layer: layer(q, q, training=training))
        inference = call(False).data
        np.testing.assert_array_equal(call(None).data, inference)
        assert not np.allclose(call(True).data, inference)


def test_symbolic_calls_give_keras_shapes():
    x = keras.Input((5, 8))
    out, scores = MultiHeadAttention(2, 4, output_shape=6)(x, x, return_attention_scores=True)
    assert out.shape == (None, 5, 6) and scores.shape == (None, 2, 5, 5)
    image = keras.Input((3, 4, 8))
    out, scores = MultiHeadAttention(2, 4, attention_axes=(1, 2))(
        image, image, return_attention_scores=True)
    assert out.shape == (None, 3, 4, 8) and scores.shape == (None, 2, 3, 4, 3, 4)
    query, value = keras.Input((3, 8)), keras.Input((7, 5))
    out, scores = Attention()([query, value, keras.Input((7, 8))], return_attention_scores=True)
    assert out.shape == (None, 3, 5) and scores.shape == (None, 3, 7)


@pytest.mark.parametrize("call,message", [
    (lambda: Attention()(np.ones((2, 3, 4))), "list of inputs"),
    (lambda: Attention()([np.ones((2, 3)), np.ones((2, 3))]), "rank >= 3"),
    (lambda: Attention()([np.ones((2, 3, 4)), np.ones((2, 5, 3))]), "same last dimension"),
    (lambda: Attention()([np.ones((2, 3, 4)), np.ones((2, 5, 4))],
                         mask=[None, np.ones((2, 4), bool)]), "does not broadcast"),
    (lambda: Attention()([np.ones((2, 3, 4))] * 2, mask=np.ones((2, 3))), "must be a list"),
    (lambda: Attention(score_mode="general"), "score_mode"),
    (lambda: MultiHeadAttention(0, 3), "num_heads"),
    (lambda: MultiHeadAttention(2, 3, dropout=1.5), "dropout"),
    (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4))), "value` is missing"),
    (lambda: MultiHeadAttention(2, 3)(np.ones((2, 4)), np.ones((2, 4))), "rank >= 3"),
    (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4)), np.ones((2, 5, 4)),
                                      np.ones((2, 6, 4))), "except the last one"),
    (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4)), np.ones((2, 5, 4)),
                                      attention_mask=np.ones((2, 5, 3))), "does not broadcast"),
    (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4)), np.ones((2, 5, 4)),
                                      value_mask=np.ones((2, 3))), "value_mask"),
])
def test_bad_input_names_the_layer_and_shapes(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ----- models and files -----


def _transformer_classifier(api, steps=6, dim=8):
    L = api.layers
    tokens = api.Input((steps, dim))
    attended = L.MultiHeadAttention(2, 4, name="mha")(tokens, tokens, use_causal_mask=True)
    x = L.LayerNormalization()(L.Add()([tokens, attended]))
    x = L.Attention(use_scale=True)([x, tokens])
    x = L.AdditiveAttention()([x, tokens, x])
    x = L.GlobalAveragePooling1D()(x)
    return api.Model(tokens, L.Dense(2, activation="softmax")(x))


def test_functional_model_trains_and_round_trips(tmp_path, rng):
    x = rng.standard_normal((48, 6, 8)).astype("float32")
    y = (x[:, :, 0].mean(axis=1) > 0).astype("int64")
    model = _transformer_classifier(keras)
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "attention.keras")
    loaded = keras.models.load_model(tmp_path / "attention.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)
    assert isinstance(loaded.get_layer("mha"), MultiHeadAttention)


def test_weights_transfer_between_instances(rng):
    x = rng.standard_normal((2, 4, 6)).astype("float32")
    first, second = MultiHeadAttention(2, 3, output_shape=5), MultiHeadAttention(2, 3,
                                                                                output_shape=5)
    first(x, x), second(x, x)
    second.set_weights(first.get_weights())
    np.testing.assert_array_equal(first(x, x).data, second(x, x).data)
    assert [w.shape for w in second.output_dense.weights] == [(2, 3, 5), (5,)]
    assert second._query_dense is second.query_dense  # Keras's private name


def test_keras_file_round_trips_both_ways(tmp_path, rng):
    k = pytest.importorskip("keras")
    theirs, ours = _transformer_classifier(k), _transformer_classifier(keras)
    x = rng.standard_normal((3, 6, 8)).astype("float32")
    theirs.save(tmp_path / "theirs.keras")
    loaded = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    ours.save(tmp_path / "ours.keras")
    back = k.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


# ----- implicit masks (Embedding(mask_zero=True) in a functional model) -----


def _masked_model(api, kind):
    L = api.layers
    tokens = api.Input((6,), dtype="int32")
    embedded = L.Embedding(20, 8, mask_zero=True)(tokens)
    if kind == "mha":
        out = L.MultiHeadAttention(2, 4)(embedded, embedded, use_causal_mask=True)
    elif kind == "mha_key":
        key = L.Embedding(20, 8, mask_zero=True)(tokens)
        out = L.MultiHeadAttention(2, 4)(embedded, L.Dense(8)(embedded), key)
    elif kind == "attention":
        out = L.Attention(use_scale=True)([embedded, L.Dense(8)(embedded)])
    else:
        out = L.AdditiveAttention()([embedded, L.Dense(8)(embedded), embedded])
    pooled = L.GlobalAveragePooling1D()(L.LayerNormalization()(out))
    return api.Model(tokens, L.Dense(3)(pooled))


def _padded_tokens(rng):
    tokens = rng.integers(1, 20, (4, 6))
    tokens[0, 3:], tokens[1, 2:], tokens[3, 5] = 0, 0, 0
    return tokens


def test_implicit_masks_equal_the_explicit_ones(rng):
    tokens = _padded_tokens(rng)
    keep = tokens != 0
    model = _masked_model(keras, "mha")
    embedded = model.layers[1](tokens)
    attention = model.layers[2]
    explicit = attention(embedded, embedded, query_mask=keep, value_mask=keep,
                         use_causal_mask=True)
    implicit = keras.Model(model.input, attention.output)(tokens)
    np.testing.assert_allclose(implicit.data, explicit.data, rtol=1e-6)
    # The mask goes on: the pooling averages the real steps only.
    pooled = keras.Model(model.input, model.layers[-2].output)(tokens).data
    normed = model.layers[3](explicit).data
    want = (normed * keep[..., None]).sum(axis=1) / keep.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(pooled, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["mha", "mha_key", "attention", "additive"])
def test_implicit_masks_match_keras(kind, rng):
    # Not covered: Keras 3.15's MultiHeadAttention clears the masks of the tensors it is
    # called on, so a later layer reading the same tensor sees none; numkeras keeps them.
    k = pytest.importorskip("keras")
    theirs, ours = _masked_model(k, kind), _masked_model(keras, kind)
    for w in theirs.weights:
        w.assign(rng.standard_normal(w.shape).astype("float32") * 0.5)
    ours.set_weights(theirs.get_weights())
    tokens = _padded_tokens(rng)
    np.testing.assert_allclose(ours.predict(tokens, verbose=0),
                               np.asarray(theirs.predict(tokens, verbose=0)),
                               rtol=1e-5, atol=1e-5)


def test_symbolic_masks_are_refused_when_the_model_is_built():
    x, mask = keras.Input((4, 6)), keras.Input((4, 4))
    with pytest.raises(TypeError, match="attention_mask"):
        MultiHeadAttention(2, 3)(x, x, attention_mask=mask)
    with pytest.raises(TypeError, match="mask"):
        Attention()([x, x], mask=[None, keras.Input((4,))])


def test_docstring_examples_run():
    import doctest

    from numkeras.layers import attention

    assert doctest.testmod(attention).failed == 0
