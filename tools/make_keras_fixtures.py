"""Write small model files with real Keras, for numkeras's tests (which never import Keras).

Run it where Keras 3 and a backend are installed (not in numkeras's own environment):

    python3 -m venv /tmp/kerasenv && /tmp/kerasenv/bin/pip install keras jax
    KERAS_BACKEND=jax /tmp/kerasenv/bin/python tools/make_keras_fixtures.py

With ``tensorflow`` and ``tf_keras`` installed as well, it also writes legacy tf.keras ``.h5``
files (full models and weights only). Everything lands in ``tests/saving/fixtures/``:

- ``keras3_<backend>_<model>.keras`` and ``.weights.h5``: trained for one epoch, so the
  optimizer state is saved too;
- ``tfkeras_<model>.h5`` (``model.save(..., save_format="h5")``) and
  ``tfkeras_<model>_weights.h5`` (``save_weights``), and ``keras3_<backend>_lecture_legacy.h5``
  (Keras 3 writing ``.h5``);
- ``<prefix>_<model>.npz``: the input ``x`` and Keras's ``predict(x)``, to compare to 1e-5;
- ``manifest.json``: which file holds which model and the versions that wrote it.

The models are tiny (8x8 inputs, a few units) so each file stays far below 1 MB:
``lecture`` (Flatten, Dense relu, Dense softmax: the lecture's model at 8x8), ``core`` (every
core and activation layer numkeras has) and ``image`` (every image layer), each compiled with a
different optimizer so that several slot layouts are covered.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "saving" / "fixtures"
SEED = 20260101
SAMPLES = 64


def data(input_shape, classes=10):
    """A fixed learnable task: inputs in [0, 1), labels from the inputs' sums."""
    rng = np.random.default_rng(SEED)
    x = rng.random((SAMPLES,) + tuple(input_shape), dtype=np.float32)
    sums = x.reshape(SAMPLES, -1).sum(axis=1)
    y = np.digitize(sums, np.quantile(sums, np.linspace(0, 1, classes + 1)[1:-1]))
    return x, y.astype(np.int64)


def lecture_model(keras):
    return keras.Sequential([
        keras.Input((8, 8)),
        keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def core_model(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8)),
        layers.Reshape((4, 16)),
        layers.Flatten(),
        layers.Dense(12),
        layers.ReLU(),
        layers.Dense(12, activation="tanh"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Dense(12),
        layers.ELU(alpha=0.5),
        layers.Dense(12),
        layers.PReLU(alpha_initializer="ones"),
        layers.Dropout(0.25),
        layers.Activation("sigmoid"),
        layers.Dense(10),
        layers.Softmax(),
    ])


def image_model(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.ZeroPadding2D(1),
        layers.Conv2D(4, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.UpSampling2D(),
        layers.SpatialDropout2D(0.2),
        layers.Conv2D(4, 3, padding="same"),
        layers.AveragePooling2D(2),
        layers.GlobalAveragePooling2D(keepdims=True),
        layers.GlobalMaxPooling2D(),
        layers.Dense(10, activation="softmax"),
    ])


MODELS = {
    "lecture": (lecture_model, (8, 8), "adam", "sparse_categorical_crossentropy"),
    "core": (core_model, (8, 8), "rmsprop", "sparse_categorical_crossentropy"),
    "image": (image_model, (8, 8, 1), "sgd_momentum", "sparse_categorical_crossentropy"),
}


def optimizer(keras, name: str):
    if name == "sgd_momentum":
        return keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)
    return name


def train(keras, name: str):
    build, input_shape, opt, loss = MODELS[name]
    keras.utils.set_random_seed(SEED)
    model = build(keras)
    model.compile(optimizer=optimizer(keras, opt), loss=loss, metrics=["accuracy"])
    x, y = data(input_shape)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return model, x[:8]


def write_keras3(out: pathlib.Path, manifest: dict) -> None:
    keras = importlib.import_module("keras")
    backend = keras.backend.backend()
    for name in MODELS:
        model, x = train(keras, name)
        prefix = f"keras3_{backend}_{name}"
        model.save(out / f"{prefix}.keras")
        model.save_weights(out / f"{prefix}.weights.h5")
        np.savez(out / f"{prefix}.npz", x=x, y=model.predict(x, verbose=0))
        manifest[prefix] = {"model": name, "writer": f"keras {keras.__version__}",
                            "backend": backend,
                            "files": [f"{prefix}.keras", f"{prefix}.weights.h5"]}
        if name == "lecture":
            legacy = f"{prefix}_legacy"
            model.save(out / f"{legacy}.h5")  # Keras 3 writing the legacy format
            np.savez(out / f"{legacy}.npz", x=x, y=model.predict(x, verbose=0))
            manifest[legacy] = {"model": name, "writer": f"keras {keras.__version__}",
                                "backend": backend, "files": [f"{legacy}.h5"]}


def write_tf_keras(out: pathlib.Path, manifest: dict) -> None:
    tf_keras = importlib.import_module("tf_keras")
    tf = importlib.import_module("tensorflow")
    for name in ("lecture", "image"):
        build, input_shape, opt, loss = MODELS[name]
        tf_keras.utils.set_random_seed(SEED)
        model = build(_TfKerasAdapter(tf_keras))
        model.compile(optimizer=optimizer(tf_keras, opt), loss=loss, metrics=["accuracy"])
        x, y = data(input_shape)
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        prefix = f"tfkeras_{name}"
        model.save(out / f"{prefix}.h5", save_format="h5")
        model.save_weights(out / f"{prefix}_weights.h5")
        np.savez(out / f"{prefix}.npz", x=x[:8], y=model.predict(x[:8], verbose=0))
        manifest[prefix] = {"model": name, "writer": f"tf_keras {tf_keras.__version__}",
                            "backend": f"tensorflow {tf.__version__}",
                            "files": [f"{prefix}.h5", f"{prefix}_weights.h5"]}


class _TfKerasAdapter:
    """tf_keras under the Keras 3 names the model builders use (``negative_slope``)."""

    def __init__(self, tf_keras):
        self._tf_keras = tf_keras
        self.layers = _TfKerasLayers(tf_keras.layers)

    def __getattr__(self, name):
        return getattr(self._tf_keras, name)


class _TfKerasLayers:
    def __init__(self, layers):
        self._layers = layers

    def LeakyReLU(self, negative_slope=0.3, **kwargs):
        return self._layers.LeakyReLU(alpha=negative_slope, **kwargs)

    def __getattr__(self, name):
        return getattr(self._layers, name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--skip-keras3", action="store_true")
    parser.add_argument("--skip-tf-keras", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    wrote = False
    if not args.skip_keras3:
        try:
            importlib.import_module("keras")
        except ImportError:
            print("keras is not installed: skipping Keras 3 fixtures", file=sys.stderr)
        else:
            write_keras3(args.out, manifest)
            wrote = True
    if not args.skip_tf_keras:
        try:
            importlib.import_module("tf_keras")
        except ImportError:
            print("tf_keras is not installed: skipping legacy .h5 fixtures", file=sys.stderr)
        else:
            write_tf_keras(args.out, manifest)
            wrote = True
    manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    for path in sorted(args.out.iterdir()):
        print(f"{os.path.getsize(path):>9}  {path.name}")
    return 0 if wrote else 1


if __name__ == "__main__":
    sys.exit(main())
