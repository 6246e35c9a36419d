"""Loss functions with Keras 3's names, defaults and formulas.

Each loss comes twice, as in Keras: a per-sample function (``mean_squared_error``) composed from
the primitive ops, so its gradient comes for free, and a class (``MeanSquaredError``) that wraps
the function and applies a reduction (by default the sum over the batch divided by the number of
per-sample losses). ``get`` turns a name, a config dict, a class or a callable into a loss;
``resolve`` turns any of them into a ``Loss`` object for ``compile``; ``check_targets`` validates
a whole target array once, before training, with an error message that says how to fix it.

>>> import numpy as np
>>> from numkeras import losses
>>> y_true = np.array([1, 2])
>>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], dtype="float32")
>>> losses.sparse_categorical_crossentropy(y_true, y_pred).numpy().round(4)
array([0.0513, 2.3026], dtype=float32)
>>> round(float(losses.SparseCategoricalCrossentropy()(y_true, y_pred)), 4)
1.1769
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from numkeras import config
from numkeras.backprop import Tensor, ops
from numkeras.utils import naming
from numkeras.utils.registry import deserialize_object, lookup, serialize_object

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


# ----- helpers: inputs, shapes -----


def _prediction(y_pred) -> Tensor:
    """``y_pred`` as a float Tensor: Tensors and float arrays keep their dtype, the rest floatx."""
    if isinstance(y_pred, Tensor):
        if np.issubdtype(y_pred.dtype, np.floating):
            return y_pred
        return ops.cast(y_pred, dtype=config.floatx())
    array = np.asarray(y_pred)
    if not (isinstance(y_pred, np.ndarray) and np.issubdtype(array.dtype, np.floating)):
        array = array.astype(config.floatx())
    return Tensor(array)


def _target(y_true, dtype):
    """``y_true`` in the prediction's dtype (targets are constants, usually plain arrays)."""
    if isinstance(y_true, Tensor):
        return y_true if y_true.dtype == dtype else ops.cast(y_true, dtype=dtype)
    return np.asarray(y_true).astype(dtype, copy=False)


def _values(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _reshape(x, shape):
    if not isinstance(x, Tensor):
        return np.reshape(x, shape)
    out = ops.reshape(x, shape=shape)
    if x.logits is not None and x.op == "sigmoid":
        # sigmoid is elementwise, so it commutes with a reshape: keep the logits shortcut.
        out.logits = ops.reshape(x.logits, shape=shape)
    return out


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras's rule for ranks that differ by one: drop (or add) a trailing axis of size 1.

    A rank-1 ``x1`` next to an ``x2`` of shape ``(N, 1)`` gains the axis; otherwise the one with
    the trailing 1 loses it. Works on arrays and Tensors alike.

    >>> a, b = squeeze_or_expand_to_same_rank(np.zeros(3), np.zeros((3, 1)))
    >>> a.shape, b.shape
    ((3, 1), (3, 1))
    """
    shape1, shape2 = np.shape(_values(x1)), np.shape(_values(x2))
    if len(shape1) == len(shape2) + 1 and shape1[-1] == 1:
        if len(shape2) == 1 and expand_rank_1:
            x2 = _reshape(x2, shape2 + (1,))
        else:
            x1 = _reshape(x1, shape1[:-1])
    elif len(shape2) == len(shape1) + 1 and shape2[-1] == 1:
        if len(shape1) == 1 and expand_rank_1:
            x1 = _reshape(x1, shape1 + (1,))
        else:
            x2 = _reshape(x2, shape2[:-1])
    return x1, x2


def _align(y_true, y_pred, loss_name: str):
    """Targets and predictions with the same shape, or a ValueError: never a silent broadcast.

    Keras would broadcast here (targets (N,) against predictions (N, 10) give an (N, 10) or even
    an (N, N) result); that is almost always a bug in the data, so it is an error.
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    true_shape = np.shape(_values(y_true))
    if true_shape != y_pred.shape and true_shape != ():
        raise ValueError(
            f"{loss_name}: y_true has shape {true_shape} but y_pred has shape {y_pred.shape}. "
            f"They must have the same shape (a trailing axis of size 1 may differ); targets are "
            f"not broadcast. Reshape the targets or change the model's output to match."
        )
    return y_true, y_pred


def _last_axis(axis: int, ndim: int) -> bool:
    return ndim > 0 and axis % ndim == ndim - 1


def _activation_logits(y_pred: Tensor, unwanted_op: str):
    """The pre-activation input attached to ``y_pred`` by softmax/sigmoid, or None.

    ``unwanted_op`` guards against using a sigmoid's input as softmax logits and vice versa.
    """
    logits = getattr(y_pred, "logits", None)
    if logits is None or getattr(y_pred, "op", None) == unwanted_op:
        return None
    return logits


def _warn_if_activated(y_pred: Tensor, loss_name: str) -> None:
    if getattr(y_pred, "logits", None) is not None:
        activation = getattr(y_pred, "op", None) or "softmax/sigmoid"
        warnings.warn(
            f"`{loss_name}` received `from_logits=True`, but `y_pred` was produced by a "
            f"{activation} activation and thus does not represent logits. Was this intended? "
            f"Use from_logits=False, or remove the activation from the last layer.",
            stacklevel=3,
        )


# ----- class-label validation (shared by the loss and by check_targets) -----


def _format_label(value) -> str:
    value = float(value)
    return str(int(value)) if math.isfinite(value) and value == int(value) else repr(value)


def _class_indices(labels: np.ndarray, classes: int, loss_name: str,
                   ignore_class=None) -> np.ndarray:
    """Integer labels in [0, classes) as ``intp``, or a ValueError naming the bad value."""
    if labels.dtype.kind == "b":
        labels = labels.astype(np.intp)
    if labels.dtype.kind not in "iuf":
        raise ValueError(
            f"{loss_name}: targets must be integer class labels, but they have dtype "
            f"{labels.dtype}. Convert them to integers in [0, {classes})."
        )
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.floor(labels))
        if not whole.all():
            position = np.unravel_index(int(np.argmin(whole)), labels.shape)
            raise ValueError(
                f"{loss_name}: targets must be integer class labels, but found the value "
                f"{float(labels[position])!r} at index {tuple(int(i) for i in position)}. "
                f"Labels are class indices in [0, {classes}); for one-hot or soft targets of shape "
                f"(..., {classes}) use categorical_crossentropy instead."
            )
    if labels.size:
        low, high = labels.min(), labels.max()
        bad = low if low < 0 else high if high >= classes else None
        if bad is not None:
            hint = (f" If {_format_label(bad)} marks samples to skip, pass "
                    f"ignore_class={_format_label(bad)}." if bad < 0 else
                    f" If the labels start at 1, subtract 1; if there are more classes, give "
                    f"the last layer {_format_label(high + 1)} units.")
            if ignore_class is not None:
                hint = f" (ignore_class={ignore_class} is excluded.)" + hint
            raise ValueError(
                f"{loss_name}: label {_format_label(bad)} is out of range for {classes} "
                f"classes (valid labels are 0 to {classes - 1}).{hint}"
            )
    return labels.astype(np.intp, copy=False)


