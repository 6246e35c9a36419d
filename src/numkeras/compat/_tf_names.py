"""The TensorFlow names of ``numkeras.compat.tf``, loaded on first use (see tf.py).

Each is a thin spelling of ``numkeras.ops`` (``_k``) or of the engine's primitives, so
``GradientTape`` sees the differentiable ones and symbolic ``keras.Input`` tensors build graph
nodes through them; comparisons and integer results carry no gradient, as in TensorFlow.
"""

from __future__ import annotations

import builtins
import sys
import types

import numpy as np

import numkeras as keras
from numkeras import activations as _act
from numkeras import config as _config
from numkeras import data  # noqa: F401 - tf.data
from numkeras import initializers, losses, metrics, optimizers  # noqa: F401 - tf.<module>
from numkeras import ops as _k
from numkeras.backprop import Tensor, Variable as _EngineVariable, ops as _ops
from numkeras.backprop import image_ops as _image_ops
from numkeras.backprop.tape import GradientTape, UnconnectedGradients  # noqa: F401

# ----- dtypes -----
float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64 = np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
bool = np.bool_  # noqa: A001 - TensorFlow's name
string = np.str_
complex64, complex128 = np.complex64, np.complex128
half, double = np.float16, np.float64
newaxis = None
dtypes = types.SimpleNamespace(
    float16=float16, float32=float32, float64=float64, int8=int8, int16=int16, int32=int32,
    int64=int64, uint8=uint8, bool=np.bool_, string=string,
    as_dtype=lambda d: np.dtype(d).type)
"""``tf.dtypes.float32`` ...: the NumPy scalar types."""



class TensorSpec:
    """``tf.TensorSpec(shape, dtype, name)``: a description only (for ``input_signature``)."""

    def __init__(self, shape=None, dtype=float32, name=None):
        self.shape, self.dtype, self.name = shape, dtype, name


# ----- tensors and variables -----
def _array(value, dtype=None) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    typed = isinstance(value, (np.ndarray, np.generic))
    array = np.asarray(value, dtype=dtype)
    if dtype is None and not typed:  # Python numbers: float32 and int32, as TensorFlow
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        elif array.dtype == np.int64:
            array = array.astype(np.int32)
    return array


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """``tf.constant``: a Tensor (Python floats become float32, ints int32).

    >>> constant([[1, 2]], dtype=float32).numpy().tolist()
    [[1.0, 2.0]]
    """
    array = _array(value, dtype)
    if shape is not None:
        array = np.broadcast_to(array, tuple(shape)).copy() if array.size == 1 \
            else array.reshape(tuple(shape))
    return Tensor(array)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> Tensor:
    """``value`` itself if it is a Tensor of ``dtype`` (gradients keep flowing), else a new
    constant Tensor."""
    if isinstance(value, Tensor) and (dtype is None or np.dtype(dtype) == value.dtype):
        return value
    if dtype is None and dtype_hint is not None and not isinstance(value, (np.ndarray, Tensor)):
        dtype = dtype_hint
    return constant(value, dtype)


def is_tensor(x) -> builtins.bool:
    return isinstance(x, Tensor)


class Variable(_EngineVariable):
    """``tf.Variable(initial_value, trainable=True, name=None, dtype=None, ...)``: numkeras's
    Variable with TensorFlow's argument order.

    >>> v = Variable(1.0)
    >>> v.assign_add(2.0).numpy(), v.dtype
    (array(3., dtype=float32), dtype('float32'))
    """

    def __init__(self, initial_value=None, trainable=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 import_scope=None, constraint=None, synchronization=None, aggregation=None,
                 shape=None, experimental_enable_variable_lifting=True):
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        super().__init__(_array(initial_value, dtype), dtype=dtype,
                         trainable=True if trainable is None else trainable,
                         name=name or "Variable", constraint=constraint)

    def value(self):  # noqa: D102 - TF's method (Keras 3's is a property)
        return self

    def read_value(self):
        return self


def identity(x) -> Tensor:
    return _ops.multiply(_t(x), 1)


def stop_gradient(x) -> Tensor:
    return Tensor(_array(x))


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else constant(x)


