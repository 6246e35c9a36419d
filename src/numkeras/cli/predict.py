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
MAX_SIDE = 4096  # a model input larger than this is not one `numkeras train` makes

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
    try:
        size = _input_size(model)
    except PredictError as error:
        print(f"numkeras predict: error: {error}", file=sys.stderr)
        return 1
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
        if not np.isfinite(probabilities).all():
            print(f"numkeras predict: error: {path}: the model's output is not finite "
                  f"({probabilities.tolist()[:3]} ...); its weights overflow on this image.",
                  file=sys.stderr)
            status = 1
            continue
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
    _check_model(model, model_file)
    return model, _class_names(model_file.parent, _classes(model)), model_file


def _check_model(model, model_file) -> None:
    """A model that takes grayscale images, gives class scores and has finite weights."""
    shape = getattr(model, "input_shape", None)
    if shape is not None and not _is_image_shape(shape):
        raise PredictError(f"{model_file} takes inputs of shape {shape}, not grayscale images "
                           f"(None, height, width) or (None, height, width, 1). Give a model "
                           f"trained by `numkeras train`.")
    output = getattr(model, "output_shape", None)
    if not (isinstance(output, tuple) and len(output) == 2 and isinstance(output[-1], int)):
        raise PredictError(f"{model_file} gives outputs of shape {output}, not one score per "
                           f"class (None, classes). Give a model trained by `numkeras train`.")
    for layer in model.layers:
        for weight in layer.weights:
            if not np.isfinite(weight.data).all():
                raise PredictError(
                    f"{model_file}: weight '{weight.name}' of layer '{layer.name}' holds NaN or "
                    f"infinite values (its training diverged), so every prediction would be "
                    f"NaN. Train again with a lower --learning-rate.")


def _is_image_shape(shape) -> bool:
    if not isinstance(shape, tuple) or len(shape) not in (3, 4) or \
            (len(shape) == 4 and shape[3] != 1):
        return False
    return all(isinstance(n, int) and 0 < n <= MAX_SIDE for n in shape[1:3])


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
    """The names in labels.json beside the model, else (no such file) the class numbers; a
    labels.json that is there but malformed is an error."""
    labels = directory / train.LABELS_FILE
    try:
        text = labels.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"numkeras predict: note: no {labels}; printing class numbers instead of "
              f"names.", file=sys.stderr)
        return [str(index) for index in range(classes)]
    except (OSError, UnicodeDecodeError) as error:
        raise PredictError(f"{labels}: cannot read it ({error}).") from None
    try:
        names = json.loads(text)["class_names"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise PredictError(f"{labels} is not a labels file written by `numkeras train` "
                           f"({type(error).__name__}: {str(error)[:100]}); expected "
                           f'{{"class_names": ["name", ...]}}. Fix or delete it.') from None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise PredictError(f"{labels}: 'class_names' must be a list of names (strings); fix "
                           f"or delete it.")
    if len(names) != classes:
        raise PredictError(f"{labels} names {len(names)} classes but the model has {classes}. "
                           f"Keep the model with the labels.json of its own run.")
    return [str(name) for name in names]


def _input_size(model) -> tuple[int, int]:
    """(height, width) of the model's input images."""
    shape = getattr(model, "input_shape", None) or (None,) + train.IMAGE_SHAPE
    if not _is_image_shape(tuple(shape)):
        raise PredictError(f"the model takes inputs of shape {shape}, not grayscale images.")
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
    except Image.DecompressionBombError:
        raise PredictError(f"{path}: the image declares more than {2 * Image.MAX_IMAGE_PIXELS:,} "
                           f"pixels, which Pillow refuses to decode (a decompression bomb, or "
                           f"a huge image: shrink it first).") from None
    except MemoryError:
        raise PredictError(f"{path}: the image is too large to decode in the memory "
                           f"available; shrink it first.") from None
    except UnidentifiedImageError:
        raise PredictError(f"{path}: not an image that Pillow can read (PNG, JPEG, BMP, GIF, "
                           f"TIFF, WebP ...).") from None
    except Exception as error:  # noqa: BLE001 - a directory, a truncated or malformed file,
        # no permission ... (Pillow raises OSError, ValueError, SyntaxError or EOFError)
        raise PredictError(f"{path}: cannot read the image ({error}).") from None
    notes = []
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
        notes.append("rotated as its EXIF orientation says")
    image = _unit_grayscale(image, path, notes)
    height, width = size
    if image.size != (width, height):
        notes.append(f"resized {image.width}x{image.height} -> {width}x{height} (bilinear)")
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32)
    if image.mode == "L":
        pixels /= np.float32(255.0)
    if invert:
        pixels = 1.0 - pixels
        notes.append("inverted")
    return pixels, notes


def _unit_grayscale(image, path, notes: list):
    """``image`` as 8-bit grayscale ("L", scaled by 255 later) or, for pixels of more than 8
    bits, as a float ("F") grayscale image already in [0, 1]: 16-bit scaled by 65535, 32-bit
    integers by 65535 when they fit 16 bits (PNG's 16-bit files open as "I") else by their
    type's largest value, floats kept when in [0, 1] (else divided by 255 when they fit 8-bit
    values, or by their maximum). Pillow's own conversion to "L" would clip them to 255."""
    from PIL import Image

    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if not np.isfinite(values).all():
            raise PredictError(f"{path}: the image holds NaN or infinite pixel values.")
        low, high = float(values.min()), float(values.max())
        if mode == "F":
            scale = 1.0 if high <= 1.0 else 255.0 if high <= 255.0 else high
        else:
            scale = 65535.0 if mode.startswith("I;16") or high <= 65535 else 2.0**31 - 1
        if low < 0:
            notes.append(f"negative {mode} pixel values clipped to 0")
        if scale != 1.0:
            notes.append(f"scaled {mode} pixels by 1/{scale:g}")
        unit = np.clip(values / scale, 0.0, 1.0).astype(np.float32)
        return Image.fromarray(unit, mode="F")
    if mode != "L":
        alpha = " (transparency ignored)" if "A" in mode else ""
        notes.append(f"converted {mode} to grayscale{alpha}")
        image = image.convert("L")
    return image


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
