"""Core ops: tensor conversion, dtypes, shapes, control flow (Keras 3's ``keras.ops.core``).

Every op in ``numkeras.ops`` takes NumPy arrays, Python numbers and lists, and numkeras
Tensors or Variables, and returns a numkeras :class:`~numkeras.backprop.Tensor`. The dtype rules
follow Keras: Python floats and lists of floats become ``floatx()`` (float32), Python ints
``int32``; NumPy arrays and Tensors keep their dtype (so float64 stays float64, as with Keras's
TensorFlow and PyTorch backends).

>>> from numkeras import ops
>>> ops.convert_to_tensor([1.0, 2.0]).dtype
dtype('float32')
>>> ops.convert_to_numpy(ops.cast([1.7, -2.2], "int32"))
array([ 1, -2], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from numkeras import config
from numkeras.backprop import ops as _p
from numkeras.backprop.tensor import Tensor

__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor",
    "custom_gradient", "dtype", "fori_loop", "is_tensor", "map", "ndim", "saturate_cast",
    "scan", "scatter", "scatter_update", "shape", "size", "slice", "slice_update",
    "stop_gradient", "switch", "unstack", "vectorized_map", "while_loop",
]


def standardize_dtype(dtype) -> str | None:
    """A dtype as Keras's string (``"float32"``, ``"int32"``, ``"bool"``); None stays None."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float", "int"):
        return {"float": config.floatx(), "int": "int32"}[dtype]
    try:
        return np.dtype(dtype).name
    except TypeError:
        name = getattr(dtype, "name", None)  # e.g. a TensorFlow-style dtype object
        if name is None:
            raise ValueError(f"Unknown dtype {dtype!r}; use a name such as 'float32'.") from None
        return np.dtype(name).name


def _python_array(x) -> np.ndarray:
    """A Python number or (nested) list as an array of Keras's default dtype."""
    array = np.asarray(x)
    if array.dtype.kind == "f":
        return array.astype(config.floatx())
    if array.dtype.kind in "iu":
        return array.astype("int32")
    return array


def to_tensor(x, dtype=None) -> Tensor:
    """``x`` as a Tensor (Tensors and Variables as they are, so gradients flow)."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == dtype else _p.cast(x, dtype=dtype)
    array = x if isinstance(x, (np.ndarray, np.generic)) else _python_array(x)
    if dtype is not None:
        array = np.asarray(array).astype(dtype, copy=False)
    return Tensor(array)


def value(x) -> np.ndarray:
    """The NumPy value of ``x`` (no copy for Tensors and arrays)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    return _python_array(x)


def to_float(x) -> Tensor:
    """``x`` as a float Tensor: floats keep their dtype, ints and bools become floatx."""
    x = to_tensor(x)
    return x if x.dtype.kind in "fc" else _p.cast(x, dtype=config.floatx())


