"""CIFAR-10: 60,000 32x32 colour images in 10 classes (Krizhevsky, Nair and Hinton, 2009).

>>> from numkeras.datasets import cifar10
>>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
>>> x_train.shape, y_train.shape, x_train.dtype  # doctest: +SKIP
((50000, 32, 32, 3), (50000, 1), dtype('uint8'))
>>> cifar10.CLASS_NAMES[3]
'cat'
"""

from __future__ import annotations

from numkeras.datasets import _cifar
from numkeras.datasets._loader import RemoteFile

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

# SHA-256 as hard-coded in keras/src/datasets/cifar10.py; the size is the file's published
# length (Content-Length of www.cs.toronto.edu, as Keras's download logs show it). The MD5 on
# the dataset's page is c58f30108f718f92721af3b95e74349a.
SPEC = _cifar.ArchiveSpec(
    name="cifar-10",
    title="CIFAR-10",
    archive=RemoteFile("cifar-10-python.tar.gz",
                       "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                       170498071),
    base_url="https://www.cs.toronto.edu/~kriz/",
    member_dir="cifar-10-batches-py",
    train_batches=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test_batch="test_batch",
    num_classes={"labels": 10},
)


def load_data(path=None, *, base_url: str | None = None, quiet: bool = False):
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``, as Keras does.

    ``x_train``: uint8 ``(50000, 32, 32, 3)``; ``y_train``: uint8 ``(50000, 1)`` with labels
    0-9 (names in :data:`CLASS_NAMES`); ``x_test``: ``(10000, 32, 32, 3)``; ``y_test``:
    ``(10000, 1)``.

    Args:
        path: the ``cifar-10-python.tar.gz`` archive, or a directory holding it or its
            extracted ``cifar-10-batches-py/``; when given, nothing else is searched.
            Otherwise ``$NUMKERAS_DATA/cifar-10/``, the cache ``~/.numkeras/datasets/
            cifar-10/`` (``$NUMKERAS_HOME``), then a verified download (163 MiB) into it.
        base_url: where to download from (default ``$NUMKERAS_DATASETS_URL`` + ``cifar-10/``
            if set, else www.cs.toronto.edu/~kriz/).
        quiet: no progress bar while downloading.

    Raises:
        DatasetNotFoundError: nothing found and the download failed (the message says where
            it looked and how to get the file).
        CIFARFormatError: the archive or a batch is damaged, not CIFAR-10, or not safe to
            unpickle.
    """
    return _cifar.load(SPEC, "labels", path, base_url=base_url, quiet=quiet)
