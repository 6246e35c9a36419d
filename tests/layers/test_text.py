"""TextVectorization, StringLookup, IntegerLookup against Keras 3 (TensorFlow backend) outputs
stored in tests/fixtures/text/reference.json (made by make_fixtures.py next to it)."""

import json
import pathlib
import zipfile

import numpy as np
import pytest

import numkeras as keras
from numkeras.layers import IntegerLookup, StringLookup, TextVectorization

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "text"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text(encoding="utf-8"))


def kwargs_of(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("ngrams"), list):
        kwargs["ngrams"] = tuple(kwargs["ngrams"])
    return kwargs


def assert_output(got, expected, what):
    got = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    assert list(got.shape) == expected["shape"], what
    if got.dtype.kind in "US":
        assert got.tolist() == expected["values"], what
    else:
        np.testing.assert_allclose(got, np.asarray(expected["values"], dtype=np.float64),
                                   rtol=1e-6, atol=1e-6, err_msg=what)


def comparable_config(config):
    """The config as JSON has it (tuples become lists), without the automatic name."""
    return {k: v for k, v in json.loads(json.dumps(config)).items() if k != "name"}


@pytest.mark.parametrize("case", REFERENCE["text_vectorization"], ids=lambda c: c["name"])
def test_text_vectorization_matches_keras(case):
    layer = TextVectorization(**kwargs_of(case))
    if case["adapt"] is not None:
        layer.adapt(case["adapt"])
    assert layer.get_vocabulary() == case["vocabulary"]
    assert layer.vocabulary_size() == case["vocabulary_size"]
    out = layer(np.array(case["inputs"]))
    assert_output(out, case["output"], case["name"])
    expected_dtype = np.int64 if layer.get_config()["output_mode"] == "int" else np.float32
    assert out.dtype == expected_dtype
    assert comparable_config(layer.get_config()) == comparable_config(case["config"])


@pytest.mark.parametrize("case", REFERENCE["lookup"], ids=lambda c: c["name"])
def test_lookup_layers_match_keras(case):
    layer = {"StringLookup": StringLookup, "IntegerLookup": IntegerLookup}[case["class"]](
        **case["kwargs"])
    if case["adapt"] is not None:
        layer.adapt(np.array(case["adapt"]))
    assert layer.get_vocabulary() == case["vocabulary"]
    assert_output(layer(np.array(case["inputs"])), case["output"], case["name"])
    assert comparable_config(layer.get_config()) == comparable_config(case["config"])


@pytest.mark.parametrize("case", REFERENCE["text_vectorization"], ids=lambda c: c["name"])
def test_config_round_trip_keeps_given_vocabulary(case):
    layer = TextVectorization(**kwargs_of(case))
    if case["adapt"] is not None:
        layer.adapt(case["adapt"])
        return  # an adapted vocabulary travels in the archive's assets, not in the config
    clone = TextVectorization.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(clone(np.array(case["inputs"])).numpy(),
                                  layer(np.array(case["inputs"])).numpy())


def test_inputs_as_object_bytes_column_and_scalar():
    layer = TextVectorization(vocabulary=["cat", "dog"])
    expected = layer(np.array(["cat dog", "dog"])).numpy()
    for inputs in (np.array(["cat dog", "dog"], dtype=object), np.array([b"cat dog", b"dog"]),
                   np.array([["cat dog"], ["dog"]]), ["cat dog", "dog"]):
        np.testing.assert_array_equal(layer(inputs).numpy(), expected)
    assert layer("cat dog").numpy().tolist() == [2, 3]


def test_adapt_on_batches_equals_adapt_on_all():
    texts = REFERENCE["text_vectorization"][0]["adapt"]
    whole = TextVectorization(output_mode="tf_idf")
    whole.adapt(texts)
    batched = TextVectorization(output_mode="tf_idf")
    batched.adapt(np.array(texts[i:i + 2]) for i in range(0, len(texts), 2))
    assert batched.get_vocabulary() == whole.get_vocabulary()
    np.testing.assert_allclose(batched(np.array(texts)).numpy(), whole(np.array(texts)).numpy())


