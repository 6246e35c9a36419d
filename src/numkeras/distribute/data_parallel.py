"""``DataParallel``: synchronous data-parallel training over MPI processes.

What ``fit`` does under it (models/training.py calls the hooks below once per fit, per epoch or
per step, and only when a distribution with several processes is set):

- at the start, rank 0's weights and shuffling seed go to every process (``begin_fit``);
- every global batch is split into contiguous shards, one per process (``shard``);
- after the backward pass each process scales its flat gradient buffer by its share of the
  batch and one in-place ``MPI_Allreduce`` sums them (``reduce_gradients``), so every process
  applies the same update: the gradient of the mean loss over the global batch;
- at the end of each epoch the metric states are summed over the processes and the
  non-trainable weights (BatchNormalization's moving averages) averaged (``end_epoch``), so
  History and the weights are the same everywhere;
- only rank 0 prints progress and writes files (``fit_callbacks``; ``model.save``).
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import time

import numpy as np

from numkeras import callbacks as callbacks_module
from numkeras import config
from numkeras.distribute import local, set_distribution, distribution
from numkeras.distribute.world import World, install_abort_on_exception

# Attributes holding a metric's running state (numkeras.metrics): summed over processes.
_METRIC_STATES = ("total", "count", "true_positives", "false_positives", "false_negatives",
                  "true_negatives")


class DataParallel:
    """Data parallelism over the processes of an MPI run (Keras 3's
    ``keras.distribution.DataParallel``): every process holds the whole model and trains on its
    shard of each global batch.

    Args:
        devices: optional list of devices, one per process (``list_devices()``); its length
            must be the number of processes.
        auto_shard_dataset: accepted for Keras compatibility; arrays are always sharded.
        comm: an ``mpi4py`` communicator to train over (default: all processes).

    Run the same script in every process, e.g. ``mpiexec -n 4 python train.py``:

    >>> import numkeras as keras
    >>> keras.distribution.set_distribution(keras.distribution.DataParallel())
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.ones((8, 3)), np.ones(8), batch_size=4, verbose=0)
    >>> keras.distribution.set_distribution(None)

    With one process (no ``mpiexec``) it changes nothing.
    """

    def __init__(self, devices=None, auto_shard_dataset=True, *, comm=None):
        self._world = World(comm)
        self.devices = [f"cpu:{i}" for i in range(self._world.size)]
        if devices is not None and len(devices) != self._world.size:
            raise ValueError(
                f"DataParallel(devices=...) lists {len(devices)} devices, but this run has "
                f"{self._world.size} processes (one device each). Start it with mpiexec -n "
                f"{len(devices)}, or leave devices=None.")
        self.auto_shard_dataset = auto_shard_dataset
        self.batch_dim_name = "batch"
        self._weight = 1.0  # this process's share of the current global batch
        self._stand_in = None  # metric states to put back after a stand-in step
        self.allreduce_seconds = 0.0  # time spent in the gradient all-reduce, for benchmarks
        self.allreduce_steps = 0
        if self._world.size > 1:
            install_abort_on_exception(self._world)
            _share_cores()

    @property
    def rank(self) -> int:
        """This process's number, 0 to ``num_processes - 1``; rank 0 writes the files."""
        return self._world.rank

    @property
    def num_processes(self) -> int:
        return self._world.size

    num_replicas_in_sync = num_processes

    @property
    def step_weight(self) -> float:
        """This process's share of the current global batch (0 for a stand-in sample)."""
        return self._weight

    @contextlib.contextmanager
    def scope(self):
        """Use this distribution inside the ``with`` block only."""
        previous = distribution()
        set_distribution(self)
        try:
            yield self
        finally:
            set_distribution(previous)

    def __repr__(self) -> str:
        return f"<DataParallel rank={self.rank} num_processes={self.num_processes}>"

    # ----- fit: once per fit -----
    def fit_callbacks(self, callbacks, verbose: int):
        """The callbacks and verbosity of this process: rank 0 keeps them all; the others
        print nothing and write nothing (a BackupAndRestore there only restores). A last
        callback makes a stop requested on any process stop all of them together."""
        given = list(callbacks or [])
        per_batch = any(_may_stop_per_batch(callback) for callback in given)
        if self.rank != 0:
            given = [c for c in (_on_other_ranks(c) for c in given) if c is not None]
            verbose = 0
        return given + [_StopTogether(self._world, per_batch)], verbose

    def begin_fit(self, model, shuffle_seed: int) -> int:
        """Give every process rank 0's weights and rank 0's shuffling seed (returned)."""
        _check_built_in_step(model)
        self._world.busy += 1  # until on_train_end (_StopTogether)
        buffer = model._parameter_buffer(allow_empty=True)  # None: nothing to train
        trainable = set()
        if buffer is not None:
            self._world.broadcast(buffer.data)
            trainable = {id(v) for v in buffer.variables}
        for variable in model.weights:
            if id(variable) not in trainable:
                value = np.ascontiguousarray(variable.data)
                self._world.broadcast(value)
                variable.assign(value)
        return int(self._world.broadcast_object(int(shuffle_seed)))

    # ----- fit: per step -----
    def shard(self, model, batches):
        """This process's contiguous part of each global batch (an index or a slice). A
        process left without samples (a last batch smaller than the number of processes)
        runs the step on a stand-in sample whose gradient is zeroed and whose metric updates
        are undone, so that it still takes part in every collective."""
        rank, size = self.rank, self.num_processes
        for index in batches:
            self._undo_stand_in()
            length = _length(index)
            start, stop = rank * length // size, (rank + 1) * length // size
            self._weight = (stop - start) / length
            if stop > start:
                yield _part(index, start, stop)
            else:
                self._stand_in = _metric_states(model.metrics, copy_values=True)
                yield _part(index, 0, 1)

    def reduce_gradients(self, buffer) -> None:
        """Sum ``buffer.grad`` over the processes, each scaled by its share of the batch, so
        every process holds the gradient of the mean loss over the global batch."""
        grad = buffer.grad
        if self._weight == 0.0:
            grad.fill(0)  # not 0 * grad: a stand-in's inf or NaN must not reach the others
        else:
            np.multiply(grad, grad.dtype.type(self._weight), out=grad)
        start = time.perf_counter()
        self._world.allreduce_sum(grad)
        self.allreduce_seconds += time.perf_counter() - start
        self.allreduce_steps += 1

    def batch_norm(self, x, gamma=None, beta=None, **options):
        """BatchNormalization(synchronized=True)'s training pass: global-batch statistics."""
        from numkeras.distribute.sync_batch_norm import sync_batch_norm

        return sync_batch_norm(x, gamma, beta, reduce=self._world.allreduce_sum,
                               weight=self._weight, **options)

    # ----- fit: per epoch; evaluate -----
    def end_epoch(self, model, logs: dict) -> dict:
        """The epoch's logs over all processes; non-trainable weights averaged."""
        self._undo_stand_in()
        logs = self._reduce_metric_logs(model, logs)
        self._average_non_trainable(model)
        return logs

    def reduce_logs(self, model, logs: dict) -> dict:
        """Sum every metric's state over the processes and read the results again: the
        metrics of all the samples, the same numbers on every process."""
        logs = self._reduce_metric_logs(model, logs)
        self._world.busy -= 1  # the evaluation that shard_arrays began is over
        return logs

    def _reduce_metric_logs(self, model, logs: dict) -> dict:
        metrics = model.metrics
        states = _metric_states(metrics)
        if states:
            flat = np.concatenate([np.ravel(np.asarray(v, np.float64)) for _, _, v in states])
            self._world.allreduce_sum(flat)
            position = 0
            for holder, name, value in states:
                size = np.size(value)
                part = flat[position:position + size]
                position += size
                setattr(holder, name, part.reshape(np.shape(value)).copy()
                        if isinstance(value, np.ndarray) else float(part[0]))
        by_name = {metric.name: metric for metric in metrics}
        keys = list(logs) or list(by_name)
        return {key: by_name[key].result() if key in by_name else logs[key] for key in keys}

    def shard_arrays(self, *structures):
        """This process's contiguous block of the samples of each array (or list of arrays);
        None stays None."""
        self._world.busy += 1  # until reduce_logs
        first = next(s for s in structures if s is not None)
        length = len(first[0]) if isinstance(first, list) else len(first)
        start = self.rank * length // self.num_processes
        stop = (self.rank + 1) * length // self.num_processes
        return tuple(_rows(s, start, stop) for s in structures)

    def predict(self, model, x, **options):
        """Each process predicts its block of ``x``; every process returns all predictions."""
        arrays = x if isinstance(x, (list, tuple)) else list(x.values()) \
            if isinstance(x, dict) else [x]
        total = len(arrays[0])
        start = self.rank * total // self.num_processes
        stop = (self.rank + 1) * total // self.num_processes
        if isinstance(x, dict):
            part = {key: value[start:stop] for key, value in x.items()}
        elif isinstance(x, (list, tuple)):
            part = [value[start:stop] for value in x]
        else:
            part = x[start:stop]
        if self.rank != 0:
            options["verbose"] = 0
        self._world.busy += 1
        with local():
            out = model.predict(part, **options)
        if isinstance(out, dict):
            out = {key: self._world.allgather_rows(value, total) for key, value in out.items()}
        elif isinstance(out, list):
            out = [self._world.allgather_rows(value, total) for value in out]
        else:
            out = self._world.allgather_rows(out, total)
        self._world.busy -= 1
        return out

    # ----- internals -----
    def _undo_stand_in(self) -> None:
        if self._stand_in is not None:
            for holder, name, value in self._stand_in:
                setattr(holder, name, value)
            self._stand_in = None

    def _average_non_trainable(self, model) -> None:
        # In float64: processes that hold the same value get it back exactly.
        variables = [v for v in model.non_trainable_weights if v.data.dtype.kind == "f"]
        if not variables:
            return
        flat = np.concatenate([v.data.ravel().astype(np.float64) for v in variables])
        self._world.allreduce_sum(flat)
        flat /= self.num_processes
        position = 0
        for variable in variables:
            variable.assign(flat[position:position + variable.data.size].reshape(
                variable.data.shape))
            position += variable.data.size


