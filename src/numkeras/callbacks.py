"""Callbacks: code that runs at the start and end of training, epochs and batches.

Callbacks are duck-typed against the model (they import no model code): they read
``self.model`` and the ``logs`` dicts the training loop passes, and may set
``self.model.stop_training``.

>>> import numkeras as keras
>>> stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sys
import warnings

import numpy as np

from numkeras.utils.files import write_text_atomic
from numkeras.utils.progbar import Progbar


class Callback:
    """Base class; override any of the ``on_*`` hooks. ``self.model`` and ``self.params``
    are set by the training loop before ``on_train_begin``."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Calls a hook on every callback. Batch hooks that no callback overrides are skipped
    entirely, so an empty list costs nothing per step."""

    def __init__(self, callbacks=None, model=None, params=None):
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"`callbacks` must hold numkeras.callbacks.Callback instances; received "
                    f"{callback!r} of type {type(callback).__name__}."
                )
            if model is not None:
                callback.set_model(model)
            if params is not None:
                callback.set_params(params)
        self._active = {
            hook: [getattr(cb, hook) for cb in self.callbacks if _overrides(cb, hook)]
            for hook in _HOOKS
        }

    def wants(self, hook: str) -> bool:
        return bool(self._active[hook])

    def call(self, hook: str, *args) -> None:
        methods = self._active[hook]
        if methods and args and args[-1] is None:  # Keras hands `logs` as a dict, never None
            args = args[:-1] + ({},)
        for method in methods:
            method(*args)


def _overrides(callback: Callback, hook: str) -> bool:
    # LambdaCallback keeps its functions on the instance; subclasses override on the class.
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints tf.keras's progress output: ``Epoch i/N`` (fit, when ``epochs > 1``), then per bar
    the classic bar (``verbose=1``) or one line at its end (``verbose=2``).

    Args:
        verbose: 1 or 2 (0 prints nothing; ``fit``/``evaluate``/``predict`` add no logger then).
        mode: ``"train"`` (fit: one bar per epoch, validation silent), ``"test"`` (evaluate:
            one bar over the test batches) or ``"predict"`` (one bar, no metrics). Predict
            hooks draw in every mode, so a logger passed to ``predict`` works as tf.keras's does.
        stream: where to write (default ``sys.stdout`` at the time of each write).

    ``evaluate(verbose=2)`` prints ``313/313 - 0s - loss: 0.3500 - accuracy: 0.8750 -
    496ms/epoch - 2ms/step`` and ``predict(verbose=2)`` ``313/313 - 0s - 496ms/epoch - 2ms/step``,
    as tf.keras 2.7+ does (its Progbar says "epoch" there too).
    """

    def __init__(self, verbose: int = 1, mode: str = "train", stream=None):
        super().__init__()
        if mode not in ("train", "test", "predict"):
            raise ValueError(f"`mode` must be 'train', 'test' or 'predict', received "
                             f"mode={mode!r}.")
        self.verbose, self.mode, self.stream = verbose, mode, stream
        self.progbar = None

    def _new_bar(self):
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose, stream=self.stream)

    def _step(self, batch, logs=None):
        if self.verbose == 1:  # verbose=2 prints the final values only, as tf.keras does
            self.progbar.update(batch + 1, list((logs or {}).items()), finalize=False)

    def _finish(self, logs=None):
        self.progbar.update(self.progbar_current, list((logs or {}).items()), finalize=True)

    @property
    def progbar_current(self) -> int:
        return self.params.get("steps_done") or self.params.get("steps") or 0

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if epochs > 1 and self.verbose:
            print(f"Epoch {epoch + 1}/{epochs}", file=self.stream or sys.stdout)
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._step(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if self.mode == "test":
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if self.mode == "test":
            self._step(batch, logs)

    def on_test_end(self, logs=None):
        if self.mode == "test":
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._step(batch)  # the outputs are not shown

    def on_predict_end(self, logs=None):
        self._finish()


def _monitor_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"`mode` must be 'auto', 'min' or 'max', received mode={mode!r}.")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if ("acc" in name or name.startswith("fmeasure") or name in
                     ("auc", "precision", "recall")) else "min"


