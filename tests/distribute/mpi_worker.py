"""The program that tests/distribute/test_mpi.py runs with ``mpiexec -n 2`` (and alone, for the
one-process reference). Usage: ``python mpi_worker.py SCENARIO OUT_DIR``.

Scenarios:
  train   several small fits (SGD, Adam, BatchNormalization synchronized or not, batch sizes
          that leave uneven shards or a process without samples), recording every process's
          weights after every epoch, its History, evaluate and predict, and which files each
          process wrote; rank 0 pickles it all to OUT_DIR/result-<processes>.pkl.
  raise   process 1 raises during the second epoch (the run must abort, not hang).
  die     process 1 is killed (SIGKILL) during the second epoch.
  exit    process 1 calls sys.exit(1) during the second epoch.
  backup  a fit with BackupAndRestore in OUT_DIR/backup; with a third argument ``kill`` rank 0
          raises after the second epoch's backup; the final weights go to OUT_DIR/final.pkl.
"""

import builtins
import os
import pickle
import sys

import numpy as np

import numkeras as keras

WRITES = []  # paths this process opened for writing or renamed into place


def record_writes():
    real_open, real_replace = builtins.open, os.replace

    def open_(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+") and not str(file).endswith(".pkl"):
            WRITES.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def replace(source, target, *args, **kwargs):
        WRITES.append(str(target))
        return real_replace(source, target, *args, **kwargs)

    builtins.open, os.replace = open_, replace


def data(n, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, :classes] + 0.3 * rng.normal(size=(n, classes))).argmax(axis=1)
    return x, y


def model_for(optimizer, batch_norm=None):
    keras.config.set_random_seed(1)
    layers = [keras.Input((6,)), keras.layers.Dense(8, activation="tanh")]
    if batch_norm is not None:
        layers.append(keras.layers.BatchNormalization(synchronized=batch_norm, momentum=0.9))
    layers.append(keras.layers.Dense(3, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class EpochWeights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])


def fit_case(optimizer, batch_norm, n, batch_size, epochs=3, callbacks=()):
    x, y = data(n)
    model = model_for(optimizer, batch_norm)
    recorder = EpochWeights()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                        validation_data=data(11, seed=5), callbacks=[recorder, *callbacks])
    return {"weights": recorder.weights, "history": history.history,
            "evaluate": model.evaluate(x, y, batch_size=7, verbose=0),
            "predict": model.predict(x, batch_size=5, verbose=0)}


CASES = {  # name: (optimizer, BatchNormalization synchronized?, samples, global batch)
    "sgd": (lambda: keras.optimizers.SGD(0.1), None, 64, 16),
    "adam": (lambda: keras.optimizers.Adam(0.01), None, 64, 16),
    "sgd_uneven": (lambda: keras.optimizers.SGD(0.1, momentum=0.9), None, 45, 9),
    "adam_stand_in": (lambda: keras.optimizers.Adam(0.01), None, 33, 16),  # last batch: 1
    "bn_sync_sgd": (lambda: keras.optimizers.SGD(0.1), True, 64, 16),
    "bn_sync_adam": (lambda: keras.optimizers.Adam(0.01), True, 45, 9),
    "bn_sync_stand_in": (lambda: keras.optimizers.SGD(0.1), True, 33, 16),
    "bn_local": (lambda: keras.optimizers.SGD(0.1), False, 64, 16),
}


def train(comm, out_dir):
    results = {name: fit_case(make(), bn, n, batch) for name, (make, bn, n, batch)
               in CASES.items()}
    rank = comm.Get_rank() if comm is not None else 0

    class StopOnOneProcess(keras.callbacks.Callback):  # as TerminateOnNaN would, on rank 1 only
        def on_train_batch_end(self, batch, logs=None):
            if rank == 1 and self.params.get("steps_done") == 3 and len(stopped) == 1:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            stopped.append(epoch)

    stopped = []
    results["stop"] = fit_case(keras.optimizers.SGD(0.1), None, 64, 16, epochs=3,
                               callbacks=[StopOnOneProcess()])
    files = os.path.join(out_dir, "files")
    os.makedirs(files, exist_ok=True)
    WRITES.clear()
    checkpoint = keras.callbacks.ModelCheckpoint(os.path.join(files, "best.keras"),
                                                 monitor="loss", save_best_only=True)
    logger = keras.callbacks.CSVLogger(os.path.join(files, "log.csv"))
    results["files"] = fit_case(keras.optimizers.SGD(0.1), None, 32, 8, epochs=2,
                                callbacks=[checkpoint, logger])
    model = model_for("sgd")
    model.save(os.path.join(files, "model.keras"))
    model.save_weights(os.path.join(files, "model.weights.h5"))
    results["writes"] = sorted(set(WRITES))
    gathered = comm.gather(results, root=0) if comm is not None else [results]
    if gathered is not None:
        with open(os.path.join(out_dir, f"result-{len(gathered)}.pkl"), "wb") as handle:
            pickle.dump(gathered, handle)


def fail(rank, die=None):
    class Fail(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1 and rank == 1:
                if die == "die":  # no Python clean-up at all, as the OOM killer would do
                    os.kill(os.getpid(), 9)
                if die == "exit":  # an error turned into an exit code, as the CLI does
                    sys.exit(1)
                raise RuntimeError("deliberate failure on process 1")

    x, y = data(64)
    model_for("sgd").fit(x, y, batch_size=16, epochs=50, verbose=0, callbacks=[Fail()])


def backup(rank, out_dir, kill):
    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if kill and epoch == 1 and rank == 0:
                raise RuntimeError("killed after the second epoch's backup")

    x, y = data(45)
    model = model_for(keras.optimizers.Adam(0.01), True)
    restore = keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup"))
    history = model.fit(x, y, batch_size=9, epochs=4, verbose=0, callbacks=[restore, Kill()])
    if rank == 0:
        with open(os.path.join(out_dir, "final.pkl"), "wb") as handle:
            pickle.dump({"weights": model.get_weights(), "epochs": history.epoch}, handle)


def main():
    scenario, out_dir = sys.argv[1], sys.argv[2]
    record_writes()
    distribution = keras.distribution.DataParallel()
    keras.distribution.set_distribution(distribution)
    comm = distribution._world.comm
    if scenario == "train":
        train(comm, out_dir)
    elif scenario in ("raise", "die", "exit"):
        fail(distribution.rank, die=scenario)
    elif scenario == "backup":
        backup(distribution.rank, out_dir, kill=sys.argv[3:] == ["kill"])


if __name__ == "__main__":
    main()
