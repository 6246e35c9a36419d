"""MNIST: 70,000 28x28 grayscale images of handwritten digits (LeCun, Cortes and Burges).

Keras reads ``mnist.npz``; numkeras reads the four original IDX files, which give the same
arrays and the same lookup as Fashion-MNIST.

>>> from numkeras.datasets import mnist
>>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
>>> mnist.CLASS_NAMES[:3]
['0', '1', '2']
"""

from __future__ import annotations

from numkeras.datasets import _loader
from numkeras.datasets._loader import FILE_NAMES, DatasetSpec, RemoteFile

CLASS_NAMES = [str(digit) for digit in range(10)]

# The CVDF mirror used by TensorFlow; sizes and SHA-256s from tensorflow/datasets
# url_checksums/mnist.txt, the same digests other projects publish for yann.lecun.com's files.
# No Linux distribution packages MNIST (``apt-cache search mnist`` finds only Fashion-MNIST), so
# there is no system copy to look for.
SPEC = DatasetSpec(
    name="mnist",
    title="MNIST",
    base_url="https://storage.googleapis.com/cvdf-datasets/mnist/",
    files={
        "train_images": RemoteFile(
            FILE_NAMES["train_images"],
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        "train_labels": RemoteFile(
            FILE_NAMES["train_labels"],
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        "test_images": RemoteFile(
            FILE_NAMES["test_images"],
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        "test_labels": RemoteFile(
            FILE_NAMES["test_labels"],
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    },
)


def load_data(path=None, *, base_url: str | None = None, quiet: bool = False):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    Same shapes and dtypes as Keras: uint8 ``(60000, 28, 28)``, ``(60000,)``,
    ``(10000, 28, 28)``, ``(10000,)``; labels 0-9, pixels 0-255.

    Args:
        path: a directory holding the four IDX files; when given, nothing else is searched.
            Otherwise: ``$NUMKERAS_DATA/mnist/``, the cache ``~/.numkeras/datasets/mnist/``
            (``$NUMKERAS_HOME``), then a verified download into the cache.
        base_url: where to download from (default: ``$NUMKERAS_DATASETS_URL`` + ``mnist/`` if
            set, else the CVDF mirror).
        quiet: no progress bar while downloading.

    Raises:
        DatasetNotFoundError: nothing found and the download failed; the message says where
            it looked and how to get the data.
        IDXFormatError: a file was found but is damaged; the message names it.

    >>> (x_train, y_train), _ = load_data()  # doctest: +SKIP
    >>> x_train.shape  # doctest: +SKIP
    (60000, 28, 28)
    """
    return _loader.load(SPEC, path, base_url=base_url, quiet=quiet)
