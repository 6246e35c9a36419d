"""``numkeras predict MODEL IMAGE...``: classify images with a model saved by ``numkeras train``.

Each image is turned into what the model was trained on, and every change is stated: colour
images are converted to grayscale, other sizes are resized (bilinear) to the model's 28x28, and
pixels are scaled to [0, 1]. Reading images needs Pillow (``pip install 'numkeras[image]'``).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

from numkeras import saving
from numkeras.cli import train

IMAGE_HINT = "pip install 'numkeras[image]'"
EXIF_ORIENTATION = 0x0112

DESCRIPTION = """\
Classify images with a model trained by `numkeras train`, printing the most likely class and its
probability. Images are converted to grayscale, resized to 28x28 (bilinear) and scaled to [0, 1]
as in training; each change is stated.

Fashion-MNIST and MNIST images are light objects on a black background. For photos of dark
objects on a light background (a shoe on white paper, a digit written in ink) pass --invert."""

EPILOG = """\
examples:
  numkeras predict runs/2026-11-29T10-15-00 shoe.png shirt.jpg
  numkeras predict --invert --top 3 runs/2026-11-29T10-15-00/model.keras photo.jpg
"""


class PredictError(Exception):
    """A model or an image that cannot be used; the message says why and what to do."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``predict`` subcommand to the ``numkeras`` parser."""
    parser = subparsers.add_parser(
        "predict", help="classify images with a model saved by `numkeras train`",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL",
                        help="a run directory written by `numkeras train`, or its model.keras "
                             "file")
    parser.add_argument("images", metavar="IMAGE", nargs="+",
                        help="image files: PNG, JPEG or any format Pillow reads")
    parser.add_argument("--top", type=train._positive_int, default=1, metavar="K",
                        help="print the K most likely classes (default 1)")
    parser.add_argument("--invert", action="store_true",
                        help="invert the pixels (255 - value): for dark objects on a light "
                             "background")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    """Classify ``args.images``; exit code 1 if the model or any image could not be used."""
    try:
        _require_pillow()
        model, class_names, model_file = load_model(pathlib.Path(args.model))
    except PredictError as error:
        print(f"numkeras predict: error: {error}", file=sys.stderr)
        return 1
    size = _input_size(model)
    print(f"Model {model_file} ({len(class_names)} classes); images scaled to [0, 1] as in "
          f"training.")
    status = 0
    for path in args.images:
        try:
            pixels, notes = load_image(pathlib.Path(path), size, invert=args.invert)
        except PredictError as error:
            print(f"numkeras predict: error: {error}", file=sys.stderr)
            status = 1
            continue
        probabilities = model.predict(_as_batch(pixels, model), verbose=0)[0]
        print(format_prediction(path, probabilities, class_names, notes, args.top))
    return status


# ----- the model -----
def load_model(path: pathlib.Path):
    """``(model, class names, model file)`` from a run directory or a model file."""
    model_file = _model_file(path)
    try:
        model = saving.load_model(model_file)
    except (ImportError, OSError, ValueError, KeyError) as error:
        raise PredictError(f"{model_file}: cannot read the model ({error}). Give a model saved "
                           f"by `numkeras train`.") from error
    return model, _class_names(model_file.parent, _classes(model)), model_file


def _model_file(path: pathlib.Path) -> pathlib.Path:
    if path.is_dir():
        if (path / train.KERAS_FILE).is_file():
            return path / train.KERAS_FILE
        raise PredictError(f"{path} holds no {train.KERAS_FILE}. Give the directory written "
                           f"by `numkeras train` (runs/<timestamp>/).")
    if not path.exists():
        raise PredictError(f"{path}: no such model file or directory. Give the directory "
                           f"written by `numkeras train` (runs/<timestamp>/) or its model file.")
    return path


def _classes(model) -> int:
    return int(model.output_shape[-1])


def _class_names(directory: pathlib.Path, classes: int) -> list[str]:
    """The names in labels.json beside the model, else the class numbers."""
    labels = directory / train.LABELS_FILE
    try:
        names = json.loads(labels.read_text(encoding="utf-8"))["class_names"]
    except (OSError, ValueError, KeyError, TypeError):
        print(f"numkeras predict: note: no readable {labels}; printing class numbers instead "
              f"of names.", file=sys.stderr)
        return [str(index) for index in range(classes)]
    if len(names) != classes:
        raise PredictError(f"{labels} names {len(names)} classes but the model has {classes}. "
                           f"Keep the model with the labels.json of its own run.")
    return [str(name) for name in names]


def _input_size(model) -> tuple[int, int]:
    """(height, width) of the model's input images."""
    shape = getattr(model, "input_shape", None) or (None,) + train.IMAGE_SHAPE
    return int(shape[1]), int(shape[2])


def _as_batch(pixels: np.ndarray, model) -> np.ndarray:
    """``(1, H, W)``, or ``(1, H, W, 1)`` for a model that takes one channel."""
    batch = pixels[np.newaxis]
    shape = getattr(model, "input_shape", None)
    return batch[..., np.newaxis] if shape is not None and len(shape) == 4 else batch


# ----- the images -----
def _require_pillow() -> None:
    try:
        import PIL  # noqa: F401
    except ImportError as error:
        raise PredictError(f"reading images needs Pillow, which is not installed. Install it "
                           f"with: {IMAGE_HINT}") from error


def load_image(path: pathlib.Path, size: tuple[int, int], invert: bool = False):
    """``(pixels, notes)``: float32 ``size`` grayscale pixels in [0, 1], and each change made.

    ``size`` is (height, width); the notes describe sizes as width x height, as image viewers do.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
    except FileNotFoundError:
        raise PredictError(f"{path}: no such file.") from None
    except UnidentifiedImageError:
        raise PredictError(f"{path}: not an image that Pillow can read (PNG, JPEG, BMP, GIF, "
                           f"TIFF, WebP ...).") from None
    except OSError as error:  # a directory, a truncated file, no permission ...
        raise PredictError(f"{path}: cannot read the image ({error}).") from None
    notes = []
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
        notes.append("rotated as its EXIF orientation says")
    if image.mode != "L":
        alpha = " (transparency ignored)" if "A" in image.mode else ""
        notes.append(f"converted {image.mode} to grayscale{alpha}")
        image = image.convert("L")
    height, width = size
    if image.size != (width, height):
        notes.append(f"resized {image.width}x{image.height} -> {width}x{height} (bilinear)")
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32) / np.float32(255.0)
    if invert:
        pixels = 1.0 - pixels
        notes.append("inverted")
    return pixels, notes


def format_prediction(path, probabilities: np.ndarray, class_names, notes, top: int) -> str:
    """One line for the best class, or a header and ``top`` ranked lines."""
    order = np.argsort(-probabilities, kind="stable")[:top]
    changes = f" ({'; '.join(notes)})" if notes else ""
    if len(order) == 1:
        best = order[0]
        return (f"{path}: {class_names[best]} (probability {probabilities[best]:.3f})"
                f"{changes}")
    width = max(len(class_names[index]) for index in order)
    lines = [f"{path}:{changes}"]
    lines += [f"  {rank}. {class_names[index]:<{width}}  {probabilities[index]:.3f}"
              for rank, index in enumerate(order, start=1)]
    return "\n".join(lines)
