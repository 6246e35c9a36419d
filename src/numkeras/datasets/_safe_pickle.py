"""Reading the pickles inside dataset files (CIFAR batches, the object arrays of IMDB's and
Reuters's ``.npz``) without trusting them.

A pickle is a program: it names functions to call and may reference one object many times.
:func:`load` runs only the part of that language a NumPy array or a container of numbers needs,
and bounds what the program may build:

* Globals come from a fixed table, never imported by a name the file gives. ``numpy.ndarray``
  may appear only as the first argument of NumPy's ``_reconstruct``, and only in the exact call
  NumPy writes, ``_reconstruct(ndarray, (0,), b'b')``, which makes an empty array; calling
  ``numpy.ndarray((n, m), 'u1')`` itself would allocate any size the file asks for.
* The array's contents (``__setstate__``) are checked before anything is built: a dtype from a
  short list of numbers (and ``object``), data exactly as long as the shape says, and elements
  counted against the budget below. Numeric arrays are read-only views of the file's bytes.
* Decoded sizes are bounded: a pickle spends at least one byte on each element it builds, so a
  tree of lists and arrays decodes to at most one element per byte. Only shared references (the
  pickle memo: one list referenced 5,000 times costs 2 bytes a reference) decode to more; the
  structure is walked counting every reference, and more than :data:`ELEMENTS_PER_BYTE`
  elements per byte of the file is refused, quickly and before any caller copies the data.

>>> import pickle
>>> load(pickle.dumps({"a": [1, 2], "x": np.arange(3, dtype=np.uint8)}))
{'a': [1, 2], 'x': array([0, 1, 2], dtype=uint8)}
>>> load(b"cos\\nsystem\\n(S'echo hi'\\ntR.")
Traceback (most recent call last):
...
_pickle.UnpicklingError: Refusing to unpickle the global 'os.system': a dataset file holds \
only dicts, lists, numbers, strings and NumPy arrays, so the file is damaged or malicious.
"""

from __future__ import annotations

import io
import math
import pickle

import numpy as np

# Twice the at most one element per byte of a tree-shaped pickle: margin for the counting, while
# a memo bomb can decode to no more than a legitimate file twice its size would.
ELEMENTS_PER_BYTE = 2
MAX_DEPTH = 8  # dict -> list -> numbers in CIFAR; array -> list -> numbers in IMDB/Reuters
MAX_NDIM = 32  # NumPy's own limit (64 in numpy 2; no dataset array has more than 2)
# The dtypes NumPy pickles as ``dtype(name, align, copy)``: numbers and Python objects only
# (no strings, records or sub-arrays, whose item size the file would choose).
_DTYPES = frozenset("b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8 O4 O8".split())
_BYTE_ORDERS = frozenset("<>|=")
_LEAVES = frozenset({int, float, bool, bytes, str, type(None)})
_RECONSTRUCT, _NDARRAY, _DTYPE = "reconstruct", "ndarray", "dtype"
# Where NumPy 1 and NumPy 2 pickles name the three globals an array needs.
_GLOBALS = {("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
            ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
            ("numpy", "ndarray"): _NDARRAY, ("numpy", "dtype"): _DTYPE}


def load(data: bytes, *, encoding: str = "ASCII"):
    """Unpickle ``data`` (dicts, lists, tuples, numbers, strings, NumPy arrays) safely.

    ``encoding`` decodes Python 2 strings, as in :func:`pickle.loads` (``"bytes"`` for CIFAR).

    Raises:
        pickle.UnpicklingError: for anything else, for a damaged pickle, and for data that
            decodes to more than ``ELEMENTS_PER_BYTE * len(data)`` elements; the message says
            which. Callers add the file's name.
    """
    budget = ELEMENTS_PER_BYTE * max(len(data), 1)
    try:
        tree = _Unpickler(io.BytesIO(data), encoding, budget).load()
        return _Walk(budget).resolve(tree)
    except pickle.UnpicklingError:
        raise
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, RecursionError, MemoryError) as error:
        raise pickle.UnpicklingError(f"damaged pickle ({type(error).__name__}: "
                                     f"{error})") from None