class _Monitoring(Callback):
    """Shared logic of callbacks that watch one logged quantity for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        super().__init__()
        self.monitor = monitor
        self.mode = _monitor_mode(monitor, mode)
        self.min_delta = abs(min_delta) if self.mode == "max" else -abs(min_delta)

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.mode == "max":
            return value - self.min_delta > reference
        return value - self.min_delta < reference

    def _current(self, logs) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__}: the metric '{self.monitor}' is not in the logs; "
                f"available: {', '.join(logs or {}) or 'none'}. Skipping.", stacklevel=3)
        return value


class EarlyStopping(_Monitoring):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    With ``restore_best_weights=True`` the model ends with the weights of its best epoch, also
    when training runs to the last epoch without stopping early.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        value = self._current(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitoring):
    """Save the model (``.keras``) or its weights (``.weights.h5``) during training.

    Args:
        filepath: may contain format fields from the epoch and logs, e.g.
            ``"ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5"``.
        save_best_only: only save when ``monitor`` improved.
        save_weights_only: weights (``save_weights``) instead of the full model (``save``).
        save_freq: ``"epoch"`` or a number of batches.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, 0)
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected 'epoch' or a "
                             f"positive number of batches.")
        self.save_freq = save_freq
        self.best = initial_value_threshold
        suffix = ".weights.h5" if save_weights_only else ".keras"
        if not self.filepath.endswith(suffix) and not (
                save_weights_only is False and self.filepath.endswith(".h5")):
            raise ValueError(f"ModelCheckpoint: with save_weights_only={save_weights_only} the "
                             f"filepath must end in `{suffix}`. Received: filepath={filepath}")
        self._batches_seen, self._epoch = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch, batch, logs):
        logs = dict(logs or {})
        try:
            path = self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except KeyError as error:
            raise ValueError(
                f"ModelCheckpoint: the filepath {self.filepath!r} names {error}, which is not "
                f"in the logs of this epoch ({', '.join(['epoch', 'batch', *logs])}). Add "
                f"validation data for `val_` entries, or change the filepath.") from None
        if self.save_best_only:
            value = self._current(logs)
            if value is None or not self._is_improvement(value, self.best):
                if self.verbose > 0 and value is not None:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{value}, saving model to {path}")
            self.best = value
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start to ``schedule(epoch, lr)``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        rate = self.schedule(epoch, float(self.model.optimizer.learning_rate))
        if not isinstance(rate, (float, int, np.floating, np.integer)) or not math.isfinite(rate):
            raise ValueError(f"The output of the `schedule` function should be a float. "
                             f"Got: {rate!r}")
        self.model.optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(_Monitoring):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if "epsilon" in kwargs:  # Keras 2 spelling
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"Unrecognized arguments for ReduceLROnPlateau: {sorted(kwargs)}.")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        value = self._current(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(value, self.best):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = float(self.model.optimizer.learning_rate)
            if old > self.min_lr:
                new = max(old * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{new}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite, and say so."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` then every log entry) to a CSV file.

    The file is rewritten atomically after each epoch (temporary file, then rename), so a
    crash never leaves half a row. Columns are every key seen so far, in first-seen order, so
    entries that start later (``val_*`` with ``validation_freq > 1``) still get their column;
    missing values are ``NA``.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._rows: list[dict] = []

    def on_train_begin(self, logs=None):
        self._rows = []
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8", newline="") as handle:
                self._rows = list(csv.DictReader(handle, delimiter=self.separator))

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": str(epoch)}
        row.update((key, _csv_value(value)) for key, value in (logs or {}).items())
        self._rows.append(row)
        columns = list(dict.fromkeys(key for row in self._rows for key in row))
        text = io.StringIO()
        writer = csv.DictWriter(text, columns, restval="NA", delimiter=self.separator,
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(self._rows)
        write_text_atomic(self.filename, text.getvalue())


def _csv_value(value) -> str:
    return repr(float(value)) if isinstance(value, (float, np.floating)) else str(value)


class BackupAndRestore(Callback):
    """Back up the training state so that a run that was killed resumes where it stopped.

    At the end of each epoch (or every ``save_freq`` batches) the weights, the optimizer
    state and the layers' random generator states go to a new weights file in ``backup_dir``,
    and then a small JSON file saying which epoch and step it follows is replaced atomically:
    that rename is the commit point, so a kill at any moment leaves a complete backup. When
    ``fit`` starts and a backup exists, the state is restored and the completed epochs (and
    steps) are skipped; since ``fit`` shuffles each epoch from the seed and the epoch number,
    the resumed run ends with the same weights, to the last bit, as an uninterrupted one.

    Args:
        backup_dir: a directory used only by this callback.
        save_freq: ``"epoch"`` or a number of batches.
        double_checkpoint: keep the previous backup as well, used if the latest cannot be
            loaded.
        delete_checkpoint: remove the backup when training ends normally.

    >>> import numpy as np, tempfile
    >>> import numkeras as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> backup = keras.callbacks.BackupAndRestore(tempfile.mkdtemp())
    >>> history = model.fit(np.ones((4, 2)), np.ones(4), epochs=2, verbose=0, callbacks=[backup])
    """

    STATE_FILE = "training_state.json"
    _WEIGHTS_FILE = re.compile(r"^backup-\d+\.weights\.h5$")

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq="
                             f"{save_freq!r}. Expected either 'epoch' or a positive integer.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._state_path = os.path.join(self.backup_dir, self.STATE_FILE)
        self._epoch = 0
        self._batches_since_save = 0

    # ----- restoring -----
    def on_train_begin(self, logs=None):
        self._batches_since_save = 0
        state = self._read_state()
        if state is None:
            return
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             "before you call `fit()`. Build it (e.g. model.build(input_shape)) "
                             "or give it an Input.")
        candidates = [state] + ([state["previous"]] if state.get("previous") else [])
        for i, candidate in enumerate(candidates):
            try:
                self.model.load_weights(os.path.join(self.backup_dir, candidate["weights"]))
            except (OSError, ValueError):
                if i + 1 == len(candidates):
                    raise
                continue
            self.model._resume_from = (candidate["epoch"], candidate["step"])  # fit's hook
            return

    def _read_state(self) -> dict | None:
        if not os.path.exists(self._state_path):
            return None
        with open(self._state_path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            state = json.loads(text)
            self._check_state(state)
            if state.get("previous") is not None:
                self._check_state(state["previous"])
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"BackupAndRestore: the backup state '{self._state_path}' is not "
                             f"valid ({error}). Delete the directory '{self.backup_dir}' to "
                             f"start training afresh.") from error
        return state

    def _check_state(self, state) -> None:
        if not isinstance(state, dict) or not self._WEIGHTS_FILE.match(str(state["weights"])) \
                or not all(isinstance(state[key], int) and state[key] >= 0
                           for key in ("epoch", "step", "serial")):
            raise ValueError("expected {epoch, step, serial, weights}")

    # ----- backing up -----
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            steps = self.params.get("steps")
            if steps is not None and batch + 1 >= steps:
                self._save(self._epoch + 1, 0)
            else:
                self._save(self._epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def _save(self, epoch: int, step: int) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        previous = self._read_state()
        serial = previous["serial"] + 1 if previous else 0
        name = f"backup-{serial}.weights.h5"
        self.model.save_weights(os.path.join(self.backup_dir, name))  # atomic
        kept = None
        if self.double_checkpoint and previous:
            kept = {key: previous[key] for key in ("epoch", "step", "serial", "weights")}
        state = {"epoch": epoch, "step": step, "serial": serial, "weights": name,
                 "previous": kept}
        write_text_atomic(self._state_path, json.dumps(state))  # the commit point
        self._remove_backups(keep={name} | ({kept["weights"]} if kept else set()))

    def _remove_backups(self, keep: set) -> None:
        for entry in os.listdir(self.backup_dir):
            if self._WEIGHTS_FILE.match(entry) and entry not in keep:
                os.remove(os.path.join(self.backup_dir, entry))

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not os.path.isdir(self.backup_dir):
            return
        self._remove_backups(keep=set())
        if os.path.exists(self._state_path):
            os.remove(self._state_path)
        try:
            os.rmdir(self.backup_dir)
        except OSError:  # the directory holds files of someone else: leave it
            pass


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Accepts on_epoch_begin/end(epoch, logs), on_train_batch_begin/end and on_batch_begin/end
    (batch, logs), on_train_begin/end(logs).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        functions = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                     "on_train_batch_begin": on_batch_begin, "on_train_batch_end": on_batch_end,
                     "on_train_begin": on_train_begin, "on_train_end": on_train_end, **kwargs}
        for hook, function in functions.items():
            if hook not in _HOOKS:
                raise TypeError(f"LambdaCallback got an unknown hook {hook!r}; valid: {_HOOKS}.")
            if function is not None:
                setattr(self, hook, function)


class GradientMonitor(Callback):
    """Watch backprop during ``fit``: gradient norm, weight norm and update/weight ratio, per
    layer and per weight.

    The gradient stays in each weight's ``.grad`` after the optimizer step, so sampling reads
    it there: nothing is recomputed. A sample is taken every ``every`` batches (counted over
    the whole run, from the first batch, so the first sample shows the gradients at
    initialization) and at the last batch of each epoch. Weights are copied just before a
    sampled step to measure the update ``||w_after - w_before|| / ||w_before||``. Other batches
    cost two method calls, so at ``every=50`` the monitor costs well under 5% of an epoch
    (``benchmarks/bench_gradient_monitor.py`` measures it).

    Each epoch's logs (hence ``History.history``) get the mean over that epoch's samples of
    ``grad_norm/<layer>``, ``weight_norm/<layer>`` and ``update_ratio/<layer>`` (those in
    ``log_stats``), plus ``dead_relu/<layer>`` and ``saturated/<layer>`` when enabled. The full
    record, every sample per layer and per weight, is in :attr:`record` (arrays) and
    :meth:`stat` (a samples x layers matrix); ``plot_gradient_flow(monitor)`` draws it.

    Args:
        every: sample every this many batches (default 50).
        dead_relu: record, per ReLU layer, the fraction of units whose output is 0 for every
            sample of ``probe`` (units that no longer learn).
        saturation: record, per sigmoid/tanh layer, the fraction of outputs on ``probe`` in
            the flat tails: ``|tanh| > 0.99``, sigmoid below 0.005 or above 0.995, where the
            derivative is under 2% of its peak.
        probe: a batch of inputs, needed by the two flags. At each sample it runs forward once
            in inference mode without recording a graph; each layer's output is read on the
            way (the layers of ``model.layers``: a Dense or Conv2D with that activation, an
            ``Activation`` or ``ReLU`` layer). Keep it small (a few hundred samples).
        log_stats: which of grad_norm, weight_norm, update_ratio go into the epoch logs.

    >>> import numpy as np
    >>> import numkeras as keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu",
    ...                           name="hidden"), keras.layers.Dense(1, name="out")])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> monitor = keras.callbacks.GradientMonitor(every=2)
    >>> history = model.fit(np.ones((32, 4)), np.ones(32), epochs=2, batch_size=8, verbose=0,
    ...                     callbacks=[monitor])
    >>> monitor.steps.tolist(), monitor.layer_names, monitor.stat("grad_norm").shape
    ([0, 2, 3, 4, 6, 7], ['hidden', 'out'], (6, 2))
    >>> len(history.history["grad_norm/hidden"])
    2
    """

    STATS = ("grad_norm", "weight_norm", "update_ratio")
    SATURATION = 0.99

    def __init__(self, every: int = 50, dead_relu: bool = False, saturation: bool = False,
                 probe=None, log_stats=STATS):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"GradientMonitor: `every` must be a positive number of batches, "
                             f"received every={every!r}.")
        if (dead_relu or saturation) and probe is None:
            raise ValueError("GradientMonitor: dead_relu and saturation read the layers' "
                             "outputs on a batch of inputs; pass one as `probe=`, e.g. "
                             "probe=x_train[:256].")
        unknown = set(log_stats) - set(self.STATS)
        if unknown:
            raise ValueError(f"GradientMonitor: unknown log_stats {sorted(unknown)}; choose "
                             f"from {list(self.STATS)}.")
        self.every, self.dead_relu, self.saturation = int(every), dead_relu, saturation
        self.probe = None if probe is None else np.asarray(probe)
        self.log_stats = tuple(log_stats)
        self.layer_names: list[str] = []
        self.weight_names: list[str] = []
        self._reset()

    def _reset(self) -> None:
        self._rows: list[dict] = []
        self._steps: list[int] = []
        self._epochs: list[int] = []
        self._step, self._epoch, self._epoch_start = 0, 0, 0
        self._before = None

    # ----- the record -----
    @property
    def steps(self) -> np.ndarray:
        """The batch index of each sample, counted from the start of training."""
        return np.array(self._steps, dtype=np.int64)

    @property
    def epochs(self) -> np.ndarray:
        """The epoch of each sample."""
        return np.array(self._epochs, dtype=np.int64)

    @property
    def record(self) -> dict[str, np.ndarray]:
        """Every sample: ``{"grad_norm/dense": array (samples,), "grad_norm/dense/kernel":
        ..., "update_ratio/...": ..., "dead_relu/...": ...}``; NaN where a value is undefined
        (the update ratio of a weight that was all zeros)."""
        keys = list(dict.fromkeys(key for row in self._rows for key in row))
        return {key: np.array([row.get(key, np.nan) for row in self._rows]) for key in keys}

    def stat(self, name: str = "grad_norm", per: str = "layer") -> np.ndarray:
        """One statistic as a ``(samples, columns)`` array.

        Columns follow :attr:`layer_names` (``per="layer"``) or :attr:`weight_names`
        (``per="weight"``); NaN where a column has no value (dead_relu of a tanh layer).
        """
        if per not in ("layer", "weight"):
            raise ValueError(f"`per` must be 'layer' or 'weight', received per={per!r}.")
        names = self.layer_names if per == "layer" else self.weight_names
        matrix = np.full((len(self._rows), len(names)), np.nan)
        for i, row in enumerate(self._rows):
            for j, column in enumerate(names):
                matrix[i, j] = row.get(f"{name}/{column}", np.nan)
        return matrix

    # ----- hooks -----
    def on_train_begin(self, logs=None):
        self._reset()
        self._groups = _weight_groups(self.model)
        self.layer_names = [layer for layer, _ in self._groups]
        self.weight_names = [name for _, weights in self._groups for name, _ in weights]
        self._watched = _activation_layers(self.model, self.dead_relu, self.saturation)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._epoch_start = epoch, len(self._rows)

    def on_train_batch_begin(self, batch, logs=None):
        if self._step % self.every == 0 or batch + 1 == self.params.get("steps"):
            self._before = [[w.data.copy() for _, w in weights] for _, weights in self._groups]

    def on_train_batch_end(self, batch, logs=None):
        if self._before is not None:
            self._sample(self._before)
            self._before = None
        self._step += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        rows = self._rows[self._epoch_start:]
        keys = [f"{stat}/{layer}" for stat in self.log_stats for layer in self.layer_names]
        keys += [f"{stat}/{layer.name}" for layer, stat in self._watched]
        for key in keys:
            values = [row[key] for row in rows if key in row and not math.isnan(row[key])]
            logs[key] = float(np.mean(values)) if values else math.nan

    # ----- sampling -----
    def _sample(self, before) -> None:
        row = {}
        for (layer, weights), old in zip(self._groups, before):
            sums = np.zeros(3)  # squared norms of the layer: gradient, weight, update
            for (name, variable), previous in zip(weights, old):
                squares = _squared_norms(variable, previous)
                _put_norms(row, name, squares)
                sums += squares
            _put_norms(row, layer, sums)
        if self._watched:
            row.update(self._activation_stats())
        self._rows.append(row)
        self._steps.append(self._step)
        self._epochs.append(self._epoch)

    def _activation_stats(self) -> dict:
        outputs = _layer_outputs(self.model, [layer for layer, _ in self._watched], self.probe)
        stats = {}
        for layer, stat in self._watched:
            out = outputs.get(id(layer))
            if out is not None:
                stats[f"{stat}/{layer.name}"] = _dead_fraction(out) if stat == "dead_relu" \
                    else _saturated_fraction(out, _activation_name(layer), self.SATURATION)
        return stats


def _weight_groups(model) -> list:
    """``[(layer name, [(weight name, variable), ...]), ...]`` for the trainable weights, by
    the model's top-level layers; weights of no such layer are grouped under the model."""
    groups, seen = [], set()

    def add(owner: str, variables) -> None:
        named = [(getattr(v, "path", None) or f"{owner}/{v.name}", v)
                 for v in variables if id(v) not in seen]
        seen.update(id(v) for _, v in named)
        if named:
            groups.append((owner, named))

    for layer in getattr(model, "layers", []):
        add(layer.name, layer.trainable_weights)
    add(model.name, model.trainable_weights)
    return groups


def _squared_norms(variable, previous: np.ndarray) -> np.ndarray:
    """Squared norms of the gradient, the weight before the step, and the update."""
    grad = variable.grad
    update = (variable.data - previous).ravel()
    flat = previous.ravel()
    g2 = 0.0 if grad is None else float(np.dot(grad.ravel(), grad.ravel()))
    return np.array([g2, float(np.dot(flat, flat)), float(np.dot(update, update))])


def _put_norms(row: dict, name: str, squares: np.ndarray) -> None:
    grad, weight, update = np.sqrt(squares)
    row[f"grad_norm/{name}"] = float(grad)
    row[f"weight_norm/{name}"] = float(weight)
    row[f"update_ratio/{name}"] = float(update / weight) if weight > 0 else math.nan


def _activation_name(layer) -> str | None:
    if type(layer).__name__ == "ReLU":
        return "relu"
    return getattr(getattr(layer, "activation", None), "__name__", None)


def _activation_layers(model, dead_relu: bool, saturation: bool) -> list:
    """``[(layer, "dead_relu" | "saturated"), ...]`` among the model's top-level layers."""
    watched = []
    for layer in getattr(model, "layers", []):
        name = _activation_name(layer)
        if dead_relu and name == "relu":
            watched.append((layer, "dead_relu"))
        elif saturation and name in ("sigmoid", "tanh"):
            watched.append((layer, "saturated"))
    return watched


def _layer_outputs(model, layers, probe) -> dict:
    """``{id(layer): output array}`` from one inference pass of ``model`` on ``probe``.

    Each layer's ``call`` is shadowed by an instance attribute that records its output (the
    base ``Layer.__call__`` looks ``call`` up on the instance), then removed again: this works
    for any model, not only a stack of layers, and ``predict_step`` records no graph.
    """
    outputs = {}
    shadowed = [(layer, vars(layer).get("call")) for layer in layers]
    for layer in layers:
        layer.call = _recording(layer.call, outputs, id(layer))
    try:
        model.predict_step(probe)
    finally:
        for layer, own in shadowed:
            if own is None:
                del layer.call
            else:  # the layer had its own instance attribute: put it back
                layer.call = own
    return outputs


def _recording(call, outputs: dict, key: int):
    def recording_call(*args, **kwargs):
        out = call(*args, **kwargs)
        outputs[key] = np.asarray(out)
        return out

    return recording_call


def _dead_fraction(out: np.ndarray) -> float:
    """Fraction of units (last axis) whose output is 0 on every sample and position."""
    alive = (out.reshape(-1, out.shape[-1]) > 0).any(axis=0)
    return float(1.0 - alive.mean())


def _saturated_fraction(out: np.ndarray, activation: str, threshold: float) -> float:
    """Fraction of outputs in the flat tails; sigmoid is mapped onto tanh's scale first."""
    centred = 2.0 * out - 1.0 if activation == "sigmoid" else out
    return float(np.mean(np.abs(centred) > threshold))


def __getattr__(name: str):
    # TensorBoard lives in numkeras.tensorboard (it imports Callback from here); loading it
    # on first use keeps `import numkeras.callbacks` light and free of import cycles.
    if name == "TensorBoard":
        from numkeras.tensorboard import TensorBoard

        return TensorBoard
    raise AttributeError(f"module 'numkeras.callbacks' has no attribute '{name}'")
