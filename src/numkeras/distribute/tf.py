"""``tf.distribute`` for tf.keras code: ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy``
on numkeras's MPI data parallelism (one replica per process of ``mpiexec -n N``).

>>> import numkeras.compat.tf as tf
>>> strategy = tf.distribute.MultiWorkerMirroredStrategy()
>>> strategy.num_replicas_in_sync   # 1 unless started by mpiexec
1
>>> with strategy.scope():
...     model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
...     model.compile(optimizer="sgd", loss="mse")
>>> tf.distribute.get_strategy() is strategy
True
>>> tf.distribute.experimental_set_strategy(None)

As in TensorFlow, a model made in ``strategy.scope()`` trains with the strategy even when
``fit`` is called after the block, so the strategy stays this process's distribution after the
scope ends (until ``experimental_set_strategy(None)``).
"""

from __future__ import annotations

import contextlib

from numkeras import distribute


class MultiWorkerMirroredStrategy:
    """Synchronous training with one replica per MPI process (``mpiexec -n N``): the
    gradients are all-reduced every step, the variables stay identical.

    Args:
        cluster_resolver, communication_options: accepted for tf.keras compatibility; the
            processes come from the MPI launcher (hosts: ``mpiexec --hostfile``).
    """

    def __init__(self, cluster_resolver=None, communication_options=None):
        self._distribution = distribute.DataParallel()
        self.extended = self

    @property
    def num_replicas_in_sync(self) -> int:
        return self._distribution.num_processes

    @property
    def cluster_resolver(self):
        return None

    @contextlib.contextmanager
    def scope(self):
        """Models built and compiled here train data-parallel (also after the block)."""
        distribute.set_distribution(self._distribution)
        _current["strategy"] = self
        yield self

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} replica {self._distribution.rank} of "
                f"{self.num_replicas_in_sync}>")


class MirroredStrategy(MultiWorkerMirroredStrategy):
    """tf's one-host mirrored strategy; here one replica per MPI process, as the
    multi-worker one.

    Args:
        devices, cross_device_ops: accepted for compatibility; the replicas are the processes.
    """

    def __init__(self, devices=None, cross_device_ops=None):
        super().__init__()


_current = {"strategy": None}


def get_strategy():
    """The strategy whose scope was entered last (tf returns a default strategy: here None
    when none was)."""
    return _current["strategy"]


def has_strategy() -> bool:
    return _current["strategy"] is not None


def experimental_set_strategy(strategy) -> None:
    """Make ``strategy`` (or None) this process's strategy."""
    _current["strategy"] = strategy
    distribute.set_distribution(None if strategy is None else strategy._distribution)
