"""GradientTape: TF's semantics (persistent, watch, nested, unconnected, stop_recording) on the
engine's graph, second derivatives of every rule against finite differences, and layers."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, Variable, check_grads, ops
from numkeras.backprop import image_ops, math_ops
from numkeras.backprop.tape import DIFFERENTIABLE_VJPS, GradientTape, scatter
from numkeras.backprop.tensor import topological_order


def _var(values, name="x"):
    return Variable(np.asarray(values, dtype=np.float64), name=name)


def test_gradient_of_a_variable_and_a_watched_constant():
    w = _var([1.0, -2.0], "w")
    c = Tensor(np.array([3.0, 4.0]))
    with GradientTape() as tape:
        tape.watch(c)
        y = ops.sum(w * c * c)
    gw, gc = tape.gradient(y, [w, c])
    np.testing.assert_allclose(gw.data, [9.0, 16.0])
    np.testing.assert_allclose(gc.data, [6.0, -16.0])
    assert w.grad is None  # the tape leaves .grad (fit's buffer) alone
    assert not c.requires_grad  # watched constants are constants again after the block


def test_structures_of_sources_and_targets():
    a, b = _var([2.0], "a"), _var([3.0], "b")
    with GradientTape() as tape:
        y1, y2 = a * b, a * a
    grads = tape.gradient([y1, {"k": y2}], {"first": a, "rest": (b,)})
    assert set(grads) == {"first", "rest"} and isinstance(grads["rest"], tuple)
    np.testing.assert_allclose(grads["first"].data, [3.0 + 4.0])  # targets are summed
    np.testing.assert_allclose(grads["rest"][0].data, [2.0])


def test_non_scalar_target_and_output_gradients():
    x = _var([1.0, 2.0, 3.0])
    with GradientTape(persistent=True) as tape:
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).data, [2.0, 4.0, 6.0])
    np.testing.assert_allclose(
        tape.gradient(y, x, output_gradients=np.array([1.0, 0.0, 2.0])).data, [2.0, 0.0, 12.0])
    jac = tape.jacobian(y, x)
    np.testing.assert_allclose(jac.data, np.diag([2.0, 4.0, 6.0]))


def test_non_persistent_tape_refuses_a_second_call():
    x = _var([1.0])
    with GradientTape() as tape:
        y = x * 3.0
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        tape.gradient(y, x)


def test_persistent_tape_answers_several_times():
    x = _var([2.0])
    with GradientTape(persistent=True) as tape:
        y = x * x
        z = y * y
    assert float(tape.gradient(y, x).data[0]) == 4.0
    assert float(tape.gradient(z, x).data[0]) == 32.0  # 4x^3


def test_unconnected_sources_give_none_or_zeros():
    x, unused = _var([1.0]), _var([[1.0, 2.0]], "unused")
    with GradientTape(persistent=True) as tape:
        y = x * 2.0
    assert tape.gradient(y, [x, unused])[1] is None
    zero = tape.gradient(y, unused, unconnected_gradients="zero")
    np.testing.assert_array_equal(zero.data, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, x, unconnected_gradients="nan")


def test_watch_accessed_variables_false_only_answers_watched():
    a, b = _var([1.0], "a"), _var([1.0], "b")
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert gb is None and float(ga.data[0]) == 1.0
    assert tape.watched_variables() == (a,)


def test_stop_recording_and_integer_or_array_errors():
    x = _var([3.0])
    with GradientTape() as tape:
        with tape.stop_recording():
            frozen = x * x
        y = x * 2.0 + frozen
    assert not frozen.requires_grad
    assert float(tape.gradient(y, x).data[0]) == 2.0
    with GradientTape() as tape:
        with pytest.raises(TypeError, match="tf.constant"):
            tape.watch(np.ones(2))
    with pytest.raises(ValueError, match="inside the tape"):
        with tape.stop_recording():
            pass


def test_nested_tapes_give_second_derivatives():
    x = _var([0.5, 2.0])
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = ops.sum(ops.exp(x) * x * x)  # y = x^2 e^x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    v = x.data
    np.testing.assert_allclose(dy.data, (2 * v + v * v) * np.exp(v))
    np.testing.assert_allclose(d2y.data, (2 + 4 * v + v * v) * np.exp(v))


def test_a_persistent_tape_differentiates_its_own_gradient():
    x = _var([3.0])
    with GradientTape(persistent=True) as tape:
        y = x * x * x
        dy = tape.gradient(y, x)
    assert float(tape.gradient(dy, x).data[0]) == 18.0


RNG = np.random.default_rng(0)
POSITIVE = RNG.uniform(0.5, 2.0, (3, 4))
SIGNED = RNG.normal(size=(3, 4)) + 0.05  # away from relu/abs kinks
LABELS = np.array([1, 0, 3])

# name -> (function of one Tensor x, x): each exercises one differentiable rule (and others).
SECOND_ORDER_CASES = {
    "add_subtract_negative": (lambda x: -(x + x * x) - (x * 3.0 - 1.0), SIGNED),
    "multiply_divide": (lambda x: x * x / (x + 3.0), POSITIVE),
    "power": (lambda x: ops.power(x, 3.0) + ops.power(2.0, x) + ops.power(x, x), POSITIVE),
    "exp_log_sqrt": (lambda x: ops.exp(x) * ops.log(x) + ops.sqrt(x), POSITIVE),
    "expm1_log1p": (lambda x: ops.expm1(x) * ops.log1p(x), POSITIVE),
    "tanh_sigmoid": (lambda x: ops.tanh(x) * ops.sigmoid(x * x), SIGNED),
    "relu_abs_clip": (lambda x: ops.relu(x) * x + ops.abs(x) * x
                      + ops.clip(x, low=-0.5, high=0.5) * x, SIGNED),
    "maximum_minimum_where": (lambda x: ops.maximum(x, 0.1) * x + ops.minimum(x * x, 1.0)
                              + ops.where(SIGNED > 0, x * x, x), SIGNED),
    "erf_erfc": (lambda x: ops.erf(x) * x + ops.erfc(x) * x, SIGNED),
    "trigonometric": (lambda x: math_ops.sin(x * x) * math_ops.cos(x) + math_ops.tan(x * 0.5)
                      + math_ops.sinh(x) * math_ops.cosh(x * x) + math_ops.arctan(x * x),
                      SIGNED),
    "cast": (lambda x: ops.cast(x * x, dtype=np.float64) * x, SIGNED),
    "sum_mean_max": (lambda x: ops.sum(x * x, axis=1) * ops.mean(x, axis=0, keepdims=True)[0, :3]
                     + ops.max(x * x, axis=1), SIGNED),
    "reshape_transpose_broadcast": (lambda x: ops.transpose(ops.reshape(x * x, shape=(4, 3)))
                                    * ops.broadcast_to(x[:, :1], shape=(3, 4)), SIGNED),
    "getitem_fancy": (lambda x: x[[0, 2, 0], 1:3] * x[[0, 2, 0], :2], SIGNED),
    "concatenate_stack_pad": (lambda x: ops.concatenate(x * x, x, axis=1)[:, :4] *
                              ops.stack(x, x * x, axis=0)[1]
                              + ops.pad(x * x, pad_width=((1, 0), (0, 1)))[1:, :4], SIGNED),
    "matmul": (lambda x: ops.matmul(x * x, ops.transpose(x)) + ops.matmul(x[0], ops.transpose(x))
               + ops.matmul(x, x[1]), SIGNED),
    "dense": (lambda x: ops.dense(x, ops.transpose(x) * x[0, :3], x[1, :3],
                                  activation="tanh"), SIGNED),
    "dense_relu_sigmoid": (lambda x: ops.dense(x, ops.transpose(x) * 0.5, None,
                                               activation="sigmoid")
                           + ops.dense(x * x, ops.transpose(x), x[0, :3], activation="relu"),
                           SIGNED),
    "softmax_family": (lambda x: ops.softmax(x * x, axis=-1) * ops.log_softmax(x, axis=0)
                       + ops.logsumexp(x * x, axis=1, keepdims=True), SIGNED),
    "sparse_crossentropy": (lambda x: ops.sparse_softmax_cross_entropy(x * x, LABELS)
                            + ops.sparse_softmax_cross_entropy(x, LABELS, mean=True), SIGNED),
    "embedding_lookup": (lambda x: ops.embedding_lookup(x * x, indices=np.array([[0, 2], [2, 2]]))
                         * x[0], SIGNED),
}


def _hessian_vector(fn, x0, v):
    x = _var(x0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = ops.sum(fn(x))
        g = inner.gradient(y, x)
        gv = ops.sum(g * v)
    return outer.gradient(gv, x).data


def _gradient(fn, x0):
    x = _var(x0)
    with GradientTape() as tape:
        y = ops.sum(fn(x))
    return tape.gradient(y, x).data


@pytest.mark.parametrize("name", sorted(SECOND_ORDER_CASES))
def test_second_derivatives_match_finite_differences(name):
    fn, x0 = SECOND_ORDER_CASES[name]
    v = np.random.default_rng(1).normal(size=x0.shape)
    eps = 1e-6
    numeric = (_gradient(fn, x0 + eps * v) - _gradient(fn, x0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(_hessian_vector(fn, x0, v), numeric, rtol=1e-5, atol=1e-6)


def test_every_differentiable_rule_is_exercised():
    used = set()
    for fn, x0 in SECOND_ORDER_CASES.values():
        x = _var(x0)
        nodes, stack = set(), [ops.sum(fn(x))]
        while stack:
            node = stack.pop()
            if node.op is not None and node.op not in nodes:
                nodes.add(node.op)
            stack.extend(node.parents)
        used |= nodes
    # broadcast_to etc. may be reached only through other ops; scatter is checked below.
    assert set(DIFFERENTIABLE_VJPS) - used <= {"scatter"}, set(DIFFERENTIABLE_VJPS) - used


def test_scatter_primitive_gradient():
    index = (np.array([0, 2, 0]), slice(1, 3))
    assert check_grads(lambda g: scatter(g, index=index, shape=(3, 4)), RNG.normal(size=(3, 2)))


def test_second_derivative_through_an_op_without_a_rule_is_a_clear_error():
    x = _var(RNG.normal(size=(1, 4, 4, 1)))
    kernel = _var(RNG.normal(size=(2, 2, 1, 1)), "kernel")
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = ops.sum(image_ops.conv2d(x, kernel) ** 2.0)
        gk = inner.gradient(y, kernel)  # first derivative: right values
    with GradientTape() as plain:
        y2 = ops.sum(image_ops.conv2d(x, kernel) ** 2.0)
    np.testing.assert_allclose(gk.data, plain.gradient(y2, kernel).data)
    with pytest.raises(NotImplementedError, match="conv2d"):
        outer.gradient(gk, kernel)


def _lecture_model():
    keras.config.set_random_seed(3)
    model = keras.Sequential([keras.Input((6, 6)), keras.layers.Flatten(),
                              keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def test_layers_inside_a_tape_match_fits_step():
    x = np.random.default_rng(2).normal(size=(16, 6, 6)).astype(np.float32)
    y = np.random.default_rng(3).integers(0, 3, 16)
    model = _lecture_model()
    before = [w.numpy() for w in model.trainable_weights]
    with GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g.dtype == np.float32 for g in grads)
    for grad, reference in zip(grads, model.gradients(x, y)):
        np.testing.assert_array_equal(grad.data, reference)
    model.train_on_batch(x, y)  # fit's step: same gradients, SGD(0.1)
    for w, w0, g in zip(model.trainable_weights, before, grads):
        np.testing.assert_allclose(w.numpy(), w0 - np.float32(0.1) * g.data, rtol=1e-6,
                                   atol=1e-7)


def test_gradient_with_respect_to_a_watched_model_input():
    """A saliency map: d(score)/d(image) through Conv2D, pooling and Dense."""
    keras.config.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                              keras.layers.Dense(3)])
    images = Tensor(RNG.normal(size=(2, 6, 6, 1)).astype(np.float32))
    with GradientTape() as tape:
        tape.watch(images)
        score = ops.sum(model(images)[:, 1])
    saliency = tape.gradient(score, images).data
    eps, probe = 1e-2, np.zeros((2, 6, 6, 1), np.float32)
    probe[0, 2, 3, 0] = eps
    plus = float(np.sum(model.predict(images.data + probe, verbose=0)[:, 1]))
    minus = float(np.sum(model.predict(images.data - probe, verbose=0)[:, 1]))
    assert saliency.shape == (2, 6, 6, 1)
    assert saliency[0, 2, 3, 0] == pytest.approx((plus - minus) / (2 * eps), rel=2e-2, abs=1e-3)


def test_jacobian_and_batch_jacobian():
    w = _var(RNG.normal(size=(3, 2)), "w")
    x = Tensor(RNG.normal(size=(4, 3)))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ops.tanh(ops.matmul(x, w))  # (4, 2)
    per_sample = tape.batch_jacobian(y, x).data  # (4, 2, 3)
    slope = 1 - np.tanh(x.data @ w.data) ** 2  # (4, 2)
    np.testing.assert_allclose(per_sample, slope[:, :, None] * w.data.T[None], rtol=1e-6)
    full = tape.jacobian(y, w).data  # (4, 2, 3, 2)
    assert full.shape == (4, 2, 3, 2)
    np.testing.assert_allclose(full[1, 0, :, 0], slope[1, 0] * x.data[1], rtol=1e-6)
    np.testing.assert_array_equal(full[1, 0, :, 1], 0)


def test_gradient_penalty_through_layers_matches_finite_differences():
    """WGAN-GP's penalty: d/dW of ||d D(x)/dx||^2 for a Dense-tanh-Dense critic (nested tapes
    through the fused Dense rule)."""
    keras.config.set_random_seed(1)
    critic = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="tanh"),
                               keras.layers.Dense(1)])
    critic.build((None, 4))
    images = RNG.normal(size=(3, 4)).astype(np.float32)
    kernel = critic.layers[0].kernel

    def penalty():
        x = Tensor(images)
        with GradientTape() as outer:
            with GradientTape() as inner:
                inner.watch(x)
                score = ops.sum(critic(x, training=True))
            grad_x = inner.gradient(score, x)
            value = ops.sum(grad_x * grad_x)
        return float(value.data), outer.gradient(value, kernel).data

    _, analytic = penalty()
    eps, saved = 1e-2, kernel.numpy()
    numeric = np.zeros_like(saved)
    for index in [(0, 0), (2, 3), (3, 4)]:
        for sign in (1, -1):
            probe = saved.copy()
            probe[index] += sign * eps
            kernel.assign(probe)
            numeric[index] += sign * penalty()[0] / (2 * eps)
    kernel.assign(saved)
    for index in [(0, 0), (2, 3), (3, 4)]:
        assert analytic[index] == pytest.approx(numeric[index], rel=2e-2, abs=1e-4)


def test_what_the_tape_watches_follows_tensorflow():
    """TF's autodiff guide, "Controlling what the tape watches": [6.0, None, None, None]."""
    x0 = Variable(np.float32(3.0), name="x0")
    x1 = Variable(np.float32(3.0), name="x1", trainable=False)
    x2 = Variable(np.float32(2.0), name="x2") + 1.0  # a value computed before the tape
    x3 = Tensor(np.float32(3.0))
    with GradientTape() as tape:
        y = (x0 ** 2.0) + (x1 ** 2.0) + (x2 ** 2.0)
    grads = tape.gradient(y, [x0, x1, x2, x3])
    assert float(grads[0].data) == 6.0 and grads[1:] == [None, None, None]
    w = _var([2.0], "w")
    before = w * 3.0  # recorded for fit-style backward(), but before the tape: a constant
    with GradientTape(persistent=True) as tape:
        inside = w * 3.0
        z = before * inside
    assert float(tape.gradient(z, w).data[0]) == 18.0  # only through `inside`: 6 * 3
    assert float(tape.gradient(z, inside).data[0]) == 6.0  # an intermediate of the tape
    assert getattr(before, "inputs", None) is None  # fit-style nodes keep no arguments


