"""The functional-API guide (keras.io/guides/functional_api, the tf.keras edition that imports
TensorFlow), followed section by section with numkeras in place of TensorFlow (issue 11).

The tests are written in this project's words: the guide's code is not reproduced, but each
test makes the section's calls the way the guide makes them (``keras.Input``, layers called on
tensors, ``keras.Model(inputs, outputs)``, ``summary``, ``plot_model``, compile/fit/evaluate,
``save``/``load_model``, models called as layers, ``layers.average``/``add``/``concatenate``,
several inputs and outputs with losses as lists and dicts, shared layers, feature extraction
from ``layer.output``, custom layers with ``tf.matmul`` and ``get_config``, a custom RNN layer
that loops with ``tf.zeros``/``tf.stack``). Differences from the guide:
- MNIST and CIFAR-10 come from the network in the guide; here they are random arrays of the
  real shapes, fewer of them, and one epoch;
- the guide's feature extraction uses ``tf.keras.applications.VGG19()`` (550 MB of pretrained
  weights; numkeras has no keras.applications): a small convolutional model on the same input;
- ``model.save("path_to_my_model")`` writes a TensorFlow SavedModel in tf.keras 2; Keras 3 and
  numkeras write ``.keras`` files, so the path has that extension.

``test_published_guide_runs`` runs the guide's own file, its imports changed and nothing else,
when ``KERAS_IO_GUIDES`` names the ``guides/`` folder of a keras-io checkout (not in this
repository), with the same random data and the same stand-in for VGG19.
"""

import shutil
import types

import numpy as np
import pytest

import numkeras as keras
import numkeras.compat.tf as tf
from numkeras import layers
from tests.docs.test_subclassing_guide import published_guide


def images(count, shape, seed=0, classes=10, label_shape=None):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (count, *shape), dtype=np.uint8),
            rng.integers(0, classes, label_shape or count).astype(np.uint8))


@pytest.fixture
def graphviz():
    pytest.importorskip("pydot")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")


def test_a_first_model_trains_evaluates_saves_and_plots(tmp_path, graphviz, capsys):
    pixels = keras.Input(shape=(784,))
    assert pixels.shape == (None, 784) and pixels.dtype == "float32"
    hidden = layers.Dense(64, activation="relu")(pixels)
    hidden = layers.Dense(64, activation="relu")(hidden)
    mlp = keras.Model(inputs=pixels, outputs=layers.Dense(10)(hidden), name="mnist_model")
    mlp.summary()
    assert 'Model: "mnist_model"' in capsys.readouterr().out
    for name, shapes in (("plain.png", False), ("shapes.png", True)):
        keras.utils.plot_model(mlp, str(tmp_path / name), show_shapes=shapes)
        assert (tmp_path / name).stat().st_size > 1000
    (x, y), (x_test, y_test) = images(3000, (28, 28)), images(500, (28, 28), seed=1)
    mlp.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    mlp.fit(x.reshape(3000, 784).astype("float32") / 255, y, batch_size=64, epochs=1,
            validation_split=0.2, verbose=0)
    loss, accuracy = mlp.evaluate(x_test.reshape(500, 784).astype("float32") / 255, y_test,
                                  verbose=2)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    mlp.save(tmp_path / "mlp.keras")
    again = keras.models.load_model(tmp_path / "mlp.keras")
    probe = np.random.default_rng(2).random((4, 784), dtype=np.float32)
    np.testing.assert_array_equal(again.predict(probe, verbose=0), mlp.predict(probe, verbose=0))


def conv_encoder(name):
    picture = keras.Input(shape=(28, 28, 1), name=name)
    x = layers.Conv2D(16, 3, activation="relu")(picture)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    return picture, layers.GlobalMaxPooling2D()(x)


def transposed_decoder(code):
    x = layers.Reshape((4, 4, 1))(code)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    return layers.Conv2DTranspose(1, 3, activation="relu")(x)


