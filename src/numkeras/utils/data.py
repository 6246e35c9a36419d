"""Array checks, validation splits, batching and one-hot labels (NumPy only).

Training data is never copied whole: batches are gathered and cast to float32 one at a time.
A value that is finite in its own type but beyond the range of the type it is cast to (1e39 in
float64 becomes inf in float32) is refused like NaN, both by the checks and by the cast itself.
"""

from __future__ import annotations

import math
import mmap

import numpy as np

from numkeras import config

_SCAN_ELEMENTS = 1 << 20  # scans go block by block: no mask the size of the data


# Arrays that fit and evaluate check batch by batch as they use them instead of scanning them
# whole up front: memory-mapped files (reading all of a 3 GiB file to train two steps would be
# wasted I/O) and arrays of at least this many bytes.
PER_BATCH_CHECK_BYTES = 1 << 30


def checked_per_batch(array: np.ndarray) -> bool:
    """Whether ``array`` is one whose values are checked as its batches are taken
    (``take(..., finite=True)``) rather than up front."""
    if array.nbytes >= PER_BATCH_CHECK_BYTES:
        return True
    while array is not None:  # np.asarray of a memmap is a plain view of it
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def check_array(array, argument: str, *, allow_none: bool = False,
                finite: bool = True, defer_large: bool = False,
                strings: bool = False) -> np.ndarray | None:
    """``array`` as a NumPy array of numbers, without NaN or inf; a clear error otherwise.

    ``finite=False`` skips the scan for NaN and inf (one pass over the data), for callers that
    check their results instead (``predict``). ``defer_large=True`` skips it for arrays that
    :func:`checked_per_batch` says the caller checks batch by batch (fit and evaluate's x).
    ``strings=True`` also accepts arrays of text (``str``, ``bytes``, ``object``), for models
    whose input is declared ``dtype="string"``.

    >>> check_array([1.0, float("nan")], "x")
    Traceback (most recent call last):
    ...
    ValueError: Argument `x` contains 1 NaN or infinite value(s) (first at index (1,)). ...
    """
    if array is None:
        if allow_none:
            return None
        raise ValueError(f"Argument `{argument}` is required but received None.")
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        if strings and array.dtype.kind in "OSU" and array.ndim:
            return array
        raise TypeError(
            f"Argument `{argument}` must hold numbers, but has dtype {array.dtype} (shape "
            f"{array.shape}). Convert strings or objects to a numeric array first, e.g. "
            f"`np.asarray({argument}, dtype='float32')`."
        )
    if array.ndim == 0:
        raise ValueError(f"Argument `{argument}` must be an array with a batch axis, "
                         f"received a scalar {array!r}.")
    if finite and not (defer_large and checked_per_batch(array)):
        check_finite(array, argument)
    return array


def check_finite(array: np.ndarray, argument: str, dtype=None) -> None:
    """Raise if ``array`` holds NaN or inf, or a value that becomes inf when cast to ``dtype``
    (default: ``config.floatx()``, what models compute in), naming the count and first index.

    >>> check_finite(np.array([1.0, 1e39]), "x")
    Traceback (most recent call last):
    ...
    ValueError: Argument `x` holds 1 value(s) beyond the range of float32 (largest 3.4e+38), \
which would become inf when cast (first 1e+39 at index (1,)). Scale the data down, or compute \
in float64 (keras.config.set_floatx('float64')).
    """
    target = np.dtype(config.floatx() if dtype is None else dtype)
    if array.dtype.kind == "f" and _within(array, _largest_safe(array.dtype, target)):
        return  # the common case, in one fast pass: the scans below only name the culprit
    if array.dtype.kind == "f":
        count, first = _scan(array, lambda block: ~np.isfinite(block))
        if count:
            raise ValueError(
                f"Argument `{argument}` contains {count} NaN or infinite value(s) "
                f"(first at index {first}). Clean or impute the data first."
            )
    if _may_overflow(array.dtype, target):
        limit = float(np.finfo(target).max)
        count, first = _scan(array, lambda block: np.abs(block) > limit)
        if count:
            raise _overflow_error(argument, count, first, array[first], target)


def _largest_safe(source: np.dtype, target: np.dtype) -> float:
    """The largest magnitude a ``source`` float may have to be finite in ``target`` too."""
    limit = float(np.finfo(source).max)
    return min(limit, float(np.finfo(target).max)) if target.kind == "f" else limit


