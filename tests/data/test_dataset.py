"""tf.data.Dataset on NumPy: sources, transformations, cardinality, seeding, and fit/evaluate/
predict on datasets, generators and PyDataset-like sequences."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, Variable, is_grad_enabled, ops
from numkeras.backprop.tape import GradientTape
from numkeras.data import AUTOTUNE, Dataset


def _numbers(ds):
    return [np.asarray(e).tolist() for e in ds.as_numpy_iterator()]


def test_from_tensor_slices_of_arrays_tuples_and_dicts():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    pairs = list(Dataset.from_tensor_slices((x, y)))
    assert len(pairs) == 6 and isinstance(pairs[0][0], Tensor)
    np.testing.assert_array_equal(pairs[2][0].numpy(), x[2])
    assert int(pairs[2][1]) == 2
    rows = list(Dataset.from_tensor_slices({"a": x, "b": y}).as_numpy_iterator())
    assert set(rows[0]) == {"a", "b"} and rows[5]["b"] == 5
    # A Python list is one tensor (as in TF), not a tuple of components.
    assert _numbers(Dataset.from_tensor_slices([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    assert Dataset.from_tensor_slices([1.0, 2.0]).element_spec[1] == np.float32


def test_from_tensor_slices_errors():
    with pytest.raises(ValueError, match="same first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="from_tensors"):
        Dataset.from_tensor_slices(np.float32(1.0))


def test_from_tensors_range_zip_and_concatenate():
    assert len(Dataset.from_tensors(np.zeros((3, 2)))) == 1
    assert _numbers(Dataset.range(2, 8, 2)) == [2, 4, 6]
    zipped = Dataset.zip((Dataset.range(3), Dataset.range(10, 20)))
    assert zipped.cardinality() == 3 and _numbers(zipped) == [[0, 10], [1, 11], [2, 12]]
    assert _numbers(Dataset.range(2).concatenate(Dataset.range(5, 6))) == [0, 1, 5]


def test_batch_drop_remainder_unbatch_and_cardinality():
    ds = Dataset.range(10)
    assert [len(b) for b in ds.batch(4).as_numpy_iterator()] == [4, 4, 2]
    assert ds.batch(4).cardinality() == 3 and ds.batch(4, drop_remainder=True).cardinality() == 2
    assert [len(b) for b in ds.batch(4, drop_remainder=True).as_numpy_iterator()] == [4, 4]
    assert _numbers(ds.batch(3).unbatch()) == list(range(10))
    mapped = ds.map(lambda v: v * 2).batch(3)  # element-wise path, then stacked
    assert [b.tolist() for b in mapped.as_numpy_iterator()] == [[0, 2, 4], [6, 8, 10],
                                                                 [12, 14, 16], [18]]
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)


def test_take_skip_repeat_filter_enumerate():
    ds = Dataset.range(5)
    assert _numbers(ds.take(2)) == [0, 1] and _numbers(ds.skip(3)) == [3, 4]
    assert _numbers(ds.take(-1)) == [0, 1, 2, 3, 4]
    assert ds.repeat(2).cardinality() == 10 and _numbers(ds.repeat(2))[5:7] == [0, 1]
    forever = ds.repeat()
    assert forever.cardinality() == -1 and _numbers(forever.take(7))[-1] == 1
    with pytest.raises(TypeError, match="infinite"):
        len(forever)
    evens = ds.filter(lambda v: v.numpy() % 2 == 0)
    assert evens.cardinality() == -2 and _numbers(evens) == [0, 2, 4]
    assert _numbers(ds.enumerate(start=1).take(1)) == [[1, 0]]
    assert ds.prefetch(AUTOTUNE).cache() is ds


def test_map_on_tuples_and_dicts_receives_tensors():
    ds = Dataset.from_tensor_slices((np.ones((4, 2), np.uint8), np.arange(4)))
    seen = []

    def scale(x, y):
        seen.append(type(x))
        return x * (1 / 255.0), y

    batch = next(ds.batch(4).map(scale, num_parallel_calls=AUTOTUNE).as_numpy_iterator())
    assert seen == [Tensor] and batch[0].dtype == np.float64 and batch[1].tolist() == [0, 1, 2, 3]
    ds = Dataset.from_tensor_slices({"a": np.arange(3)}).map(lambda d: {"a": d["a"] + 1})
    assert [d["a"] for d in ds.as_numpy_iterator()] == [1, 2, 3]


def test_shuffle_is_seeded_and_reshuffles_each_pass():
    ds = Dataset.range(20).shuffle(20, seed=3)
    first, second = _numbers(ds), _numbers(ds)
    assert sorted(first) == list(range(20)) and first != list(range(20)) and first != second
    assert _numbers(Dataset.range(20).shuffle(20, seed=3)) == first
    fixed = Dataset.range(20).shuffle(20, seed=3, reshuffle_each_iteration=False)
    assert _numbers(fixed) == _numbers(fixed)
    keras.utils.set_random_seed(7)
    a = _numbers(Dataset.range(20).shuffle(5))
    keras.utils.set_random_seed(7)
    assert _numbers(Dataset.range(20).shuffle(5)) == a and sorted(a) == list(range(20))
    # A small buffer only moves elements a little forward (TF's algorithm).
    assert a[0] < 5
    generic = Dataset.range(10).map(lambda v: v).shuffle(4, seed=1)  # element-wise path
    assert sorted(_numbers(generic)) == list(range(10))


def test_from_generator_and_len():
    ds = Dataset.from_generator(lambda: iter([np.ones(2), np.zeros(2)]))
    assert ds.cardinality() == -2 and len(_numbers(ds)) == 2 and len(_numbers(ds)) == 2
    with pytest.raises(TypeError, match="unknown"):
        len(ds)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _arrays(n=40):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, n)


def test_fit_on_a_batched_dataset_equals_fit_on_arrays_without_shuffle():
    x, y = _arrays()
    expected = _model().fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model = _model()
    ds = Dataset.from_tensor_slices((x, y)).batch(8).prefetch(AUTOTUNE)
    got = model.fit(ds, epochs=2, verbose=0)
    for name in ("loss", "accuracy"):
        np.testing.assert_allclose(got.history[name], expected.history[name], rtol=1e-6)
    result = model.evaluate(ds, verbose=0, return_dict=True)
    assert set(result) == {"loss", "accuracy"}
    np.testing.assert_allclose(model.predict(ds, verbose=0), model.predict(x, verbose=0))


def test_fit_with_validation_dataset_steps_and_infinite_repeat():
    x, y = _arrays()
    model = _model()
    train = Dataset.from_tensor_slices((x, y)).shuffle(40, seed=1).batch(8).repeat()
    history = model.fit(train, steps_per_epoch=3, epochs=2, verbose=0,
                        validation_data=Dataset.from_tensor_slices((x, y)).batch(16))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(train, epochs=1, verbose=0)


def test_fit_repeats_with_the_same_seed():
    x, y = _arrays()

    def run():
        model = _model(3)
        ds = Dataset.from_tensor_slices((x, y)).shuffle(40).batch(8)
        return model.fit(ds, epochs=2, verbose=0).history["loss"]

    assert run() == run()


def test_fit_on_generators_and_sequences():
    x, y = _arrays()

    def batches():
        while True:
            for start in range(0, 40, 10):
                yield x[start:start + 10], y[start:start + 10]

    model = _model()
    history = model.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

    class Batches:  # keras.utils.PyDataset / Sequence protocol
        epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]

        def on_epoch_end(self):
            Batches.epochs_ended += 1

    history = model.fit(Batches(), epochs=2, verbose=0)
    assert Batches.epochs_ended == 2 and len(history.history["loss"]) == 2
    assert model.predict(Batches(), verbose=0).shape == (40, 3)
    loss = model.evaluate(iter([(x, y)]), verbose=0)
    assert isinstance(loss, list) and len(loss) == 2


def test_fit_on_a_keras_pydataset_subclass():
    x, y = _arrays()
    calls = []

    class Batches(keras.utils.PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def __len__(self):
            return 5

        def __getitem__(self, index):
            calls.append(index)
            rows = slice(index * 8, (index + 1) * 8)
            return x[rows], y[rows]

        def on_epoch_begin(self):
            calls.append("begin")

    data = Batches(workers=2, use_multiprocessing=False)
    assert data.workers == 2 and data.num_batches == 5
    model = _model()
    model.fit(data, epochs=2, verbose=0, shuffle=True)
    assert calls.count("begin") == 2 and sorted(calls[1:6]) == [0, 1, 2, 3, 4]
    assert calls[1:6] != [0, 1, 2, 3, 4] or calls[7:12] != [0, 1, 2, 3, 4]  # shuffled order
    assert issubclass(keras.utils.Sequence, keras.utils.PyDataset)
    assert keras.utils.unpack_x_y_sample_weight((x, y)) == (x, y, None)
    assert keras.utils.pack_x_y_sample_weight(x) is x


def test_arguments_a_dataset_makes_meaningless_are_refused():
    x, y = _arrays()
    model = _model()
    ds = Dataset.from_tensor_slices((x, y)).batch(8)
    with pytest.raises(ValueError, match=r"also \['y'\]"):
        model.fit(ds, y, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.evaluate(ds, batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(ds, validation_split=0.2, verbose=0)


def test_flat_map_shard_padded_batch_and_reduce():
    ds = Dataset.range(3).flat_map(lambda v: Dataset.from_tensors(v).repeat(2))
    assert _numbers(ds) == [0, 0, 1, 1, 2, 2]
    assert _numbers(Dataset.range(10).shard(3, 1)) == [1, 4, 7]
    assert Dataset.range(10).shard(3, 1).cardinality() == 3
    with pytest.raises(ValueError, match="index"):
        Dataset.range(4).shard(2, 2)
    sequences = Dataset.from_generator(lambda: iter([np.arange(1, n + 1) for n in (2, 4, 1)]))
    batch = next(sequences.padded_batch(3).as_numpy_iterator())
    assert batch.tolist() == [[1, 2, 0, 0], [1, 2, 3, 4], [1, 0, 0, 0]]
    pairs = Dataset.zip((sequences, Dataset.range(3)))
    batch = next(pairs.padded_batch(2, padded_shapes=([5], []),
                                    padding_values=(-1, 0)).as_numpy_iterator())
    assert batch[0].tolist() == [[1, 2, -1, -1, -1], [1, 2, 3, 4, -1]]
    assert batch[1].tolist() == [0, 1]
    total = Dataset.range(5).reduce(np.int64(0), lambda state, v: state + v)
    assert int(total) == 10


def test_infinite_datasets_need_their_steps_argument():
    x, y = _arrays()
    model = _model()
    forever = Dataset.from_tensor_slices((x, y)).batch(8).repeat()
    with pytest.raises(ValueError, match="validation_steps"):
        model.fit(forever.take(2), validation_data=forever, verbose=0)
    with pytest.raises(ValueError, match="`steps`"):
        model.evaluate(forever, verbose=0)
    assert model.predict(forever, steps=2, verbose=0).shape == (16, 3)
    history = model.fit(forever.take(2), validation_data=forever, validation_steps=1,
                        verbose=0)
    assert "val_loss" in history.history


def test_an_exhausted_generator_stops_training_with_a_warning():
    x, y = _arrays()
    model = _model()
    batches = ((x[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10))
    with pytest.warns(UserWarning, match="ran out of data at epoch 2"):
        history = model.fit(batches, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1


# ----- user functions record no graph, and leave the caller's recording alone -----


def _mapped(x, y):
    """The same batches through map, filter and flat_map (each runs a user function)."""
    return (Dataset.from_tensor_slices((x, y)).batch(8)
            .map(lambda a, b: (a * 2.0 + 1.0, b))
            .filter(lambda a, b: ops.sum(a) > -1e9)
            .flat_map(lambda a, b: Dataset.from_tensors((a, b))))


@pytest.mark.parametrize("transform", [
    lambda ds: ds.map(lambda v: v * 2),
    lambda ds: ds.filter(lambda v: v >= 0),
    lambda ds: ds.flat_map(lambda v: Dataset.from_tensors(v).repeat(2)),
], ids=["map", "filter", "flat_map"])
def test_a_pass_left_partway_keeps_the_callers_graph_recording(transform):
    ds = transform(Dataset.range(6).map(lambda v: v + 1))
    for reader in (iter, lambda d: d.as_numpy_iterator()):
        elements = reader(ds)
        next(elements)  # the pipeline's generators are paused here, as during a fit step
        assert is_grad_enabled()
        next(elements)
        assert is_grad_enabled()
    for _ in ds:
        assert is_grad_enabled()
    seen = []
    transform(Dataset.range(3).map(lambda v: seen.append(is_grad_enabled()) or v))
    assert not any(seen)  # the user's function itself runs without recording


def test_fit_on_a_mapped_filtered_flat_mapped_dataset_equals_fit_on_the_arrays():
    x, y = _arrays()
    expected = _model()
    initial = [w.copy() for w in expected.get_weights()]
    expected.fit(x * 2.0 + 1.0, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model = _model()
    model.fit(_mapped(x, y), epochs=2, verbose=0)
    for got, want, before in zip(model.get_weights(), expected.get_weights(), initial):
        assert not np.array_equal(got, before)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_a_gradient_tape_loop_over_a_mapped_dataset_gets_gradients():
    x, y = _arrays(16)
    w = Variable(np.ones((4, 1), np.float32))
    for a, b in _mapped(x, y):
        with GradientTape() as tape:
            loss = ops.sum(ops.matmul(a, w))
        grad = tape.gradient(loss, w)
        assert grad is not None
        np.testing.assert_allclose(grad.data, a.numpy().sum(axis=0)[:, None], rtol=1e-6)


@pytest.mark.parametrize("source", [
    lambda: Dataset.range(8),                          # indices shuffled (_SliceDataset)
    lambda: Dataset.range(8).map(lambda v: v),         # elements shuffled (buffer)
], ids=["slices", "elements"])
def test_element_spec_does_not_change_the_seeded_order(source):
    """TF fixes the first pass's order by the seed; looking at an element is not a pass."""
    plain = source().shuffle(8, seed=1)
    passes = [_numbers(plain), _numbers(plain)]
    peeked = source().shuffle(8, seed=1)
    assert peeked.element_spec == ((), np.dtype("int64"))
    assert peeked.batch(3).element_spec == ((3,), np.dtype("int64"))
    assert [_numbers(peeked), _numbers(peeked)] == passes


def test_batch_and_padded_batch_count_the_same_way():
    for count, size, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, True)]:
        ds = Dataset.range(count)
        batched, padded = ds.batch(size, drop), ds.padded_batch(size, drop_remainder=drop)
        generic = ds.map(lambda v: v).batch(size, drop)
        lengths = [len(_numbers(d)) for d in (batched, padded, generic)]
        assert [d.cardinality() for d in (batched, padded, generic)] == lengths
        assert len(set(lengths)) == 1
    for ds in (Dataset.range(3).repeat(), Dataset.range(3).filter(lambda v: v > 0)):
        assert ds.batch(2).cardinality() == ds.padded_batch(2).cardinality() == \
            ds.cardinality()
