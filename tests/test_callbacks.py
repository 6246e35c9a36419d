"""Callbacks: history, early stopping, learning-rate changes, CSV logs, lambdas."""

import csv

import numpy as np
import pytest

import numkeras as keras
from tests.helpers import lecture_model, synthetic_images


def regression_model(learning_rate=0.01):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def regression_data(n=64):
    x = np.random.default_rng(0).standard_normal((n, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


class LossScript(keras.callbacks.Callback):
    """Overwrites the epoch's val_loss with scripted values, to test monitors."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


def test_early_stopping_stops_after_patience():
    x, y = regression_data()
    stop = keras.callbacks.EarlyStopping(patience=2)
    history = regression_model().fit(x, y, epochs=10, verbose=0,
                                     callbacks=[LossScript([5, 4, 4.5, 4.6, 1, 1, 1, 1, 1, 1]),
                                                stop])
    assert len(history.history["loss"]) == 4 and stop.stopped_epoch == 3


def test_restore_best_weights_also_when_training_runs_to_the_end():
    x, y = regression_data()
    model = regression_model()
    snapshots = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[LossScript([3, 1, 2, 2.5]), record, stop])
    assert stop.stopped_epoch == 0  # ran to the last epoch
    for restored, best in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(restored, best)


def test_monitor_mode_auto_maximises_accuracy():
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy")
    assert stop.mode == "max"
    with pytest.raises(ValueError, match="mode"):
        keras.callbacks.EarlyStopping(mode="up")


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    x, y = regression_data()
    model = regression_model()
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert list(history.history) == ["loss", "learning_rate"]


def test_reduce_lr_on_plateau():
    x, y = regression_data()
    model = regression_model(learning_rate=0.01)
    reduce = keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.002)
    history = model.fit(x, y, epochs=5, verbose=0,
                        callbacks=[LossScript([1, 1, 1, 1, 1]), reduce])
    # As in Keras, each epoch logs the rate it trained with; the cut applies from the next one.
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005, 0.0025, 0.002])
    with pytest.raises(ValueError, match="factor"):
        keras.callbacks.ReduceLROnPlateau(factor=2)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = synthetic_images(40)
    model = lecture_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(path)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [row[0] for row in rows[1:]] == ["0", "1"]
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25,
              callbacks=[keras.callbacks.CSVLogger(path, append=True)])
    assert len(list(csv.reader(path.open()))) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]  # no temporary files left


def test_lambda_callback_and_batch_hooks():
    x, y = regression_data(64)
    seen = {"batches": 0, "epochs": []}

    def on_batch_end(batch, logs):
        seen["batches"] += 1

    callback = keras.callbacks.LambdaCallback(
        on_batch_end=on_batch_end,
        on_epoch_end=lambda epoch, logs: seen["epochs"].append(round(logs["loss"], 6)))
    regression_model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])
    assert seen["batches"] == 8 and len(seen["epochs"]) == 2
    with pytest.raises(TypeError, match="unknown hook"):
        keras.callbacks.LambdaCallback(on_epoch_middle=print)


def test_callbacks_must_be_callback_instances():
    x, y = regression_data(8)
    with pytest.raises(TypeError, match="Callback instances"):
        regression_model().fit(x, y, verbose=0, callbacks=[print])


def test_stop_training_from_a_batch_hook():
    class StopAtBatchTwo(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    x, y = regression_data(64)
    history = regression_model().fit(x, y, epochs=3, batch_size=8, verbose=0,
                                     callbacks=[StopAtBatchTwo()])
    assert len(history.history["loss"]) == 1 and history.params["steps_done"] == 3


def test_csv_logger_adds_validation_columns_that_start_later(tmp_path):
    x, y = regression_data()
    path = tmp_path / "log.csv"
    regression_model().fit(x, y, epochs=2, verbose=0, validation_split=0.25, validation_freq=2,
                           callbacks=[keras.callbacks.CSVLogger(path)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert rows[1][2] == "NA" and rows[2][2] != "NA"


def test_model_checkpoint_names_a_missing_log_entry(tmp_path):
    x, y = regression_data(8)
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "m-{val_loss:.2f}.weights.h5"),
                                                 save_weights_only=True)
    with pytest.raises(ValueError, match=r"names 'val_loss', which is not in the logs"):
        regression_model().fit(x, y, verbose=0, callbacks=[checkpoint])
