"""The Keras 3 weights layout (.weights.h5 and the archive's model.weights.h5)."""

import io
import json

import h5py
import numpy as np
import pytest
from tests.helpers import lecture_model, synthetic_images
from tests.saving.helpers import SPEC_FIXTURES, small_data, small_model, trained_small_model

import numkeras as keras
from numkeras.saving import SavingError, get_random_state, set_random_state
from numkeras.saving.weights import saveables, weights_bytes


def dump(data: bytes) -> list[str]:
    """The spec's dump format: groups, datasets with shape and dtype, attributes."""
    lines = []
    with h5py.File(io.BytesIO(data), "r") as store:
        def visit(name, node):
            attrs = {k: v for k, v in node.attrs.items() if k != "numkeras_rng_state"}
            if isinstance(node, h5py.Dataset):
                lines.append(f"D /{name}  shape={node.shape} dtype={node.dtype} ")
            else:
                lines.append(f"G /{name} {attrs if attrs else ''}")
        store.visititems(visit)
    return lines


def test_lecture_model_layout_matches_keras_dump():
    x, y = synthetic_images(64)
    model = lecture_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    expected = (SPEC_FIXTURES / "keras3_trained_model.weights.h5.dump.txt").read_text()
    expected = [line for line in expected.splitlines()[1:]]
    assert dump(weights_bytes(model)) == expected


def test_cnn_layout_matches_keras_dump():
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
        layers.BatchNormalization(), layers.MaxPooling2D(), layers.Dropout(0.25),
        layers.Flatten(), layers.Dense(16, activation="relu"), layers.Dropout(0.5),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    expected = (SPEC_FIXTURES / "keras3_cnn_model.weights.h5.dump.txt").read_text()
    assert dump(weights_bytes(model)) == expected.splitlines()[1:]


def test_paths_use_class_names_not_layer_names():
    keras.layers.Dense(1)  # takes the name "dense": the model's layers become dense_1, dense_2
    model = small_model()
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2"]
    assert [p for p, _ in saveables(model)] == ["", "layers/dense", "layers/dense_1", "optimizer"]
    with h5py.File(io.BytesIO(weights_bytes(model)), "r") as store:
        assert store["layers/dense/vars"].attrs["name"] == "dense_1"
        assert store["vars"].attrs["name"] == "sequential"
        assert store["optimizer/vars"].attrs["name"] == "adam"
        assert store["optimizer/vars/0"].dtype == np.int64
        assert store["optimizer/vars/1"].dtype == np.float32


def test_optimizer_variables_in_keras_order():
    model = trained_small_model()
    with h5py.File(io.BytesIO(weights_bytes(model)), "r") as store:
        shapes = [store[f"optimizer/vars/{i}"].shape for i in range(len(store["optimizer/vars"]))]
    assert shapes == [(), (), (5, 8), (5, 8), (8,), (8,), (8, 3), (8, 3), (3,), (3,)]


def test_save_and_load_weights_round_trip(tmp_path):
    model = trained_small_model()
    model.save_weights(tmp_path / "m.weights.h5")
    other = small_model()
    other.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(model.weights, other.weights):
        np.testing.assert_array_equal(a.data, b.data)
    assert other.optimizer.iterations == 4 and other.optimizer.built
    for a, b in zip(model.optimizer.variables, other.optimizer.variables):
        np.testing.assert_array_equal(a, b)


def test_weights_load_from_a_keras_archive(tmp_path):
    model = trained_small_model()
    model.save(tmp_path / "m.keras")
    other = small_model()
    other.load_weights(tmp_path / "m.keras")
    for a, b in zip(model.weights, other.weights):
        np.testing.assert_array_equal(a.data, b.data)


def test_mismatched_model_is_a_clear_error_and_changes_nothing(tmp_path):
    trained_small_model().save_weights(tmp_path / "m.weights.h5")
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8), keras.layers.Dense(4)])
    before = [w.numpy() for w in other.weights]
    with pytest.raises(SavingError, match=r"dataset '/layers/dense_1/vars/0'.*shape \(8, 3\).*"
                                          r"expects \(8, 4\)"):
        other.load_weights(tmp_path / "m.weights.h5")
    for value, weight in zip(before, other.weights):
        np.testing.assert_array_equal(value, weight.data)


def test_missing_and_extra_layers(tmp_path):
    trained_small_model().save_weights(tmp_path / "m.weights.h5")
    bigger = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8),
                               keras.layers.Dense(3), keras.layers.Dense(2)])
    with pytest.raises(SavingError, match=r"2 variable.*'layers/dense_2/vars'.*file has 0"):
        bigger.load_weights(tmp_path / "m.weights.h5")
    smaller = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8)])
    with pytest.raises(SavingError, match=r"no place for: layers/dense_1/vars/0"):
        smaller.load_weights(tmp_path / "m.weights.h5")


def test_skip_mismatch_loads_the_rest(tmp_path):
    model = trained_small_model()
    model.save_weights(tmp_path / "m.weights.h5")
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8), keras.layers.Dense(4)])
    with pytest.warns(UserWarning, match="Skipping loading weights"):
        other.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(other.layers[0].kernel.data, model.layers[0].kernel.data)


def test_optimizer_that_does_not_fit_is_skipped_with_keras_warning(tmp_path):
    trained_small_model(optimizer="adam").save_weights(tmp_path / "m.weights.h5")
    other = small_model(optimizer=keras.optimizers.SGD(momentum=0.9))
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer 'sgd'"):
        other.load_weights(tmp_path / "m.weights.h5")
    assert other.optimizer.iterations == 0


def test_uncompiled_model_ignores_the_optimizer_group(tmp_path):
    trained_small_model().save_weights(tmp_path / "m.weights.h5")
    plain = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8), keras.layers.Dense(3)])
    plain.load_weights(tmp_path / "m.weights.h5")


def test_random_state_of_dropout_is_saved_and_restored(tmp_path):
    model = trained_small_model(dropout=0.5)
    state = get_random_state(model)
    assert list(state) == ["layers/dropout"]
    model.save_weights(tmp_path / "m.weights.h5")
    expected = model.layers[1]._rng.random(3)
    other = small_model(dropout=0.5)
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(other.layers[1]._rng.random(3), expected)
    set_random_state(other, state)
    np.testing.assert_array_equal(other.layers[1]._rng.random(3), expected)
    with pytest.raises(SavingError, match="no layer with a random generator"):
        set_random_state(other, {"layers/dense": state["layers/dropout"]})
    with h5py.File(tmp_path / "m.weights.h5", "r") as store:
        raw = store["layers/dropout/vars"].attrs["numkeras_rng_state"]
        assert raw.dtype == np.uint8
        assert json.loads(raw.tobytes())["bit_generator"] == "PCG64"


def test_frozen_layer_keeps_keras_variable_order(tmp_path):
    model = trained_small_model()
    model.layers[0].trainable = False
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r") as store:
        assert store["layers/dense/vars/0"].shape == (5, 8)
    other = small_model()
    other.layers[0].trainable = False
    # The saved optimizer was built while both layers trained; this one trains one layer.
    with pytest.warns(UserWarning, match="has 6 variables whereas the saved optimizer"):
        other.load_weights(tmp_path / "m.weights.h5")
    x, _ = small_data(3)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
