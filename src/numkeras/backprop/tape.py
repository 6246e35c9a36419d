"""``GradientTape``: TensorFlow's way of asking for gradients, on numkeras's graph.

The engine records every operation on a Tensor that needs a gradient (trainable variables,
watched tensors) as it runs, for ``fit`` as well. While a tape is open each recorded node also
keeps its op's arguments (the mark that a tape saw it, and what second derivatives need);
``gradient`` walks the marked graph from the targets back to the sources, *without* touching
any ``.grad`` (fit's flat gradient buffer stays as it is).

When ``gradient`` is called while another tape is open (nested tapes), the walk is done with
recorded ops (the "differentiable VJPs" below), so the outer tape can differentiate the
gradient again: second derivatives of the elementwise, matrix, reduction, shape and
softmax/crossentropy ops. An op without such a rule (convolutions, pooling, normalization)
still gives the right first derivative, and raises a clear error if a second one is asked of it.

>>> from numkeras.backprop import Tensor, Variable
>>> x = Variable([3.0], name="x")
>>> with GradientTape() as outer:
...     with GradientTape() as inner:
...         y = x * x * x                      # y = x^3
...     dy = inner.gradient(y, x)              # 3x^2 = 27
>>> float(dy.data[0]), float(outer.gradient(dy, x).data[0])   # 6x = 18
(27.0, 18.0)

As in TensorFlow, values computed before a tape was opened are constants to it, and a plain
tensor needs ``watch`` to be a source. Differences (docs/compat.md): a value computed under one
tape counts as recorded for every tape of the thread, and ``stop_recording()`` pauses every
tape of the thread, not only this one.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from numkeras import config
from numkeras.backprop import blas, math_ops, ops
from numkeras.backprop.tensor import (
    Tensor, _mode, is_grad_enabled, no_grad, topological_order, wrap_primitive,
)
from numkeras.backprop.variable import Variable


class _TapeStack(threading.local):
    def __init__(self):
        self.tapes = []  # open (entered, recording) tapes of this thread, innermost last


_open = _TapeStack()


class UnconnectedGradients:
    """What ``gradient`` returns for a source the target does not depend on (TF's enum)."""

    NONE = "none"
    ZERO = "zero"


class GradientTape:
    """Record operations for automatic differentiation (``tf.GradientTape``).

    Args:
        persistent: allow several ``gradient`` calls on this tape (else only one).
        watch_accessed_variables: give gradients for every trainable variable used while the
            tape is open; with False only for what ``watch`` was given.

    >>> from numkeras.backprop import Tensor
    >>> x = Tensor([1.0, 2.0])
    >>> with GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = (x * x).sum()
    >>> tape.gradient(y, x).data.tolist()
    [2.0, 4.0]
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._watched = {}       # id -> tensor given to watch()
        self._made_watchable = []  # tensors whose requires_grad watch() switched on
        self._used = False
        self._recording = False

    # ----- recording -----
    def __enter__(self):
        if self._recording:
            raise RuntimeError("This GradientTape is already recording; open a new tape "
                               "instead of entering the same one twice.")
        self._recording = True
        _open.tapes.append(self)
        _mode.taping += 1
        for tensor in self._watched.values():  # watched before the block (or an earlier one)
            self._make_watchable(tensor)
        # BLAS as fit holds it (one thread, large work split: backprop/blas.py), so a custom
        # loop runs at fit's speed and computes fit's bits.
        self._blas = blas.managed(config.blas_threads())
        self._blas.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._recording = False
        if self in _open.tapes:
            _open.tapes.remove(self)
            _mode.taping -= 1
        self._blas.__exit__(*exc_info)
        # Watched constants go back to being constants: what was recorded stays recorded.
        for tensor in self._made_watchable:
            tensor.requires_grad = False
        self._made_watchable = []

    def watch(self, tensor) -> None:
        """Record the operations on ``tensor`` (a Tensor, Variable, or a nested list, tuple or
        dict of them) from now on, so ``gradient`` can answer for it."""
        for item in _flatten(tensor):
            if not isinstance(item, Tensor):
                raise TypeError(
                    f"GradientTape.watch() needs Tensors or Variables, received "
                    f"{type(item).__name__}. Convert the value first, e.g. "
                    f"`x = tf.constant(x)` (or numkeras.backprop.Tensor(x)), and use that x "
                    f"in the computation.")
            if not np.issubdtype(item.dtype, np.floating):
                continue  # TF watches only floating tensors; integers have no gradient
            self._watched[id(item)] = item
            if self._recording:  # else __enter__ does it: no constant stays switched on
                self._make_watchable(item)

    def _make_watchable(self, tensor) -> None:
        if not tensor.requires_grad:
            tensor.requires_grad = True
            self._made_watchable.append(tensor)  # switched back off at __exit__

    def watched_variables(self) -> tuple:
        """The variables given to ``watch`` (trainable variables are watched implicitly)."""
        return tuple(t for t in self._watched.values() if isinstance(t, Variable))

    @contextlib.contextmanager
    def stop_recording(self):
        """Run the enclosed code without recording (pauses every tape of this thread)."""
        if not self._recording:
            raise ValueError("GradientTape.stop_recording() can only be used inside the "
                             "tape's `with` block.")
        _open.tapes.remove(self)
        _mode.taping -= 1
        try:
            with no_grad():
                yield
        finally:
            _open.tapes.append(self)
            _mode.taping += 1

    def reset(self) -> None:
        """Forget what was watched (the recorded graph belongs to the tensors themselves)."""
        self._watched = {}
        self._used = False

    # ----- gradients -----
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of ``target``)/d``sources``, in the structure of ``sources``.

        Args:
            target: a Tensor, or a (nested) list/tuple/dict of Tensors; several targets and
                non-scalar targets are summed, as TensorFlow does.
            sources: a Variable or Tensor, or a (nested) list/tuple/dict of them.
            output_gradients: optional upstream gradient per target (same structure).
            unconnected_gradients: ``"none"`` (a source the target does not depend on gets
                None) or ``"zero"`` (zeros of the source's shape).

        Returns:
            Tensors in the structure of ``sources``.
        """
        if self._used and not self._persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients. Use `tf.GradientTape(persistent=True)` to call gradient() "
                "several times.")
        self._used = True
        mode = str(getattr(unconnected_gradients, "value", unconnected_gradients)).lower()
        if mode not in ("none", "zero"):
            raise ValueError(f"`unconnected_gradients` must be 'none' or 'zero', received "
                             f"{unconnected_gradients!r}.")
        targets = _flatten(target)
        flat_sources = _flatten(sources)
        for item in targets + flat_sources:
            if not isinstance(item, Tensor):
                raise TypeError(f"GradientTape.gradient() needs Tensors or Variables as target "
                                f"and sources, received {type(item).__name__}.")
        seeds = None if output_gradients is None else _flatten(output_gradients)
        if seeds is not None and len(seeds) != len(targets):
            raise ValueError(f"`output_gradients` has {len(seeds)} entries for {len(targets)} "
                             f"targets; pass one per target.")
        asked = [s for s in flat_sources if self._is_watched(s)]
        with blas.managed(config.blas_threads()):
            grads = gradients(targets, asked, seeds, create_graph=self._records_gradients())
        results = []
        for source in flat_sources:
            grad = grads.get(id(source)) if self._is_watched(source) else None
            if grad is None and mode == "zero":
                grad = Tensor(np.zeros(source.shape, dtype=source.dtype))
            results.append(grad)
        return _pack(sources, iter(results))

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE):
        """d``target``/d``sources`` element by element: shape ``target.shape + source.shape``
        (one backward walk per element of the target, so keep the target small)."""
        persistent, self._persistent = self._persistent, True
        try:
            flat_sources = _flatten(sources)
            rows = [[] for _ in flat_sources]
            for i in range(int(np.prod(target.shape))):
                seed = np.zeros(target.shape, dtype=target.dtype)
                seed.reshape(-1)[i] = 1
                grads = self.gradient(target, flat_sources, output_gradients=[seed],
                                      unconnected_gradients=unconnected_gradients)
                for row, grad in zip(rows, grads):
                    row.append(None if grad is None else grad.data)
        finally:
            self._persistent = persistent
        out = [None if any(g is None for g in row) else
               Tensor(np.stack(row).reshape(target.shape + source.shape))
               for row, source in zip(rows, flat_sources)]
        return _pack(sources, iter(out))

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE):
        """Per-sample Jacobians ``d target[b] / d source[b]``: shape ``(batch,) +
        target.shape[1:] + source.shape[1:]``, assuming samples do not interact (as TF)."""
        persistent, self._persistent = self._persistent, True
        try:
            batch, width = target.shape[0], int(np.prod(target.shape[1:]))
            rows = []
            for i in range(width):  # one walk per output feature, all samples at once
                seed = np.zeros((batch, width), dtype=target.dtype)
                seed[:, i] = 1
                grad = self.gradient(target, source, output_gradients=[
                    seed.reshape(target.shape)], unconnected_gradients=unconnected_gradients)
                if grad is None:
                    return None
                rows.append(grad.data)
        finally:
            self._persistent = persistent
        stacked = np.stack(rows, axis=1)  # (batch, width) + source.shape[1:]
        return Tensor(stacked.reshape((batch,) + target.shape[1:] + source.shape[1:]))

    def _is_watched(self, source: Tensor) -> bool:
        if id(source) in self._watched:
            return True
        # Trainable variables are watched on access; with watch_accessed_variables=False
        # only what watch() was given counts (TF returns None for the rest). A tensor that
        # is not watched counts only if a tape computed it (an intermediate value).
        if isinstance(source, Variable):
            return self._watch_accessed_variables
        return _taped(source)

    def _records_gradients(self) -> bool:
        """Whether this gradient must itself be recorded: another tape is open (nested
        tapes), or this persistent tape is asked inside its own block."""
        if not is_grad_enabled():
            return False
        return any(t is not self or self._persistent for t in _open.tapes)


