"""numkeras.ops against Keras 3 (JAX) outputs, stored and live, and against NumPy.

``tests/fixtures/ops/keras_ops.npz`` holds keras.ops's results for every case of
``tests/ops/cases.py`` (made by ``tests/fixtures/ops/capture_keras_ops.py``), so this runs
without Keras; with Keras installed the same comparison runs live as well.
"""

import doctest
import importlib
import json
import pathlib

import numpy as np
import pytest

import numkeras
from numkeras import ops
from numkeras.backprop import Tensor, Variable
from tests.ops.cases import CASES, resolve

FIXTURE = pathlib.Path(__file__).parents[1] / "fixtures" / "ops" / "keras_ops.npz"
STORED = np.load(FIXTURE)
KEYS = [key for key, *_ in CASES]


def flatten(result):
    if isinstance(result, (tuple, list)):
        return [a for item in result for a in flatten(item)]
    if isinstance(result, Tensor):
        return [result.data]
    assert not hasattr(result, "shape") or isinstance(result, np.generic), type(result)
    return [np.asarray(result)]


def run(key):
    _, name, args, kwargs = CASES[KEYS.index(key)]
    return flatten(resolve(ops, name)(*args, **kwargs))


def assert_same(ours, theirs, key):
    assert len(ours) == len(theirs), f"{key}: {len(ours)} outputs, Keras {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        where = f"{key} output {i}"
        assert a.shape == b.shape, f"{where}: shape {a.shape}, Keras {b.shape}"
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype}, Keras {b.dtype}"
        if a.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b, err_msg=where)
        else:
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-5,
                                       atol=1e-5, equal_nan=True, err_msg=where)


def test_fixture_covers_every_case():
    assert json.loads(str(STORED["__refused__"])) == {}
    stored = {k.split("/")[0] for k in STORED.files if not k.startswith("__")}
    assert stored == set(KEYS), "re-run tests/fixtures/ops/capture_keras_ops.py"


@pytest.mark.parametrize("key", KEYS)
def test_matches_stored_keras_output(key):
    count = int(STORED[f"{key}/n"])
    assert_same(run(key), [STORED[f"{key}/{i}"] for i in range(count)], key)


def test_matches_live_keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("reference outputs are Keras's on the JAX backend")
    from tests.fixtures.ops.capture_keras_ops import flatten as keras_flatten

    for key, name, args, kwargs in CASES:
        assert_same(run(key), keras_flatten(resolve(keras.ops, name)(*args, **kwargs)), key)


def test_two_hundred_keras_names_are_covered_by_cases():
    assert len(ops.__all__) >= 200
    untested = set(ops.__all__) - {name for _, name, *_ in CASES} - HIGHER_ORDER - RANDOM_FREE
    untested -= KERAS_DIFFERS
    assert not untested, f"ops without a value case: {sorted(untested)}"


def test_every_image_op_has_a_value_case():
    assert {name.removeprefix("image.") for _, name, *_ in CASES
            if name.startswith("image.")} == set(ops.image.__all__)


# Ops taking Python functions (not storable as fixtures) are checked below by hand;
# creation ops with unspecified contents likewise.
HIGHER_ORDER = {"cond", "switch", "fori_loop", "while_loop", "map", "scan", "vectorized_map",
                "associative_scan", "custom_gradient", "vectorize"}
# Keras 3.15's JAX sparsemax sums every cumulative sum inside the support to find its threshold
# (rows with a support of 2 or more come out wrong, even all zeros), so ours is checked against
# the formula of Martins and Astudillo (2016) instead: test_sparsemax_matches_its_definition.
KERAS_DIFFERS = {"sparsemax"}
RANDOM_FREE = {"empty", "empty_like", "dtype", "is_tensor", "convert_to_numpy",
               "argpartition", "segment_min", "qr", "svd", "eigh", "eig", "lstsq", "lu_factor"}


# ----- against NumPy -----

A = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
SAME_AS_NUMPY = [
    ("exp", (A,)), ("sin", (A,)), ("arctan2", (A, A.T[:3, :3].sum() + A)),
    ("cumsum", (A,), {"axis": 0}), ("cumprod", (A,), {"axis": 1}), ("prod", (A,), {"axis": 0}),
    ("sort", (A,), {"axis": 0}), ("take", (A, np.array([1, 1, 0])), {"axis": 0}),
    ("tile", (A, (2, 1))), ("repeat", (A, 2), {"axis": 1}), ("roll", (A, 3)),
    ("kron", (A[:2, :2], A)), ("tensordot", (A, A.T), {"axes": 1}),
    ("einsum", ("ij,kj->ik", A, A)), ("quantile", (A, 0.7), {"axis": 1}),
    ("diff", (A,), {"n": 2}), ("trace", (A,), {"offset": 1}), ("diag", (A[0],), {"k": 2}),
    ("pad", (A, ((0, 1), (2, 2))), {"mode": "reflect"}), ("vander", (A[0],)),
    ("cross", (A[:, :3], A[:, 1:])), ("median", (A,), {"axis": 0}), ("std", (A,)),
]