def _refuse(message: str):
    raise pickle.UnpicklingError(message)


# ----- the unpickler: placeholders for NumPy's globals -----

class _Global:
    """What ``find_class`` returns: a fixed callable (``function``; None for ``numpy.ndarray``,
    which only :meth:`_Unpickler.reconstruct` may receive, as its argument) whose state a
    pickle cannot change (BUILD on a plain function would set its attributes)."""

    __slots__ = ("name", "function")

    def __init__(self, name: str, function=None):
        self.name, self.function = name, function

    def __call__(self, *args):
        if self.function is None:
            _refuse(f"Refusing a pickle that calls {self.name}(...) directly: a NumPy array's "
                    f"pickle names ndarray only as the argument of _reconstruct, and the direct "
                    f"call would allocate whatever shape the file asks for. The file is damaged "
                    f"or malicious.")
        return self.function(*args)

    def __setstate__(self, state):
        _refuse(f"Refusing a pickle that sets the state of {self.name}.")


class _PendingDtype:
    """A dtype of :data:`_DTYPES` whose byte order the following BUILD may set."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype

    def __setstate__(self, state):
        # NumPy writes (3, byte order, None, None, None, -1, -1, flags); anything else would
        # make a sub-array, record or string dtype the allowed names never produce.
        if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3
                and state[2:5] == (None, None, None) and state[5:7] == (-1, -1)):
            _refuse(f"Refusing a NumPy dtype state {_short(state)}: only plain number and "
                    f"object dtypes are allowed.")
        order = _text(state[1])
        if order not in _BYTE_ORDERS:
            _refuse(f"Refusing the byte order {state[1]!r} of a NumPy dtype.")
        self.dtype = self.dtype.newbyteorder(order) if order in "<>" else self.dtype


class _PendingArray:
    """The empty array ``_reconstruct`` makes; the following BUILD fills in ``array``."""

    __slots__ = ("unpickler", "array")

    def __init__(self, unpickler: "_Unpickler"):
        self.unpickler, self.array = unpickler, None

    def __setstate__(self, state):
        self.array = self.unpickler.build_array(state)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, encoding: str, budget: int):
        super().__init__(file, encoding=encoding)
        self.budget = budget  # elements the arrays of this pickle may still hold

    def find_class(self, module, name):
        kind = _GLOBALS.get((module, name))
        if kind is None:
            _refuse(f"Refusing to unpickle the global '{module}.{name}': a dataset file holds "
                    f"only dicts, lists, numbers, strings and NumPy arrays, so the file is "
                    f"damaged or malicious.")
        if kind == _RECONSTRUCT:
            return _Global(f"{module}.{name}", self.reconstruct)
        return _ARRAY_CLASS if kind == _NDARRAY else _DTYPE_CLASS

    def persistent_load(self, pid):
        _refuse("Refusing a pickle with persistent ids (not a dataset file).")

    def reconstruct(self, cls, shape, typecode):
        """NumPy's ``_reconstruct``, accepting only the call NumPy writes itself."""
        if cls is not _ARRAY_CLASS or type(shape) is not tuple or len(shape) != 1 \
                or type(shape[0]) is not int or shape[0] != 0 or typecode not in (b"b", "b"):
            _refuse(f"Refusing _reconstruct{_short((cls, shape, typecode))}: NumPy pickles an "
                    f"array as _reconstruct(ndarray, (0,), b'b') and nothing else.")
        return _PendingArray(self)

    def build_array(self, state) -> np.ndarray:
        """The array of a ``(1, shape, dtype, fortran_order, data)`` state, after checking it."""
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1
                and isinstance(state[2], _PendingDtype) and state[3] in (0, 1)):
            _refuse(f"Refusing a NumPy array state {_short(state)}: expected (1, shape, "
                    f"dtype, fortran_order, data).")
        _, shape, dtype, fortran, data = state
        dtype = dtype.dtype
        if type(shape) is not tuple or len(shape) > MAX_NDIM or not all(
                type(n) is int and n >= 0 for n in shape):
            _refuse(f"Refusing the NumPy array shape {_short(shape)}.")
        count = math.prod(shape)
        if count > self.budget:
            _refuse(f"Refusing a NumPy array of {count:,} elements: more than the file's "
                    f"size allows (shared references or a damaged file).")
        self.budget -= count
        flat = _object_items(data, count) if dtype.hasobject else _numbers(data, count, dtype)
        return flat.reshape(shape, order="F" if fortran else "C")


