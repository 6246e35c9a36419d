"""Every registered primitive against finite differences, in float64.

``CASES`` must name every entry of ``ops.PRIMITIVES``: a new primitive without a gradient
check fails ``test_every_primitive_has_a_case``.
"""

import numpy as np
import pytest

import numkeras.backprop.image_ops  # noqa: F401
import numkeras.backprop.math_ops as math_ops
from numkeras.backprop import check_grads, ops

RNG = np.random.default_rng(7)
SHAPES = [(), (3,), (3, 2)]


def normal(*shape):
    return RNG.standard_normal(shape)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    # Kinks (relu, abs at 0) have no derivative; finite differences must not straddle them.
    values = RNG.uniform(0.2, 2.0, shape)
    return values * RNG.choice([-1.0, 1.0], shape)


def elementwise(op, sampler=normal):
    return [(op, [sampler(*shape)]) for shape in SHAPES]


def binary(op, first=normal, second=normal):
    cases = [(op, [first(*shape), second(*shape)]) for shape in SHAPES]
    cases.append((op, [first(3, 2), second(1, 2)]))  # broadcast the second argument
    cases.append((op, [first(1, 2), second(3, 1)]))  # broadcast both
    cases.append((op, [first(3, 2), second()]))  # scalar
    return cases


def distinct(*shape):
    # No ties, so max/maximum/minimum are differentiable.
    return RNG.permutation(np.arange(int(np.prod(shape)) or 1))[: int(np.prod(shape))].reshape(
        shape) * 0.37 + RNG.uniform(0, 0.1, shape)


LABELS = np.array([0, 2, 1, 2])

