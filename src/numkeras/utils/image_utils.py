"""Image files: load_img, img_to_array, array_to_img, save_img and
image_dataset_from_directory, with Keras 3's names and defaults. Pillow is imported only when
an image is read or written (``pip install pillow``, or numkeras's ``test`` extra)."""

from __future__ import annotations

import os
import sys

import numpy as np

from numkeras import config as _config
from numkeras.utils.files import write_atomic

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_PIL_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _pil_image():
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("Reading and writing images needs Pillow. Install it with "
                          "`pip install pillow` (or numkeras's `test` extra).") from error
    return Image


def _check_choice(value, choices, argument):
    if value not in choices:
        raise ValueError(f"`{argument}` must be one of {tuple(choices)}; received {value!r}.")


# ----- resizing (shared with the Resizing layer) -----


def resize_images(images: np.ndarray, height: int, width: int,
                  interpolation: str = "bilinear") -> np.ndarray:
    """Resize a (batch, H, W, C) array with half-pixel centres, as ``jax.image.resize`` and
    ``tf.image.resize`` without antialias: ``bilinear`` or ``nearest``. Vectorised: two
    gathers per axis."""
    in_h, in_w = images.shape[1], images.shape[2]
    if interpolation == "nearest":
        rows = np.clip(np.floor((np.arange(height) + 0.5) * in_h / height), 0, in_h - 1)
        cols = np.clip(np.floor((np.arange(width) + 0.5) * in_w / width), 0, in_w - 1)
        return images[:, rows.astype(np.intp)][:, :, cols.astype(np.intp)]
    _check_choice(interpolation, ("bilinear", "nearest"), "interpolation")
    out = images.astype(np.float64)
    for axis, size, in_size in ((1, height, in_h), (2, width, in_w)):
        # Source coordinate of each output pixel centre, clamped to the edge pixels.
        pos = np.clip((np.arange(size) + 0.5) * (in_size / size) - 0.5, 0, in_size - 1)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, in_size - 1)
        shape = [1, 1, 1, 1]
        shape[axis] = size
        t = (pos - lo).reshape(shape)
        out = np.take(out, lo, axis=axis) * (1 - t) + np.take(out, hi, axis=axis) * t
    return out


# ----- single images -----


def load_img(path, color_mode: str = "rgb", target_size=None, interpolation: str = "nearest"):
    """A PIL image from ``path``, converted to ``color_mode`` and, if ``target_size=(height,
    width)`` is given, resized with Pillow's ``interpolation`` (as Keras)."""
    _check_choice(color_mode, _CHANNELS, "color_mode")
    Image = _pil_image()
    with open(os.fspath(path), "rb") as handle:
        img = Image.open(handle)
        img.load()
    if img.mode != _PIL_MODES[color_mode]:
        img = img.convert(_PIL_MODES[color_mode])
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            methods = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR,
                       "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS,
                       "box": Image.BOX, "hamming": Image.HAMMING}
            _check_choice(interpolation, methods, "interpolation")
            img = img.resize(size, methods[interpolation])
    return img


def img_to_array(img, data_format=None, dtype="float32") -> np.ndarray:
    """A PIL image as a (height, width, channels) array."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Only data_format='channels_last' is supported; received "
                         f"{data_format!r}.")
    x = np.asarray(img, dtype=dtype)
    return x[..., None] if x.ndim == 2 else x


def array_to_img(x, data_format=None, scale: bool = True, dtype=None):
    """A PIL image from a (height, width, 1|3|4) array; ``scale=True`` maps its range to
    [0, 255] as Keras (subtract the min, divide by the max, truncate to uint8)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Only data_format='channels_last' is supported; received "
                         f"{data_format!r}.")
    Image = _pil_image()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] not in (1, 3, 4):
        raise ValueError(f"array_to_img expects an array of shape (height, width, 1|3|4); "
                         f"received shape {x.shape}.")
    if scale:
        x = x - x.min()
        peak = x.max()
        if peak != 0:
            x = x / peak
        x = x * 255
    # Truncated like Keras's astype('uint8'); clipped first so out-of-range values saturate
    # instead of wrapping.
    pixels = np.clip(x, 0, 255).astype(np.uint8)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[x.shape[-1]]
    return Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode)


