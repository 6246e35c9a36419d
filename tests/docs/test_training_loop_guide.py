"""Keras 3's guide "Writing a training loop from scratch in TensorFlow" (keras.io/guides/
writing_a_custom_training_loop_in_tensorflow), followed cell by cell with numkeras: the guide's
``import tensorflow as tf`` / ``import keras`` become ``import numkeras.compat.tf as tf`` /
``import numkeras as keras`` (issue 12).

Each test is one cell of the guide, written in this project's words with the same calls:
``tf.data.Dataset.from_tensor_slices(...).shuffle(buffer_size=1024).batch(32)``, a
``tf.GradientTape`` around ``model(x, training=True)`` and the loss, ``tape.gradient`` of the
loss with respect to ``model.trainable_weights``, ``optimizer.apply(grads, weights)``, metrics'
``update_state`` / ``result`` / ``reset_state``, ``@tf.function`` steps (run as they are),
``sum(model.losses)`` from an ``add_loss`` layer, and the GAN of the last section. Where the
tests differ from the published cells:
- MNIST comes from the network; here ``load_data`` returns random uint8 images of the real
  shape, 3,000 training images of which the last 1,000 are the validation set (the guide: 60,000
  and 10,000), unscaled as the guide feeds them;
- the loop cell also checks what the guide only prints: one epoch of the hand-written loop with
  SGD, unshuffled, leaves the weights ``fit`` leaves; the ``optimizer.apply_gradients(zip(grads,
  weights))`` spelling of tf.keras is checked next to ``optimizer.apply``;
- the ``add_loss`` cell's step is defined but never run in the guide; here it runs once (with a
  fresh optimizer: the guide's optimizer is built for the previous model's variables);
- the GAN trains 2 steps on batches of 16 images (the guide: 12 steps of 64, on all 70,000
  digits; a step of 64 takes seconds on a CPU) and saves its one generated image in a
  temporary folder.

``test_published_guide_runs`` runs the guide's own file, its import lines changed and nothing
else, when ``KERAS_IO_GUIDES`` names the ``guides/`` folder of a keras-io checkout: the Keras 3
file, or the tf.keras edition (``writing_a_training_loop_from_scratch.py``: SGD with
``apply_gradients``, ``reset_states()``, ``LeakyReLU(alpha=...)``). Both were run so for this
test's commit (a few minutes each on 60,000 samples).
"""

import re

import numpy as np
import pytest

import numkeras as keras
import numkeras.compat.tf as tf
from tests.docs.test_subclassing_guide import published_guide

TRAIN, VALIDATION, BATCH_SIZE = 3000, 1000, 32


