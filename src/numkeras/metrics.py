"""Metrics with Keras 3's names and formulas, computed in NumPy outside the autodiff graph.

A metric is a running statistic over an epoch: ``update_state(y_true, y_pred, sample_weight)``
after every batch, ``result()`` for the value so far (a Python float, rounded to the metric's
float32 as Keras reports it), ``reset_state()`` at the start of an epoch. Means are weighted by
the sample weights, or by the number of samples, so the epoch value does not depend on how the
data was batched.

``get(identifier, y_true, y_pred_shape)`` is what ``compile(metrics=[...])`` uses: strings,
classes, functions and dicts become ``Metric`` objects; ``'accuracy'``/``'acc'`` (and
``'crossentropy'``/``'ce'``) pick the binary, sparse or categorical variant from the shapes and
keep the user's string as the metric's name.

>>> import numpy as np
>>> from numkeras import metrics
>>> m = metrics.get("acc", y_true=np.array([0, 1]), y_pred_shape=(2, 3))
>>> type(m).__name__, m.name
('SparseCategoricalAccuracy', 'acc')
>>> m.update_state([0, 1], [[0.9, 0.1, 0.0], [0.8, 0.1, 0.1]])
>>> m.result()
0.5
"""

from __future__ import annotations

import numpy as np

from numkeras import config, losses
from numkeras.backprop import Tensor, Variable, no_grad
from numkeras.utils import naming
from numkeras.utils.registry import deserialize_object, lookup, serialize_object

_squeeze_or_expand = losses.squeeze_or_expand_to_same_rank


def _samplewise(values, sample_weight, reduce_fn):
    """Keras's reduction of metric values to one (weighted) value per sample.

    Returns ``(values, weights)``: values of shape (N,) (or a scalar), already multiplied by
    the weights, and the weights reduced the same way (None without sample weights).
    """
    values = np.asarray(values, dtype=np.float64)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64)
        values, weights = _squeeze_or_expand(values, weights)
        if values.ndim > weights.ndim:  # average values over the axes weights do not have
            values = reduce_fn(values, axis=tuple(range(weights.ndim, values.ndim)))
        try:
            weights = np.broadcast_to(weights, values.shape)
        except ValueError:
            raise ValueError(
                f"sample_weight of shape {np.shape(sample_weight)} does not fit metric values "
                f"of shape {values.shape}; pass one weight per sample."
            ) from None
        values = values * weights
        if weights.ndim > 1:
            weights = reduce_fn(weights, axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, weights


class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``, ``name``, ``get_config``.

    Args:
        name: the name shown in logs; defaults to the snake-case class name.
        dtype: the float type results are reported in (floatx, float32, by default).

    >>> class Largest(Metric):
    ...     def reset_state(self):
    ...         self.value = 0.0
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.value = max(self.value, float(np.max(y_pred)))
    ...     def result(self):
    ...         return self.value
    >>> m = Largest()
    >>> m.update_state(None, [0.5, 2.0]); m.name, m.result()
    ('largest', 2.0)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A user's Keras 3 metric returns its state variable (or a Tensor) from result();
        # logs, History and the progress bar want a float, as Keras's logs hold.
        if not cls.__module__.startswith("numkeras.") and "result" in vars(cls):
            cls.result = _as_python_result(vars(cls)["result"])

    def __init__(self, name=None, dtype=None):
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.dtype = np.dtype(dtype or config.floatx()).name
        self._variables = []
        try:
            self.reset_state()
        except AttributeError:
            # A Keras 3 subclass makes its state variables after super().__init__(); their
            # initializers give the first state.
            pass

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """A state variable of the metric (Keras 3), e.g. a running count:

        >>> class Count(Metric):
        ...     def __init__(self, name="count"):
        ...         super().__init__(name=name)
        ...         self.total = self.add_variable(shape=(), name="total")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.total.assign_add(float(len(y_true)))
        ...     def result(self):
        ...         return self.total.value
        >>> m = Count(); m.update_state([1, 2], [1, 2]); m.variables
        [<Variable path=count/total, shape=(), dtype=float32>]
        """
        from numkeras import initializers

        dtype = dtype or self.dtype
        value = initializers.get(initializer, "initializer")(tuple(shape), dtype=dtype)
        variable = Variable(value, dtype=dtype, trainable=False, name=name or "variable")
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None,
                   aggregation="sum"):
        """``add_variable`` under its tf.keras name."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype,
                                 aggregation=aggregation, name=name)

    @property
    def variables(self) -> list:
        """The state variables made by ``add_variable``/``add_weight``."""
        return list(getattr(self, "_variables", []))

    def reset_state(self) -> None:
        """Forget everything accumulated (called at the start of each epoch)."""

    def reset_states(self) -> None:
        """tf.keras 2's name of :meth:`reset_state` (its training-loop guide calls it)."""
        self.reset_state()

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def _report(self, value) -> float:
        # Keras keeps metric state in float32 variables; reporting the same rounding makes
        # History and evaluate() numbers match it digit for digit.
        return float(np.asarray(value, dtype=self.dtype))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _as_python_result(result):
    def wrapped(self):
        value = result(self)
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, (np.ndarray, np.generic)) and np.size(value) == 1:
            return float(value)
        return value

    wrapped.__wrapped__ = result
    wrapped.__doc__ = result.__doc__
    return wrapped


