"""What the IMDB and Reuters loaders share: finding or downloading their ``.npz`` and word-index
files, reading the ``.npz`` safely, and Keras's preprocessing of the word-index sequences.

The ``.npz`` files store ragged sequences as NumPy object arrays, which NumPy can only save as
pickles; ``np.load(allow_pickle=True)`` would run whatever code a tampered file names. They are
read with ``_safe_pickle.load`` instead: it rebuilds lists, numbers and NumPy arrays and
refuses every other global (as Keras 3.15's ``npz_utils`` does). Numeric members are read with
pickling disabled, and every member's size is checked before it is read.

Lookup for ``load_data(path="imdb.npz")`` (Keras: a file name in the cache): an existing file at
``path`` is used as it is; otherwise ``$NUMKERAS_DATA/<dataset>/<file>``, then the cache
``$NUMKERAS_HOME/datasets/<dataset>/<path>`` (checked against the published digest), then a
verified download into the cache.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import os
import pathlib
import pickle
import sys
import zipfile

import numpy as np

from numkeras.datasets import _loader, _safe_pickle
from numkeras.datasets import download as _download

BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MAX_MEMBER_BYTES = 512 << 20  # the real members are a few tens of MB
MAX_JSON_BYTES = 64 << 20


class DatasetFormatError(ValueError):
    """A dataset file that is damaged, of another dataset, or not safe to read."""


@dataclasses.dataclass(frozen=True)
class Remote:
    """One published file: its name, size and digest (``algorithm``: sha256, or md5 where
    Keras publishes only that)."""

    name: str
    digest: str
    size: int
    algorithm: str = "sha256"


# ----- safe .npz reading -----

def load_npz(path, where: str) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, object arrays unpickled with the restricted unpickler.

    Raises:
        DatasetFormatError: not a zip of ``.npy`` members, a member too large or damaged, or a
            pickle naming anything but NumPy's array globals.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise DatasetFormatError(
                        f"{where}: member {info.filename} declares {info.file_size:,} bytes, "
                        f"more than a real one ({MAX_MEMBER_BYTES:,}); refusing to read it.")
                with archive.open(info) as member:
                    data = member.read(info.file_size + 1)
                arrays[info.filename[:-4]] = _read_npy(io.BytesIO(data), where, info.filename)
    except DatasetFormatError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, pickle.UnpicklingError,
            TypeError, AttributeError, IndexError, KeyError, MemoryError) as error:
        raise DatasetFormatError(f"{where} cannot be read as a dataset .npz file: "
                                 f"{type(error).__name__}: {error}") from error
    return arrays


def _read_npy(buffer: io.BytesIO, where: str, member: str) -> np.ndarray:
    version = np.lib.format.read_magic(buffer)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(buffer)
    elif version in ((2, 0), (3, 0)):  # 3.0 differs from 2.0 only in the header's encoding
        shape, _, dtype = np.lib.format.read_array_header_2_0(buffer)
    else:
        raise DatasetFormatError(f"{where}: member {member} has .npy version {version}.")
    if not dtype.hasobject:
        buffer.seek(0)
        return np.lib.format.read_array(buffer, allow_pickle=False)
    array = _safe_pickle.load(buffer.read())
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise DatasetFormatError(f"{where}: member {member} does not hold the {shape} array "
                                 f"its header announces.")
    return array


def load_json(path, where: str) -> dict:
    """A word index: a JSON object of words to positive integers."""
    size = os.path.getsize(path)
    if size > MAX_JSON_BYTES:
        raise DatasetFormatError(f"{where} is {size:,} bytes, more than a word index can be.")
    try:
        with open(path, encoding="utf-8") as handle:
            index = json.load(handle)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise DatasetFormatError(f"{where} is not a valid JSON word index: {error}") from error
    if not isinstance(index, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in index.items()):
        raise DatasetFormatError(f"{where} is not a word index (a JSON object of words to "
                                 f"integers).")
    return index


# ----- finding and downloading -----

def fetch(dataset: str, title: str, remote: Remote, path, base_url=None, quiet=False):
    """The local path of ``remote`` (see the module docstring for the order searched)."""
    given = pathlib.Path(path).expanduser()
    if given.is_file():
        return given
    if given.name != str(path) or not given.name:
        raise _loader.DatasetNotFoundError(
            f"{title}: {path!r} is not a file. Pass the path of a copy of {remote.name}, or a "
            f"bare file name for the cache (default {remote.name!r}).",
            [(f"path={str(path)!r}", "not a file")])
    searched = []
    env = os.environ.get("NUMKERAS_DATA")
    if env:
        local = pathlib.Path(env).expanduser() / dataset / remote.name
        if local.is_file():
            return local
        searched.append((f"$NUMKERAS_DATA/{dataset} ({local.parent})", f"no {remote.name}"))
    else:
        searched.append(("$NUMKERAS_DATA", "not set"))
    cached = _loader.home_dir() / "datasets" / dataset / given.name
    if cached.is_file() and _download.file_digest(cached, remote.algorithm) == remote.digest:
        return cached
    searched.append((f"cache {cached.parent}", "wrong digest" if cached.is_file()
                     else f"no {given.name}"))
    url = _loader.download_url(dataset, BASE_URL, base_url)
    _fetch(title, remote, cached, url, quiet, searched)
    return cached


def _fetch(title, remote: Remote, target: pathlib.Path, url: str, quiet, searched) -> None:
    if target.is_file() and not quiet:
        print(f"{target} does not match its {remote.algorithm}; downloading it again.",
              file=sys.stderr)
    try:
        _download.download(url + remote.name, target, size=remote.size, quiet=quiet,
                           **{remote.algorithm: remote.digest})
    except (_download.DownloadError, OSError) as error:
        searched.append((f"download from {url}", str(error)))
        lines = [f"{title} was not found and could not be downloaded. Looked in:"]
        lines += [f"  - {place}: {result}" for place, result in searched]
        lines += ["To get the data, do one of:",
                  f"  - download {BASE_URL}{remote.name} and pass its path as path=",
                  f"  - or copy it into {target.parent}/",
                  "  - or connect to the network and call the function again"]
        raise _loader.DatasetNotFoundError("\n".join(lines), searched) from error


# ----- Keras's preprocessing of the sequences, vectorised -----

@dataclasses.dataclass
class Sequences:
    """Ragged rows of word indices: all values end to end and each row's length."""

    flat: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, rows, where: str) -> "Sequences":
        try:
            lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
            flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64,
                               count=int(lengths.sum()))
        except (TypeError, ValueError, OverflowError, MemoryError) as error:
            raise DatasetFormatError(f"{where}: the sequences must be lists of integers "
                                     f"({error}).") from error
        return cls(flat, lengths)

    def rows(self) -> np.ndarray:
        """A 1-D object array of Python lists, as Keras returns."""
        parts = np.split(self.flat, np.cumsum(self.lengths)[:-1]) if len(self.lengths) else []
        return np.fromiter((part.tolist() for part in parts), dtype=object,
                           count=len(self.lengths))

    def take(self, keep: np.ndarray) -> "Sequences":
        return Sequences(self.flat[np.repeat(keep, self.lengths)], self.lengths[keep])


