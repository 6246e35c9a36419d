"""compile / fit / evaluate / predict, with the training step in one place (``train_step``).

The loops here only batch data and call hooks; the arithmetic of one step is
``train_step``: forward, loss, backward, optimizer update, metrics. All trainable weights are
packed into one flat :class:`ParameterBuffer`, so backward writes every gradient into one array
and the optimizer updates the whole model in a few vectorised passes (and a future all-reduce
across machines has one buffer to reduce).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from numkeras import callbacks as callbacks_module
from numkeras import config, losses, metrics as metrics_module, optimizers
from numkeras import distribute
from numkeras.backprop import (
    ParameterBuffer, Tensor, is_grad_enabled, no_grad, ops, structure_version,
)
from numkeras.backprop import blas, memory
from numkeras.layers.layer import takes_strings
from numkeras.layers.node import check_dict_keys, flatten
from numkeras.models import data_adapter
from numkeras.models.compile_utils import OutputHeads
from numkeras.utils import data

_DEFAULT_BATCH_SIZE = 32


def _engine_settings(method):
    """Run ``method`` with BLAS threads chosen per matrix product (``backprop.blas``) and
    freed memory kept between steps (``backprop.memory``)."""

    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        if config.keep_freed_memory():
            memory.keep_freed_memory()
        with blas.managed(config.blas_threads()):
            return method(*args, **kwargs)

    return wrapped


class Trainer:
    """Mixin giving a model Keras's training API. Expects ``__call__``, ``weights``,
    ``trainable_weights``, ``losses``, ``build_from_shape`` and ``output_shape_for``."""

    compiled = False
    _distribute = None  # the DataParallel of a multi-process fit/evaluate (distribute/)
    optimizer = None
    stop_training = False

    # ----- compile -----
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Choose the optimizer, the loss and the metrics; names resolve as in Keras.

        >>> import numkeras as keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        """
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {sorted(kwargs)}. "
                            f"Valid: optimizer, loss, loss_weights, metrics, weighted_metrics, "
                            f"run_eagerly, steps_per_execution, jit_compile.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        names = self._multi_output_names()
        # Several outputs: per-output losses, weights and metrics (compile_utils); one output
        # keeps the direct path below, which the lecture's training step runs.
        self._heads = None if names is None else OutputHeads(
            names, loss, loss_weights, metrics, weighted_metrics)
        if names is None:
            if isinstance(loss, (list, tuple)) and len(loss) == 1:
                loss = loss[0]
            if isinstance(loss, dict) or isinstance(loss, (list, tuple)):
                raise ValueError(f"`loss` as a list or dict is for models with several "
                                 f"outputs; model '{self.name}' has one. Pass one loss.")
            if loss_weights not in (None, 1, 1.0, [1], [1.0]) and not isinstance(
                    loss_weights, dict):
                raise ValueError(f"`loss_weights` applies to models with several outputs; "
                                 f"model '{self.name}' has one. Leave it None.")
        self._loss_function = losses.resolve(loss) if loss is not None and names is None \
            else None
        self._metric_identifiers = [] if names else _as_list(metrics, "metrics")
        self._weighted_identifiers = [] if names else _as_list(weighted_metrics,
                                                               "weighted_metrics")
        for identifier in self._metric_identifiers + self._weighted_identifiers:
            metrics_module.get(identifier)  # unknown names fail here, not at the first fit
        self._compiled_metrics = None  # resolved on the first data, from its shapes
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._buffer = None
        self._compile_config = {
            "optimizer": optimizer if isinstance(optimizer, str) else None,
            "loss": loss if isinstance(loss, str) else None,
            "loss_weights": loss_weights, "metrics": metrics, "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly, "steps_per_execution": steps_per_execution,
            "jit_compile": False,
        }
        self.compiled = True

    @property
    def metrics(self) -> list:
        """The loss tracker followed by the compiled metrics (once resolved)."""
        if not self.compiled:
            return []
        if self._heads is not None:
            return [self._loss_tracker] + self._heads.all_metrics()
        return [self._loss_tracker] + list(self._compiled_metrics or [])

    def _multi_output_names(self) -> list[str] | None:
        """The output names of a model with several outputs; None for one output."""
        outputs = getattr(self, "_outputs_structure", None)
        if isinstance(outputs, dict) or (isinstance(outputs, (list, tuple))
                                         and len(flatten(outputs)) > 1):
            return list(self.output_names)
        return None

    @property
    def compiled_loss(self):
        """tf.keras's ``self.compiled_loss(y, y_pred, regularization_losses=...)`` for custom
        steps (Keras 3 spells it ``self.compute_loss``)."""
        return data_adapter.CompiledLoss(self)

    @property
    def compiled_metrics(self):
        """The compiled metrics as one object: ``update_state(y, y_pred)``, ``result()``."""
        return data_adapter.CompiledMetrics(self)

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model "
                               f"(`{method}()` was called on model '{self.name}').")
        # Compiled without a loss, the model's add_loss and regularization terms are the loss
        # (Keras 3); compute_loss says so at the first step if the model has none.

    def _resolve_metrics(self, y: np.ndarray, output_shape: tuple) -> None:
        if self._compiled_metrics is not None:
            return
        resolved = [metrics_module.get(m, y_true=y, y_pred_shape=output_shape)
                    for m in self._metric_identifiers]
        weighted = [metrics_module.get(m, y_true=y, y_pred_shape=output_shape)
                    for m in self._weighted_identifiers]
        for metric in weighted:
            metric.weighted = True
        self._compiled_metrics = resolved + weighted

    # ----- the training step: the one place where a step's arithmetic happens -----
    def train_step(self, x: np.ndarray, y: np.ndarray, sample_weight=None) -> dict:
        """One optimizer step on a batch; returns the running logs of the epoch."""
        buffer = self._parameter_buffer(allow_empty=True)
        if buffer is None:
            return self._step_without_weights(x, y, sample_weight)
        buffer.zero_grad()
        y_pred = self(x, training=True)
        loss = self._loss_of(x, y, y_pred, sample_weight, training=True)
        if not loss.requires_grad:  # backward() would do nothing: fail, not train silently
            raise _unrecorded_loss_error(self)
        loss.backward()
        if self._distribute is not None:  # data-parallel fit: sum the processes' gradients
            self._distribute.reduce_gradients(buffer)
        self.optimizer.apply_buffer(buffer)
        return self._update_logs(y, y_pred, loss, sample_weight)

    def _step_without_weights(self, x, y, sample_weight) -> dict:
        """A training step of a model with nothing to train (e.g. only ``add_loss`` layers, as
        in Keras's subclassing guide): Keras 3 warns and reports the loss and metrics."""
        warnings.warn(f"Model '{self.name}' does not have any trainable weights; fit() "
                      f"computes its loss and metrics but updates nothing.", stacklevel=3)
        with no_grad():
            y_pred = self(x, training=True)
            loss = self._loss_of(x, y, y_pred, sample_weight, training=True)
        return self._update_logs(y, y_pred, loss, sample_weight)

    def test_step(self, x: np.ndarray, y: np.ndarray, sample_weight=None) -> dict:
        with no_grad():
            y_pred = self(x, training=False)
            loss = self._loss_of(x, y, y_pred, sample_weight, training=False)
        return self._update_logs(y, y_pred, loss, sample_weight)

    def predict_step(self, x: np.ndarray) -> np.ndarray:
        with no_grad():
            out = self(x, training=False)
        return out.data if isinstance(out, Tensor) else [t.data for t in self._output_list(out)]

    def _loss_of(self, x, y, y_pred, sample_weight, training: bool) -> Tensor:
        """``compute_loss`` as Keras 3 calls it (keywords), so a model may override it."""
        if self._heads is not None:  # per-output losses of this step, if compute_loss gives them
            self.__dict__["_last_output_losses"] = None  # (skips Layer.__setattr__'s tracking)
        if type(self).compute_loss is Trainer.compute_loss:
            return self.compute_loss(x, y, y_pred, sample_weight, training)
        kwargs = {"x": x, "y": y, "y_pred": y_pred, "sample_weight": sample_weight}
        if _accepts_training(type(self).compute_loss):
            kwargs["training"] = training
        loss = self.compute_loss(**kwargs)
        return loss if isinstance(loss, Tensor) else Tensor(np.asarray(loss, config.floatx()))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss on a batch plus every regularization penalty of the model.

        Keras 3's hook: a subclass may override it with the same signature; ``fit`` and
        ``evaluate`` then call the override (no compiled loss needed)."""
        if self._heads is not None:
            total, self._last_output_losses = self._heads.total_loss(
                self._output_list(y), self._output_list(y_pred), sample_weight)
        elif self._loss_function is not None:
            total = self._loss_function(y, y_pred, sample_weight=sample_weight)
        else:
            total = None
        _, regularized, layers = self._structure()
        for variable in regularized:
            penalty = variable.regularizer(variable)
            total = penalty if total is None else ops.add(total, penalty)
        for layer in layers:
            for penalty in layer._call_losses:
                total = penalty if total is None else ops.add(total, penalty)
        if total is None:
            raise ValueError(f"No loss to compute in `{'fit' if training else 'evaluate'}()` "
                             f"for model '{self.name}'. Provide a `loss` "
                             f"argument in `compile()`, e.g. "
                             f"loss='sparse_categorical_crossentropy', or add one in a layer's "
                             f"call() with `self.add_loss(...)`.")
        return total

    def _structure(self) -> tuple:
        """(trainable weights, regularized weights, layers), cached between steps until a layer,
        weight, trainable flag or regularizer changes (``structure_version``)."""
        version = structure_version()
        if getattr(self, "_structure_cache", (None,))[0] != version:
            weights, layers = self.weights, self.flatten_layers()
            self._structure_cache = (version, (
                self.trainable_weights, [w for w in weights if w.regularizer is not None],
                layers))
        return self._structure_cache[1]

    def _output_list(self, structure) -> list:
        """A model's outputs (or targets) as a list in ``output_names`` order."""
        if isinstance(structure, dict):
            return [structure[name] for name in self.output_names]
        if isinstance(structure, (list, tuple)):
            return list(structure)
        return [structure]

    def _update_logs(self, y, y_pred: Tensor, loss: Tensor, sample_weight) -> dict:
        batch = _num_samples(y)
        self._loss_tracker.update_state(float(loss.data), sample_weight=batch)
        logs = {"loss": self._loss_tracker.result()}
        if self._heads is not None:
            parts = getattr(self, "_last_output_losses", None) or [None] * len(self._heads.names)
            self._heads.update(logs, self._output_list(y), self._output_list(y_pred), parts,
                               sample_weight, batch)
            return logs
        # The Tensor itself, so a crossentropy metric uses the logits as the loss does.
        for metric in self._compiled_metrics:
            metric.update_state(y, y_pred,
                                sample_weight if getattr(metric, "weighted", False) else None)
            logs[metric.name] = metric.result()
        return logs

    def _parameter_buffer(self, allow_empty: bool = False) -> ParameterBuffer | None:
        """The flat buffer of the trainable weights, rebuilt if the set of them changed (None
        for a model without trainable weights when ``allow_empty``)."""
        trainable = self._structure()[0]
        if self._buffer is None or not self._buffer.holds(trainable):
            if not trainable and allow_empty:
                return None
            if not trainable:
                raise ValueError(f"Model '{self.name}' has no trainable weights to train. "
                                 f"Unfreeze a layer (`layer.trainable = True`) first.")
            self._buffer = ParameterBuffer(trainable)
        return self._buffer

    def _reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    # ----- data checks -----
    def _prepare(self, x, y, sample_weight, method: str):
        x = self._check_inputs(x, finite=True)
        y = self._check_targets(y, allow_none=method == "predict"
                                or data_adapter.overrides_step(self, method))
        sample_weight = data.check_array(sample_weight, "sample_weight", allow_none=True)
        arrays = {"x": x} if not isinstance(x, list) else {
            f"x[{name!r}]": a for name, a in zip(self.input_names, x)}
        arrays.update({"y": y} if not isinstance(y, list) else {
            f"y[{name!r}]": a for name, a in zip(self.output_names, y)})
        count = data.check_lengths(**arrays, sample_weight=sample_weight)
        if count == 0 and method != "predict":  # Keras would silently do nothing
            raise ValueError(f"`{method}()` received no samples (x has length 0). Pass at "
                             f"least one sample.")
        self._build_for(_shape_of(x), method)
        if not self.built:  # (a custom step's model without call(): nothing to resolve)
            return x, y, sample_weight
        if y is not None and self._heads is not None:
            self._heads.resolve(y, self._output_list(self.output_shape_for(_shape_of(x))))
        elif y is not None:
            output_shape = self.output_shape_for(_shape_of(x))
            check = getattr(self._loss_function, "check_targets", None)
            if check is not None:
                check(y, output_shape)
            self._resolve_metrics(y, output_shape)
        return x, y, sample_weight

    def _check_inputs(self, x, finite: bool = True):
        """``x`` as one checked array, or a list of them (one per input) for a model with
        several inputs (given as a list, or a dict keyed by input names)."""
        flatten_inputs = getattr(self, "flatten_inputs", None)
        strings = takes_strings(self)  # text inputs (keras.Input(dtype="string")) pass
        # (Large and memory-mapped arrays are checked batch by batch instead: _taker.)
        if flatten_inputs is None or (not isinstance(x, (list, tuple, dict))
                                      and len(self.inputs) == 1):
            return _expand_1d(self, data.check_array(x, "x", finite=finite,
                                                     defer_large=finite, strings=strings))
        arrays = flatten_inputs(x)
        checked = [data.check_array(a, f"x[{name!r}]", finite=finite, defer_large=finite,
                                    strings=strings)
                   for name, a in zip(self.input_names, arrays)]
        return checked[0] if len(checked) == 1 else checked

    def _check_targets(self, y, allow_none: bool):
        names = self._multi_output_names()
        if names is None or y is None:
            if isinstance(y, (list, tuple)) and len(y) == 1 and hasattr(y[0], "shape"):
                y = y[0]
            elif isinstance(y, dict) and len(y) == 1:
                y = next(iter(y.values()))
            return data.check_array(y, "y", allow_none=allow_none)
        if isinstance(y, dict):
            check_dict_keys(y, names, f"Model '{self.name}' has outputs (targets `y`)")
            y = [y[name] for name in names]
        elif not isinstance(y, (list, tuple)) or len(y) != len(names):
            count = len(y) if isinstance(y, (list, tuple)) else 1
            raise ValueError(
                f"Model '{self.name}' has {len(names)} outputs {names}, but `y` has {count} "
                f"target array(s). Pass one array per output, in this order, or a dict keyed "
                f"by these names.")
        return [data.check_array(a, f"y[{name!r}]") for name, a in zip(names, y)]

    def _build_for(self, input_shape, method: str) -> None:
        if not self.built:
            if not data_adapter.builds_itself(self, method):
                self.build_from_shape((None,) + tuple(input_shape[1:]))
            if not self.built:  # a custom step calls its sub-models itself (a GAN)
                return
        self.check_input_shape(input_shape, method)

    # ----- fit -----
    @_engine_settings
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` passes over ``(x, y)``; returns a ``History``.

        ``validation_split`` holds out the *last* fraction of the data (before shuffling), as
        Keras does; ``validation_data=(x_val, y_val)`` takes precedence over it.
        """
        self._assert_compiled("fit")
        if data_adapter.is_batch_source(x):  # a Dataset, PyDataset or generator: its own loop
            distribute.require_arrays("fit")  # (not sharded over processes)
            data_adapter.check_unused("fit", y=y, sample_weight=sample_weight,
                                      batch_size=batch_size, validation_split=validation_split)
            return data_adapter.fit(self, x, epochs, verbose, callbacks, validation_data,
                                    initial_epoch, steps_per_epoch, validation_steps,
                                    validation_freq, shuffle, class_weight)
        batch_size = _check_batch_size(batch_size)
        _check_positive("epochs", epochs, allow_zero=True)
        if validation_data is None and validation_split:
            x, y, sample_weight = self._prepare(x, y, sample_weight, "fit")
            (x, y, sample_weight), validation_data = _split_structures(
                (x, y, sample_weight), validation_split)
        elif validation_split:
            data.split_validation((np.zeros(2),), validation_split)  # validates the value only
        x, y, sample_weight = self._prepare(x, y, sample_weight, "fit")
        validation_data = self._prepare_validation(validation_data)
        if class_weight is not None and self._heads is not None:
            raise ValueError("`class_weight` is not supported for models with several "
                             "outputs; pass `sample_weight` instead.")
        class_weights = _class_weight_table(class_weight, self.output_shape_for(_shape_of(x)))
        n = _num_samples(x)
        steps = -(-n // batch_size) if steps_per_epoch is None else \
            _check_positive("steps_per_epoch", steps_per_epoch)
        validates = _validation_epochs(validation_freq)
        verbose = _resolve_verbose(verbose)
        # None unless a distribution with several processes is set: then data parallel.
        self._distribute = strategy = distribute.current()
        if strategy is not None:  # rank 0 alone prints and writes files
            callbacks, verbose = strategy.fit_callbacks(callbacks, verbose)
        history = callbacks_module.History()
        extra = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        callback_list = callbacks_module.CallbackList(
            list(callbacks or []) + extra + [history], model=self, params=params)
        self.stop_training = False
        # Each epoch's order comes from (shuffle_seed, epoch), so a run resumed at epoch k
        # (BackupAndRestore) shuffles exactly as the uninterrupted run did.
        shuffle_seed = int(config.make_rng().integers(2**63))
        take_x, take_y = _taker(x, config.floatx()), _taker(y)
        train_step = data_adapter.train_step_function(self)  # the model's own, if overridden
        callback_list.call("on_train_begin", None)
        # Resume hook: BackupAndRestore's on_train_begin sets `_resume_from = (epoch, step)` to
        # skip what a killed run already did; the rest then repeats that run exactly.
        resume, self._resume_from = getattr(self, "_resume_from", None), None
        initial_epoch, skip_steps = resume if resume is not None else (initial_epoch, 0)
        if strategy is not None:  # rank 0's weights and shuffling seed on every process
            shuffle_seed = strategy.begin_fit(self, shuffle_seed)
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            callback_list.call("on_epoch_begin", epoch, None)
            order = np.random.default_rng([shuffle_seed, epoch]).permutation(n) if shuffle \
                else None
            logs = {}
            batches = data.batch_slices(n, batch_size, order)
            if strategy is not None:  # this process's part of each global batch
                batches = strategy.shard(self, batches)
            for step, index in enumerate(batches):
                if step < skip_steps:  # done before the run was killed (resume hook)
                    continue
                if step >= steps:
                    break
                if callback_list.wants("on_train_batch_begin"):
                    callback_list.call("on_train_batch_begin", step, None)
                y_batch = take_y(index)
                weights = _batch_weights(sample_weight, index, class_weights, y_batch)
                logs = train_step(take_x(index), y_batch, weights)
                params["steps_done"] = step + 1
                if callback_list.wants("on_train_batch_end"):
                    callback_list.call("on_train_batch_end", step, logs)
                if self.stop_training:
                    break
            skip_steps = 0
            epoch_logs = dict(logs) if strategy is None else strategy.end_epoch(self, logs)
            if validation_data is not None and validates(epoch + 1):
                val_logs = self._evaluate_arrays(*validation_data,
                                                 validation_batch_size or batch_size)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", None)
        self._distribute = None
        return history

    def _prepare_validation(self, validation_data):
        if validation_data is None:
            return None
        if data_adapter.is_batch_source(validation_data):  # a Dataset: read it once
            validation_data = data_adapter.to_arrays(validation_data)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("`validation_data` must be a tuple (x_val, y_val) or "
                             "(x_val, y_val, val_sample_weight).")
        x_val, y_val, *rest = validation_data
        return self._prepare(x_val, y_val, rest[0] if rest else None, "fit")

    # ----- evaluate -----
    @_engine_settings
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on ``(x, y)``: a float when there are no metrics, else
        ``[loss, metric, ...]`` in compile order (``return_dict=True``: a dict)."""
        self._assert_compiled("evaluate")
        if data_adapter.is_batch_source(x):
            data_adapter.check_unused("evaluate", y=y, sample_weight=sample_weight,
                                      batch_size=batch_size)
            return data_adapter.evaluate(self, x, verbose, steps, callbacks, return_dict)
        batch_size = _check_batch_size(batch_size)
        x, y, sample_weight = self._prepare(x, y, sample_weight, "evaluate")
        verbose = _resolve_verbose(verbose)
        n_steps = -(-_num_samples(x) // batch_size)
        previous, self._distribute = self._distribute, distribute.current()
        verbose = verbose if distribute.is_chief() else 0
        extra = [callbacks_module.ProgbarLogger(verbose, mode="test")] if verbose else []
        callback_list = callbacks_module.CallbackList(
            list(callbacks or []) + extra, model=self,
            params={"verbose": verbose, "epochs": 1, "steps": n_steps})
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size, callback_list)
        self._distribute = previous
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_arrays(self, x, y, sample_weight, batch_size, callback_list=None):
        if self._distribute is not None:  # each process evaluates its block of the samples
            x, y, sample_weight = self._distribute.shard_arrays(x, y, sample_weight)
        self._reset_metrics()
        callback_list = callback_list or callbacks_module.CallbackList()
        test_step = data_adapter.evaluate_step_function(self)  # the model's own, if overridden
        callback_list.call("on_test_begin", None)
        logs = {}
        take_x, take_y = _taker(x, config.floatx()), _taker(y)
        for step, index in enumerate(data.batch_slices(_num_samples(x), batch_size)):
            callback_list.call("on_test_batch_begin", step, None)
            logs = test_step(take_x(index), take_y(index), data.take(sample_weight, index))
            callback_list.call("on_test_batch_end", step, logs)
        if self._distribute is not None:  # the metrics of all the blocks, on every process
            logs = self._distribute.reduce_logs(self, logs)
        callback_list.call("on_test_end", logs)
        return logs

    # ----- predict -----
    @_engine_settings
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x`` as one float32 NumPy array, computed batch by batch."""
        if data_adapter.is_batch_source(x):
            data_adapter.check_unused("predict", batch_size=batch_size)
            return data_adapter.predict(self, x, verbose, steps, callbacks)
        batch_size = _check_batch_size(batch_size)
        strategy = distribute.current()
        if strategy is not None:  # each process predicts its block; all get every output
            return strategy.predict(self, x, batch_size=batch_size, verbose=verbose,
                                    steps=steps, callbacks=callbacks)
        # No scan of all of x for NaN here (a pass as long as the products): the outputs are
        # checked instead, and only if they are not finite is x searched for the culprit.
        x = self._check_inputs(x, finite=False)
        self._build_for(_shape_of(x), "predict")
        verbose = _resolve_verbose(verbose)
        n = _num_samples(x)
        n_steps = -(-n // batch_size)
        extra = [callbacks_module.ProgbarLogger(verbose, mode="predict")] if verbose else []
        callback_list = callbacks_module.CallbackList(
            list(callbacks or []) + extra, model=self,
            params={"verbose": verbose, "epochs": 1, "steps": n_steps})
        callback_list.call("on_predict_begin", None)
        outputs = None
        dtype = _cast_type(x)
        for step, index in enumerate(data.batch_slices(n, batch_size)):
            callback_list.call("on_predict_batch_begin", step, None)
            batch = self.predict_step(_take_for_predict(x, index, dtype))
            parts = batch if isinstance(batch, list) else [batch]
            if outputs is None:  # one allocation for all batches
                outputs = [np.empty((n,) + part.shape[1:], dtype=part.dtype) for part in parts]
            for output, part in zip(outputs, parts):
                output[index] = part
            callback_list.call("on_predict_batch_end", step, None)
        callback_list.call("on_predict_end", None)
        if outputs is None:  # no samples: empty arrays of the outputs' shapes, as Keras
            shapes = self.output_shape_for(_shape_of(x))
            outputs = [np.empty((0,) + tuple(shape[1:]), dtype=config.floatx())
                       for shape in self._output_list(shapes)] if not _is_one_shape(shapes) \
                else [np.empty((0,) + tuple(shapes[1:]), dtype=config.floatx())]
        for output in outputs:
            if output.dtype.kind == "f" and not np.isfinite(output).all():
                for i, array in enumerate(x if isinstance(x, list) else [x]):
                    data.check_finite(array, "x" if not isinstance(x, list) else f"x[{i}]")
        return self._pack_outputs(outputs)

    def _pack_outputs(self, outputs: list):
        """Arrays per output in the structure of the model's outputs (one, list or dict)."""
        structure = getattr(self, "_outputs_structure", None)
        if isinstance(structure, dict):
            return dict(zip(self.output_names, outputs))
        if isinstance(structure, (list, tuple)):
            return list(outputs)
        return outputs[0]

    # ----- single batches -----
    @_engine_settings
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on exactly this batch; returns loss (and metrics)."""
        self._assert_compiled("train_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "fit")
        self._reset_metrics()
        class_weights = _class_weight_table(class_weight, self.output_shape_for(_shape_of(x)))
        index = slice(None)
        weights = _batch_weights(sample_weight, index, class_weights, y)
        logs = data_adapter.train_step_function(self)(_take(x, index, _cast_type(x)), y,
                                                      weights)
        return _format_logs(logs, return_dict)

    @_engine_settings
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on exactly this batch, without training."""
        self._assert_compiled("test_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "evaluate")
        self._reset_metrics()
        logs = data_adapter.evaluate_step_function(self)(_take(x, slice(None), _cast_type(x)),
                                                     y, sample_weight)
        return _format_logs(logs, return_dict)

    @_engine_settings
    def predict_on_batch(self, x) -> np.ndarray:
        """Model outputs for exactly this batch, as a NumPy array."""
        x = self._check_inputs(x, finite=False)
        self._build_for(_shape_of(x), "predict")
        output = self.predict_step(_take_for_predict(x, slice(None), _cast_type(x)))
        for part in output if isinstance(output, list) else [output]:
            if not np.isfinite(part).all():
                for array in x if isinstance(x, list) else [x]:
                    data.check_finite(array, "x")
        return self._pack_outputs(output) if isinstance(output, list) else output


def _expand_1d(model, x):
    """A 1-D ``x`` for a model whose input is ``(None, 1)`` as a column (a view), as Keras
    does: the "hello world" ``Dense(1, input_shape=[1])`` fitted on a list of numbers."""
    if getattr(x, "ndim", None) != 1:
        return x
    try:
        expected = model.input_shape
    except (AttributeError, ValueError):  # not built yet: nothing declared to match
        return x
    return x[:, None] if tuple(expected) == (None, 1) else x


def _num_samples(structure) -> int:
    return len(structure[0]) if isinstance(structure, list) else len(structure)


def _shape_of(structure):
    return [a.shape for a in structure] if isinstance(structure, list) else structure.shape


def _is_one_shape(shape) -> bool:
    return isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape)


def _take(structure, index, dtype=None):
    """One batch of an array or of each array of a list (several inputs or outputs). The
    arrays were checked before the loop (x up front; predict's outputs after it), so the
    per-batch overflow scan of ``data.take`` is skipped on the training step's path."""
    if isinstance(structure, list):
        return [data.take(array, index, dtype, checked=True) for array in structure]
    return data.take(structure, index, dtype, checked=True)


def _take_for_predict(structure, index, dtype):
    """``_take`` for predict, which checks its outputs instead of its inputs: a value that
    the cast makes inf shows up there (with the culprit named), so no warning here."""
    with np.errstate(over="ignore"):
        return _take(structure, index, dtype)


def _cast_type(x):
    """The float type batches of ``x`` are cast to, or None for text (strings stay strings
    for the model's TextVectorization or lookup layer); decided once per call."""
    arrays = x if isinstance(x, list) else [x]
    return None if any(a.dtype.kind in "OSU" for a in arrays) else config.floatx()


def _taker(structure, dtype=None):
    """``_take`` with its questions answered once per fit, not per step: one array or a
    list, and whether the array's values were checked up front or are checked per batch
    (``data.checked_per_batch``: memory-mapped and very large arrays)."""
    if isinstance(structure, list):
        takers = [_taker(array, dtype) for array in structure]
        return lambda index: [take(index) for take in takers]
    if structure is not None and structure.dtype.kind in "OSU":  # text: batches uncast
        return functools.partial(data.take, structure)
    if dtype is not None and data.checked_per_batch(structure):
        return functools.partial(data.take, structure, dtype=dtype, finite=True)
    return functools.partial(data.take, structure, dtype=dtype, checked=True)


def _split_structures(arrays: tuple, validation_split: float):
    """Keras's validation split of (x, y, sample_weight), each one array or a list."""
    flat, layout = [], []
    for item in arrays:
        items = item if isinstance(item, list) else [item]
        layout.append((isinstance(item, list), len(items)))
        flat += items
    present = [a for a in flat if a is not None]
    train, validation = data.split_validation(tuple(present), validation_split)

    def rebuild(parts):
        parts, out = iter(parts), []
        values = [None if a is None else next(parts) for a in flat]
        position = 0
        for is_list, count in layout:
            chunk = values[position:position + count]
            out.append(chunk if is_list else chunk[0])
            position += count
        return tuple(out)

    return rebuild(train), rebuild(validation)


def _unrecorded_loss_error(model) -> RuntimeError:
    """Why a step with trainable weights got a loss with no recorded graph (Keras 3's
    optimizer stops too: "No gradients provided for any variable")."""
    recording = "on" if is_grad_enabled() else "OFF (inside a `no_grad()` block)"
    return RuntimeError(
        f"Training model '{model.name}' (fit, train_on_batch): the loss does not depend on "
        f"any trainable weight "
        f"through recorded operations, so there are no gradients and nothing would be "
        f"trained. Graph recording is {recording}. Compute the loss from the model's "
        f"outputs outside `no_grad()`, without `stop_gradient` or `.detach()` on the "
        f"path, and with the layers that own the weights used in call().")


def _accepts_training(method) -> bool:
    import inspect

    parameters = inspect.signature(method).parameters
    return "training" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _format_logs(logs: dict, return_dict: bool):
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _as_list(value, argument: str) -> list:
    if value is None:
        return []
    if isinstance(value, dict):
        raise ValueError(f"`{argument}` as a dict is for models with several outputs; pass a "
                         f"list such as ['accuracy'].")
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _validation_epochs(validation_freq):
    """Keras's ``validation_freq``: every N epochs (an int) or the listed epochs (1-based)."""
    if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
        frequency = _check_positive("validation_freq", validation_freq)
        return lambda epoch: epoch % frequency == 0
    try:
        epochs = {int(e) for e in validation_freq}
    except (TypeError, ValueError):
        raise ValueError(f"`validation_freq` must be a positive integer or a list of epoch "
                         f"numbers, received validation_freq={validation_freq!r}.") from None
    return epochs.__contains__


def _resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto', received verbose={verbose!r}.")
    return int(verbose)


def _check_positive(argument: str, value, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"`{argument}` must be an integer >= {low}, received "
                         f"{argument}={value!r}.")
    return int(value)


def _check_batch_size(batch_size) -> int:
    if batch_size is None:
        return _DEFAULT_BATCH_SIZE
    return _check_positive("batch_size", batch_size)


def _class_weight_table(class_weight, output_shape) -> np.ndarray | None:
    """``{class: weight}`` as an array indexed by class."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise ValueError(f"`class_weight` must be a dict {{class_index: weight}}, received "
                         f"{type(class_weight).__name__}.")
    classes = max(int(output_shape[-1]), 2)
    table = np.ones(classes, dtype=config.floatx())
    for cls, weight in class_weight.items():
        if not 0 <= int(cls) < classes:
            raise ValueError(f"`class_weight` has class {cls}, but the model has {classes} "
                             f"classes (0 to {classes - 1}).")
        table[int(cls)] = weight
    return table


def _batch_weights(sample_weight, index, class_weights, y_batch):
    if sample_weight is None and class_weights is None:  # the common case, once per step
        return None
    weights = data.take(sample_weight, index, config.floatx())
    if class_weights is None:
        return weights
    labels = y_batch.argmax(axis=-1) if y_batch.ndim > 1 and y_batch.shape[-1] > 1 \
        else y_batch.reshape(len(y_batch), -1)[:, 0].astype(np.int64)
    per_class = class_weights[labels]
    return per_class if weights is None else per_class * weights
