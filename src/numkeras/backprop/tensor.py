"""Tensor: a NumPy array that remembers how it was computed, for reverse-mode autodiff.

Each Tensor made by a primitive op keeps its ``parents`` (the input Tensors that need gradients)
and a ``vjp`` closure that maps the gradient of the output to gradients of those parents.
``backward()`` walks that graph once, in reverse topological order, and *adds* each gradient to
what is already there, so a tensor used twice receives the sum of both contributions.

>>> from numkeras.backprop import Tensor
>>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()          # y = sum(x^2), dy/dx = 2x
>>> y.backward()
>>> x.grad
array([2., 4., 6.])
"""

from __future__ import annotations

import contextlib
import functools
import threading

import numpy as np


class _GradMode(threading.local):
    """Whether this thread records graphs: one flag per thread (as in PyTorch), so that a
    ``predict`` (under ``no_grad``) in one thread cannot switch off, or leave switched off,
    the recording of a training step in another."""

    enabled = True
    taping = 0  # GradientTapes recording in this thread (backprop/tape.py)


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether new operations in this thread record the graph needed by ``backward()``."""
    return _mode.enabled


@contextlib.contextmanager
def no_grad():
    """Run the enclosed code without recording a graph (inference, metric updates); other
    threads keep their own setting.

    >>> from numkeras.backprop import Tensor, no_grad
    >>> w = Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 2.0
    >>> y.requires_grad
    False
    """
    previous, _mode.enabled = _mode.enabled, False
    try:
        yield
    finally:
        _mode.enabled = previous


def _ops():
    # Late import: ops imports this module to build Tensors, the way autograd's ArrayBox
    # forwards ``__add__`` to ``anp.add``.
    from numkeras.backprop import ops

    return ops


class Tensor:
    """An n-dimensional array with an optional gradient.

    Args:
        data: anything ``np.asarray`` accepts.
        requires_grad: leaves with ``True`` receive ``.grad`` after ``backward()``.
        dtype: optional NumPy dtype for the array.
    """

    # ``_keras_mask``: the time-step mask a layer attached (layers/layer.py), as Keras names it;
    # left unset (not initialised here) so making a Tensor costs nothing more.
    __slots__ = ("data", "grad", "requires_grad", "parents", "vjp", "op", "logits", "_pending",
                 "inputs", "_keras_mask", "__weakref__")
    # NumPy must hand mixed expressions (ndarray * Tensor) to Tensor's reflected operators
    # instead of converting the Tensor to an array and silently dropping the graph.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = np.asarray(data, dtype=dtype)
        self.grad = None
        self.requires_grad = requires_grad
        self.parents = ()
        self.vjp = None
        self.op = None
        self._pending = None  # the gradient being summed for this node during backward()
        # Set by softmax/sigmoid: the pre-activation tensor, so crossentropy can use logits
        # (the same shortcut Keras's TensorFlow backend takes).
        self.logits = None

    # ----- array protocol -----
    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self.data
        return self.data.astype(dtype, copy=False)

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (a copy, as Keras's ``numpy()`` is)."""
        return self.data.copy()

    def item(self):
        return self.data.item()

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __format__(self, spec: str) -> str:
        # f"{loss:.2f}" on a scalar, as TensorFlow's eager tensors allow (Keras guides do it).
        if not spec:
            return str(self)
        return format(self.data[()] if self.data.ndim == 0 else self.data, spec)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.data.dtype}{grad})"

    # ----- autodiff -----
    def backward(self, grad=None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Args:
            grad: the upstream gradient, same shape as ``self``. May be omitted only for a
                tensor with one element (a scalar loss).
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a tensor with one element, but this "
                    f"tensor has shape {self.shape}. Reduce it first (e.g. `.sum()`) or pass "
                    f"`grad=` of shape {self.shape}."
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad, dtype=self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(grad=...) got shape {grad.shape}; expected the tensor's shape "
                    f"{self.shape}."
                )
        order = topological_order((self,))
        self._pending = grad
        try:
            for node in reversed(order):
                g, node._pending = node._pending, None
                if g is None:
                    continue
                if node.vjp is None:
                    if node.requires_grad:
                        _accumulate_leaf(node, g)
                    continue
                for parent, parent_grad in zip(node.parents, node.vjp(g)):
                    if parent_grad is None:
                        continue
                    # Out-of-place sum: a VJP may return the very array it was given (add's
                    # does), so adding in place could corrupt a sibling's gradient.
                    pending = parent._pending
                    parent._pending = parent_grad if pending is None else pending + parent_grad
        finally:
            for node in order:  # after an error in a VJP, leave no partial sums behind
                node._pending = None

    def detach(self) -> "Tensor":
        """The same values, cut from the graph (no gradient flows through)."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        """Reset ``.grad`` (in place when it is a view into a shared buffer)."""
        if self.grad is not None:
            self.grad[...] = 0

    # ----- operators forward to the primitive ops -----
    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __truediv__(self, other):
        return _ops().divide(self, other)

    def __rtruediv__(self, other):
        return _ops().divide(other, self)

    def __neg__(self):
        return _ops().negative(self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __getitem__(self, index):
        return _ops().getitem(self, index=index)

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other):
        return self.data < np.asarray(other)

    def __le__(self, other):
        return self.data <= np.asarray(other)

    def __gt__(self, other):
        return self.data > np.asarray(other)

    def __ge__(self, other):
        return self.data >= np.asarray(other)

    __hash__ = object.__hash__

    @property
    def T(self):
        return _ops().transpose(self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops().reshape(self, shape=shape)

    # np.sum(t), np.max(t) ... call these with NumPy's keywords (out=None, dtype, where ...):
    # those other than axis/keepdims get NumPy's answer on the values, not a recorded op.
    def sum(self, axis=None, keepdims=False, **numpy_options):
        if any(v is not None for v in numpy_options.values()):
            return np.sum(self.data, axis=axis, keepdims=keepdims, **numpy_options)
        return _ops().sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, **numpy_options):
        if any(v is not None for v in numpy_options.values()):
            return np.mean(self.data, axis=axis, keepdims=keepdims, **numpy_options)
        return _ops().mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, **numpy_options):
        if any(v is not None for v in numpy_options.values()):
            return np.max(self.data, axis=axis, keepdims=keepdims, **numpy_options)
        return _ops().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, **numpy_options):
        if any(v is not None for v in numpy_options.values()):
            return np.min(self.data, axis=axis, keepdims=keepdims, **numpy_options)
        return _ops().min(self, axis=axis, keepdims=keepdims)

    def astype(self, dtype):
        return _ops().cast(self, dtype=dtype)


def _accumulate_leaf(leaf: Tensor, g: np.ndarray) -> None:
    if leaf.grad is None:
        leaf.grad = np.array(g, dtype=leaf.data.dtype)  # copy: g may be shared with others
    else:
        # In place, so a gradient buffer shared with the optimizer is filled directly.
        np.add(leaf.grad, g, out=leaf.grad, casting="unsafe")


def topological_order(roots) -> list[Tensor]:
    """Every node reachable from ``roots`` (a sequence of Tensors), each after all its
    parents; iterative, so deep graphs are fine. ``backward`` and ``GradientTape`` both
    walk the graph with it."""
    order, visited = [], set()
    stack = []
    for root in reversed(roots):  # (a loop, not a comprehension: backward's ~300 ns)
        stack.append((root, False))
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node.parents:
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


def as_tensor(value, dtype=None) -> Tensor:
    """``value`` itself if it is a Tensor, else a constant Tensor of it."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=dtype)