class _StopTogether(callbacks_module.Callback):
    """Last callback of a distributed fit: if any process asks to stop (EarlyStopping,
    TerminateOnNaN...), all stop at the same step; else one would wait forever for the
    others. Per step only when a callback may stop per step."""

    def __init__(self, world: World, per_batch: bool):
        super().__init__()
        self._world = world
        if per_batch:
            self.on_train_batch_end = self._agree

    def on_epoch_end(self, epoch, logs=None):
        self._agree()

    def on_train_end(self, logs=None):
        self._world.busy -= 1

    def _agree(self, *args) -> None:
        self.model.stop_training = bool(self._world.allreduce_max(
            1.0 if self.model.stop_training else 0.0))


class _RestoreOnly(callbacks_module.Callback):
    """A BackupAndRestore on a process other than rank 0: restores, never writes."""

    def __init__(self, backup):
        super().__init__()
        self.backup = backup

    def set_model(self, model) -> None:
        super().set_model(model)
        self.backup.set_model(model)

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        self.backup.set_params(params)

    def on_train_begin(self, logs=None):
        self.backup.on_train_begin(logs)


def _check_built_in_step(model) -> None:
    """A model's own ``train_step`` computes and applies its gradients itself, out of reach
    of the all-reduce: the processes would drift apart silently, so refuse it."""
    step = getattr(type(model), "train_step", None) if model is not None else None
    if step is not None and step.__qualname__ != "Trainer.train_step":
        raise NotImplementedError(
            f"Model '{model.name}' overrides train_step, and a data-parallel fit over several "
            f"processes reduces the gradients inside the built-in step only. Use the built-in "
            f"step (override compute_loss instead), or train in one process.")


