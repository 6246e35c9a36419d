"""``keras.utils.PyDataset`` (Keras 3) and ``Sequence`` (tf.keras): batches by index.

A subclass defines ``__len__`` (the number of batches) and ``__getitem__(index)`` returning one
batch ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; ``fit`` calls ``on_epoch_end`` after
each epoch (and shuffles the order of the batches when ``shuffle=True``). ``workers``,
``use_multiprocessing`` and ``max_queue_size`` are accepted and recorded: batches are made in
order in the calling thread.

>>> import numpy as np
>>> class Batches(PyDataset):
...     def __init__(self, x, y, batch_size, **kwargs):
...         super().__init__(**kwargs)
...         self.x, self.y, self.batch_size = x, y, batch_size
...     def __len__(self):
...         return -(-len(self.x) // self.batch_size)
...     def __getitem__(self, index):
...         rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
...         return self.x[rows], self.y[rows]
>>> data = Batches(np.zeros((10, 2)), np.zeros(10), batch_size=4)
>>> len(data), [len(x) for x, y in data]
(3, [4, 4, 2])
"""

from __future__ import annotations


class PyDataset:
    """Base class of datasets that make batches on demand (see the module docstring)."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index), "
                                  f"returning one batch.")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__(), the "
                                  f"number of batches.")

    @property
    def num_batches(self):
        """The number of batches (``len(self)``)."""
        return len(self)

    def on_epoch_begin(self):
        """Called before each epoch (override to change the data between epochs)."""

    def on_epoch_end(self):
        """Called after each epoch (override e.g. to shuffle the samples)."""

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]


Sequence = PyDataset
"""tf.keras's ``keras.utils.Sequence``: the same protocol."""


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be (x,), (x, y) or (x, y, sample_weight), found a "
                     f"tuple of {len(data)} items.")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of :func:`unpack_x_y_sample_weight` (what a custom ``train_step`` gets)."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)