def gradients(targets, sources, output_gradients=None, create_graph=False) -> dict:
    """Gradients of the sum of ``targets`` w.r.t. ``sources``: ``{id(source): Tensor}`` for
    every connected source. Leaves' ``.grad`` is not touched. With ``create_graph`` the VJPs
    are computed with recorded ops, so the result can be differentiated again."""
    order = topological_order(targets)
    source_ids = {id(s) for s in sources}
    # Only nodes on a path to a source need their VJP (skips e.g. the first layer's input),
    # and only through operations recorded under a tape, as in TensorFlow: a value computed
    # before any tape was opened is a constant to the tape.
    relevant = set()
    for node in order:
        if id(node) in source_ids or (_taped(node) and any(id(p) in relevant
                                                           for p in node.parents)):
            relevant.add(id(node))
    pending = {}
    for i, target in enumerate(targets):
        seed = None if output_gradients is None else output_gradients[i]
        seed = np.ones(target.shape, dtype=target.dtype) if seed is None else (
            seed if isinstance(seed, Tensor) and create_graph else
            np.asarray(seed.data if isinstance(seed, Tensor) else seed, dtype=target.dtype))
        if create_graph and not isinstance(seed, Tensor):
            seed = Tensor(seed)
        _add_pending(pending, target, seed)
    found = {}
    for node in reversed(order):
        g = pending.pop(id(node), None)
        if g is None or id(node) not in relevant:
            continue
        if id(node) in source_ids:
            found[id(node)] = g
        if node.vjp is None:
            continue
        parent_grads = _differentiable_vjp(node, g) if create_graph else node.vjp(g)
        for parent, parent_grad in zip(node.parents, parent_grads):
            if parent_grad is not None and id(parent) in relevant:
                _add_pending(pending, parent, parent_grad)
    out = {}
    for source in sources:
        g = found.get(id(source))
        if g is not None:
            out[id(source)] = g if isinstance(g, Tensor) else Tensor(
                np.asarray(g, dtype=source.dtype).reshape(source.shape))
    return out