CASES = {
    "add": binary(ops.add),
    "subtract": binary(ops.subtract),
    "multiply": binary(ops.multiply),
    "divide": binary(ops.divide, normal, away_from_zero),
    "negative": elementwise(ops.negative),
    "power": binary(ops.power, positive, normal),
    "maximum": [(ops.maximum, [distinct(3, 2), distinct(3, 2) + 0.05]),
                (ops.maximum, [distinct(3, 2), np.array([[0.3, 0.9]]) + 0.013])],
    "minimum": [(ops.minimum, [distinct(3, 2), distinct(3, 2) + 0.05]),
                (ops.minimum, [distinct(3, 2), np.array([[0.3, 0.9]]) + 0.013])],
    "where": [(lambda x, y: ops.where(np.array([[True, False], [False, True], [True, True]]),
                                      x, y), [normal(3, 2), normal(3, 2)]),
              (lambda x, y: ops.where(np.array([True, False]), x, y), [normal(3, 2), normal(1)])],
    "clip": [(lambda x: ops.clip(x, low=-0.5, high=0.5), [away_from_zero(3, 2) * 0.3]),
             (lambda x: ops.clip(x, low=-1.0, high=1.0), [np.array([-3.0, -0.4, 0.7, 2.5])])],
    "cast": [(lambda x: ops.cast(x, dtype=np.float64), [normal(3, 2)])],
    "exp": elementwise(ops.exp),
    "expm1": elementwise(ops.expm1),
    "log": elementwise(ops.log, positive),
    "log1p": elementwise(ops.log1p, positive),
    "sqrt": elementwise(ops.sqrt, positive),
    "abs": elementwise(ops.abs, away_from_zero),
    "tanh": elementwise(ops.tanh),
    "sigmoid": elementwise(ops.sigmoid) + [(ops.sigmoid, [np.array([-30.0, -5.0, 5.0, 30.0])])],
    "relu": elementwise(ops.relu, away_from_zero),
    "erf": elementwise(ops.erf) + [(ops.erf, [np.array([-3.0, -0.3, 0.01, 0.45, 0.6, 4.0])])],
    "erfc": elementwise(ops.erfc) + [(ops.erfc, [np.array([-3.0, -0.3, 0.01, 0.6, 4.0])])],
    "sum": [(lambda x: ops.sum(x), [normal(3, 2)]),
            (lambda x: ops.sum(x, axis=0), [normal(3, 2)]),
            (lambda x: ops.sum(x, axis=-1, keepdims=True), [normal(3, 2)]),
            (lambda x: ops.sum(x, axis=(0, 2)), [normal(2, 3, 2)])],
    "max": [(lambda x: ops.max(x), [distinct(3, 2)]),
            (lambda x: ops.max(x, axis=1), [distinct(3, 2)]),
            (lambda x: ops.max(x, axis=0, keepdims=True), [distinct(3, 2)])],
    "reshape": [(lambda x: ops.reshape(x, shape=(2, 3)), [normal(3, 2)]),
                (lambda x: ops.reshape(x, shape=(-1,)), [normal(3, 2)])],
    "transpose": [(lambda x: ops.transpose(x), [normal(3, 2)]),
                  (lambda x: ops.transpose(x, axes=(1, 2, 0)), [normal(2, 3, 4)])],
    "broadcast_to": [(lambda x: ops.broadcast_to(x, shape=(3, 2)), [normal(1, 2)]),
                     (lambda x: ops.broadcast_to(x, shape=(4, 3, 2)), [normal(3, 1)])],
    "getitem": [(lambda x: ops.getitem(x, index=(slice(1, 3), 0)), [normal(3, 2)]),
                (lambda x: ops.getitem(x, index=np.array([0, 2, 0])), [normal(3, 2)])],
    "embedding_lookup": [
        (lambda e: ops.embedding_lookup(e, indices=np.array([[0, 3, 3], [1, 0, 2]])),
         [normal(4, 3)]),
        (lambda e: ops.embedding_lookup(e, indices=np.array([2, 2, 2])), [normal(3, 2)])],
    "concatenate": [(lambda x, y: ops.concatenate(x, y, axis=0), [normal(3, 2), normal(1, 2)]),
                    (lambda x, y: ops.concatenate(x, y, axis=1), [normal(3, 2), normal(3, 4)])],
    "stack": [(lambda x, y: ops.stack(x, y, axis=1), [normal(3, 2), normal(3, 2)])],
    "pad": [(lambda x: ops.pad(x, pad_width=((1, 0), (2, 1))), [normal(3, 2)])],
    "matmul": [(ops.matmul, [normal(3, 4), normal(4, 2)]),
               (ops.matmul, [normal(2, 3, 4), normal(4, 5)]),
               (ops.matmul, [normal(4), normal(4, 2)]),
               (ops.matmul, [normal(3, 4), normal(4)]),
               (ops.matmul, [normal(4), normal(4)])],
    "dense": [(lambda x, k, b, a=a: ops.dense(x, k, b, activation=a),
               [normal(3, 4), normal(4, 2), normal(2)]) for a in ("linear", "sigmoid", "tanh")]
    + [(lambda x, k, b: ops.dense(x, k, b, activation="relu"),
        [np.abs(normal(3, 4)), np.abs(normal(4, 2)) + 0.1, np.abs(normal(2))]),
       (lambda x, k: ops.dense(x, k, None), [normal(2, 3, 4), normal(4, 2)])],
    "softmax": [(lambda x: ops.softmax(x), [normal(3, 4)]),
                (lambda x: ops.softmax(x, axis=0), [normal(3, 4)]),
                (lambda x: ops.softmax(x), [normal(5)])],
    "log_softmax": [(lambda x: ops.log_softmax(x), [normal(3, 4)]),
                    (lambda x: ops.log_softmax(x, axis=0), [normal(3, 4)])],
    "logsumexp": [(lambda x: ops.logsumexp(x), [normal(3, 4)]),
                  (lambda x: ops.logsumexp(x, axis=0, keepdims=True), [normal(3, 4)]),
                  (lambda x: ops.logsumexp(x, axis=None), [normal(3, 4)]),
                  (lambda x: ops.logsumexp(x, axis=(0, 1), keepdims=True), [normal(3, 4)])],
    "sparse_softmax_cross_entropy": [
        (lambda x: ops.sparse_softmax_cross_entropy(x, LABELS), [normal(4, 3)]),
        (lambda x: ops.sparse_softmax_cross_entropy(x, LABELS.reshape(2, 2)), [normal(2, 2, 3)]),
        (lambda x: ops.sparse_softmax_cross_entropy(x, LABELS, mean=True), [normal(4, 3)])],
    # image ops: small NHWC batches; several stride/padding/dilation combinations each, with
    # odd sizes so TensorFlow's asymmetric "same" padding is exercised.
    "conv2d": [
        (lambda x, k, b, o=o: ops.PRIMITIVES["conv2d"](x, k, b, **o),
         [normal(2, 5, 6, 3), normal(3, 2, 3, 4), normal(4)])
        for o in ({}, {"padding": "same"}, {"strides": (2, 2)},
                  {"strides": (2, 1), "padding": "same"}, {"dilation_rate": (2, 1)},
                  {"dilation_rate": 2, "padding": "same"}, {"activation": "tanh"})]
    + [(lambda x, k, b: ops.PRIMITIVES["conv2d"](x, k, b, padding="same"),
        [normal(2, 4, 5, 1), normal(3, 3, 1, 2), normal(2)]),  # one channel
       (lambda x, k: ops.PRIMITIVES["conv2d"](x, k, strides=2, padding="same"),
        [normal(2, 5, 4, 3), normal(3, 3, 3, 2)]),  # no bias
       (lambda x, k, b: ops.PRIMITIVES["conv2d"](x, k, b, activation="relu"),
        [np.abs(normal(2, 4, 4, 2)), np.abs(normal(2, 2, 2, 3)) + 0.1, np.abs(normal(3))])],
    "max_pool2d": [
        (lambda x, o=o: ops.PRIMITIVES["max_pool2d"](x, **o), [distinct(2, 5, 6, 3)])
        for o in ({}, {"padding": "same"}, {"pool_size": 3, "strides": 1},
                  {"pool_size": (3, 2), "strides": (2, 1), "padding": "same"})],
    "avg_pool2d": [
        (lambda x, o=o: ops.PRIMITIVES["avg_pool2d"](x, **o), [normal(2, 5, 6, 3)])
        for o in ({}, {"padding": "same"}, {"pool_size": 3, "strides": 1},
                  {"pool_size": (3, 2), "strides": (2, 1), "padding": "same"})],
    "upsample_bilinear2d": [
        (lambda x: ops.PRIMITIVES["upsample_bilinear2d"](x, size=(2, 3)),
         [normal(2, 3, 4, 2)])],
    "batch_norm": [
        (lambda x, g, b: ops.PRIMITIVES["batch_norm"](x, g, b), [
            normal(2, 3, 4, 3), normal(3), normal(3)]),
        (lambda x: ops.PRIMITIVES["batch_norm"](x, axis=1, epsilon=0.1),
         [normal(4, 3, 2)]),
        (lambda x, b: ops.PRIMITIVES["batch_norm"](x, None, b),
         [normal(5, 2), normal(2)])],
    # kernel (kh, kw, F, C); the combinations cover a cropped output ('same'), one that runs
    # past the scatter (stride > kernel, output_padding), dilation and a single channel.
    "conv2d_transpose": [
        (lambda x, k, b, o=o: ops.PRIMITIVES["conv2d_transpose"](x, k, b, **o),
         [normal(2, 3, 4, 3), normal(3, 2, 4, 3), normal(4)])
        for o in ({}, {"padding": "same"}, {"strides": 2}, {"strides": 2, "padding": "same"},
                  {"strides": (3, 2), "output_padding": (2, 1)},
                  {"strides": (2, 3), "padding": "same", "output_padding": (1, 0)},
                  {"strides": 3}, {"dilation_rate": (2, 1), "padding": "same"})]
    + [(lambda x, k: ops.PRIMITIVES["conv2d_transpose"](x, k, strides=2, padding="same"),
        [normal(2, 3, 3, 1), normal(2, 2, 2, 1)]),  # one channel in, no bias
       (lambda x, k, b: ops.PRIMITIVES["conv2d_transpose"](x, k, b, strides=2,
                                                             output_padding=1),
        [normal(1, 1, 1, 2), normal(1, 1, 3, 2), normal(3)])],  # 1x1 input and kernel
    # kernel (kh, kw, C, M): 'same' padding, strides, dilation, a multiplier of 1 and 2.
    "depthwise_conv2d": [
        (lambda x, k, b, o=o: ops.PRIMITIVES["depthwise_conv2d"](x, k, b, **o),
         [normal(2, 5, 6, 3), normal(3, 2, 3, 2), normal(6)])
        for o in ({}, {"padding": "same"}, {"strides": 2, "padding": "same"},
                  {"strides": (2, 3)}, {"dilation_rate": (2, 1), "padding": "same"})]
    + [(lambda x, k: ops.PRIMITIVES["depthwise_conv2d"](x, k, padding="same"),
        [normal(2, 4, 4, 3), normal(3, 3, 3, 1)])],  # no bias
}


