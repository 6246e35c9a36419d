"""numkeras.distribute in one process: the API, the sync BatchNormalization primitive's
gradients, and the rules for splitting batches. The 2-process runs are in test_mpi.py."""

import numpy as np
import pytest

import numkeras as keras
from numkeras.backprop import Tensor, image_ops
from numkeras.backprop.gradcheck import check_grads
from numkeras.distribute import data_parallel, world
from numkeras.distribute.sync_batch_norm import sync_batch_norm


@pytest.fixture(autouse=True)
def no_distribution():
    yield
    keras.distribution.set_distribution(None)


@pytest.fixture
def alone(monkeypatch):
    for size, rank in world._LAUNCHER_VARIABLES:
        monkeypatch.delenv(size, raising=False)
        monkeypatch.delenv(rank, raising=False)


def test_sync_batch_norm_gradients_float64():
    rng = np.random.default_rng(0)
    for axis, shape in ((-1, (6, 3)), (1, (4, 3, 2, 2))):
        x, gamma, beta = rng.normal(size=shape), rng.normal(size=3), rng.normal(size=3)
        check_grads(lambda a, g, b, axis=axis: sync_batch_norm(a, g, b, axis=axis), x, gamma,
                    beta)
        check_grads(lambda a, axis=axis: sync_batch_norm(a, axis=axis), x)


def test_sync_batch_norm_alone_equals_batch_norm():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=(8, 5)).astype("float32")
    gamma, beta = rng.normal(size=5).astype("float32"), rng.normal(size=5).astype("float32")
    moments, expected_moments = [], []
    out = sync_batch_norm(x, gamma, beta, moments_out=moments)
    expected = image_ops.batch_norm(x, gamma, beta, moments_out=expected_moments)
    assert out.data.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.data, atol=2e-6)
    for got, want in zip(moments, expected_moments):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sync_batch_norm_halves_with_weights_give_the_whole_batch_gradient():
    """Two processes simulated one after the other: each holds half the batch with weight
    1/2, and its ``reduce`` returns what MPI would (the sums over both halves). The halves'
    input gradients, scaled by 1/2 as the training step scales gradients, are the gradient
    of the weighted total ``1/2 loss(half 1) + 1/2 loss(half 2)`` with the whole batch
    normalized together."""
    rng = np.random.default_rng(2)
    x, cotangent = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
    whole = Tensor(x, requires_grad=True)
    (sync_batch_norm(whole) * (0.5 * cotangent)).sum().backward()
    forward = np.stack([x.sum(0), (x * x).sum(0), np.full(3, 8.0)])
    mean, var = x.mean(0), x.var(0)
    normed = (x - mean) / np.sqrt(var + 1e-3)
    backward = 0.5 * np.stack([cotangent.sum(0), (cotangent * normed).sum(0)])
    grads = []
    for rows in (slice(0, 4), slice(4, 8)):
        calls = []

        def reduce(array, calls=calls):
            array[...] = backward if calls else forward
            calls.append(1)

        half = Tensor(x[rows], requires_grad=True)
        (sync_batch_norm(half, reduce=reduce, weight=0.5) * cotangent[rows]).sum().backward()
        assert len(calls) == 2  # one all-reduce forward, one backward
        grads.append(0.5 * half.grad)
    np.testing.assert_allclose(np.concatenate(grads), whole.grad, rtol=1e-9, atol=1e-12)


def test_sync_batch_norm_stand_in_contributes_nothing():
    """Weight 0 (a process without samples this step): its sample is not counted and its
    input gets no gradient; the other processes' sums come back from ``reduce``."""
    seen = []
    others = [np.array([[2.0, 2.0], [6.0, 6.0], [2.0, 2.0]]), np.array([[0.5, 0.5], [1.0, 1.0]])]

    def reduce(array):
        seen.append(array.copy())
        array[...] = others[len(seen) - 1]

    x = Tensor(np.ones((1, 2)), requires_grad=True)
    sync_batch_norm(x, reduce=reduce, weight=0.0).sum().backward()
    assert np.all(seen[0] == 0) and np.all(seen[1] == 0)
    assert np.all(x.grad == 0)