def wrap_primitive(forward, name: str, selective: bool = False):
    """Turn ``forward(*arrays, **options) -> (out, vjp)`` into an op on Tensors.

    ``vjp(g)`` returns one gradient (or None) per positional argument, in the *output's*
    broadcast shape; this wrapper sums each back to its input's shape (``unbroadcast``), the
    one place where broadcasting is undone. With ``selective=True`` the VJP is called as
    ``vjp(g, needs)``, ``needs`` telling which positional arguments want a gradient, so that
    expensive unused gradients (e.g. w.r.t. the input data of the first layer) are skipped.
    When no argument needs a gradient, or under ``no_grad``, no graph is recorded.
    """

    @functools.wraps(forward)
    def op(*args, **options):
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        out, vjp = forward(*arrays, **options)
        if type(out) is not np.ndarray:  # full reductions give NumPy scalars
            out = np.asarray(out)
        result = Tensor.__new__(Tensor)
        result.data = out
        result.grad = None
        result.op = name
        result.logits = None
        result._pending = None
        if _mode.enabled:
            wanted = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
            if wanted:
                result.requires_grad = True
                result.parents = tuple(args[i] for i in wanted)
                result.vjp = _node_vjp(vjp, arrays, wanted, selective)
                if _mode.taping:
                    # Under a GradientTape: the op's own arguments, so the tape can redo the
                    # VJP with recorded ops (second derivatives), and the mark that the node
                    # was recorded by a tape (backprop/tape.py). fit pays one flag read.
                    result.inputs = (args, options)
                return result
        result.requires_grad = False
        result.parents = ()
        result.vjp = None
        return result

    op.primitive_name = name
    return op


def _node_vjp(vjp, arrays, wanted, selective):
    """The VJP of a node: gradients of the ``wanted`` arguments only, in their shapes."""
    shapes = [np.shape(arrays[i]) for i in wanted]
    if selective:
        needs = tuple(i in wanted for i in range(len(arrays)))

        def node_vjp(g):
            grads = vjp(g, needs)
            return [unbroadcast(grads[i], shape) for i, shape in zip(wanted, shapes)]
    else:
        def node_vjp(g):
            grads = vjp(g)
            return [unbroadcast(grads[i], shape) for i, shape in zip(wanted, shapes)]

    return node_vjp


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``.

    >>> unbroadcast(np.ones((4, 3)), (3,)).tolist()
    [4.0, 4.0, 4.0]
    >>> unbroadcast(np.ones((4, 3)), (4, 1)).tolist()
    [[3.0], [3.0], [3.0], [3.0]]
    """
    if grad is None or getattr(grad, "shape", None) == shape:
        return grad
    grad = np.asarray(grad)
    if grad.shape == shape:
        return grad
    extra = np.ndim(grad) - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
