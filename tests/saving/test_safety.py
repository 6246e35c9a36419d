"""Opening a stranger's file never runs code and never crashes: every bad case is a clear
SavingError (UnsafeFileError when refused for safety) naming the file and the problem."""

import io
import json
import struct
import zipfile

import h5py
import numpy as np
import pytest
from tests.saving.helpers import members, rezip, small_data, trained_small_model

import numkeras as keras
from numkeras.saving import SavingError, UnsafeFileError, archive_bytes


@pytest.fixture(scope="module")
def files():
    """The members of a trained small model's archive (name -> bytes)."""
    from numkeras import config
    from numkeras.utils import naming

    config.set_random_seed(5)
    naming.reset()
    return members(archive_bytes(trained_small_model()))


def load(files, **kwargs):
    return keras.models.load_model(io.BytesIO(rezip(files)), **kwargs)


def with_config(files, edit):
    config = json.loads(files["config.json"])
    edit(config)
    return {**files, "config.json": json.dumps(config).encode()}


def layer_entries(config):
    return config["config"]["layers"]


# ----- code in configs -----
def lambda_entry():
    return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": "lambda", "function": {"class_name": "__lambda__", "config": {
                "code": "4wEAAAAAAAAAAAAAAAEAAAAD", "defaults": None, "closure": None}}}}


def test_lambda_layer_is_refused(files):
    edited = with_config(files, lambda c: layer_entries(c).insert(2, lambda_entry()))
    with pytest.raises(UnsafeFileError, match="Lambda layer.*never runs code"):
        load(edited)
    with pytest.raises(UnsafeFileError, match="Lambda"):
        load(edited, safe_mode=False)  # not registered by the caller: still refused


class Identity(keras.layers.Layer):
    """What a caller might register for a Lambda layer they trust."""

    def __init__(self, function=None, **kwargs):
        super().__init__(**kwargs)

    def call(self, x):
        return x


def test_lambda_allowed_only_with_safe_mode_off_and_a_registered_class(files):
    edited = with_config(files, lambda c: layer_entries(c).insert(2, lambda_entry()))
    model = load(edited, safe_mode=False, custom_objects={"Lambda": Identity})
    assert isinstance(model.layers[1], Identity)
    with pytest.raises(UnsafeFileError):
        load(edited, safe_mode=True, custom_objects={"Lambda": Identity})


def test_python_lambda_anywhere_is_refused(files):
    def edit(config):
        layer_entries(config)[1]["config"]["activation"] = {
            "class_name": "__lambda__", "config": {"code": "AAAA"}}
    with pytest.raises(UnsafeFileError, match="Python lambda"):
        load(with_config(files, edit))


def test_unknown_module_is_refused_without_importing_it(files):
    def edit(config):
        layer_entries(config)[1].update(module="os", class_name="system")
    with pytest.raises(UnsafeFileError, match="module 'os', which is not Keras"):
        load(with_config(files, edit))


def test_custom_registered_name_is_refused(files):
    def edit(config):
        layer_entries(config)[1]["registered_name"] = "my_package>Dense"
    with pytest.raises(UnsafeFileError, match="registered_name 'my_package>Dense'"):
        load(with_config(files, edit))


def test_nested_object_from_unknown_module_is_refused(files):
    def edit(config):
        layer_entries(config)[1]["config"]["kernel_initializer"]["module"] = "subprocess"
    with pytest.raises(UnsafeFileError, match="subprocess"):
        load(with_config(files, edit))


class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def my_activation(x):
    return keras.activations.relu(x) * 2.0


def test_custom_objects_are_the_only_way_in(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation=my_activation),
                              Scale(3.0)])
    model.save(tmp_path / "m.keras")
    entry = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))
    assert entry["config"]["layers"][2]["module"] == __name__
    assert entry["config"]["layers"][2]["registered_name"] == "Scale"
    with pytest.raises(UnsafeFileError, match="Scale"):
        keras.models.load_model(tmp_path / "m.keras")
    with pytest.raises(SavingError, match="my_activation"):
        keras.models.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={
        "Scale": Scale, "my_activation": my_activation})
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[1].factor == 3.0


def test_layer_numkeras_lacks_is_named(files):
    def edit(config):
        layer_entries(config)[1].update(class_name="ConvLSTM2D")
    with pytest.raises(SavingError, match="numkeras has no layer 'ConvLSTM2D'") as error:
        load(with_config(files, edit))
    assert not isinstance(error.value, UnsafeFileError)
    assert "custom_objects" in str(error.value)


def test_functional_model_is_a_clear_error(files):
    def edit(config):
        config["class_name"] = "Functional"
    with pytest.raises(SavingError, match="functional model"):
        load(with_config(files, edit))


def test_bad_layer_arguments_are_wrapped(files):
    def edit(config):
        layer_entries(config)[1]["config"]["units"] = "many"
    with pytest.raises(SavingError, match=r"layers\[1\]: layer Dense 'dense'.*units"):
        load(with_config(files, edit))


