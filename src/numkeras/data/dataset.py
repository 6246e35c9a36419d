"""``tf.data.Dataset`` for data held in memory: a lazy pipeline of NumPy elements.

A dataset is a recipe: iterating it runs the recipe again (so each epoch of ``fit`` re-shuffles
when ``reshuffle_each_iteration``). Datasets cut from arrays by ``from_tensor_slices`` keep
*indices* through ``shuffle``, ``take``, ``skip`` and ``repeat``, so ``batch`` gathers a whole
batch with one fancy index per array instead of stacking samples one by one.

Iteration yields numkeras Tensors (as TF yields tf.Tensors: ``.numpy()``, ``.shape`` and the
operators work); ``as_numpy_iterator`` yields NumPy arrays. ``map`` functions receive Tensors
and, like tf.data's traced functions, record no graph (the caller's loop still does).
``prefetch``, ``cache``, ``with_options`` and ``num_parallel_calls``/``deterministic`` are
accepted and do nothing (everything is in memory and runs in order).

>>> import numpy as np
>>> ds = Dataset.from_tensor_slices((np.arange(10.0), np.arange(10) % 2))
>>> ds = ds.shuffle(10, seed=0).batch(4).map(lambda x, y: (x * 2, y))
>>> [tuple(x.shape) for x, y in ds]
[(4,), (4,), (2,)]
>>> len(ds), ds.cardinality()
(3, 3)
"""

from __future__ import annotations

import contextlib
import itertools
import threading

import numpy as np