def _taped(node: Tensor) -> bool:
    """Whether ``node`` was made by an operation while a tape was recording."""
    return getattr(node, "inputs", None) is not None


def _add_pending(pending: dict, node: Tensor, grad) -> None:
    # Out of place: a VJP may hand back the very array it was given.
    previous = pending.get(id(node))
    pending[id(node)] = grad if previous is None else previous + grad


# ----- differentiable VJPs: the same rules as ops.py, written with recorded ops -----

DIFFERENTIABLE_VJPS: dict = {}


def _rule(*names):
    def register(fn):
        for name in names:
            DIFFERENTIABLE_VJPS[name] = fn
        return fn

    return register


def _differentiable_vjp(node: Tensor, g: Tensor) -> list:
    """The gradients of ``node``'s parents as recorded Tensors (for second derivatives)."""
    inputs = getattr(node, "inputs", None)
    rule = DIFFERENTIABLE_VJPS.get(node.op)
    args, options = inputs if inputs is not None else ((), {})
    if rule is None or inputs is None:
        return _opaque_vjp(node, g)
    grads = rule(g, node, *args, **options)
    wanted = _wanted_positions(args, node.parents)
    return [_unbroadcast(grads[i], np.shape(_data(args[i]))) for i in wanted]


def _wanted_positions(args, parents) -> list:
    """Positions of ``parents`` among the op's arguments (parents keep the arguments' order)."""
    positions, k = [], 0
    for i, arg in enumerate(args):
        if k < len(parents) and arg is parents[k]:
            positions.append(i)
            k += 1
    return positions