def _unit_interval(*shape):
    return RNG.uniform(-0.8, 0.8, shape)


def _well_conditioned(n):
    return RNG.standard_normal((n, n)) + 3 * np.eye(n)


# The primitives behind numkeras.ops (backprop/math_ops.py).
CASES.update({
    "sin": elementwise(math_ops.sin), "cos": elementwise(math_ops.cos),
    "tan": elementwise(math_ops.tan, _unit_interval),
    "arcsin": elementwise(math_ops.arcsin, _unit_interval),
    "arccos": elementwise(math_ops.arccos, _unit_interval),
    "arctan": elementwise(math_ops.arctan),
    "arctan2": binary(math_ops.arctan2, normal, away_from_zero),
    "sinh": elementwise(math_ops.sinh), "cosh": elementwise(math_ops.cosh),
    "arcsinh": elementwise(math_ops.arcsinh),
    "arccosh": elementwise(math_ops.arccosh, lambda *s: positive(*s) + 1.0),
    "arctanh": elementwise(math_ops.arctanh, _unit_interval),
    "cbrt": elementwise(math_ops.cbrt, away_from_zero),
    "erfinv": elementwise(math_ops.erfinv, _unit_interval),
    "cumsum": [(lambda x: math_ops.cumsum(x, axis=0), [normal(3, 2)]),
               (lambda x: math_ops.cumsum(x, axis=-1), [normal(2, 3, 4)])],
    "cumprod": [(lambda x: math_ops.cumprod(x, axis=1), [away_from_zero(3, 4)])],
    "prod": [(lambda x: math_ops.prod(x), [normal(3, 2)]),
             (lambda x: math_ops.prod(x, axis=1, keepdims=True), [normal(3, 4)]),
             (lambda x: math_ops.prod(x, axis=(0, 2)), [normal(2, 3, 2)]),
             (lambda x: math_ops.prod(x, axis=0), [np.array([[0.0, 2.0], [3.0, 0.0]])])],
    "take_along_axis": [
        (lambda x: math_ops.take_along_axis(x, indices=np.array([[1, 1], [0, 2]]), axis=0),
         [normal(3, 2)]),
        (lambda x: math_ops.take_along_axis(x, indices=np.array([[2, 0, 2]]), axis=1),
         [normal(2, 3)])],
    "segment_sum": [(lambda x: math_ops.segment_sum(x, segment_ids=np.array([0, 2, 0, 1]),
                                                    num_segments=3), [normal(4, 2)])],
    "einsum": [(lambda x, y: math_ops.einsum(x, y, subscripts="ij,jk->ik"),
                [normal(3, 4), normal(4, 2)]),
               (lambda x, y: math_ops.einsum(x, y, subscripts="bij,k->bk"),
                [normal(2, 3, 4), normal(5)]),
               (lambda x: math_ops.einsum(x, subscripts="ij->ji"), [normal(3, 2)])],
    "inv": [(math_ops.inv, [_well_conditioned(3)]),
            (math_ops.inv, [np.stack([_well_conditioned(2), _well_conditioned(2)])])],
    "det": [(math_ops.det, [_well_conditioned(3)]),
            (math_ops.det, [np.stack([_well_conditioned(2), _well_conditioned(2)])])],
    "solve": [(math_ops.solve, [_well_conditioned(3), normal(3, 2)])],
    "fft": [(math_ops.fft, [normal(2, 4), normal(2, 4)]),
            (lambda a, b: math_ops.fft(a, b, axes=(0, 1), inverse=True),
             [normal(3, 2), normal(3, 2)])],
    "rfft": [(lambda x: math_ops.rfft(x, n=4), [normal(2, 4)]),
             (lambda x: math_ops.rfft(x, n=5), [normal(5)])],
    "irfft": [(lambda a, b: math_ops.irfft(a, b, n=6), [normal(2, 4), normal(2, 4)]),
              (lambda a, b: math_ops.irfft(a, b, n=5), [normal(3), normal(3)])],
})