from numkeras import config
from numkeras.backprop.tensor import Tensor, no_grad

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class Dataset:
    """A sequence of elements (arrays, or tuples/dicts of arrays); see the module docstring."""

    def __init__(self, elements, cardinality: int):
        self._elements = elements  # a function returning a fresh iterator of NumPy elements
        self._cardinality = int(cardinality)

    # ----- sources -----
    @staticmethod
    def from_tensor_slices(tensors) -> "Dataset":
        """One element per row of the arrays (all must have the same first dimension).

        >>> [int(x) for x in Dataset.from_tensor_slices([1, 2, 3])]
        [1, 2, 3]
        """
        arrays = _map(_as_array, tensors)
        lengths = {a.shape[0] if a.ndim else None for a in _leaves(arrays)}
        if None in lengths:
            raise ValueError("Dataset.from_tensor_slices() needs arrays with at least one "
                             "dimension to slice; use Dataset.from_tensors() for one element.")
        if len(lengths) != 1:
            raise ValueError(f"Dataset.from_tensor_slices(): all arrays must have the same "
                             f"first dimension, but they have {sorted(lengths)}.")
        n = lengths.pop()
        return _SliceDataset(arrays, np.arange(n), n)

    @staticmethod
    def from_tensors(tensors) -> "Dataset":
        """A dataset of exactly one element, ``tensors``."""
        element = _map(_as_array, tensors)
        return Dataset(lambda: iter([element]), 1)

    @staticmethod
    def range(*args, dtype="int64") -> "Dataset":
        """``range(start, stop, step)`` as a dataset of scalars."""
        values = np.arange(*args, dtype=dtype)
        return _SliceDataset(values, np.arange(len(values)), len(values))

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None) -> "Dataset":
        """Elements from a function returning an iterator (called again each epoch)."""
        args = tuple(args or ())
        return Dataset(lambda: (_map(_as_array, e) for e in generator(*args)),
                       UNKNOWN_CARDINALITY)

    @staticmethod
    def zip(*datasets) -> "Dataset":
        """Elements of several datasets side by side: ``zip((a, b))`` or ``zip(a, b)``."""
        structure = datasets[0] if len(datasets) == 1 else datasets
        parts = _leaves(structure)
        if not all(isinstance(d, Dataset) for d in parts):
            raise TypeError("Dataset.zip() takes datasets (or a tuple/dict of datasets).")
        counts = [d._cardinality for d in parts]
        finite = [c for c in counts if c >= 0]
        cardinality = min(finite) if finite else (
            INFINITE_CARDINALITY if all(c == INFINITE_CARDINALITY for c in counts)
            else UNKNOWN_CARDINALITY)

        def elements():
            for items in zip(*(d._elements() for d in parts)):
                yield _pack(structure, iter(items))

        return Dataset(elements, cardinality)

    # ----- transformations -----
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None) -> "Dataset":
        """Consecutive elements stacked into batches of ``batch_size``."""
        return self._batched(batch_size, drop_remainder, _stack)

    def unbatch(self) -> "Dataset":
        """The rows of each element (the inverse of ``batch``)."""
        def elements():
            for element in self._elements():
                leaves = _leaves(element)
                for i in range(len(leaves[0])):
                    yield _map(lambda a, i=i: a[i], element)

        return Dataset(elements, UNKNOWN_CARDINALITY)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True,
                name=None) -> "Dataset":
        """Randomly reorder elements with a buffer of ``buffer_size`` (TF's algorithm: a
        buffer at least as large as the dataset gives a uniform permutation). The order comes
        from ``seed``, else from ``keras.utils.set_random_seed``; with
        ``reshuffle_each_iteration`` each pass (epoch) gets a new order."""
        buffer_size = _positive("buffer_size", buffer_size)
        rng = _pass_rngs(seed, reshuffle_each_iteration)

        def elements():
            return _buffer_shuffle(self._elements(), buffer_size, rng())

        return Dataset(elements, self._cardinality)

    def map(self, map_func, num_parallel_calls=None, deterministic=None,
            name=None) -> "Dataset":
        """``map_func`` on each element (a tuple element is passed as separate arguments),
        given and returning Tensors or arrays."""
        def elements():
            for element in self._elements():
                yield _map(_as_array, _call(map_func, element))

        return Dataset(elements, self._cardinality)

    def filter(self, predicate, name=None) -> "Dataset":
        """Only the elements for which ``predicate`` is true."""
        def elements():
            for element in self._elements():
                if bool(np.asarray(_as_array(_call(predicate, element)))):
                    yield element

        return Dataset(elements, UNKNOWN_CARDINALITY)

    def take(self, count, name=None) -> "Dataset":
        """The first ``count`` elements (all of them if ``count`` is -1)."""
        count = int(count)
        if count < 0:
            return self
        size = min(count, self._cardinality) if self._cardinality >= 0 else (
            count if self._cardinality == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY)
        return Dataset(lambda: itertools.islice(self._elements(), count), size)

    def skip(self, count, name=None) -> "Dataset":
        """All but the first ``count`` elements."""
        count = max(int(count), 0)
        size = max(self._cardinality - count, 0) if self._cardinality >= 0 else self._cardinality
        return Dataset(lambda: itertools.islice(self._elements(), count, None), size)

    def repeat(self, count=None, name=None) -> "Dataset":
        """The dataset ``count`` times over (forever if None or -1); each pass re-runs the
        pipeline (a shuffle before the repeat gives each pass a new order)."""
        forever = count is None or int(count) < 0
        times = None if forever else int(count)

        def elements():
            for _ in (itertools.count() if forever else range(times)):
                yield from self._elements()

        if forever:
            size = INFINITE_CARDINALITY if self._cardinality != 0 else 0
        else:
            size = self._cardinality * times if self._cardinality >= 0 else self._cardinality
        return Dataset(elements, size)

    def concatenate(self, dataset) -> "Dataset":
        """This dataset's elements followed by ``dataset``'s."""
        counts = (self._cardinality, dataset._cardinality)
        size = sum(counts) if min(counts) >= 0 else (
            INFINITE_CARDINALITY if INFINITE_CARDINALITY in counts else UNKNOWN_CARDINALITY)
        return Dataset(lambda: itertools.chain(self._elements(), dataset._elements()), size)

    def flat_map(self, map_func, name=None) -> "Dataset":
        """``map_func`` returns a Dataset per element; their elements, one after another."""
        def elements():
            for element in self._elements():
                yield from _call(map_func, element)._elements()

        return Dataset(elements, UNKNOWN_CARDINALITY)

    def shard(self, num_shards, index, name=None) -> "Dataset":
        """Every ``num_shards``-th element, starting at ``index``."""
        num_shards = _positive("num_shards", num_shards)
        if not 0 <= int(index) < num_shards:
            raise ValueError(f"`index` must be in [0, {num_shards}), received index={index}.")
        size = self._cardinality
        if size >= 0:
            size = len(range(int(index), size, num_shards))
        return Dataset(lambda: itertools.islice(self._elements(), int(index), None, num_shards),
                       size)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False, name=None) -> "Dataset":
        """Batches of elements of different lengths, each component zero-padded (or with
        ``padding_values``) at the end of every axis to the longest in the batch (or to
        ``padded_shapes``, where given as numbers)."""
        return self._batched(batch_size, drop_remainder,
                             lambda rows: _padded_stack(rows, padded_shapes, padding_values))

    def _batched(self, batch_size, drop_remainder, stack) -> "Dataset":
        """Consecutive elements in lists of ``batch_size``, each made one element by
        ``stack`` (``batch`` and ``padded_batch``)."""
        batch_size = _positive("batch_size", batch_size)

        def elements():
            for rows in _chunks(self._elements(), batch_size, drop_remainder):
                yield stack(rows)

        return Dataset(elements, _batch_count(self._cardinality, batch_size, drop_remainder))

    def reduce(self, initial_state, reduce_func):
        """Fold the elements: ``state = reduce_func(state, element)`` (as Tensors)."""
        state = _map(Tensor, _map(_as_array, initial_state))
        with no_grad():
            for element in self._elements():
                tensors = _map(Tensor, element)
                state = reduce_func(state, *tensors) if isinstance(tensors, tuple) \
                    else reduce_func(state, tensors)
        return state

    def enumerate(self, start=0, name=None) -> "Dataset":
        """``(index, element)`` pairs."""
        return Dataset(lambda: ((np.int64(i), e) for i, e in
                                enumerate(self._elements(), start)), self._cardinality)

    def prefetch(self, buffer_size=None, name=None) -> "Dataset":
        """Accepted for TF's pipelines; a no-op (data is in memory, produced in order)."""
        return self

    def cache(self, filename="", name=None) -> "Dataset":
        """Accepted for TF's pipelines; a no-op (elements are recomputed each pass)."""
        return self

    def with_options(self, options, name=None) -> "Dataset":
        return self

    def apply(self, transformation_func) -> "Dataset":
        return transformation_func(self)

    # ----- reading -----
    def __iter__(self):
        for element in self._elements():
            yield _map(Tensor, element)

    def as_numpy_iterator(self):
        """Elements as NumPy arrays (numbers and strings as NumPy scalars)."""
        return iter(self._elements())

    def cardinality(self) -> int:
        """The number of elements; -1 if infinite, -2 if unknown (after ``filter``)."""
        return self._cardinality

    def __len__(self) -> int:
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite (repeat()); it has no length.")
        if self._cardinality < 0:
            raise TypeError("The dataset length is unknown (after filter or from_generator).")
        return self._cardinality

    def __repr__(self) -> str:
        return f"<Dataset cardinality={self._cardinality}>"

    @property
    def element_spec(self):
        """The shapes and dtypes of one element (as ``(shape, dtype)`` pairs)."""
        with _peeking():
            first = next(iter(self._elements()), None)
        return None if first is None else _map(lambda a: (a.shape, a.dtype), first)