# ----- per-sample loss functions -----


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                   axis=-1):
    """Crossentropy between integer labels and a probability (or logit) vector per sample.

    With probabilities, Keras's formula: ``p = y_pred / sum(y_pred)`` along ``axis``, clipped to
    ``[eps, 1 - eps]``, loss ``-log p[label]``. When ``y_pred`` came straight out of a softmax
    (its ``logits`` slot is set) the loss is computed from those logits with the fused
    ``ops.sparse_softmax_cross_entropy``, as Keras's TensorFlow backend does: the same value
    except for saturated predictions, where the clipped formula stops at ``-log(1e-7) =
    16.118`` and the logits one keeps growing (and keeps a useful gradient).

    Args:
        y_true: integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of size 1 is
            dropped). Whole-number floats are accepted.
        y_pred: probabilities, or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value whose samples get a loss of 0 (e.g. -1 or 255).
        axis: the class axis.

    Returns:
        A Tensor of shape ``y_pred.shape`` without ``axis``.

    >>> sparse_categorical_crossentropy([2], np.array([[0.2, 0.2, 0.6]], "float32")).numpy()
    array([0.5108256], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    if y_pred.ndim == 0:
        raise ValueError("sparse_categorical_crossentropy: y_pred must have a class axis; "
                         "received a scalar.")
    labels = _values(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    logits = y_pred if from_logits else None
    if from_logits:
        _warn_if_activated(y_pred, "sparse_categorical_crossentropy")
    elif _last_axis(axis, y_pred.ndim):
        logits = _activation_logits(y_pred, unwanted_op="sigmoid")
    if not _last_axis(axis, y_pred.ndim):
        # The fused op and the gather below work on the last axis.
        order = [a for a in range(y_pred.ndim) if a != axis % y_pred.ndim] + [axis % y_pred.ndim]
        y_pred = ops.transpose(y_pred, axes=tuple(order))
        logits = None if logits is None else ops.transpose(logits, axes=tuple(order))
    classes = y_pred.shape[-1]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"sparse_categorical_crossentropy: y_true has shape {labels.shape} but y_pred has "
            f"shape {y_pred.shape}; expected one integer label per sample, i.e. y_true of "
            f"shape {y_pred.shape[:-1]}. For one-hot targets use categorical_crossentropy."
        )
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = np.where(valid, labels, 0)
    labels = _class_indices(labels, classes, "sparse_categorical_crossentropy", ignore_class)
    if logits is not None:
        losses = ops.sparse_softmax_cross_entropy(logits, labels)
    else:
        # Normalise, clip and take -log of only the picked probability: the same numbers as
        # doing it to the whole (N, C) array, with (N,)-sized work after the row sums.
        totals = ops.reshape(ops.sum(y_pred, axis=-1), shape=(-1,))  # (N,)
        flat = ops.reshape(y_pred, shape=(-1, classes))  # (N, C)
        picked = ops.getitem(flat, index=(np.arange(flat.shape[0]), labels.reshape(-1)))
        eps = config.epsilon()
        probability = ops.clip(picked / totals, low=eps, high=1.0 - eps)
        losses = ops.reshape(-ops.log(probability), shape=labels.shape)
    if valid is not None:
        losses = ops.where(valid, losses, 0.0)
    return losses


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) targets and predicted distributions.

    With probabilities: ``-sum(t * log(clip(p / sum(p), eps, 1 - eps)))`` along ``axis``.
    When ``y_pred`` came straight out of a softmax, ``-sum(t * log_softmax(logits))`` instead
    (Keras's TensorFlow backend does the same); the two differ only for saturated predictions,
    which the clipped formula caps at ``-log(1e-7) = 16.118`` per unit of target mass.

    Args:
        y_true: targets of the same shape as ``y_pred``.
        y_pred: probabilities, or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; targets become ``t * (1 - s) + s / num_classes``.
        axis: the class axis.

    >>> y_true = np.array([[0, 1, 0], [0, 0, 1]])
    >>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], dtype="float32")
    >>> categorical_crossentropy(y_true, y_pred).numpy().round(4)
    array([0.0513, 2.3026], dtype=float32)
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be an int, got axis={axis!r}.")
    y_pred = _prediction(y_pred)
    t = _target(y_true, y_pred.dtype)
    if np.shape(_values(t)) != y_pred.shape:
        raise ValueError(
            f"categorical_crossentropy: y_true has shape {np.shape(_values(t))} but y_pred has "
            f"shape {y_pred.shape}; one-hot targets must have the predictions' shape. For "
            f"integer labels use sparse_categorical_crossentropy, or one-hot encode them with "
            f"numkeras.utils.to_categorical."
        )
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    logits = y_pred if from_logits else None
    if from_logits:
        _warn_if_activated(y_pred, "categorical_crossentropy")
    elif _last_axis(axis, y_pred.ndim):
        logits = _activation_logits(y_pred, unwanted_op="sigmoid")
    if logits is not None:
        return -ops.sum(t * ops.log_softmax(logits, axis=axis), axis=axis)
    eps = config.epsilon()
    p = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), low=eps, high=1.0 - eps)
    return -ops.sum(t * ops.log(p), axis=axis)


def _binary_crossentropy_with_logits(t, z: Tensor) -> Tensor:
    # max(z, 0) - z*t + log(1 + exp(-|z|)): stable for any z. relu and |z| are written as
    # products with constant masks so that at z == 0 exactly (e.g. zero-initialised weights) the
    # gradient is the true sigmoid(0) - t rather than a subgradient that drops the 0.5.
    positive = z.data >= 0
    sign = np.where(positive, 1.0, -1.0).astype(z.dtype)
    return z * (positive.astype(z.dtype) - t) + ops.log1p(ops.exp(-(z * sign)))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over ``axis`` (the last one by default).

    Keras 3's formula: ``p`` clipped to ``[eps, 1 - eps]``, ``-(t log p + (1 - t) log(1 - p))``
    (tf-keras adds another 1e-7 inside both logs). With logits, or when ``y_pred`` came straight
    out of a sigmoid, the stable ``max(z, 0) - z t + log(1 + exp(-|z|))`` instead, as Keras's
    TensorFlow backend does; the two differ only for saturated predictions (clipping caps a
    term at ``-log(1.19e-7) = 15.94`` in float32).

    Args:
        y_true: targets in [0, 1], with ``y_pred``'s shape (a trailing axis of size 1 may
            differ).
        y_pred: probabilities, or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; targets become ``t * (1 - s) + 0.5 * s``.
        axis: the axis averaged over.

    >>> round(float(binary_crossentropy([0.0, 1.0], np.array([1.0, 0.7], "float32"))), 6)
    8.149529
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "binary_crossentropy")
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _activation_logits(y_pred, unwanted_op="softmax")
    if from_logits:
        _warn_if_activated(y_pred, "binary_crossentropy")
    if logits is not None:
        return ops.mean(_binary_crossentropy_with_logits(t, logits), axis=axis)
    eps = config.epsilon()
    p = ops.clip(y_pred, low=eps, high=1.0 - eps)
    return ops.mean(-(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p)), axis=axis)


def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred) ** 2)`` over the last axis.

    >>> mean_squared_error([[0.0, 1.0]], np.array([[1.0, 1.0]], "float32")).numpy()
    array([0.5], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "mean_squared_error")
    error = y_pred - t
    return ops.mean(error * error, axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_true - y_pred|)`` over the last axis.

    >>> mean_absolute_error([[0.0, 1.0]], np.array([[1.0, 3.0]], "float32")).numpy()
    array([1.5], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(y_pred - t), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps))`` over the last axis.

    >>> mean_absolute_percentage_error([[2.0, 4.0]], np.array([[1.0, 5.0]], "float32")).numpy()
    array([37.5], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "mean_absolute_percentage_error")
    scale = np.maximum(np.abs(_values(t)), config.epsilon())  # a constant: no gradient needed
    return 100.0 * ops.mean(ops.abs((t - y_pred) / scale), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2)``, last axis.

    >>> mean_squared_logarithmic_error([[0.0]], np.array([[np.e - 1]], "float32")).numpy().round(4)
    array([1.], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "mean_squared_logarithmic_error")
    eps = config.epsilon()
    first = ops.log(ops.maximum(y_pred, eps) + 1.0)
    second = ops.log(ops.maximum(t, eps) + 1.0)
    difference = first - second
    return ops.mean(difference * difference, axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: ``0.5 e**2`` where ``|e| <= delta``, else ``delta |e| - 0.5 delta**2``; mean.

    >>> y_pred = np.array([[0.6, 0.4], [0.4, 0.6]], "float32")
    >>> huber([[0.0, 1.0], [0.0, 0.0]], y_pred).numpy().round(4)
    array([0.18, 0.13], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "huber")
    delta = float(delta)
    error = y_pred - t
    size = ops.abs(error)
    quadratic = 0.5 * (error * error)
    linear = delta * size - 0.5 * delta * delta
    return ops.mean(ops.where(size.data <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis, computed without overflow.

    >>> log_cosh([[0.0, 1.0], [0.0, 0.0]], np.array([[1.0, 1.0], [0.0, 0.0]], "float32")).numpy()
    array([0.2168904, 0.       ], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "log_cosh")
    # log(cosh x) = |x| + log1p(exp(-2|x|)) - log 2: no overflow for large |x|, and the
    # gradient at x == 0 is exactly 0 (= tanh 0), since sign(0) is 0.
    size = ops.abs(y_pred - t)
    return ops.mean(size + ops.log1p(ops.exp(-2.0 * size)) - math.log(2.0), axis=-1)


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence ``sum(t * log(t / p))``, both clipped to ``[eps, 1]``.

    >>> kl_divergence([[0.5, 0.5]], np.array([[0.25, 0.75]], "float32")).numpy().round(6)
    array([0.143841], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "kl_divergence")
    eps = config.epsilon()
    t = ops.clip(t, low=eps, high=1.0) if isinstance(t, Tensor) else np.clip(t, eps, 1.0)
    p = ops.clip(y_pred, low=eps, high=1.0)
    return ops.sum(t * ops.log(t / p), axis=-1)


def poisson(y_true, y_pred):
    """Poisson loss ``mean(y_pred - y_true * log(y_pred + eps))`` over the last axis.

    >>> poisson([[1.0, 0.0]], np.array([[1.0, 2.0]], "float32")).numpy()
    array([1.5], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "poisson")
    return ops.mean(y_pred - t * ops.log(y_pred + config.epsilon()), axis=-1)


