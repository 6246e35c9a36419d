"""Files written by real Keras 3 (JAX and TensorFlow backends) and tf.keras 2 (committed by
tools/make_keras_fixtures.py) load without TensorFlow and predict what Keras predicted."""

import json
import warnings
import zipfile

import numpy as np
import pytest
from tests.saving.helpers import FIXTURES, manifest, strip_ids

import numkeras as keras
from numkeras.saving import serialization

ENTRIES = sorted(manifest().items())


def _expected(prefix):
    reference = np.load(FIXTURES / f"{prefix}.npz")
    return reference["x"], reference["y"]


@pytest.mark.parametrize("prefix,info", ENTRIES, ids=[p for p, _ in ENTRIES])
def test_model_file_predicts_like_keras(prefix, info):
    x, expected = _expected(prefix)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every part of the file is understood
        model = keras.models.load_model(FIXTURES / info["files"][0])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5, rtol=0)
    assert model.compiled
    assert model.optimizer.iterations == 4  # 64 samples, batch 16, one epoch: state restored


@pytest.mark.parametrize("prefix,info", [e for e in ENTRIES if len(e[1]["files"]) > 1],
                         ids=[p for p, i in ENTRIES if len(i["files"]) > 1])
def test_weights_file_loads_into_a_fresh_model(prefix, info):
    x, expected = _expected(prefix)
    model = keras.models.load_model(FIXTURES / info["files"][0], compile=False)
    fresh = keras.models.model_from_json(model.to_json())
    assert not np.allclose(fresh.predict(x, verbose=0), expected, atol=1e-5)
    fresh.load_weights(FIXTURES / info["files"][1])
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("prefix", [p for p, i in ENTRIES if i["files"][0].endswith(".keras")])
def test_numkeras_writes_the_config_keras_wrote(prefix):
    """Loading a Keras archive and serializing the model again gives Keras's config.json."""
    path = FIXTURES / f"{prefix}.keras"
    written_by_keras = json.loads(zipfile.ZipFile(path).read("config.json"))
    model = keras.models.load_model(path)
    ours = serialization.serialize_model(model)
    written_by_keras["compile_config"]["jit_compile"] = False  # JAX writes True; numkeras False
    assert strip_ids(ours) == strip_ids(written_by_keras)


def test_compiled_optimizer_state_matches_the_file():
    import h5py

    path = FIXTURES / "keras3_tensorflow_lecture.keras"
    model = keras.models.load_model(path)
    with zipfile.ZipFile(path) as archive, h5py.File(
            __import__("io").BytesIO(archive.read("model.weights.h5")), "r") as store:
        saved = [store[f"optimizer/vars/{i}"][()] for i in range(len(store["optimizer/vars"]))]
    assert store is not None
    assert len(saved) == len(model.optimizer.variables) == 2 + 2 * 4
    for mine, theirs in zip(model.optimizer.variables, saved):
        np.testing.assert_array_equal(mine, theirs)
    assert model.optimizer.get_config()["learning_rate"] == 0.0010000000474974513


def test_jax_archive_has_int32_iteration_and_still_loads():
    import io

    import h5py

    path = FIXTURES / "keras3_jax_lecture.keras"
    with zipfile.ZipFile(path) as archive, h5py.File(
            io.BytesIO(archive.read("model.weights.h5")), "r") as store:
        assert store["optimizer/vars/0"].dtype == np.int32
    assert keras.models.load_model(path).optimizer.iterations == 4


def test_tf_keras_file_with_batchnorm_axis_list_loads():
    model = keras.models.load_model(FIXTURES / "tfkeras_image.h5")
    batch_norm = next(layer for layer in model.layers
                      if type(layer).__name__ == "BatchNormalization")
    assert batch_norm.axis == 3 or batch_norm.axis == -1
    assert not np.allclose(batch_norm.moving_mean.data, 0)  # trained statistics were loaded


def test_fixtures_are_small():
    for path in FIXTURES.iterdir():
        assert path.stat().st_size < 200_000, path
