"""``numkeras predict``: classes and probabilities, stated preprocessing, errors."""

from __future__ import annotations

import builtins
import re

import numpy as np
import pytest

from numkeras.cli import main, predict, train
from numkeras.datasets import fashion_mnist

Image = pytest.importorskip("PIL.Image")

LINE = re.compile(r"^(?P<path>\S+): (?P<name>.+) \(probability (?P<p>\d\.\d{3})\)(?P<notes>.*)$")


def write_png(path, pixels: np.ndarray, mode: str | None = None):
    Image.fromarray(pixels, mode).save(path)
    return path


def gray_28(tmp_path, name="gray.png", seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)
    return write_png(tmp_path / name, pixels)


def colour_40x30(tmp_path, name="colour.png"):
    pixels = np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    return write_png(tmp_path / name, pixels)


def expected(run, pixels: np.ndarray):
    """(class name, probability) that the saved model gives to ``pixels``."""
    model, names, _ = predict.load_model(run)
    probabilities = model.predict(pixels[np.newaxis], verbose=0)[0]
    best = int(probabilities.argmax())
    return names[best], float(probabilities[best])


def prediction_lines(out: str) -> dict:
    return {match["path"]: match for match in map(LINE.match, out.splitlines()) if match}


def test_a_28x28_grayscale_image_is_classified_as_is(trained_run, tmp_path, capsys):
    image = gray_28(tmp_path)
    assert main(["predict", str(trained_run), str(image)]) == 0
    out = capsys.readouterr().out
    assert "images scaled to [0, 1] as in training" in out
    line = prediction_lines(out)[str(image)]
    name, probability = expected(trained_run, np.asarray(Image.open(image)) / 255.0)
    assert line["name"] == name and name in fashion_mnist.CLASS_NAMES
    assert float(line["p"]) == pytest.approx(probability, abs=5e-4)
    assert line["notes"] == ""


def test_a_colour_image_of_another_size_is_converted_and_the_changes_stated(trained_run,
                                                                            tmp_path, capsys):
    image = colour_40x30(tmp_path)
    assert main(["predict", str(trained_run), str(image)]) == 0
    line = prediction_lines(capsys.readouterr().out)[str(image)]
    assert line["notes"] == (" (converted RGB to grayscale; resized 40x30 -> 28x28 "
                             "(bilinear))")
    converted = Image.open(image).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    assert line["name"] == expected(trained_run, np.asarray(converted) / 255.0)[0]


