"""Nothing lost: a reloaded model trains on exactly as if never saved, and a training run
killed with SIGKILL resumes from its last backup and ends with bit-identical weights."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from tests.saving.helpers import ROOT, small_data, small_model, trained_small_model

import numkeras as keras
from numkeras import config


def cnn():
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((6, 6, 1)), layers.Conv2D(3, 3, activation="relu"),
        layers.BatchNormalization(), layers.SpatialDropout2D(0.3), layers.Flatten(),
        layers.Dropout(0.4), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Nadam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def assert_same_state(a, b):
    assert len(a.weights) == len(b.weights)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x.data, y.data)
    for x, y in zip(a.optimizer.variables, b.optimizer.variables):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_reloaded_model_continues_training_bit_for_bit(tmp_path, suffix):
    x, y = small_data(48)
    model = trained_small_model(dropout=0.5)
    model.save(tmp_path / f"m{suffix}")
    restored = keras.models.load_model(tmp_path / f"m{suffix}")
    if suffix == ".h5":  # the legacy format has no place for generator states
        keras.saving.set_random_state(restored, keras.saving.get_random_state(model))
    config.set_random_seed(7)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    config.set_random_seed(7)
    restored.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert_same_state(model, restored)


def test_cnn_with_batchnorm_and_dropouts_continues_bit_for_bit(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((24, 6, 6, 1), dtype=np.float32), rng.integers(0, 3, 24)
    model = cnn()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    config.set_random_seed(3)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    config.set_random_seed(3)
    restored.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert_same_state(model, restored)


class Crash(keras.callbacks.Callback):
    """Raise at (epoch, batch): a crash in the middle of an epoch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("crash")


def run(backup_dir, callbacks=(), epochs=4, **backup_options):
    """A whole training run from scratch (seed, model, fit), as a fresh process would do it."""
    config.set_random_seed(21)
    x, y = small_data(40, seed=2)
    model = small_model(dropout=0.3)
    backup = keras.callbacks.BackupAndRestore(backup_dir, **backup_options)
    history = model.fit(x, y, epochs=epochs, batch_size=8, verbose=0,
                        callbacks=[backup, *callbacks])
    return model, history


@pytest.mark.parametrize("save_freq,crash_at,resumed_epochs", [
    ("epoch", (2, 3), [2, 3]),
    (2, (2, 3), [2, 3]),       # backed up after batch 2 of epoch 2: resumes mid-epoch
    (5, (1, 0), [1, 2, 3]),    # the backup after the last batch of epoch 0 counts as epoch 1
])
def test_backup_and_restore_after_a_crash(tmp_path, save_freq, crash_at, resumed_epochs):
    reference, _ = run(tmp_path / "reference")
    assert not (tmp_path / "reference").exists()  # deleted when training ends
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "backup", [Crash(*crash_at)], save_freq=save_freq)
    state = json.loads((tmp_path / "backup" / "training_state.json").read_text())
    assert state["weights"] in os.listdir(tmp_path / "backup")
    resumed, history = run(tmp_path / "backup", save_freq=save_freq)
    assert history.epoch == resumed_epochs
    assert_same_state(reference, resumed)


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    reference, _ = run(tmp_path / "reference")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "backup", [Crash(3, 0)], double_checkpoint=True)
    state = json.loads((tmp_path / "backup" / "training_state.json").read_text())
    assert state["previous"]["epoch"] == 2
    (tmp_path / "backup" / state["weights"]).write_bytes(b"broken")
    resumed, history = run(tmp_path / "backup", double_checkpoint=True)
    assert history.epoch == [2, 3]
    assert_same_state(reference, resumed)


def test_corrupt_state_file_is_a_clear_error(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "backup", [Crash(1, 0)])
    (tmp_path / "backup" / "training_state.json").write_text('{"epoch": "x"}')
    with pytest.raises(ValueError, match="Delete the directory"):
        run(tmp_path / "backup")


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.BackupAndRestore("x", save_freq=0)


TRAINING_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    import numkeras as keras

    backup_dir, marker, output = sys.argv[1:4]
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(0)
    x = rng.random((96, 6), dtype=np.float32)
    y = (x.sum(axis=1) > 3).astype(np.int64)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(2,
                              activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    class Pause(keras.callbacks.Callback):
        # The first time it runs, stop in the middle of epoch 3 and wait to be killed.
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 3 and batch == 4 and not os.path.exists(marker):
                with open(marker, "w") as handle:
                    handle.write(str(os.getpid()))
                time.sleep(300)

    history = model.fit(x, y, epochs=6, batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.BackupAndRestore(backup_dir), Pause()])
    np.savez(output, *[w.numpy() for w in model.weights])
    with open(output + ".json", "w") as handle:
        json.dump(history.epoch, handle)
""")


def start(tmp_path, name):
    script = tmp_path / "train.py"
    script.write_text(TRAINING_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, str(script), str(tmp_path / f"{name}-backup"),
               str(tmp_path / f"{name}-marker"), str(tmp_path / f"{name}.npz")]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process):
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()


def test_sigkill_during_an_epoch_then_the_same_command_resumes(tmp_path):
    (tmp_path / "reference-marker").write_text("no pause")
    finish(start(tmp_path, "reference"))

    process = start(tmp_path, "run")
    deadline = time.monotonic() + 120
    while not (tmp_path / "run-marker").exists():
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline, "the training run never reached epoch 3"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    state = json.loads((tmp_path / "run-backup" / "training_state.json").read_text())
    assert (state["epoch"], state["step"]) == (3, 0)  # epochs 0, 1, 2 were complete

    finish(start(tmp_path, "run"))  # the same command again
    assert json.loads((tmp_path / "run.npz.json").read_text()) == [3, 4, 5]
    resumed, reference = np.load(tmp_path / "run.npz"), np.load(tmp_path / "reference.npz")
    assert len(resumed.files) == len(reference.files) == 4
    for key in reference.files:
        np.testing.assert_array_equal(resumed[key], reference[key])
    assert not (tmp_path / "run-backup").exists()
