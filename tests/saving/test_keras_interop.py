"""Both directions against real Keras 3, on freshly built models (skipped without Keras).

Run it in an environment with Keras, a backend and numkeras installed, e.g.
``KERAS_BACKEND=jax /tmp/kerasenv/bin/python -m pytest tests/saving/test_keras_interop.py``.
"""

import types

import numpy as np
import pytest
from tests.saving.helpers import fixture_tool, strip_ids

import numkeras
from numkeras.saving import serialization

real_keras = pytest.importorskip("keras")

TOOL = fixture_tool()


def numkeras_namespace():
    """numkeras under the names the fixture tool's builders use."""
    return types.SimpleNamespace(Sequential=numkeras.Sequential, Input=numkeras.layers.Input,
                                 layers=numkeras.layers, optimizers=numkeras.optimizers,
                                 utils=numkeras.utils)


def train(namespace, name):
    build, input_shape, optimizer, loss = TOOL.MODELS[name]
    model = build(namespace)
    model.compile(optimizer=TOOL.optimizer(namespace, optimizer), loss=loss,
                  metrics=["accuracy"])
    x, y = TOOL.data(input_shape)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return model, x[:8]


@pytest.mark.parametrize("name", list(TOOL.MODELS))
def test_keras_opens_numkeras_archives(tmp_path, name):
    model, x = train(numkeras_namespace(), name)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = real_keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5, rtol=0)
    assert int(loaded.optimizer.iterations.numpy()) == model.optimizer.iterations
    for theirs, ours in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_allclose(np.asarray(theirs), ours, atol=1e-7, rtol=0)


@pytest.mark.parametrize("name", list(TOOL.MODELS))
def test_keras_loads_numkeras_weights_files(tmp_path, name):
    model, x = train(numkeras_namespace(), name)
    model.save_weights(tmp_path / "model.weights.h5")
    twin = TOOL.MODELS[name][0](real_keras)
    twin.load_weights(tmp_path / "model.weights.h5")
    np.testing.assert_allclose(np.asarray(twin.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", list(TOOL.MODELS))
def test_numkeras_opens_keras_archives_and_writes_the_same_config(tmp_path, name):
    real_keras.utils.set_random_seed(1)
    model, x = train(real_keras, name)
    model.save(tmp_path / "model.keras")
    model.save_weights(tmp_path / "model.weights.h5")
    loaded = numkeras.models.load_model(tmp_path / "model.keras")
    expected = np.asarray(model.predict(x, verbose=0))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-5, rtol=0)
    ours = serialization.serialize_model(loaded)
    theirs = real_keras.saving.serialize_keras_object(model)
    theirs["compile_config"]["jit_compile"] = False
    assert strip_ids(ours) == strip_ids(theirs)
    fresh = numkeras.models.model_from_json(loaded.to_json())
    fresh.load_weights(tmp_path / "model.weights.h5")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, atol=1e-5, rtol=0)


def test_keras_opens_numkeras_legacy_h5(tmp_path):
    model, x = train(numkeras_namespace(), "lecture")
    model.save(tmp_path / "model.h5")
    loaded = real_keras.saving.load_model(tmp_path / "model.h5")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5, rtol=0)
    assert int(loaded.optimizer.iterations.numpy()) == model.optimizer.iterations


def test_keras_round_trip_keeps_training_state(tmp_path):
    """numkeras -> Keras -> numkeras keeps the weights and the optimizer state exactly."""
    model, _ = train(numkeras_namespace(), "lecture")
    model.save(tmp_path / "first.keras")
    real_keras.saving.load_model(tmp_path / "first.keras").save(tmp_path / "second.keras")
    back = numkeras.models.load_model(tmp_path / "second.keras")
    for ours, theirs in zip(model.weights, back.weights):
        np.testing.assert_array_equal(ours.data, theirs.data)
    for ours, theirs in zip(model.optimizer.variables, back.optimizer.variables):
        np.testing.assert_array_equal(ours, theirs)


def test_tf_keras_opens_numkeras_legacy_h5(tmp_path):
    """tf.keras 2 (if installed) opens the model and weights; its optimizer has no
    learning_rate variable, so it restarts the optimizer with a warning."""
    tf_keras = pytest.importorskip("tf_keras")
    model, x = train(numkeras_namespace(), "image")
    model.save(tmp_path / "model.h5")
    loaded = tf_keras.models.load_model(tmp_path / "model.h5")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5, rtol=0)