def _opaque_vjp(node: Tensor, g: Tensor) -> list:
    """First derivatives of an op without a differentiable rule: right values, and a node that
    refuses (clearly) to be differentiated again."""
    grads = node.vjp(g.data)
    upstream = [t for t in (g,) + tuple(node.parents) if t.requires_grad]
    out = []
    for grad in grads:
        tensor = None if grad is None else Tensor(np.asarray(grad))
        if tensor is not None and upstream and is_grad_enabled():
            tensor.requires_grad = True
            tensor.parents = tuple(upstream)
            tensor.op = f"gradient_of_{node.op}"
            tensor.vjp = _refuse(node.op)
            tensor.inputs = ((), {})  # recorded (by the tape computing this gradient)
        out.append(tensor)
    return out


def _refuse(op_name):
    def vjp(g):
        raise NotImplementedError(
            f"Second derivatives through the op '{op_name}' are not supported by numkeras's "
            f"GradientTape (it has no differentiable gradient rule). Nested tapes work through "
            f"elementwise, matmul/Dense, reduction, shape and softmax/crossentropy ops.")

    return vjp


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _unbroadcast(grad, shape: tuple):
    """``tensor.unbroadcast`` with recorded sums."""
    if grad is None:
        return None
    if not isinstance(grad, Tensor):
        grad = Tensor(np.asarray(grad))
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = ops.sum(grad, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = ops.sum(grad, axis=stretched, keepdims=True)
    return grad


def _const(mask):
    return Tensor(np.asarray(mask))


@_rule("add")
def _add(g, out, x, y):
    return g, g


@_rule("subtract")
def _subtract(g, out, x, y):
    return g, -g


@_rule("multiply")
def _multiply(g, out, x, y):
    return g * y, g * x


@_rule("divide")
def _divide(g, out, x, y):
    return g / y, -g * x / (y * y)


@_rule("negative")
def _negative(g, out, x):
    return (-g,)


@_rule("power")
def _power(g, out, x, y):
    # d(x^y)/dy = x^y log x, defined for x > 0 only (as ops.power's VJP).
    positive = np.asarray(_data(x)) > 0
    log_x = ops.log(ops.where(positive, x, 1.0)) if isinstance(x, Tensor) else \
        _const(np.log(np.where(positive, _data(x), 1)))
    return g * y * ops.power(x, y - 1), g * out * log_x


@_rule("maximum")
def _maximum(g, out, x, y):
    return g * _const(_data(x) >= _data(y)), g * _const(_data(x) < _data(y))


@_rule("minimum")
def _minimum(g, out, x, y):
    return g * _const(_data(x) <= _data(y)), g * _const(_data(x) > _data(y))


@_rule("where")
def _where(g, out, condition, x, y):
    condition = np.asarray(_data(condition), dtype=bool)
    return None, ops.where(condition, g, 0.0), ops.where(condition, 0.0, g)


@_rule("clip")
def _clip(g, out, x, *, low, high):
    return (g * _const((_data(x) >= low) & (_data(x) <= high)),)


@_rule("cast")
def _cast(g, out, x, *, dtype):
    return (ops.cast(g, dtype=np.asarray(_data(x)).dtype),)


@_rule("exp")
def _exp(g, out, x):
    return (g * out,)


@_rule("expm1")
def _expm1(g, out, x):
    return (g * (out + 1.0),)


@_rule("log")
def _log(g, out, x):
    return (g / x,)


@_rule("log1p")
def _log1p(g, out, x):
    return (g / (x + 1.0),)


@_rule("sqrt")
def _sqrt(g, out, x):
    return (g * 0.5 / out,)


@_rule("abs")
def _abs(g, out, x):
    return (g * _const(np.sign(_data(x))),)


@_rule("tanh")
def _tanh(g, out, x):
    return (g * (1.0 - out * out),)


@_rule("sigmoid")
def _sigmoid(g, out, x):
    return (g * out * (1.0 - out),)


@_rule("relu")
def _relu(g, out, x):
    return (g * _const(out.data > 0),)


@_rule("erf", "erfc")
def _erf(g, out, x):
    sign = 1.0 if out.op == "erf" else -1.0
    return (g * (sign * 2 / np.sqrt(np.pi)) * ops.exp(-(x * x)),)


@_rule("sin")
def _sin(g, out, x):
    return (g * math_ops.cos(x),)


@_rule("cos")
def _cos(g, out, x):
    return (-g * math_ops.sin(x),)


@_rule("tan")
def _tan(g, out, x):
    return (g * (1.0 + out * out),)


@_rule("sinh")
def _sinh(g, out, x):
    return (g * math_ops.cosh(x),)


@_rule("cosh")
def _cosh(g, out, x):
    return (g * math_ops.sinh(x),)


@_rule("arctan")
def _arctan(g, out, x):
    return (g / (x * x + 1.0),)


def _expand(g, shape, axis, keepdims):
    """A reduced gradient with its reduced axes back (as size 1)."""
    if axis is None:
        return ops.reshape(g, shape=(1,) * len(shape))
    if keepdims:
        return g
    axes = (axis,) if np.isscalar(axis) else tuple(axis)
    expanded = list(g.shape)
    for a in sorted(a % len(shape) for a in axes):
        expanded.insert(a, 1)
    return ops.reshape(g, shape=tuple(expanded))


@_rule("sum")
def _sum(g, out, x, *, axis=None, keepdims=False):
    shape = np.shape(_data(x))
    return (ops.broadcast_to(_expand(g, shape, axis, keepdims), shape=shape),)


@_rule("max")
def _max(g, out, x, *, axis=None, keepdims=False):
    data = _data(x)
    peak = np.max(data, axis=axis, keepdims=True)
    winners = data == peak
    share = winners / np.sum(winners, axis=axis, keepdims=True)
    return (_const(share.astype(data.dtype)) * _expand(g, data.shape, axis, keepdims),)


@_rule("reshape")
def _reshape(g, out, x, *, shape):
    return (ops.reshape(g, shape=np.shape(_data(x))),)


@_rule("transpose")
def _transpose(g, out, x, *, axes=None):
    inverse = None if axes is None else tuple(np.argsort(axes))
    return (ops.transpose(g, axes=inverse),)


@_rule("broadcast_to")
def _broadcast_to(g, out, x, *, shape):
    return (g,)


@_rule("getitem")
def _getitem(g, out, x, *, index):
    data = _data(x)
    return (scatter(g, index=index, shape=data.shape),)


@_rule("embedding_lookup")
def _embedding_lookup(g, out, embeddings, *, indices):
    return (scatter(g, index=np.asarray(indices), shape=np.shape(_data(embeddings))),)


@_rule("concatenate")
def _concatenate(g, out, *xs, axis=0):
    grads, start = [], 0
    for x in xs:
        size = np.shape(_data(x))[axis]
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, start + size)
        grads.append(g[tuple(index)])
        start += size
    return tuple(grads)


