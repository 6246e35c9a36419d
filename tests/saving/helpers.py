"""Shared helpers for the saving tests: fixtures written by real Keras, small models, archives."""

import importlib.util
import io
import json
import pathlib
import zipfile

import numpy as np

import numkeras as keras

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC_FIXTURES = ROOT / "tests" / "fixtures" / "keras-compat"


def manifest() -> dict:
    return json.loads((FIXTURES / "manifest.json").read_text())


def fixture_tool():
    """tools/make_keras_fixtures.py as a module (its model builders take a keras namespace)."""
    spec = importlib.util.spec_from_file_location("make_keras_fixtures",
                                                  ROOT / "tools" / "make_keras_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_model(dropout: float = 0.0, optimizer="adam"):
    """Dense(8 relu) [-> Dropout] -> Dense(3 softmax) on 5 features, compiled."""
    layers = [keras.Input((5,)), keras.layers.Dense(8, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(3, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def small_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 5), dtype=np.float32)
    y = (x.sum(axis=1) * 3 / 5).astype(np.int64).clip(0, 2)
    return x, y


def trained_small_model(dropout: float = 0.0, optimizer="adam"):
    model = small_model(dropout, optimizer)
    model.fit(*small_data(), epochs=1, batch_size=16, verbose=0)
    return model


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(files: dict, compression=zipfile.ZIP_STORED) -> bytes:
    """An archive with ``files`` (name -> bytes) in that order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def strip_ids(value):
    """A config without Keras's unstable ``shared_object_id`` and with JSON's lists."""
    value = json.loads(json.dumps(value))

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k != "shared_object_id"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(value)
