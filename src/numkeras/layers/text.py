"""Text preprocessing layers: ``TextVectorization``, ``StringLookup``, ``IntegerLookup`` (Keras 3).

They work on NumPy arrays of Python strings (``str_``, ``object`` or UTF-8 ``bytes_``) and run
before the differentiable part of a model, so they compute in NumPy, not on the graph:

- tokenization (standardize, split) is one Python string method per text;
- strings are counted by ``collections.Counter`` and looked up through one dict (both C loops
  over the tokens; no array of millions of strings is built); integers by ``np.unique`` and
  one ``np.searchsorted`` over the sorted vocabulary;
- ``multi_hot`` / ``count`` / ``tf_idf`` are one ``np.bincount`` over (row, index) pairs, and the
  ``int`` output is one scatter of every token id to its (row, position).

Token order, special tokens (``""`` padding, ``"[UNK]"``), vocabulary order after ``adapt``
(by count, ties by token, high to low), the TF-IDF weights and the configs are Keras 3's.

>>> layer = TextVectorization(output_sequence_length=4)
>>> layer.adapt(["The cat sat.", "The dog sat down!"])
>>> layer.get_vocabulary()
['', '[UNK]', 'the', 'sat', 'down', 'dog', 'cat']
>>> layer(np.array(["the cat ran"])).numpy()
array([[2, 6, 1, 0]])
"""

from __future__ import annotations

import collections
import itertools
import re
import string

import numpy as np

from numkeras.backprop import Tensor
from numkeras.layers.layer import Layer
from numkeras.layers.node import is_symbolic

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_MODE_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
# Keras lowercases with tf.strings.lower (ASCII letters only: "É" stays) and strips the 32
# ASCII punctuation characters of its regex, which are exactly string.punctuation.
_LOWER_TABLE = {ord(c): ord(c.lower()) for c in string.ascii_uppercase}
_STRIP_TABLE = dict.fromkeys(map(ord, string.punctuation))
# tf.strings.split splits on ASCII whitespace only (not on "\xa0" or "\x1c" as str.split does):
# str.split() (fast) is used unless a batch holds one of the other characters it splits on.
_TOKEN = re.compile(r"[^ \t\n\r\v\f]+")
# (Every other character of str.isspace(), listed rather than found by a scan of all of
# Unicode at import, which took 0.2 s; tests/layers/test_text.py checks the list.)
_OTHER_SPACE = re.compile(
    "[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


# ----- arrays of strings -----
def _values(inputs) -> np.ndarray:
    return inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)


def to_strings(values, where: str, encoding: str = "utf-8") -> np.ndarray:
    """``values`` as a NumPy ``str_`` array (bytes decoded); a TypeError for anything else."""
    array = _values(values)
    if array.dtype.kind == "U":
        return array
    if array.dtype.kind == "S":
        return np.char.decode(array, encoding)
    if array.size == 0:
        return array.astype(str)
    if array.dtype.kind == "O":
        flat = [v.decode(encoding) if isinstance(v, bytes) else v for v in array.ravel()]
        if all(isinstance(v, str) for v in flat):
            return np.array(flat, dtype=str).reshape(array.shape)
        bad = next(v for v in flat if not isinstance(v, str))
        raise TypeError(f"{where} expects strings; received an object array holding "
                        f"{type(bad).__name__} values ({bad!r}). Convert them to str first.")
    raise TypeError(f"{where} expects strings; received an array of dtype {array.dtype} and "
                    f"shape {array.shape}. Pass text as str (e.g. np.array(['a text'])).")


def _check_choice(value, allowed, argument: str, layer: str, allow_callable: bool) -> None:
    if value is None or (allow_callable and callable(value)) or value in allowed:
        return
    extra = ", None or a callable" if allow_callable else ""
    raise ValueError(f"{layer}: invalid value for argument `{argument}`: {value!r}. Expected "
                     f"one of {list(allowed)}{extra}.")


# ----- ragged rows: all tokens end to end, and the number of tokens per row -----
def _rows_of(lists) -> tuple[list, np.ndarray]:
    """All tokens end to end (a list of str: looked up through a dict, no array of strings
    is built) and the number of tokens of each row."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    return list(itertools.chain.from_iterable(lists)), lengths


def _split_whitespace(texts: list) -> list:
    if _OTHER_SPACE.search("".join(texts)):  # rare: split as TensorFlow does
        return [_TOKEN.findall(text) for text in texts]
    return [text.split() for text in texts]


def _row_ids(lengths: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(lengths)), lengths)


def _positions(lengths: np.ndarray) -> np.ndarray:
    """Each token's position within its row."""
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def ngrams(flat: np.ndarray, lengths: np.ndarray, widths) -> tuple[np.ndarray, np.ndarray]:
    """Word n-grams of each row, joined by spaces, in ``tf.strings.ngrams``'s order: all
    n-grams of the first width, then of the next...; rows shorter than a width give none."""
    flat = np.asarray(flat, dtype=str) if len(flat) else np.empty(0, dtype="<U1")
    rows, positions = _row_ids(lengths), _positions(lengths)
    parts, keys = [], []
    for order, width in enumerate(widths):  # a loop over widths, not over texts
        starts = np.nonzero(positions + width <= lengths[rows])[0]
        gram = flat[starts]
        for offset in range(1, width):
            gram = np.char.add(np.char.add(gram, " "), flat[starts + offset])
        parts.append(gram)
        keys.append((rows[starts], np.full(len(starts), order), positions[starts]))
    row_key, order_key, position_key = (np.concatenate(k) for k in zip(*keys))
    order = np.lexsort((position_key, order_key, row_key))
    flat = np.concatenate(parts)[order] if parts else flat[:0]
    return flat, np.bincount(row_key, minlength=len(lengths)).astype(np.int64)


