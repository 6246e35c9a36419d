"""Failures of the commands (issue 15, items 4 and 8): each is one clear line on stderr and a
non-zero exit code, never a traceback; results that are not finite are failures too."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

import numkeras as keras
from numkeras.cli import main, train
from numkeras.datasets import _loader

Image = pytest.importorskip("PIL.Image")


def one_line(captured) -> str:
    """The single line a failed command wrote to stderr."""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def gray_png(path, size=(28, 28)):
    pixels = np.random.default_rng(0).integers(0, 256, size[::-1], dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


# ----- numkeras train -----
def test_a_huge_hidden_layer_is_refused_before_allocating(loader, capsys):
    assert main(["train", "--hidden", "10000000000", "--quiet", "--output", "out"]) == 1
    line = one_line(capsys.readouterr())
    assert "--hidden 10000000000" in line and "Use smaller --hidden sizes" in line
    assert loader.calls == ["fashion_mnist"]


def test_parameter_count_matches_the_built_models():
    for kind in train.MODELS:
        architecture = {"model": kind, "hidden": [64, 32], "input_shape": (28, 28),
                        "classes": 10}
        assert train.parameter_count(**architecture) == \
            train.build_model(**architecture).count_params()


def test_a_memory_error_anywhere_is_one_line(loader, monkeypatch, capsys):
    def no_memory(**architecture):
        raise MemoryError

    monkeypatch.setattr(train, "build_model", no_memory)
    assert main(["train", "--quiet", "--output", "out"]) == 1
    assert "not enough memory" in one_line(capsys.readouterr())


@pytest.mark.parametrize("rate", ["1e300", "inf", "nan", "0", "-1", "3.5e38"])
def test_a_learning_rate_float32_cannot_hold_is_refused_when_parsing(loader, capsys, rate):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--learning-rate", rate])
    assert exit_.value.code == 2
    assert "argument --learning-rate: expected a positive number" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow: what users see as a warning
def test_training_that_diverges_fails_and_saves_no_model(loader, tmp_path, capsys):
    code = main(["train", "--optimizer", "sgd", "--learning-rate", "1e30", "--epochs", "2",
                 "--quiet", "--output", "out"])
    line = one_line(capsys.readouterr())
    assert code == 1 and "training diverged" in line and "Lower --learning-rate" in line
    assert not (tmp_path / "out" / train.KERAS_FILE).exists()


def test_an_output_directory_that_cannot_be_written_fails_before_training(loader, tmp_path,
                                                                         capsys):
    directory = tmp_path / "readonly"
    directory.mkdir()
    os.chmod(directory, 0o500)
    try:
        if os.access(directory, os.W_OK):
            pytest.skip("running as root: permission bits do not stop writes")
        assert main(["train", "--quiet", "--output", str(directory)]) == 1
    finally:
        os.chmod(directory, 0o700)
    assert f"cannot write files in {directory}" in one_line(capsys.readouterr())


def test_a_file_system_that_turns_read_only_later_is_one_line(loader, monkeypatch, capsys):
    def read_only(model, directory):
        raise OSError(errno.EROFS, "Read-only file system", str(directory / "model.keras"))

    monkeypatch.setattr(train, "save_model", read_only)
    assert main(["train", "--epochs", "1", "--quiet", "--output", "out"]) == 1
    line = one_line(capsys.readouterr())
    assert line == "numkeras train: error: cannot write or read 'out/model.keras': Read-only " \
                   "file system."


def test_an_unexpected_error_is_one_line_unless_tracebacks_are_asked_for(loader, monkeypatch,
                                                                        capsys):
    def broken(**architecture):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(train, "build_model", broken)
    assert main(["train", "--quiet", "--output", "out"]) == 1
    assert one_line(capsys.readouterr()) == "numkeras train: error: something unexpected"
    monkeypatch.setenv("NUMKERAS_TRACEBACK", "1")
    with pytest.raises(RuntimeError):
        main(["train", "--quiet", "--output", "out"])


@pytest.mark.parametrize("setting", ["htp:/mirror", "http://", "mirror.example.org",
                                     "http://example.org:99999"])
def test_a_malformed_download_url_setting_is_one_line(tmp_path, monkeypatch, capsys, setting):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUMKERAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NUMKERAS_DATA", raising=False)
    monkeypatch.setattr(_loader, "SYSTEM_DATA_DIR", tmp_path / "system")
    monkeypatch.setenv("NUMKERAS_DATASETS_URL", setting)
    assert main(["train", "--quiet", "--output", "out"]) == 1
    line = one_line(capsys.readouterr())
    assert "NUMKERAS_DATASETS_URL" in line and "not a valid http://" in line


# ----- numkeras predict -----
def test_an_oversized_png_is_one_line(trained_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # a 100x100 image is then a "bomb"
    image = gray_png(tmp_path / "huge.png", (100, 100))
    assert main(["predict", str(trained_run), str(image)]) == 1
    assert "Pillow refuses to decode" in one_line(capsys.readouterr())


@pytest.mark.parametrize("text", ["not json", "[]", '{"class_names": 5}',
                                  '{"class_names": "abcdefghij"}',
                                  '{"class_names": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}',
                                  '{"names": []}', "[" * 100000, "\xff\xfe"])
def test_a_malformed_labels_file_is_one_line(trained_run, tmp_path, capsys, text):
    (trained_run / train.LABELS_FILE).write_bytes(text.encode("latin-1"))
    image = gray_png(tmp_path / "x.png")
    assert main(["predict", str(trained_run), str(image)]) == 1
    assert "labels.json" in one_line(capsys.readouterr())


@pytest.mark.parametrize("inputs", [(10,), (28, 28, 3), (5000, 5000)])
def test_a_model_that_does_not_take_grayscale_images_is_one_line(tmp_path, capsys, inputs):
    layers = [keras.Input(inputs), keras.layers.Flatten(),
              keras.layers.Dense(10, activation="softmax")]
    keras.Sequential(layers).save(tmp_path / train.KERAS_FILE)
    image = gray_png(tmp_path / "x.png")
    assert main(["predict", str(tmp_path), str(image)]) == 1
    assert "not grayscale images" in one_line(capsys.readouterr())


def test_a_model_whose_output_is_not_class_scores_is_one_line(tmp_path, capsys):
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Dense(4)])  # (None, 28, 4)
    model.save(tmp_path / train.KERAS_FILE)
    assert main(["predict", str(tmp_path), str(gray_png(tmp_path / "x.png"))]) == 1
    assert "not one score per class" in one_line(capsys.readouterr())


def test_a_model_with_nan_weights_fails_instead_of_printing_nan(trained_run, tmp_path, capsys):
    model = keras.models.load_model(trained_run / train.KERAS_FILE)
    kernel = model.layers[-1].kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    model.save(trained_run / train.KERAS_FILE)
    assert main(["predict", str(trained_run), str(gray_png(tmp_path / "x.png"))]) == 1
    line = one_line(capsys.readouterr())
    assert "NaN or infinite" in line and "probability" not in line


def test_a_damaged_model_file_is_one_line(trained_run, tmp_path, capsys):
    path = trained_run / train.KERAS_FILE
    path.write_bytes(path.read_bytes()[:500])
    assert main(["predict", str(trained_run), str(gray_png(tmp_path / "x.png"))]) == 1
    assert "cannot read the model" in one_line(capsys.readouterr())


def test_labels_json_written_by_train_still_works(trained_run, tmp_path, capsys):
    names = json.loads((trained_run / train.LABELS_FILE).read_text())["class_names"]
    assert main(["predict", str(trained_run), str(gray_png(tmp_path / "x.png"))]) == 0
    out = capsys.readouterr().out
    assert any(f": {name} (probability" in out for name in names), out
