"""TensorBoard callback: the event files, read back with TensorBoard's own reader, hold Keras's
tags and History's values."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numkeras as keras

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)
from tensorboard.util import tensor_util  # noqa: E402


def read(directory) -> EventAccumulator:
    accumulator = EventAccumulator(str(directory), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def series(accumulator, tag) -> tuple[list[int], list]:
    events = accumulator.Tensors(tag)
    return ([e.step for e in events], [tensor_util.make_ndarray(e.tensor_proto)
                                       for e in events])


def classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    return model, x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)


def test_epoch_scalars_equal_history_in_keras_layout(tmp_path):
    model, x, y = classifier()
    board = keras.callbacks.TensorBoard(log_dir=tmp_path)
    history = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.25,
                        callbacks=[board], verbose=0)
    train, validation = read(tmp_path / "train"), read(tmp_path / "validation")
    for name in ("loss", "accuracy"):
        steps, values = series(train, f"epoch_{name}")
        assert steps == [0, 1, 2]
        np.testing.assert_array_equal(values, np.float32(history.history[name]))
        steps, values = series(validation, f"epoch_{name}")
        assert steps == [0, 1, 2]
        np.testing.assert_array_equal(values, np.float32(history.history[f"val_{name}"]))
    _, rates = series(train, "epoch_learning_rate")
    np.testing.assert_allclose(rates, [0.05] * 3, rtol=1e-6)
    assert "batch_loss" not in train.Tags()["tensors"]  # update_freq="epoch"
    assert "epoch_val_loss" not in validation.Tags()["tensors"]


def test_model_config_is_written_as_the_keras_graph(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path)])
    train = read(tmp_path / "train")
    event = train.Tensors("keras")[0]
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"
    config = json.loads(tensor_util.make_ndarray(event.tensor_proto).item())
    assert config["class_name"] == "Sequential"
    assert [layer["class_name"] for layer in config["config"]["layers"]][-2:] == \
        ["Dense", "Dense"]
    # TensorBoard's graph plugin turns it into the conceptual graph: the layers, chained.
    from tensorboard.plugins.graph import keras_util

    nodes = keras_util.keras_model_to_graph_def(config).node
    names = [node.name.split("/")[-1] for node in nodes]
    assert names[1:] == [layer.name for layer in model.layers]
    assert [list(node.input) for node in nodes[1:]] == [[n.name] for n in nodes[:-1]]


def test_batch_scalars_every_update_freq_batches(tmp_path):
    model, x, y = classifier()
    logged = []
    recorder = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: logged.append(logs["loss"]))
    model.fit(x, y, epochs=2, batch_size=10, verbose=0,
              callbacks=[recorder, keras.callbacks.TensorBoard(tmp_path, update_freq=3,
                                                               write_graph=False)])
    steps, values = series(read(tmp_path / "train"), "batch_loss")
    assert steps == [3, 6]  # 8 steps in all, counted from 1 across epochs
    np.testing.assert_array_equal(values, np.float32([logged[2], logged[5]]))


def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=3, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, histogram_freq=2,
                                                     write_images=True)])
    train = read(tmp_path / "train")
    kernel = model.layers[0].kernel
    steps, values = series(train, f"{kernel.path}/histogram")
    assert steps == [0, 2]
    buckets = values[-1]  # (bucket count, 3): left edge, right edge, count
    assert buckets[:, 2].sum() == kernel.data.size
    assert buckets[0, 0] == pytest.approx(kernel.data.min(), abs=1e-6)
    assert buckets[-1, 1] == pytest.approx(kernel.data.max(), abs=1e-6)
    image = train.Tensors(f"{kernel.path}/image")[0]
    width, height, png = tensor_util.make_ndarray(image.tensor_proto)[:3]
    assert (int(width), int(height)) == (8, 6)  # the (6, 8) kernel: 6 rows of 8
    assert png.startswith(b"\x89PNG")


def test_evaluate_writes_evaluation_vs_iterations(tmp_path):
    model, x, y = classifier()
    board = keras.callbacks.TensorBoard(tmp_path, write_graph=False)
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0, callbacks=[board])
    steps, values = series(read(tmp_path / "validation"), "evaluation_loss_vs_iterations")
    assert steps == [4] and values[0] == np.float32(loss)


def test_steps_per_second(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=2, batch_size=10, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, update_freq="batch",
                                                     write_steps_per_second=True)])
    train = read(tmp_path / "train")
    steps, rates = series(train, "epoch_steps_per_second")
    assert steps == [0, 1] and all(rate > 0 for rate in rates)
    steps, rates = series(train, "batch_steps_per_second")
    assert steps == list(range(1, 9)) and all(rate > 0 for rate in rates)
    assert series(train, "batch_loss")[0] == list(range(1, 9))


def test_embeddings_freq_saves_weights_as_keras_3(tmp_path):
    model, x, y = classifier()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(tmp_path, embeddings_freq=2)])
    saved = sorted(p.name for p in (tmp_path / "train").glob("*.h5"))
    assert saved == ["keras_embedding.ckpt-0.weights.h5"]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(tmp_path, update_freq=0)
    with pytest.raises(ValueError, match="histogram_freq"):
        keras.callbacks.TensorBoard(tmp_path, histogram_freq=-1)
    with pytest.raises(ValueError, match="profile_batch"):
        keras.callbacks.TensorBoard(tmp_path, profile_batch=(2, 4))


def test_missing_tensorboard_says_what_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("tensorboard"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ImportError, match=r"pip install tensorboard"):
        keras.callbacks.TensorBoard(tmp_path)