@pytest.mark.parametrize("case", SAME_AS_NUMPY, ids=[c[0] for c in SAME_AS_NUMPY])
def test_matches_numpy(case):
    name, args, kwargs = case if len(case) == 3 else (*case, {})
    ours = getattr(ops, name)(*args, **kwargs)
    expected = getattr(np, name)(*args, **kwargs)
    np.testing.assert_allclose(ours.data, expected, rtol=1e-5, atol=1e-6)


def test_linalg_matches_numpy():
    m = A[:, :3] + 3 * np.eye(3, dtype=np.float32)
    np.testing.assert_allclose(ops.inv(m).data, np.linalg.inv(m), rtol=1e-5)
    np.testing.assert_allclose(ops.det(m).data, np.linalg.det(m), rtol=1e-5)
    q, r = ops.qr(m)
    np.testing.assert_allclose((q.data @ r.data), m, atol=1e-5)
    u, s, vh = ops.svd(m)
    np.testing.assert_allclose(u.data @ np.diag(s.data) @ vh.data, m, atol=1e-5)
    lu, pivots = ops.lu_factor(m)
    lower = np.tril(lu.data, -1) + np.eye(3)
    upper = np.triu(lu.data)
    permuted = m.copy()
    for k, p in enumerate(pivots.data):
        permuted[[k, p]] = permuted[[p, k]]
    np.testing.assert_allclose(lower @ upper, permuted, atol=1e-5)


def test_sparsemax_matches_its_definition():
    z = np.random.default_rng(3).standard_normal((5, 6)) * 0.5
    ordered = -np.sort(-z, axis=1)
    k = np.arange(1, 7)
    support = 1 + k * ordered > np.cumsum(ordered, axis=1)
    size = support.sum(axis=1, keepdims=True)
    tau = (np.take_along_axis(np.cumsum(ordered, axis=1), size - 1, axis=1) - 1) / size
    expected = np.maximum(z - tau, 0)
    out = ops.sparsemax(z.astype(np.float32)).data
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert (size > 1).any()  # the case Keras gets wrong is exercised


# ----- inputs, outputs and dtypes -----


def test_every_op_accepts_tensors_variables_and_arrays():
    x = np.array([[0.5, -1.5], [2.0, 0.25]], np.float32)
    for value in (x, Tensor(x), Variable(x), x.tolist()):
        out = ops.add(ops.matmul(value, value), ops.exp(value))
        assert isinstance(out, Tensor) and out.dtype == np.float32


def test_gradients_flow_from_variables_through_ops():
    w = Variable(np.array([1.0, 2.0, 3.0], np.float32))
    loss = ops.sum(ops.square(ops.sin(w)) * ops.cumsum(w))
    loss.backward()
    assert w.grad is not None and w.grad.shape == (3,)


def test_python_scalar_promotion_is_kerass():
    ints = ops.arange(3)
    assert ops.add(ints, 1).dtype == np.int32
    assert ops.add(ints, 1.5).dtype == np.float32
    assert ops.multiply(np.float64(2.0) * np.ones(2), 3).dtype == np.float64
    assert ops.add(np.ones(2, np.float16), 1.0).dtype == np.float16


def test_pool_strides_default_to_pool_size():
    x = np.random.default_rng(1).standard_normal((1, 4, 6, 2)).astype(np.float32)
    np.testing.assert_array_equal(ops.max_pool(x, 2).data, ops.max_pool(x, 2, strides=2).data)
    np.testing.assert_array_equal(ops.average_pool(x, (2, 3)).data,
                                  ops.average_pool(x, (2, 3), strides=(2, 3)).data)


# ----- control flow -----