def _share_cores() -> None:
    """Processes on one host share its cores: cap each one's BLAS threads at its share
    (unless the user chose a number), instead of every process starting one per core."""
    local = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or os.environ.get("MPI_LOCALNRANKS")
    if config.blas_threads() is None and local and local.isdigit() and int(local) > 1:
        config.set_blas_threads(max(1, (os.cpu_count() or 1) // int(local)))


def _writers() -> tuple:
    """The callbacks that only write files. TensorBoard counts only if its module was loaded
    (a TensorBoard callback exists then), so a fit never imports it for nothing."""
    tensorboard = sys.modules.get("numkeras.tensorboard")
    return (callbacks_module.ModelCheckpoint, callbacks_module.CSVLogger) + (
        (tensorboard.TensorBoard,) if tensorboard is not None else ())


def _on_other_ranks(callback):
    """What a process other than rank 0 runs of ``callback``: nothing for writers."""
    if isinstance(callback, callbacks_module.BackupAndRestore):
        return _RestoreOnly(callback)
    if isinstance(callback, _writers()):
        return None
    return callback


def _may_stop_per_batch(callback) -> bool:
    if isinstance(callback, _writers() + (callbacks_module.BackupAndRestore,)):
        return False
    return any(hook in vars(callback) or getattr(type(callback), hook) is not getattr(
        callbacks_module.Callback, hook) for hook in ("on_train_batch_begin",
                                                        "on_train_batch_end"))


def _metric_states(metrics, copy_values: bool = False) -> list:
    """(holder, attribute, value) of every running state, in a fixed order (the same on
    every process), including metrics nested in others (``'accuracy'`` resolved later)."""
    states = []

    def visit(metric):
        for name, value in sorted(vars(metric).items()):
            if name in _METRIC_STATES and isinstance(value, (float, int, np.ndarray)):
                states.append((metric, name, copy.copy(value) if copy_values else value))
            elif hasattr(value, "update_state") and hasattr(value, "result"):
                visit(value)

    for metric in metrics:
        visit(metric)
    return states


def _length(index) -> int:
    return index.stop - index.start if isinstance(index, slice) else len(index)


def _part(index, start: int, stop: int):
    if isinstance(index, slice):
        return slice(index.start + start, index.start + stop)
    return index[start:stop]


def _rows(structure, start: int, stop: int):
    if structure is None:
        return None
    if isinstance(structure, list):
        return [array[start:stop] for array in structure]
    return structure[start:stop]
