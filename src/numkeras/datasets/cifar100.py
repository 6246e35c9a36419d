"""CIFAR-100: 60,000 32x32 colour images in 100 fine classes grouped into 20 coarse ones.

>>> from numkeras.datasets import cifar100
>>> (x_train, y_train), _ = cifar100.load_data(label_mode="coarse")  # doctest: +SKIP
>>> x_train.shape, y_train.shape, int(y_train.max())  # doctest: +SKIP
((50000, 32, 32, 3), (50000, 1), 19)
"""

from __future__ import annotations

from numkeras.datasets import _cifar
from numkeras.datasets._loader import RemoteFile

# SHA-256 as hard-coded in keras/src/datasets/cifar100.py; the size is the file's published
# length. The MD5 on the dataset's page is eb9058c3a382ffc7106e4002c42a8d85.
SPEC = _cifar.ArchiveSpec(
    name="cifar-100",
    title="CIFAR-100",
    archive=RemoteFile("cifar-100-python.tar.gz",
                       "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
                       169001437),
    base_url="https://www.cs.toronto.edu/~kriz/",
    member_dir="cifar-100-python",
    train_batches=("train",),
    test_batch="test",
    num_classes={"fine_labels": 100, "coarse_labels": 20},
    label_dtype="int64",
)


def load_data(label_mode: str = "fine", path=None, *, base_url: str | None = None,
              quiet: bool = False):
    """Load CIFAR-100 as ``(x_train, y_train), (x_test, y_test)``, as Keras does.

    Images are uint8 ``(50000, 32, 32, 3)`` and ``(10000, 32, 32, 3)``; labels ``(n, 1)``
    (int64, as Keras's loader gives them): 0-99 with ``label_mode="fine"``, the 20
    superclasses 0-19 with ``"coarse"``.
    ``path``, ``base_url`` and ``quiet`` as in :func:`numkeras.datasets.cifar10.load_data`
    (cache directory ``cifar-100``, archive ``cifar-100-python.tar.gz``, 161 MiB).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: '
                         f"label_mode={label_mode}.")
    return _cifar.load(SPEC, f"{label_mode}_labels", path, base_url=base_url, quiet=quiet)