class Module:
    """``tf.Module``: an object whose Variables (attributes, also inside sub-modules, lists,
    tuples and dicts) are listed by ``variables`` and ``trainable_variables``.

    >>> class Line(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w, self.b = Variable(5.0), Variable(0.0, trainable=False)
    >>> len(Line().variables), len(Line().trainable_variables)
    (2, 1)
    """

    def __init__(self, name=None):
        self._name = name or type(self).__name__.lower()

    @property
    def name(self) -> str:
        return self._name

    @property
    def variables(self) -> tuple:
        return tuple(_unique(_find(vars(self), _EngineVariable)))

    @property
    def trainable_variables(self) -> tuple:
        return tuple(v for v in self.variables if v.trainable)

    @property
    def submodules(self) -> tuple:
        return tuple(_unique(_find(vars(self), Module)))

    def name_scope(self):
        import contextlib

        return contextlib.nullcontext()


def _find(value, kind):
    """Instances of ``kind`` in ``value`` (attributes of modules, lists, tuples, dicts)."""
    if isinstance(value, kind):
        yield value
        if not isinstance(value, Module):
            return
    if isinstance(value, Module):
        value = vars(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if not (isinstance(key, str) and key.startswith("_")):
                yield from _find(item, kind)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _find(item, kind)


def _unique(items):
    seen = set()
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            yield item


# ----- initializers (TF 2 spellings of keras.initializers) -----
def random_normal_initializer(mean=0.0, stddev=0.05, seed=None):
    return initializers.RandomNormal(mean=mean, stddev=stddev, seed=seed)


def random_uniform_initializer(minval=-0.05, maxval=0.05, seed=None):
    return initializers.RandomUniform(minval=minval, maxval=maxval, seed=seed)


def zeros_initializer():
    return initializers.Zeros()


def ones_initializer():
    return initializers.Ones()


def constant_initializer(value=0):
    return initializers.Constant(value)


def glorot_uniform_initializer(seed=None):
    return initializers.GlorotUniform(seed=seed)


# ----- creation -----
def _shape(shape) -> tuple:
    shape = _array(shape).tolist() if isinstance(shape, Tensor) else shape
    return (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)


# TensorFlow's DataType enum values, which its dtype arguments also take: tf.zeros(1, 1) is
# float32 zeros of shape (1,) (the tf.keras subclassing guide writes that).
_DATATYPE_ENUM = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8",
                  9: "int64", 10: "bool", 17: "uint16", 19: "float16", 22: "uint32",
                  23: "uint64"}


def _creation_dtype(dtype):
    if isinstance(dtype, int) and not isinstance(dtype, bool) and dtype in _DATATYPE_ENUM:
        return _DATATYPE_ENUM[dtype]
    return dtype


def zeros(shape, dtype=float32, name=None) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=_creation_dtype(dtype)))


def ones(shape, dtype=float32, name=None) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=_creation_dtype(dtype)))


def zeros_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002 - TF's argument name
    return Tensor(np.zeros_like(_array(input), dtype=dtype))


def ones_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002
    return Tensor(np.ones_like(_array(input), dtype=dtype))


def fill(dims, value, name=None) -> Tensor:
    return Tensor(np.full(_shape(dims), value, dtype=_array(value).dtype))


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001
    """``tf.range``: integers are int32, floats float32 unless ``dtype``."""
    if limit is None:
        start, limit = 0, start
    values = np.arange(_array(start), _array(limit), _array(delta))
    return Tensor(values.astype(dtype) if dtype is not None else _array(values.tolist())
                  if values.size else values.astype(np.int32))


def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    start_array = _array(start)
    dtype = start_array.dtype if start_array.dtype.kind == "f" else np.float64
    return Tensor(np.linspace(start_array, _array(stop), int(num), axis=axis).astype(dtype))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=float32, name=None) -> Tensor:
    matrix = np.eye(num_rows, num_columns, dtype=dtype)
    if batch_shape is not None:
        matrix = np.broadcast_to(matrix, tuple(batch_shape) + matrix.shape).copy()
    return Tensor(matrix)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None,
            name=None) -> Tensor:
    """``tf.one_hot``: out-of-range indices (e.g. -1) give a row of ``off_value``."""
    dtype = dtype or (np.asarray(on_value).dtype if on_value is not None else float32)
    index = np.asarray(_array(indices), dtype=np.int64)
    hot = (index[..., None] == np.arange(int(depth)))
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    out = np.where(hot, on, off).astype(dtype)
    if axis is not None and axis != -1:
        out = np.moveaxis(out, -1, axis)
    return Tensor(out)


