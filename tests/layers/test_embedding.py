"""Embedding: lookup values, scatter-add gradient, range checks, shapes, config, saving, and
(when Keras is installed) Keras's own outputs with the same weights."""

import json

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, check_grads, ops
from numkeras.layers import Embedding, deserialize, serialize


def test_lookup_matches_numpy_indexing_for_int_and_float_inputs(rng):
    layer = Embedding(7, 3)
    ids = rng.integers(0, 7, (4, 5))
    out = layer(ids)
    table = layer.embeddings.numpy()
    assert out.shape == (4, 5, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, table[ids])
    # A float dataset (as fit gives) holding whole numbers is looked up the same way.
    np.testing.assert_array_equal(layer(Tensor(ids.astype(np.float32))).data, table[ids])


def test_integer_indices_are_not_rounded_through_float32():
    # 2**24 + 1 has no float32; the base class's cast would look up row 2**24 instead.
    layer = Embedding(2**24 + 2, 1, embeddings_initializer="zeros")
    layer.build_from_shape((None, 1))
    layer.embeddings.data[2**24 + 1] = 1.0
    assert layer(np.array([[2**24 + 1]])).data.ravel().tolist() == [1.0]


def test_weights_names_shapes_and_default_uniform_initializer():
    layer = Embedding(1000, 16)
    layer.build_from_shape((None, 10))
    assert [w.name for w in layer.weights] == ["embeddings"]
    assert layer.weights[0].shape == (1000, 16) and layer.count_params() == 16000
    values = layer.embeddings.numpy()
    assert values.min() >= -0.05 and values.max() <= 0.05 and values.std() > 0.02


def test_gradient_scatter_adds_repeated_indices():
    layer = Embedding(4, 2, dtype="float64")
    ids = np.array([[0, 3, 3], [3, 1, 0]])
    out = layer(ids)
    ops.sum(out).backward()
    np.testing.assert_array_equal(layer.embeddings.grad, [[2, 2], [1, 1], [0, 0], [3, 3]])


def test_gradient_by_finite_differences(rng):
    ids = rng.integers(0, 5, (3, 4))
    weights = rng.standard_normal((3, 4, 2))
    assert check_grads(lambda e: ops.sum(ops.multiply(
        ops.embedding_lookup(e, indices=ids), weights)), rng.standard_normal((5, 2)))


@pytest.mark.parametrize("bad", [-1, 7, 100])
def test_indices_out_of_range_are_refused_naming_the_layer(bad):
    layer = Embedding(7, 3, name="words")
    with pytest.raises(ValueError, match=rf"'words'.*index {bad}.*\[0, 7\)"):
        layer(np.array([[0, bad]]))


def test_non_integer_values_are_refused():
    with pytest.raises(ValueError, match="integer indices"):
        Embedding(7, 3, name="e")(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="integer indices"):
        Embedding(7, 3)(np.array([[np.nan, 1.0]]))


def test_mask_zero_makes_a_mask_of_the_nonzero_indices():
    layer = Embedding(10, 4, mask_zero=True, name="emb")
    assert layer.produces_mask() and layer.get_config()["mask_zero"] is True
    np.testing.assert_array_equal(layer.compute_mask(np.array([[3, 0, 1]])), [[True, False, True]])
    plain = Embedding(10, 4, mask_zero=False)
    assert not plain.produces_mask() and plain.compute_mask(np.array([[3, 0]])) is None


@pytest.mark.parametrize("argument", ["input_dim", "output_dim"])
def test_invalid_dimensions_name_the_argument(argument):
    options = {"input_dim": 5, "output_dim": 2, argument: 0}
    with pytest.raises(ValueError, match=f"{argument}=0"):
        Embedding(**options)


def test_output_shapes_with_symbolic_input_and_any_rank():
    x = keras.Input(shape=(12,))
    assert Embedding(50, 8)(x).shape == (None, 12, 8)
    assert Embedding(50, 8).compute_output_shape((None, 3, 4)) == (None, 3, 4, 8)
    assert Embedding(50, 8)(np.array([1, 2])).shape == (2, 8)


def test_config_has_keras_keys_and_round_trips():
    layer = Embedding(20, 4, embeddings_regularizer="l2", name="emb")
    config = layer.get_config()
    assert set(config) == {
        "name", "trainable", "dtype", "input_dim", "output_dim", "embeddings_initializer",
        "embeddings_regularizer", "activity_regularizer", "embeddings_constraint", "mask_zero",
        "quantization_config"}
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    clone = deserialize(json.loads(json.dumps(serialize(layer))))
    assert isinstance(clone, Embedding) and clone.get_config() == config


def test_model_trains_and_round_trips_through_a_keras_archive(tmp_path, rng):
    pytest.importorskip("h5py")
    model = keras.Sequential([keras.Input(shape=(6,)), Embedding(10, 4),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = rng.integers(0, 10, (16, 6)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    before = model.layers[0].get_weights()[0].copy()
    model.fit(x, y, epochs=2, verbose=0)
    trained = model.layers[0].get_weights()[0]
    assert not np.allclose(before, trained)
    model.save(tmp_path / "model.keras")
    clone = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(clone.layers[0].get_weights()[0], trained)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


# ----- against Keras 3 (skipped without it) -----


def test_outputs_equal_keras_with_the_same_weights(rng):
    real_keras = pytest.importorskip("keras")
    ids = rng.integers(0, 9, (3, 5))
    ours = Embedding(9, 4)
    theirs = real_keras.layers.Embedding(9, 4)
    ours.build_from_shape(ids.shape)
    theirs.build(ids.shape)
    theirs.set_weights(ours.get_weights())
    assert tuple(theirs.compute_output_shape(ids.shape)) == ours.compute_output_shape(ids.shape)
    np.testing.assert_allclose(ours(ids).data, np.asarray(theirs(ids)), rtol=1e-6, atol=1e-6)
    assert set(theirs.get_config()) == set(ours.get_config())


def test_archives_move_both_ways_with_keras(tmp_path, rng):
    real_keras = pytest.importorskip("keras")
    x = rng.integers(0, 10, (4, 6))
    model = keras.Sequential([keras.Input(shape=(6,)), Embedding(10, 4),
                              keras.layers.Conv1D(3, 2, padding="causal"),
                              keras.layers.LayerNormalization(),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.save(tmp_path / "ours.keras")
    theirs = real_keras.saving.load_model(tmp_path / "ours.keras")
    expected = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(expected, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    theirs.save(tmp_path / "theirs.keras")
    back = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