class _SliceDataset(Dataset):
    """Rows of arrays, kept as an index array until elements are needed: ``shuffle``,
    ``take``, ``skip`` and ``batch`` work on the indices (one gather per batch)."""

    def __init__(self, arrays, plan, size: int):
        self._arrays = arrays
        self._plan = plan  # an index array, or a function giving one per pass (shuffle, take)
        super().__init__(self._rows, size)

    def _indices(self) -> np.ndarray:
        return self._plan if isinstance(self._plan, np.ndarray) else self._plan()

    def _rows(self):
        indices = self._indices()
        return (_map(lambda a, i=i: a[i], self._arrays) for i in indices)

    def _derived(self, plan, size):
        return _SliceDataset(self._arrays, plan, size)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        buffer_size = _positive("buffer_size", buffer_size)
        pass_rng = _pass_rngs(seed, reshuffle_each_iteration)

        def plan():
            rng = pass_rng()
            indices = self._indices()
            if buffer_size >= len(indices):
                return indices[rng.permutation(len(indices))]
            return np.fromiter(_buffer_shuffle(iter(indices), buffer_size, rng), np.int64,
                               len(indices))

        return self._derived(plan, self._cardinality)

    def take(self, count, name=None):
        count = int(count)
        if count < 0:
            return self
        return self._derived(lambda: self._indices()[:count], min(count, self._cardinality))

    def skip(self, count, name=None):
        count = max(int(count), 0)
        return self._derived(lambda: self._indices()[count:], max(self._cardinality - count, 0))

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        batch_size = _positive("batch_size", batch_size)

        def elements():
            indices = self._indices()
            stop = len(indices) - len(indices) % batch_size if drop_remainder else len(indices)
            for start in range(0, stop, batch_size):
                rows = indices[start:start + batch_size]
                yield _map(lambda a: a[rows], self._arrays)

        return Dataset(elements, _batch_count(self._cardinality, batch_size, drop_remainder))


# ----- helpers -----


def _as_array(value):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    array = np.asarray(value)
    if array.dtype == np.float64 and not isinstance(value, np.generic):
        array = array.astype(config.floatx())  # Python floats: float32, as tf.constant
    return array


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, received {name}={value!r}.")
    return int(value)