# ----- shapes -----
def shape(input, out_type=int32, name=None) -> Tensor:  # noqa: A002
    return Tensor(np.array(_array(input).shape, dtype=out_type))


def size(input, out_type=int32, name=None) -> Tensor:  # noqa: A002
    return Tensor(np.array(_array(input).size, dtype=out_type))


def rank(input, name=None) -> Tensor:  # noqa: A002
    return Tensor(np.array(_array(input).ndim, dtype=np.int32))


def reshape(tensor, shape, name=None) -> Tensor:
    return _k.reshape(tensor, _shape(shape))


def transpose(a, perm=None, conjugate=False, name="transpose") -> Tensor:
    return _k.transpose(a, axes=None if perm is None else tuple(perm))


def expand_dims(input, axis, name=None) -> Tensor:  # noqa: A002
    return _k.expand_dims(input, axis)


def squeeze(input, axis=None, name=None) -> Tensor:  # noqa: A002
    return _k.squeeze(input, axis=axis)


def concat(values, axis, name="concat") -> Tensor:
    return _k.concatenate(list(values), axis=axis)


def stack(values, axis=0, name="stack") -> Tensor:
    return _k.stack(list(values), axis=axis)


def unstack(value, num=None, axis=0, name="unstack") -> list:
    x = _t(value)
    axis = axis % x.ndim
    return [x[(slice(None),) * axis + (i,)] for i in builtins.range(x.shape[axis])]


def gather(params, indices, axis=None, batch_dims=0, name=None) -> Tensor:
    axis = 0 if axis is None else axis
    x = _t(params)
    index = (slice(None),) * (axis % x.ndim) + (np.asarray(_array(indices), dtype=np.int64),)
    return _ops.getitem(x, index=index)


def tile(input, multiples, name=None) -> Tensor:  # noqa: A002
    return _k.tile(input, _shape(multiples))


def broadcast_to(input, shape, name=None) -> Tensor:  # noqa: A002
    return _ops.broadcast_to(_t(input), shape=_shape(shape))


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None) -> Tensor:
    if mode.upper() != "CONSTANT":
        raise NotImplementedError(f"tf.pad(mode={mode!r}): only 'CONSTANT' is supported.")
    widths = tuple(tuple(int(v) for v in row) for row in _array(paddings))
    return _ops.pad(_t(tensor), pad_width=widths, value=constant_values)


# ----- arithmetic and math (differentiable through the engine) -----
def cast(x, dtype, name=None) -> Tensor:
    x = _t(x)
    if np.dtype(dtype).kind != "f" or x.dtype.kind != "f":
        return Tensor(x.data.astype(dtype))  # to or from integers: no gradient, as in TF
    return _ops.cast(x, dtype=np.dtype(dtype))


def add(x, y, name=None):
    return _k.add(x, y)


def subtract(x, y, name=None):
    return _k.subtract(x, y)


def multiply(x, y, name=None):
    return _k.multiply(x, y)


def divide(x, y, name=None):
    return _k.divide(x, y)


def _unary_op(op_name):
    def unary(x, name=None):
        return getattr(_k, op_name)(x)

    unary.__name__ = unary.__qualname__ = op_name
    unary.__doc__ = f"``tf.{op_name}``: ``keras.ops.{op_name}``."
    return unary


negative, square, exp, log, log1p, expm1, sqrt = (
    _unary_op(n) for n in ("negative", "square", "exp", "log", "log1p", "expm1", "sqrt"))


def pow(x, y, name=None):  # noqa: A001 - TensorFlow's name
    return _k.power(x, y)


def rsqrt(x, name=None):
    return _ops.divide(1.0, _ops.sqrt(_t(x)))


def reciprocal(x, name=None):
    return _ops.divide(1.0, _t(x))


abs = _unary_op("abs")  # noqa: A001


def maximum(x, y, name=None):
    return _k.maximum(x, y)


