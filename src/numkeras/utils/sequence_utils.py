"""``pad_sequences``: lists of variable-length sequences to one rectangular array (Keras 3).

The padding is done without a Python loop over samples: the sequences are read into one flat
array once, then every kept element is scattered to its ``(row, column)`` in one indexing step.
"""

from __future__ import annotations

import itertools

import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0) -> np.ndarray:
    """Pad (or truncate) sequences to one length, as ``keras.utils.pad_sequences``.

    Args:
        sequences: a list (or array) of sequences; each a list or array of numbers (or of
            equal-shaped vectors: a sample shape after the time axis is kept).
        maxlen: length of the output rows; default the longest sequence.
        dtype: dtype of the output (default ``"int32"``; values are cast as NumPy casts,
            so floats are truncated). Use ``object`` or a string dtype for strings.
        padding: ``"pre"`` (default) or ``"post"``: pad before or after each sequence.
        truncating: ``"pre"`` (default) or ``"post"``: drop values from the start or the end
            of sequences longer than ``maxlen``.
        value: the padding value (default 0).

    Returns:
        An array of shape ``(len(sequences), maxlen) + sample_shape``.

    >>> pad_sequences([[1, 2, 3], [4, 5], [6]])
    array([[1, 2, 3],
           [0, 4, 5],
           [0, 0, 6]], dtype=int32)
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post",
    ...               value=-1)
    array([[ 1,  2],
           [ 4, -1]], dtype=int32)
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in _SIDES:
            raise ValueError(f"pad_sequences: {name}={side!r} is not understood; expected "
                             f"'pre' or 'post'.")
    if not hasattr(sequences, "__len__") or isinstance(sequences, (str, bytes)):
        raise ValueError(f"pad_sequences: `sequences` must be a list of sequences (lists or "
                         f"arrays); received {type(sequences).__name__}.")
    dtype = np.dtype(dtype)
    _check_value(value, dtype)
    lengths = _lengths(sequences)
    if maxlen is None:
        maxlen = int(lengths.max()) if len(lengths) else 0
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences: `maxlen` must be None or a non-negative integer; "
                         f"received maxlen={maxlen!r}.")
    flat = _flatten(sequences, lengths, dtype)
    out = np.full((len(lengths), int(maxlen)) + flat.shape[1:], value, dtype=dtype)
    _scatter(out, flat, lengths, int(maxlen), padding, truncating)
    return out


def _check_value(value, dtype: np.dtype) -> None:
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(
            f"pad_sequences: `dtype` {dtype} is not compatible with `value`'s type: str "
            f"(value={value!r}). Pass dtype=object (or a string dtype) for string sequences.")


def _lengths(sequences) -> np.ndarray:
    """Length of each sequence; a clear error names the first that is not a sequence."""
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        if sequences.ndim < 2:
            raise ValueError(f"pad_sequences: `sequences` must be a list of sequences; "
                             f"received an array of shape {sequences.shape}.")
        return np.full(len(sequences), sequences.shape[1], dtype=np.int64)
    try:
        return np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    except TypeError:
        bad = next(i for i, s in enumerate(sequences) if not hasattr(s, "__len__"))
        raise ValueError(f"pad_sequences: `sequences` must be a list of iterables. Found "
                         f"non-iterable: {sequences[bad]!r} at position {bad}.") from None


def _flatten(sequences, lengths: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """All sequences end to end as one array ``(total_length,) + sample_shape``."""
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        return sequences.reshape((-1,) + sequences.shape[2:]).astype(dtype, copy=False)
    first = next((s for s, n in zip(sequences, lengths) if n), None)
    sample_shape = np.asarray(first).shape[1:] if first is not None else ()
    total = int(lengths.sum())
    if not sample_shape:
        try:  # scalars: one pass over all elements, no per-sequence arrays
            values = itertools.chain.from_iterable(sequences)
            if dtype.kind == "O":
                return np.array(list(values), dtype=object)
            return np.fromiter(values, dtype=dtype, count=total)
        except (ValueError, TypeError):
            pass  # some element is itself a sequence: report which one below
    parts = [np.asarray(s, dtype=dtype) for s in sequences]
    for position, part in enumerate(parts):
        if len(part) and part.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: shape of sample {part.shape[1:]} of sequence at "
                             f"position {position} is different from expected shape "
                             f"{sample_shape}.")
    parts = [p.reshape((0,) + sample_shape) if not len(p) else p for p in parts]
    return np.concatenate(parts) if parts else np.empty((0,) + sample_shape, dtype)


def _scatter(out, flat, lengths, maxlen, padding, truncating) -> None:
    """Copy each sequence's kept elements into its row of ``out``, all rows at once."""
    kept = np.minimum(lengths, maxlen)
    if not kept.sum():
        return
    starts = np.cumsum(lengths) - lengths  # where each sequence begins in ``flat``
    first_kept = starts + (lengths - kept if truncating == "pre" else 0)
    first_column = maxlen - kept if padding == "pre" else np.zeros_like(kept)
    rows = np.repeat(np.arange(len(kept)), kept)
    step = np.arange(int(kept.sum())) - np.repeat(np.cumsum(kept) - kept, kept)
    out[rows, np.repeat(first_column, kept) + step] = flat[np.repeat(first_kept, kept) + step]
