"""``keras.callbacks.TensorBoard``: training logs as TensorBoard event files.

The layout is Keras 3's: ``log_dir/train`` and ``log_dir/validation``, one event file each;
epoch scalars ``epoch_loss``, ``epoch_accuracy`` ... (validation values without their
``val_`` prefix, in the validation run) and ``epoch_learning_rate``; ``batch_<name>`` every
``update_freq`` batches; weight histograms ``<layer>/<weight>/histogram`` every
``histogram_freq`` epochs; ``evaluation_<name>_vs_iterations`` after ``model.evaluate(...,
callbacks=[tensorboard])``; and the model's JSON config under the tag ``keras`` (TensorBoard's
"graph_keras_model" plugin, Keras's conceptual graph). The files are written with
TensorBoard's own writer (``pip install tensorboard``, or ``numkeras[tensorboard]``);
TensorFlow is not needed. Start the viewer with ``tensorboard --logdir logs``.

>>> import numpy as np
>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> board = keras.callbacks.TensorBoard(log_dir="logs", histogram_freq=1)  # doctest: +SKIP
>>> model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, callbacks=[board])  # doctest: +SKIP

Not available without TensorFlow: the op-level graph of ``train_function`` (numkeras has no
traced function; the conceptual ``keras`` graph is written) and the profiler
(``profile_batch`` must be 0).
"""

from __future__ import annotations

import os
import time

import numpy as np

from numkeras.callbacks import Callback

_INSTALL = "pip install tensorboard (or pip install 'numkeras[tensorboard]')"