def minimum(x, y, name=None):
    return _k.minimum(x, y)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    return _ops.clip(_t(t), low=clip_value_min, high=clip_value_max)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None) -> Tensor:
    if transpose_a or adjoint_a:
        a = _k.swapaxes(a, -1, -2)
    if transpose_b or adjoint_b:
        b = _k.swapaxes(b, -1, -2)
    return _k.matmul(a, b)


def tensordot(a, b, axes, name=None):
    if axes != 1:
        raise NotImplementedError("tf.tensordot: only axes=1 (a matrix product) is supported.")
    return _k.matmul(a, b)


def where(condition, x=None, y=None, name=None):
    """``tf.where(c, x, y)`` elementwise (differentiable in x and y); ``tf.where(c)``: the
    indices of the true entries, shape (count, rank), int64."""
    cond = np.asarray(_array(condition), dtype=np.bool_)
    if x is None and y is None:
        return Tensor(np.argwhere(cond).astype(np.int64))
    return _k.where(cond, x, y)


def _axis(axis):
    if axis is None:
        return None
    axis = _array(axis)
    return int(axis) if axis.ndim == 0 else tuple(int(a) for a in axis)


def _reduction(op_name, doc):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        return getattr(_k, op_name)(input_tensor, axis=_axis(axis), keepdims=keepdims)

    reduce.__name__ = reduce.__qualname__ = f"reduce_{op_name}"
    reduce.__doc__ = doc
    return reduce