@_rule("stack")
def _stack(g, out, *xs, axis=0):
    axis = axis % g.ndim
    return tuple(g[(slice(None),) * axis + (i,)] for i in range(len(xs)))


@_rule("pad")
def _pad(g, out, x, *, pad_width, value=0.0):
    inner = tuple(slice(before, n - after) for (before, after), n in zip(pad_width, g.shape))
    return (g[inner],)


def _swap(t):
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return ops.transpose(t, axes=tuple(axes))


@_rule("matmul")
def _matmul(g, out, x, y):
    x_t = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    y_t = y if isinstance(y, Tensor) else Tensor(np.asarray(y))
    if x_t.ndim == 1 and y_t.ndim == 1:
        return g * y_t, g * x_t
    if x_t.ndim == 1:
        gx = ops.reshape(ops.matmul(y_t, ops.reshape(g, shape=g.shape + (1,))),
                         shape=g.shape[:-1] + (x_t.shape[0],))
        gy = ops.reshape(x_t, shape=(-1, 1)) * ops.reshape(g, shape=g.shape[:-1] + (1, -1))
        return gx, gy
    if y_t.ndim == 1:
        gx = ops.reshape(g, shape=g.shape + (1,)) * y_t
        gy = ops.reshape(ops.matmul(_swap(x_t), ops.reshape(g, shape=g.shape + (1,))),
                         shape=g.shape[:-1] + (y_t.shape[0],))
        return gx, gy
    return ops.matmul(g, _swap(y_t)), ops.matmul(_swap(x_t), g)