def random_mnist(count, seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
             rng.integers(0, 10, count).astype(np.uint8)),
            (rng.integers(0, 256, (count // 6, 28, 28), dtype=np.uint8),
             rng.integers(0, 10, count // 6).astype(np.uint8)))


def get_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = keras.layers.Dense(64, activation="relu")(inputs)
    x2 = keras.layers.Dense(64, activation="relu")(x1)
    outputs = keras.layers.Dense(10, name="predictions")(x2)
    return keras.Model(inputs=inputs, outputs=outputs)


@pytest.fixture(scope="module")
def mnist():
    """The guide's data cell: flat images, the last samples held out, two datasets."""
    (x_train, y_train), _ = random_mnist(TRAIN)
    x_train = np.reshape(x_train, (-1, 784))
    x_val, y_val = x_train[-VALIDATION:], y_train[-VALIDATION:]
    x_train, y_train = x_train[:-VALIDATION], y_train[:-VALIDATION]
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(BATCH_SIZE)
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(BATCH_SIZE)
    return x_train, y_train, train_dataset, val_dataset


def one_step(model, optimizer, loss_fn, x, y, apply_gradients=False):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss_value = loss_fn(y, logits)
    grads = tape.gradient(loss_value, model.trainable_weights)
    if apply_gradients:
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
    else:
        optimizer.apply(grads, model.trainable_weights)
    return loss_value, logits


def test_cell_datasets_batch_as_the_guide_expects(mnist):
    x_train, y_train, train_dataset, val_dataset = mnist
    batches = list(train_dataset)
    assert len(batches) == -(-len(x_train) // BATCH_SIZE)
    x_batch, y_batch = batches[0]
    assert tuple(x_batch.shape) == (32, 784) and tuple(y_batch.shape) == (32,)
    seen = np.sort(np.concatenate([np.asarray(x)[:, 0] for x, _ in batches]))
    np.testing.assert_array_equal(seen, np.sort(x_train[:, 0]))  # shuffled, each sample once
    assert sum(len(np.asarray(y)) for _, y in val_dataset) == VALIDATION


def test_cell_first_training_loop(mnist):
    _, _, train_dataset, _ = mnist
    keras.utils.set_random_seed(0)
    model = get_model()
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    logged = []
    for epoch in range(3):
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value, _ = one_step(model, optimizer, loss_fn, x_batch_train, y_batch_train)
            if step % 100 == 0:
                logged.append(float(loss_value))
    assert len(logged) == 3 and all(np.isfinite(logged))
    assert int(optimizer.iterations) == 3 * len(list(train_dataset))


@pytest.mark.parametrize("apply_gradients", [False, True])
def test_cell_loop_matches_fit(mnist, apply_gradients):
    """(An addition to the guide.) The hand-written loop is fit's training step: one unshuffled
    epoch with SGD ends at the weights fit ends at."""
    x_train, y_train, _, _ = mnist
    x, y = x_train[:256].astype("float32") / 255, y_train[:256]
    keras.utils.set_random_seed(1)
    by_hand, by_fit = get_model(), get_model()
    by_fit.set_weights(by_hand.get_weights())
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    for x_batch, y_batch in tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE):
        one_step(by_hand, optimizer, loss_fn, x_batch, y_batch, apply_gradients)
    by_fit.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss_fn)
    by_fit.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)
    for mine, theirs in zip(by_hand.get_weights(), by_fit.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)


def train_and_validate(model, train_dataset, val_dataset, train_step, test_step, metrics):
    """The guide's epoch: train, read and reset the training metric, then validate."""
    train_acc_metric, val_acc_metric = metrics
    accuracies = []
    for epoch in range(2):
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value = train_step(x_batch_train, y_batch_train)
            if step % 100 == 0:
                assert np.isfinite(float(loss_value))
        train_acc = train_acc_metric.result()
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
        accuracies.append((float(train_acc), float(val_acc)))
    return accuracies


@pytest.mark.parametrize("compiled", [False, True])
def test_cell_metrics_in_the_loop_with_and_without_tf_function(mnist, compiled):
    x_train, y_train, train_dataset, val_dataset = mnist
    keras.utils.set_random_seed(0)
    model = get_model()
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    def train_step(x, y):
        loss_value, logits = one_step(model, optimizer, loss_fn, x, y)
        train_acc_metric.update_state(y, logits)
        return loss_value

    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    if compiled:  # @tf.function: numkeras runs the function as it is
        train_step, test_step = tf.function(train_step), tf.function(test_step)
    accuracies = train_and_validate(model, train_dataset, val_dataset, train_step, test_step,
                                    (train_acc_metric, val_acc_metric))
    # Random labels: chance level, and result() is a fraction of the samples seen.
    assert all(0.0 <= a <= 1.0 for pair in accuracies for a in pair)
    assert float(train_acc_metric.result()) == 0.0  # reset_state
    val_logits = model.predict(x_train[:5].astype("float32"), verbose=0)
    val_acc_metric.update_state(y_train[:5], val_logits)
    expected = np.mean(np.argmax(val_logits, axis=-1) == y_train[:5])
    assert float(val_acc_metric.result()) == pytest.approx(expected)


class ActivityRegularizationLayer(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * tf.reduce_sum(inputs))
        return inputs


def test_cell_model_losses_join_the_loss_in_the_step(mnist):
    x_train, y_train, _, _ = mnist
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    model = keras.Model(inputs=inputs, outputs=keras.layers.Dense(10, name="predictions")(x))
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    hidden = keras.Model(inputs, model.layers[2].output)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        return loss_value

    x_batch, y_batch = x_train[:32], y_train[:32]
    penalty = 1e-2 * np.sum(hidden.predict(x_batch, verbose=0))
    plain = float(loss_fn(y_batch, model(x_batch)))
    assert len(model.losses) == 1 and float(model.losses[0]) == pytest.approx(penalty, rel=1e-4)
    assert float(train_step(x_batch, y_batch)) == pytest.approx(plain + penalty, rel=1e-4)


def gan_models(latent_dim):
    discriminator = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(7 * 7 * 128),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.Reshape((7, 7, 128)),
        keras.layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
    ], name="generator")
    return discriminator, generator


