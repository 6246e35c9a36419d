"""keras.utils.pad_sequences against Keras 3 outputs (tests/fixtures/text/reference.json)."""

import json
import pathlib

import numpy as np
import pytest

import numkeras as keras
from numkeras.utils import pad_sequences

REFERENCE = json.loads((pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "text"
                        / "reference.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", REFERENCE["pad_sequences"], ids=lambda c: c["name"])
def test_matches_keras(case):
    out = pad_sequences(case["sequences"], **case["kwargs"])
    assert str(out.dtype) == case["dtype"]
    np.testing.assert_array_equal(out, np.asarray(case["output"], dtype=out.dtype))


def test_reachable_where_keras_has_it():
    from numkeras.preprocessing.sequence import pad_sequences as from_preprocessing

    assert keras.utils.pad_sequences is pad_sequences is from_preprocessing
    assert keras.preprocessing.sequence.pad_sequences is pad_sequences


def test_arrays_objects_strings_and_empty():
    np.testing.assert_array_equal(pad_sequences(np.arange(6).reshape(2, 3), maxlen=4),
                                  [[0, 0, 1, 2], [0, 3, 4, 5]])
    out = pad_sequences([np.array([1, 2]), np.array([3])], padding="post")
    np.testing.assert_array_equal(out, [[1, 2], [3, 0]])
    words = pad_sequences([["a", "bb"], ["c"]], dtype=object, value="")
    assert words.tolist() == [["a", "bb"], ["", "c"]]
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([[], []], maxlen=3).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)


def test_long_lists_are_padded_without_a_loop_over_samples():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 50, 20_000)
    sequences = [list(range(1, n + 1)) for n in lengths]
    out = pad_sequences(sequences, maxlen=30)
    kept = np.minimum(lengths, 30)
    np.testing.assert_array_equal((out != 0).sum(axis=1), kept)
    np.testing.assert_array_equal(out[:, -1], np.where(lengths > 0, lengths, 0))


@pytest.mark.parametrize("kwargs, match", [
    ({"sequences": [[1], 2]}, "non-iterable: 2 at position 1"),
    ({"sequences": 5}, "must be a list of sequences"),
    ({"sequences": [[1]], "padding": "middle"}, "padding='middle'"),
    ({"sequences": [[1]], "truncating": "both"}, "truncating='both'"),
    ({"sequences": [[1]], "maxlen": -1}, "maxlen"),
    ({"sequences": [["a"]], "value": "x"}, "dtype=object"),
    ({"sequences": [[[1, 2]], [[1, 2, 3]]]}, "position 1 is different from expected shape"),
])
def test_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(**kwargs)
