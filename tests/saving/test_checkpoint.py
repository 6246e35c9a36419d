"""ModelCheckpoint writes whole .keras models, .h5 models or weights, atomically."""

import os

import numpy as np
import pytest
from tests.saving.helpers import small_data, small_model

import numkeras as keras


def fit(model, callbacks, epochs=3, **kwargs):
    x, y = small_data(40)
    return model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, validation_split=0.2,
                     callbacks=callbacks, **kwargs)


def test_full_model_every_epoch(tmp_path):
    model = small_model()
    fit(model, [keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}.keras"),
                                                monitor="loss")])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.keras", "ckpt-02.keras", "ckpt-03.keras"]
    last = keras.models.load_model(tmp_path / "ckpt-03.keras")
    x, _ = small_data(5, seed=9)
    np.testing.assert_array_equal(last.predict(x, verbose=0), model.predict(x, verbose=0))
    assert last.optimizer.iterations == model.optimizer.iterations == 12


def test_weights_only(tmp_path):
    model = small_model()
    path = tmp_path / "w-{epoch}.weights.h5"
    fit(model, [keras.callbacks.ModelCheckpoint(str(path), save_weights_only=True)], epochs=2)
    other = small_model()
    other.load_weights(tmp_path / "w-2.weights.h5")
    for a, b in zip(model.weights, other.weights):
        np.testing.assert_array_equal(a.data, b.data)


def test_legacy_h5_full_model(tmp_path):
    model = small_model()
    fit(model, [keras.callbacks.ModelCheckpoint(str(tmp_path / "best.h5"), monitor="loss")],
        epochs=1)
    restored = keras.models.load_model(tmp_path / "best.h5")
    x, _ = small_data(5, seed=9)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_best_only_saves_only_improvements(tmp_path, monkeypatch):
    model = small_model()
    saved = []
    original = model.save

    def spy(path, *args, **kwargs):
        saved.append(epoch_of[0])
        original(path, *args, **kwargs)

    epoch_of = [None]
    monkeypatch.setattr(model, "save", spy, raising=False)
    losses = iter([1.0, 0.5, 0.7, 0.4, 0.9])

    class FakeLoss(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epoch_of[0] = epoch
            logs["val_loss"] = next(losses)

    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"),
                                                 save_best_only=True)
    fit(model, [FakeLoss(), checkpoint], epochs=5)
    assert saved == [0, 1, 3]
    assert checkpoint.best == 0.4
    assert os.listdir(tmp_path) == ["best.keras"]


def test_save_freq_in_batches(tmp_path):
    model = small_model()
    path = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    fit(model, [keras.callbacks.ModelCheckpoint(path, save_weights_only=True, save_freq=3)],
        epochs=2)  # 4 batches per epoch: saves after batches 3, 6 (epoch 2 batch 1)
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.weights.h5", "e2-b1.weights.h5"]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    from numkeras.saving import weights as weights_module

    model = small_model()
    path = tmp_path / "latest.weights.h5"
    checkpoint = keras.callbacks.ModelCheckpoint(str(path), save_weights_only=True)
    fit(model, [checkpoint], epochs=1)
    good = path.read_bytes()
    original = weights_module.write_weights

    def fail_half_way(model, handle):
        original(model, handle)
        handle.flush()
        raise OSError("disk full")

    monkeypatch.setattr(weights_module, "write_weights", fail_half_way)
    with pytest.raises(OSError, match="disk full"):
        fit(model, [checkpoint], epochs=1)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["latest.weights.h5"]
