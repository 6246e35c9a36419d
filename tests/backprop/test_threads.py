"""Concurrent calls (issue 15, item 7): predict from several threads on one model gives the bits
of a single-threaded call, and so does training two models in two threads; the BLAS setting
is the process's own again when every call has ended."""

import threading

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import blas, parallel


def _in_threads(jobs: list, count: int = 4) -> list:
    """Run the zero-argument callables ``jobs`` spread over ``count`` threads started
    together; their results in the order of ``jobs``."""
    results, errors = [None] * len(jobs), []
    start = threading.Barrier(count)

    def worker(k):
        try:
            start.wait(30)
            for i in range(k, len(jobs), count):
                results[i] = jobs[i]()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors
    return results


def _mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def _cnn():
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(), keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")])


@pytest.mark.parametrize("build, shape", [(_mlp, (3000, 784)), (_cnn, (600, 28, 28, 1))])
def test_predict_from_several_threads_gives_the_bits_of_one_thread(build, shape):
    model = build()
    x = np.random.default_rng(2).random(shape, dtype=np.float32)
    # Batches whose products are small (one BLAS thread, no split) and large (split).
    batch_sizes = [32, len(x) // 2, len(x)]
    alone = {size: model.predict(x, batch_size=size, verbose=0) for size in batch_sizes}
    jobs = [lambda size=size: (size, model.predict(x, batch_size=size, verbose=0))
            for size in batch_sizes * 4]
    for size, output in _in_threads(jobs):
        assert np.array_equal(output, alone[size]), f"batch size {size}"


def _training(seed: int):
    """A compiled model and its data, made here (the global seed is not per thread), and
    the call that trains it without shuffling (fit draws its shuffling seed globally too)."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(300, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(seed)
    x, y = rng.random((1024, 784), dtype=np.float32), rng.integers(0, 10, 1024)

    def train():  # batches of 512: products large enough to split
        model.fit(x, y, batch_size=512, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    return train


def test_training_in_two_threads_gives_the_bits_of_training_alone():
    alone = [_training(seed)() for seed in (3, 4)]
    together = _in_threads([_training(3), _training(4)], count=2)
    for weights, reference in zip(together, alone):
        for a, b in zip(weights, reference):
            np.testing.assert_array_equal(a, b)


def test_the_setting_is_restored_after_concurrent_calls():
    before = blas.get_blas_threads()
    model = _mlp()
    x = np.ones((2000, 784), np.float32)
    _in_threads([lambda: model.predict(x, batch_size=1000, verbose=0)] * 8)
    assert blas.get_blas_threads() == before


def test_concurrent_splits_each_get_their_own_workers(monkeypatch):
    """Two callers splitting at once: neither waits for nor falls back from the other."""
    if blas.get_blas_threads() is None:
        pytest.skip("no controllable BLAS: nothing is split")
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    both_inside = threading.Barrier(2)

    def call():
        with blas.managed(2):
            def body(part):
                if part.start == 0:
                    both_inside.wait(30)  # both callers are splitting at the same time
                return part.start
            return parallel.over_batch(body, 10, 100)

    assert _in_threads([call, call], count=2) == [[0, 5], [0, 5]]


def test_no_grad_in_one_thread_leaves_other_threads_recording():
    """no_grad used to be one process-wide flag: two overlapping predicts could leave it off,
    and every later gradient was silently zero."""
    from numkeras.backprop import Tensor, is_grad_enabled, no_grad

    inside, leave = threading.Event(), threading.Event()

    def inference():
        with no_grad():
            inside.set()
            leave.wait(30)
            return is_grad_enabled()

    thread_result = []
    thread = threading.Thread(target=lambda: thread_result.append(inference()))
    thread.start()
    inside.wait(30)
    w = Tensor(np.array([2.0]), requires_grad=True)
    assert is_grad_enabled() and (w * 3.0).requires_grad
    leave.set()
    thread.join()
    assert thread_result == [False]
    model, x = _mlp(), np.ones((64, 784), np.float32)
    _in_threads([lambda: model.predict(x, verbose=0)] * 8)
    assert is_grad_enabled()