def _to_dense(ids: np.ndarray, lengths: np.ndarray, length: int | None) -> np.ndarray:
    """Rows of ids as a ``(rows, length)`` array, zero-padded and cut at the end."""
    length = int(lengths.max(initial=0)) if length is None else length
    out = np.zeros((len(lengths), length), dtype=np.int64)
    positions = _positions(lengths)
    keep = positions < length
    out[_row_ids(lengths)[keep], positions[keep]] = ids[keep]
    return out


# ----- the lookup layers -----
class IndexLookup(Layer):
    """Shared machinery of StringLookup and IntegerLookup (Keras's ``IndexLookup``): a
    vocabulary of tokens mapped to indices after the mask and OOV indices."""

    _key_name = "strings"

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, name=None,
                 **kwargs):
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        super().__init__(name=name, **kwargs)
        layer = f"{type(self).__name__} '{self.name}'"
        if max_tokens is not None and (isinstance(max_tokens, bool) or max_tokens <= 1):
            raise ValueError(f"{layer}: if set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens!r}.")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{layer}: pad_to_max_tokens=True needs `max_tokens`. Received: "
                             f"max_tokens=None.")
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, int) \
                or num_oov_indices < 0:
            raise ValueError(f"{layer}: `num_oov_indices` must be an integer >= 0. Received: "
                             f"num_oov_indices={num_oov_indices!r}.")
        output_mode = _MODE_ALIASES.get(output_mode, output_mode)
        _check_choice(output_mode, _OUTPUT_MODES, "output_mode", layer, False)
        _check_choice(oov_method, ("floormod", "farmhash"), "oov_method", layer, False)
        if invert and output_mode != "int":
            raise ValueError(f"{layer}: `output_mode` must be 'int' when `invert` is true. "
                             f"Received: output_mode={output_mode!r}.")
        if sparse:
            raise ValueError(f"{layer}: numkeras has no sparse tensors; pass sparse=False.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{layer}: `idf_weights` should only be set if `output_mode` is "
                             f"'tf_idf'. Received: output_mode={output_mode!r}.")
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{layer}: with the `vocabulary` argument in 'tf_idf' output mode, "
                             f"the `idf_weights` argument must also be provided.")
        self.invert, self.max_tokens = bool(invert), max_tokens
        self.num_oov_indices, self.mask_token, self.oov_token = num_oov_indices, mask_token, \
            oov_token
        self.output_mode, self.sparse = output_mode, False
        self.pad_to_max_tokens, self.oov_method, self.salt = bool(pad_to_max_tokens), \
            oov_method, salt
        self._check_oov_hashing()
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens = self._empty_tokens()
        self.idf_weights = None
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ----- what subclasses define -----
    def _empty_tokens(self) -> np.ndarray:
        raise NotImplementedError

    def _keys(self, values) -> np.ndarray:
        """Inputs as an array of this layer's token type."""
        raise NotImplementedError

    def _check_oov_hashing(self) -> None:
        pass

    def _unique(self, flat, with_inverse: bool):
        """``(sorted unique tokens, index of each token among them or None, counts)``."""
        if not with_inverse:
            tokens, counts = np.unique(flat, return_counts=True)
            return tokens, None, counts
        return np.unique(flat, return_inverse=True, return_counts=True)

    # ----- indices -----
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices: learned tokens plus the mask and OOV indices.

        >>> StringLookup(vocabulary=["a", "b"]).vocabulary_size()
        3
        """
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary, where a token's position is its index (with special tokens).

        >>> StringLookup(vocabulary=["a", "b"], mask_token="").get_vocabulary()
        ['', '[UNK]', 'a', 'b']
        """
        vocab = [self.oov_token] * self._token_start_index() + self._tokens.tolist()
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and, for ``tf_idf``, the IDF weights) directly, instead of
        learning them with ``adapt``; may start with the special tokens, in order.

        Args:
            vocabulary: a list, tuple or 1-D array of tokens, or the path of a text file with
                one token per line.
            idf_weights: one weight per vocabulary entry; required for ``tf_idf`` only.
        """
        where = f"{type(self).__name__} '{self.name}'"
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{where}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{where}: `idf_weights` should only be set if output_mode is "
                             f"'tf_idf'. Received: output_mode={self.output_mode!r}.")
        if isinstance(vocabulary, str):
            vocabulary = self._read_vocabulary_file(vocabulary, where)
        vocabulary = self._keys(list(vocabulary) if isinstance(vocabulary, tuple)
                                else vocabulary)
        if vocabulary.ndim != 1 or vocabulary.size == 0:
            raise ValueError(f"{where}: cannot set an empty (or not 1-D) vocabulary. Received "
                             f"a vocabulary of shape {vocabulary.shape}.")
        special = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        start = self._token_start_index()
        found_special = len(vocabulary) >= start and vocabulary[:start].tolist() == special
        tokens = vocabulary[start:] if found_special else vocabulary
        self._check_tokens(tokens, special, where)
        self._set_tokens(tokens)
        if idf_weights is not None:
            self._set_idf_weights(idf_weights, len(vocabulary), found_special, where)

    def _read_vocabulary_file(self, path: str, where: str) -> list:
        if self.output_mode == "tf_idf":
            raise ValueError(f"{where}: output_mode 'tf_idf' does not support loading a "
                             f"vocabulary from a file.")
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as error:
            raise ValueError(f"{where}: vocabulary file {path} cannot be read: {error}.") \
                from error
        while lines and lines[-1] == "":
            lines.pop()
        return lines if self._key_name == "strings" else [int(line) for line in lines]

    def _check_tokens(self, tokens: np.ndarray, special: list, where: str) -> None:
        unique, counts = np.unique(tokens, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"{where}: the vocabulary has repeated terms: "
                             f"{unique[counts > 1].tolist()[:20]}. Make the terms unique.")
        reserved = [("mask", self.mask_token)] + ([("OOV", self.oov_token)] if self.invert
                                                   else [])
        for kind, token in reserved:
            if token is not None and (tokens == token).any():
                raise ValueError(
                    f"{where}: found the reserved {kind} token {token!r} at an unexpected "
                    f"location in `vocabulary`. The vocabulary need not include the mask and "
                    f"OOV tokens; either remove them, or include them only at the start in "
                    f"precisely this order: {special}.")
        size = self._token_start_index() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{where}: attempted to set a vocabulary larger than the maximum "
                             f"vocab size. Received vocabulary size is {size}; `max_tokens` is "
                             f"{self.max_tokens}.")

    def _set_tokens(self, tokens: np.ndarray) -> None:
        self._tokens = tokens
        self._order = np.argsort(tokens, kind="stable")
        self._sorted = tokens[self._order]
        self._frozen_vocab_size = self.vocabulary_size()

    def _set_idf_weights(self, idf_weights, vocabulary_length, found_special, where) -> None:
        weights = np.asarray(idf_weights, dtype=np.float64)
        if weights.ndim != 1 or len(weights) != vocabulary_length:
            raise ValueError(f"{where}: `idf_weights` must be a 1-D array as long as the "
                             f"vocabulary ({vocabulary_length}); received shape "
                             f"{weights.shape}.")
        front = 0 if found_special else self._token_start_index()
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens else 0
        self.idf_weights = np.pad(weights, (front, back), constant_values=(
            0 if found_special else np.average(weights), 0)).astype(np.float32)

    # ----- adapt -----
    def reset_state(self) -> None:
        """Forget the counts gathered by ``update_state``."""
        self._counts, self._document_counts, self._num_documents = [], [], 0

    def adapt(self, data, steps=None) -> None:
        """Learn the vocabulary (and IDF weights for ``tf_idf``) from ``data``: a list or
        array of tokens (each row a document), or an iterable of such batches.

        >>> layer = StringLookup()
        >>> layer.adapt(["b", "a", "b", "c"])
        >>> layer.get_vocabulary()
        ['[UNK]', 'b', 'c', 'a']
        """
        self.reset_state()
        for batch in _batches(data, steps):
            self.update_state(batch)
        self.finalize_state()

    def _adapt_data(self, array: np.ndarray) -> np.ndarray:
        return array[:, None] if array.ndim == 1 else array

    def update_state(self, data) -> None:
        """Count the tokens of one batch (rows are documents; a 1-D batch is one document)."""
        keys = self._keys(data)
        keys = keys.reshape(1, -1) if keys.ndim < 2 else keys.reshape(len(keys), -1)
        self.update_rows(keys.ravel(), np.full(len(keys), keys.shape[1], dtype=np.int64))

    def update_rows(self, flat: np.ndarray, lengths: np.ndarray) -> None:
        """Count the tokens of documents given as all tokens end to end and their lengths."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             f"vocabulary via the `vocabulary` argument.")
        tokens, inverse, counts = self._unique(flat, self.output_mode == "tf_idf")
        self._counts.append((tokens, counts))
        if self.output_mode == "tf_idf":
            # Each (document, token) pair once: the number of documents holding each token.
            pairs, _ = _sorted_counts(_row_ids(lengths) * len(tokens) + inverse.ravel())
            self._document_counts.append(
                (tokens, np.bincount(pairs % max(1, len(tokens)), minlength=len(tokens))))
            self._num_documents += len(lengths)

    def finalize_state(self) -> None:
        """Turn the gathered counts into the vocabulary (most frequent first)."""
        tokens, counts = _merge_counts(self._counts, self._empty_tokens())
        if self._has_input_vocabulary or not len(tokens):
            return
        keep = np.ones(len(tokens), dtype=bool)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                keep &= tokens != special
        tokens, counts = tokens[keep], counts[keep]
        # By count, ties by token, both high to low (np.unique sorted the tokens).
        order = np.lexsort((np.arange(len(tokens)), counts))[::-1]
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        self._set_tokens(tokens[order])
        if self.output_mode == "tf_idf":
            self._learn_idf_weights()
        self.reset_state()

    def _learn_idf_weights(self) -> None:
        tokens, document_counts = _merge_counts(self._document_counts, self._empty_tokens())
        counts = document_counts[np.searchsorted(tokens, self._tokens)]
        idf = np.log(1 + self._num_documents / (1 + counts)).astype(np.float32)
        front = np.full(self._token_start_index(), idf.mean(dtype=np.float32), np.float32)
        back = np.zeros(self.max_tokens - len(idf) - len(front) if self.pad_to_max_tokens
                        else 0, np.float32)
        self.idf_weights = np.concatenate([front, idf, back])

    # ----- calling -----
    def __call__(self, inputs, *args, **kwargs):
        # Strings (and integer tokens) stay as they are: the base class casts data to floats.
        if not isinstance(inputs, Tensor) and not is_symbolic(inputs):
            inputs = Tensor(_values(inputs))
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        keys = self._keys(inputs)
        if self.invert:
            return Tensor(self._invert(keys))
        self._check_vocabulary()
        ids = self.lookup(keys)
        if self.output_mode == "int":
            return Tensor(ids)
        if keys.ndim == 0:
            ids = ids.reshape(1)
        if self.output_mode == "one_hot":
            return Tensor(self._one_hot(ids))
        rows = ids.reshape(1, -1) if ids.ndim == 1 else ids
        if rows.ndim > 2:
            raise ValueError(f"Layer '{self.name}': with output_mode={self.output_mode!r} the "
                             f"inputs must have rank 2 at most; received shape {keys.shape}.")
        out = self.encode(rows.ravel(), np.full(len(rows), rows.shape[1], np.int64))
        return Tensor(out[0] if ids.ndim == 1 else out)

    def _check_vocabulary(self) -> None:
        if not len(self._tokens):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has no vocabulary yet: call "
                f"`adapt(data)` on some sample data, or pass `vocabulary=` (or call "
                f"`set_vocabulary`), before calling the layer.")

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The index of every token (int64, same shape): OOV tokens get the OOV index (or a
        bucket among several), the mask token its index (0, or -1 when not counted)."""
        flat = keys.ravel()
        if not len(self._sorted):
            return self._oov_ids(flat, np.zeros(flat.shape, bool),
                                 np.full(flat.shape, self._oov_start_index(), np.int64)) \
                .reshape(keys.shape)
        position = np.minimum(np.searchsorted(self._sorted, flat), len(self._sorted) - 1)
        found = self._sorted[position] == flat
        ids = np.where(found, self._order[position] + self._token_start_index(),
                       self._oov_start_index()).astype(np.int64)
        if not found.all():
            ids = self._oov_ids(flat, found, ids)
        if self.mask_token is not None:
            ids[flat == self.mask_token] = 0 if self.output_mode == "int" else -1
        return ids.reshape(keys.shape)

    def _oov_ids(self, flat, found, ids) -> np.ndarray:
        missing = ~found
        if self.mask_token is not None:
            missing &= flat != self.mask_token
        if self.num_oov_indices == 0 and missing.any():
            raise ValueError(
                f"Layer '{self.name}': when `num_oov_indices=0` all inputs should be in the "
                f"vocabulary; found OOV values {flat[missing][:10].tolist()}. Consider setting "
                f"`num_oov_indices=1`.")
        if self.num_oov_indices > 1:  # integers only: floormod buckets, as Keras
            ids[missing] = np.mod(flat[missing], self.num_oov_indices) + self._oov_start_index()
        return ids

    def _invert(self, ids: np.ndarray) -> np.ndarray:
        vocab = np.array(self.get_vocabulary(), dtype=str if self._key_name == "strings"
                         else np.int64)
        if not np.issubdtype(ids.dtype, np.integer):
            ids = ids.astype(np.int64)
        inside = (ids >= 0) & (ids < len(vocab))
        out = np.where(inside, vocab[np.where(inside, ids, 0)], self.oov_token)
        return out.astype(vocab.dtype) if vocab.dtype.kind != "U" else out

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def _one_hot(self, ids: np.ndarray) -> np.ndarray:
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        if ids.ndim > 1:
            raise ValueError(f"Layer '{self.name}': output_mode='one_hot' needs inputs of shape "
                             f"(batch,) or (batch, 1); received {ids.shape}.")
        out = np.zeros(ids.shape + (self._depth(),), dtype=np.float32)
        valid = ids >= 0
        out[np.nonzero(valid)[0], ids[valid]] = 1
        return out

    def encode(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """``multi_hot`` / ``count`` / ``tf_idf`` vectors ``(rows, depth)`` of rows of ids."""
        depth = self._depth()
        rows = _row_ids(lengths)
        valid = (ids >= 0) & (ids < depth)  # the mask (-1) is not counted
        cells = rows[valid] * depth + ids[valid]  # flat positions in the (rows, depth) output
        out = np.zeros((len(lengths), depth), dtype=np.float32)
        if self.output_mode == "multi_hot":
            out.ravel()[cells] = 1
            return out
        cells, counts = _sorted_counts(cells)
        out.ravel()[cells] = counts
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError(f"Layer '{self.name}': output_mode='tf_idf' needs IDF "
                                 f"weights; call `adapt` or `set_vocabulary(..., idf_weights)`.")
            out *= self.idf_weights[:depth]
        return out

    # ----- .keras assets: a learned vocabulary is saved as a file, as Keras 3 does -----
    def asset_names(self) -> list:
        return ["vocabulary.txt"]

    def save_assets_bytes(self) -> dict:
        """``{"vocabulary.txt": the vocabulary, one token a line}`` unless the vocabulary
        was given to the constructor (then the config holds it)."""
        if self.input_vocabulary is not None:
            return {}
        text = "\n".join(str(token) for token in self.get_vocabulary())
        return {"vocabulary.txt": text.encode("utf-8")}

    def load_assets_bytes(self, files: dict) -> None:
        """Set the vocabulary from a saved ``vocabulary.txt`` (written by Keras or numkeras)."""
        if self.input_vocabulary is not None or "vocabulary.txt" not in files:
            return
        try:
            lines = files["vocabulary.txt"].decode("utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise ValueError(f"The saved vocabulary of layer '{self.name}' is not UTF-8 text "
                             f"({error}).") from error
        while lines and lines[-1] == "":
            lines.pop()
        tokens = lines if self._key_name == "strings" else [int(line) for line in lines]
        if tokens:
            # tf_idf: zeros hold the place (and length) of the IDF weights, which the weights
            # file brings next as `vars/idf_weights` (load_named_variables).
            idf = np.zeros(len(tokens), np.float32) if self.output_mode == "tf_idf" else None
            self.set_vocabulary(tokens, idf)

    # ----- Keras's named variable: a tf_idf layer saves `vars/idf_weights` -----
    def save_named_variables(self) -> dict:
        """``{"idf_weights": ...}`` for a ``tf_idf`` layer with a vocabulary, as Keras 3's
        ``save_own_variables`` writes it; ``{}`` otherwise."""
        if self.output_mode != "tf_idf" or self.idf_weights is None:
            return {}
        return {"idf_weights": self.idf_weights}

    def load_named_variables(self, values: dict) -> None:
        if "idf_weights" in values:
            self.idf_weights = np.asarray(values["idf_weights"], np.float32)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (self._frozen_depth(),)
            return input_shape + (self._frozen_depth(),)
        return input_shape[:-1] + (self._frozen_depth(),)

    def _frozen_depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def get_config(self) -> dict:
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": False, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": "string" if self._key_name == "strings" else "int64",
                "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method,
                "salt": self.salt}


class StringLookup(IndexLookup):
    """Map strings to integer indices (or, with ``invert=True``, indices back to strings).

    Args:
        max_tokens: largest vocabulary size, special tokens included (default: no limit).
        num_oov_indices: indices for out-of-vocabulary tokens (default 1; 0 makes an
            unknown token an error; more than 1 needs Keras's FarmHash, not provided).
        mask_token: a token that maps to index 0 (default None: no mask index).
        oov_token: the token returned for unknown indices when inverting (``"[UNK]"``).
        vocabulary: a list/array of strings or a path to a file of one token per line.
        idf_weights: IDF weights for ``output_mode="tf_idf"`` with a given vocabulary.
        invert: map indices to strings.
        output_mode: ``"int"`` (int64 indices, input shape), ``"one_hot"``,
            ``"multi_hot"``, ``"count"`` or ``"tf_idf"`` (float32 ``(batch, depth)``).
        pad_to_max_tokens: make the encoded depth ``max_tokens`` even if the vocabulary is
            smaller.

    >>> layer = StringLookup(vocabulary=["a", "b", "c"])
    >>> layer(np.array([["a", "c"], ["d", "b"]])).numpy()
    array([[1, 3],
           [0, 2]])
    """

    _key_name = "strings"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        kwargs.pop("vocabulary_dtype", None)  # always strings
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, salt=salt,
                         name=name, **kwargs)

    def _empty_tokens(self) -> np.ndarray:
        return np.empty(0, dtype="<U1")

    def _set_tokens(self, tokens: np.ndarray) -> None:
        super()._set_tokens(tokens)
        start = self._token_start_index()
        self._table = dict(zip(tokens.tolist(), range(start, start + len(tokens))))
        if self.mask_token is not None:
            self._table[self.mask_token] = 0 if self.output_mode == "int" else -1

    def lookup(self, keys) -> np.ndarray:
        """Indices of tokens given as a ``str_`` array or a list of str: one dict lookup per
        token (faster than comparing strings in NumPy)."""
        flat = keys.ravel().tolist() if isinstance(keys, np.ndarray) else keys
        ids = np.fromiter(map(self._table.get, flat, itertools.repeat(_MISSING)),
                          dtype=np.int64, count=len(flat))
        missing = ids == _MISSING
        if missing.any():
            if self.num_oov_indices == 0:
                raise ValueError(
                    f"Layer '{self.name}': when `num_oov_indices=0` all inputs should be in "
                    f"the vocabulary; found OOV values "
                    f"{[flat[i] for i in np.nonzero(missing)[0][:10]]}. Consider setting "
                    f"`num_oov_indices=1`.")
            ids[missing] = self._oov_start_index()
        return ids.reshape(keys.shape) if isinstance(keys, np.ndarray) else ids

    def _unique(self, flat, with_inverse: bool):
        """Counted by ``collections.Counter`` (one C pass over the tokens)."""
        flat = flat.ravel().tolist() if isinstance(flat, np.ndarray) else flat
        counter = collections.Counter(flat)
        tokens = np.array(list(counter), dtype=str) if counter else self._empty_tokens()
        counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
        order = np.argsort(tokens, kind="stable")
        if not with_inverse:
            return tokens[order], None, counts[order]
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))  # position of each counter key once sorted
        position = dict(zip(counter, rank.tolist()))
        inverse = np.fromiter(map(position.__getitem__, flat), dtype=np.int64, count=len(flat))
        return tokens[order], inverse, counts[order]

    def _keys(self, values) -> np.ndarray:
        if self.invert and not isinstance(values, (list, tuple, str)):
            array = _values(values)
            if array.dtype.kind in "iuf":
                return array
        return to_strings(values, f"{type(self).__name__} '{self.name}'", self.encoding)

    def _check_oov_hashing(self) -> None:
        if self.num_oov_indices > 1 and not self.invert:
            raise ValueError(
                f"StringLookup '{self.name}': num_oov_indices={self.num_oov_indices} hashes "
                f"unknown strings into buckets with TensorFlow's FarmHash, which numkeras does "
                f"not implement (other buckets would silently differ from Keras). Use "
                f"num_oov_indices=1 (or 0).")

    def get_config(self) -> dict:
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Map integer tokens to contiguous indices (or back, with ``invert=True``).

    Arguments as :class:`StringLookup`, with integer tokens: ``mask_token`` default None,
    ``oov_token`` default -1; ``num_oov_indices > 1`` puts an unknown ``x`` in bucket
    ``x mod num_oov_indices`` (Keras's ``oov_method="floormod"``).

    >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).numpy()
    array([[1, 3, 4],
           [4, 0, 2]])
    """

    _key_name = "integers"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: only vocabulary_dtype='int64' is supported. "
                             f"Received: vocabulary_dtype={vocabulary_dtype!r}.")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         oov_method=oov_method, salt=salt, name=name, **kwargs)

    def _empty_tokens(self) -> np.ndarray:
        return np.empty(0, dtype=np.int64)

    def _keys(self, values) -> np.ndarray:
        array = _values(values)
        if array.size == 0:
            return array.astype(np.int64)
        if array.dtype.kind == "f" and (array != np.round(array)).any():
            raise ValueError(f"IntegerLookup '{self.name}' needs whole numbers; received "
                             f"fractional values in inputs of shape {array.shape}.")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"IntegerLookup '{self.name}' expects integers; received an array "
                            f"of dtype {array.dtype}. Use StringLookup for strings.")
        return array.astype(np.int64)

    def _check_oov_hashing(self) -> None:
        if self.oov_method != "floormod" and self.num_oov_indices > 1:
            raise ValueError(f"IntegerLookup '{self.name}': oov_method='farmhash' is not "
                             f"implemented; use oov_method='floormod'.")

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config


