"""Finding, downloading and reading the four IDX files of an MNIST-style dataset.

Lookup order for ``load_data(path=None)`` (docs/datasets.md):

1. ``path=``: a directory holding the four files. When given it is the only place looked at; if
   files are missing that is an error (a typo should not silently trigger a download).
2. ``$NUMKERAS_DATA/<name>/`` (``<name>`` is ``fashion-mnist`` or ``mnist``). The files sit in a
   per-dataset subdirectory because both datasets use the same four file names.
3. The cache ``$NUMKERAS_HOME/datasets/<name>/`` (default ``~/.numkeras/datasets/<name>/``); its
   files are checked against the known SHA-256s, because numkeras wrote them.
4. The system copy, ``/usr/share/datasets/fashion-mnist/`` from the Debian package
   ``dataset-fashion-mnist`` (:data:`SYSTEM_DATA_DIR`, which tests point elsewhere).
5. Download of the missing or damaged files into the cache, each verified by SHA-256.

Places 1, 2 and 4 may hold gzip files or uncompressed ones (``train-images-idx3-ubyte``).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import sys

from numkeras.datasets import download as _download
from numkeras.datasets import idx

SYSTEM_DATA_DIR = pathlib.Path("/usr/share/datasets")
ROLES = ("train_images", "train_labels", "test_images", "test_labels")
FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


class DatasetNotFoundError(FileNotFoundError):
    """No usable copy of a dataset was found or could be downloaded.

    The message lists every place that was searched and how to get the data; ``searched`` holds
    the same as ``(place, what was found)`` pairs.

    >>> issubclass(DatasetNotFoundError, OSError)
    True
    """

    def __init__(self, message: str, searched=()):
        super().__init__(message)
        self.searched = list(searched)


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name, size and SHA-256 as published."""

    name: str
    sha256: str
    size: int
    # Digests of other byte-exact encodings of the same data that may sit in the cache, such as
    # Debian's copies (same deflate stream, gzip header without file name and time).
    also_accepted: tuple[str, ...] = ()

    def accepts(self, digest: str) -> bool:
        return digest == self.sha256 or digest in self.also_accepted


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives and how to check it."""

    name: str  # subdirectory name in caches and data directories
    title: str  # for messages
    base_url: str
    files: dict  # role -> RemoteFile
    system_subdir: str | None = None  # under SYSTEM_DATA_DIR, None if no package exists
    apt_package: str | None = None


def home_dir() -> pathlib.Path:
    """``$NUMKERAS_HOME`` if set, else ``~/.numkeras``."""
    value = os.environ.get("NUMKERAS_HOME")
    return pathlib.Path(value).expanduser() if value else pathlib.Path.home() / ".numkeras"


def cache_dir(spec: DatasetSpec) -> pathlib.Path:
    """The download cache of a dataset: ``<home>/datasets/<name>``."""
    return home_dir() / "datasets" / spec.name


def load(spec: DatasetSpec, path=None, *, base_url: str | None = None, quiet: bool = False):
    """Find (or download) the dataset described by ``spec`` and return its four arrays."""
    found, source = locate(spec, path, base_url=base_url, quiet=quiet)
    try:
        return read_dataset(found)
    except idx.IDXFormatError as error:
        fix = (f" Reinstall it: sudo apt-get install --reinstall {spec.apt_package}."
               if source.startswith("system") else " Replace it with a good copy.")
        raise idx.IDXFormatError(f"{error} (The file was found in the {source}.{fix})") from error


def locate(spec: DatasetSpec, path=None, *, base_url: str | None = None, quiet: bool = False):
    """Return ``({role: file path}, description of the source)``, downloading if needed."""
    names = ", ".join(FILE_NAMES[role] for role in ROLES)
    if path is not None:
        directory = pathlib.Path(path).expanduser()
        files, missing = _find_files(directory)
        if not missing:
            return files, f"directory given as path= ({directory})"
        problem = ("is a file, not a directory" if directory.is_file()
                   else "does not exist" if not directory.exists()
                   else "lacks " + ", ".join(missing))
        raise DatasetNotFoundError(
            f"{spec.title}: load_data(path={str(path)!r}): {directory} {problem}. Pass a "
            f"directory that holds the four files ({names}), or leave out path= to search "
            "NUMKERAS_DATA, the cache and the system copy, and to download.",
            [(f"path={str(path)!r}", problem)])

    searched = []
    env = os.environ.get("NUMKERAS_DATA")
    if env:
        directory = pathlib.Path(env).expanduser() / spec.name
        files, missing = _find_files(directory)
        if not missing:
            return files, f"NUMKERAS_DATA directory ({directory})"
        searched.append((f"$NUMKERAS_DATA/{spec.name} ({directory})", _missing(missing)))
    else:
        searched.append(("$NUMKERAS_DATA", "not set"))

    cache = cache_dir(spec)
    bad = _check_cache(spec, cache)
    if not bad:
        return {role: cache / FILE_NAMES[role] for role in ROLES}, f"cache ({cache})"
    all_missing = all(problem.startswith("missing") for problem in bad.values())
    searched.append((f"cache {cache}", "no files" if len(bad) == len(ROLES) and all_missing
                     else "; ".join(bad.values())))

    if spec.system_subdir:
        directory = SYSTEM_DATA_DIR / spec.system_subdir
        files, missing = _find_files(directory)
        if not missing:
            return files, f"system copy ({directory})"
        searched.append((f"system copy {directory} (package {spec.apt_package})",
                         _missing(missing)))

    url = download_url(spec.name, spec.base_url, base_url)
    try:
        for role, problem in bad.items():
            remote = spec.files[role]
            if problem.startswith("wrong") and not quiet:
                print(f"{cache / remote.name} does not match its SHA-256; downloading it again.",
                      file=sys.stderr)
            _download.download(url + remote.name, cache / remote.name, sha256=remote.sha256,
                               size=remote.size, quiet=quiet)
    except _download.DownloadError as error:
        searched.append((f"download from {url}", str(error)))
        raise DatasetNotFoundError(_not_found_message(spec, searched, cache), searched) from error
    except OSError as error:  # the cache cannot be created or written
        problem = f"{error}. Set NUMKERAS_HOME to a writable directory"
        searched.append((f"download into {cache}", problem))
        raise DatasetNotFoundError(_not_found_message(spec, searched, cache), searched) from error
    return {role: cache / FILE_NAMES[role] for role in ROLES}, f"cache ({cache}, just filled)"


def read_dataset(files: dict):
    """Parse the four files and check they form an MNIST-style dataset.

    Returns ``(x_train, y_train), (x_test, y_test)``.
    """
    images, labels = {}, {}
    for split in ("train", "test"):
        image_path, label_path = files[f"{split}_images"], files[f"{split}_labels"]
        x = idx.read_idx(image_path, magic=idx.MAGIC_IMAGES)
        y = idx.read_idx(label_path, magic=idx.MAGIC_LABELS)
        if x.shape[1:] != IMAGE_SHAPE:
            raise idx.IDXFormatError(
                f"{image_path}: expected {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]} images, found "
                f"{x.shape[1]}x{x.shape[2]}. Is it a file of another dataset?")
        if len(x) != len(y):
            raise idx.IDXFormatError(
                f"{label_path}: expected one label per image of {image_path} ({len(x):,}), found "
                f"{len(y):,} labels. The two files do not belong together.")
        if y.size and int(y.max()) >= NUM_CLASSES:
            raise idx.IDXFormatError(
                f"{label_path}: expected labels 0-{NUM_CLASSES - 1}, found {int(y.max())}.")
        images[split], labels[split] = x, y
    return (images["train"], labels["train"]), (images["test"], labels["test"])


def _find_files(directory: pathlib.Path):
    """``({role: path}, [missing names])`` for a directory, accepting ``.gz`` or raw files."""
    files, missing = {}, []
    for role in ROLES:
        name = FILE_NAMES[role]
        for candidate in (directory / name, directory / name.removesuffix(".gz")):
            if candidate.is_file():
                files[role] = candidate
                break
        else:
            missing.append(name)
    return files, missing


def _check_cache(spec: DatasetSpec, cache: pathlib.Path) -> dict:
    """``{role: problem}`` for cached files that are missing or fail their SHA-256."""
    bad = {}
    for role in ROLES:
        remote = spec.files[role]
        target = cache / remote.name
        if not target.is_file():
            bad[role] = f"missing {remote.name}"
        elif not remote.accepts(_download.sha256_of(target)):
            bad[role] = f"wrong SHA-256 for {remote.name}"
    return bad


def _missing(names) -> str:
    return "no files" if len(names) == len(ROLES) else "missing " + ", ".join(names)


def download_url(name: str, default: str, base_url: str | None) -> str:
    """Where dataset ``name`` downloads from: ``base_url``, else
    ``$NUMKERAS_DATASETS_URL/<name>/``, else ``default``. A malformed setting is a
    one-line DownloadError
    naming it."""
    if base_url:
        _download.check_url(base_url, "the base_url argument")
        return base_url.rstrip("/") + "/"
    mirror = os.environ.get("NUMKERAS_DATASETS_URL")
    if mirror:
        _download.check_url(mirror, "the NUMKERAS_DATASETS_URL setting (or unset it)")
        return f"{mirror.rstrip('/')}/{name}/"
    return default


def _not_found_message(spec: DatasetSpec, searched, cache: pathlib.Path) -> str:
    names = ", ".join(FILE_NAMES[role] for role in ROLES)
    lines = [f"{spec.title} was not found and could not be downloaded. Looked in:"]
    lines += [f"  - {place}: {result}" for place, result in searched]
    lines.append("To get the data, do one of:")
    if spec.apt_package:
        lines.append(f"  - sudo apt-get install {spec.apt_package}")
    lines += [
        f"  - put the four files ({names}) in a directory and call load_data(path=that_dir)",
        f"  - or put them in <dir>/{spec.name}/ and set NUMKERAS_DATA=<dir>",
        f"  - or copy them into {cache}/",
        f"  - or connect to the network and call load_data() again (they download into {cache})",
    ]
    return "\n".join(lines)