def test_set_vocabulary_and_file(tmp_path):
    layer = TextVectorization()
    layer.set_vocabulary(["x", "y"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    path = tmp_path / "vocab.txt"
    path.write_text("\n[UNK]\nb\na\n", encoding="utf-8")
    layer.set_vocabulary(str(path))
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a"]
    assert layer(np.array(["a b c"])).numpy().tolist() == [[3, 2, 1]]


def test_used_before_adapt_is_a_clear_error():
    for layer in (TextVectorization(), TextVectorization(output_mode="multi_hot"),
                  StringLookup()):
        with pytest.raises(ValueError, match=r"no vocabulary yet: call `adapt\(data\)`"):
            layer(np.array(["a text"]))


@pytest.mark.parametrize("kwargs, match", [
    ({"output_mode": "ints"}, "output_mode"),
    ({"standardize": "upper"}, "standardize"),
    ({"split": "comma"}, "split"),
    ({"ngrams": 0}, "ngrams"),
    ({"output_mode": "count", "output_sequence_length": 3}, "output_sequence_length"),
    ({"max_tokens": 1}, "max_tokens"),
    ({"output_mode": "tf_idf", "vocabulary": ["a"]}, "idf_weights"),
    ({"vocabulary": ["a", "a"]}, "repeated"),
    ({"max_tokens": 3, "vocabulary": ["a", "b"]}, "larger than the maximum"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TextVectorization(**kwargs)


def test_bad_inputs_are_clear_errors():
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(TypeError, match="expects strings; received an array of dtype int64"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match="last axis must be 1"):
        layer(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["b"]))
    with pytest.raises(ValueError, match="FarmHash"):
        StringLookup(num_oov_indices=2)


def test_string_model_predict_with_embedding():
    layer = TextVectorization(max_tokens=20, output_sequence_length=5)
    layer.adapt(["the cat sat", "the dog ran", "a cat and a dog"])
    inputs = keras.Input(shape=(1,), dtype="string")
    x = layer(inputs)
    outputs = keras.layers.Embedding(20, 3)(x)
    model = keras.Model(inputs, outputs)
    texts = np.array([["the cat"], ["zebra dog"], ["a"]])
    out = model.predict(texts, verbose=0)
    assert out.shape == (3, 5, 3) and out.dtype == np.float32
    table = model.layers[-1].get_weights()[0]
    np.testing.assert_array_equal(out, table[layer(texts).numpy()])


def test_string_sequential_trains():
    layer = TextVectorization(output_mode="multi_hot", vocabulary=["good", "bad", "fine"])
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer,
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.array([["good"], ["bad"], ["fine good"], ["bad bad"]] * 4)
    y = np.array([1, 0, 1, 0] * 4, dtype="float32")
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x[:2], verbose=0).shape == (2, 1)


def test_keras_archive_with_adapted_text_vectorization_loads():
    """text_model.keras was saved by Keras 3 (TensorFlow backend): the adapted vocabulary is
    in assets/layers/text_vectorization/vocabulary.txt, not in the config."""
    reference = REFERENCE["model_archive"]
    model = keras.models.load_model(FIXTURES / "text_model.keras")
    layer = model.layers[1]
    assert layer.get_config()["vocabulary"] is None
    assert layer.get_vocabulary() == reference["vocabulary"]
    np.testing.assert_allclose(model.predict(np.array(reference["inputs"]), verbose=0),
                               reference["output"], rtol=1e-6, atol=1e-7)


def test_numkeras_archive_keeps_the_adapted_vocabulary(tmp_path):
    layer = TextVectorization(max_tokens=20, output_sequence_length=5)
    layer.adapt(["the cat sat", "the dog ran", "the end"])
    lookup = StringLookup(mask_token="")
    lookup.adapt(np.array(["x", "y", "y"]))
    inputs = keras.Input(shape=(1,), dtype="string")
    words = keras.Input(shape=(2,), dtype="string")
    model = keras.Model([inputs, words], [keras.layers.Embedding(20, 3)(layer(inputs)),
                                          lookup(words)])
    model.save(tmp_path / "m.keras")
    names = zipfile.ZipFile(tmp_path / "m.keras").namelist()
    assert "assets/layers/text_vectorization/vocabulary.txt" in names
    assert "assets/layers/text_vectorization/_lookup_layer/vocabulary.txt" in names
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = [np.array([["the cat"], ["a dog ran"]]), np.array([["x", "q"], ["", "y"]])]
    for got, expected in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, expected)
    text_layers = [x for x in loaded.layers if isinstance(x, TextVectorization)]
    assert text_layers[0].get_vocabulary() == layer.get_vocabulary()


def test_numkeras_archive_loads_in_keras(tmp_path):
    tf = pytest.importorskip("tensorflow")  # Keras's text layers need TensorFlow
    real_keras = pytest.importorskip("keras")
    layer = TextVectorization(max_tokens=20, output_sequence_length=5)
    layer.adapt(["the cat sat", "the dog ran", "the end"])
    inputs = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inputs, keras.layers.Embedding(20, 3)(layer(inputs)))
    model.save(tmp_path / "m.keras")
    theirs = real_keras.models.load_model(tmp_path / "m.keras")
    texts = [["the cat"], ["a dog ran"]]
    np.testing.assert_allclose(theirs.predict(tf.constant(texts), verbose=0),
                               model.predict(np.array(texts), verbose=0), rtol=1e-6)


def test_keras_written_tf_idf_archive_loads_with_its_idf_weights():
    # tf_idf.keras: Keras 3 stores the IDF weights as `vars/idf_weights` (make_tf_idf_archive.py)
    reference = json.loads((FIXTURES / "tf_idf.json").read_text(encoding="utf-8"))
    model = keras.models.load_model(FIXTURES / "tf_idf.keras")
    layer = model.layers[-1]
    assert layer.get_vocabulary() == reference["vocabulary"]
    queries = np.array([[q] for q in reference["queries"]])
    np.testing.assert_allclose(model.predict(queries, verbose=0), reference["predictions"],
                               rtol=1e-6)


def test_adapted_tf_idf_layer_round_trips_through_a_keras_archive(tmp_path):
    layer = TextVectorization(output_mode="tf_idf", max_tokens=6, pad_to_max_tokens=True)
    layer.adapt(["a b", "b c", "b"])
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        weights = archive.read("model.weights.h5")
    assert weights.count(b"idf_weights") >= 2  # the layer's and its _lookup_layer's, as Keras
    loaded = keras.models.load_model(tmp_path / "m.keras")
    texts = np.array([["a b b"], ["c z"]])
    np.testing.assert_array_equal(loaded.predict(texts, verbose=0),
                                  model.predict(texts, verbose=0))


def test_numkeras_tf_idf_archive_loads_in_keras(tmp_path):
    real_keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    if real_keras.backend.backend() != "tensorflow":
        pytest.skip("Keras's text layers need the TensorFlow backend")
    layer = TextVectorization(output_mode="tf_idf", max_tokens=8)
    layer.adapt(["the cat sat", "the dog ran far", "a cat"])
    inputs = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "m.keras")
    theirs = real_keras.models.load_model(tmp_path / "m.keras")
    texts = [["the cat"], ["a dog ran zebra"], [""]]
    np.testing.assert_allclose(theirs.predict(tf.constant(texts), verbose=0),
                               model.predict(np.array(texts), verbose=0), rtol=1e-6)