def test_one_graph_gives_an_encoder_and_an_autoencoder():
    picture, code = conv_encoder("img")
    encoder = keras.Model(picture, code, name="encoder")
    autoencoder = keras.Model(picture, transposed_decoder(code), name="autoencoder")
    assert encoder.output_shape == (None, 16)
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert set(map(id, encoder.weights)) <= set(map(id, autoencoder.weights))


def test_models_called_like_layers_and_an_ensemble():
    picture, code = conv_encoder("original_img")
    encoder = keras.Model(picture, code, name="encoder")
    code_input = keras.Input(shape=(16,), name="encoded_img")
    decoder = keras.Model(code_input, transposed_decoder(code_input), name="decoder")
    outer = keras.Input(shape=(28, 28, 1), name="img")
    autoencoder = keras.Model(outer, decoder(encoder(outer)), name="autoencoder")
    batch = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(autoencoder.predict(batch, verbose=0),
                               decoder.predict(encoder.predict(batch, verbose=0), verbose=0),
                               rtol=1e-5, atol=1e-6)

    def regressor():
        features = keras.Input(shape=(128,))
        return keras.Model(features, layers.Dense(1)(features))

    members = [regressor() for _ in range(3)]
    features = keras.Input(shape=(128,))
    ensemble = keras.Model(features, layers.average([m(features) for m in members]))
    probe = np.random.default_rng(1).random((5, 128), dtype=np.float32)
    mean = np.mean([m.predict(probe, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(probe, verbose=0), mean, rtol=1e-5)


def test_a_ticket_model_with_three_inputs_and_two_outputs(tmp_path, graphviz):
    words, tags, departments = 10000, 12, 4
    title = keras.Input(shape=(None,), name="title")
    body = keras.Input(shape=(None,), name="body")
    tag_flags = keras.Input(shape=(tags,), name="tags")
    merged = layers.concatenate([layers.LSTM(128)(layers.Embedding(words, 64)(title)),
                                 layers.LSTM(32)(layers.Embedding(words, 64)(body)),
                                 tag_flags])
    model = keras.Model(inputs=[title, body, tag_flags],
                        outputs=[layers.Dense(1, name="priority")(merged),
                                 layers.Dense(departments, name="department")(merged)])
    keras.utils.plot_model(model, str(tmp_path / "tickets.png"), show_shapes=True)
    binary = keras.losses.BinaryCrossentropy(from_logits=True)
    categorical = keras.losses.CategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=[binary, categorical],
                  loss_weights=[1.0, 0.2])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss={"priority": binary, "department": categorical},
                  loss_weights={"priority": 1.0, "department": 0.2})
    rng = np.random.default_rng(0)
    history = model.fit(
        {"title": rng.integers(words, size=(64, 10)), "body": rng.integers(words, size=(64, 20)),
         "tags": rng.integers(2, size=(64, tags)).astype("float32")},
        {"priority": rng.random((64, 1)), "department": rng.integers(2, size=(64, departments))},
        epochs=1, batch_size=32, verbose=0)
    assert {"loss", "priority_loss", "department_loss"} <= set(history.history)


def test_a_toy_resnet_with_residual_adds_trains_on_cifar_shaped_data():
    picture = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(picture)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    skip = layers.MaxPooling2D(3)(x)
    for _ in range(2):
        x = layers.Conv2D(64, 3, activation="relu", padding="same")(skip)
        x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
        skip = layers.add([x, skip])
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(64, 3, activation="relu")(skip))
    x = layers.Dropout(0.5)(layers.Dense(256, activation="relu")(x))
    resnet = keras.Model(picture, layers.Dense(10)(x), name="toy_resnet")
    pixels, labels = images(100, (32, 32, 3), label_shape=(100, 1))
    resnet.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                   loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["acc"])
    history = resnet.fit(pixels.astype("float32") / 255.0,
                         keras.utils.to_categorical(labels, 10), batch_size=64, epochs=1,
                         validation_split=0.2, verbose=0)
    assert {"acc", "val_acc"} <= set(history.history)


