"""Datasets as NumPy arrays, read from local IDX files or downloaded and verified.

>>> from numkeras.datasets import fashion_mnist
>>> fashion_mnist.CLASS_NAMES[9]
'Ankle boot'

Where the files are looked for, and how to use them offline: docs/datasets.md.
"""

from numkeras.datasets import cifar10, cifar100, fashion_mnist, mnist
from numkeras.datasets import imdb, reuters
from numkeras.datasets._sequences import DatasetFormatError
from numkeras.datasets._cifar import CIFARFormatError
from numkeras.datasets._loader import DatasetNotFoundError
from numkeras.datasets.download import DownloadError
from numkeras.datasets.idx import IDXFormatError, read_idx

__all__ = ["CIFARFormatError", "DatasetNotFoundError", "DownloadError", "IDXFormatError",
           "cifar10", "cifar100", "fashion_mnist", "mnist", "read_idx",
           "DatasetFormatError", "imdb", "reuters"]
