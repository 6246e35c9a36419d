"""``fit``/``evaluate``/``predict`` on batch sources, and custom ``train_step``/``test_step``.

Two things Keras 3 users write that the array loops of ``training.py`` do not cover:

* **Batch sources**: a ``tf.data.Dataset`` (numkeras.data), a ``keras.utils.PyDataset`` /
  ``Sequence`` (``__getitem__`` + ``__len__``), or a Python generator/iterator, each yielding
  batches ``x``, ``(x, y)`` or ``(x, y, sample_weight)``. The loops here draw those batches;
  ``fit`` decides once per call which loop runs.
* **Overridden steps**: a model whose class defines ``train_step(self, data)`` (the
  "customizing what happens in fit" guides) gets ``data`` packed as Keras packs it, and its
  returned logs (metric results, Tensors, nested dicts) become floats. Whether the step is
  overridden is decided once per ``fit``/``evaluate`` (:func:`train_step_function`), so the
  built-in step keeps its direct call.

>>> from numkeras.models.data_adapter import is_batch_source
>>> from numkeras.data import Dataset
>>> is_batch_source(Dataset.range(3)), is_batch_source([1, 2, 3])
(True, False)
"""

from __future__ import annotations

import inspect

import warnings

import numpy as np

from numkeras import callbacks as callbacks_module
from numkeras import config
from numkeras.backprop import Tensor
from numkeras.utils.py_dataset import pack_x_y_sample_weight, unpack_x_y_sample_weight


# ----- overridden steps -----


def train_step_function(model):
    """``step(x, y, sample_weight) -> logs``: the built-in step itself (or an override with
    its signature), or the model's Keras-style ``train_step(data)`` behind an adapter
    (decided once per fit)."""
    if not _keras_style_step(model, "train_step"):
        return model.train_step
    return lambda x, y, sample_weight: python_logs(
        model.train_step(pack_x_y_sample_weight(x, y, sample_weight)))


def evaluate_step_function(model):
    """As :func:`train_step_function`, for ``test_step``."""
    if not _keras_style_step(model, "test_step"):
        return model.test_step
    return lambda x, y, sample_weight: python_logs(
        model.test_step(pack_x_y_sample_weight(x, y, sample_weight)))


def overrides_step(model, method: str) -> bool:
    """Whether ``method``'s step (train for fit, test for evaluate) is the model's own
    Keras-style ``step(data)``."""
    step = {"fit": "train_step", "evaluate": "test_step"}.get(method)
    return step is not None and _keras_style_step(model, step)


def _keras_style_step(model, name: str) -> bool:
    """Whether ``model.<name>`` is an override taking Keras's one ``data`` argument (not the
    built-in ``(x, y, sample_weight)`` step, nor an override with that signature)."""
    from numkeras.models.training import Trainer

    if getattr(type(model), name) is getattr(Trainer, name):
        return False
    try:
        parameters = inspect.signature(getattr(model, name)).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) <= 1


def builds_itself(model, method: str) -> bool:
    """True for a model with a custom step and no ``call`` of its own (the guides' GAN):
    it has no forward pass to build from the data; its step calls its sub-models."""
    from numkeras.layers.layer import Layer

    return overrides_step(model, method) and type(model).call is Layer.call


def python_logs(logs) -> dict:
    """A step's returned logs as ``{name: float}``: metric results, scalar Tensors and arrays
    become floats, and nested dicts (Keras 3's ``compile_metrics``) are flattened."""
    if not isinstance(logs, dict):
        raise TypeError(f"train_step/test_step must return a dict of logs such as "
                        f"{{'loss': ...}}, received {type(logs).__name__}.")
    out = {}
    for name, value in logs.items():
        if isinstance(value, dict):
            out.update(python_logs(value))
            continue
        if isinstance(value, Tensor):
            value = value.data
        array = np.asarray(value)
        out[name] = float(array) if array.size == 1 else array
    return out


