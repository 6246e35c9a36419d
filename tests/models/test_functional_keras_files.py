"""Functional models against real Keras: summaries byte for byte, files both ways.

The reference files in tests/fixtures/functional/ were made by tf_keras 2.21 and Keras 3.15
(see its README.md); the models are built here by the same code (make_fixtures.build_models)
with numkeras in place of Keras.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import numkeras as keras

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "functional"


def _maker():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKER = _maker()


def _inputs_and_outputs(path):
    with np.load(path) as archive:
        arrays = dict(archive)
    outputs = [arrays.pop(f"out_{i}") for i in range(sum(k.startswith("out_") for k in arrays))]
    return arrays, outputs


def _predict(model, inputs: dict) -> list:
    names = [t._keras_history[0].name for t in model.inputs]
    x = [inputs[name] for name in names]
    out = model.predict(x if len(x) > 1 else x[0], verbose=0)
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("name", MAKER.MODELS)
def test_classic_summary_is_tf_keras_text_byte_for_byte(name):
    keras.utils.clear_session()
    model = MAKER.build_models(keras)[name]
    lines = []
    model.summary(print_fn=lines.append)
    expected = (FIXTURES / f"{name}.classic.txt").read_text(encoding="utf-8").splitlines()
    assert lines == expected


@pytest.mark.parametrize("name", MAKER.WEIGHTED)
def test_keras3_archive_loads_and_predicts_the_same(name):
    model = keras.models.load_model(FIXTURES / f"{name}.keras3.keras")
    inputs, expected = _inputs_and_outputs(FIXTURES / f"{name}.keras3.npz")
    for got, want in zip(_predict(model, inputs), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("name", MAKER.WEIGHTED)
def test_tf_keras_legacy_h5_loads_and_predicts_the_same(name):
    model = keras.models.load_model(FIXTURES / f"{name}.tfkeras.h5")
    inputs, expected = _inputs_and_outputs(FIXTURES / f"{name}.tfkeras.npz")
    for got, want in zip(_predict(model, inputs), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("name", MAKER.MODELS)
def test_tf_keras_json_rebuilds_the_same_graph(name):
    model = keras.models.model_from_json((FIXTURES / f"{name}.tfkeras.json").read_text())
    lines = []
    model.summary(print_fn=lines.append)
    expected = (FIXTURES / f"{name}.classic.txt").read_text(encoding="utf-8").splitlines()
    assert lines == expected


@pytest.mark.parametrize("name", MAKER.WEIGHTED)
def test_numkeras_archive_round_trip_keeps_predictions(name, tmp_path):
    model = keras.models.load_model(FIXTURES / f"{name}.keras3.keras")
    inputs, _ = _inputs_and_outputs(FIXTURES / f"{name}.keras3.npz")
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    for got, want in zip(_predict(again, inputs), _predict(model, inputs), strict=True):
        np.testing.assert_array_equal(got, want)
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]


@pytest.mark.parametrize("name", MAKER.WEIGHTED)
def test_archive_written_by_numkeras_opens_in_keras_3(name, tmp_path):
    real_keras = pytest.importorskip("keras")
    model = keras.models.load_model(FIXTURES / f"{name}.keras3.keras")
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    theirs = real_keras.models.load_model(tmp_path / "m.keras", compile=False)
    inputs, expected = _inputs_and_outputs(FIXTURES / f"{name}.keras3.npz")
    names = [t.name for t in theirs.inputs]
    x = [inputs[n] for n in names]
    out = theirs.predict(x if len(x) > 1 else x[0], verbose=0)
    for got, want in zip(out if isinstance(out, list) else [out], expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("name", MAKER.WEIGHTED)
def test_keras3_style_summary_is_keras_3_text(name):
    keras.utils.clear_session()
    model = MAKER.build_models(keras)[name]
    # Captured in a 200-column terminal: Keras 3's widths uncapped (88, or 108 with the
    # 'Connected to' column).
    width = 108 if name != "nested" else 88
    text = keras.models.summary.keras3_summary(model, line_length=width)
    assert text == (FIXTURES / f"{name}.keras3.txt").read_text(encoding="utf-8")


class _Doubling(keras.Model):
    """A subclass made as Sub(inputs, outputs) with its own method, saved and loaded."""

    def double(self, x):
        return 2 * self.predict(x, verbose=0)


def test_subclass_made_from_inputs_and_outputs_saves_and_loads(tmp_path):
    inputs = keras.Input((3,), name="x")
    model = _Doubling(inputs, keras.layers.Dense(2, name="d")(inputs))
    model.save(tmp_path / "sub.keras")
    loaded = keras.models.load_model(tmp_path / "sub.keras",
                                     custom_objects={"_Doubling": _Doubling})
    x = np.ones((2, 3), np.float32)
    assert isinstance(loaded, _Doubling)
    np.testing.assert_array_equal(loaded.double(x), model.double(x))