# ----- TextVectorization -----
class TextVectorization(Layer):
    """Turn texts into token indices or bag-of-words vectors (Keras 3).

    Each text is standardized, split into tokens, optionally combined into n-grams, then looked
    up in a vocabulary learned with :meth:`adapt` (or given with ``vocabulary=``). Index 0 is
    the padding token ``""`` and index 1 the OOV token ``"[UNK]"`` (``int`` mode).

    Args:
        max_tokens: largest vocabulary size, ``""`` and ``"[UNK]"`` included.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a callable taking and returning a NumPy string
            array. Lowercasing is ASCII only and the punctuation stripped is the ASCII set,
            as Keras (TensorFlow) does.
        split: ``"whitespace"`` (default; ASCII whitespace), ``"character"``, None (each
            input string is one token) or a callable taking a 1-D string array and returning
            one list of tokens per text.
        ngrams: None, an integer n (n-grams of 1 to n tokens) or a tuple of widths.
        output_mode: ``"int"`` (default: int64 ``(batch, length)``), ``"multi_hot"``,
            ``"count"`` or ``"tf_idf"`` (float32 ``(batch, vocabulary size)``).
        output_sequence_length: ``int`` mode only: pad or cut every row to this length
            (default: the longest row of the batch).
        pad_to_max_tokens: encoded vectors have ``max_tokens`` entries.
        vocabulary, idf_weights: a given vocabulary (list or path) and, for ``tf_idf``, its
            IDF weights.

    Input: a 1-D array of texts, or ``(batch, 1)``, of ``str`` / ``object`` / UTF-8 bytes.

    >>> layer = TextVectorization(output_mode="count", vocabulary=["cat", "sat"])
    >>> layer(np.array(["The cat sat; the cat!"])).numpy()
    array([[2., 2., 1.]], dtype=float32)
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        layer = f"TextVectorization '{self.name}'"
        _check_choice(standardize, _STANDARDIZE, "standardize", layer, True)
        _check_choice(split, _SPLIT, "split", layer, True)
        output_mode = _MODE_ALIASES.get(output_mode, output_mode)
        _check_choice(output_mode, _OUTPUT_MODES, "output_mode", layer, False)
        self._ngrams = _ngram_widths(ngrams, layer)
        self._check_sequence_length(output_mode, output_sequence_length, layer)
        if sparse or ragged:
            raise ValueError(f"{layer}: numkeras has no sparse or ragged tensors; pass "
                             f"sparse=False, ragged=False (int rows are zero-padded).")
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._output_mode, self._output_sequence_length = output_mode, output_sequence_length
        self._encoding, self._has_input_vocabulary = encoding, has_input_vocabulary
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            encoding=encoding, has_input_vocabulary=has_input_vocabulary,
            vocabulary_size=vocabulary_size)

    @staticmethod
    def _check_sequence_length(output_mode, length, layer) -> None:
        if output_mode != "int" and length is not None:
            raise ValueError(f"{layer}: `output_sequence_length` must not be set if "
                             f"`output_mode` is not 'int'. Received "
                             f"output_sequence_length={length!r}.")
        if length is not None and (isinstance(length, bool) or not isinstance(length, int)
                                   or length < 0):
            raise ValueError(f"{layer}: `output_sequence_length` must be None or a "
                             f"non-negative integer. Received: output_sequence_length="
                             f"{length!r}.")

    # ----- vocabulary -----
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary from texts: a list or array of strings (one text per entry),
        or an iterable (e.g. a generator) of such batches.

        >>> layer = TextVectorization()
        >>> layer.adapt(["a b b", "c"])
        >>> layer.get_vocabulary()
        ['', '[UNK]', 'b', 'c', 'a']
        """
        self._lookup_layer.reset_state()
        for batch in _batches(data, steps):
            self.update_state(batch)
        self._lookup_layer.finalize_state()

    def update_state(self, data) -> None:
        """Count the tokens of one batch of texts."""
        flat, lengths, _ = self._tokens(data)
        self._lookup_layer.update_rows(flat, lengths)

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary; a token's position is its index (``""`` and ``"[UNK]"`` first)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary's size, ``""`` (int mode) and ``"[UNK]"`` included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list, array or file path) and, for ``tf_idf``, its IDF
        weights, instead of learning them with ``adapt``."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def asset_names(self) -> list:
        return self._lookup_layer.asset_names()

    def save_assets_bytes(self) -> dict:
        return self._lookup_layer.save_assets_bytes()

    def load_assets_bytes(self, files: dict) -> None:
        self._lookup_layer.load_assets_bytes(files)

    # Keras 3 writes the IDF weights under this layer's path as well as its lookup's.
    def save_named_variables(self) -> dict:
        return self._lookup_layer.save_named_variables()

    def load_named_variables(self, values: dict) -> None:
        self._lookup_layer.load_named_variables(values)

    # ----- tokenization -----
    def _tokens(self, inputs):
        """``(flat tokens, tokens per row, shape of the dense tokens or None)``."""
        texts = to_strings(inputs, f"TextVectorization '{self.name}'", self._encoding)
        texts = self._standardized(texts)
        if self._split is None:
            # Explicit sizes: reshape(0, -1) cannot infer -1 for an empty batch.
            rows = texts.reshape(1, texts.size) if texts.ndim < 2 else \
                texts.reshape(texts.shape[0], int(np.prod(texts.shape[1:])))
            flat, lengths, dense = rows.ravel(), np.full(len(rows), rows.shape[1]), texts.shape
        else:
            if texts.ndim > 1:
                if texts.shape[-1] != 1:
                    raise ValueError(
                        f"TextVectorization '{self.name}': to split texts into tokens the "
                        f"input must have rank 1, or its last axis must be 1. Received: "
                        f"inputs.shape={texts.shape}.")
                texts = texts[..., 0]
            flat, lengths = self._split_texts(texts.reshape(-1))
            dense = None
        if self._ngrams is not None:
            flat, lengths = ngrams(flat, np.asarray(lengths, np.int64), self._ngrams)
            dense = None
        return flat, np.asarray(lengths, np.int64), dense

    def _standardized(self, texts: np.ndarray) -> np.ndarray:
        if self._standardize is None:
            return texts
        if callable(self._standardize):
            return to_strings(self._standardize(texts), f"The `standardize` callable of "
                              f"TextVectorization '{self.name}'", self._encoding)
        table = {}
        if "lower" in self._standardize:
            table.update(_LOWER_TABLE)
        if "strip_punctuation" in self._standardize:
            table.update(_STRIP_TABLE)
        return np.char.translate(texts, table) if texts.size else texts

    def _split_texts(self, texts: np.ndarray):
        if self._split == "whitespace":
            return _rows_of(_split_whitespace(texts.tolist()))
        if self._split == "character":
            return _rows_of([list(text) for text in texts.tolist()])
        result = self._split(texts)
        if isinstance(result, np.ndarray) and result.dtype != object and result.ndim == 2:
            result = to_strings(result, "The `split` callable's result")
            return result.ravel(), np.full(len(result), result.shape[1], np.int64)
        return _rows_of([[str(token) for token in row] for row in result])

    # ----- calling -----
    def __call__(self, inputs, *args, **kwargs):
        if not isinstance(inputs, Tensor) and not is_symbolic(inputs):
            inputs = Tensor(_values(inputs))
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        lookup = self._lookup_layer
        lookup._check_vocabulary()
        scalar = _values(inputs).ndim == 0
        flat, lengths, dense = self._tokens(inputs)
        ids = lookup.lookup(flat)
        if self._output_mode == "one_hot":
            if dense is None:
                raise ValueError(f"TextVectorization '{self.name}': output_mode='one_hot' "
                                 f"needs split=None (one token per input string).")
            return Tensor(lookup._one_hot(ids.reshape(dense)))
        if self._output_mode != "int":
            out = lookup.encode(ids, lengths)
            return Tensor(out[0] if scalar or (dense is not None and len(dense) < 2) else out)
        if dense is not None:  # split=None: one index per input string
            return Tensor(_fit_last_axis(ids.reshape(dense), self._output_sequence_length))
        out = _to_dense(ids, lengths, self._output_sequence_length)
        return Tensor(out[0] if scalar else out)

    def compute_output_shape(self, input_shape):
        # The shapes of the arrays ``call`` returns. Keras declares (batch, 1, depth) for
        # split texts of shape (batch, 1) in the vector modes, but computes (batch, depth).
        input_shape = tuple(input_shape)
        length = self._output_sequence_length
        if self._split is not None or self._ngrams is not None:
            if self._output_mode == "int":
                return (input_shape[0], length)
            return (input_shape[0], self._lookup_layer._frozen_depth())
        if self._output_mode == "int":
            if not input_shape or length is None:
                return input_shape
            return input_shape[:-1] + (length,)
        return self._lookup_layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        lookup = self._lookup_layer
        return {**super().get_config(), "max_tokens": lookup.max_tokens,
                "standardize": self._standardize if not callable(self._standardize)
                else _callable_name(self._standardize),
                "split": self._split if not callable(self._split) else _callable_name(
                    self._split),
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False,
                "ragged": False, "vocabulary": _listify(lookup.input_vocabulary),
                "idf_weights": _listify(lookup.input_idf_weights), "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for key in ("standardize", "split"):
            if isinstance(config.get(key), dict):
                raise ValueError(
                    f"TextVectorization.from_config: a custom `{key}` function "
                    f"({config[key].get('config', config[key])}) cannot be rebuilt from a "
                    f"config; create the layer in code with the function.")
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)


