"""GroupNormalization: values against the NumPy formula and Keras 3 (fixtures captured by
tests/fixtures/depthwise_separable/make_fixtures.py into tests/fixtures/group_norm), weights,
serialized config, gradients, errors and saving."""

import json
import pathlib

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import check_grads
from numkeras.layers import GroupNormalization
from numkeras.saving.serialization import layer_from_entry, serialize_layer

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "group_norm"
CASES = json.loads((FIXTURES / "cases.json").read_text())
ARRAYS = dict(np.load(FIXTURES / "cases.npz"))


def reference(x, groups, axis, gamma=None, beta=None, epsilon=1e-3):
    """Wu & He's formula: statistics per sample and group over everything else."""
    x = np.moveaxis(x, axis, -1)
    shape = x.shape
    grouped = x.reshape(shape[0], -1, groups, shape[-1] // groups)
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    var = grouped.var(axis=(1, 3), keepdims=True)
    out = ((grouped - mean) / np.sqrt(var + epsilon)).reshape(shape)
    out = out * (1 if gamma is None else gamma) + (0 if beta is None else beta)
    return np.moveaxis(out, -1, axis)


def _without_axes(value):
    if isinstance(value, dict):
        return {k: _without_axes(v) for k, v in value.items()
                if k not in ("input_axes", "output_axes")}
    return value


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_equal_keras_with_the_same_weights(name):
    x = ARRAYS[f"{name}/x"]
    layer = layer_from_entry(CASES[name]["entry"])
    layer.build_from_shape(x.shape)
    assert [w.name for w in layer.weights] == CASES[name]["weights"]
    layer.set_weights([ARRAYS[f"{name}/w{i}"] for i in range(len(layer.weights))])
    out = layer(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ARRAYS[f"{name}/y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_serialized_layer_equals_keras(name):
    layer = layer_from_entry(CASES[name]["entry"])
    layer.build_from_shape(ARRAYS[f"{name}/x"].shape)
    ours = json.loads(json.dumps(serialize_layer(layer)))
    assert _without_axes(ours) == _without_axes(CASES[name]["entry"])


@pytest.mark.parametrize("shape,groups,axis", [((4, 6), 3, -1), ((2, 5, 4, 6), 2, -1),
                                               ((2, 6, 5), 3, 1), ((3, 4, 8), 8, -1)])
def test_values_match_the_formula(shape, groups, axis, rng):
    x = rng.standard_normal(shape) * 3 + 1
    layer = GroupNormalization(groups, axis=axis, dtype="float64")
    layer.build_from_shape(shape)
    gamma, beta = (rng.standard_normal(shape[axis]) for _ in range(2))
    layer.set_weights([gamma, beta])
    want = reference(x, groups, axis, gamma, beta)
    np.testing.assert_allclose(layer(x).data, want, rtol=1e-10, atol=1e-12)


def test_instance_normalization_and_config_after_build():
    layer = GroupNormalization(groups=-1)
    layer(np.ones((2, 3, 5), np.float32))
    assert layer.get_config()["groups"] == 5  # Keras too: -1 becomes the channel count


def test_gradients(rng):
    x = rng.standard_normal((2, 3, 6))
    layer = GroupNormalization(3, dtype="float64")
    layer.build_from_shape(x.shape)
    layer.set_weights([rng.standard_normal(6), rng.standard_normal(6)])
    assert check_grads(lambda t: layer(t), x)
    out = layer(x)
    out.backward(rng.standard_normal(out.shape))
    assert all(np.abs(w.grad).sum() > 0 for w in layer.weights)


@pytest.mark.parametrize("make,shape,message", [
    (lambda: GroupNormalization(4), (2, 6), "must divide the 6 channels"),
    (lambda: GroupNormalization(8), (2, 6), "must divide the 6 channels"),
    (lambda: GroupNormalization(2, axis=3), (2, 6), "out of bounds"),
])
def test_bad_shapes(make, shape, message):
    layer = make()
    with pytest.raises(ValueError, match=message) as error:
        layer(np.zeros(shape, np.float32))
    assert layer.name in str(error.value) and str(shape) in str(error.value)


@pytest.mark.parametrize("groups", [0, -2, 1.5, True])
def test_bad_groups(groups):
    with pytest.raises(ValueError, match="groups"):
        GroupNormalization(groups)


def test_saves_and_loads(tmp_path, rng):
    model = keras.Sequential([keras.Input((5, 4)), GroupNormalization(2), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.set_weights([rng.standard_normal(w.shape) for w in model.weights])
    x = rng.standard_normal((3, 5, 4)).astype("float32")
    model.save(tmp_path / "gn.keras")
    loaded = keras.models.load_model(tmp_path / "gn.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_a_time_step_mask_passes_through(rng):
    tokens = rng.integers(1, 9, (3, 5))
    tokens[0, 2:] = 0
    inputs = keras.Input((5,), dtype="int32")
    embedded = keras.layers.Embedding(9, 4, mask_zero=True)(inputs)
    normed = GroupNormalization(2)(embedded)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(normed))
    values = keras.Model(inputs, normed)(tokens).data
    keep = (tokens != 0)[..., None]
    np.testing.assert_allclose(model(tokens).data,
                               (values * keep).sum(axis=1) / keep.sum(axis=1), rtol=1e-5)


def test_docstring_example_runs():
    import doctest

    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(GroupNormalization):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