class CompiledLoss:
    """``model.compiled_loss(y, y_pred, sample_weight, regularization_losses)`` of tf.keras
    custom steps: the compiled loss plus the penalties given (not the model's own, unlike
    ``compute_loss``); it updates the "loss" tracker of ``model.metrics`` as tf.keras does."""

    def __init__(self, model):
        self._model = model

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        from numkeras.backprop import ops

        model = self._model
        if model._heads is not None:
            total, _ = model._heads.total_loss(model._output_list(y_true),
                                               model._output_list(y_pred), sample_weight)
        elif model._loss_function is not None:
            total = model._loss_function(y_true, y_pred, sample_weight=sample_weight)
        else:
            raise ValueError("`self.compiled_loss` needs a loss given to `compile()`.")
        # Only the penalties passed here, as tf.keras (usually regularization_losses=self.losses)
        for penalty in regularization_losses or ():
            total = ops.add(total, penalty)
        model._loss_tracker.update_state(float(np.asarray(total.data)),
                                         sample_weight=_batch_size(y_true))
        return total


class CompiledMetrics:
    """``model.compiled_metrics``: the metrics given to ``compile`` (resolved from the first
    targets), with ``update_state``, ``result``, ``reset_state`` and ``metrics``."""

    def __init__(self, model):
        self._model = model

    @property
    def metrics(self) -> list:
        return [m for m in self._model.metrics if m is not self._model._loss_tracker]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        model = self._model
        if model._heads is None and model._compiled_metrics is None:
            shape = tuple(np.shape(y_pred.data if isinstance(y_pred, Tensor) else y_pred))
            model._resolve_metrics(_as_numpy(y_true), (None,) + shape[1:])
        for metric in self.metrics:
            metric.update_state(y_true, y_pred,
                                sample_weight if getattr(metric, "weighted", False) else None)

    def result(self) -> dict:
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()


def _batch_size(y) -> int:
    leaves = _leaves(y)
    return len(leaves[0]) if leaves and np.ndim(_as_numpy(leaves[0])) else 1


# ----- batch sources -----


def _dataset_class():
    from numkeras.data import Dataset  # loaded when a batch source is first examined

    return Dataset


def is_batch_source(x) -> bool:
    """Whether ``x`` yields batches (Dataset, PyDataset/Sequence, generator, iterator) rather
    than being the data itself (arrays, Tensors, lists, tuples or dicts of them)."""
    if x is None or isinstance(x, (np.ndarray, Tensor, list, tuple, dict, str, bytes)):
        return False
    if isinstance(x, _dataset_class()):
        return True
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not hasattr(x, "shape"):
        return True  # keras.utils.PyDataset / Sequence
    return hasattr(x, "__next__") or (hasattr(x, "__iter__") and not hasattr(x, "shape"))


