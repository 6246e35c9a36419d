"""Callbacks: history, early stopping, learning-rate changes, CSV logs, lambdas."""

import csv
import io

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


# ----- progress output (keras-compat.md 2.1; tf.keras 2.7+ for verbose=2) -----


class FakeClock:
    """Stands in for the ``time`` module in progbar: each reading advances by ``tick`` s."""

    def __init__(self, tick):
        self.now, self.tick = 0.0, tick

    def perf_counter(self):
        self.now += self.tick
        return self.now - self.tick


def drive(logger, mode, steps, logs, epochs=1):
    """Calls the logger's hooks in the order fit, evaluate or predict calls them."""
    keras.callbacks.CallbackList([logger], params={"verbose": logger.verbose, "epochs": epochs,
                                                   "steps": steps})
    begin, batch_end, end = {"test": ("on_test_begin", "on_test_batch_end", "on_test_end"),
                             "predict": ("on_predict_begin", "on_predict_batch_end",
                                         "on_predict_end")}.get(mode, (None, None, None))
    for epoch in range(epochs):
        if mode == "train":
            logger.on_epoch_begin(epoch)
        else:
            getattr(logger, begin)()
        for step in range(steps):
            (logger.on_train_batch_end if mode == "train" else getattr(logger, batch_end))(
                step, logs)
        if mode == "train":
            logger.on_epoch_end(epoch, dict(logs, val_loss=0.25))
        else:
            getattr(logger, end)(logs if mode == "test" else None)


@pytest.mark.parametrize("mode,expected", [
    ("train", "Epoch 1/2\n4/4 - 0s - loss: 0.3500 - accuracy: 0.8750 - val_loss: 0.2500 - "
              "200ms/epoch - 50ms/step\nEpoch 2/2\n4/4 - 0s - loss: 0.3500 - accuracy: 0.8750 - "
              "val_loss: 0.2500 - 200ms/epoch - 50ms/step\n"),
    ("test", "4/4 - 0s - loss: 0.3500 - accuracy: 0.8750 - 200ms/epoch - 50ms/step\n"),
    ("predict", "4/4 - 0s - 200ms/epoch - 50ms/step\n"),
])
def test_progbar_logger_verbose_2_one_line_per_bar(monkeypatch, mode, expected):
    # verbose=2 reads the clock only when the bar starts and ends: 0.2 s apart
    monkeypatch.setattr(keras.utils.progbar, "time", FakeClock(0.2))
    out = io.StringIO()
    logger = keras.callbacks.ProgbarLogger(2, mode=mode, stream=out)
    drive(logger, mode, 4, {"loss": 0.35, "accuracy": 0.875}, epochs=2 if mode == "train" else 1)
    assert out.getvalue() == expected


@pytest.mark.parametrize("mode,expected", [
    ("test", "4/4 [==============================] - 1s 267ms/step - loss: 0.3500 - "
             "accuracy: 0.8750\n"),
    ("predict", "4/4 [==============================] - 1s 267ms/step\n"),
])
def test_progbar_logger_verbose_1_in_a_log_prints_the_final_line(monkeypatch, mode, expected):
    # readings: start 0, steps 1-4 at 0.2..0.8, the end at 1.0; per step (1.0 - 0.2) / 3, the
    # first step left out as tf.keras does
    monkeypatch.setattr(keras.utils.progbar, "time", FakeClock(0.2))
    out = io.StringIO()  # not a terminal
    drive(keras.callbacks.ProgbarLogger(1, mode=mode, stream=out), mode, 4,
          {"loss": 0.35, "accuracy": 0.875})
    assert out.getvalue() == expected


