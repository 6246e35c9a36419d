"""Data-parallel training over several processes (and hosts) with MPI.

Keras 3's API: set a ``DataParallel`` distribution, then run the same script in N processes with
``mpiexec -n N python train.py``. ``fit`` splits every global batch over the processes, sums
their gradients with one MPI all-reduce per step and applies the same update everywhere, so the
weights stay identical on all processes and equal those of one process training with the same
global batch. See docs/distributed.md.

>>> import numkeras as keras
>>> keras.distribution.set_distribution(keras.distribution.DataParallel())
>>> keras.distribution.distribution().num_processes   # 1 unless started by mpiexec
1
>>> keras.distribution.set_distribution(None)

This module is cheap to import: MPI (``mpi4py``, the ``numkeras[mpi]`` extra) is loaded only
by a process that an MPI launcher started among several.
"""

from __future__ import annotations

import contextlib

__all__ = ["DataParallel", "distribution", "set_distribution", "list_devices", "current",
           "is_chief", "initialize"]

_state = {"distribution": None, "suspended": 0}


def set_distribution(value) -> None:
    """Make ``value`` (a ``DataParallel``, or None to stop) the distribution of this process:
    ``fit``, ``evaluate`` and ``predict`` use it from now on."""
    if value is not None and not hasattr(value, "reduce_gradients"):
        raise TypeError(f"set_distribution() takes a numkeras.distribution.DataParallel (or "
                        f"None); received {value!r} of type {type(value).__name__}.")
    _state["distribution"] = value


def distribution():
    """The distribution set by ``set_distribution`` (or a ``scope``), or None."""
    return _state["distribution"]


def current():
    """The distribution that ``fit`` should use now: None when none is set, when this process
    runs alone (nothing to distribute), or inside ``local()``. Called once per fit/evaluate/
    predict, never per step."""
    value = _state["distribution"]
    if value is None or _state["suspended"] or value.num_processes == 1:
        return None
    return value


def is_chief() -> bool:
    """False only on the processes other than rank 0 of an active distribution: those do not
    write files (checkpoints, logs, ``model.save``)."""
    value = _state["distribution"]
    return value is None or value.rank == 0


def require_arrays(method: str) -> None:
    """Refuse a Dataset or generator in a data-parallel ``fit``: its batches are not
    sharded, so each process would train alone on all of it and the weights would drift
    apart. Called once per fit, on that path only."""
    value = current()
    if value is not None:
        raise NotImplementedError(
            f"`{method}()` over {value.num_processes} processes (numkeras.distribute) shards "
            f"NumPy arrays only; this input is a Dataset or generator. Pass the arrays "
            f"(x, y) instead, or train in one process.")


@contextlib.contextmanager
def local():
    """Run ``fit``/``predict`` on this process's data alone (used to predict a shard)."""
    _state["suspended"] += 1
    try:
        yield
    finally:
        _state["suspended"] -= 1


def list_devices(device_type=None) -> list[str]:
    """One device per process of the run: ``['cpu:0', 'cpu:1', ...]`` (Keras 3's spelling)."""
    from numkeras.distribute.world import launched_size

    if device_type not in (None, "cpu", "CPU"):
        raise ValueError(f"numkeras runs on CPUs; list_devices(device_type={device_type!r}) "
                         f"has no such devices. Use 'cpu' or None.")
    return [f"cpu:{i}" for i in range(launched_size())]


def initialize(job_addresses=None, num_processes=None, process_id=None) -> None:
    """Keras 3's multi-host set-up. With MPI the launcher (``mpiexec --hostfile``) already
    connected the processes, so this only checks that the numbers agree."""
    from numkeras.distribute.world import launched_size

    if num_processes is not None and int(num_processes) != launched_size():
        raise ValueError(f"initialize(num_processes={num_processes}) but mpiexec started "
                         f"{launched_size()} processes; start them with mpiexec -n "
                         f"{num_processes}.")


def __getattr__(name):
    if name == "DataParallel":
        from numkeras.distribute.data_parallel import DataParallel

        return DataParallel
    raise AttributeError(f"module 'numkeras.distribute' has no attribute {name!r}")