def test_cell_gan_training_loop(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    latent_dim, batch_size = 128, 16
    discriminator, generator = gan_models(latent_dim)
    discriminator.summary()
    assert 'Model: "discriminator"' in capsys.readouterr().out
    d_optimizer = keras.optimizers.Adam(learning_rate=0.0003)
    g_optimizer = keras.optimizers.Adam(learning_rate=0.0004)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real_images):
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        generated_images = generator(random_latent_vectors)
        combined_images = tf.concat([generated_images, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((real_images.shape[0], 1))],
                           axis=0)
        labels += 0.05 * tf.random.uniform(labels.shape)  # noisy labels
        with tf.GradientTape() as tape:
            d_loss = loss_fn(labels, discriminator(combined_images))
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply(grads, discriminator.trainable_weights)
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:  # only the generator's weights move here
            g_loss = loss_fn(misleading_labels, discriminator(generator(random_latent_vectors)))
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply(grads, generator.trainable_weights)
        return d_loss, g_loss, generated_images

    (x_train, _), (x_test, _) = random_mnist(160)
    all_digits = np.concatenate([x_train, x_test]).astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = tf.data.Dataset.from_tensor_slices(all_digits)
    dataset = dataset.shuffle(buffer_size=1024).batch(batch_size)
    discriminator_before = [w.copy() for w in discriminator.get_weights()]
    for step, real_images in enumerate(dataset):
        d_loss, g_loss, generated_images = train_step(real_images)
        if step % 100 == 0:
            line = f"discriminator loss at step {step}: {d_loss:.2f} / {g_loss:.2f}"
            assert re.fullmatch(r"discriminator loss at step 0: \d\.\d\d / \d\.\d\d", line)
            img = keras.utils.array_to_img(generated_images[0] * 255.0, scale=False)
            img.save(str(tmp_path / f"generated_img_{step}.png"))
        if step >= 1:
            break
    assert (tmp_path / "generated_img_0.png").stat().st_size > 100
    assert tuple(generated_images.shape) == (16, 28, 28, 1)
    assert 0.3 < float(d_loss) < 1.5 and 0.3 < float(g_loss) < 1.5
    assert int(d_optimizer.iterations) == 2 and int(g_optimizer.iterations) == 2
    assert any(not np.array_equal(a, b)
               for a, b in zip(discriminator_before, discriminator.get_weights()))


@pytest.mark.parametrize("name", [
    "writing_a_custom_training_loop_in_tensorflow.py",  # Keras 3
    "writing_a_training_loop_from_scratch.py",  # its tf.keras edition (apply_gradients ...)
])
def test_published_guide_runs(monkeypatch, tmp_path, name):
    source = published_guide(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(keras.datasets.mnist, "load_data",
                        lambda *a, **k: random_mnist(60000))
    namespace = {"__name__": "guide"}
    exec(compile(source, name, "exec"), namespace)
    assert list(tmp_path.glob("generated_img*0.png"))