class BatchSource:
    """Batches ``(x, y, sample_weight)`` of NumPy arrays, epoch by epoch.

    With ``steps`` each epoch takes that many batches, continuing the same iterator across
    epochs (an infinite ``repeat()`` dataset or a generator) and starting a new pass when
    one ends at an epoch boundary, as Keras 3 does; without, an epoch is one pass.
    """

    def __init__(self, source, steps=None, shuffle=False, steps_name="steps_per_epoch"):
        self.source = source
        self.steps = steps
        self._shuffle = shuffle and _is_sequence(source)
        # (drawn from the global seed only when needed, so other sources leave it alone)
        self._rng = config.make_rng() if self._shuffle else None
        self._iterator = None
        if steps is None and isinstance(source, _dataset_class()) and source.cardinality() == -1:
            raise ValueError(f"The dataset is infinite (repeat() without a count): pass "
                             f"`{steps_name}` to say how many of its batches to take.")

    @property
    def known_steps(self):
        if self.steps is not None:
            return self.steps
        if isinstance(self.source, _dataset_class()):
            count = self.source.cardinality()
            return count if count >= 0 else None
        return len(self.source) if _is_sequence(self.source) else None

    def _new_pass(self):
        source = self.source
        if isinstance(source, _dataset_class()):
            return iter(source.as_numpy_iterator())
        if _is_sequence(source):
            order = np.arange(len(source))
            if self._shuffle:
                order = self._rng.permutation(order)
            return (source[int(i)] for i in order)
        if self._iterator is None:  # a generator is one stream for the whole run
            return iter(source)
        return self._iterator

    def epoch(self):
        """The batches of one epoch, each as ``(x, y, sample_weight)`` of arrays."""
        if _is_sequence(self.source) and hasattr(self.source, "on_epoch_begin"):
            self.source.on_epoch_begin()
        if self.steps is None or self._iterator is None:
            self._iterator = self._new_pass()
        taken = 0
        while self.steps is None or taken < self.steps:
            batch = next(self._iterator, _END)
            if batch is _END:
                if taken == 0 and self.steps is not None and not _is_generator(self.source):
                    self._iterator = self._new_pass()
                    batch = next(self._iterator, _END)
                if batch is _END:
                    self._iterator = None
                    break
            taken += 1
            yield tuple(_map(_as_numpy, part) for part in unpack_x_y_sample_weight(batch))
        if _is_sequence(self.source) and hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


_END = object()


def _is_sequence(source) -> bool:
    return not isinstance(source, _dataset_class()) and hasattr(source, "__getitem__") \
        and hasattr(source, "__len__")


def _is_generator(source) -> bool:
    return not isinstance(source, _dataset_class()) and not _is_sequence(source)


def to_arrays(source, steps=None):
    """All batches of one pass, concatenated: ``(x, y, sample_weight)`` (validation data)."""
    parts = list(BatchSource(source, steps, steps_name="validation_steps").epoch())
    if not parts:
        raise ValueError("The validation data yielded no batches.")
    return tuple(None if part[0] is None else _concatenate(part)
                 for part in zip(*parts))


def _concatenate(batches):
    first = batches[0]
    if isinstance(first, dict):
        return {k: _concatenate([b[k] for b in batches]) for k in first}
    if isinstance(first, (tuple, list)):
        return [_concatenate([b[i] for b in batches]) for i in range(len(first))]
    return np.concatenate(batches)


def _map(function, structure):
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {k: _map(function, v) for k, v in structure.items()}
    if isinstance(structure, (tuple, list)):
        return [_map(function, v) for v in structure]
    return function(structure)


def _leaves(structure) -> list:
    if isinstance(structure, dict):
        return [leaf for v in structure.values() for leaf in _leaves(v)]
    if isinstance(structure, (tuple, list)):
        return [leaf for v in structure for leaf in _leaves(v)]
    return [structure]


def _as_numpy(value):
    return value.data if isinstance(value, Tensor) else np.asarray(value)


# ----- the loops -----


def check_unused(method: str, **arguments) -> None:
    """Refuse arguments that a batch source makes meaningless (Keras raises too), rather
    than ignoring them: the batches bring their own targets, weights and size."""
    given = sorted(name for name, value in arguments.items()
                   if value is not None and not (np.isscalar(value) and value == 0))
    if given:
        raise ValueError(
            f"`{method}()` received a dataset or generator as `x` and also {given}: the "
            f"batches carry their own targets, sample weights and size. Yield (x, y) or "
            f"(x, y, sample_weight) batches instead, and set the batch size in the pipeline "
            f"(e.g. dataset.batch(32)); validation_split is not supported with them.")