def _make_dtype(name, align=False, copy=True):
    """``numpy.dtype(name, align, copy)`` for the names of :data:`_DTYPES` only."""
    name = _text(name)
    if name not in _DTYPES or align not in (0, 1) or copy not in (0, 1):
        _refuse(f"Refusing the NumPy dtype {_short((name, align, copy))}: only "
                f"{', '.join(sorted(_DTYPES))} are allowed.")
    return _PendingDtype(np.dtype(name))


_ARRAY_CLASS = _Global("numpy.ndarray")
_DTYPE_CLASS = _Global("numpy.dtype", _make_dtype)


def _numbers(data, count: int, dtype: np.dtype) -> np.ndarray:
    if type(data) is not bytes or len(data) != count * dtype.itemsize:
        found = f"{len(data):,} bytes" if type(data) is bytes else type(data).__name__
        _refuse(f"Refusing a NumPy array of {count:,} {dtype} elements whose data is {found}; "
                f"expected {count * dtype.itemsize:,} bytes.")
    return np.frombuffer(data, dtype=dtype, count=count)  # a read-only view, no copy


def _object_items(data, count: int) -> np.ndarray:
    if type(data) is not list or len(data) != count:
        found = f"{len(data):,} items" if type(data) is list else type(data).__name__
        _refuse(f"Refusing a NumPy object array of {count:,} elements whose data is {found}.")
    return np.fromiter(data, dtype=object, count=count)  # never broadcasts nested lists


def _text(value):
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ----- the walk: placeholders replaced, every reference counted -----

class _Walk:
    """Replaces each :class:`_PendingArray` by its array and counts the elements of every
    container each time it is reached, so one list referenced N times counts N times."""

    def __init__(self, budget: int):
        self.budget = budget
        self.stack: list = []

    def resolve(self, tree):
        holder = [tree]  # the root is replaced like any element
        self.stack.append((holder, 0))
        while self.stack:
            self._visit(*self.stack.pop())
        return holder[0]

    def _visit(self, node, depth: int) -> None:
        if depth > MAX_DEPTH:
            _refuse(f"Refusing data nested more than {MAX_DEPTH} levels deep (a dataset file "
                    f"holds lists of numbers).")
        size = node.size if isinstance(node, np.ndarray) else len(node)
        self.budget -= size
        if self.budget < 0:
            _refuse("Refusing data that decodes to more elements than the file's size allows: "
                    "it references the same lists or arrays many times (a decompression bomb) "
                    "or is damaged.")
        if isinstance(node, dict):
            for key, value in list(node.items()):
                if type(key) not in _LEAVES:
                    _refuse(f"Refusing a dict key of type {type(key).__name__}.")
                node[key] = self._child(value, depth, replace=True)
        elif isinstance(node, list):
            if not set(map(type, node)) <= _LEAVES:  # a list of numbers needs no loop
                for i, value in enumerate(node):
                    node[i] = self._child(value, depth, replace=True)
        elif isinstance(node, tuple) or node.dtype.hasobject:
            for value in node.flat if isinstance(node, np.ndarray) else node:
                self._child(value, depth, replace=False)

    def _child(self, value, depth: int, replace: bool):
        kind = type(value)
        if kind in _LEAVES:
            return value
        if kind is _PendingArray:
            if value.array is None:
                _refuse("Refusing a NumPy array without its data.")
            if not replace:
                _refuse("Refusing a NumPy array inside a tuple or an object array.")
            value = value.array
        elif kind not in (list, tuple, dict):
            _refuse(f"Refusing an object of type {kind.__name__} in the data.")
        self.stack.append((value, depth + 1))
        return value