def test_every_primitive_has_a_case():
    assert set(CASES) == set(ops.PRIMITIVES), (
        "Primitives without a gradient check: "
        f"{sorted(set(ops.PRIMITIVES) - set(CASES))}")


@pytest.mark.parametrize(
    "name,index",
    [(name, i) for name, cases in sorted(CASES.items()) for i in range(len(cases))])
def test_primitive_gradient_matches_finite_differences(name, index):
    op, inputs = CASES[name][index]
    assert check_grads(op, *inputs)


@pytest.mark.parametrize("name", ["sum", "max"])
def test_composites_mean_and_min(name):
    op = ops.mean if name == "sum" else ops.min
    assert check_grads(lambda x: op(x, axis=1), distinct(3, 2))


def test_primitives_keep_float32():
    x = np.linspace(-3, 3, 6, dtype=np.float32).reshape(3, 2)
    for op in (ops.exp, ops.tanh, ops.sigmoid, ops.relu, ops.erf, ops.erfc, ops.softmax):
        assert op(x).dtype == np.float32, op.primitive_name
    assert ops.multiply(x, 2.0).dtype == np.float32
    assert ops.dense(x, np.ones((2, 4), np.float32), np.zeros(4, np.float32),
                     activation="sigmoid").dtype == np.float32


def test_sigmoid_and_softmax_are_stable_at_extremes():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        s = ops.sigmoid(x).data
        p = ops.softmax(x).data
        losses = ops.sparse_softmax_cross_entropy(x[None, :], np.array([0])).data
    assert s.tolist() == [0.0, pytest.approx(3.7e-44, abs=1e-43), 0.5, 1.0, 1.0]
    assert np.isfinite(p).all() and p[-1] == 1.0
    assert np.isfinite(losses).all() and losses[0] == pytest.approx(2e4)


def test_erf_matches_math_erf():
    import math

    x = np.linspace(-6, 6, 241)
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(ops.erf(x).data, expected, rtol=2e-7, atol=1e-12)
    expected_c = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(ops.erfc(x).data, expected_c, rtol=2e-7)
