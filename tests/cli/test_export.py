"""``numkeras export RUN_DIR model.onnx``: the ONNX file predicts what the run's model does."""

from __future__ import annotations

import numpy as np
import pytest

from numkeras.cli import main, predict

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def test_a_trained_run_exports_and_matches_predict(trained_run, tmp_path, capsys):
    out = tmp_path / "model.onnx"
    assert main(["export", str(trained_run), str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    model, _, _ = predict.load_model(trained_run)
    x = np.random.default_rng(0).random((4,) + model.input_shape[1:], dtype=np.float32)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-5)


def test_a_missing_run_is_one_line_of_error(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nothing"), str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("numkeras export: error:") and "no such model" in err
    assert not (tmp_path / "m.onnx").exists()


def test_a_bad_opset_is_reported(trained_run, tmp_path, capsys):
    assert main(["export", "--opset", "5", str(trained_run), str(tmp_path / "m.onnx")]) == 1
    assert "opset_version" in capsys.readouterr().err