@pytest.mark.parametrize("case", REFERENCE["lookup"], ids=lambda c: c["name"])
def test_lookup_config_round_trip(case):
    cls = {"StringLookup": StringLookup, "IntegerLookup": IntegerLookup}[case["class"]]
    layer = cls(**case["kwargs"])
    vocabulary = layer.get_vocabulary(include_special_tokens=False) if case["adapt"] is None \
        else None
    clone = cls.from_config(layer.get_config())
    if vocabulary is not None:
        assert clone.get_vocabulary(include_special_tokens=False) == vocabulary
    assert comparable_config(clone.get_config()) == comparable_config(layer.get_config())


def test_callable_standardize_and_split():
    def shout(texts):
        return np.char.upper(texts)

    def on_commas(texts):
        return [text.split(",") for text in texts.tolist()]

    layer = TextVectorization(standardize=shout, split=on_commas)
    layer.adapt(["a,b,b", "c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    assert layer(np.array(["b,x"])).numpy().tolist() == [[2, 1]]
    with pytest.raises(ValueError, match="custom `standardize` function"):
        TextVectorization.from_config(layer.get_config())


def test_lookup_adapts_on_batches_and_pads_to_max_tokens():
    layer = StringLookup(output_mode="count", max_tokens=6, pad_to_max_tokens=True)
    layer.adapt(iter([np.array(["a", "b"]), np.array(["b", "c"])]))
    assert layer.get_vocabulary() == ["[UNK]", "b", "c", "a"]
    out = layer(np.array([["b", "b", "z"]])).numpy()
    assert out.tolist() == [[1.0, 2.0, 0.0, 0.0, 0.0, 0.0]]
    assert layer.compute_output_shape((None, 3)) == (None, 6)


def test_tf_keras_spelling():
    import numkeras.compat.tf as tf

    layer = tf.keras.layers.TextVectorization(vocabulary=["a"])
    assert layer(np.array(["a b"])).numpy().tolist() == [[2, 1]]
    assert tf.keras.preprocessing.sequence.pad_sequences([[1]], maxlen=2).tolist() == [[0, 1]]


def test_tf_idf_archive_without_idf_weights_is_refused_clearly(tmp_path, monkeypatch):
    import numkeras.saving.weights as weights_module

    layer = TextVectorization(output_mode="tf_idf")
    layer.adapt(["a b", "b"])
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer])
    with monkeypatch.context() as patch:  # write an archive without the IDF weights
        patch.setattr(weights_module, "named_variables", lambda obj: {})
        model.save(tmp_path / "m.keras")
    with pytest.raises(Exception, match="idf_weights"):
        keras.models.load_model(tmp_path / "m.keras")