# ----- helpers -----
def _batches(data, steps):
    """The batches ``adapt`` reads: the whole array/list at once (each entry a row), or each
    item of another iterable (a generator of batches), at most ``steps`` of them."""
    if isinstance(data, (list, tuple, np.ndarray, Tensor, str)):
        array = _values(data)
        if array.ndim == 0:
            array = array.reshape(1)
        yield array[:, None] if array.ndim == 1 else array
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"adapt() expects a list, a NumPy array or an iterable of batches; "
                        f"received {type(data).__name__}.")
    for index, batch in enumerate(data):
        if steps is not None and index >= steps:
            break
        yield batch


_MISSING = -2  # what the token table gives an unknown token, before it becomes the OOV index


def _sorted_counts(values: np.ndarray):
    """``(sorted distinct values, how often each occurs)`` of an integer array, by one sort
    (``np.unique`` hashes, which is several times slower on millions of int64)."""
    values = np.sort(values)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(values) \
        else np.zeros(0, np.int64)
    return values[starts], np.diff(np.r_[starts, len(values)])


def _fit_last_axis(ids: np.ndarray, length: int | None) -> np.ndarray:
    """Cut or zero-pad the last axis of a (batch, tokens) array, or of one (tokens,)
    sequence (a rank-1 input, as Keras reads it), to ``length``."""
    if length is None or ids.ndim < 1:
        return ids
    ids = ids[..., :length]
    return np.pad(ids, [(0, 0)] * (ids.ndim - 1) + [(0, length - ids.shape[-1])])


def _merge_counts(parts, empty: np.ndarray):
    """``(sorted unique tokens, summed counts)`` over several ``(tokens, counts)`` pairs."""
    if not parts:
        return empty, np.zeros(0, dtype=np.int64)
    if len(parts) == 1:
        return parts[0]
    tokens, inverse = np.unique(np.concatenate([t for t, _ in parts]), return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=np.concatenate([c for _, c in parts]),
                         minlength=len(tokens)).astype(np.int64)
    return tokens, counts


def _ngram_widths(ngrams, layer):
    if ngrams is None:
        return None
    if isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams > 0:
        return tuple(range(1, ngrams + 1))
    if isinstance(ngrams, (tuple, list)) and ngrams and all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in ngrams):
        return tuple(ngrams)
    raise ValueError(f"{layer}: `ngrams` must be None, a positive integer, or a tuple of "
                     f"positive integers. Received: ngrams={ngrams!r}")


def _listify(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def _callable_name(function) -> dict:
    """How Keras serializes a custom function in a config."""
    return {"module": getattr(function, "__module__", None), "class_name": "function",
            "config": getattr(function, "__name__", repr(function)), "registered_name":
            getattr(function, "__name__", None)}