def test_one_process_distribution_changes_nothing(alone):
    distribution = keras.distribution.DataParallel()
    assert distribution.num_processes == 1 and distribution.rank == 0
    assert keras.distribution.list_devices() == ["cpu:0"]
    keras.distribution.set_distribution(distribution)
    assert keras.distribution.distribution() is distribution
    assert keras.distribute.current() is None  # one process: fit takes its usual path
    assert keras.distribute.is_chief()


def test_set_distribution_refuses_other_objects():
    with pytest.raises(TypeError, match="DataParallel"):
        keras.distribution.set_distribution("data_parallel")


def test_devices_must_match_the_number_of_processes(alone):
    with pytest.raises(ValueError, match="2 devices, but this run has 1 processes"):
        keras.distribution.DataParallel(devices=["cpu:0", "cpu:1"])


def test_scope_sets_the_distribution_for_the_block_only(alone):
    distribution = keras.distribution.DataParallel()
    with distribution.scope():
        assert keras.distribution.distribution() is distribution
    assert keras.distribution.distribution() is None


def test_tf_strategies_in_one_process(alone):
    import numkeras.compat.tf as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 1
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
    assert tf.distribute.get_strategy() is strategy and tf.distribute.has_strategy()
    model.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    assert tf.distribute.MirroredStrategy().num_replicas_in_sync == 1
    tf.distribute.experimental_set_strategy(None)
    assert keras.distribution.distribution() is None


def test_missing_mpi4py_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_mpi4py(name, *args, **kwargs):
        if name.startswith("mpi4py"):
            raise ImportError("No module named 'mpi4py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mpi4py)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    with pytest.raises(ImportError, match=r"numkeras\[mpi\]"):
        world.mpi()


def test_batch_norm_synchronized_is_kept_in_the_config():
    layer = keras.layers.BatchNormalization(synchronized=True)
    assert layer.get_config()["synchronized"] is True
    clone = keras.layers.BatchNormalization.from_config(layer.get_config())
    assert clone.synchronized is True
    out = layer(np.arange(8.0, dtype="float32").reshape(4, 2), training=True)
    np.testing.assert_allclose(out.data[:, 0], [-1.34, -0.45, 0.45, 1.34], atol=0.01)


@pytest.mark.parametrize("index", [slice(10, 19), np.arange(30, 21, -1)])
def test_shards_cover_the_global_batch_in_order(index):
    class Fake:
        metrics = []

    parts = []
    for rank in range(4):
        strategy = object.__new__(data_parallel.DataParallel)
        strategy._world = type("W", (), {"rank": rank, "size": 4})()
        strategy._stand_in = None
        for part in strategy.shard(Fake(), iter([index])):
            parts.append((part, strategy.step_weight))
    as_array = np.arange(100)
    pieces = [as_array[p] if isinstance(p, slice) else p for p, _ in parts]
    assert np.array_equal(np.concatenate(pieces), as_array[index])
    assert [len(p) for p in pieces] == [2, 2, 2, 3]
    assert sum(w for _, w in parts) == pytest.approx(1.0)


def test_cli_workers_relaunches_the_same_command_under_mpiexec(alone, monkeypatch, tmp_path):
    pytest.importorskip("mpi4py")
    from numkeras import cli
    from numkeras.cli import train

    seen = {}

    def fake_run(command, env, check):
        seen["command"], seen["env"] = command, env
        return type("Done", (), {"returncode": 0})()

    monkeypatch.setattr(train.subprocess, "run", fake_run)
    argv = ["train", "--model", "cnn", "--epochs", "2", "--hidden", "64,32", "--seed",
            "random", "--learning-rate", "0.003", "--workers", "2", "--output",
            str(tmp_path / "run")]
    assert cli.main(argv) == 0
    command = seen["command"]
    assert command[1:3] == ["-n", "2"] and command[0].endswith("mpiexec")
    again = cli.build_parser().parse_args(command[command.index("train"):])
    assert (again.model, again.epochs, again.hidden, again.learning_rate, again.workers) == \
        ("cnn", 2, [64, 32], 0.003, 2)
    assert again.seed is not None  # one seed for every process
    assert again.output == tmp_path / "run" and (tmp_path / "run").is_dir()


def test_cli_workers_must_match_mpiexec(monkeypatch, tmp_path):
    from numkeras.cli import train

    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "3")
    args = type("Args", (), {"workers": 2})()
    with pytest.raises(ValueError, match="--workers 2, but mpiexec started 3 processes"):
        train.join_workers(args)