# ----- sizes asked for by configs -----
def test_huge_weights_in_config_are_refused_before_allocation(files):
    def edit(config):
        layer_entries(config)[1]["config"]["units"] = 10 ** 9
    with pytest.raises(SavingError, match=r"asks for a weight of shape \(5, 1000000000\)"):
        load(with_config(files, edit))


def test_huge_input_shape_is_refused(files):
    def edit(config):
        layer_entries(config)[0]["config"]["batch_shape"] = [None, 10 ** 6, 10 ** 6]
    with pytest.raises(SavingError, match="samples of shape"):
        load(with_config(files, edit))


def test_huge_config_from_json_is_refused():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    text = model.to_json().replace('"units": 2', '"units": 400000000')
    with pytest.raises(SavingError, match="asks for a weight"):
        keras.models.model_from_json(text)


# ----- archive structure -----
@pytest.mark.parametrize("name", ["../evil.py", "/etc/passwd", "a/../../b", "C:/x", "a\\..\\b"])
def test_member_paths_are_checked(files, name):
    with pytest.raises(UnsafeFileError, match="outside a target"):
        load({**files, name: b"x"})


def test_duplicate_members_are_refused(files):
    buffer = io.BytesIO(rezip(files))
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("config.json", b"{}")
    with pytest.raises(UnsafeFileError, match="two members named 'config.json'"):
        keras.models.load_model(io.BytesIO(buffer.getvalue()))


def test_zip_bomb_config_is_refused_without_reading(files):
    bomb = {**files, "config.json": b" " * (70 * 2 ** 20)}
    data = rezip(bomb, zipfile.ZIP_DEFLATED)
    assert len(data) < 200_000
    with pytest.raises(UnsafeFileError, match="config.json' declares 73400320 bytes"):
        keras.models.load_model(io.BytesIO(data))


def test_zip_bomb_weights_are_refused_without_reading(files):
    bomb = {**files, "model.weights.h5": files["model.weights.h5"] + bytes(50 * 2 ** 20)}
    with pytest.raises(UnsafeFileError, match="model.weights.h5' declares"):
        keras.models.load_model(io.BytesIO(rezip(bomb, zipfile.ZIP_DEFLATED)))


def central_entry(data: bytes, name: bytes) -> int:
    """Where the central directory entry of member ``name`` starts."""
    start = data.index(b"PK\x01\x02")
    while True:
        length = struct.unpack("<H", data[start + 28:start + 30])[0]
        if data[start + 46:start + 46 + length] == name:
            return start
        start = data.index(b"PK\x01\x02", start + 46)


def patch_central_sizes(data: bytes, name: bytes, compressed: int, size: int) -> bytes:
    """Set the sizes the central directory declares for member ``name``."""
    data = bytearray(data)
    start = central_entry(bytes(data), name)
    data[start + 20:start + 28] = struct.pack("<II", compressed, size)
    return bytes(data)


def test_member_larger_than_declared_is_detected(files):
    data = patch_central_sizes(rezip(files), b"config.json", 100, 100)
    with pytest.raises(SavingError, match="config.json' cannot be read|corrupt"):
        keras.models.load_model(io.BytesIO(data))


def test_sizes_that_disagree_are_detected(files):
    stored = len(files["config.json"])
    data = patch_central_sizes(rezip(files), b"config.json", stored, 10 ** 6)
    with pytest.raises(SavingError, match="declares 1000000 bytes and occupies"):
        keras.models.load_model(io.BytesIO(data))


def test_missing_members(files):
    with pytest.raises(SavingError, match="no 'config.json' member"):
        load({k: v for k, v in files.items() if k != "config.json"})
    with pytest.raises(SavingError, match="no 'model.weights.h5' member"):
        load({k: v for k, v in files.items() if k != "model.weights.h5"})


@pytest.mark.parametrize("text,match", [
    (b'{"class_name": "Sequential", "config": ', "not valid JSON: Expecting value: line 1"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "must hold a JSON object"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|nested more than"),
    (b'{"class_name": 7, "config": {}}', "'class_name' must be a string"),
    (b'{"class_name": "Sequential", "config": {"layers": 3}}', "needs a 'layers' list"),
])
def test_malformed_config(files, text, match):
    with pytest.raises(SavingError, match=match):
        load({**files, "config.json": text})


def test_truncated_archives(files):
    data = rezip(files)
    for cut in (0, 10, 100, len(data) // 2, len(data) - 30, len(data) - 1):
        with pytest.raises(SavingError):
            keras.models.load_model(io.BytesIO(data[:cut]))


def test_not_a_model_file(tmp_path):
    (tmp_path / "m.keras").write_bytes(b"GIF89a...")
    with pytest.raises(SavingError, match="neither a `.keras` archive"):
        keras.models.load_model(tmp_path / "m.keras")


# ----- the HDF5 member -----
def rewrite_h5(data: bytes, edit) -> bytes:
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "a") as store:
        edit(store)
    return buffer.getvalue()


def test_dataset_shape_disagreeing_with_config(files):
    def edit(store):
        del store["layers/dense/vars/0"]
        store["layers/dense/vars/0"] = np.zeros((5, 9), np.float32)
    with pytest.raises(SavingError, match=r"dataset '/layers/dense/vars/0'.*\(5, 9\).*\(5, 8\)"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], edit)})


