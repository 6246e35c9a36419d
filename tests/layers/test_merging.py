"""Merge layers: values against NumPy, shapes, gradients, config, errors, function forms."""

import doctest
import json

import numpy as np
import pytest

from numkeras import layers
from numkeras.backprop import Tensor, check_grads
from numkeras.layers import merging
from numkeras.layers.merging import (
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
)

ELEMENTWISE = [
    (Add, lambda xs: np.sum(xs, axis=0)),
    (Multiply, lambda xs: np.prod(xs, axis=0)),
    (Average, lambda xs: np.mean(xs, axis=0)),
    (Maximum, lambda xs: np.max(xs, axis=0)),
    (Minimum, lambda xs: np.min(xs, axis=0)),
]


def distinct(rng, *shape):
    """Values without ties (max/min are differentiable there), spaced well beyond eps."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size / 2) * 0.1


# ----- elementwise layers -----


@pytest.mark.parametrize("cls,reference", ELEMENTWISE)
@pytest.mark.parametrize("count", [1, 2, 3])
def test_elementwise_values_and_shapes(cls, reference, count, rng):
    xs = [rng.standard_normal((4, 3, 2)).astype(np.float32) for _ in range(count)]
    layer = cls()
    out = layer(xs)
    assert out.dtype == np.float32 and out.shape == (4, 3, 2)
    np.testing.assert_allclose(out.numpy(), reference(np.stack(xs)), rtol=1e-6)
    assert layer.compute_output_shape([x.shape for x in xs]) == (4, 3, 2)


def test_subtract_values():
    a, b = np.array([[5.0, 1.0]]), np.array([[2.0, 3.0]])
    np.testing.assert_array_equal(Subtract()([a, b]).numpy(), a - b)


def test_build_and_call_directly_take_lists():
    layer = Add()
    layer.build([(None, 3), (None, 3)])
    assert layer.built
    out = layer.call([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3)))])
    np.testing.assert_array_equal(out.numpy(), np.full((2, 3), 2.0))


@pytest.mark.parametrize("cls,reference", ELEMENTWISE + [(Subtract, lambda xs: xs[0] - xs[1])])
def test_elementwise_gradients(cls, reference, rng):
    layer = cls(dtype="float64")
    a, b = distinct(rng, 3, 4), distinct(rng, 3, 4) + 0.05
    assert check_grads(lambda x, y: layer([x, y]), a, b)


@pytest.mark.parametrize("cls", [Add, Multiply, Average, Maximum, Minimum])
def test_three_input_gradients(cls, rng):
    layer = cls(dtype="float64")
    xs = [distinct(rng, 2, 3) + 0.03 * i for i in range(3)]
    assert check_grads(lambda x, y, z: layer([x, y, z]), *xs)


def test_broadcast_of_size_one_axes_and_lower_rank(rng):
    # (b, 3) is expanded to (b, 1, 3), as Keras inserts axes after the batch axis.
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 4, 3))
    layer = Add()
    out = layer([a, b])
    np.testing.assert_allclose(out.numpy(), a[:, None, :] + b, rtol=1e-6)
    assert layer.compute_output_shape([(None, 3), (None, 4, 3)]) == (None, 4, 3)
    assert Multiply().compute_output_shape([(None, 1, 5), (None, 4, 1)]) == (None, 4, 5)
    assert check_grads(lambda x, y: Multiply(dtype="float64")([x, y]),
                       rng.standard_normal((2, 1, 3)), rng.standard_normal((2, 4, 3)))


def test_batch_and_unknown_dimensions_in_output_shape():
    assert Add().compute_output_shape([(None, 3), (5, 3)]) == (5, 3)
    assert Add().compute_output_shape([(None, None, 3), (None, 4, 3)]) == (None, None, 3)


@pytest.mark.parametrize("shapes,pattern", [
    ([(2, 3), (2, 4)], r"incompatible shapes in Add 'add'.*\[\(2, 3\), \(2, 4\)\]"),
    ([(2, 3), (5, 3)], r"different batch sizes.*\[\(2, 3\), \(5, 3\)\]"),
    ([(None, 4), (None, 4, 3)], r"incompatible shapes"),
    ((2, 3), r"list of inputs.*input_shape=\(2, 3\)"),
    ([], r"at least 1 input"),
])
def test_bad_shapes_are_refused_at_build(shapes, pattern):
    with pytest.raises(ValueError, match=pattern):
        Add().build(shapes)


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match=r"`Subtract` layer \('subtract'\).*exactly 2"):
        Subtract()([np.ones((1, 2))] * 3)


def test_a_single_array_is_refused():
    with pytest.raises(ValueError, match="list of inputs"):
        Add()(np.ones((2, 3)))


def test_a_later_call_with_mismatched_shapes_names_the_layer():
    layer = Maximum()
    layer([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="incompatible shapes in Maximum 'maximum'"):
        layer([np.ones((2, 3)), np.ones((2, 4))])


# ----- Concatenate -----


@pytest.mark.parametrize("axis", [-1, 1, 2, -2])
def test_concatenate_values_and_shapes(axis, rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    layer = Concatenate(axis=axis)
    out = layer([a, b])
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a, b], axis=axis).astype(np.float32))
    assert layer.compute_output_shape([a.shape, b.shape]) == out.shape


def test_concatenate_output_shape_with_unknown_sizes():
    layer = Concatenate(axis=1)
    assert layer.compute_output_shape([(None, 2, 5), (None, 1, 5)]) == (None, 3, 5)
    assert layer.compute_output_shape([(None, None, 5), (None, 1, 5)]) == (None, None, 5)
    assert Concatenate().compute_output_shape([(None, None, 2), (None, 4, 3)]) == (None, None, 5)


def test_concatenate_gradient(rng):
    layer = Concatenate(axis=1, dtype="float64")
    assert check_grads(lambda x, y, z: layer([x, y, z]), rng.standard_normal((2, 2, 3)),
                       rng.standard_normal((2, 1, 3)), rng.standard_normal((2, 4, 3)))


@pytest.mark.parametrize("shapes", [
    [(None, 3, 4), (None, 2, 5)],
    [(None, 3), (None, 3, 1)],
    [(4, 3), (5, 3)],
])
def test_concatenate_refuses_mismatched_shapes(shapes):
    with pytest.raises(ValueError, match=r"`Concatenate` layer \('concatenate'\) requires "
                                         r"inputs with matching shapes except"):
        Concatenate().build(shapes)


def test_concatenate_config_round_trip():
    layer = Concatenate(axis=1, name="cat")
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "axis"} and config["axis"] == 1
    assert Concatenate.from_config(config).get_config() == config


# ----- Dot -----


def reference_dot(x, y, ax, ay):
    out = np.stack([np.tensordot(a, b, axes=(ax - 1, ay - 1)) for a, b in zip(x, y)])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


@pytest.mark.parametrize("shape_x,shape_y,axes,expected", [
    ((4, 5), (4, 5), 1, (4, 1)),
    ((4, 5), (4, 5), -1, (4, 1)),
    ((2, 5, 3), (2, 3, 5), (1, 2), (2, 3, 3)),
    ((2, 3, 5), (2, 5), (2, 1), (2, 3)),
    ((2, 5), (2, 3, 5), (1, 2), (2, 3)),
    ((2, 3, 4, 5), (2, 5, 6), (3, 1), (2, 3, 4, 6)),
    ((2, 3, 4, 5), (2, 6, 4, 7), 2, (2, 3, 5, 6, 7)),
])
def test_dot_values_and_shapes(shape_x, shape_y, axes, expected, rng):
    x, y = rng.standard_normal(shape_x), rng.standard_normal(shape_y)
    layer = Dot(axes=axes, dtype="float64")
    out = layer([x, y])
    ax, ay = (axes, axes) if isinstance(axes, int) else axes
    ax, ay = ax % len(shape_x), ay % len(shape_y)
    assert out.shape == expected
    assert layer.compute_output_shape([(None,) + shape_x[1:], (None,) + shape_y[1:]]) == \
        (None,) + expected[1:]
    np.testing.assert_allclose(out.numpy(), reference_dot(x, y, ax, ay), rtol=1e-10)
    assert check_grads(lambda a, b: layer([a, b]), x, y)


def test_dot_normalize_gives_cosine_similarity(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    layer = Dot(axes=1, normalize=True, dtype="float64")
    cosine = np.sum(x * y, axis=1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(layer([x, y]).numpy(), cosine[:, None], rtol=1e-10)
    assert check_grads(lambda a, b: layer([a, b]), x, y)


def test_dot_normalize_along_a_middle_axis_and_zero_vectors(rng):
    x, y = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 5))
    layer = Dot(axes=1, normalize=True, dtype="float64")
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    np.testing.assert_allclose(layer([x, y]).numpy(), np.einsum("bki,bkj->bij", xn, yn),
                               rtol=1e-10)
    assert check_grads(lambda a, b: layer([a, b]), x, y)
    # A zero vector stays zero (x / max(|x|, 1e-7)), without NaN.
    zero = Dot(axes=1, normalize=True)([np.zeros((1, 3)), np.ones((1, 3))])
    np.testing.assert_array_equal(zero.numpy(), [[0.0]])


@pytest.mark.parametrize("shapes,axes,pattern", [
    ([(None, 3), (None, 4)], 1, r"Dot 'dot'.*axis values 3 \(at axis 1\) != 4 \(at axis 1\)"),
    ([(None, 3), (None, 3)], 0, r"batch_dot over axis 0"),
    ([(None, 3), (None, 3)], (1, 3), r"axis 3 is out of range"),
    ([(None, 3)], 1, r"exactly 2 inputs"),
    ([(None, 3)] * 3, 1, r"exactly 2 inputs"),
    ([(None,), (None, 3)], 1, r"rank < 2"),
    ([(2, 3), (4, 3)], 1, r"different batch sizes"),
])
def test_dot_refuses_bad_shapes(shapes, axes, pattern):
    with pytest.raises(ValueError, match=pattern):
        Dot(axes=axes).build(shapes)


@pytest.mark.parametrize("axes,error", [
    ("1", TypeError), ((1, 2, 3), ValueError), ((1.0, 2), ValueError),
])
def test_dot_refuses_bad_axes(axes, error):
    with pytest.raises(error, match="axes"):
        Dot(axes=axes)


def test_dot_config_round_trip():
    layer = Dot(axes=(1, 2), normalize=True)
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "axes", "normalize"}
    assert config["axes"] == [1, 2] and config["normalize"] is True
    assert Dot.from_config(config).get_config() == config
    assert Dot(axes=-1).get_config()["axes"] == -1


# ----- config, names, registry, function forms -----


@pytest.mark.parametrize("cls", [Add, Subtract, Multiply, Average, Maximum, Minimum])
def test_elementwise_config_round_trip(cls):
    layer = cls(name="merge_me")
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype"}
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == config


def test_default_names_and_registry():
    names = [cls().name for cls in (Add, Subtract, Multiply, Average, Maximum, Minimum,
                                    Concatenate)] + [Dot(1).name]
    assert names == ["add", "subtract", "multiply", "average", "maximum", "minimum",
                     "concatenate", "dot"]
    built = layers.Concatenate(axis=1)
    built.build_from_shape([(None, 2), (None, 3)])
    entry = json.loads(json.dumps(layers.serialize(built)))
    assert entry["build_config"] == {"input_shape": [[None, 2], [None, 3]]}
    clone = layers.deserialize(entry)
    assert type(clone) is Concatenate and clone.built and clone.axis == 1


@pytest.mark.parametrize("function,cls,options", [
    (layers.add, Add, {}), (layers.subtract, Subtract, {}), (layers.multiply, Multiply, {}),
    (layers.average, Average, {}), (layers.maximum, Maximum, {}), (layers.minimum, Minimum, {}),
    (layers.concatenate, Concatenate, {"axis": 1}), (layers.dot, Dot, {"axes": 1}),
])
def test_function_forms_match_the_layers(function, cls, options, rng):
    xs = [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))]
    np.testing.assert_array_equal(function(xs, **options).numpy(), cls(**options)(xs).numpy())
    named = function([layers.Input((3,)), layers.Input((3,))], name="named", **options)
    assert named._keras_history[0].name == "named" and type(named._keras_history[0]) is cls


def test_dot_function_defaults_to_the_last_axis_and_passes_normalize(rng):
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(layers.dot([x, y]).numpy(), np.sum(x * y, axis=1, keepdims=True),
                               rtol=1e-5)
    assert np.all(np.abs(layers.dot([x, y], normalize=True).numpy()) <= 1 + 1e-6)


def test_symbolic_inputs_use_compute_output_shape():
    a, b = layers.Input((4, 3)), layers.Input((3,))
    assert layers.add([a, b]).shape == (None, 4, 3)
    assert layers.concatenate([a, layers.Input((4, 2))]).shape == (None, 4, 5)
    assert layers.dot([a, layers.Input((4, 7))], axes=1).shape == (None, 3, 7)
    with pytest.raises(ValueError, match="incompatible"):
        layers.add([layers.Input((3,)), layers.Input((4,))])


def test_docstring_examples():
    assert doctest.testmod(merging).failed == 0


def test_matches_keras_if_installed(rng):
    keras = pytest.importorskip("keras")
    x, y = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 5))
    for ours, theirs in [(Dot(axes=1, normalize=True), keras.layers.Dot(axes=1, normalize=True)),
                         (Concatenate(), keras.layers.Concatenate())]:
        inputs = [x, y] if isinstance(ours, Dot) else [x, x]
        np.testing.assert_allclose(ours(inputs).numpy(),
                                   keras.ops.convert_to_numpy(theirs(inputs)), rtol=1e-5)