def _within(array: np.ndarray, limit: float) -> bool:
    """Whether every value of the float ``array`` lies in [-limit, limit]: NaN fails too
    (it propagates through max and min), as does inf. Two reductions per block of rows, no
    temporary array: about twice as fast as isfinite plus an overflow test."""
    if array.size == 0:
        return True
    if array.ndim == 0:
        return bool(-limit <= array <= limit)
    rows = max(1, _SCAN_ELEMENTS // max(1, array[0].size))
    for start in range(0, len(array), rows):
        block = array[start:start + rows]
        if not (block.max() <= limit and block.min() >= -limit):
            return False
    return True


def _may_overflow(source: np.dtype, target: np.dtype) -> bool:
    """Whether casting ``source`` values to the float type ``target`` can give inf."""
    if target.kind != "f":
        return False
    if source.kind == "f":
        return float(np.finfo(source).max) > float(np.finfo(target).max)
    if source.kind in "iu":
        return int(np.iinfo(source).max) > float(np.finfo(target).max)
    return False


def _scan(array: np.ndarray, bad) -> tuple[int, tuple | None]:
    """How many elements ``bad(block)`` marks, and the index of the first, reading ``array``
    in blocks of rows (a memmap is read once, with no mask the size of the data)."""
    if array.ndim == 0 or array.size == 0:
        return (int(bad(array)), ()) if array.ndim == 0 and bad(array) else (0, None)
    rows = max(1, _SCAN_ELEMENTS // max(1, array[0].size))
    count, first = 0, None
    for start in range(0, len(array), rows):
        mask = bad(array[start:start + rows])
        found = int(np.count_nonzero(mask))
        if found and first is None:
            index = np.argwhere(mask)[0]
            first = (start + int(index[0]),) + tuple(int(i) for i in index[1:])
        count += found
    return count, first


def _overflow_error(argument: str, count: int, first, value, target: np.dtype) -> ValueError:
    return ValueError(
        f"Argument `{argument}` holds {count} value(s) beyond the range of {target.name} "
        f"(largest {float(np.finfo(target).max):.2g}), which would become inf when cast "
        f"(first {float(value):.3g} at index {first}). Scale the data down, or compute in "
        f"float64 (keras.config.set_floatx('float64')).")


def check_lengths(**arrays) -> int:
    """The common number of samples of ``arrays`` (None entries skipped)."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(
            f"Data cardinality is ambiguous: every array must have the same number of samples "
            f"(first axis). Received {described}. Make sure x, y and sample_weight line up."
        )
    return next(iter(lengths.values()))


def split_validation(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """Keras's split: the *last* ``validation_split`` fraction, taken before any shuffling."""
    if not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
        raise ValueError(
            f"`validation_split` must be a float in [0, 1), received "
            f"validation_split={validation_split!r}."
        )
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`."
            f" Either provide more data, or a different value for the `validation_split` "
            f"argument."
        )
    train = tuple(None if a is None else a[:split_at] for a in arrays)
    val = tuple(None if a is None else a[split_at:] for a in arrays)
    return train, val


def batch_slices(n: int, batch_size: int, order: np.ndarray | None = None):
    """Index per batch: slices of ``range(n)``, or of ``order`` when shuffling."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def take(array: np.ndarray | None, index, dtype=None, argument: str = "x",
         checked: bool = False, finite: bool = False) -> np.ndarray | None:
    """One batch of ``array`` (a view for slices), cast to ``dtype`` when given.

    A finite value that the cast turns into inf is an error, not a silent inf, unless
    ``checked`` says that :func:`check_finite` already vetted the whole array (fit and
    evaluate scan it up front; predict checks its outputs): no second pass per batch then.
    ``finite=True`` also refuses NaN and inf in the batch (for arrays checked batch by batch,
    see :func:`checked_per_batch`), naming the row of ``array``.

    >>> take(np.array([[1.0], [1e39]]), slice(0, 2), "float32")
    Traceback (most recent call last):
    ...
    ValueError: Argument `x` holds 1 value(s) beyond the range of float32 (largest 3.4e+38), \
which would become inf when cast (first 1e+39 at index (1, 0)). Scale the data down, or compute \
in float64 (keras.config.set_floatx('float64')).
    """
    if array is None:
        return None
    batch = array[index]
    if dtype is None:
        return batch
    if checked:  # vetted already: no overflow to report, so no errstate to enter per batch
        return batch.astype(dtype, copy=False)
    with np.errstate(over="ignore"):  # overflow is reported below, with the culprit
        cast = batch.astype(dtype, copy=False)
    if (finite or cast is not batch and _may_overflow(batch.dtype, cast.dtype)) \
            and cast.dtype.kind == "f" and not np.isfinite(cast).all():
        _refuse_batch(array, index, batch, cast.dtype, argument, finite)
    return cast


def _refuse_batch(array, index, batch, target: np.dtype, argument: str, finite: bool) -> None:
    """Raise for a batch whose cast holds inf or NaN: values beyond ``target``'s range, or
    (with ``finite``) NaN or inf in the data itself; the index names the row of ``array``."""
    def row_of(first):
        return (int(np.arange(len(array))[index][first[0]]),) + first[1:]

    limit = float(np.finfo(target).max)
    beyond = (lambda block: np.isfinite(block) & (np.abs(block) > limit)) \
        if batch.dtype.kind == "f" else (lambda block: np.abs(block) > limit)
    count, first = _scan(batch, beyond)
    if count:
        raise _overflow_error(argument, count, row_of(first), batch[first], target)
    if finite:  # else the caller's own checks report NaN or inf in the data
        count, first = _scan(batch, lambda block: ~np.isfinite(block))
        raise ValueError(
            f"Argument `{argument}` contains NaN or infinite value(s) (first at index "
            f"{row_of(first)}, in a batch of {len(batch)} samples; arrays of "
            f"{PER_BATCH_CHECK_BYTES >> 30} GiB or more, and memory-mapped files, are checked "
            f"batch by batch as they are used). Clean or impute the data first.")


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """One-hot encode integer class labels.

    A trailing axis of size 1 is squeezed first. ``num_classes`` defaults to ``max(y) + 1``.
    (Keras 3 returns float64; numkeras returns float32 unless ``dtype`` says otherwise.)

    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.size and (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
        raise ValueError("to_categorical needs integer class labels; received non-integer values.")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical needs labels >= 0; received {int(y.min())}.")
    num_classes = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and y.max() >= num_classes:
        raise ValueError(f"Label {int(y.max())} is out of range for num_classes={num_classes}.")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero)."""
    x = np.asarray(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