ALPHABET = list("abcAB.,!'- \t\n") + ["é", "Ü", "\xa0", "  ", "ß", "x1", "\u3000"]


def random_text_vectorization_case(rng):
    def text():
        return "".join(rng.choice(ALPHABET, rng.integers(0, 25)))

    kwargs = {"standardize": [None, "lower", "strip_punctuation",
                              "lower_and_strip_punctuation"][rng.integers(4)],
              "split": ["whitespace", "character"][rng.integers(2)],
              "output_mode": ["int", "multi_hot", "count", "tf_idf"][rng.integers(4)]}
    if rng.random() < 0.4:
        kwargs["ngrams"] = int(rng.integers(1, 4))
    if rng.random() < 0.5:
        kwargs["max_tokens"] = int(rng.integers(3, 12))
    if kwargs["output_mode"] == "int" and rng.random() < 0.5:
        kwargs["output_sequence_length"] = int(rng.integers(1, 8))
    return kwargs, [text() for _ in range(rng.integers(1, 12))], [text() for _ in range(5)]


def test_random_corpora_match_keras():
    """By hand, with TensorFlow: KERAS_BACKEND=tensorflow PYTHONPATH=src:. python -m pytest"""
    pytest.importorskip("tensorflow")
    real_keras = pytest.importorskip("keras")
    rng = np.random.default_rng(1)
    for _ in range(40):
        kwargs, texts, queries = random_text_vectorization_case(rng)
        theirs, ours = real_keras.layers.TextVectorization(**kwargs), TextVectorization(**kwargs)
        theirs.adapt(texts)
        ours.adapt(texts)
        assert [str(v) for v in theirs.get_vocabulary()] == ours.get_vocabulary(), kwargs
        if len(ours.get_vocabulary()) > 2:
            np.testing.assert_allclose(ours(np.array(queries)).numpy(),
                                       np.asarray(theirs(np.array(queries))), atol=1e-6)


