"""Fashion-MNIST: 70,000 28x28 grayscale images of clothing in 10 classes (Zalando, MIT license).

>>> from numkeras.datasets import fashion_mnist
>>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
>>> x_train.shape, x_train.dtype, fashion_mnist.CLASS_NAMES[y_train[0]]  # doctest: +SKIP
((60000, 28, 28), dtype('uint8'), 'Ankle boot')
"""

from __future__ import annotations

from numkeras.datasets import _loader
from numkeras.datasets._loader import FILE_NAMES, DatasetSpec, RemoteFile

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# The official files (zalandoresearch/fashion-mnist), as mirrored by Keras. The SHA-256s and
# sizes are those hard-coded by keras/src/datasets/fashion_mnist.py and tensorflow/datasets
# url_checksums/fashion_mnist.txt; their MD5s match the ones in Zalando's README. The second
# digest of each file is Debian's copy (package dataset-fashion-mnist): the same deflate stream
# under a gzip header stripped of file name and time, 24 bytes shorter. Putting its header back
# reproduces the official digest exactly (tests/datasets/test_fashion_mnist.py checks this).
SPEC = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    base_url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    files={
        "train_images": RemoteFile(
            FILE_NAMES["train_images"],
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880,
            ("b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",)),
        "train_labels": RemoteFile(
            FILE_NAMES["train_labels"],
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515,
            ("0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",)),
        "test_images": RemoteFile(
            FILE_NAMES["test_images"],
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102,
            ("cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",)),
        "test_labels": RemoteFile(
            FILE_NAMES["test_labels"],
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148,
            ("8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",)),
    },
    system_subdir="fashion-mnist",
    apt_package="dataset-fashion-mnist",
)


def load_data(path=None, *, base_url: str | None = None, quiet: bool = False):
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``.

    ``x_train`` is uint8 ``(60000, 28, 28)``, ``y_train`` uint8 ``(60000,)`` with labels 0-9
    (names in :data:`CLASS_NAMES`), ``x_test`` uint8 ``(10000, 28, 28)``, ``y_test`` uint8
    ``(10000,)``. Pixels are 0-255, not normalised.

    Args:
        path: a directory holding the four IDX files; when given, nothing else is searched.
            Otherwise: ``$NUMKERAS_DATA/fashion-mnist/``, the cache
            ``~/.numkeras/datasets/fashion-mnist/`` (``$NUMKERAS_HOME``), the Debian package's
            ``/usr/share/datasets/fashion-mnist/``, then a verified download into the cache.
        base_url: where to download the four files from (default: ``$NUMKERAS_DATASETS_URL``
            + ``fashion-mnist/`` if set, else Keras's mirror).
        quiet: no progress bar while downloading.

    Raises:
        DatasetNotFoundError: nothing found and the download failed; the message lists every
            place searched and how to get the data.
        IDXFormatError: a file was found but is damaged; the message names it.

    >>> (x_train, y_train), _ = load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.max()  # doctest: +SKIP
    ((60000, 28, 28), 9)
    """
    return _loader.load(SPEC, path, base_url=base_url, quiet=quiet)