@pytest.mark.parametrize("value", [np.zeros((5, 8), np.int32), np.array([[b"x"] * 8] * 5),
                                   np.zeros((5, 8), np.complex64)])
def test_dataset_dtype_disagreeing_with_config(files, value):
    def edit(store):
        del store["layers/dense/vars/0"]
        store["layers/dense/vars/0"] = value
    with pytest.raises(SavingError, match="has dtype"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], edit)})


def test_missing_and_extra_datasets(files):
    def drop(store):
        del store["layers/dense/vars/1"]
    with pytest.raises(SavingError, match="expects 2 variable"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], drop)})

    def add(store):
        store["layers/dense/vars/2"] = np.zeros(3, np.float32)
    with pytest.raises(SavingError, match="expects 2 variable"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], add)})

    def stray(store):
        store.create_group("layers/dense_7/vars")["0"] = np.zeros(3, np.float32)
    with pytest.raises(SavingError, match="no place for: layers/dense_7/vars/0"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], stray)})


def test_links_to_other_files_are_refused(files, tmp_path):
    def external(store):
        del store["layers/dense"]
        store["layers/dense"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/x")
    with pytest.raises(UnsafeFileError, match="ExternalLink"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], external)})

    def soft(store):
        del store["layers/dense"]
        store["layers/dense"] = h5py.SoftLink("/layers/dense_1")
    with pytest.raises(UnsafeFileError, match="SoftLink"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], soft)})


def test_dataset_stored_in_an_external_file_is_refused(files, tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(bytes(5 * 8 * 4))

    def edit(store):
        del store["layers/dense/vars/0"]
        store.create_dataset("layers/dense/vars/0", shape=(5, 8), dtype=np.float32,
                             external=[(str(raw), 0, 5 * 8 * 4)])
    with pytest.raises(UnsafeFileError, match="other files"):
        load({**files, "model.weights.h5": rewrite_h5(files["model.weights.h5"], edit)})


def test_truncated_weights_member(files):
    weights = files["model.weights.h5"]
    for cut in (4, 100, len(weights) // 2, len(weights) - 100):
        with pytest.raises(SavingError):
            load({**files, "model.weights.h5": weights[:cut]})


def test_truncated_weights_file(tmp_path):
    model = trained_small_model()
    model.save_weights(tmp_path / "m.weights.h5")
    data = (tmp_path / "m.weights.h5").read_bytes()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(SavingError, match="truncated or corrupt"):
        model.load_weights(tmp_path / "cut.weights.h5")


def test_failed_load_leaves_the_model_unchanged(files):
    model = load(files)
    x, _ = small_data(4)
    before = model.predict(x, verbose=0)

    def edit(store):
        store["layers/dense_1/vars/0"][...] = 1.0
        del store["layers/dense_1/vars/1"]
        store["layers/dense_1/vars/1"] = np.zeros(4, np.float32)
    broken = rewrite_h5(files["model.weights.h5"], edit)
    with pytest.raises(SavingError):
        model.load_weights(io.BytesIO(rezip({**files, "model.weights.h5": broken})))
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)


# ----- a model left unbuilt by its file is checked when it is built later (issue 15, 2) -----


def _unbuilt_json(change):
    model = keras.Sequential([keras.layers.UpSampling2D(2), keras.layers.Conv2D(1, 3),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    entry = json.loads(model.to_json())
    change(entry["config"]["layers"])
    return keras.models.model_from_json(json.dumps(entry))


def test_unbuilt_model_from_a_file_keeps_its_weight_budget_at_first_call():
    def huge_dense(layers):
        layers[3]["config"]["units"] = 2**28

    model = _unbuilt_json(huge_dense)
    assert not model.built
    with pytest.raises(SavingError, match=r"built after loading\): layer 'dense' asks for a "
                       r"weight of shape \(36, 268435456\)"):
        model.predict(np.ones((1, 4, 4, 1), np.float32), verbose=0)


def test_unbuilt_model_from_a_file_keeps_its_activation_budget_at_first_call():
    def huge_upsampling(layers):
        layers[0]["config"]["size"] = [20000, 20000]

    model = _unbuilt_json(huge_upsampling)
    with pytest.raises(SavingError, match="up_sampling2d' would handle samples of shape "
                       r"\(None, 80000, 80000, 1\)"):
        model.predict(np.ones((1, 4, 4, 1), np.float32), verbose=0)


def test_unbuilt_model_from_a_file_builds_normally_within_budget():
    model = _unbuilt_json(lambda layers: None)
    assert model.predict(np.ones((1, 4, 4, 1), np.float32), verbose=0).shape == (1, 2)
