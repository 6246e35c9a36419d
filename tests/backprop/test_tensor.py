"""The Tensor graph: accumulation, broadcasting, no_grad, deep graphs, buffers."""

import numpy as np
import pytest

from numkeras.backprop import ParameterBuffer, Tensor, Variable, no_grad, ops, unbroadcast


def test_tensor_used_twice_accumulates():
    x = Tensor(np.array([3.0]), requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.tolist() == [7.0]


def test_diamond_graph():
    x = Tensor(np.array([2.0]), requires_grad=True)
    a, b = ops.exp(x), x * 3.0
    (a * b).backward()  # d/dx (3x e^x) = 3e^x + 3x e^x
    assert x.grad[0] == pytest.approx(3 * np.exp(2) + 6 * np.exp(2))


def test_backward_twice_accumulates_into_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_broadcast_gradient_is_summed_to_input_shape():
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (x + b).sum().backward()
    assert b.grad.shape == (3,) and b.grad.tolist() == [4.0, 4.0, 4.0]


def test_unbroadcast_keepdims_axes():
    assert unbroadcast(np.ones((2, 3, 4)), (3, 1)).shape == (3, 1)
    assert unbroadcast(np.ones((2, 3)), ()).shape == ()


def test_no_grad_records_nothing():
    w = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = ops.exp(w)
    assert not y.requires_grad and y.parents == ()


def test_constants_get_no_gradient_and_build_no_graph():
    y = Tensor(np.ones(2)) * 3.0
    assert y.vjp is None


def test_non_scalar_backward_needs_a_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="one element"):
        (x * 2.0).backward()
    (x * 2.0).backward(np.array([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(ValueError, match="expected the tensor's shape"):
        (x * 2.0).backward(np.ones(2))


def test_deep_graph_has_no_recursion_limit():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(20000):
        y = y + 1.0
    y.backward()
    assert x.grad.tolist() == [1.0]


def test_numpy_on_the_left_keeps_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_array_conversion_and_numpy_copy():
    t = Tensor(np.arange(3.0))
    assert np.asarray(t) is t.data
    copy = t.numpy()
    copy[0] = 9
    assert t.data[0] == 0


def test_operators_and_methods():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = ((1.0 - x) / 2.0) ** 2 @ np.ones((3, 1))
    assert y.shape == (2, 1)
    z = x.T.reshape(6).mean() + x.max() + x[0, 1]
    z.backward()
    assert x.grad.shape == (2, 3)


def test_parameter_buffer_views_and_gradients():
    kernel = Variable(np.arange(6.0).reshape(2, 3), name="kernel")
    bias = Variable(np.ones(3), name="bias")
    buffer = ParameterBuffer([kernel, bias])
    assert buffer.data.tolist() == [0, 1, 2, 3, 4, 5, 1, 1, 1]
    x = Tensor(np.ones((4, 2)))
    ops.sum(ops.dense(x, kernel, bias)).backward()
    assert buffer.grad[:6].tolist() == [4.0] * 6 and buffer.grad[6:].tolist() == [4.0] * 3
    buffer.zero_grad()
    assert not buffer.grad.any() and not kernel.grad.any()
    kernel.assign(np.zeros((2, 3)))
    assert not buffer.data[:6].any()
    assert [v.shape for v in buffer.views(np.zeros(9))] == [(2, 3), (3,)]


def test_variable_assign_checks_shape():
    v = Variable(np.zeros(3), name="bias")
    with pytest.raises(ValueError, match=r"shape \(2,\) to variable 'bias' of shape \(3,\)"):
        v.assign(np.zeros(2))


def test_frozen_variable_receives_no_gradient():
    v = Variable(np.ones(2), name="w", trainable=False)
    (Tensor(np.ones(2), requires_grad=True) * v).sum().backward()
    assert v.grad is None


def test_numpy_reductions_accept_tensors():
    """np.max(t), np.min(t) ... (tutorials call them on model outputs) pass NumPy's keywords
    (out=None ...) to the Tensor's methods: the recorded op, or NumPy's answer for options the
    engine does not take."""
    t = Tensor(np.array([[1.0, 5.0], [3.0, 2.0]], np.float32), requires_grad=True)
    assert float(np.max(t).data) == 5.0 and float(np.min(t).data) == 1.0
    np.testing.assert_array_equal(np.sum(t, axis=0).data, [4.0, 7.0])
    assert float(np.mean(t).data) == 2.75 and np.argmax(t) == 1
    np.testing.assert_array_equal(np.max(t, axis=1, initial=4.0), [5.0, 4.0])
    t.min().backward()
    np.testing.assert_array_equal(t.grad, [[1.0, 0.0], [0.0, 0.0]])


def test_scalar_tensor_takes_a_format_spec():
    """f"{loss:.2f}" on a scalar loss, as TensorFlow's eager tensors allow (Keras's training
    loop guide prints its GAN losses so); no spec gives the repr."""
    loss = Tensor(np.float32(0.71828))
    assert f"{loss:.2f}" == "0.72" and f"{loss:>8.3f}" == "   0.718"
    assert f"{loss}" == repr(loss)
    with pytest.raises(TypeError):
        f"{Tensor(np.zeros(2)):.2f}"