def small_vgg():
    """Stands in for the pretrained VGG19 (numkeras has no keras.applications)."""
    picture = keras.Input((224, 224, 3))
    x = layers.Conv2D(4, 3, strides=4, activation="relu")(picture)
    x = layers.Flatten()(layers.MaxPooling2D(4)(x))
    return keras.Model(picture, layers.Dense(10, activation="softmax")(x))


def test_shared_layers_and_feature_extraction():
    shared = layers.Embedding(1000, 128)
    first, second = (keras.Input(shape=(None,), dtype="int32") for _ in range(2))
    assert shared(first).shape == shared(second).shape == (None, None, 128)
    assert len(shared._inbound_nodes) == 2
    backbone = small_vgg()
    extractor = keras.Model(inputs=backbone.input,
                            outputs=[layer.output for layer in backbone.layers])
    features = extractor(np.random.default_rng(0).random((1, 224, 224, 3)).astype("float32"))
    assert len(features) == len(backbone.layers)


class MatmulDense(layers.Layer):
    """A Dense written with tf.matmul, serializable through get_config (as in the guide)."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


def test_a_custom_layer_in_a_graph_and_its_config():
    features = keras.Input((4,))
    model = keras.Model(features, MatmulDense(10)(features))
    rebuilt = keras.Model.from_config(model.get_config(),
                                      custom_objects={"MatmulDense": MatmulDense})
    assert rebuilt.layers[1].units == 10 and rebuilt.output_shape == (None, 10)


class LoopingRNN(layers.Layer):
    """A recurrent layer written as a Python loop over time steps, ending in ``head`` (a
    layer or a functional model), as the guide's mix-and-match section does."""

    def __init__(self, units, head):
        super().__init__()
        self.units = units
        self.into_state = layers.Dense(units=units, activation="tanh")
        self.state_to_state = layers.Dense(units=units, activation="tanh")
        self.head = head

    def call(self, inputs):
        state, steps = tf.zeros(shape=(inputs.shape[0], self.units)), []
        for t in range(inputs.shape[1]):
            state = self.into_state(inputs[:, t, :]) + self.state_to_state(state)
            steps.append(state)
        return self.head(tf.stack(steps, axis=1))


def test_functional_models_inside_custom_layers_and_back():
    sequence = keras.Input((None, 32))
    pooled = keras.Model(sequence, layers.Dense(1)(layers.GlobalAveragePooling1D()(sequence)))
    assert LoopingRNN(32, pooled)(tf.zeros((1, 10, 5))).shape == (1, 1)
    fixed_batch = keras.Input(batch_shape=(16, 10, 5))
    model = keras.Model(fixed_batch, LoopingRNN(32, layers.Dense(1))(
        layers.Conv1D(32, 3)(fixed_batch)))
    assert model.output_shape == (16, 8, 1)
    assert LoopingRNN(32, layers.Dense(1))(tf.zeros((1, 10, 5))).shape == (1, 10, 1)


def test_published_guide_runs(monkeypatch, tmp_path, graphviz):
    source = published_guide("functional_api.py")
    source = source.replace('model.save("path_to_my_model")', 'model.save("my_model.keras")')
    source = source.replace('load_model("path_to_my_model")', 'load_model("my_model.keras")')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda *a, **k: (
        images(60000, (28, 28)), images(10000, (28, 28), seed=1)))
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda *a, **k: (
        images(1000, (32, 32, 3), label_shape=(1000, 1)),
        images(100, (32, 32, 3), seed=1, label_shape=(100, 1))))
    monkeypatch.setattr(keras, "applications", types.SimpleNamespace(VGG19=small_vgg),
                        raising=False)
    exec(compile(source, "functional_api", "exec"), {"__name__": "guide"})
