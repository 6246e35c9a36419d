"""Legacy tf.keras .h5 files (spec 3.2): written as tf.keras 2 writes them, read from tf.keras
2 and Keras 3."""

import json

import h5py
import numpy as np
import pytest
from tests.helpers import lecture_model, synthetic_images
from tests.saving.helpers import FIXTURES, small_data, small_model, trained_small_model

import numkeras as keras
from numkeras.saving import SavingError


def test_layout_matches_tf_keras(tmp_path):
    x, y = synthetic_images(32)
    model = lecture_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as store:
        assert sorted(store.attrs) == ["backend", "keras_version", "model_config",
                                       "training_config"]
        config = json.loads(store.attrs["model_config"])
        assert config["class_name"] == "Sequential"
        first = config["config"]["layers"][0]
        assert first["class_name"] == "InputLayer"
        assert first["config"]["batch_input_shape"] == [None, 28, 28]
        assert config["config"]["layers"][2]["config"]["dtype"] == "float32"
        weights = store["model_weights"]
        assert [n.decode() for n in weights.attrs["layer_names"]] == ["flatten", "dense",
                                                                       "dense_1"]
        assert [n.decode() for n in weights["dense"].attrs["weight_names"]] == [
            "dense/kernel:0", "dense/bias:0"]
        assert weights["dense/dense/kernel:0"].shape == (784, 128)
        assert weights["flatten"].attrs["weight_names"].size == 0
        assert "top_level_model_weights" in weights
        names = [n.decode() for n in store["optimizer_weights"].attrs["weight_names"]]
        assert names[:3] == ["iteration:0", "learning_rate:0", "adam/dense_kernel_momentum:0"]
        assert store["optimizer_weights/iteration:0"].dtype == np.int64
        training = json.loads(store.attrs["training_config"])
        assert training["loss"] == "sparse_categorical_crossentropy"
        assert training["optimizer_config"]["class_name"] == "Custom>Adam"  # as tf.keras 2.11+


def test_round_trip_with_optimizer_state(tmp_path):
    model = trained_small_model()
    model.save(tmp_path / "m.h5")
    restored = keras.models.load_model(tmp_path / "m.h5")
    x, _ = small_data(6)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(restored.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    without = tmp_path / "plain.h5"
    model.save(without, include_optimizer=False)
    assert keras.models.load_model(without).optimizer is None


def test_load_weights_from_legacy_files(tmp_path):
    trained = trained_small_model()
    trained.save(tmp_path / "m.h5")
    model = small_model()
    model.load_weights(tmp_path / "m.h5")
    for a, b in zip(model.weights, trained.weights):
        np.testing.assert_array_equal(a.data, b.data)


def test_weights_only_file_is_not_a_model():
    with pytest.raises(SavingError, match="no 'model_config' attribute: it holds only weights"):
        keras.models.load_model(FIXTURES / "tfkeras_lecture_weights.h5")


def test_layer_count_mismatch(tmp_path):
    trained_small_model().save(tmp_path / "m.h5")
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    with pytest.raises(SavingError, match="layer count mismatch.*1 layers with weights.*has 2"):
        other.load_weights(tmp_path / "m.h5")


def test_tf_2_10_optimizer_layout_is_skipped_with_a_warning(tmp_path):
    model = trained_small_model()
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as store:
        group = store["optimizer_weights"]
        names = [n.decode() for n in group.attrs["weight_names"]]
        group.move(names[0], "Adam/iter:0")
        group.attrs["weight_names"] = np.array([b"Adam/iter:0"] + [n.encode() for n in
                                                                  names[1:]])
    with pytest.warns(UserWarning, match="TF <= 2.10 layout"):
        restored = keras.models.load_model(tmp_path / "m.h5")
    assert restored.optimizer.iterations == 0


def test_long_attributes_split_in_chunks_are_joined(tmp_path):
    """tf.keras splits attributes over 64 KB into `layer_names0`, `layer_names1` ..."""
    trained = trained_small_model()
    trained.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as store:
        group = store["model_weights"]
        names = group.attrs["layer_names"]
        del group.attrs["layer_names"]
        group.attrs["layer_names0"] = names[:1]
        group.attrs["layer_names1"] = names[1:]
    model = small_model()
    model.load_weights(tmp_path / "m.h5")
    np.testing.assert_array_equal(model.layers[1].bias.data, trained.layers[1].bias.data)


def test_weights_only_file_with_chunked_layer_names_is_legacy(tmp_path):
    trained = trained_small_model()
    trained.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as source, h5py.File(tmp_path / "w.h5", "w") as out:
        names = source["model_weights"].attrs["layer_names"]
        for name in names:
            source.copy(source["model_weights"][name.decode()], out, name=name.decode())
        out.attrs["layer_names0"] = names[:1]
        out.attrs["layer_names1"] = names[1:]
    model = small_model()
    model.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(model.layers[1].bias.data, trained.layers[1].bias.data)


def test_a_huge_list_of_layer_names_is_refused_at_once_with_a_short_error(tmp_path):
    """Issue 15, item 3: 200,000 names for a group of one member; no lookups, no echo."""
    names = np.array([f"layer_{i}".encode() for i in range(200_000)])
    with h5py.File(tmp_path / "names.h5", "w") as store:
        for k, chunk in enumerate(np.array_split(names, 50)):
            store.attrs[f"layer_names{k}"] = chunk
        store.create_group("dense")
    with pytest.raises(SavingError, match="lists 200000 names .* group of 1 members") as info:
        small_model().load_weights(tmp_path / "names.h5")
    assert len(str(info.value)) < 500


def test_mismatch_errors_list_at_most_20_names(tmp_path):
    many = keras.Sequential([keras.Input((2,))] + [keras.layers.Dense(2) for _ in range(30)])
    many.save(tmp_path / "many.h5")
    with pytest.raises(SavingError, match=r"\.\.\. \(10 more\)") as info:
        small_model().load_weights(tmp_path / "many.h5")
    assert len(str(info.value)) < 1000


def test_corrupt_legacy_files(tmp_path):
    trained_small_model().save(tmp_path / "m.h5")
    data = (tmp_path / "m.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(SavingError, match="truncated or corrupt"):
        keras.models.load_model(tmp_path / "cut.h5")
    with h5py.File(tmp_path / "m.h5", "a") as store:
        store.attrs["model_config"] = '{"class_name": "Sequential", "config": '
    with pytest.raises(SavingError, match="attribute 'model_config' is not valid JSON"):
        keras.models.load_model(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as store:
        store.attrs["model_config"] = np.arange(3)
    with pytest.raises(SavingError, match="expected text"):
        keras.models.load_model(tmp_path / "m.h5")


def test_lambda_in_legacy_config_is_refused(tmp_path):
    trained_small_model().save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as store:
        config = json.loads(store.attrs["model_config"])
        config["config"]["layers"].insert(1, {"class_name": "Lambda", "config": {
            "name": "lambda", "function": ["4wEAAAAA", None, None], "function_type": "lambda"}})
        store.attrs["model_config"] = json.dumps(config)
    with pytest.raises(keras.saving.UnsafeFileError, match="Lambda"):
        keras.models.load_model(tmp_path / "m.h5")