def shift(seqs: Sequences, start_char, index_from) -> Sequences:
    """Add ``index_from`` to every index and put ``start_char`` in front of each row."""
    flat = seqs.flat + index_from if (start_char is not None or index_from) else seqs.flat
    if start_char is None:
        return Sequences(flat, seqs.lengths)
    starts = np.cumsum(seqs.lengths) - seqs.lengths
    return Sequences(np.insert(flat, starts, start_char), seqs.lengths + 1)


def limit_words(seqs: Sequences, num_words, skip_top, oov_char) -> Sequences:
    """Indices outside ``[skip_top, num_words)`` become ``oov_char``, or are dropped if it is
    None; ``num_words`` defaults to the largest index (Keras)."""
    if not num_words:
        num_words = int(seqs.flat.max(initial=0))
    inside = (seqs.flat >= skip_top) & (seqs.flat < num_words)
    if oov_char is not None:
        return Sequences(np.where(inside, seqs.flat, oov_char), seqs.lengths)
    rows = np.repeat(np.arange(len(seqs.lengths)), seqs.lengths)
    return Sequences(seqs.flat[inside],
                     np.bincount(rows[inside], minlength=len(seqs.lengths)).astype(np.int64))


def check_arguments(title: str, maxlen, seed, num_words, skip_top) -> None:
    for name, value in (("maxlen", maxlen), ("num_words", num_words)):
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, (int, np.integer)) or value < 0):
            raise ValueError(f"{title}: `{name}` must be None or a non-negative integer; "
                             f"received {name}={value!r}.")
    if isinstance(skip_top, bool) or not isinstance(skip_top, (int, np.integer)) or skip_top < 0:
        raise ValueError(f"{title}: `skip_top` must be a non-negative integer; received "
                         f"skip_top={skip_top!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{title}: `seed` must be an integer; received seed={seed!r}.")


def labels_of(arrays: dict, key: str, count: int, where: str) -> np.ndarray:
    labels = arrays[key]
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != count:
        raise DatasetFormatError(f"{where}: '{key}' must be {count} integer labels, found "
                                 f"shape {labels.shape} of {labels.dtype}.")
    return labels


def members(arrays: dict, names, where: str) -> None:
    missing = [name for name in names if name not in arrays]
    if missing:
        raise DatasetFormatError(f"{where} lacks {missing} (it has {sorted(arrays)}); it is not "
                                 f"the expected dataset file.")
