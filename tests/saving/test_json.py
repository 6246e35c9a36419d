"""get_config/from_config, to_json and models.model_from_json round trips."""

import json

import h5py
import numpy as np
import pytest
from tests.saving.helpers import FIXTURES, strip_ids, trained_small_model

import numkeras as keras
from numkeras.saving import SavingError, UnsafeFileError


def image_model():
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 1)), layers.ZeroPadding2D(1), layers.Conv2D(4, 3, strides=2),
        layers.BatchNormalization(momentum=0.9), layers.MaxPooling2D(),
        layers.UpSampling2D(interpolation="bilinear"), layers.SpatialDropout2D(0.2),
        layers.AveragePooling2D(), layers.GlobalAveragePooling2D(keepdims=True),
        layers.GlobalMaxPooling2D(), layers.Dense(3, kernel_regularizer="l2")])


@pytest.mark.parametrize("build", [trained_small_model, image_model])
def test_to_json_and_back(build):
    model = build()
    text = model.to_json()
    restored = keras.models.model_from_json(text)
    assert restored.to_json() == text
    assert restored.get_config() == model.get_config()
    assert [w.shape for w in restored.weights] == [w.shape for w in model.weights]
    assert not restored.compiled  # JSON holds the architecture only
    assert "compile_config" not in json.loads(text)


def test_get_config_from_config_round_trip():
    model = image_model()
    clone = keras.Sequential.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()


def test_json_keyword_arguments():
    text = trained_small_model().to_json(indent=2)
    assert text.startswith('{\n  "module": "keras"')


def test_top_level_names():
    text = trained_small_model().to_json()
    assert keras.models.model_from_json(text).count_params() == 75
    assert keras.saving.model_from_json(text).count_params() == 75


def test_tf_keras_model_config_is_accepted():
    with h5py.File(FIXTURES / "tfkeras_lecture.h5", "r") as store:
        text = store.attrs["model_config"]
    model = keras.models.model_from_json(text)
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dense"]
    assert model.input_shape == (None, 8, 8)


def test_keras_3_json_is_accepted():
    import zipfile

    text = zipfile.ZipFile(FIXTURES / "keras3_jax_image.keras").read("config.json")
    model = keras.models.model_from_json(text)
    expected = json.loads(text)
    expected["compile_config"] = None
    ours = json.loads(model.to_json())
    ours["compile_config"] = None
    assert strip_ids(ours) == strip_ids(expected)


def test_model_from_json_is_safe():
    entry = json.loads(trained_small_model().to_json())
    entry["config"]["layers"][1]["module"] = "builtins"
    with pytest.raises(UnsafeFileError, match="builtins"):
        keras.models.model_from_json(json.dumps(entry))
    with pytest.raises(SavingError, match="not valid JSON"):
        keras.models.model_from_json("{")
    with pytest.raises(TypeError, match="JSON string"):
        keras.models.model_from_json(entry)


def test_unbuilt_model_round_trip():
    model = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(1)])
    restored = keras.models.model_from_json(model.to_json())
    assert not restored.built
    restored.build((None, 3))
    assert restored.count_params() == 11
    assert np.all(np.isfinite(restored.predict(np.ones((1, 3)), verbose=0)))
