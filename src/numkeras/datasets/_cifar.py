"""CIFAR-10 and CIFAR-100: finding the python-version archive and reading its pickled batches
safely.

The archives (https://www.cs.toronto.edu/~kriz/cifar.html) hold Python pickles: a dict of
``data`` (a uint8 array, one row of 3,072 bytes per image, channels first), labels (a list of
ints) and file names. Unpickling runs code named by the file, so these are read with
``_safe_pickle.load``, which rebuilds only plain containers and NumPy arrays and refuses
any other global (``os.system`` ...). The batches are read straight from the ``.tar.gz`` in one
pass, never extracted: no member name becomes a path, so a crafted archive cannot write outside
its directory (path traversal), and a member larger than a real batch is refused before it is
read.

Lookup order, as for Fashion-MNIST (docs/datasets.md): ``path=`` (the archive, or a directory
holding it or its extracted batches), ``$NUMKERAS_DATA/<name>/``, the cache
``$NUMKERAS_HOME/datasets/<name>/`` (archive checked against its SHA-256), then a verified
download into the cache.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import pickle
import sys
import tarfile

import numpy as np

from numkeras.datasets import _loader, _safe_pickle
from numkeras.datasets import download as _download

MAX_MEMBER_BYTES = 256 << 20  # the largest real batch (CIFAR-100 train) is about 155 MB
IMAGE_BYTES = 3 * 32 * 32


class CIFARFormatError(ValueError):
    """A CIFAR archive or batch that is damaged, not CIFAR, or not safe to read."""


@dataclasses.dataclass(frozen=True)
class ArchiveSpec:
    """One CIFAR archive: where it is published, its digest, and the batches inside."""

    name: str  # cache / NUMKERAS_DATA subdirectory
    title: str
    archive: _loader.RemoteFile
    base_url: str
    member_dir: str  # the directory inside the archive
    train_batches: tuple[str, ...]
    test_batch: str
    num_classes: dict  # label key -> number of classes
    label_dtype: str = "uint8"  # Keras: uint8 for CIFAR-10, int64 (a reshaped list) for -100


def parse_batch(data: bytes, label_key: str, source: str, num_classes: int):
    """``(images (n, 32, 32, 3) uint8, labels (n,) uint8)`` from one pickled batch."""
    try:
        batch = _safe_pickle.load(data, encoding="bytes")
    except pickle.UnpicklingError as error:
        raise CIFARFormatError(f"{source}: cannot read the pickled batch ({error}).") from None
    if not isinstance(batch, dict):
        raise CIFARFormatError(f"{source}: expected a pickled dict, found "
                               f"{type(batch).__name__}.")
    batch = {(k.decode("utf-8", "replace") if isinstance(k, bytes) else k): v
             for k, v in batch.items()}
    images, labels = batch.get("data"), batch.get(label_key)
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 \
            or images.shape[1] != IMAGE_BYTES:
        found = (f"{images.dtype} array of shape {images.shape}"
                 if isinstance(images, np.ndarray) else type(images).__name__)
        raise CIFARFormatError(f"{source}: 'data' must be a uint8 array of shape (n, "
                               f"{IMAGE_BYTES}); found {found}.")
    labels = _labels(labels, len(images), label_key, source, num_classes)
    # Rows are channels first (R plane, G plane, B plane); Keras returns channels last.
    return images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _labels(labels, count: int, key: str, source: str, num_classes: int) -> np.ndarray:
    if not isinstance(labels, (list, np.ndarray)):
        raise CIFARFormatError(f"{source}: no '{key}' list of labels in the batch.")
    if len(labels) != count:
        raise CIFARFormatError(f"{source}: {count:,} images but {len(labels):,} '{key}'; "
                               f"expected one label per image.")
    if isinstance(labels, list) and not set(map(type, labels)) <= {int}:
        raise CIFARFormatError(f"{source}: '{key}' must be a list of integers.")
    try:
        array = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise CIFARFormatError(f"{source}: '{key}' must hold integers.") from None
    if array.shape != (count,):
        raise CIFARFormatError(f"{source}: {count:,} images but '{key}' has shape "
                               f"{array.shape}; expected one label per image.")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise CIFARFormatError(f"{source}: '{key}' must be in 0-{num_classes - 1}; found "
                               f"{array.min()}-{array.max()}.")
    return array.astype(np.uint8)


# ----- reading an archive or a directory -----

def read_members(spec: ArchiveSpec, archive: pathlib.Path) -> dict[str, bytes]:
    """``{batch name: bytes}`` of the wanted batches, in one pass over the ``.tar.gz``."""
    wanted = {f"{spec.member_dir}/{name}": name
              for name in spec.train_batches + (spec.test_batch,)}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None:
                    continue
                if not member.isfile():
                    raise CIFARFormatError(f"{archive}: {member.name} is not a regular file "
                                           f"(a link or device); refusing the archive.")
                if member.size > MAX_MEMBER_BYTES:
                    raise CIFARFormatError(f"{archive}: {member.name} is {member.size:,} bytes, "
                                           f"more than any real CIFAR batch; refusing it.")
                found[name] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CIFARFormatError(f"{archive}: not a readable .tar.gz archive ({error}). Delete "
                               f"it and download it again.") from None
    missing = [name for name in wanted.values() if name not in found]
    if missing:
        raise CIFARFormatError(f"{archive}: the archive lacks {spec.member_dir}/"
                               f"{', '.join(missing)}. Is it the {spec.title} python version?")
    return found


def read_directory(spec: ArchiveSpec, directory: pathlib.Path) -> dict[str, bytes]:
    """The batches of an extracted archive (``directory`` holds them or ``member_dir``)."""
    if (directory / spec.member_dir).is_dir():
        directory = directory / spec.member_dir
    found = {}
    for name in spec.train_batches + (spec.test_batch,):
        path = directory / name
        if not path.is_file():
            raise CIFARFormatError(f"{directory} lacks the batch file {name}.")
        if path.stat().st_size > MAX_MEMBER_BYTES:
            raise CIFARFormatError(f"{path} is larger than any real CIFAR batch; refusing it.")
        found[name] = path.read_bytes()
    return found


def assemble(spec: ArchiveSpec, batches: dict[str, bytes], label_key: str, source: str):
    """``(x_train, y_train), (x_test, y_test)`` as Keras returns them: uint8 images
    ``(n, 32, 32, 3)`` and labels ``(n, 1)`` of ``spec.label_dtype``."""
    classes = spec.num_classes[label_key]
    train = [parse_batch(batches[name], label_key, f"{source}: {name}", classes)
             for name in spec.train_batches]
    x_test, y_test = parse_batch(batches[spec.test_batch], label_key,
                                 f"{source}: {spec.test_batch}", classes)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    labels = [y.reshape(-1, 1).astype(spec.label_dtype) for y in (y_train, y_test)]
    return (x_train, labels[0]), (np.ascontiguousarray(x_test), labels[1])


# ----- lookup -----

def load(spec: ArchiveSpec, label_key: str, path=None, *, base_url=None, quiet=False):
    """Find (or download) the archive of ``spec`` and return its arrays."""
    source, batches = _find(spec, path, base_url=base_url, quiet=quiet)
    return assemble(spec, batches, label_key, source)


def _from_place(spec: ArchiveSpec, place: pathlib.Path):
    """The batches at ``place`` (the archive, a directory with it, or the extracted
    batches), or None if nothing of the dataset is there."""
    if place.is_file():
        return read_members(spec, place)
    if (place / spec.archive.name).is_file():
        return read_members(spec, place / spec.archive.name)
    if (place / spec.member_dir).is_dir() or (place / spec.test_batch).is_file():
        return read_directory(spec, place)
    return None


def _find(spec: ArchiveSpec, path, *, base_url, quiet):
    if path is not None:
        place = pathlib.Path(path).expanduser()
        batches = _from_place(spec, place)
        if batches is None:
            raise _loader.DatasetNotFoundError(
                f"{spec.title}: load_data(path={str(path)!r}): {place} holds neither "
                f"{spec.archive.name} nor the extracted {spec.member_dir}/. Pass the archive or "
                f"its directory, or leave out path= to search and download.",
                [(f"path={str(path)!r}", "not found")])
        return str(place), batches
    searched = []
    env = os.environ.get("NUMKERAS_DATA")
    if env:
        place = pathlib.Path(env).expanduser() / spec.name
        batches = _from_place(spec, place)
        if batches is not None:
            return str(place), batches
        searched.append((f"$NUMKERAS_DATA/{spec.name} ({place})", "no archive"))
    else:
        searched.append(("$NUMKERAS_DATA", "not set"))
    archive = _loader.home_dir() / "datasets" / spec.name / spec.archive.name
    if archive.is_file() and spec.archive.accepts(_download.sha256_of(archive)):
        return str(archive), read_members(spec, archive)
    searched.append((f"cache {archive.parent}", "wrong SHA-256" if archive.is_file()
                     else "no archive"))
    _fetch(spec, archive, base_url, quiet, searched)
    return str(archive), read_members(spec, archive)


def _fetch(spec: ArchiveSpec, archive: pathlib.Path, base_url, quiet, searched) -> None:
    url = _loader.download_url(spec.name, spec.base_url, base_url)
    if archive.is_file() and not quiet:
        print(f"{archive} does not match its SHA-256; downloading it again.", file=sys.stderr)
    try:
        _download.download(url + spec.archive.name, archive, sha256=spec.archive.sha256,
                           size=spec.archive.size, quiet=quiet)
    except (_download.DownloadError, OSError) as error:
        searched.append((f"download from {url}", str(error)))
        lines = [f"{spec.title} was not found and could not be downloaded. Looked in:"]
        lines += [f"  - {place}: {result}" for place, result in searched]
        lines += ["To get the data, do one of:",
                  f"  - download {spec.base_url}{spec.archive.name} and call "
                  f"load_data(path=that_file)",
                  f"  - or copy it into {archive.parent}/",
                  f"  - or put it in <dir>/{spec.name}/ and set NUMKERAS_DATA=<dir>",
                  "  - or connect to the network and call load_data() again"]
        raise _loader.DatasetNotFoundError("\n".join(lines), searched) from error
