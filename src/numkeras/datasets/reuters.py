"""Reuters newswires: 11,228 newswires in 46 topics, each a list of word indices (Keras 3's
``keras.datasets.reuters``).

>>> from numkeras.datasets import reuters
>>> reuters.get_label_names()[:3]
('cocoa', 'grain', 'veg-oil')
"""

from __future__ import annotations

import numpy as np

from numkeras.datasets import _sequences as _seq

TITLE = "Reuters"
DATASET = "reuters"
# The published files (the digest of reuters.npz and the MD5 of the word index are those
# keras/src/datasets/reuters.py checks; the sizes are what Keras's downloads report).
FILES = {
    "data": _seq.Remote("reuters.npz",
                        "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
                        2110848),
    "word_index": _seq.Remote("reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921",
                              550378, "md5"),
}
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3, *, base_url=None,
              quiet=False):
    """Load the Reuters newswires as ``(x_train, y_train), (x_test, y_test)``, as Keras 3.

    Arguments as :func:`numkeras.datasets.imdb.load_data`, plus ``test_split``: the fraction
    of the (shuffled) newswires kept for the test split (default 0.2). Labels are topic
    indices 0-45 (names: :func:`get_label_names`).
    """
    _seq.check_arguments(TITLE, maxlen, seed, num_words, skip_top)
    if not 0 <= test_split <= 1:
        raise ValueError(f"{TITLE}: `test_split` must lie in [0, 1]; received "
                         f"test_split={test_split!r}.")
    file = _seq.fetch(DATASET, TITLE, FILES["data"], path, base_url, quiet)
    where = f"{TITLE} file {file}"
    arrays = _seq.load_npz(file, where)
    _seq.members(arrays, ("x", "y"), where)
    x = arrays["x"]
    labels = _seq.labels_of(arrays, "y", len(x), where)
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    seqs = _seq.shift(_seq.Sequences.of(x[order], f"{where}, x"), start_char, index_from)
    labels = labels[order]
    if maxlen:
        keep = seqs.lengths < maxlen
        seqs, labels = seqs.take(keep), labels[keep]
    rows = _seq.limit_words(seqs, num_words, skip_top, oov_char).rows()
    split = int(len(rows) * (1 - test_split))
    return (rows[:split], labels[:split]), (rows[split:], labels[split:])


def get_word_index(path="reuters_word_index.json", *, base_url=None, quiet=False) -> dict:
    """The words of the newswires mapped to their index (before ``index_from`` is added)."""
    file = _seq.fetch(DATASET, TITLE, FILES["word_index"], path, base_url, quiet)
    return _seq.load_json(file, f"{TITLE} word index {file}")


def get_label_names() -> tuple:
    """The 46 topic names, in label order (Keras 3's ``get_label_names``)."""
    return LABEL_NAMES