def _hinge_targets(t):
    """0/1 labels become -1/+1, as Keras does; other targets are used as given."""
    values = _values(t)
    if np.all((values == 0) | (values == 1)):
        return 2.0 * t - 1.0
    return t


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0))``; 0/1 labels are mapped to -1/+1 first.

    >>> hinge([[0.0, 1.0]], np.array([[-0.5, 0.25]], "float32")).numpy()
    array([0.625], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "hinge")
    return ops.mean(ops.maximum(1.0 - _hinge_targets(t) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0) ** 2)``; 0/1 labels are mapped to -1/+1 first.

    >>> squared_hinge([[0.0, 1.0]], np.array([[-0.5, 0.25]], "float32")).numpy()
    array([0.40625], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "squared_hinge")
    margin = ops.maximum(1.0 - _hinge_targets(t) * y_pred, 0.0)
    return ops.mean(margin * margin, axis=-1)


def categorical_hinge(y_true, y_pred):
    """``max(neg - pos + 1, 0)`` with ``pos = sum(t * p)``, ``neg = max((1 - t) * p)``.

    >>> categorical_hinge([[0.0, 1.0, 0.0]], np.array([[0.3, 0.5, 0.2]], "float32")).numpy()
    array([0.8], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "categorical_hinge")
    positive = ops.sum(t * y_pred, axis=-1)
    negative = ops.max((1.0 - t) * y_pred, axis=-1)
    return ops.maximum(negative - positive + 1.0, 0.0)


def _l2_normalize(x, axis):
    # Keras's normalize: x / sqrt(max(sum(x^2), eps)), so a zero vector stays zero.
    eps = config.epsilon()
    if isinstance(x, Tensor):
        return x * (1.0 / ops.sqrt(ops.maximum(ops.sum(x * x, axis=axis, keepdims=True), eps)))
    return x * (1.0 / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), eps)))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis``: -1 for parallel vectors, 0 if either is zero.

    >>> y_true = [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    >>> y_pred = np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]], "float32")
    >>> cosine_similarity(y_true, y_pred).numpy()
    array([-0.        , -0.99999994,  0.99999994], dtype=float32)
    """
    y_pred = _prediction(y_pred)
    t, y_pred = _align(_target(y_true, y_pred.dtype), y_pred, "cosine_similarity")
    return -ops.sum(_l2_normalize(t, axis) * _l2_normalize(y_pred, axis), axis=axis)