def _summary_api():
    """TensorBoard's TensorFlow-free writer and summary protos, imported on first use."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.histogram.summary_v2 import histogram_pb
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as error:
        raise ImportError(f"The TensorBoard callback writes its event files with the "
                          f"`tensorboard` package, which is not installed: {_INSTALL}.") \
            from error
    return {"Event": event_pb2.Event, "Summary": summary_pb2.Summary,
            "SummaryMetadata": summary_pb2.SummaryMetadata, "histogram_pb": histogram_pb,
            "scalar_pb": scalar_pb, "EventFileWriter": EventFileWriter,
            "make_tensor_proto": tensor_util.make_tensor_proto}


class _Run:
    """One event file (the ``train`` or ``validation`` run), opened on first write."""

    def __init__(self, api: dict, directory: str):
        self.api, self.directory, self._writer = api, directory, None

    def _open(self):
        if self._writer is None:
            # ".v2" as TF 2 names its files; TensorBoard reads any events.out.tfevents.*.
            self._writer = self.api["EventFileWriter"](self.directory, filename_suffix=".v2")
        return self._writer

    def write(self, summary, step: int) -> None:
        event = self.api["Event"](wall_time=time.time(), step=int(step), summary=summary)
        self._open().add_event(event)

    def scalar(self, tag: str, value, step: int) -> None:
        self.write(self.api["scalar_pb"](tag, float(value)), step)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class TensorBoard(Callback):
    """Write TensorBoard logs: epoch (and optionally batch) metrics, the learning rate, weight
    histograms and the model's graph, in Keras 3's layout under ``log_dir``.

    Args:
        log_dir: directory of the logs; ``train/`` and ``validation/`` go inside.
        histogram_freq: write weight histograms every this many epochs (0: never).
        write_graph: write the model's config (the ``keras`` tag, TensorBoard's conceptual
            graph) when training starts.
        write_images: also write each weight as an image (needs Pillow).
        write_steps_per_second: log ``epoch_steps_per_second`` (and
            ``batch_steps_per_second`` with a batch ``update_freq``).
        update_freq: ``"epoch"``, ``"batch"`` (= 1) or N: write ``batch_<metric>`` every N
            training batches (steps count from 1 across epochs).
        profile_batch: must be 0; profiling needs TensorFlow or JAX.
        embeddings_freq: save the weights to ``train/keras_embedding.ckpt-<epoch>.weights.h5``
            every this many epochs, as Keras 3 does.
        embeddings_metadata: accepted for Keras compatibility; unused (as in Keras 3).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _non_negative_int("histogram_freq", histogram_freq)
        self.embeddings_freq = _non_negative_int("embeddings_freq", embeddings_freq)
        self.write_graph, self.write_images = bool(write_graph), bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _update_freq(update_freq)
        self.embeddings_metadata = embeddings_metadata
        if profile_batch not in (0, None, (0, 0), "0", "0,0"):
            raise ValueError(f"Profiling is not available in numkeras (Keras 3 profiles only "
                             f"with the TensorFlow and JAX backends). Received: "
                             f"profile_batch={profile_batch!r} (must be 0).")
        self._api = _summary_api()  # fail at construction, not mid-training, if missing
        self._runs: dict[str, _Run] = {}
        self._global_train_batch = 0
        self._batch_start = self._epoch_start = 0.0
        self._epoch_start_iterations = 0

    # ----- runs -----
    def _run(self, name: str) -> _Run:
        if name not in self._runs:
            self._runs[name] = _Run(self._api, os.path.join(self.log_dir, name))
        return self._runs[name]

    def _close(self) -> None:
        for run in self._runs.values():
            run.close()
        self._runs = {}

    # ----- hooks -----
    def set_model(self, model) -> None:
        super().set_model(model)
        self._close()
        if self.write_graph and type(model).__name__ in ("Functional", "Sequential"):
            self._write_model_config()

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = time.time()
            self._epoch_start_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        train = self._run("train")
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start, 1e-9)
            train.scalar("batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in (logs or {}).items():
            if _is_scalar(value):
                train.scalar(f"batch_{name}", value, step)

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            path = os.path.join(self.log_dir, "train",
                                f"keras_embedding.ckpt-{epoch}.weights.h5")
            self.model.save_weights(path)
        for run in self._runs.values():
            run.flush()  # a TensorBoard watching the directory sees each epoch at once

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        validation = self._run("validation")
        for name, value in logs.items():
            if _is_scalar(value):
                validation.scalar(f"evaluation_{name}_vs_iterations", value,
                                  optimizer.iterations)
        validation.flush()

    # ----- what gets written -----
    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        learning_rate = self._learning_rate()
        if learning_rate is not None:
            train_logs["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start, 1e-9)
            train_logs["steps_per_second"] = \
                (self._iterations() - self._epoch_start_iterations) / elapsed
        for run_name, values in (("train", train_logs), ("validation", val_logs)):
            for name, value in values.items():
                if _is_scalar(value):
                    self._run(run_name).scalar(f"epoch_{name}", value, epoch)

    def _learning_rate(self):
        optimizer = getattr(self.model, "optimizer", None)
        rate = getattr(optimizer, "learning_rate", None)
        return float(rate) if _is_scalar(rate) else None

    def _iterations(self) -> int:
        return int(getattr(getattr(self.model, "optimizer", None), "iterations", 0) or 0)

    def _log_weights(self, epoch: int) -> None:
        train = self._run("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = np.asarray(weight.data, dtype=np.float64)
                train.write(self._api["histogram_pb"](f"{name}/histogram", values), epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        train.write(self._image_summary(f"{name}/image", image), epoch)

    def _write_model_config(self) -> None:
        """The model's JSON under the tag ``keras``, as Keras's ``keras_model_summary``."""
        try:
            config = self.model.to_json()
        except Exception as error:  # noqa: BLE001 - as Keras: a warning, training goes on
            import warnings

            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {error}")
            return
        metadata = self._api["SummaryMetadata"]()
        metadata.plugin_data.plugin_name = "graph_keras_model"
        metadata.plugin_data.content = b"1"
        value = self._api["Summary"].Value(
            tag="keras", metadata=metadata,
            tensor=self._api["make_tensor_proto"](np.array(config.encode("utf-8"),
                                                           dtype=object)))
        self._run("train").write(self._api["Summary"](value=[value]), 0)

    def _image_summary(self, tag: str, image: np.ndarray):
        """An ``images``-plugin summary (TF 2's layout: width, height, PNG) of ``image``
        (k, height, width) in [0, 1]."""
        from tensorboard.plugins.image import metadata as image_metadata

        pngs = [_png(plane) for plane in image]
        height, width = image.shape[1:3]
        strings = np.array([str(width).encode(), str(height).encode()] + pngs, dtype=object)
        metadata = image_metadata.create_summary_metadata(
            display_name=tag, description="", converted_to_tensor=True)
        value = self._api["Summary"].Value(tag=tag, metadata=metadata,
                                           tensor=self._api["make_tensor_proto"](strings))
        return self._api["Summary"](value=[value])


def _non_negative_int(argument: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"TensorBoard: `{argument}` must be an int >= 0 (0 turns it off); "
                         f"received {argument}={value!r}.")
    return int(value)


def _update_freq(value):
    if value == "batch":
        return 1
    if value == "epoch":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"TensorBoard: `update_freq` must be 'epoch', 'batch' or a positive "
                         f"number of batches; received update_freq={value!r}.")
    return int(value)


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value,
                                                                                      bool)


def _weight_image(values: np.ndarray):
    """Keras's weight-as-image shapes: a bias is a 1-pixel-high strip, a kernel a matrix
    (wider than tall), a 3-D kernel one image per output channel; others are skipped. Values
    are scaled to [0, 1] by their range (a constant weight is mid-grey)."""
    w = np.squeeze(values)
    if w.ndim == 1:
        w = w[np.newaxis, np.newaxis, :]
    elif w.ndim == 2:
        w = (w.T if w.shape[0] > w.shape[1] else w)[np.newaxis]
    elif w.ndim == 3:
        w = np.transpose(w, (2, 0, 1))
    else:
        return None
    low, high = float(w.min()), float(w.max())
    return np.full(w.shape, 0.5) if high == low else (w - low) / (high - low)


def _png(plane: np.ndarray) -> bytes:
    import io

    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("TensorBoard(write_images=True) encodes PNGs with Pillow: pip "
                          "install pillow (or numkeras[image]).") from error
    buffer = io.BytesIO()
    Image.fromarray(np.round(plane * 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()