reduce_sum = _reduction("sum", "Sum over ``axis`` (all axes if None).")
reduce_max = _reduction("max", "Maximum over ``axis`` (ties share the gradient, as TF).")
reduce_min = _reduction("min", "Minimum over ``axis``.")
reduce_prod = _reduction("prod", "Product over ``axis``.")
reduce_any = _reduction("any", "Logical or over ``axis``.")
reduce_all = _reduction("all", "Logical and over ``axis``.")
reduce_variance = _reduction("var", "Variance over ``axis``.")
reduce_std = _reduction("std", "Standard deviation over ``axis``.")
reduce_logsumexp = _reduction("logsumexp", "``log(sum(exp(x)))`` over ``axis``, stably.")


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean over ``axis``; of integers an integer (truncated), as TensorFlow's."""
    dtype = getattr(input_tensor, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind in "iub":
        return Tensor(np.asarray(np.mean(_array(input_tensor), axis=_axis(axis),
                                         keepdims=keepdims)).astype(dtype))
    return _k.mean(input_tensor, axis=_axis(axis), keepdims=keepdims)


def argmax(input, axis=None, output_type=int64, name=None):  # noqa: A002
    """Index of the largest value along ``axis`` (TF's default: axis 0)."""
    return Tensor(np.argmax(_array(input), axis=0 if axis is None else int(axis)
                            ).astype(output_type))


def argmin(input, axis=None, output_type=int64, name=None):  # noqa: A002
    return Tensor(np.argmin(_array(input), axis=0 if axis is None else int(axis)
                            ).astype(output_type))


def _binary_op(op_name):
    def binary(x, y, name=None):
        return getattr(_k, op_name)(x, y)

    binary.__name__ = binary.__qualname__ = op_name
    binary.__doc__ = f"``tf.{op_name}``: ``keras.ops.{op_name}``."
    return binary


equal, not_equal, greater, greater_equal, less, less_equal, logical_and, logical_or = (
    _binary_op(n) for n in ("equal", "not_equal", "greater", "greater_equal", "less",
                            "less_equal", "logical_and", "logical_or"))
logical_not, sign, floor, ceil, sin, cos = (
    _unary_op(n) for n in ("logical_not", "sign", "floor", "ceil", "sin", "cos"))
round = _unary_op("round")  # noqa: A001 - TensorFlow's name (half to even, as TF)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    values = _array(x)
    values = np.flip(values, axis) if reverse else values
    out = np.cumsum(values, axis=axis)
    if exclusive:
        out = out - values
    return Tensor(np.flip(out, axis) if reverse else out)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    x = _t(x)
    squared = _ops.sum(_ops.multiply(x, x), axis=_axis(axis), keepdims=True)
    return _ops.divide(x, _ops.sqrt(_ops.maximum(squared, epsilon)))


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    if ord not in ("euclidean", 2, "fro"):
        raise NotImplementedError(f"tf.norm(ord={ord!r}): only the euclidean norm.")
    x = _t(tensor)
    return _ops.sqrt(_ops.sum(_ops.multiply(x, x), axis=_axis(axis),
                            keepdims=builtins.bool(keepdims)))


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002
    values = _array(input)
    order = np.argsort(-values, axis=-1, kind="stable")[..., :k]
    return types.SimpleNamespace(values=Tensor(np.take_along_axis(values, order, -1)),
                                 indices=Tensor(order.astype(np.int32)))


def is_nan(x, name=None):
    return Tensor(np.isnan(_array(x)))


def is_finite(x, name=None):
    return Tensor(np.isfinite(_array(x)))


def count_nonzero(input, axis=None, keepdims=None, dtype=int64, name=None):  # noqa: A002
    return Tensor(np.asarray(np.count_nonzero(_array(input), axis=_axis(axis),
                                              keepdims=builtins.bool(keepdims))).astype(dtype))


sigmoid, tanh = _unary_op("sigmoid"), _unary_op("tanh")


def softplus(features, name=None):
    return _act.softplus(_t(features))


def _softmax(logits, axis=None, name=None):
    return _k.softmax(logits, axis=-1 if axis is None else axis)


def _log_softmax(logits, axis=None, name=None):
    return _k.log_softmax(logits, axis=-1 if axis is None else axis)


math = types.SimpleNamespace(
    exp=exp, log=log, log1p=log1p, expm1=expm1, sqrt=sqrt, rsqrt=rsqrt, square=square, abs=abs,
    pow=pow, add=add, subtract=subtract, multiply=multiply, divide=divide, negative=negative,
    truediv=divide, maximum=maximum, minimum=minimum, reciprocal=reciprocal, sign=sign,
    floor=floor, ceil=ceil, round=round, sin=sin, cos=cos, sigmoid=sigmoid, tanh=tanh,
    softplus=softplus, softmax=_softmax, log_softmax=_log_softmax, l2_normalize=l2_normalize,
    reduce_sum=reduce_sum, reduce_mean=reduce_mean, reduce_max=reduce_max,
    reduce_min=reduce_min, reduce_prod=reduce_prod, reduce_any=reduce_any,
    reduce_all=reduce_all, reduce_std=reduce_std, reduce_variance=reduce_variance,
    reduce_logsumexp=reduce_logsumexp, argmax=argmax, argmin=argmin, equal=equal,
    not_equal=not_equal, greater=greater, greater_equal=greater_equal, less=less,
    less_equal=less_equal, logical_and=logical_and, logical_or=logical_or,
    logical_not=logical_not, is_nan=is_nan, is_finite=is_finite, cumsum=cumsum,
    count_nonzero=count_nonzero, top_k=top_k, erf=lambda x, name=None: _ops.erf(_t(x)))
"""``tf.math.*``: the common functions (the same objects as ``tf.<name>``)."""


# ----- tf.nn -----
def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Per-sample ``-sum(labels * log_softmax(logits))`` (labels get no gradient)."""
    return _ops.negative(_ops.sum(_ops.multiply(stop_gradient(labels),
                                                _ops.log_softmax(_t(logits), axis=axis)),
                                  axis=axis))


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Per-sample ``-log softmax(logits)[label]`` (integer labels)."""
    labels = np.asarray(_array(labels), dtype=np.int64)
    logits = _t(logits)
    classes = logits.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels must be in [0, "
                         f"{classes}); received values from {labels.min()} to "
                         f"{labels.max()}.")
    return _ops.sparse_softmax_cross_entropy(logits, labels)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """``max(x, 0) - x * z + log(1 + exp(-|x|))``, TF's stable form."""
    x, z = _t(logits), _t(labels)
    return _ops.add(_ops.subtract(_ops.relu(x), _ops.multiply(x, z)),
                    _ops.log1p(_ops.exp(_ops.negative(_ops.abs(x)))))


def moments(x, axes, shift=None, keepdims=False, name=None):
    """``(mean, variance)`` over ``axes``."""
    x = _t(x)
    axes = _axis(axes)
    mean = _ops.mean(x, axis=axes, keepdims=True)
    centred = _ops.subtract(x, mean)
    variance = _ops.mean(_ops.multiply(centred, centred), axis=axes, keepdims=keepdims)
    return (mean if keepdims else _ops.mean(x, axis=axes)), variance


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zero each entry with probability ``rate`` and scale the rest by ``1 / (1 - rate)``."""
    if not 0 <= rate < 1:
        raise ValueError(f"tf.nn.dropout: `rate` must be in [0, 1), received {rate}.")
    x = _t(x)
    shape_ = x.shape if noise_shape is None else _shape(noise_shape)
    keep = _config.make_rng(seed).random(shape_) >= rate
    return _ops.multiply(x, (keep / (1 - rate)).astype(x.dtype))


def l2_loss(t, name=None):
    t = _t(t)
    return _ops.multiply(_ops.sum(_ops.multiply(t, t)), 0.5)


def bias_add(value, bias, data_format=None, name=None):
    return _ops.add(_t(value), bias)


def _check_nhwc(data_format):
    if data_format not in (None, "NHWC"):
        raise NotImplementedError(f"data_format={data_format!r}: only 'NHWC' is supported.")


def _spatial(value, name):
    values = [value] * 2 if np.isscalar(value) else list(value)
    if len(values) == 4:
        values = values[1:3]
    if len(values) != 2:
        raise ValueError(f"`{name}` must be an int, 2 or 4 values, received {value!r}.")
    return tuple(int(v) for v in values)


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,  # noqa: A002
           name=None):
    """2-D convolution of NHWC ``input`` with HWIO ``filters`` (as ``tf.nn.conv2d``)."""
    _check_nhwc(data_format)
    return _image_ops.conv2d(_t(input), _t(filters), strides=_spatial(strides, "strides"),
                             padding=padding.lower(),
                             dilation_rate=_spatial(dilations or 1, "dilations"))


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    _check_nhwc(data_format)
    return _image_ops.max_pool2d(_t(input), pool_size=_spatial(ksize, "ksize"),
                                 strides=_spatial(strides, "strides"), padding=padding.lower())


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    _check_nhwc(data_format)
    return _image_ops.avg_pool2d(_t(input), pool_size=_spatial(ksize, "ksize"),
                                 strides=_spatial(strides, "strides"), padding=padding.lower())


nn = types.SimpleNamespace(
    **{name: getattr(_act, source) for name, source in {
        "relu": "relu", "relu6": "relu6", "elu": "elu", "selu": "selu", "gelu": "gelu",
        "sigmoid": "sigmoid", "tanh": "tanh", "softplus": "softplus", "softsign": "softsign",
        "swish": "silu", "silu": "silu", "leaky_relu": "leaky_relu"}.items()},
    softmax=_softmax, log_softmax=_log_softmax, l2_normalize=l2_normalize,
    softmax_cross_entropy_with_logits=softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits=sparse_softmax_cross_entropy_with_logits,
    sigmoid_cross_entropy_with_logits=sigmoid_cross_entropy_with_logits,
    moments=moments, dropout=dropout, l2_loss=l2_loss, bias_add=bias_add, conv2d=conv2d,
    max_pool2d=max_pool2d, avg_pool2d=avg_pool2d, max_pool=max_pool2d, avg_pool=avg_pool2d)
"""``tf.nn.*``: activations, softmax crossentropies, moments, dropout, conv2d and pooling."""


# ----- tf.random -----
def _random_seed(seed):
    return _config.make_rng(None if seed is None else int(seed))


def _normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, name=None):
    return Tensor((_random_seed(seed).standard_normal(_shape(shape)) * stddev + mean
                   ).astype(dtype))


def _uniform(shape, minval=0, maxval=None, dtype=float32, seed=None, name=None):
    rng = _random_seed(seed)
    if np.dtype(dtype).kind in "iu":
        if maxval is None:
            raise ValueError("tf.random.uniform with an integer dtype needs `maxval`.")
        return Tensor(rng.integers(minval, maxval, _shape(shape)).astype(dtype))
    maxval = 1.0 if maxval is None else maxval
    return Tensor(rng.uniform(minval, maxval, _shape(shape)).astype(dtype))


def _truncated_normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, name=None):
    rng = _random_seed(seed)
    values = rng.standard_normal(_shape(shape))
    outside = np.abs(values) > 2
    while outside.any():  # redraw beyond two standard deviations, as TF
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return Tensor((values * stddev + mean).astype(dtype))


def _shuffle(value, seed=None, name=None):
    array = _array(value)
    return Tensor(array[_random_seed(seed).permutation(len(array))])


def _categorical(logits, num_samples, dtype=int64, seed=None, name=None):
    logits = _array(logits).astype(np.float64)
    probabilities = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    draws = _random_seed(seed).random((len(logits), int(num_samples), 1))
    return Tensor((draws > np.cumsum(probabilities, axis=-1)[:, None, :]).sum(-1).astype(dtype))


random = types.SimpleNamespace(
    set_seed=_config.set_random_seed, normal=_normal, uniform=_uniform,
    truncated_normal=_truncated_normal, shuffle=_shuffle, categorical=_categorical)
"""``tf.random``: ``set_seed`` (numkeras's ``set_random_seed``) and seeded draws."""


# ----- tf.config, tf.version, tf.function, tf.print -----
class PhysicalDevice(types.SimpleNamespace):
    """``PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')``."""


def _list_devices(device_type=None, logical=False):
    kind = "device" if logical else "physical_device"
    cpu = PhysicalDevice(name=f"/{kind}:CPU:0", device_type="CPU")
    return [cpu] if device_type in (None, "CPU") else []


def _no_op(*args, **kwargs):
    return None


_threads = {"inter": 0, "intra": 0}
_eager = [True]

config = types.SimpleNamespace(
    list_physical_devices=_list_devices,
    list_logical_devices=lambda device_type=None: _list_devices(device_type, logical=True),
    get_visible_devices=_list_devices, set_visible_devices=_no_op,
    run_functions_eagerly=lambda run_eagerly: _eager.__setitem__(0, True),
    functions_run_eagerly=lambda: True,
    experimental=types.SimpleNamespace(set_memory_growth=_no_op,
                                       get_memory_growth=lambda device: False,
                                       list_physical_devices=_list_devices,
                                       enable_op_determinism=_no_op),
    threading=types.SimpleNamespace(
        set_inter_op_parallelism_threads=lambda n: _threads.__setitem__("inter", int(n)),
        set_intra_op_parallelism_threads=lambda n: _threads.__setitem__("intra", int(n)),
        get_inter_op_parallelism_threads=lambda: _threads["inter"],
        get_intra_op_parallelism_threads=lambda: _threads["intra"]),
    optimizer=types.SimpleNamespace(set_jit=_no_op, get_jit=lambda: False),
    set_soft_device_placement=_no_op)
"""``tf.config``: one CPU device; memory growth, threading and JIT settings are accepted
and have no effect (numkeras chooses BLAS threads itself: ``numkeras.config``)."""

version = types.SimpleNamespace(VERSION="numkeras-" + keras.__version__,
                                GIT_VERSION="unknown", COMPILER_VERSION="numpy")


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None):
    """``@tf.function`` (with or without arguments) returns the function unchanged: numkeras
    runs eagerly, so there is no graph to trace (and no retracing to worry about)."""
    if func is None:
        return lambda f: f
    return func


def print(*inputs, output_stream=None, summarize=None, sep=" ", end="\n",  # noqa: A001
          name=None):
    """``tf.print``: values of Tensors printed like NumPy arrays, to stderr by default."""
    text = sep.join(str(v.data) if isinstance(v, Tensor) else str(v) for v in inputs)
    stream = sys.stderr if output_stream is None else output_stream
    if isinstance(stream, str):  # TF also accepts "file://..." and names of streams
        stream = sys.stdout if stream in ("stdout", "sys.stdout") else sys.stderr
    builtins.print(text, end=end, file=stream)


def executing_eagerly() -> builtins.bool:
    return True


def device(name):
    """``with tf.device('/CPU:0'):`` accepted; everything runs on the CPU."""
    import contextlib

    return contextlib.nullcontext()


def _distribute():
    import importlib

    return importlib.import_module("numkeras.distribute").tf