_DENSE_ACTIVATION_GRADS = {
    "linear": lambda g, out: g,
    "relu": lambda g, out: g * _const(out.data > 0),
    "sigmoid": lambda g, out: g * out * (1.0 - out),
    "tanh": lambda g, out: g * (1.0 - out * out),
}


@_rule("dense")
def _dense(g, out, x, kernel, bias, *, activation="linear"):
    units = np.shape(_data(kernel))[-1]
    x_shape = np.shape(_data(x))
    gz = ops.reshape(_DENSE_ACTIVATION_GRADS[activation](g, out), shape=(-1, units))
    x2 = ops.reshape(x if isinstance(x, Tensor) else Tensor(np.asarray(x)),
                     shape=(-1, x_shape[-1]))
    kernel_t = kernel if isinstance(kernel, Tensor) else Tensor(np.asarray(kernel))
    gx = ops.reshape(ops.matmul(gz, ops.transpose(kernel_t)), shape=x_shape)
    gk = ops.matmul(ops.transpose(x2), gz)
    gb = None if bias is None else ops.sum(gz, axis=0)
    return gx, gk, gb


@_rule("softmax")
def _softmax(g, out, x, *, axis=-1):
    return (out * (g - ops.sum(g * out, axis=axis, keepdims=True)),)


@_rule("log_softmax")
def _log_softmax(g, out, x, *, axis=-1):
    return (g - ops.exp(out) * ops.sum(g, axis=axis, keepdims=True),)


@_rule("logsumexp")
def _logsumexp(g, out, x, *, axis=-1, keepdims=False):
    shape = _data(x).shape
    g, out = _expand(g, shape, axis, keepdims), _expand(out, shape, axis, keepdims)
    return (g * ops.exp(x - out),)


@_rule("sparse_softmax_cross_entropy")
def _sparse_softmax_cross_entropy(g, out, logits, labels, *, mean=False):
    data = _data(logits)
    classes = data.shape[-1]
    one_hot = np.eye(classes, dtype=data.dtype)[np.asarray(_data(labels)).reshape(-1)]
    diff = ops.softmax(logits, axis=-1) - _const(one_hot.reshape(data.shape))
    if mean:
        count = int(np.prod(data.shape[:-1]))
        return diff * (g / float(count)), None
    return diff * ops.reshape(g, shape=g.shape + (1,)), None


def _scatter(g, *, index, shape):
    """A zero array of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate):
    the gradient of ``x[index]``, as an op so that it can be differentiated again."""
    full = np.zeros(shape, dtype=np.asarray(g).dtype)
    np.add.at(full, index, g)
    return full, lambda h: (np.asarray(h)[index],)


# Not in ops.PRIMITIVES (only tapes use it); gradient-checked in tests/backprop/test_tape.py.
scatter = wrap_primitive(_scatter, "scatter")


# ----- nested structures (lists, tuples, dicts of tensors) -----


def _flatten(structure) -> list:
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in _flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    return [structure]


def _pack(structure, leaves):
    if isinstance(structure, dict):
        packed = {key: _pack(structure[key], leaves) for key in sorted(structure)}
        return {key: packed[key] for key in structure}
    if isinstance(structure, (list, tuple)):
        items = [_pack(item, leaves) for item in structure]
        return items if isinstance(structure, list) else type(structure)(items) \
            if not hasattr(structure, "_fields") else type(structure)(*items)
    return next(leaves)