def test_benchmark_ring_model_and_report():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_mpi.py"
    spec = importlib.util.spec_from_file_location("bench_mpi", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # 2 workers move 2 * 1/2 * 1 MB = 1 MB each way: 1 ms at 8 Gb/s, plus 2 latencies.
    assert bench.ring_allreduce_s(1e6, 2, 8e9, 0.0) == pytest.approx(1e-3)
    assert bench.ring_allreduce_s(1e6, 2, 8e9, 1e-5) == pytest.approx(1.02e-3)
    assert bench.ring_allreduce_s(1e6, 1, 8e9, 1e-5) == 0.0
    fit = {"model": "lecture", "gradient_bytes": 407080, "allreduce_ms_per_step": 0.0}
    fits = [{**fit, "processes": 1, "transport": "-", "samples_per_s": 1000.0, "step_ms": 1.0},
            {**fit, "processes": 2, "transport": "sm", "samples_per_s": 1500.0,
             "step_ms": 1.3}]
    text = bench.report(fits, {"sm": {"4": 1e-5, "407080": 1e-4}})
    assert "| lecture | 2 | sm | 1,500 | 1.30 | 0.000 | 75% |" in text
    assert "| lecture | 64 |" in text and "4.07 GB/s" in text


def test_a_custom_train_step_is_refused_not_silently_left_unreduced():
    class Custom(keras.Sequential):
        def train_step(self, data):
            return {}

    with pytest.raises(NotImplementedError, match="overrides train_step"):
        data_parallel._check_built_in_step(Custom([keras.Input((2,)), keras.layers.Dense(1)]))
    data_parallel._check_built_in_step(keras.Sequential([keras.Input((2,)),
                                                         keras.layers.Dense(1)]))


def test_a_dataset_is_refused_by_a_multi_process_fit(monkeypatch):
    distribution = object.__new__(data_parallel.DataParallel)
    distribution._world = type("W", (), {"rank": 0, "size": 2})()
    keras.distribution.set_distribution(distribution)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    batches = (([[1.0, 2.0]], [1.0]) for _ in range(2))
    with pytest.raises(NotImplementedError, match="shards NumPy arrays only"):
        model.fit(batches, epochs=1, verbose=0)


def test_benchmark_section_is_replaced_before_compare_steps(tmp_path):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "bench_mpi.py"
    spec = importlib.util.spec_from_file_location("bench_mpi", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tail = bench.NEXT_MARKER + "; run.py keeps this section. -->\n\n## Before/after\n"
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\nrun.py's tables\n\n" + tail)
    bench.write_section(report, "| first |", quick=True)
    bench.write_section(report, "| second |", quick=False)
    text = report.read_text()
    assert text.startswith("# Benchmarks\n\nrun.py's tables\n\n" + bench.MARKER)
    assert text.endswith(tail) and "| second |" in text and "| first |" not in text


@pytest.mark.parametrize("module", ["numkeras.distribute", "numkeras.distribute.data_parallel",
                                    "numkeras.distribute.tf", "numkeras.distribution"])
def test_docstring_examples(alone, module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
