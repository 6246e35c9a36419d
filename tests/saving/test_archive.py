"""The .keras archive: written as Keras 3.15 writes it, read in all the forms Keras writes."""

import datetime
import io
import json
import os
import zipfile

import numpy as np
import pytest
from tests.helpers import lecture_model
from tests.saving.helpers import (
    SPEC_FIXTURES,
    members,
    rezip,
    small_data,
    strip_ids,
    trained_small_model,
)

import numkeras as keras
from numkeras.saving import SavingError, archive_bytes


def test_members_order_compression_and_dates(tmp_path):
    model = trained_small_model()
    path = tmp_path / "m.keras"
    before = datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(seconds=2)
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    assert infos[0].date_time == infos[1].date_time == (1980, 1, 1, 0, 0, 0)
    saved = datetime.datetime(*infos[2].date_time)
    assert before <= saved <= datetime.datetime.now() + datetime.timedelta(seconds=2)
    assert all(i.external_attr == 0o600 << 16 for i in infos)  # as Keras's zipfile calls


def test_metadata_is_keras_3_15():
    data = members(archive_bytes(trained_small_model()))
    metadata = json.loads(data["metadata.json"])
    assert list(metadata) == ["keras_version", "date_saved"]
    assert metadata["keras_version"] == "3.15.1"
    datetime.datetime.strptime(metadata["date_saved"], "%Y-%m-%d@%H:%M:%S")
    assert len(data["metadata.json"]) == 64  # the size Keras's own metadata has


def test_config_of_the_lecture_model_is_the_one_keras_wrote():
    """The spec's config.json (the lecture model, adam, one epoch) byte-compatible in content."""
    model = lecture_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    written = json.loads(members(archive_bytes(model))["config.json"])
    expected = json.loads((SPEC_FIXTURES / "keras3_trained_config.json").read_text())
    assert strip_ids(written) == strip_ids(expected)
    text = members(archive_bytes(model))["config.json"].decode()
    assert text.startswith('{"module": "keras", "class_name": "Sequential", "config": ')
    assert '"learning_rate": 0.0010000000474974513' in text


def test_uncompiled_and_unbuilt_models():
    model = keras.Sequential([keras.layers.Dense(2)])
    config = json.loads(members(archive_bytes(model))["config.json"])
    assert config["compile_config"] == {}
    assert "build_config" not in config
    assert config["config"]["layers"][0]["class_name"] == "Dense"


def test_round_trip_predictions_weights_and_optimizer(tmp_path):
    model = trained_small_model()
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    x, _ = small_data(10, seed=3)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [w.name for w in restored.weights] == [w.name for w in model.weights]
    assert restored.optimizer.iterations == model.optimizer.iterations == 4
    for a, b in zip(restored.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    assert restored.get_config() == model.get_config()
    assert restored.loss == "sparse_categorical_crossentropy"


def test_compile_false_gives_an_uncompiled_model(tmp_path):
    trained_small_model().save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert not restored.compiled and restored.optimizer is None


def test_loader_accepts_what_keras_accepts():
    """DEFLATE members, no metadata.json, no `name` attributes, no empty groups, plain-string
    dtypes and a minimal config (spec 3.1.3)."""
    import h5py

    model = trained_small_model()
    files = members(archive_bytes(model))
    config = json.loads(files["config.json"])
    for layer in config["config"]["layers"]:
        layer.pop("build_config", None)
        if isinstance(layer["config"].get("dtype"), dict):
            layer["config"]["dtype"] = "float32"
    config.pop("build_config")
    buffer = io.BytesIO()
    with h5py.File(io.BytesIO(files["model.weights.h5"]), "r") as source, \
            h5py.File(buffer, "w") as target:
        def copy(name, node):
            if isinstance(node, h5py.Dataset):
                target[name] = node[()]
        source.visititems(copy)
    archive = rezip({"config.json": json.dumps(config).encode(),
                     "model.weights.h5": buffer.getvalue()}, zipfile.ZIP_DEFLATED)
    restored = keras.models.load_model(io.BytesIO(archive))
    x, _ = small_data(4)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.optimizer.iterations == 4


def test_file_objects(tmp_path):
    model = trained_small_model()
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    restored = keras.models.load_model(buffer)
    assert restored.count_params() == model.count_params()


def test_extension_errors_match_keras(tmp_path):
    model = trained_small_model()
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        model.save(tmp_path / "model")
    with pytest.raises(ValueError, match="The filename must end in `.weights.h5`"):
        model.save_weights(tmp_path / "w.h5")
    with pytest.raises(SavingError, match="File format not supported"):
        keras.models.load_model(tmp_path)


def test_overwrite_false_keeps_the_existing_file(tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        trained_small_model().save(path, overwrite=False)
    assert path.read_bytes() == b"old"


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    from numkeras.saving import archive

    model = trained_small_model()
    path = tmp_path / "m.keras"
    model.save(path)
    good = path.read_bytes()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(archive.weights_module, "weights_bytes", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.keras"]  # no temporary file left behind


def test_nested_sequential_and_every_core_layer_round_trip(tmp_path):
    inner = keras.Sequential([keras.layers.Dense(6), keras.layers.PReLU()], name="block")
    model = keras.Sequential([
        keras.Input((4, 4)), keras.layers.Reshape((2, 8)), keras.layers.Flatten(), inner,
        keras.layers.LeakyReLU(), keras.layers.ELU(), keras.layers.ReLU(max_value=3.0),
        keras.layers.Dropout(0.1), keras.layers.Activation("tanh"), keras.layers.Maxout(3),
        keras.layers.Dense(4), keras.layers.Softmax()])
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.5), loss="mse")
    x = np.random.default_rng(0).random((8, 4, 4), dtype=np.float32)
    model.fit(x, np.zeros((8, 4)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.get_config() == model.get_config()


class TwoLayers(keras.Model):
    """A subclassed model: its layers are saved under their attribute names, as in Keras."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.drop = keras.layers.Dropout(0.5)
        self.out = keras.layers.Dense(2)

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x), training=training))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_needs_its_class_and_round_trips(tmp_path):
    from numkeras.saving import UnsafeFileError
    from numkeras.saving.weights import saveables

    model = TwoLayers()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).random((8, 3), dtype=np.float32)
    model.fit(x, np.zeros((8, 2)), epochs=1, verbose=0)
    assert [p for p, _ in saveables(model)] == ["", "drop", "hidden", "optimizer", "out"]
    model.save(tmp_path / "m.keras")
    with pytest.raises(UnsafeFileError, match="TwoLayers"):
        keras.models.load_model(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras",
                                       custom_objects={"TwoLayers": TwoLayers})
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.optimizer.iterations == 1


def test_loss_metric_and_schedule_objects_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(), "accuracy"])
    x = np.random.default_rng(1).random((16, 4), dtype=np.float32)
    y = np.arange(16) % 3
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    compiled = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))[
        "compile_config"]
    assert compiled["optimizer"]["config"]["learning_rate"]["class_name"] == "ExponentialDecay"
    assert compiled["loss"]["config"]["from_logits"] is True
    assert compiled["metrics"][1] == "accuracy"
    restored = keras.models.load_model(tmp_path / "m.keras")
    assert restored.optimizer.learning_rate == model.optimizer.learning_rate
    assert restored.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
