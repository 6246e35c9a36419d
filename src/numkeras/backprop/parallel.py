"""The work of a primitive on a large batch, split over the batch axis on the CPU's cores.

NumPy runs an element-wise operation (a ReLU, a max-pooling pass, the copies of im2col) on one
core. NumPy releases the GIL inside each operation, so two Python threads that each take half
of the batch run them side by side (measured 1.6x faster on 2 cores for a 5.5 MB ReLU). Each
part also makes its own rows of the primitive's matrix products: inside ``fit``/``evaluate``/
``predict`` BLAS runs on one thread (see :mod:`numkeras.backprop.blas`), and two such products
side by side are as fast as one product on two BLAS threads, with no BLAS threads left
spinning. With this, the course CNN's training step went from about 16 to 13 ms
(docs/benchmarks.md).

Element-wise work gives the same bits split or whole: every element sees the same operations
in the same order. Matrix products made part by part can differ in the last bit (BLAS picks
other kernels for fewer rows), and a weight gradient becomes the sum of the parts' products,
always added in the same order. Whether and how a call splits depends only on its sizes and on
``numkeras.config.blas_threads()``, so a run repeats exactly on a given machine, whatever other
threads do at the same time, and matches the unsplit run to float32 rounding
(tests/backprop/test_parallel.py).

The split happens only inside ``fit``/``evaluate``/``predict`` (a :func:`blas.managed`
region), with as many parts as BLAS would have threads for large products there
(``numkeras.config.set_blas_threads(1)`` turns it off), and only for work of at least
``MIN_ELEMENTS`` elements or a product of at least ``blas.SMALL_PRODUCT`` multiply-adds:
below that, handing work to a thread costs more than it saves. Concurrent calls (``predict``
from several threads) each get workers of their own from a shared pool.

>>> import numpy as np
>>> x = np.arange(6.0).reshape(3, 2) - 2
>>> _ = over_batch(lambda part: np.maximum(x[part], 0, out=x[part]), len(x), x.size)
>>> x.tolist()
[[0.0, 0.0], [0.0, 1.0], [2.0, 3.0]]
"""

from __future__ import annotations

import os
import queue
import threading

from numkeras.backprop import blas

MIN_ELEMENTS = 1 << 18  # about 1 MB of float32: a thread hand-off costs ~20 us, this ~100 us
_idle: list = []  # workers no call is using, under _lock
_lock = threading.Lock()


class _Worker:
    """One daemon thread that runs the calls put in its inbox, each outcome to the reply
    queue that came with the call."""

    def __init__(self):
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="numkeras-batch-worker", daemon=True).start()

    def _serve(self):
        while True:
            function, argument, replies, index = self.inbox.get()
            try:
                replies.put((index, None, function(argument)))
            except BaseException as error:  # noqa: BLE001 - handed back to the caller
                replies.put((index, error, None))


def _forget_workers() -> None:
    # Threads do not survive fork(): a child process starts without them, and with a lock
    # that no thread of its own holds.
    global _lock
    _idle.clear()
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def _take_workers(count: int) -> list:
    """``count`` workers for one call alone (idle ones first, new ones for the rest)."""
    with _lock:
        taken = [_idle.pop() for _ in range(min(count, len(_idle)))]
    return taken + [_Worker() for _ in range(count - len(taken))]


def _give_back(workers: list) -> None:
    with _lock:
        _idle.extend(workers)


def parts_for(size: int, multiply_adds: int = 0) -> int:
    """How many threads should share work on ``size`` elements whose largest product makes
    ``multiply_adds`` multiply-adds, now (1 outside a managed region)."""
    if size < MIN_ELEMENTS and multiply_adds < blas.SMALL_PRODUCT:
        return 1
    return max(1, blas.large_product_threads() or 1)


def split(length: int, parts: int) -> list[slice]:
    """``range(length)`` cut into ``parts`` contiguous slices of nearly equal size.

    >>> split(5, 2)
    [slice(0, 2, None), slice(2, 5, None)]
    """
    parts = max(1, min(parts, length))
    bounds = [length * i // parts for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def over_batch(body, length: int, size: int, multiply_adds: int = 0) -> list:
    """Call ``body(part)`` for slices ``part`` that together cover ``range(length)``; return
    the results in the order of the parts.

    ``size`` is the number of elements the whole call touches and ``multiply_adds`` those of
    the largest product the body makes; together they decide whether to split. ``body`` must
    write only the rows of its ``part``. A primitive passes the same sizes in its forward and
    backward passes, so that both split or neither does.
    The first part runs in the calling thread, the others on worker threads taken for this
    call alone; an exception in any part is raised here after all parts have finished.
    """
    count = min(parts_for(size, multiply_adds), length)
    if count < 2:
        return [body(slice(0, length))]
    return _run_parts(body, split(length, count))


def _run_parts(body, parts) -> list:
    workers = _take_workers(len(parts) - 1)
    try:
        # Replies come back on a queue of this call's own: if the caller is interrupted while
        # waiting (Ctrl-C), a late reply lands there, never in a later call's results (a
        # worker given back still busy takes its next call once it is done).
        replies: queue.SimpleQueue = queue.SimpleQueue()
        for index, (worker, part) in enumerate(zip(workers, parts[1:]), start=1):
            worker.inbox.put((body, part, replies, index))
        results, errors = [None] * len(parts), []
        try:
            results[0] = body(parts[0])
        except BaseException as own_error:  # noqa: BLE001 - re-raised once the workers are done
            errors.append(own_error)
        for _ in workers:  # they finish in any order; results go back in the parts' order
            index, error, result = replies.get()
            results[index] = result
            if error is not None:
                errors.append(error)
    finally:
        _give_back(workers)
    if errors:
        raise errors[0]
    return results


def sum_parts(partials):
    """The sum of the parts' partial results (a batch reduction), always added in the same
    order so that a run repeats bit for bit; None if the parts returned None.

    >>> sum_parts([1.0, 2.0]), sum_parts([None, None])
    (3.0, None)
    """
    if len(partials) == 1 or partials[0] is None:
        return partials[0]
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total
