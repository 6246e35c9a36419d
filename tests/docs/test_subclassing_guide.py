"""Keras 3's guide "Making new layers and models via subclassing" (keras.io/guides/
making_new_layers_and_models_via_subclassing, the edition that imports ``keras`` and
``from keras import ops``), followed cell by cell with numkeras in place of Keras (issue 12).

Each test below is one cell of the guide, written here in this project's words: the guide's
code is not reproduced, but every test makes the same calls in the same way (``import numkeras
as keras``, ``from numkeras import ops, layers``; ``self.add_weight``, ``build``, nested layers,
``add_loss``, ``keras.random``, the ``training`` and ``mask`` arguments, ``get_config`` /
``from_config``, a ``keras.Model`` subclass, the end-to-end variational autoencoder). Where the
test differs from the published cell:
- MNIST comes from the network in the guide; here it is random uint8 images of the real shape
  and the VAE trains for 2 epochs on 1,024 of them (the guide: 60,000), to stay fast;
- the guide's masking section and its ResNet ``Model`` have no runnable code (prose and a
  sketch with ``dataset = ...``); the tests give them a small runnable form (an
  ``Embedding(mask_zero=True)`` feeding a layer whose ``call`` takes ``mask``; a subclassed
  model of two blocks trained with ``fit`` and restored with ``save_weights``/
  ``load_weights``);
- the later edition's ``keras.random.SeedGenerator`` (in ``CustomDropout`` and in the VAE's
  ``Sampling``, which JAX needs) is covered next to the unseeded calls; the encoder takes its
  sampling layer from a class attribute so that one test runs both.

``test_published_guide_runs`` runs the guide's own file, its import lines changed and nothing
else (``IMPORTS``), when ``KERAS_IO_GUIDES`` names the ``guides/`` folder of a keras-io checkout
(it is not in this repository): the Keras 3 edition, or the earlier tf.keras one (``import
tensorflow as tf``, ``from tensorflow import keras``, a GradientTape loop for the VAE). Both
were run so for this test's commit (10 s to a few minutes: 60,000 samples).
"""

import os
import re
from pathlib import Path

import numpy as np
import pytest

import numkeras as keras
from numkeras import layers, ops


# ----- the Layer class: state (weights) and computation -----
class Affine(keras.layers.Layer):
    """y = x @ w + b with weights made in __init__ (the guide's first Linear)."""

    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_cell_layer_with_weights_made_in_init():
    x = ops.ones((2, 2))
    layer = Affine(4, 2)
    y = layer(x)
    assert tuple(y.shape) == (2, 4)
    np.testing.assert_allclose(ops.convert_to_numpy(y), np.ones((2, 2)) @ layer.w.numpy(),
                               rtol=1e-6)
    assert "Tensor(" in repr(y)  # print(y) in the guide
    assert layer.weights == [layer.w, layer.b]  # attributes tracked, in order