def test_control_flow_ops():
    assert ops.cond(ops.convert_to_tensor(False), lambda: "a", lambda: "b") == "b"
    assert ops.switch(0, [lambda x: x * 2, lambda x: x], 3) == 6
    assert ops.fori_loop(1, 4, lambda i, v: v * i, 1) == 6
    assert ops.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + i), (0, 0)) == (3, 3)
    assert ops.while_loop(lambda i: True, lambda i: i + 1, 0, maximum_iterations=4) == 4
    doubled = ops.map(lambda row: ops.sum(row), np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(doubled.data, [1, 5, 9])
    pairs = ops.vectorized_map(lambda row: (row[0], row[1]), np.arange(4).reshape(2, 2))
    assert [p.data.tolist() for p in pairs] == [[0, 2], [1, 3]]
    carry, ys = ops.scan(lambda c, x: (c + x, c), 0, np.arange(4), reverse=True)
    assert carry.item() == 6 and ys.data.tolist() == [6, 5, 3, 0]
    running = ops.associative_scan(lambda a, b: ops.maximum(a, b), np.array([[1, 3], [2, 0]]),
                                   axis=1, reverse=True)
    assert running.data.tolist() == [[3, 3], [2, 0]]
    pair = ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] * b[1]),
                                (np.arange(1, 4), np.arange(1, 4)))
    assert [t.data.tolist() for t in pair] == [[1, 3, 6], [1, 2, 6]]


def test_vectorize():
    added = ops.vectorize(lambda a, b: a + b)([1, 2, 3, 4], 2)
    assert added.data.tolist() == [3, 4, 5, 6]
    m, v = np.arange(24.0).reshape(2, 3, 4), np.arange(4.0)
    out = ops.vectorize(lambda a, b: ops.matmul(a, b), signature="(m,n),(n)->(m)")(m, v)
    np.testing.assert_allclose(out.data, m @ v)
    scaled = ops.vectorize(lambda a, k: a * k, excluded={1})(np.ones((2, 2)), 3.0)
    assert scaled.data.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_custom_gradient_replaces_the_gradient():
    from numkeras.backprop import Tensor

    @ops.custom_gradient
    def scaled(x, y):
        return x * y, lambda upstream: (upstream * 10.0, None)

    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    out = scaled(x, y)
    np.testing.assert_array_equal(out.data, [3.0, 8.0])
    ops.sum(out).backward()
    np.testing.assert_array_equal(x.grad, [10.0, 10.0])
    assert y.grad is None


def test_core_helpers():
    assert ops.dtype(np.zeros(2, np.int32)) == "int32"
    assert ops.is_tensor(ops.zeros(2)) and not ops.is_tensor(np.zeros(2))
    assert ops.empty((2, 3)).shape == (2, 3) and ops.empty_like(A).dtype == np.float32
    assert isinstance(ops.convert_to_numpy(ops.ones(2)), np.ndarray)
    assert ops.argpartition(np.array([5, 1, 4, 2]), 1).data[:2].tolist() in ([1, 3], [3, 1])
    seg = ops.segment_min(np.array([3.0, 1.0, 2.0], np.float32), np.array([0, 0, 1]))
    assert seg.data.tolist() == [1.0, 2.0]


def test_errors_name_the_argument_and_shapes():
    with pytest.raises(ValueError, match="split: axis 0 of length 3"):
        ops.split(np.zeros((3, 2)), 2)
    with pytest.raises(ValueError, match="categorical_crossentropy: target and output"):
        ops.categorical_crossentropy(np.zeros((2, 3)), np.ones((2, 4)))
    with pytest.raises(NotImplementedError, match="1-D and 2-D inputs"):
        ops.conv(np.zeros((1, 2, 2, 2, 1)), np.zeros((1, 1, 1, 1, 1)))
    with pytest.raises(IndexError, match=r"take: indices must lie in \[-2, 2\)"):
        ops.take(np.zeros(2), [2])
    with pytest.raises(ValueError, match="quantile: q must lie in"):
        ops.quantile(np.zeros(3), 1.5)
    with pytest.raises(ValueError, match=r"ctc_loss: labels must lie in \[0, 3\)"):
        ops.ctc_loss([[3]], np.zeros((1, 2, 3)), [1], [2])
    with pytest.raises(NotImplementedError, match="strategy='greedy' only"):
        ops.ctc_decode(np.zeros((1, 2, 3)), [2], strategy="beam_search")


# ----- packaging -----


@pytest.mark.parametrize("module", ["numkeras.ops", "numkeras.ops.core", "numkeras.ops.numpy",
                                    "numkeras.ops.nn", "numkeras.ops.math",
                                    "numkeras.ops.linalg", "numkeras.ops.image",
                                    "numkeras.backprop.math_ops"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), extraglobs={"np": np},
                             optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_every_public_name_has_a_docstring():
    missing = [name for name in ops.__all__ if not getattr(ops, name).__doc__]
    assert not missing


def test_ops_is_lazy_and_reachable():
    import subprocess
    import sys

    code = ("import sys, numkeras; assert 'numkeras.ops' not in sys.modules; "
            "assert numkeras.ops.relu is not None; assert 'numkeras.ops' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert numkeras.ops is ops