def _call(function, element):
    """A user's function on one element, recording no graph (as tf.data's traced functions).

    ``no_grad`` is entered here, around the call only, never around a generator's ``yield``:
    a ``with`` block in a generator stays in force while the generator is paused, which is
    when the caller's training step runs (it would record nothing and train nothing)."""
    tensors = _map(Tensor, element)
    with no_grad():
        if isinstance(tensors, tuple):
            return function(*tensors)
        return function(tensors)


def _batch_count(cardinality: int, batch_size: int, drop_remainder: bool) -> int:
    if cardinality < 0:  # infinite or unknown stays so
        return cardinality
    return cardinality // batch_size if drop_remainder else -(-cardinality // batch_size)


def _chunks(iterator, size, drop_remainder):
    while True:
        rows = list(itertools.islice(iterator, size))
        if not rows or (drop_remainder and len(rows) < size):
            return
        yield rows


def _stack(rows):
    first = rows[0]
    if isinstance(first, dict):
        return {k: _stack([r[k] for r in rows]) for k in first}
    if isinstance(first, tuple):
        return tuple(_stack([r[i] for r in rows]) for i in range(len(first)))
    return np.stack(rows)


def _padded_stack(rows, shapes, values):
    first = rows[0]
    if isinstance(first, dict):
        return {k: _padded_stack([r[k] for r in rows], _part(shapes, k), _part(values, k))
                for k in first}
    if isinstance(first, tuple):
        return tuple(_padded_stack([r[i] for r in rows], _part(shapes, i), _part(values, i))
                     for i in range(len(first)))
    arrays = [np.asarray(r) for r in rows]
    longest = np.max([a.shape for a in arrays], axis=0) if arrays[0].ndim else ()
    target = tuple(int(t) if t is not None and t != -1 else int(n) for t, n in zip(
        shapes, longest)) if shapes is not None else tuple(int(n) for n in longest)
    fill = 0 if values is None else np.asarray(_as_array(values)).item()
    out = np.full((len(arrays),) + target, fill, dtype=arrays[0].dtype)
    for i, array in enumerate(arrays):  # one copy per element: lengths differ
        out[(i,) + tuple(slice(0, n) for n in array.shape)] = array
    return out


def _part(structure, key):
    return None if structure is None or not isinstance(structure, (dict, tuple)) \
        else structure[key]


class _Peek(threading.local):
    active = False  # set while element_spec looks at a first element


_peek = _Peek()


@contextlib.contextmanager
def _peeking():
    """Look at elements without starting a pass: a shuffle keeps its pass count, so the
    first epoch's order stays the one its seed gives (as in TF), element_spec read or not."""
    previous, _peek.active = _peek.active, True
    try:
        yield
    finally:
        _peek.active = previous


def _pass_rngs(seed, reshuffle_each_iteration):
    """A function giving the random generator of each new pass of a shuffle: pass ``k``
    draws from ``(base, k)``, ``base`` fixed by ``seed`` (or the global seed); without
    ``reshuffle_each_iteration`` every pass is pass 0. A peek reads the next pass's
    generator without counting it."""
    base = int(config.make_rng(seed).integers(2**63))
    passes = [0]

    def rng():
        epoch = passes[0] if reshuffle_each_iteration else 0
        if not _peek.active:
            passes[0] += 1
        return np.random.default_rng([base, epoch])

    return rng


def _buffer_shuffle(iterator, buffer_size, rng):
    """TF's shuffle: fill a buffer, then emit a random slot and refill it from the input."""
    buffer = list(itertools.islice(iterator, buffer_size))
    for item in iterator:
        slot = int(rng.integers(len(buffer)))
        yield buffer[slot]
        buffer[slot] = item
    for slot in rng.permutation(len(buffer)):
        yield buffer[slot]


def _map(function, structure):
    if isinstance(structure, dict):
        return {k: _map(function, v) for k, v in structure.items()}
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(_map(function, v) for v in structure))
    if isinstance(structure, tuple):  # a list is one tensor, as in TF; a tuple a structure
        return tuple(_map(function, v) for v in structure)
    return function(structure)


def _leaves(structure) -> list:
    if isinstance(structure, dict):
        return [leaf for v in structure.values() for leaf in _leaves(v)]
    if isinstance(structure, tuple):
        return [leaf for v in structure for leaf in _leaves(v)]
    return [structure]


def _pack(structure, leaves):
    if isinstance(structure, dict):
        return {k: _pack(v, leaves) for k, v in structure.items()}
    if isinstance(structure, (tuple, list)):
        return tuple(_pack(v, leaves) for v in structure)
    return next(leaves)
