"""The batch split of large element-wise work (backprop/parallel.py): coverage, order, errors,
and the numbers of one thread, for every primitive that splits: the same bits for element-wise
work, the same to float32 rounding where BLAS computes products of fewer rows."""

import os
import signal
import threading

import numpy as np
import pytest

from numkeras.backprop import Tensor, blas, image_ops, ops, parallel


@pytest.fixture
def split_always(monkeypatch):
    """Inside the block every call splits in two, however small (one BLAS thread a part)."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    if blas.get_blas_threads() is None:
        pytest.skip("no controllable BLAS: the split follows BLAS's thread count")
    return lambda: blas.managed(2)


def test_split_covers_the_range_in_nearly_equal_parts():
    for length in (1, 2, 5, 64, 1001):
        for parts in (1, 2, 3, 8):
            pieces = parallel.split(length, parts)
            covered = [i for piece in pieces for i in range(length)[piece]]
            assert covered == list(range(length))
            sizes = [piece.stop - piece.start for piece in pieces]
            assert max(sizes) - min(sizes) <= 1 and len(pieces) == min(parts, length)


def test_outside_fit_the_work_runs_whole_on_the_calling_thread():
    seen = []
    results = parallel.over_batch(lambda part: seen.append((part, threading.get_ident())) or 7,
                                  10, 1 << 30)
    assert results == [7] and seen == [(slice(0, 10), threading.get_ident())]


def test_split_parts_run_on_two_threads_and_return_in_order(split_always):
    threads = set()

    def body(part):
        threads.add(threading.get_ident())
        return part.start

    with split_always():
        assert parallel.over_batch(body, 10, 100) == [0, 5]
        assert parallel.over_batch(body, 1, 100) == [0]  # one row cannot be split
    assert len(threads) == 2


@pytest.mark.parametrize("failing_part", [0, 5])
def test_an_error_in_any_part_is_raised_after_all_parts_finish(split_always, failing_part):
    finished = []

    def body(part):
        if part.start == failing_part:
            raise ValueError(f"bad part {part}")
        finished.append(part.start)

    with split_always():
        with pytest.raises(ValueError, match="bad part"):
            parallel.over_batch(body, 10, 100)
        assert finished == [5 - failing_part]
        assert parallel.over_batch(lambda part: part.stop, 10, 100) == [5, 10]  # still usable


def _run(primitive, inputs, kwargs, managed):
    """Forward and all input gradients of ``primitive`` in a managed region."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in inputs]
    with managed:
        out = primitive(*tensors, **kwargs)
        out.backward(np.linspace(-1, 1, out.data.size, dtype=np.float32).reshape(out.shape))
    return out.data, [t.grad for t in tensors]


def _assert_close(split, whole):
    # Products of fewer rows may take other BLAS kernels (last-bit differences), and weight
    # gradients are sums over the batch added part by part.
    for split_array, whole_array in zip(split, whole):
        assert split_array.dtype == whole_array.dtype == np.float32
        scale = float(np.abs(whole_array).max())  # sums cancel: judge against the largest
        np.testing.assert_allclose(split_array, whole_array, rtol=1e-5, atol=1e-5 * scale)


CONVOLUTIONS = [
    dict(kernel=(3, 3, 1, 8), activation="relu"),
    dict(kernel=(3, 3, 3, 4), activation="linear", padding="same", strides=(2, 2)),
    dict(kernel=(2, 3, 2, 5), activation="tanh", dilation_rate=(2, 1)),
    dict(kernel=(3, 3, 2, 4), activation="relu", bias=False),
]


@pytest.mark.parametrize("case", CONVOLUTIONS)
def test_conv2d_split_gives_the_numbers_of_one_thread(split_always, case):
    case = dict(case)
    rng = np.random.default_rng(0)
    kernel_shape, with_bias = case.pop("kernel"), case.pop("bias", True)
    inputs = [rng.standard_normal((6, 9, 8, kernel_shape[2])).astype(np.float32),
              rng.standard_normal(kernel_shape).astype(np.float32)]
    if with_bias:
        inputs.append(rng.standard_normal(kernel_shape[-1]).astype(np.float32))
    out_1, grads_1 = _run(image_ops.conv2d, inputs, case, blas.managed(1))
    out_2, grads_2 = _run(image_ops.conv2d, inputs, case, split_always())
    _assert_close([out_2] + grads_2, [out_1] + grads_1)


@pytest.mark.parametrize("kwargs", [dict(), dict(pool_size=3, strides=2, padding="same"),
                                    dict(pool_size=(2, 3), strides=1)])
def test_max_pool_split_gives_the_numbers_of_one_thread(split_always, kwargs):
    x = np.random.default_rng(1).integers(-3, 3, (6, 9, 8, 3)).astype(np.float32)  # ties
    out_1, (grad_1,) = _run(image_ops.max_pool2d, [x], kwargs, blas.managed(1))
    out_2, (grad_2,) = _run(image_ops.max_pool2d, [x], kwargs, split_always())
    np.testing.assert_array_equal(out_2, out_1)
    np.testing.assert_array_equal(grad_2, grad_1)


@pytest.mark.parametrize("activation", sorted(ops.FUSED_DENSE_ACTIVATIONS))
def test_dense_split_gives_the_numbers_of_one_thread(split_always, activation):
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal((2, 9, 12)).astype(np.float32),
              rng.standard_normal((12, 5)).astype(np.float32),
              rng.standard_normal(5).astype(np.float32)]
    kwargs = dict(activation=activation)
    out_1, grads_1 = _run(ops.dense, inputs, kwargs, blas.managed(1))
    out_2, grads_2 = _run(ops.dense, inputs, kwargs, split_always())
    _assert_close([out_2] + grads_2, [out_1] + grads_1)


def _train_cnn(optimizer="adam"):
    import numkeras as keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((10, 10, 2)), keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dense(3)])
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(4)
    x = rng.random((40, 10, 10, 2), dtype=np.float32)
    model.fit(x, rng.integers(0, 3, 40), batch_size=8, epochs=2, verbose=0)
    return model.get_weights()


def test_a_split_training_run_repeats_exactly(split_always):
    with split_always():  # fit's own managed region is nested in this one and keeps it
        first, second = _train_cnn(), _train_cnn()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_split_training_matches_the_whole_batch_path(split_always):
    # SGD: Adam's first steps move each weight by about lr * sign(gradient), which would turn
    # a last-bit difference in a near-zero gradient into a full step.
    with blas.managed(1):
        whole = _train_cnn("sgd")
    with split_always():
        split = _train_cnn("sgd")
    _assert_close(split, whole)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_gets_workers_of_its_own(split_always):
    with split_always():
        assert parallel.over_batch(lambda part: part.start, 10, 100) == [0, 5]  # workers up
        pid = os.fork()
        if pid == 0:  # the child: its parent's worker threads did not come along
            code = 0 if parallel.over_batch(lambda part: part.stop, 10, 100) == [5, 10] else 1
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_an_interrupted_call_leaves_no_reply_for_the_next(split_always):
    release = threading.Event()
    main = threading.main_thread().ident

    def body(part):
        if part.start:  # the worker's part: still busy when the caller is interrupted
            release.wait(60)  # set as soon as the interrupt has been seen
            return "stale"
        threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()
        return "first"

    with split_always():
        with pytest.raises(KeyboardInterrupt):  # Ctrl-C while waiting for the worker
            parallel.over_batch(body, 10, 100)
        release.set()
        assert parallel.over_batch(lambda part: part.start, 10, 100) == [0, 5]