class Mean(Metric):
    """Weighted running mean of the values given to ``update_state``.

    >>> m = Mean()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    >>> m.result()
    2.0
    """

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None) -> None:
        if sample_weight is None or isinstance(sample_weight, (int, float)):
            # Fast path of the training loop: a scalar (the batch loss, weighted by the batch
            # size) or one value per sample without weights.
            if isinstance(values, float):
                weight = 1.0 if sample_weight is None else float(sample_weight)
                self.total += values * weight
                self.count += weight
                return
            array = np.asarray(values)
            if sample_weight is None and array.ndim == 1:
                self.total += float(array.sum(dtype=np.float64))
                self.count += array.shape[0]
                return
        values, weights = _samplewise(values, sample_weight, np.mean)
        self.total += float(np.sum(values))
        if weights is not None:
            self.count += float(np.sum(weights))
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self) -> float:
        return self._report(self.total / self.count if self.count else 0.0)


class Sum(Metric):
    """Weighted running sum of the values given to ``update_state``.

    >>> m = Sum()
    >>> m.update_state([1.0, 3.0]); m.update_state([5.0], sample_weight=[2.0])
    >>> m.result()
    14.0
    """

    def reset_state(self) -> None:
        self.total = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = _samplewise(values, sample_weight, np.sum)
        self.total += float(np.sum(values))

    def result(self) -> float:
        return self._report(self.total)


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)``, one value per sample.

    >>> m = MeanMetricWrapper(lambda t, p: np.abs(np.subtract(t, p)), name="abs_error")
    >>> m.update_state([1.0, 2.0], [1.5, 1.0]); m.result()
    0.75
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise ValueError(f"MeanMetricWrapper needs a callable `fn`, got {fn!r}.")
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        if type(self) is MeanMetricWrapper:  # subclasses fix their function
            config["fn"] = _function_name(self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = lookup("metric function", _FUNCTIONS, config["fn"], "fn")
        return cls(**config)


# ----- per-sample metric functions (NumPy) -----


def _arrays(y_true, y_pred):
    return np.asarray(y_true), np.asarray(y_pred)


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` exactly, else 0.0.

    >>> accuracy([1, 2, 3], [1, 2, 4])
    array([1., 1., 0.], dtype=float32)
    """
    t, p = _squeeze_or_expand(*_arrays(y_true, y_pred))
    return (t == p).astype(config.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold)`` equals ``y_true`` (exactly 0.5 counts as 0).

    >>> binary_accuracy([[1], [0], [1]], [[0.7], [0.5], [0.5]])
    array([[1.],
           [1.],
           [0.]], dtype=float32)
    """
    t, p = _squeeze_or_expand(*_arrays(y_true, y_pred))
    return (t == (p > threshold).astype(t.dtype)).astype(config.floatx())


def categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of the one-hot target equals the predicted argmax (ties: first).

    >>> categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.1, 0.8], [0.5, 0.5, 0.0]])
    array([1., 0.], dtype=float32)
    """
    t, p = _arrays(y_true, y_pred)
    return (np.argmax(t, axis=-1) == np.argmax(p, axis=-1)).astype(config.floatx())


def _labels(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Integer labels with the prediction's batch shape: a trailing axis of size 1 dropped."""
    if t.ndim == p.ndim and t.ndim and t.shape[-1] == 1:
        t = t.reshape(t.shape[:-1])
    return t


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals ``argmax(y_pred)`` (ties go to the first index).

    >>> sparse_categorical_accuracy([2, 1], [[0.1, 0.1, 0.8], [0.5, 0.5, 0.0]])
    array([1., 0.], dtype=float32)
    """
    t, p = _arrays(y_true, y_pred)
    t = _labels(t, p)
    return (t == np.argmax(p, axis=-1)).astype(config.floatx())


def _in_top_k(labels: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Whether each label's score is among the k largest (ties at the boundary count, as in
    TensorFlow's ``in_top_k``)."""
    classes = p.shape[-1]
    flat = p.reshape(-1, classes)  # (N, C)
    index = labels.reshape(-1).astype(np.intp)
    if index.size and (index.min() < 0 or index.max() >= classes):
        bad = index.min() if index.min() < 0 else index.max()
        raise ValueError(f"Top-k accuracy: label {bad} is out of range for {classes} classes.")
    if k >= classes:
        hits = np.ones(index.shape, dtype=bool)
    else:
        kth_largest = np.partition(flat, classes - k, axis=-1)[:, classes - k]
        hits = flat[np.arange(flat.shape[0]), index] >= kth_largest
    return hits.reshape(labels.shape).astype(config.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the ``k`` highest predictions.

    >>> top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]], k=2)
    array([0., 1.], dtype=float32)
    """
    t, p = _arrays(y_true, y_pred)
    return _in_top_k(np.argmax(t, axis=-1), p, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the ``k`` highest predictions.

    >>> sparse_top_k_categorical_accuracy([2, 1], [[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]], k=2)
    array([0., 1.], dtype=float32)
    """
    t, p = _arrays(y_true, y_pred)
    return _in_top_k(_labels(t, p), p, k)


def _loss_metric(fn):
    """A loss function evaluated for monitoring: no graph, NumPy result."""

    def metric(y_true, y_pred, **kwargs):
        # A Tensor keeps its ``logits`` slot, so the value matches the training loss's.
        y_pred = y_pred if isinstance(y_pred, Tensor) else np.asarray(y_pred)
        with no_grad():
            return np.asarray(fn(y_true, y_pred, **kwargs))

    metric.__name__ = fn.__name__
    metric.__qualname__ = fn.__name__
    metric.__doc__ = f"``losses.{fn.__name__}`` as a metric (NumPy values, no gradient)."
    return metric


sparse_categorical_crossentropy = _loss_metric(losses.sparse_categorical_crossentropy)
categorical_crossentropy = _loss_metric(losses.categorical_crossentropy)
binary_crossentropy = _loss_metric(losses.binary_crossentropy)
mean_squared_error = _loss_metric(losses.mean_squared_error)
mean_absolute_error = _loss_metric(losses.mean_absolute_error)
mean_absolute_percentage_error = _loss_metric(losses.mean_absolute_percentage_error)
mean_squared_logarithmic_error = _loss_metric(losses.mean_squared_logarithmic_error)
huber = _loss_metric(losses.huber)
log_cosh = _loss_metric(losses.log_cosh)
kl_divergence = _loss_metric(losses.kl_divergence)
poisson = _loss_metric(losses.poisson)
hinge = _loss_metric(losses.hinge)
squared_hinge = _loss_metric(losses.squared_hinge)
categorical_hinge = _loss_metric(losses.categorical_hinge)
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along ``axis`` (+1 for parallel vectors; the loss is its negative).

    >>> cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[0.0, 3.0], [-1.0, -1.0]]).round(6)
    array([ 1., -1.])
    """
    return -_loss_metric(losses.cosine_similarity)(y_true, y_pred, axis=axis)


# ----- accuracy classes -----


class _FixedFunctionMetric(MeanMetricWrapper):
    """A wrapper whose function is fixed by the class; subclasses set ``_function``."""

    _function = None

    def __init__(self, name=None, dtype=None, **kwargs):
        super().__init__(type(self)._function, name=name, dtype=dtype, **kwargs)


class Accuracy(_FixedFunctionMetric):
    """How often predictions equal targets exactly.

    >>> Accuracy()([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    0.75
    """

    _function = staticmethod(accuracy)

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryAccuracy(_FixedFunctionMetric):
    """How often ``y_pred > threshold`` matches the 0/1 target.

    >>> BinaryAccuracy()([[1], [1], [0], [0]], [[0.98], [1.0], [0.0], [0.6]])
    0.75
    """

    _function = staticmethod(binary_accuracy)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(_FixedFunctionMetric):
    """How often the predicted argmax matches the one-hot target's.

    >>> CategoricalAccuracy()([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0.0]])
    0.5
    """

    _function = staticmethod(categorical_accuracy)

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SparseCategoricalAccuracy(_FixedFunctionMetric):
    """How often the predicted argmax matches the integer label.

    >>> SparseCategoricalAccuracy()([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0.0]])
    0.5
    """

    _function = staticmethod(sparse_categorical_accuracy)

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)


class TopKCategoricalAccuracy(_FixedFunctionMetric):
    """How often the one-hot target's class is among the ``k`` highest predictions.

    >>> TopKCategoricalAccuracy(k=1)([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    """

    _function = staticmethod(top_k_categorical_accuracy)

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(_FixedFunctionMetric):
    """How often the integer label is among the ``k`` highest predictions.

    >>> SparseTopKCategoricalAccuracy(k=1)([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    """

    _function = staticmethod(sparse_top_k_categorical_accuracy)

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype, k=k)
        self.k = k


# ----- loss-valued classes -----


class MeanSquaredError(_FixedFunctionMetric):
    """Running mean of the squared error.

    >>> MeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.25
    """

    _function = staticmethod(mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_FixedFunctionMetric):
    """Running mean of the absolute error.

    >>> MeanAbsoluteError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.25
    """

    _function = staticmethod(mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SparseCategoricalCrossentropy(_FixedFunctionMetric):
    """Running mean of the sparse categorical crossentropy.

    >>> m = SparseCategoricalCrossentropy()
    >>> round(m([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]), 3)
    1.177
    """

    _function = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, axis=axis)


class CategoricalCrossentropy(_FixedFunctionMetric):
    """Running mean of the categorical crossentropy.

    >>> m = CategoricalCrossentropy()
    >>> round(m([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]), 3)
    1.177
    """

    _function = staticmethod(categorical_crossentropy)

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0, axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class BinaryCrossentropy(_FixedFunctionMetric):
    """Running mean of the binary crossentropy.

    >>> round(BinaryCrossentropy()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), 3)
    0.815
    """

    _function = staticmethod(binary_crossentropy)

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


# ----- precision and recall -----


class _ConfusionMetric(Metric):
    """Weighted true/false positive and false negative counts at one or more thresholds."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        if thresholds is None:
            # With top_k every kept prediction counts as positive, as in Keras.
            values = [0.5] if top_k is None else [-np.inf]
        else:
            values = list(np.ravel(thresholds))
            if not all(0.0 <= v <= 1.0 for v in values):
                raise ValueError(
                    f"Threshold values must be in [0, 1]; received thresholds={thresholds!r}."
                )
        self._several = isinstance(thresholds, (list, tuple, np.ndarray))
        self.thresholds = np.asarray(values, dtype=np.float64)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        size = len(self.thresholds)
        self.true_positives = np.zeros(size)
        self.false_positives = np.zeros(size)
        self.false_negatives = np.zeros(size)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        p = np.asarray(y_pred, dtype=np.float64)
        t = np.asarray(y_true)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(
                f"{type(self).__name__} expects predicted probabilities in [0, 1], but y_pred "
                f"ranges over [{p.min():g}, {p.max():g}]. Apply a sigmoid (or softmax) to "
                f"logits first."
            )
        p, t = _squeeze_or_expand(p, t)
        if p.shape != t.shape:
            raise ValueError(
                f"{type(self).__name__}: y_true of shape {t.shape} does not match y_pred of "
                f"shape {p.shape}."
            )
        if self.top_k is not None:
            p = _keep_top_k(p, self.top_k)
        if self.class_id is not None:
            p, t = p[..., self.class_id], t[..., self.class_id]
        truth = t.astype(bool)[..., None]  # (..., 1) against thresholds (T,)
        predicted = p[..., None] > self.thresholds  # (..., T)
        weights = np.ones(p.shape + (1,))
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            w = w.reshape(w.shape + (1,) * (p.ndim - w.ndim)) if w.ndim <= p.ndim else w
            weights = np.broadcast_to(w, p.shape)[..., None]
        axes = tuple(range(p.ndim))
        self.true_positives += np.sum(weights * (predicted & truth), axis=axes)
        self.false_positives += np.sum(weights * (predicted & ~truth), axis=axes)
        self.false_negatives += np.sum(weights * (~predicted & truth), axis=axes)

    def _ratio(self, hits, misses):
        total = hits + misses
        values = np.divide(hits, total, out=np.zeros_like(hits), where=total > 0)
        if self._several:
            return [self._report(v) for v in values]
        return self._report(values[0])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds, "top_k": self.top_k,
                       "class_id": self.class_id})
        return config


def _keep_top_k(p: np.ndarray, k: int) -> np.ndarray:
    """``p`` with all but the k largest entries of the last axis set to -inf."""
    order = np.argsort(-p, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(p.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, p, -np.inf)


class Precision(_ConfusionMetric):
    """Of the predictions above the threshold, the weighted fraction that are true.

    Args:
        thresholds: a float in [0, 1] or a list of them (``result()`` is then a list);
            a prediction is positive when it is above the threshold. Default 0.5.
        top_k: count only the ``k`` largest predictions per sample as positive.
        class_id: compute the metric for this class (last-axis index) only.

    >>> Precision()([0, 1, 1, 1], [1, 0, 1, 1])
    0.6666666865348816
    """

    def result(self):
        return self._ratio(self.true_positives, self.false_positives)


class Recall(_ConfusionMetric):
    """Of the true samples, the weighted fraction predicted above the threshold.

    Args: as :class:`Precision`.

    >>> Recall()([0, 1, 1, 1], [1, 0, 1, 1])
    0.6666666865348816
    """

    def result(self):
        return self._ratio(self.true_positives, self.false_negatives)


# ----- shape-resolved names: 'accuracy' / 'acc' and 'crossentropy' / 'ce' -----

_ACCURACY_BY_KIND = {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy,
                     "categorical": CategoricalAccuracy}
_CROSSENTROPY_BY_KIND = {"binary": BinaryCrossentropy, "sparse": SparseCategoricalCrossentropy,
                         "categorical": CategoricalCrossentropy}
_SHAPE_RESOLVED = {"accuracy": _ACCURACY_BY_KIND, "acc": _ACCURACY_BY_KIND,
                   "crossentropy": _CROSSENTROPY_BY_KIND, "ce": _CROSSENTROPY_BY_KIND}


def _resolve_by_shapes(identifier: str, y_true_shape, y_pred_shape) -> Metric:
    """The metric the rule of ``losses.target_kind`` picks, named as the user wrote it."""
    kind = losses.target_kind(y_true_shape, y_pred_shape)
    return _SHAPE_RESOLVED[identifier.lower()][kind](name=identifier)


class _ShapeResolvedMetric(Metric):
    """``'accuracy'`` (etc.) given before any data: resolved from the first batch's shapes."""

    def __init__(self, name="accuracy", dtype=None):
        self.resolved = None
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        if self.resolved is not None:
            self.resolved.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.resolved is None:
            self.resolved = _resolve_by_shapes(self.name, np.shape(y_true), np.shape(y_pred))
        self.resolved.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return 0.0 if self.resolved is None else self.resolved.result()


# ----- get / serialize -----

ALL_OBJECTS = {obj.__name__: obj for obj in (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, SparseCategoricalCrossentropy, CategoricalCrossentropy,
    BinaryCrossentropy, Precision, Recall)}
_FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, kl_divergence, poisson, hinge,
    squared_hinge, categorical_hinge, cosine_similarity)}
ALIASES = {
    "mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle,
    "MSLE": msle, "kld": kld, "KLD": kld, "kullback_leibler_divergence": kld,
    "bce": binary_crossentropy, "BCE": binary_crossentropy, "logcosh": log_cosh,
}
_TABLE = {**ALL_OBJECTS, **_FUNCTIONS, **ALIASES}
# Built-in functions that have a class: a string naming the function gives the class,
# named as the user wrote it.
_CLASS_OF = {
    accuracy: Accuracy, binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy, binary_crossentropy: BinaryCrossentropy,
}


def get(identifier, y_true=None, y_pred_shape=None) -> Metric | None:
    """The ``Metric`` that ``compile(metrics=[...])`` uses for ``identifier``.

    Strings, classes, functions, config dicts and ``Metric`` instances are accepted.
    ``'accuracy'``/``'acc'`` (any case) become BinaryAccuracy when the prediction's last axis
    is 1, SparseCategoricalAccuracy when the targets have fewer axes (or a last axis of 1
    against several classes), else CategoricalAccuracy; ``'crossentropy'``/``'ce'`` likewise.
    They keep the string as their name. Without ``y_true`` and ``y_pred_shape`` they resolve
    on their first ``update_state``. Other strings name a metric or loss function (``'mse'``,
    ``'sparse_categorical_accuracy'``, the metric then carries that name) or a class.

    Args:
        identifier: the metric.
        y_true: the targets (an array, or anything with a ``shape``), for 'accuracy'.
        y_pred_shape: the model output's shape, for 'accuracy'.

    >>> m = get("accuracy", y_true=np.zeros((8, 10)), y_pred_shape=(None, 10))
    >>> type(m).__name__, m.name, get("MSE").name
    ('CategoricalAccuracy', 'accuracy', 'MSE')
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _SHAPE_RESOLVED:
            if y_true is not None and y_pred_shape is not None:
                return _resolve_by_shapes(identifier, np.shape(y_true), tuple(y_pred_shape))
            return _ShapeResolvedMetric(name=identifier)
        # The shape-resolved names join the table only so that errors list them.
        obj = lookup("metric", {**_TABLE, **dict.fromkeys(_SHAPE_RESOLVED)}, identifier,
                     "metrics")
        if isinstance(obj, type):
            return obj()
        if obj in _CLASS_OF:
            return _CLASS_OF[obj](name=identifier)
        return MeanMetricWrapper(obj, name=identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        if identifier in _CLASS_OF:
            return _CLASS_OF[identifier]()
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier {identifier!r}. Pass a metric "
                     f"name such as 'accuracy', a Metric instance or a function "
                     f"(y_true, y_pred) -> per-sample values.")


def _function_name(fn) -> str:
    return getattr(fn, "__name__", repr(fn))


def serialize(metric):
    """A metric's Keras 3 dict (``module``/``class_name``/``config``), or its name string.

    >>> serialize(BinaryAccuracy(threshold=0.7))["config"]
    {'name': 'binary_accuracy', 'dtype': 'float32', 'threshold': 0.7}
    """
    if isinstance(metric, _ShapeResolvedMetric) or isinstance(metric, str):
        return metric if isinstance(metric, str) else metric.name
    if isinstance(metric, Metric):
        return serialize_object(metric, "keras.metrics")
    if callable(metric):
        return _function_name(metric)
    raise ValueError(f"Cannot serialize {metric!r}: expected a Metric instance or a function.")


def deserialize(config, custom_objects=None):
    """The inverse of :func:`serialize`.

    >>> deserialize(serialize(TopKCategoricalAccuracy(k=3))).k
    3
    """
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return get(custom_objects[config])
        return get(config)
    return deserialize_object("metric", config, ALL_OBJECTS, custom_objects)