def constant(array, dtype=None) -> Tensor:
    """A Tensor of a computed, non-differentiable NumPy result."""
    return Tensor(np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> Tensor:
    """Convert ``x`` to a Tensor (Keras's dtype defaults: float32 for Python floats, int32 for
    Python ints; arrays keep theirs). ``sparse`` and ``ragged`` must be falsy.

    >>> convert_to_tensor(3).dtype, convert_to_tensor(np.ones(2)).dtype
    (dtype('int32'), dtype('float64'))
    """
    if sparse or ragged:
        raise ValueError("numkeras has dense tensors only: pass sparse=None and ragged=None.")
    return to_tensor(x, standardize_dtype(dtype))


def convert_to_numpy(x) -> np.ndarray:
    """The values of ``x`` as a NumPy array.

    >>> convert_to_numpy(convert_to_tensor([1, 2]))
    array([1, 2], dtype=int32)
    """
    return np.array(value(x))


def is_tensor(x) -> bool:
    """Whether ``x`` is a numkeras Tensor (or Variable).

    >>> is_tensor(convert_to_tensor(1.0)), is_tensor(1.0)
    (True, False)
    """
    return isinstance(x, Tensor)


def cast(x, dtype) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float types; float to int rounds
    toward zero).

    >>> cast([1.5, -1.5], "int32")
    Tensor([ 1, -1], dtype=int32)
    """
    dtype = standardize_dtype(dtype)
    x = to_tensor(x)
    if x.dtype == dtype:
        return x
    if np.dtype(dtype).kind in "fc":
        return _p.cast(x, dtype=dtype)
    return constant(x.data.astype(dtype))


def saturate_cast(x, dtype) -> Tensor:
    """Cast after clipping to ``dtype``'s range, so out-of-range values saturate instead of
    wrapping.

    >>> saturate_cast([-3.0, 300.0], "uint8")
    Tensor([  0, 255], dtype=uint8)
    """
    dtype = np.dtype(standardize_dtype(dtype))
    x = to_tensor(x)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return constant(np.clip(x.data, info.min, info.max).astype(dtype))
    return cast(x, dtype)


def dtype(x) -> str:
    """The dtype of ``x`` as a string.

    >>> dtype([1.0])
    'float32'
    """
    return standardize_dtype(value(x).dtype)


def shape(x) -> tuple:
    """The shape of ``x`` as a tuple of ints.

    >>> shape(np.zeros((2, 3)))
    (2, 3)
    """
    return tuple(np.shape(value(x)))


def ndim(x) -> int:
    """The number of axes of ``x``.

    >>> ndim(np.zeros((2, 3)))
    2
    """
    return int(np.ndim(value(x)))


def size(x) -> int:
    """The number of elements of ``x``.

    >>> size(np.zeros((2, 3)))
    6
    """
    return int(np.size(value(x)))


def stop_gradient(variable) -> Tensor:
    """The same values, with no gradient flowing back to ``variable``.

    >>> stop_gradient([1.0]).requires_grad
    False
    """
    return Tensor(value(variable))


def unstack(x, num=None, axis=0) -> list:
    """Split ``x`` along ``axis`` into a list of tensors without that axis.

    >>> [t.numpy().tolist() for t in unstack([[1, 2], [3, 4]], axis=1)]
    [[1, 3], [2, 4]]
    """
    x = to_tensor(x)
    count = x.shape[axis]
    if num is not None and num != count:
        raise ValueError(f"unstack: num={num} but axis {axis} of shape {x.shape} has {count}.")
    position = axis % x.ndim
    return [_p.getitem(x, index=(builtin_slice(None),) * position + (i,)) for i in range(count)]


builtin_slice = slice


def slice(inputs, start_indices, shape) -> Tensor:  # noqa: A001 - Keras's name
    """The block of ``inputs`` starting at ``start_indices`` with size ``shape`` (-1: to the
    end).

    >>> slice(np.arange(6).reshape(2, 3), (0, 1), (2, 2)).numpy().tolist()
    [[1, 2], [4, 5]]
    """
    inputs = to_tensor(inputs)
    starts = [int(s) for s in np.asarray(value(start_indices)).reshape(-1)]
    sizes = [int(s) for s in np.asarray(value(shape)).reshape(-1)]
    if len(starts) != inputs.ndim or len(sizes) != inputs.ndim:
        raise ValueError(
            f"slice: start_indices {starts} and shape {sizes} need one entry per axis of the "
            f"input of shape {inputs.shape}.")
    index = tuple(builtin_slice(s, None if n == -1 else s + n) for s, n in zip(starts, sizes))
    return _p.getitem(inputs, index=index)


def slice_update(inputs, start_indices, updates) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (differentiable in
    both).

    >>> slice_update(np.zeros((2, 3)), (1, 1), np.ones((1, 2))).numpy().tolist()
    [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    """
    inputs, updates = to_tensor(inputs), to_tensor(updates)
    starts = [int(s) for s in np.asarray(value(start_indices)).reshape(-1)]
    if len(starts) != inputs.ndim or updates.ndim != inputs.ndim:
        raise ValueError(
            f"slice_update: start_indices {starts} and updates of shape {updates.shape} need "
            f"one entry per axis of the input of shape {inputs.shape}.")
    widths = [(s, n - s - u) for s, n, u in zip(starts, inputs.shape, updates.shape)]
    if any(after < 0 or before < 0 for before, after in widths):
        raise ValueError(
            f"slice_update: updates of shape {updates.shape} at {starts} run past the input of "
            f"shape {inputs.shape}.")
    mask = np.zeros(inputs.shape, bool)
    mask[tuple(builtin_slice(s, s + u) for s, u in zip(starts, updates.shape))] = True
    placed = _p.pad(_p.cast(updates, dtype=inputs.dtype), pad_width=tuple(widths))
    return _p.where(mask, placed, inputs)


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (eager: only the chosen branch runs).

    >>> cond(True, lambda: 1, lambda: 2)
    1
    """
    return true_fn() if bool(np.asarray(value(pred))) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, ``index`` clamped to the valid range as Keras does.

    >>> switch(5, [lambda x: x + 1, lambda x: x - 1], 10)
    9
    """
    chosen = int(np.clip(int(np.asarray(value(index))), 0, len(branches) - 1))
    return branches[chosen](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``.

    >>> fori_loop(0, 4, lambda i, v: v + i, 0)
    6
    """
    val = init_val
    for i in range(int(value(lower)), int(value(upper))):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (a lone non-tuple
    ``loop_vars`` is passed as one argument, as Keras does), at most ``maximum_iterations``.

    >>> while_loop(lambda i: i < 5, lambda i: i + 2, 0)
    6
    """
    single = not isinstance(loop_vars, (tuple, list))
    state = (loop_vars,) if single else tuple(loop_vars)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and bool(
            np.asarray(value(cond(*state)))):
        state = body(*state)
        state = (state,) if single else tuple(state)
        steps += 1
    return state[0] if single else (type(loop_vars)(state) if isinstance(loop_vars, list)
                                    else state)


def _stack_results(results):
    if isinstance(results[0], (tuple, list)):
        return type(results[0])(_stack_results(list(group)) for group in zip(*results))
    if isinstance(results[0], dict):
        return {k: _stack_results([r[k] for r in results]) for k in results[0]}
    return _p.stack(*[to_tensor(r) for r in results], axis=0)


def _unstack_leading(xs):
    if isinstance(xs, (tuple, list)):
        parts = [_unstack_leading(x) for x in xs]
        return [type(xs)(p) for p in zip(*parts)]
    if isinstance(xs, dict):
        keys = list(xs)
        parts = [_unstack_leading(xs[k]) for k in keys]
        return [dict(zip(keys, p)) for p in zip(*parts)]
    x = to_tensor(xs)
    return [_p.getitem(x, index=i) for i in range(x.shape[0])]


def map(f, xs):  # noqa: A001 - Keras's name
    """``f`` applied to each slice of ``xs`` along its first axis, results stacked.

    >>> map(lambda x: x * 2, np.array([1, 2])).numpy().tolist()
    [2, 4]
    """
    return _stack_results([f(x) for x in _unstack_leading(xs)])


def vectorized_map(function, elements):
    """Same as :func:`map` (numkeras runs eagerly; the function sees one slice at a time)."""
    return map(function, elements)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the first axis of ``xs``; returns ``(carry, stacked
    ys)``.

    >>> carry, ys = scan(lambda c, x: (c + x, c * x), 0, np.array([1, 2, 3]))
    >>> carry.item(), ys.numpy().tolist()
    (6, [0, 2, 9])
    """
    items = [None] * int(length) if xs is None else _unstack_leading(xs)
    if reverse:
        items = items[::-1]
    carry, ys = init, []
    for item in items:
        carry, y = f(carry, item)
        ys.append(y)
    if reverse:
        ys = ys[::-1]
    return carry, (_stack_results(ys) if ys and ys[0] is not None else None)


def associative_scan(f, elems, reverse=False, axis=0):
    """Running ``f``-combinations along ``axis``: ``out[i] = f(out[i - 1], elems[i])`` (from
    the other end if ``reverse``); ``elems`` may be a nested structure of tensors. Evaluated
    in order, which gives the same result as a parallel scan for an associative ``f``.

    >>> associative_scan(lambda a, b: a + b, np.array([1, 2, 3])).numpy().tolist()
    [1, 3, 6]
    """
    def move(tree, source, destination):
        if isinstance(tree, (tuple, list)):
            return type(tree)(move(t, source, destination) for t in tree)
        if isinstance(tree, dict):
            return {k: move(v, source, destination) for k, v in tree.items()}
        from numkeras.ops.numpy import moveaxis

        return moveaxis(tree, source, destination)

    items = _unstack_leading(move(elems, axis, 0))
    if reverse:
        items = items[::-1]
    results = [items[0]]
    for item in items[1:]:
        results.append(f(results[-1], item))
    if reverse:
        results = results[::-1]
    return move(_stack_results(results), 0, axis)


def scatter(indices, values, shape) -> Tensor:
    """A tensor of zeros of ``shape`` with ``values`` added at ``indices`` (``(N, k)``
    coordinates into the first ``k`` axes; repeated coordinates add up). Differentiable in
    ``values``.

    >>> scatter([[0, 1], [0, 1], [1, 0]], [1.0, 2.0, 5.0], (2, 2)).numpy().tolist()
    [[0.0, 3.0], [5.0, 0.0]]
    """
    from numkeras.backprop.math_ops import segment_sum

    index = np.asarray(value(indices)).astype(np.int64)
    shape = tuple(int(n) for n in shape)
    values = to_tensor(values)
    index = index.reshape(-1, index.shape[-1])
    k = index.shape[-1]
    flat = np.ravel_multi_index(tuple(index.T), shape[:k])  # one row id per update
    rows = _p.reshape(values, shape=(flat.size,) + shape[k:])
    if values.dtype.kind not in "fc":
        out = np.zeros((int(np.prod(shape[:k])),) + shape[k:], values.dtype)
        np.add.at(out, flat, rows.data)
        return constant(out.reshape(shape))
    summed = segment_sum(rows, segment_ids=flat, num_segments=int(np.prod(shape[:k])))
    return _p.reshape(summed, shape=shape)


def scatter_update(inputs, indices, updates, reduction=None) -> Tensor:
    """``inputs`` with the entries at ``indices`` (``(N, k)`` coordinates) replaced by
    ``updates``, or combined with them by ``reduction`` ("add", "max", "min", "mul").
    Differentiable in both for None and "add"; the others give constants.

    >>> scatter_update(np.zeros((2, 2)), [[1, 1]], [7.0]).numpy().tolist()
    [[0.0, 0.0], [0.0, 7.0]]
    """
    inputs, updates = to_tensor(inputs), to_tensor(updates)
    index = np.asarray(value(indices)).astype(np.int64)
    index = index.reshape(-1, index.shape[-1])
    k = index.shape[-1]
    flat = np.ravel_multi_index(tuple(index.T), inputs.shape[:k])
    updates = _p.cast(updates, dtype=inputs.dtype) if updates.dtype != inputs.dtype else updates
    rows = _p.reshape(updates, shape=(flat.size,) + inputs.shape[k:])
    if reduction == "add":
        return _p.add(inputs, scatter(index, rows, inputs.shape))
    if reduction is None:
        # The last update of a repeated coordinate wins; the others get no gradient.
        last = np.unique(flat[::-1], return_index=True)[1]
        keep = flat.size - 1 - last
        hit = np.zeros(int(np.prod(inputs.shape[:k])), bool)
        hit[flat] = True
        mask = hit.reshape(inputs.shape[:k] + (1,) * (inputs.ndim - k))
        placed = scatter(index[keep], _p.getitem(rows, index=keep), inputs.shape)
        return _p.where(mask, placed, inputs)
    combine = {"max": np.maximum, "min": np.minimum, "mul": np.multiply}.get(reduction)
    if combine is None:
        raise ValueError(f"scatter_update: reduction must be None, 'add', 'max', 'min' or "
                         f"'mul', got {reduction!r}.")
    out = inputs.data.copy().reshape((-1,) + inputs.shape[k:])
    combine.at(out, flat, rows.data)
    return constant(out.reshape(inputs.shape))


def custom_gradient(f):
    """Decorate ``f(*tensors) -> (y, grad_fn)`` so that the gradient of ``y`` is
    ``grad_fn(upstream)`` (one gradient per tensor argument, or a single one), as Keras's
    ``ops.custom_gradient``. ``f`` runs without recording its own graph.

    >>> from numkeras.backprop import Tensor
    >>> @custom_gradient
    ... def clipped_identity(x):
    ...     return x * 1.0, lambda upstream: upstream * 0.5
    >>> x = Tensor([3.0], requires_grad=True)
    >>> clipped_identity(x).backward(np.ones(1))
    >>> x.grad
    array([0.5])
    """
    from numkeras.backprop.tensor import no_grad, wrap_primitive

    def forward(*arrays, **kwargs):
        with no_grad():
            y, grad_fn = f(*[Tensor(a) for a in arrays], **kwargs)

        def vjp(g):
            with no_grad():
                grads = grad_fn(Tensor(g))
            grads = grads if isinstance(grads, (tuple, list)) else (grads,)
            return tuple(None if gr is None else value(gr) for gr in grads)

        return value(y), vjp

    op = wrap_primitive(forward, getattr(f, "__name__", "custom_gradient"))

    def wrapper(*args, **kwargs):
        return op(*[to_tensor(a) for a in args], **kwargs)

    return wrapper