def test_progbar_logger_verbose_1_on_a_terminal_redraws(monkeypatch):
    monkeypatch.setattr(keras.utils.progbar, "time", FakeClock(0.2))
    out = io.StringIO()
    out.isatty = lambda: True
    drive(keras.callbacks.ProgbarLogger(1, mode="test", stream=out), "test", 2, {"loss": 0.35})
    frames = ["1/2 [==============>...............] - ETA: 0s - loss: 0.3500",
              # the last batch draws before the end, as in tf.keras
              "2/2 [==============================] - ETA: 0s - loss: 0.3500",
              "2/2 [==============================] - 1s 400ms/step - loss: 0.3500"]
    # each frame erases the previous one ("\b" * its width, "\r"); the first starts with "\r"
    assert out.getvalue() == ("\r" + frames[0] + "\b" * len(frames[0]) + "\r" + frames[1]
                              + "\b" * len(frames[1]) + "\r" + frames[2] + "\n")


def test_progbar_logger_test_mode_ignores_fit_hooks_and_train_mode_ignores_validation():
    out = io.StringIO()
    logger = keras.callbacks.ProgbarLogger(2, mode="train", stream=out)
    keras.callbacks.CallbackList([logger], params={"verbose": 2, "epochs": 1, "steps": 1})
    logger.on_test_begin()
    logger.on_test_batch_end(0, {"loss": 1.0})
    logger.on_test_end({"loss": 1.0})  # validation inside fit stays silent
    assert out.getvalue() == ""
    with pytest.raises(ValueError, match="`mode` must be 'train', 'test' or 'predict'"):
        keras.callbacks.ProgbarLogger(2, mode="eval")


def fixed_regression_model():
    """Dense(1) with zero weights on y = 1: loss (mse) and mae are exactly 1."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model, np.ones((64, 3), "float32"), np.ones((64, 1), "float32")


@pytest.mark.parametrize("verbose", [1, "auto"])
def test_evaluate_and_predict_auto_in_a_log(monkeypatch, capsys, verbose):
    # tf.keras: "auto" is 1 unless interactive logging is switched off; numkeras prints only a
    # bar's final line when stdout is not a terminal
    model, x, y = fixed_regression_model()
    monkeypatch.setattr(keras.utils.progbar, "time", FakeClock(0.2))
    model.evaluate(x, y, batch_size=32, verbose=verbose)
    model.predict(x, batch_size=32, verbose=verbose)
    assert capsys.readouterr().out == (
        "2/2 [==============================] - 1s 400ms/step - loss: 1.0000 - mae: 1.0000\n"
        "2/2 [==============================] - 1s 400ms/step\n")


def test_fit_verbose_2(monkeypatch, capsys):
    model, x, y = fixed_regression_model()
    monkeypatch.setattr(keras.utils.progbar, "time", FakeClock(0.2))
    model.optimizer.learning_rate = 0.0  # loss stays exactly 1
    model.fit(x, y, batch_size=32, epochs=2, verbose=2, validation_data=(x, y), shuffle=False)
    line = "2/2 - 0s - loss: 1.0000 - mae: 1.0000 - val_loss: 1.0000 - val_mae: 1.0000 - " \
           "200ms/epoch - 100ms/step\n"
    assert capsys.readouterr().out == "Epoch 1/2\n" + line + "Epoch 2/2\n" + line


def test_evaluate_and_predict_verbose_2(monkeypatch, capsys):
    model, x, y = fixed_regression_model()
    monkeypatch.setattr(keras.utils.progbar, "time", FakeClock(0.2))
    model.evaluate(x, y, batch_size=32, verbose=2)
    model.predict(x, batch_size=32, verbose=2)
    assert capsys.readouterr().out == (
        "2/2 - 0s - loss: 1.0000 - mae: 1.0000 - 200ms/epoch - 100ms/step\n"
        "2/2 - 0s - 200ms/epoch - 100ms/step\n")


def test_verbose_0_prints_nothing(capsys):
    model, x, y = fixed_regression_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_hooks_receive_a_dict_as_logs_never_none():
    """Keras passes {} (or the current logs) to every hook; scripts do logs.get(...)."""
    import numkeras as keras

    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(("train_begin", logs))

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(("epoch_begin", logs))

        def on_train_batch_begin(self, batch, logs=None):
            seen.append(("batch_begin", logs))

        def on_train_end(self, logs=None):
            seen.append(("train_end", logs))

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0, callbacks=[Recorder()])
    assert seen and all(isinstance(logs, dict) for _, logs in seen)
