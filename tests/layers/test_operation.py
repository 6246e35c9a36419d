"""keras.ops and tensor operators on symbolic tensors record operation nodes (Keras 3's
functional graphs): they run, train, save and load as Keras 3 writes them."""

import json

import numpy as np
import pytest

import numkeras as keras
from numkeras import ops
from numkeras.utils.symbolic import SymbolicInputError


def sample(shape=(2, 4, 3), seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def operator_model():
    inp = keras.Input((4, 3))
    outputs = [inp[..., 0], inp[:, None, 1:3:2], ops.sum(inp, axis=1, keepdims=True),
               1.0 - inp, ops.transpose(inp, (0, 2, 1)), ops.relu(inp), -inp, inp ** 2,
               ops.concatenate([inp, 2 * inp], axis=-1), ops.where(inp > 0.5, inp, 0.0),
               np.float32(3) * inp / 4, inp @ np.ones((3, 2), np.float32), abs(inp - 0.5)]
    return keras.Model(inp, outputs)


def expected(x):
    return [x[..., 0], x[:, None, 1:3:2], x.sum(1, keepdims=True), 1 - x, x.transpose(0, 2, 1),
            np.maximum(x, 0), -x, x ** 2, np.concatenate([x, 2 * x], -1),
            np.where(x > 0.5, x, 0), 3 * x / 4, x @ np.ones((3, 2)), np.abs(x - 0.5)]


def assert_outputs(model, x):
    for got, want in zip(model.predict(x, verbose=0), expected(x)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_operators_and_ops_record_nodes_with_keras_class_names_and_shapes():
    model = operator_model()
    names = [type(layer).__name__ for layer in model.layers[1:]]
    assert names.count("GetItem") == 2
    assert {"Sum", "Subtract", "Transpose", "Relu", "Negative", "Power", "Concatenate",
            "Greater", "Where", "Multiply", "TrueDivide", "Matmul", "Absolute"} <= set(names)
    shapes = [tuple(t.shape) for t in model.outputs]
    assert shapes[:5] == [(None, 4), (None, 1, 1, 3), (None, 1, 3), (None, 4, 3), (None, 3, 4)]
    assert model.count_params() == 0
    assert_outputs(model, sample())


def test_config_and_archive_round_trip_as_keras_3_writes_them(tmp_path):
    model = operator_model()
    config = model.get_config()
    by_class = {entry["class_name"]: entry for entry in config["layers"]}
    assert by_class["Sum"]["module"] == "keras.src.ops.numpy"
    assert by_class["Sum"]["config"] == {"name": "sum", "axis": 1, "keepdims": True}
    assert by_class["Relu"]["module"] == "keras.src.ops.nn"
    subtract_args = by_class["Subtract"]["inbound_nodes"][0]["args"]
    assert subtract_args[0] == 1.0 and subtract_args[1]["class_name"] == "__keras_tensor__"
    key = next(e for e in config["layers"] if e["name"] == "get_item")["inbound_nodes"][0][
        "args"][1]
    assert key == [{"class_name": "__ellipsis__", "config": {}}, 0]
    assert_outputs(keras.Model.from_config(json.loads(json.dumps(config))), sample())
    model.save(tmp_path / "ops.keras")
    assert_outputs(keras.models.load_model(tmp_path / "ops.keras"), sample(seed=1))


def test_a_model_with_operator_nodes_trains():
    keras.utils.set_random_seed(0)
    inp = keras.Input((4,))
    hidden = keras.layers.Dense(4, activation="tanh")(inp)
    out = keras.layers.Dense(1)(hidden * 0.5 + inp)  # a residual connection by operators
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = sample((64, 4))
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


def test_operation_nodes_inside_a_nested_model_and_a_clone():
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, ops.exp(inner_in) - 1.0, name="inner")
    outer_in = keras.Input((3,))
    outer = keras.Model(outer_in, inner(outer_in) * 2.0)
    x = sample((5, 3))
    np.testing.assert_allclose(outer.predict(x, verbose=0), 2 * (np.exp(x) - 1), rtol=1e-6)
    clone = keras.models.clone_model(outer)
    np.testing.assert_allclose(clone.predict(x, verbose=0), 2 * (np.exp(x) - 1), rtol=1e-6)


def test_symbolic_tensors_refuse_values_with_a_clear_error():
    inp = keras.Input((3,))
    with pytest.raises(SymbolicInputError, match="symbolic .* no values"):
        np.asarray(inp)
    with pytest.raises(ValueError, match=r"keras.ops.matmul \('matmul.*'\) cannot be applied "
                       r"to arguments \[KerasTensor\(None, 3\), array\(4, 2\)\]"):
        ops.matmul(inp, np.ones((4, 2), np.float32))
    with pytest.raises(TypeError, match="cannot be used as a Python bool"):
        bool(inp > 0)


def test_opening_keras_3_files_with_operations(tmp_path):
    keras_module = pytest.importorskip("keras")
    inp = keras_module.Input((4, 3))
    model = keras_module.Model(inp, [inp[:, 1:, 0] * 2.0, keras_module.ops.mean(inp, axis=-1)])
    model.save(tmp_path / "k3.keras")
    restored = keras.models.load_model(tmp_path / "k3.keras")
    x = sample()
    for got, want in zip(restored.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_ops_with_leading_options_singular_stand_ins_and_logical_operators():
    """einsum's subscripts come before its operands; inv and cholesky cannot run on zeros;
    log of zeros warns; %, &, |, ^ and their reflected forms (review findings)."""
    import warnings

    x, w = keras.Input((3, 3)), keras.Input((3,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = [ops.einsum("bij,bj->bi", x, w), ops.inv(x + 3.0), ops.log(w + 1.0),
                   2.0 % (w + 1.0), (w > 0.5) & (w < 0.9), (w > 0.5) | (w < 0.1),
                   (w > 0.5) ^ (w < 0.9)]
    model = keras.Model([x, w], outputs)
    assert [tuple(t.shape) for t in model.outputs][:2] == [(None, 3), (None, 3, 3)]
    a, b = sample((2, 3, 3)), sample((2, 3), seed=1)
    got = model.predict([a, b], verbose=0)
    want = [np.einsum("bij,bj->bi", a, b), np.linalg.inv(a + 3.0), np.log(b + 1.0),
            2.0 % (b + 1.0), (b > 0.5) & (b < 0.9), (b > 0.5) | (b < 0.1),
            (b > 0.5) ^ (b < 0.9)]
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    einsum = next(layer for layer in model.layers if type(layer).__name__ == "Einsum")
    assert einsum.get_config() == {"name": einsum.name, "subscripts": "bij,bj->bi"}
    restored = keras.Model.from_config(json.loads(json.dumps(model.get_config())))
    np.testing.assert_allclose(restored.predict([a, b], verbose=0)[0], want[0], rtol=1e-5)