def save_img(path, x, data_format=None, file_format=None, scale: bool = True, **kwargs):
    """Write an array (or PIL image) to ``path`` atomically: a temporary file beside it is
    renamed over it only once fully written. The format comes from ``file_format`` or the
    file extension."""
    img = x if hasattr(x, "save") and not isinstance(x, np.ndarray) else \
        array_to_img(x, data_format=data_format, scale=scale)
    path = os.fspath(path)
    file_format = file_format or os.path.splitext(path)[1].lstrip(".").lower() or None
    if file_format in ("jpg", "jpeg"):
        file_format = "jpeg"
        if img.mode == "RGBA":  # JPEG has no alpha channel
            img = img.convert("RGB")
    write_atomic(path, lambda handle: img.save(handle, format=file_format, **kwargs))


# ----- folders of images -----


_DATASET_METHODS = frozenset({
    "apply", "as_numpy_iterator", "batch", "cache", "cardinality", "concatenate", "element_spec",
    "enumerate", "filter", "map", "prefetch", "repeat", "shuffle", "skip", "take", "unbatch",
    "with_options"})


class ImageDataset:
    """Batches ``(images, labels)`` (or images alone with ``label_mode=None``) read from
    files on each pass, as NumPy arrays.

    ``model.fit(dataset)`` trains on it; ``as_arrays()`` gives all of it as arrays; tf.data's
    methods (``map``, ``shuffle``, ``cache``, ``prefetch`` ...) return a
    ``numkeras.data.Dataset`` of its batches (see :meth:`as_dataset`).
    """

    def __init__(self, paths, labels, class_names, label_mode, color_mode, batch_size,
                 image_size, interpolation, shuffle, seed):
        self.file_paths = list(paths)
        self._labels = labels
        self.class_names = class_names
        self.label_mode = label_mode
        self.color_mode = color_mode
        self.batch_size = batch_size
        self.image_size = tuple(image_size)
        self.interpolation = interpolation
        self.shuffle = shuffle
        # Pass k shuffles with (base, k): a look at the first batch (element_spec) is not a
        # pass, so the seed alone fixes every epoch's order.
        self._shuffle_base, self._passes = int(_config.make_rng(seed).integers(2**63)), 0

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return -(-len(self.file_paths) // self.batch_size)

    def _read(self, indices) -> np.ndarray:
        height, width = self.image_size
        channels = _CHANNELS[self.color_mode]
        out = np.empty((len(indices), height, width, channels), dtype=np.float32)
        for row, i in enumerate(indices):  # one file per image: decoding is per file anyway
            x = img_to_array(load_img(self.file_paths[i], self.color_mode))
            out[row] = resize_images(x[None], height, width, self.interpolation)[0]
        return out

    def _encoded_labels(self, indices):
        if self._labels is None or self.label_mode is None:
            return None
        labels = np.asarray(self._labels)[indices]
        if self.label_mode == "int":
            return labels.astype(np.int32)
        if self.label_mode == "binary":
            return labels.astype(np.float32).reshape(-1, 1)
        eye = np.eye(len(self.class_names), dtype=np.float32)
        return eye[labels.astype(np.intp)]

    def _batch(self, indices):
        images = self._read(indices)
        labels = self._encoded_labels(indices)
        return images if labels is None else (images, labels)

    def __iter__(self):
        order = np.arange(len(self.file_paths))
        if self.shuffle:
            order = self._pass_rng().permutation(order)
        if self.batch_size is None:  # Keras: unbatched samples
            for i in order:
                batch = self._batch([i])
                yield batch[0] if not isinstance(batch, tuple) else (batch[0][0], batch[1][0])
            return
        for start in range(0, len(order), self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _pass_rng(self) -> np.random.Generator:
        rng = np.random.default_rng([self._shuffle_base, self._passes])
        dataset = sys.modules.get("numkeras.data.dataset")  # (level 2: not imported here)
        if dataset is None or not dataset._peek.active:
            self._passes += 1
        return rng

    def as_arrays(self):
        """All images (and labels) in file order: ``(x, y)``, or ``x`` with no labels."""
        return self._batch(np.arange(len(self.file_paths)))

    def as_dataset(self):
        """The same batches as a ``numkeras.data.Dataset`` (tf.data's API: ``map``,
        ``shuffle``, ``cache``, ``prefetch`` ...), read from the files on each pass."""
        from numkeras.data import Dataset  # level 2: loaded only when asked for

        return Dataset(lambda: iter(self), len(self))

    def __getattr__(self, name):
        # Keras returns a tf.data.Dataset; the tutorials chain its methods on it
        # (`train_ds.cache().shuffle(1000).prefetch(AUTOTUNE)`), so they go to as_dataset().
        if name in _DATASET_METHODS:
            return getattr(self.as_dataset(), name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __repr__(self) -> str:
        return (f"<ImageDataset {len(self.file_paths)} files, {len(self)} batches, "
                f"classes={self.class_names}>")


def _index_directory(directory, labels, class_names, follow_links=False):
    subdirs = sorted(entry for entry in os.listdir(directory)
                     if os.path.isdir(os.path.join(directory, entry)))
    if labels == "inferred":
        if class_names is not None:
            if sorted(class_names) != sorted(subdirs) and set(class_names) - set(subdirs):
                raise ValueError(f"`class_names` {list(class_names)} must name sub-folders of "
                                 f"'{directory}'; found {subdirs}.")
            subdirs = list(class_names)
        class_names = subdirs
        folders = [(os.path.join(directory, name), index) for index, name in enumerate(subdirs)]
    else:
        folders = [(directory, None)]
    paths, found = [], []
    for folder, index in folders:
        for root, dirs, files in os.walk(folder, followlinks=follow_links):
            dirs.sort()
            if labels == "inferred" and root == directory:
                continue
            for name in sorted(files):
                if name.lower().endswith(ALLOWED_FORMATS):
                    paths.append(os.path.join(root, name))
                    found.append(index)
    return paths, found, class_names


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None,
                                 interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, data_format=None, verbose=True):
    """Images in ``directory`` (one sub-folder per class with ``labels="inferred"``) as an
    :class:`ImageDataset` of ``(images, labels)`` batches, images float32 in [0, 255] resized
    to ``image_size`` (bilinear half-pixel, as Keras's ``tf.image.resize``).

    Labels: ``"int"`` (int32 indices), ``"categorical"`` (one-hot float32), ``"binary"``
    (float32, shape (n, 1), two classes) or None. With ``validation_split``, ``subset`` is
    ``"training"``, ``"validation"`` or ``"both"`` (a pair of datasets); files are shuffled with
    ``seed`` before the split, as Keras, so pass the same seed for both subsets.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"image_dataset_from_directory: directory '{directory}' does "
                                f"not exist or is not a folder.")
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple, np.ndarray)):
        raise ValueError(f"`labels` must be 'inferred', None, or a list of labels; received "
                         f"{labels!r}.")
    _check_choice(label_mode, ("int", "categorical", "binary", None), "label_mode")
    _check_choice(color_mode, _CHANNELS, "color_mode")
    _check_choice(interpolation, ("bilinear", "nearest"), "interpolation")
    if labels is None or label_mode is None:
        labels, label_mode = (None if labels != "inferred" else labels), None
    if crop_to_aspect_ratio:
        raise NotImplementedError("crop_to_aspect_ratio=True is not implemented yet.")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Only data_format='channels_last' is supported; received "
                         f"{data_format!r}.")
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1; received "
                         f"{validation_split!r}.")
    if subset is not None:
        _check_choice(subset, ("training", "validation", "both"), "subset")
    if bool(validation_split) != (subset is not None):
        raise ValueError("`validation_split` and `subset` go together: pass both (e.g. "
                         "validation_split=0.2, subset='training') or neither; received "
                         f"validation_split={validation_split!r}, subset={subset!r}.")
    if validation_split and shuffle and seed is None:
        raise ValueError("With `validation_split` and shuffle=True, pass a `seed` so the "
                         "training and validation subsets do not overlap.")
    _pil_image()  # fail early, with the install hint, before walking the folder

    paths, found, class_names = _index_directory(
        directory, "inferred" if labels == "inferred" else None, class_names, follow_links)
    if not paths:
        raise ValueError(f"No images found in directory '{directory}'. Allowed formats: "
                         f"{ALLOWED_FORMATS}.")
    if labels == "inferred":
        label_values = np.asarray(found)
    elif labels is None:
        label_values = None
    else:
        label_values = np.asarray(labels)
        if len(label_values) != len(paths):
            raise ValueError(f"`labels` has {len(label_values)} entries but {len(paths)} "
                             f"images were found in '{directory}'.")
        class_names = None
    if label_mode == "binary":
        count = len(class_names) if class_names is not None else len(np.unique(label_values))
        if count != 2:
            raise ValueError(f"label_mode='binary' needs exactly 2 classes; found {count}"
                             f" ({class_names}).")
    if label_mode == "categorical" and class_names is None:
        class_names = [str(i) for i in range(int(label_values.max()) + 1)]
    if verbose:
        print(f"Found {len(paths)} files belonging to "
              f"{len(class_names) if class_names else 0} classes.")
    if shuffle:  # shuffle the file list before the split, as Keras (same seed → same split)
        order = np.random.default_rng(seed).permutation(len(paths))
        paths = [paths[i] for i in order]
        label_values = None if label_values is None else label_values[order]

    def make(indices):
        return ImageDataset([paths[i] for i in indices],
                            None if label_values is None else label_values[indices],
                            class_names, label_mode, color_mode, batch_size, image_size,
                            interpolation, shuffle, seed)

    everything = np.arange(len(paths))
    if not validation_split:
        return make(everything)
    n_val = int(validation_split * len(paths))
    train, val = everything[:len(paths) - n_val], everything[len(paths) - n_val:]
    if verbose and subset in ("training", "both"):
        print(f"Using {len(train)} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {len(val)} files for validation.")
    if subset == "training":
        return make(train)
    if subset == "validation":
        return make(val)
    return make(train), make(val)


# ----- affine sampling (shared by RandomTranslation, RandomRotation, RandomZoom) -----

_FILL_MODES = ("reflect", "wrap", "constant", "nearest", "mirror")


def _fix_index(index: np.ndarray, size: int, fill_mode: str) -> np.ndarray:
    """Integer tap positions folded into [0, size) by ``fill_mode`` (scipy.ndimage's names:
    ``reflect`` = d c b a | a b c d, ``mirror`` = d c b | a b c d, ``wrap``, ``nearest``;
    ``constant`` clamps here and masks the invalid taps in the caller)."""
    if fill_mode == "reflect":
        period = 2 * size
        index = np.mod(index, period)
        return np.where(index >= size, period - 1 - index, index)
    if fill_mode == "mirror":
        if size == 1:
            return np.zeros_like(index)
        period = 2 * (size - 1)
        index = np.mod(index, period)
        return np.where(index >= size, period - index, index)
    if fill_mode == "wrap":
        return np.mod(index, size)
    return np.clip(index, 0, size - 1)


def affine_transform(images: np.ndarray, transforms: np.ndarray, interpolation="bilinear",
                     fill_mode="reflect", fill_value=0.0) -> np.ndarray:
    """Sample a (B, H, W, C) batch through per-image affine maps, as Keras's
    ``ops.image.affine_transform`` on the JAX backend (``map_coordinates`` semantics).

    ``transforms`` is (B, 8) ``[a0, a1, a2, b0, b1, b2, c0, c1]``: output pixel (x, y) reads
    input ``(a0 x + a1 y + a2, b0 x + b1 y + b2)``; the projective terms c0, c1 must be 0.
    """
    _check_choice(fill_mode, _FILL_MODES, "fill_mode")
    _check_choice(interpolation, ("bilinear", "nearest"), "interpolation")
    batch, height, width, _ = images.shape
    t = np.asarray(transforms, dtype=np.float64).reshape(batch, 8, 1, 1)
    y, x = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")  # (H, W)
    src_x = t[:, 0] * x + t[:, 1] * y + t[:, 2]  # (B, H, W)
    src_y = t[:, 3] * x + t[:, 4] * y + t[:, 5]
    if interpolation == "nearest":  # jnp.round: halves go to the even neighbour
        taps_y = [(np.round(src_y).astype(np.intp), np.ones_like(src_y))]
        taps_x = [(np.round(src_x).astype(np.intp), np.ones_like(src_x))]
    else:
        y0, x0 = np.floor(src_y), np.floor(src_x)
        taps_y = [(y0.astype(np.intp), 1 - (src_y - y0)), (y0.astype(np.intp) + 1, src_y - y0)]
        taps_x = [(x0.astype(np.intp), 1 - (src_x - x0)), (x0.astype(np.intp) + 1, src_x - x0)]
    rows = np.arange(batch)[:, None, None]
    out = np.zeros(images.shape, dtype=np.float64)
    for iy, wy in taps_y:  # at most 4 taps, each a whole-batch gather
        for ix, wx in taps_x:
            values = images[rows, _fix_index(iy, height, fill_mode),
                            _fix_index(ix, width, fill_mode)]  # (B, H, W, C)
            if fill_mode == "constant":
                valid = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
                values = np.where(valid[..., None], values, fill_value)
            out += (wy * wx)[..., None] * values
    return out
