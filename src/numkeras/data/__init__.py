"""``tf.data`` for in-memory data: :class:`Dataset` and ``AUTOTUNE``.

>>> from numkeras import data
>>> ds = data.Dataset.from_tensor_slices({"a": [1, 2, 3]}).batch(2)
>>> [d["a"].numpy().tolist() for d in ds]
[[1, 2], [3]]
"""

from numkeras.data.dataset import (
    AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset,
)

experimental = type("experimental", (), {
    "AUTOTUNE": AUTOTUNE, "INFINITE_CARDINALITY": INFINITE_CARDINALITY,
    "UNKNOWN_CARDINALITY": UNKNOWN_CARDINALITY,
    "cardinality": staticmethod(lambda dataset: dataset.cardinality())})
"""``tf.data.experimental.AUTOTUNE`` and friends (the TF 2.0-2.3 spelling)."""

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset", "experimental"]