def test_top_k_lists_classes_by_probability(trained_run, tmp_path, capsys):
    image = gray_28(tmp_path)
    model_path = next(trained_run.glob("model.*"))  # the model file itself works too
    assert main(["predict", "--top", "3", str(model_path), str(image)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == f"{image}:"
    ranked = [re.fullmatch(r"  (\d)\. (.+?) +(\d\.\d{3})", line) for line in lines[2:5]]
    assert [match[1] for match in ranked] == ["1", "2", "3"]
    probabilities = [float(match[3]) for match in ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert ranked[0][2] == expected(trained_run, np.asarray(Image.open(image)) / 255.0)[0]


def test_invert_flips_the_pixels_and_says_so(tmp_path):
    pixels = np.zeros((28, 28), np.uint8)
    pixels[10:18, 10:18] = 255
    image = write_png(tmp_path / "dark_on_light.png", 255 - pixels)
    loaded, notes = predict.load_image(image, (28, 28), invert=True)
    np.testing.assert_allclose(loaded, pixels / 255.0)
    assert loaded.dtype == np.float32 and notes == ["inverted"]


def test_transparency_is_mentioned(tmp_path):
    pixels = np.full((28, 28, 4), 200, np.uint8)
    _, notes = predict.load_image(write_png(tmp_path / "rgba.png", pixels), (28, 28))
    assert notes == ["converted RGBA to grayscale (transparency ignored)"]


def test_an_exif_orientation_is_applied_before_resizing(tmp_path):
    exif = Image.Exif()
    exif[predict.EXIF_ORIENTATION] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "phone.jpg"
    Image.fromarray(np.zeros((10, 20), np.uint8)).save(path, exif=exif)  # 20 wide, 10 high
    pixels, notes = predict.load_image(path, (28, 28))
    assert pixels.shape == (28, 28)
    assert notes == ["rotated as its EXIF orientation says",
                     "resized 10x20 -> 28x28 (bilinear)"]


def test_several_images_are_classified_in_order(trained_run, tmp_path, capsys):
    images = [gray_28(tmp_path, "a.png", 1), colour_40x30(tmp_path, "b.png"),
              gray_28(tmp_path, "c.png", 2)]
    assert main(["predict", str(trained_run), *map(str, images)]) == 0
    assert list(prediction_lines(capsys.readouterr().out)) == list(map(str, images))


# ----- errors -----
def test_a_missing_image_is_reported_and_the_others_still_classified(trained_run, tmp_path,
                                                                     capsys):
    image = gray_28(tmp_path)
    assert main(["predict", str(trained_run), str(tmp_path / "nope.png"), str(image)]) == 1
    captured = capsys.readouterr()
    assert f"numkeras predict: error: {tmp_path / 'nope.png'}: no such file." in captured.err
    assert str(image) in prediction_lines(captured.out)


def test_a_file_that_is_not_an_image_is_reported(trained_run, tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not pixels")
    assert main(["predict", str(trained_run), str(text)]) == 1
    err = capsys.readouterr().err
    assert f"{text}: not an image that Pillow can read (PNG, JPEG" in err
    assert "Traceback" not in err


def test_a_missing_model_is_reported(tmp_path, capsys):
    image = gray_28(tmp_path)
    assert main(["predict", str(tmp_path / "runs/none"), str(image)]) == 1
    assert "no such model file or directory. Give the directory written by `numkeras train`" \
        in capsys.readouterr().err


def test_a_directory_without_a_model_is_reported(tmp_path, capsys):
    image = gray_28(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(tmp_path / "empty"), str(image)]) == 1
    assert f"{tmp_path / 'empty'} holds no model.keras" \
        in capsys.readouterr().err


def test_without_labels_the_class_numbers_are_printed(trained_run, tmp_path, capsys):
    (trained_run / train.LABELS_FILE).unlink()
    image = gray_28(tmp_path)
    assert main(["predict", str(trained_run), str(image)]) == 0
    captured = capsys.readouterr()
    assert "printing class numbers instead of names" in captured.err
    assert re.fullmatch(r"\d", prediction_lines(captured.out)[str(image)]["name"])


@pytest.mark.parametrize("argv, message", [
    (["--top", "0"], "argument --top: expected a positive integer, got '0'"),
    ([], "the following arguments are required: IMAGE"),
])
def test_invalid_options_exit_2(trained_run, capsys, argv, message):
    with pytest.raises(SystemExit) as raised:
        main(["predict", *argv, str(trained_run)])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_without_pillow_it_says_how_to_install_it(trained_run, tmp_path, monkeypatch, capsys):
    image = gray_28(tmp_path)
    real_import = builtins.__import__

    def no_pillow(name, *args, **kwargs):
        if name.split(".")[0] == "PIL":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pillow)
    assert main(["predict", str(trained_run), str(image)]) == 1
    assert "needs Pillow, which is not installed. Install it with: pip install " \
           "'numkeras[image]'" in capsys.readouterr().err


@pytest.mark.parametrize("mode, pixels, note", [
    ("I;16", np.array([[0, 16384], [32768, 65535]], np.uint16), "scaled I;16 pixels by 1/65535"),
    ("I", np.array([[0, 16384], [32768, 65535]], np.int32), "scaled I pixels by 1/65535"),
    ("F", np.array([[0.0, 0.25], [0.5, 1.0]], np.float32), None),
    ("F", np.array([[0.0, 63.75], [127.5, 255.0]], np.float32), "scaled F pixels by 1/255"),
])
def test_deep_pixels_are_scaled_by_their_range_not_clipped(tmp_path, mode, pixels, note):
    path = tmp_path / "deep.tiff"
    image = Image.fromarray(pixels)
    assert image.mode == mode
    image.save(path)
    loaded, notes = predict.load_image(path, (2, 2))
    np.testing.assert_allclose(loaded, [[0.0, 0.25], [0.5, 1.0]], atol=1e-4)
    assert notes == ([note] if note else [])


def test_a_16_bit_png_is_scaled_and_resized_without_clipping(tmp_path):
    pixels = np.full((8, 8), 40000, np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(pixels).save(path)
    loaded, notes = predict.load_image(path, (28, 28))
    np.testing.assert_allclose(loaded, 40000 / 65535, rtol=1e-5)
    assert notes[-1] == "resized 8x8 -> 28x28 (bilinear)"


def test_an_image_with_nan_pixels_is_refused(tmp_path):
    path = tmp_path / "nan.tiff"
    Image.fromarray(np.array([[0.0, np.nan]], np.float32)).save(path)
    with pytest.raises(predict.PredictError, match="NaN or infinite pixel values"):
        predict.load_image(path, (28, 28))