def fit(model, source, epochs, verbose, callbacks, validation_data, initial_epoch,
        steps_per_epoch, validation_steps, validation_freq, shuffle, class_weight):
    """``model.fit`` on a batch source (see the module docstring)."""
    from numkeras.models import training

    if class_weight is not None:
        raise ValueError("`class_weight` is not supported with a dataset or generator; put "
                         "per-sample weights in the batches as (x, y, sample_weight).")
    batches = BatchSource(source, steps_per_epoch, shuffle)
    if validation_data is not None and is_batch_source(validation_data):
        validation_data = to_arrays(validation_data, validation_steps)
    validation_data = model._prepare_validation(validation_data)
    validates = training._validation_epochs(validation_freq)
    verbose = training._resolve_verbose(verbose)
    history = callbacks_module.History()
    extra = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
    params = {"verbose": verbose, "epochs": epochs, "steps": batches.known_steps}
    callback_list = callbacks_module.CallbackList(
        list(callbacks or []) + extra + [history], model=model, params=params)
    model.stop_training = False
    step_function = train_step_function(model)
    callback_list.call("on_train_begin", {})
    for epoch in range(initial_epoch, epochs):
        model._reset_metrics()
        callback_list.call("on_epoch_begin", epoch, {})
        logs, step = {}, -1
        for step, (x, y, sample_weight) in enumerate(batches.epoch()):
            callback_list.call("on_train_batch_begin", step, {})
            x, y, sample_weight = _checked_batch(model, x, y, sample_weight, "fit")
            logs = step_function(x, y, sample_weight)
            params["steps_done"] = step + 1
            callback_list.call("on_train_batch_end", step, logs)
            if model.stop_training:
                break
        if step < 0:  # an exhausted generator: Keras stops here too
            warnings.warn(f"Your input ran out of data at epoch {epoch + 1}; training stops. "
                          f"Make sure the generator or dataset can give steps_per_epoch * "
                          f"epochs batches (e.g. dataset.repeat()).", stacklevel=3)
            break
        epoch_logs = dict(logs)
        if validation_data is not None and validates(epoch + 1):
            val_logs = model._evaluate_arrays(*validation_data, training._DEFAULT_BATCH_SIZE)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        callback_list.call("on_epoch_end", epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.call("on_train_end", {})
    return history


def evaluate(model, source, verbose, steps, callbacks, return_dict):
    """``model.evaluate`` on a batch source."""
    from numkeras.models import training

    batches = BatchSource(source, steps, steps_name="steps")
    verbose = training._resolve_verbose(verbose)
    extra = [callbacks_module.ProgbarLogger(verbose, mode="test")] if verbose else []
    callback_list = callbacks_module.CallbackList(
        list(callbacks or []) + extra, model=model,
        params={"verbose": verbose, "epochs": 1, "steps": batches.known_steps})
    model._reset_metrics()
    step_function = evaluate_step_function(model)
    callback_list.call("on_test_begin", {})
    logs = {}
    for step, (x, y, sample_weight) in enumerate(batches.epoch()):
        callback_list.call("on_test_batch_begin", step, {})
        x, y, sample_weight = _checked_batch(model, x, y, sample_weight, "evaluate")
        logs = step_function(x, y, sample_weight)
        callback_list.call("on_test_batch_end", step, logs)
    callback_list.call("on_test_end", logs)
    if not logs:
        raise ValueError("evaluate() received no batches from the dataset or generator.")
    return training._format_logs(logs, return_dict)


def predict(model, source, verbose, steps, callbacks):
    """``model.predict`` on a batch source: the x of each batch, outputs concatenated."""
    batches = BatchSource(source, steps, steps_name="steps")
    outputs = [model.predict_on_batch(x) for x, _, _ in batches.epoch()]
    if not outputs:
        raise ValueError("predict() received no batches from the dataset or generator.")
    return _concatenate(outputs)


def _checked_batch(model, x, y, sample_weight, method):
    from numkeras.models import training

    x, y, sample_weight = model._prepare(x, y, sample_weight, method)
    dtype = training._cast_type(x)  # floatx, or None for text inputs
    if dtype is not None:
        x = [a.astype(dtype, copy=False) for a in x] if isinstance(x, list) \
            else x.astype(dtype, copy=False)
    return x, y, sample_weight
