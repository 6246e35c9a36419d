"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled positive (1) or
negative (0), each a list of word indices (Keras 3's ``keras.datasets.imdb``).

>>> from numkeras.datasets import imdb
>>> (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)  # doctest: +SKIP
>>> len(x_train), x_train[0][:4], y_train[:4]  # doctest: +SKIP
(25000, [1, 194, 1153, 194], array([1, 0, 0, 1]))
"""

from __future__ import annotations

import numpy as np

from numkeras.datasets import _sequences as _seq

TITLE = "IMDB"
DATASET = "imdb"
# The published files (the digest of imdb.npz and the MD5 of the word index are those
# keras/src/datasets/imdb.py checks; the sizes are what Keras's downloads report).
FILES = {
    "data": _seq.Remote("imdb.npz",
                        "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
                        17464789),
    "word_index": _seq.Remote("imdb_word_index.json", "bfafd718b763782e994055a2d397834f",
                              1641221, "md5"),
}


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, *, base_url=None, quiet=False):
    """Load the IMDB reviews as ``(x_train, y_train), (x_test, y_test)``, as Keras 3 does.

    Args:
        path: a file name in the cache (default ``"imdb.npz"``), or the path of a local copy.
        num_words: keep the ``num_words`` most frequent words (indices below it); others
            become ``oov_char``. Default: all.
        skip_top: also replace the ``skip_top`` most frequent words (indices below it).
        maxlen: keep only the reviews shorter than ``maxlen`` (start mark included).
        seed: the shuffle of each split (NumPy ``RandomState``, as Keras).
        start_char: index put at the start of every review (None: none).
        oov_char: index of dropped words (None: drop them from the sequences).
        index_from: added to every word index (so 0, 1, 2 stay padding, start, OOV).
        base_url: where to download from (default Keras's mirror; or
            ``$NUMKERAS_DATASETS_URL/imdb/``).
        quiet: no progress bar.

    Returns:
        ``x_*``: 1-D object arrays of lists of ints; ``y_*``: int arrays of 0/1.
    """
    _seq.check_arguments(TITLE, maxlen, seed, num_words, skip_top)
    file = _seq.fetch(DATASET, TITLE, FILES["data"], path, base_url, quiet)
    where = f"{TITLE} file {file}"
    arrays = _seq.load_npz(file, where)
    _seq.members(arrays, ("x_train", "y_train", "x_test", "y_test"), where)
    rng = np.random.RandomState(seed)
    splits = []
    for split in ("train", "test"):
        x = arrays[f"x_{split}"]
        y = _seq.labels_of(arrays, f"y_{split}", len(x), where)
        order = np.arange(len(x))
        rng.shuffle(order)
        splits.append((_seq.Sequences.of(x[order], f"{where}, x_{split}"), y[order]))
    (train, y_train), (test, y_test) = splits
    n_train = len(train.lengths)
    seqs = _seq.Sequences(np.concatenate([train.flat, test.flat]),
                          np.concatenate([train.lengths, test.lengths]))
    labels = np.concatenate([y_train, y_test])
    seqs = _seq.shift(seqs, start_char, index_from)
    if maxlen:
        keep = seqs.lengths < maxlen
        if not keep[:n_train].any() or not keep[n_train:].any():
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             f"sequence was kept. Increase maxlen.")
        n_train = int(keep[:n_train].sum())
        seqs, labels = seqs.take(keep), labels[keep]
    rows = _seq.limit_words(seqs, num_words, skip_top, oov_char).rows()
    return (rows[:n_train], labels[:n_train]), (rows[n_train:], labels[n_train:])


def get_word_index(path="imdb_word_index.json", *, base_url=None, quiet=False) -> dict:
    """The words of the reviews mapped to their index (before ``index_from`` is added: the
    word of index ``i`` in ``load_data``'s sequences is the one of ``i - 3``)."""
    file = _seq.fetch(DATASET, TITLE, FILES["word_index"], path, base_url, quiet)
    return _seq.load_json(file, f"{TITLE} word index {file}")