# Short names Keras (2 and 3) accepts; they are the same function objects.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber


# ----- reductions -----


def standardize_reduction(reduction):
    """Check ``reduction``; tf-keras's ``'auto'`` means ``'sum_over_batch_size'``.

    >>> standardize_reduction("auto"), standardize_reduction(None)
    ('sum_over_batch_size', None)
    """
    if reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`: {reduction!r}. Expected one of "
            f"'sum_over_batch_size' (the default), 'sum', 'mean', 'mean_with_sample_weight', "
            f"'none' or None."
        )
    return reduction


def _weights_for(values: Tensor, sample_weight: np.ndarray):
    """Values and weights with matching ranks; weights may broadcast over trailing axes."""
    values, weights = squeeze_or_expand_to_same_rank(values, sample_weight)
    if weights.ndim < values.ndim:
        weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
    try:
        fits = np.broadcast_shapes(weights.shape, values.shape) == values.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"sample_weight of shape {np.shape(sample_weight)} does not fit the per-sample "
            f"losses of shape {values.shape}. Pass one weight per sample (shape "
            f"{values.shape[:1]}) or one per loss element (shape {values.shape})."
        )
    return values, weights


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size"):
    """Weight per-sample losses, then reduce them as Keras 3 does.

    ``'sum_over_batch_size'``/``'mean'``: sum of weighted losses / number of loss elements (the
    divisor ignores the weights); ``'sum'``; ``'mean_with_sample_weight'``: divided by the sum of
    the weights; ``'none'``/None: the weighted losses. ``mask`` (boolean, the losses' shape)
    drops entries and, for the mean reductions, averages over the kept ones only.

    >>> values = Tensor(np.array([0.5, 1.0, 1.5], "float32"))
    >>> float(reduce_weighted_values(values, sample_weight=[1.0, 0.0, 0.0]))
    0.1666666716337204
    """
    reduction = standardize_reduction(reduction)
    values = values if isinstance(values, Tensor) else Tensor(values)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(_values(sample_weight), dtype=values.dtype)
    if mask is not None:
        mask = np.asarray(mask).astype(values.dtype)
        if reduction in ("mean", "sum_over_batch_size") and mask.size:
            # Rescale kept entries by total/kept so the mean runs over the kept ones only.
            kept = mask.sum()
            mask = mask * (mask.size / kept if kept else 0.0)
        if weights is None:
            weights = mask
        else:
            mask, weights = squeeze_or_expand_to_same_rank(mask, weights)
            weights = weights * mask
    if weights is not None:
        if weights.ndim > values.ndim and not (weights.ndim == values.ndim + 1
                                               and weights.shape[-1] == 1):
            raise ValueError(
                f"sample_weight of shape {weights.shape} has more axes than the per-sample "
                f"losses of shape {values.shape}; pass one weight per sample."
            )
        values, weights = _weights_for(values, weights)
        values = values * weights
    if reduction in (None, "none") or values.ndim == 0 or values.shape == (0,):
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return _as_0d(total)
    if reduction == "mean_with_sample_weight" and weights is not None:
        divisor = float(np.broadcast_to(weights, values.shape).sum())
    else:
        divisor = float(values.size)
    # divide_no_nan: an all-zero weight vector or an empty batch gives 0, not nan.
    return _as_0d(total / divisor if divisor else total * 0.0)


def _as_0d(scalar: Tensor) -> Tensor:
    # A full reduction leaves a NumPy scalar in ``data``; a 0-d array lets np.asarray(loss)
    # work too. The VJPs keep their own references, so swapping the container is safe.
    scalar.data = np.asarray(scalar.data)
    return scalar


# ----- Loss classes -----


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    Calling the loss applies ``call``, the sample weights and the reduction.

    Args:
        name: the loss's name; defaults to the snake-case class name.
        reduction: ``'sum_over_batch_size'`` (default), ``'sum'``, ``'mean'``,
            ``'mean_with_sample_weight'``, ``'none'`` or None.
        dtype: if given, predictions are cast to it first.

    >>> class Squares(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return ((y_pred - y_true) * (y_pred - y_true)).sum(axis=-1)
    >>> float(Squares()(np.zeros((2, 2)), np.ones((2, 2), "float32")))
    2.0
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        """The reduced loss as a Tensor (a scalar unless ``reduction`` is 'none'/None)."""
        y_pred = _prediction(y_pred)
        if self.dtype is not None and y_pred.dtype != np.dtype(self.dtype):
            y_pred = ops.cast(y_pred, dtype=self.dtype)
        losses = self.call(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight, self._mask(y_true, losses),
                                      self.reduction)

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def _mask(self, y_true, losses):
        """Loss entries to leave out of the reduction (boolean, the losses' shape), or None."""
        return None

    def check_targets(self, y_true, output_shape) -> None:
        """Validate a whole target array against the model's output shape, before training.

        The base class only compares the number of samples; built-in losses check shapes,
        label types and ranges. ``output_shape`` may hold None for unknown sizes.

        Raises:
            ValueError: naming the loss and the shapes, and saying how to fix the data.
        """
        _check_batch(self.name, np.asarray(y_true), tuple(output_shape))

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    >>> loss = LossFunctionWrapper(mean_absolute_error, reduction="sum")
    >>> float(loss([[0.0], [1.0]], np.array([[1.0], [3.0]], "float32")))
    3.0
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise ValueError(f"LossFunctionWrapper needs a callable `fn`, got {fn!r}.")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def check_targets(self, y_true, output_shape) -> None:
        checker = _TARGET_CHECKS.get(self.fn, _check_batch)
        checker(self.name, np.asarray(y_true), tuple(output_shape), **self._check_options())

    def _check_options(self) -> dict:
        return {}

    def get_config(self) -> dict:
        config = super().get_config()
        config["fn"] = serialize(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("fn"), (str, dict)):
            config["fn"] = get(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, " \
               f"kwargs={self._fn_kwargs})>"


class _BuiltinLoss(LossFunctionWrapper):
    """A wrapper whose function is fixed by the class, so the config holds only options."""

    def get_config(self) -> dict:
        config = Loss.get_config(self)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class SparseCategoricalCrossentropy(_BuiltinLoss):
    """Crossentropy for integer labels; see :func:`sparse_categorical_crossentropy`.

    With ``ignore_class``, samples with that label are left out and the mean runs over the
    others.

    >>> loss = SparseCategoricalCrossentropy()
    >>> round(float(loss([1, 2], np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], "float32"))), 3)
    1.177
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        logits = self._fused_mean_logits(y_pred, sample_weight)
        if logits is None:
            return super().__call__(y_true, y_pred, sample_weight)
        labels = _values(y_true)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels.reshape(-1)
        if labels.shape != logits.shape[:1]:
            return super().__call__(y_true, y_pred, sample_weight)  # its errors name the shapes
        labels = _class_indices(labels, logits.shape[-1], self.name)
        return ops.sparse_softmax_cross_entropy(logits, labels, mean=True)

    def _fused_mean_logits(self, y_pred, sample_weight):
        """The logits of the training loop's common case, where one fused node computes the
        batch mean (the same numbers as the general path, bit for bit); else None."""
        if (sample_weight is not None or self.ignore_class is not None or self.dtype is not None
                or self.reduction not in ("sum_over_batch_size", "mean")
                or not isinstance(y_pred, Tensor) or y_pred.ndim != 2 or self.axis not in (-1, 1)):
            return None
        if self.from_logits:
            _warn_if_activated(y_pred, self.name)
            return y_pred if y_pred.dtype.kind == "f" else None
        return _activation_logits(y_pred, unwanted_op="sigmoid")

    def _mask(self, y_true, losses):
        if self.ignore_class is None:
            return None
        labels = _values(y_true)
        if labels.ndim == losses.ndim + 1 and labels.shape[-1] == 1:
            labels = labels.reshape(labels.shape[:-1])
        return labels != self.ignore_class

    def _check_options(self) -> dict:
        return {"ignore_class": self.ignore_class, "axis": self.axis}


class CategoricalCrossentropy(_BuiltinLoss):
    """Crossentropy for one-hot targets; see :func:`categorical_crossentropy`.

    >>> loss = CategoricalCrossentropy()
    >>> round(float(loss([[0, 1, 0]], np.array([[0.05, 0.95, 0.0]], "float32"))), 4)
    0.0513
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def _check_options(self) -> dict:
        return {"axis": self.axis}


class BinaryCrossentropy(_BuiltinLoss):
    """Binary crossentropy; see :func:`binary_crossentropy`.

    >>> loss = BinaryCrossentropy(from_logits=True)
    >>> round(float(loss([[0, 1], [0, 0]], np.array([[-18.6, 0.51], [2.94, -12.8]]))), 3)
    0.865
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class MeanSquaredError(_BuiltinLoss):
    """Mean of squared errors; see :func:`mean_squared_error`.

    >>> float(MeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], np.array([[1.0, 1.0], [1.0, 0.0]])))
    0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(_BuiltinLoss):
    """Mean of absolute errors; see :func:`mean_absolute_error`.

    >>> float(MeanAbsoluteError()([[0.0, 1.0]], np.array([[1.0, 3.0]])))
    1.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_BuiltinLoss):
    """Mean absolute percentage error; see :func:`mean_absolute_percentage_error`.

    >>> float(MeanAbsolutePercentageError()([[2.0, 4.0]], np.array([[1.0, 5.0]])))
    37.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(_BuiltinLoss):
    """Mean squared logarithmic error; see :func:`mean_squared_logarithmic_error`.

    >>> round(float(MeanSquaredLogarithmicError()([[0.0]], np.array([[np.e - 1]]))), 6)
    1.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class Huber(_BuiltinLoss):
    """Huber loss; see :func:`huber`. (Unlike Keras, ``delta`` is kept in the config.)

    >>> round(float(Huber()([[0, 1], [0, 0]], np.array([[0.6, 0.4], [0.4, 0.6]]))), 3)
    0.155
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class LogCosh(_BuiltinLoss):
    """Log of the hyperbolic cosine of the error; see :func:`log_cosh`.

    >>> round(float(LogCosh()([[0.0, 1.0], [0.0, 0.0]], np.array([[1.0, 1.0], [0.0, 0.0]]))), 3)
    0.108
    """

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(_BuiltinLoss):
    """Kullback-Leibler divergence; see :func:`kl_divergence`.

    >>> round(float(KLDivergence()([[0.5, 0.5]], np.array([[0.25, 0.75]]))), 6)
    0.143841
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(_BuiltinLoss):
    """Poisson loss; see :func:`poisson`.

    >>> round(float(Poisson()([[1.0, 0.0]], np.array([[1.0, 2.0]]))), 6)
    1.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class Hinge(_BuiltinLoss):
    """Hinge loss; see :func:`hinge`.

    >>> float(Hinge()([[0.0, 1.0]], np.array([[-0.5, 0.25]])))
    0.625
    """

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(_BuiltinLoss):
    """Squared hinge loss; see :func:`squared_hinge`.

    >>> float(SquaredHinge()([[0.0, 1.0]], np.array([[-0.5, 0.25]])))
    0.40625
    """

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(_BuiltinLoss):
    """Categorical hinge loss; see :func:`categorical_hinge`.

    >>> round(float(CategoricalHinge()([[0.0, 1.0, 0.0]], np.array([[0.3, 0.5, 0.2]]))), 6)
    0.8
    """

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(_BuiltinLoss):
    """Negative cosine similarity; see :func:`cosine_similarity`. (``axis`` is in the config.)

    >>> float(CosineSimilarity()([[0.0, 1.0]], np.array([[0.0, 2.0]])))
    -1.0
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)
        self.axis = axis


class _ShapeResolvedCrossentropy(Loss):
    """``loss='crossentropy'``/``'ce'``: binary, sparse or categorical, chosen from the shapes
    of the first targets and predictions it sees (the rule of :func:`target_kind`)."""

    def __init__(self, name="crossentropy", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.resolved = None

    def _resolve(self, y_true_shape, y_pred_shape) -> Loss:
        if self.resolved is None:
            cls = _CROSSENTROPY_BY_KIND[target_kind(y_true_shape, y_pred_shape)]
            self.resolved = cls(reduction=self.reduction, name=self.name, dtype=self.dtype)
        return self.resolved

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = _prediction(y_pred)
        return self._resolve(np.shape(_values(y_true)), y_pred.shape)(y_true, y_pred,
                                                                      sample_weight)

    def check_targets(self, y_true, output_shape) -> None:
        self._resolve(np.shape(y_true), tuple(output_shape)).check_targets(y_true, output_shape)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}


# ----- target checks -----


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _with_batch(shape, y: np.ndarray) -> tuple:
    """``shape`` with an unknown batch size replaced by the targets' (for messages)."""
    if shape and shape[0] is None and y.ndim:
        return (y.shape[0],) + tuple(shape[1:])
    return tuple(shape)


def _same(shape, output_shape) -> bool:
    """Equal shapes, with None in the output shape matching any size."""
    return len(shape) == len(output_shape) and all(
        o is None or s == o for s, o in zip(shape, output_shape))


def _fits(shape, output_shape) -> bool:
    """Same shape up to one trailing axis of size 1 (Keras adds or drops it)."""
    if len(shape) == len(output_shape) + 1 and shape[-1] == 1:
        shape = shape[:-1]
    elif len(output_shape) == len(shape) + 1 and output_shape[-1] == 1:
        output_shape = output_shape[:-1]
    return _same(shape, output_shape)


def _is_whole(y: np.ndarray) -> bool:
    if y.dtype.kind in "iub":
        return True
    return y.dtype.kind == "f" and bool(np.all(np.isfinite(y) & (y == np.floor(y))))


def _check_numeric(name: str, y: np.ndarray) -> None:
    if y.dtype.kind not in "iubf":
        raise ValueError(f"{name}: targets must be numbers, but they have dtype {y.dtype}. "
                         f"Convert them with np.asarray(y, dtype='float32').")


def _check_batch(name: str, y: np.ndarray, output_shape: tuple, **_) -> None:
    if (y.ndim and output_shape and output_shape[0] is not None
            and y.shape[0] != output_shape[0]):
        raise ValueError(
            f"{name}: there are {y.shape[0]} targets for {output_shape[0]} predictions "
            f"(target shape {_shape_text(y.shape)}, output shape {_shape_text(output_shape)}). "
            f"Pass one target per input sample."
        )


def _check_one_unit_per_class(name: str, output_shape: tuple, axis: int) -> int:
    if not output_shape:
        raise ValueError(f"{name}: the model output is a scalar; crossentropy needs a class "
                         f"axis. Give the last layer one unit per class.")
    classes = output_shape[axis]
    if classes == 1:
        raise ValueError(
            f"{name}: the model output of shape {_shape_text(output_shape)} has a single unit, "
            f"but this loss needs one output unit per class. For two classes use "
            f"Dense(1, activation='sigmoid') with loss='binary_crossentropy', or give the last "
            f"layer one unit per class, e.g. Dense(2, activation='softmax')."
        )
    return classes


def _check_sparse(name, y, output_shape, ignore_class=None, axis=-1, **_):
    _check_numeric(name, y)
    classes = _check_one_unit_per_class(name, output_shape, axis)
    class_axis = axis % len(output_shape)
    label_shape = output_shape[:class_axis] + output_shape[class_axis + 1:]
    if not (_same(y.shape, label_shape) or _same(y.shape, label_shape + (1,))):
        hint = ""
        if _same(y.shape, output_shape):
            hint = (" These targets look one-hot encoded: use loss='categorical_crossentropy', "
                    "or pass the integer labels np.argmax(y, axis=-1).")
        raise ValueError(
            f"{name}: targets of shape {_shape_text(y.shape)} do not fit the model output of "
            f"shape {_shape_text(output_shape)}. Sparse categorical crossentropy takes one "
            f"integer class label per sample: targets of shape "
            f"{_shape_text(_with_batch(label_shape, y))} or "
            f"{_shape_text(_with_batch(label_shape, y) + (1,))}.{hint}"
        )
    if classes is None:
        return
    if ignore_class is not None:
        y = np.where(y == ignore_class, 0, y)
    _class_indices(y, classes, name, ignore_class)


def _check_categorical(name, y, output_shape, axis=-1, **_):
    _check_numeric(name, y)
    classes = _check_one_unit_per_class(name, output_shape, axis)
    if _same(y.shape, output_shape):
        return
    label_shape = output_shape[:-1]
    if (_same(y.shape, label_shape) or _same(y.shape, label_shape + (1,))) and _is_whole(y):
        raise ValueError(
            f"{name}: targets of shape {_shape_text(y.shape)} look like integer class labels, "
            f"but categorical crossentropy needs one-hot targets with the output's shape "
            f"{_shape_text(_with_batch(output_shape, y))}. Use "
            f"loss='sparse_categorical_crossentropy', or one-hot encode the labels with "
            f"numkeras.utils.to_categorical(y, {classes})."
        )
    raise ValueError(
        f"{name}: targets of shape {_shape_text(y.shape)} do not match the model output of "
        f"shape {_shape_text(output_shape)}; one-hot targets need the output's shape, with "
        f"{classes} classes in the last axis. Fix the targets or the number of output units."
    )


def _check_elementwise(name, y, output_shape, **_):
    _check_numeric(name, y)
    if _fits(y.shape, output_shape):
        return
    units = output_shape[-1] if output_shape else None
    if (y.ndim == len(output_shape) - 1 and units not in (None, 1) and _is_whole(y)
            and _same(y.shape, output_shape[:-1])):
        hint = (f" These look like integer class labels for {units} outputs: use "
                f"loss='sparse_categorical_crossentropy' with a softmax output, or one-hot "
                f"encode them with numkeras.utils.to_categorical(y, {units}).")
    else:
        hint = " Reshape the targets, or change the number of units of the last layer."
    raise ValueError(
        f"{name}: targets of shape {_shape_text(y.shape)} do not match the model output of "
        f"shape {_shape_text(output_shape)}. Targets must have the output's shape (a trailing "
        f"axis of size 1 may be added or left out); they are never broadcast.{hint}"
    )


def _check_binary(name, y, output_shape, **_):
    _check_elementwise(name, y, output_shape)
    if y.size and (y.min() < 0 or y.max() > 1):
        bad = y.min() if y.min() < 0 else y.max()
        hint = ""
        if _is_whole(y) and y.min() >= 0:
            classes = int(y.max()) + 1
            hint = (f" These look like class labels 0 to {classes - 1}: for {classes} classes "
                    f"use loss='sparse_categorical_crossentropy' with "
                    f"Dense({classes}, activation='softmax').")
        raise ValueError(
            f"{name}: binary crossentropy targets must lie in [0, 1], but found "
            f"{_format_label(bad)}.{hint}"
        )


_TARGET_CHECKS = {
    sparse_categorical_crossentropy: _check_sparse,
    categorical_crossentropy: _check_categorical,
    binary_crossentropy: _check_binary,
    **{fn: _check_elementwise for fn in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, huber, log_cosh, kl_divergence, poisson, hinge,
        squared_hinge, categorical_hinge, cosine_similarity)},
}


def check_targets(loss, y_true, output_shape) -> None:
    """Validate a whole target array for ``loss`` (any identifier ``resolve`` accepts).

    Call it once before training, with the targets and the model's output shape (the batch
    size may be None).

    >>> check_targets("sparse_categorical_crossentropy", np.array([0, 9, 10]), (None, 10))
    Traceback (most recent call last):
    ...
    ValueError: sparse_categorical_crossentropy: label 10 is out of range for 10 classes \
(valid labels are 0 to 9). If the labels start at 1, subtract 1; if there are more classes, \
give the last layer 11 units.
    """
    y_true = np.asarray(y_true)
    resolve(loss, y_true=y_true, y_pred_shape=tuple(output_shape)).check_targets(
        y_true, tuple(output_shape))


def target_kind(y_true_shape, y_pred_shape) -> str:
    """``'binary'``, ``'sparse'`` or ``'categorical'``: Keras's rule for 'accuracy' and 'ce'.

    Binary if the prediction's last axis is 1; sparse if the targets have fewer axes, or a
    last axis of 1 against several predicted classes; categorical otherwise.

    >>> target_kind((32,), (32, 10)), target_kind((32, 10), (32, 10)), target_kind((32,), (32, 1))
    ('sparse', 'categorical', 'binary')
    """
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if y_pred_shape and y_pred_shape[-1] == 1:
        return "binary"
    if len(y_true_shape) < len(y_pred_shape) or (
            y_true_shape and y_true_shape[-1] == 1 and y_pred_shape
            and (y_pred_shape[-1] is None or y_pred_shape[-1] > 1)):
        return "sparse"
    return "categorical"


# ----- get / serialize -----

ALL_OBJECTS = {obj.__name__: obj for obj in (
    Loss, LossFunctionWrapper, SparseCategoricalCrossentropy, CategoricalCrossentropy,
    BinaryCrossentropy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, CosineSimilarity,
    sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, kl_divergence, poisson, hinge,
    squared_hinge, categorical_hinge, cosine_similarity)}
ALIASES = {
    "bce": binary_crossentropy, "BCE": binary_crossentropy, "mse": mse, "MSE": mse,
    "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle, "MSLE": msle, "kld": kld,
    "KLD": kld, "kullback_leibler_divergence": kld, "logcosh": logcosh,
    "huber_loss": huber_loss,
}
_TABLE = {**ALL_OBJECTS, **ALIASES}
_SHAPE_RESOLVED = ("crossentropy", "ce")
_CROSSENTROPY_BY_KIND = {"binary": BinaryCrossentropy, "sparse": SparseCategoricalCrossentropy,
                         "categorical": CategoricalCrossentropy}
# The class that wraps each built-in function with the function's own defaults.
_CLASS_OF = {
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy, binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber,
    log_cosh: LogCosh, kl_divergence: KLDivergence, poisson: Poisson, hinge: Hinge,
    squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
    cosine_similarity: CosineSimilarity,
}


def get(identifier, argument: str | None = "loss"):
    """A loss from a name, a config dict, a class, a function or a ``Loss``, as Keras's ``get``.

    Function names (and aliases such as ``'mse'``) give the function, class names and classes
    give a default instance, dicts are deserialized, callables pass through.

    >>> get("mse") is mean_squared_error, type(get("Huber")).__name__
    (True, 'Huber')
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _SHAPE_RESOLVED:
            return _ShapeResolvedCrossentropy(name=identifier)
        obj = lookup("loss", _TABLE, identifier, argument)
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier {identifier!r} (argument "
                     f"`{argument}`). Pass a loss name such as 'mse', a Loss instance or a "
                     f"function (y_true, y_pred) -> per-sample losses.")


def resolve(identifier, y_true=None, y_pred_shape=None) -> Loss:
    """A ``Loss`` object for ``compile``: like :func:`get`, but functions are wrapped.

    Built-in functions become their class (so ``check_targets`` and the logits shortcut
    apply); other callables become a ``LossFunctionWrapper``. ``'crossentropy'``/``'ce'``
    are resolved from ``y_true``'s shape and ``y_pred_shape`` when given, else on first use.

    >>> resolve("mse").name, resolve("ce", np.zeros(4), (4, 3)).name
    ('mean_squared_error', 'ce')
    """
    loss = get(identifier)
    if loss is None:
        raise ValueError("No loss to resolve: pass a loss name, function or Loss instance.")
    if isinstance(loss, _ShapeResolvedCrossentropy) and y_true is not None \
            and y_pred_shape is not None:
        return loss._resolve(np.shape(y_true), tuple(y_pred_shape))
    if isinstance(loss, Loss):
        return loss
    if loss in _CLASS_OF:
        return _CLASS_OF[loss]()
    return LossFunctionWrapper(loss)


def serialize(loss):
    """A function's name, or a ``Loss``'s Keras 3 dict (``module``/``class_name``/``config``).

    >>> serialize(mse), serialize(Huber(delta=2.0))["config"]["delta"]
    ('mean_squared_error', 2.0)
    """
    if isinstance(loss, _ShapeResolvedCrossentropy):
        return loss.name
    if isinstance(loss, Loss):
        return serialize_object(loss, "keras.losses")
    if isinstance(loss, str):
        return loss
    if callable(loss):
        return getattr(loss, "__name__", repr(loss))
    raise ValueError(f"Cannot serialize {loss!r}: expected a Loss instance or a function.")


def deserialize(config, custom_objects=None):
    """The inverse of :func:`serialize` (also reads Keras 3 ``"class_name": "function"``).

    >>> deserialize("mse") is mean_squared_error, deserialize(serialize(Huber(delta=2.0))).delta
    (True, 2.0)
    """
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return custom_objects[config]
        return get(config)
    if isinstance(config, dict) and config.get("class_name") == "function":
        return deserialize(config.get("config"), custom_objects)
    return deserialize_object("loss", config, _TABLE, custom_objects)