# ----- non-trainable weights -----
class RunningTotal(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


def test_cell_non_trainable_weight_accumulates():
    x = ops.ones((2, 2))
    layer = RunningTotal(2)
    np.testing.assert_array_equal(layer(x).numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(layer(x).numpy(), [4.0, 4.0])
    assert len(layer.weights) == 1 and len(layer.non_trainable_weights) == 1
    assert layer.trainable_weights == []


# ----- deferred weight creation in build() -----
class LazyAffine(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_cell_build_creates_weights_on_first_call():
    layer = LazyAffine(32)
    assert layer.weights == []
    y = layer(ops.ones((2, 5)))
    assert tuple(y.shape) == (2, 32) and tuple(layer.w.shape) == (5, 32)


# ----- layers are recursively composable -----
class ThreeLayerBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyAffine(32)
        self.linear_2 = LazyAffine(32)
        self.linear_3 = LazyAffine(1)

    def call(self, inputs):
        x = keras.activations.relu(self.linear_1(inputs))
        x = keras.activations.relu(self.linear_2(x))
        return self.linear_3(x)


def test_cell_nested_layers_track_inner_weights():
    block = ThreeLayerBlock()
    y = block(ops.ones(shape=(3, 64)))
    assert tuple(y.shape) == (3, 1)
    assert len(block.weights) == 6 and len(block.trainable_weights) == 6


# ----- add_loss -----
class ActivityPenalty(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class Outer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityPenalty(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


def test_cell_add_loss_is_reset_at_each_top_level_call():
    layer = Outer()
    assert len(layer.losses) == 0
    layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    layer(ops.ones((1, 1)))
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(1e-2)


class OuterWithRegularizedDense(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


def test_cell_losses_include_inner_weight_regularization():
    layer = OuterWithRegularizedDense()
    layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    expected = 1e-3 * np.sum(layer.dense.kernel.numpy() ** 2)
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-5)


def test_cell_added_losses_work_in_fit_with_and_without_a_compiled_loss():
    """The guide's model has no trainable weights at all: Keras 3 warns and still reports the
    loss (mse plus the activity penalty; then the penalty alone)."""
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, ActivityPenalty()(inputs))
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 3)), rng.random((2, 3))
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="trainable weights"):
        history = model.fit(x, y, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.mean((x - y) ** 2) + 1e-2 * x.mean(),
                                                       rel=1e-5)
    model.compile(optimizer="adam")
    with pytest.warns(UserWarning, match="trainable weights"):
        history = model.fit(x, y, verbose=0)
    assert history.history["loss"][0] == pytest.approx(1e-2 * x.mean(), rel=1e-5)


# ----- serialization: get_config / from_config -----
class ConfigurableAffine(LazyAffine):
    """get_config without the base keys (the guide's first version)."""

    def get_config(self):
        return {"units": self.units}


class FullConfigAffine(keras.layers.Layer):
    """Passes **kwargs (name, dtype) to the base class and extends its config."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


def test_cell_get_config_and_from_config():
    layer = ConfigurableAffine(64)
    assert layer.get_config() == {"units": 64}
    assert ConfigurableAffine.from_config(layer.get_config()).units == 64
    layer = FullConfigAffine(64, name="affine")
    config = layer.get_config()
    assert config["units"] == 64 and config["name"] == "affine" and config["trainable"] is True
    assert "dtype" in config  # Keras 3 writes a DTypePolicy here
    clone = FullConfigAffine.from_config(config)
    assert clone.units == 64 and clone.name == "affine"


# ----- the training argument -----
class RandomDrop(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate)
        return inputs


class SeededDrop(RandomDrop):
    """With its own SeedGenerator, as the Korean edition of the guide writes it."""

    def __init__(self, rate, **kwargs):
        super().__init__(rate, **kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
        return inputs


@pytest.mark.parametrize("layer_class", [RandomDrop, SeededDrop])
def test_cell_training_argument(layer_class):
    layer = layer_class(0.5)
    x = np.ones((64, 64), np.float32)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x)), x)
    dropped = ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(dropped)) <= {0.0, 2.0} and 0.4 < (dropped == 0).mean() < 0.6
    # fit() passes training=True, predict() training=False.
    inputs = keras.Input((64,))
    model = keras.Model(inputs, layer_class(0.5)(inputs))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


# ----- the mask argument -----
class MaskedMean(keras.layers.Layer):
    """Mean over the time steps that the mask keeps."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * weights, axis=1) / ops.sum(weights, axis=1)


def test_cell_mask_reaches_a_layer_whose_call_takes_it():
    tokens = keras.Input((4,), dtype="int32")
    embedded = keras.layers.Embedding(10, 3, mask_zero=True)(tokens)
    model = keras.Model(tokens, MaskedMean()(embedded))
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    table = model.layers[1].embeddings.numpy()
    expected = np.stack([table[[1, 2]].mean(axis=0), table[3]])
    np.testing.assert_allclose(model.predict(ids, verbose=0), expected, rtol=1e-6)


# ----- the Model class -----
class Block(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(filters, 3, padding="same", activation="relu")

    def call(self, inputs):
        return self.conv(inputs) + inputs


class TinyResNet(keras.Model):
    def __init__(self, num_classes=3):
        super().__init__()
        self.stem = layers.Conv2D(4, 1)
        self.block_1 = Block(4)
        self.block_2 = Block(4)
        self.global_pool = layers.GlobalAveragePooling2D()
        self.classifier = layers.Dense(num_classes)

    def call(self, inputs):
        x = self.block_2(self.block_1(self.stem(inputs)))
        return self.classifier(self.global_pool(x))


def test_cell_model_subclass_fits_and_saves_weights(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 32)
    model = TinyResNet()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 2
    assert len(model.layers) == 5 and len(model.trainable_weights) == 8
    path = tmp_path / "tiny_resnet.weights.h5"
    model.save_weights(path)
    restored = TinyResNet()
    restored(x[:1])
    restored.load_weights(path)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# ----- putting it all together: the variational autoencoder -----
class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * epsilon, epsilon from keras.random.normal."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim))
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class SeededSampling(layers.Layer):
    """Sampling with its own SeedGenerator (the guide's later edition, which JAX needs)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch, dim = ops.shape(z_mean)[0], ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    sampling_class = Sampling

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = self.sampling_class()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean, z_log_var = self.dense_mean(x), self.dense_log_var(x)
        return z_mean, z_log_var, self.sampling((z_mean, z_log_var))


class Decoder(layers.Layer):
    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        return self.dense_output(self.dense_proj(inputs))


class VariationalAutoEncoder(keras.Model):
    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def random_mnist(count=60000, seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
             rng.integers(0, 10, count).astype(np.uint8)),
            (rng.integers(0, 256, (count // 6, 28, 28), dtype=np.uint8),
             rng.integers(0, 10, count // 6).astype(np.uint8)))


@pytest.mark.parametrize("sampling", [Sampling, SeededSampling])
def test_cell_variational_autoencoder_trains_with_fit(monkeypatch, sampling):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda *a, **k: random_mnist(1024))
    monkeypatch.setattr(Encoder, "sampling_class", sampling)
    keras.utils.set_random_seed(0)
    (x_train, _), _ = keras.datasets.mnist.load_data()
    x_train = x_train.reshape(1024, 784).astype("float32") / 255
    vae = VariationalAutoEncoder(784, 64, 32)  # positional arguments: the model's own
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert len(vae.trainable_weights) == 10 and vae.name == "autoencoder"
    # The KL term is part of each step's loss: after a forward pass the model holds it.
    reconstructed = vae(x_train[:8])
    assert tuple(reconstructed.shape) == (8, 784) and len(vae.losses) == 1
    mse = float(np.mean((ops.convert_to_numpy(reconstructed) - x_train[:8]) ** 2))
    assert 0 < mse < 0.25 and float(vae.losses[0]) >= 0


# ----- the published guide itself, when a keras-io checkout is at hand -----
IMPORTS = [  # the only changes made to a guide's text
    (r"^import keras$", "import numkeras as keras"),
    (r"^from keras import (\w+)$", r"from numkeras import \1"),
    (r"^import tensorflow as tf$", "import numkeras.compat.tf as tf"),
    (r"^from tensorflow import keras$", "from numkeras.compat.tf import keras"),
    (r"^from tensorflow\.keras import (\w+)$", r"from numkeras import \1"),
]


def published_guide(name: str) -> str:
    folder = os.environ.get("KERAS_IO_GUIDES")
    if not folder or not (Path(folder) / name).is_file():
        pytest.skip("set KERAS_IO_GUIDES to the guides/ folder of a keras-io checkout")
    text = (Path(folder) / name).read_text()
    for pattern, replacement in IMPORTS:
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def test_published_guide_runs(monkeypatch, tmp_path):
    source = published_guide("making_new_layers_and_models_via_subclassing.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda *a, **k: random_mnist())
    namespace = {"__name__": "guide"}
    exec(compile(source, "making_new_layers_and_models_via_subclassing", "exec"), namespace)
    assert namespace["vae"].built and len(namespace["vae"].trainable_weights) == 10