def test_watch_before_the_block_leaves_no_constant_switched_on():
    """A constant watched before ``with`` (TF refuses that; numkeras watches it from the
    block's start) is a constant again after the block, as one watched inside it."""
    c = Tensor(np.array([3.0]))
    tape = GradientTape(persistent=True)
    tape.watch(c)
    assert not c.requires_grad  # nothing recorded outside the block: nothing switched on
    with tape:
        assert c.requires_grad
        z = c * c
    assert not c.requires_grad
    assert float(tape.gradient(z, c).data[0]) == 6.0
    with tape:  # entered again: still watched, and switched off again at the end
        z = c * c * c
    assert not c.requires_grad
    assert float(tape.gradient(z, c).data[0]) == 27.0
    trainable = _var([1.0])
    tape = GradientTape()
    tape.watch(trainable)
    with tape:
        y = trainable * 2.0
    assert trainable.requires_grad  # a variable's own flag is left as it was
    assert float(tape.gradient(y, trainable).data[0]) == 2.0
    unused = Tensor(np.array([1.0]))
    GradientTape().watch(unused)  # a tape never entered
    assert not unused.requires_grad


def test_the_tape_and_backward_share_one_graph_walk():
    x = _var([2.0], "x")
    with GradientTape() as tape:
        a = x * x
        b = a * x
        c = a + b
    order = topological_order([c, b])
    assert order.index(x) < order.index(a) < order.index(b) < order.index(c)
    assert len({id(n) for n in order}) == len(order)
    assert float(tape.gradient([c, b], x).data[0]) == 4.0 + 2 * 12.0


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_second_derivative_of_logsumexp_over_any_axes(axis, keepdims):
    """d/dx sum(softmax(x)^2), through logsumexp's differentiable rule, equals finite
    differences, for every reduction (axis=None failed in the first-order VJP)."""
    start = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, -1.0]])
    x = Variable(start)
    with GradientTape() as outer:
        with GradientTape() as inner:
            total = ops.sum(ops.logsumexp(x, axis=axis, keepdims=keepdims))
        softmax = inner.gradient(total, x)
        squares = ops.sum(ops.multiply(softmax, softmax))
    got = outer.gradient(squares, x).data

    def f(values):
        e = np.exp(values - values.max(axis=axis, keepdims=True))
        return ((e / e.sum(axis=axis, keepdims=True)) ** 2).sum()

    eps, want = 1e-6, np.zeros_like(start)
    for index in np.ndindex(start.shape):
        step = np.zeros_like(start)
        step[index] = eps
        want[index] = (f(start + step) - f(start - step)) / (2 * eps)
    np.testing.assert_allclose(got, want, atol=1e-6)