def test_the_listed_other_whitespace_is_every_non_ascii_space_of_str_isspace():
    """layers/text.py lists the characters str.split() splits on but TensorFlow does not,
    instead of scanning all of Unicode at import (0.2 s); the list must stay complete."""
    import sys

    from numkeras.layers import text

    others = [chr(c) for c in range(sys.maxunicode + 1)
              if chr(c).isspace() and chr(c) not in " \t\n\r\v\f"]
    assert all(text._OTHER_SPACE.fullmatch(c) for c in others)
    assert not any(text._OTHER_SPACE.fullmatch(c) for c in " \t\n\r\v\fa")


# Shapes Keras 3.15.1 (TensorFlow backend) returns for an empty rank-1 batch, an empty
# (0, 1) batch and [["a b"], ["zz"]], after adapt(["a b c", "b c d"]) (depth 5: "", [UNK],
# b, c, a|d); None where Keras itself fails (an empty rank-1 input with split=None in int
# mode: Keras reads a rank-1 input as one sequence of tokens, so numkeras pads it to (4,)).
EMPTY_BATCH_SHAPES = [
    ({"output_sequence_length": 4}, [(0, 4), (0, 4), (2, 4)]),
    ({"output_sequence_length": 4, "split": None}, [None, (0, 4), (2, 4)]),
    ({"split": None}, [(0,), (0, 1), (2, 1)]),
    ({"output_mode": "multi_hot"}, [(0, 5), (0, 5), (2, 5)]),
    ({"output_mode": "count"}, [(0, 5), (0, 5), (2, 5)]),
    ({"output_mode": "tf_idf"}, [(0, 5), (0, 5), (2, 5)]),
    ({"output_mode": "multi_hot", "split": None}, [(3,), (0, 3), (2, 3)]),
    ({"output_mode": "tf_idf", "split": None}, [(3,), (0, 3), (2, 3)]),
    ({"output_mode": "one_hot", "split": None}, [(0, 3), (0, 3), (2, 3)]),
    ({"output_mode": "count", "ngrams": 2}, [(0, 8), (0, 8), (2, 8)]),
]


@pytest.mark.parametrize("kwargs, shapes", EMPTY_BATCH_SHAPES)
def test_empty_batches_keep_the_feature_axis_as_keras(kwargs, shapes):
    layer = TextVectorization(**kwargs)
    layer.adapt(["a b c", "b c d"])
    inputs = [np.zeros((0,), str), np.zeros((0, 1), str), np.array([["a b"], ["zz"]])]
    for x, expected in zip(inputs, shapes):
        out = layer(x)
        if expected is not None:
            assert out.shape == expected, (kwargs, x.shape)
            assert layer.compute_output_shape(x.shape) == expected, (kwargs, x.shape)


def test_split_none_rank1_input_is_one_sequence_cut_or_padded_as_keras():
    layer = TextVectorization(output_sequence_length=4, split=None)
    layer.adapt(["a", "b", "c", "a"])
    # Keras 3.15.1 (TensorFlow): [2, 4, 1, 0] and [2, 4, 1, 3].
    assert layer(np.array(["a", "b", "zz"])).numpy().tolist() == [2, 4, 1, 0]
    assert layer(np.array(["a", "b", "zz", "c", "a", "b"])).numpy().tolist() == [2, 4, 1, 3]
    assert layer(np.zeros((0,), str)).numpy().tolist() == [0, 0, 0, 0]  # an empty sequence


@pytest.mark.parametrize("kwargs", [{"output_sequence_length": 4, "split": None},
                                    {"output_mode": "count", "split": None}])
def test_a_model_predicts_an_empty_batch(kwargs):
    layer = TextVectorization(**kwargs)
    layer.adapt(["a", "b", "c"])
    model = keras.Sequential([keras.Input((1,), dtype="string"), layer])
    out = model.predict(np.zeros((0, 1), object), verbose=0)
    assert out.shape == (0, 4)  # depth 4 for count: [UNK], a, b, c
    assert model.output_shape == (None, 4)
