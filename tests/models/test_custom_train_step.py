"""Custom ``train_step``/``test_step`` as the Keras 3 guide "Customizing what happens in fit()"
(TensorFlow backend) and the tf.keras guide write them, with only the imports changed."""

import numpy as np
import pytest

import numkeras as keras
from numkeras import layers
from numkeras.backprop import is_grad_enabled, no_grad
from numkeras.compat import tf


def _data(n=64, features=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, features)).astype(np.float32), rng.random((n, 1)).astype(np.float32)


# --- Keras 3 guide: "A first simple example" ---
class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value
            # (the loss function is configured in `compile()`)
            loss = self.compute_loss(y=y, y_pred=y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)

        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}


def test_first_simple_example_trains_like_fit():
    x, y = _data()
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=3, verbose=0, shuffle=False)

    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(32,))
    reference = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    reference.compile(optimizer="adam", loss="mse", metrics=["mae"])
    expected = reference.fit(x, y, epochs=3, verbose=0, shuffle=False)

    assert set(history.history) == {"loss", "mae"}
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"], expected.history["mae"], rtol=1e-5)
    for w, w_ref in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-6)


# --- Keras 3 guide: "Going lower-level" (own trackers, no compiled loss) ---
class LowerLevelModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute our own loss
            loss = self.loss_fn(y, y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Compute our own metrics
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {
            "loss": self.loss_tracker.result(),
            "mae": self.mae_metric.result(),
        }

    @property
    def metrics(self):
        # We list our `Metric` objects here so that `reset_states()` can be
        # called automatically at the start of each epoch
        # or at the start of `evaluate()`.
        return [self.loss_tracker, self.mae_metric]


def test_lower_level_example_with_own_trackers_and_no_compiled_loss():
    x, y = _data()
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = LowerLevelModel(inputs, outputs)
    # We don't pass a loss or metrics here.
    model.compile(optimizer="adam")
    history = model.fit(x, y, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert set(history.history) == {"loss", "mae"} and losses[-1] < losses[0]
    # The trackers are reset each epoch: the last epoch's mean is over its 2 batches only.
    assert model.loss_tracker.count == 2


# --- Keras 3 guide: "Supporting sample_weight & class_weight" ---
class WeightedModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value.
            # The loss function is configured in `compile()`.
            loss = self.compute_loss(
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
            )

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Update the metrics.
        # Metrics are configured in `compile()`.
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)

        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


def test_sample_weight_reaches_the_custom_step():
    x, y = _data()
    sw = np.random.default_rng(2).random((len(y), 1)).astype(np.float32)
    seen = []

    class Spy(WeightedModel):
        def train_step(self, data):
            seen.append(len(data))
            return super().train_step(data)

    inputs = keras.Input(shape=(32,))
    model = Spy(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(x, y, sample_weight=sw, epochs=2, verbose=0)
    assert set(seen) == {3}


# --- Keras 3 guide: "Providing your own evaluation step" ---
class EvalModel(keras.Model):
    def test_step(self, data):
        # Unpack the data
        x, y = data
        # Compute predictions
        y_pred = self(x, training=False)
        # Updates the metrics tracking the loss
        loss = self.compute_loss(y=y, y_pred=y_pred)
        # Update the metrics.
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
            else:
                metric.update_state(loss)
        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


def test_custom_test_step_matches_builtin_evaluate():
    x, y = _data()
    keras.utils.set_random_seed(4)
    inputs = keras.Input(shape=(32,))
    model = EvalModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(loss="mse", metrics=["mae"])
    got = model.evaluate(x, y, verbose=0, return_dict=True)
    reference = keras.Model(model.inputs, model.outputs)
    reference.compile(loss="mse", metrics=["mae"])
    expected = reference.evaluate(x, y, verbose=0, return_dict=True)
    assert got.keys() == expected.keys()
    for name in got:
        assert got[name] == pytest.approx(expected[name], rel=1e-6)


# --- tf.keras (TF 2) guide spelling: compiled_loss, compiled_metrics, apply_gradients ---
class TfKerasModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_tf_keras_spelling_matches_fit():
    x, y = _data()
    keras.utils.set_random_seed(5)
    inputs = keras.Input(shape=(32,))
    hidden = keras.layers.Dense(8, activation="relu",
                                kernel_regularizer=keras.regularizers.L2(0.01))(inputs)
    model = TfKerasModel(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)

    keras.utils.set_random_seed(5)
    inputs = keras.Input(shape=(32,))
    hidden = keras.layers.Dense(8, activation="relu",
                                kernel_regularizer=keras.regularizers.L2(0.01))(inputs)
    reference = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    reference.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    expected = reference.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    for name in ("loss", "mae"):
        np.testing.assert_allclose(history.history[name], expected.history[name], rtol=1e-5)


def test_custom_step_without_targets_and_with_a_dataset():
    """An autoencoder step that gets x only (y None), fed by a tf.data pipeline."""
    x, _ = _data()

    class AutoEncoder(keras.Model):
        def train_step(self, data):
            with tf.GradientTape() as tape:
                reconstruction = self(data, training=True)
                loss = keras.ops.mean(keras.ops.square(reconstruction - data)) \
                    if hasattr(keras, "ops") and hasattr(keras.ops, "square") \
                    else ((reconstruction - data) * (reconstruction - data)).mean()
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return {"loss": loss}

    inputs = keras.Input(shape=(32,))
    model = AutoEncoder(inputs, keras.layers.Dense(32)(keras.layers.Dense(4)(inputs)))
    model.compile(optimizer="adam")
    history = model.fit(x, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(16)
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_step_override_is_decided_once_and_builtin_step_is_direct():
    from numkeras.models import data_adapter

    inputs = keras.Input(shape=(32,))
    plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    assert data_adapter.train_step_function(plain) == plain.train_step
    custom = CustomModel(inputs, keras.layers.Dense(1)(inputs))
    assert data_adapter.train_step_function(custom) != custom.train_step


def test_train_on_batch_and_errors_of_custom_steps():
    x, y = _data()
    inputs = keras.Input(shape=(32,))
    model = CustomModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    loss = model.train_on_batch(x, y)
    assert isinstance(loss, float)

    class Bad(keras.Model):
        def train_step(self, data):
            return 1.0

    bad = Bad(inputs, keras.layers.Dense(1)(inputs))
    bad.compile(optimizer="sgd")
    with pytest.raises(TypeError, match="must return a dict"):
        bad.fit(x, y, verbose=0)


def test_a_loss_with_no_recorded_graph_stops_training_instead_of_doing_nothing():
    """The built-in step with trainable weights and a loss that recorded no graph: Keras 3's
    optimizer stops ("No gradients provided for any variable"); so does numkeras, naming the
    cause, where backward() would silently update nothing."""
    x, y = _data(16)
    inputs = keras.Input(shape=(32,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    with no_grad(), pytest.raises(RuntimeError, match="no gradients.*OFF.*no_grad"):
        model.fit(x, y, verbose=0)
    assert is_grad_enabled()

    class Detached(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            return keras.ops.mean(keras.ops.stop_gradient(y_pred))

    detached = Detached(inputs, keras.layers.Dense(1)(inputs))
    detached.compile(optimizer="sgd")
    for train in (lambda: detached.fit(x, y, verbose=0),
                  lambda: detached.train_on_batch(x, y)):
        with pytest.raises(RuntimeError, match="'detached'.*recording is on"):
            train()
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    assert model.fit(x, y, verbose=0).history["loss"]  # recording on: it trains


# --- Keras 3 guide "Training & evaluation with the built-in methods": a custom Metric ---
class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(
            shape=(), name="ctp", initializer="zeros"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.reshape(np.argmax(y_pred, axis=1), (-1, 1))
        values = np.asarray(y_true, "int32").reshape(-1, 1) == y_pred.astype("int32")
        values = values.astype("float32")
        if sample_weight is not None:
            values = values * np.asarray(sample_weight, "float32").reshape(-1, 1)
        self.true_positives.assign_add(np.sum(values))

    def result(self):
        return self.true_positives.value

    def reset_state(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


def test_custom_metric_with_add_variable_in_fit():
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 8)).astype("float32"), rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=[CategoricalTruePositives()])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    counts = history.history["categorical_true_positives"]
    assert all(isinstance(c, float) and 0 <= c <= 64 and c == int(c) for c in counts)
    metric = model.metrics[1]
    assert metric.variables == [metric.true_positives]
    expected = float(np.sum(model.predict(x, verbose=0).argmax(1) == y))
    assert model.evaluate(x, y, verbose=0, return_dict=True)[
        "categorical_true_positives"] == expected


def test_top_level_names_and_config_flags():
    assert keras.Layer is keras.layers.Layer and keras.Metric is keras.metrics.Metric
    assert keras.Loss is keras.losses.Loss and keras.Optimizer is keras.optimizers.Optimizer
    keras.config.disable_traceback_filtering()
    assert not keras.config.is_traceback_filtering_enabled()
    keras.config.enable_traceback_filtering()
    assert keras.config.backend() == "numpy"
    v = keras.Variable(initializer="ones", shape=(2, 3), name="w")
    assert v.shape == (2, 3) and v.dtype == np.float32 and v.name == "w"
    assert keras.Variable(keras.initializers.Zeros(), shape=(2,), dtype="float64").dtype \
        == np.float64
    with pytest.raises(ValueError, match="shape"):
        keras.Variable("zeros")


# --- Keras 3 guide: "Wrapping up: an end-to-end GAN example" (small sizes, random images) ---
def test_end_to_end_gan_example():
    """The GAN of the guide: a model without call() whose train_step trains two sub-models
    with two optimizers, fed by a tf.data pipeline of unlabeled images."""
    latent_dim = 16
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(7 * 7 * 8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, 8)),
            layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            # Sample random points in the latent space
            batch_size = tf.shape(real_images)[0]
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator
            )

            # Decode them to fake images
            generated_images = self.generator(random_latent_vectors)

            # Combine them with real images
            combined_images = tf.concat([generated_images, real_images], axis=0)

            # Assemble labels discriminating real from fake images
            labels = tf.concat(
                [tf.ones((batch_size, 1)), tf.zeros((tf.shape(real_images)[0], 1))], axis=0
            )
            # Add random noise to the labels - important trick!
            labels += 0.05 * keras.random.uniform(
                tf.shape(labels), seed=self.seed_generator
            )

            # Train the discriminator
            with tf.GradientTape() as tape:
                predictions = self.discriminator(combined_images)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(
                zip(grads, self.discriminator.trainable_weights)
            )

            # Sample random points in the latent space
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator
            )

            # Assemble labels that say "all real images"
            misleading_labels = tf.zeros((batch_size, 1))

            # Train the generator (note that we should *not* update the weights
            # of the discriminator)!
            with tf.GradientTape() as tape:
                predictions = self.discriminator(self.generator(random_latent_vectors))
                g_loss = self.loss_fn(misleading_labels, predictions)
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

            # Update metrics and return their value.
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {
                "d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result(),
            }

    batch_size = 16
    all_digits = np.random.default_rng(0).integers(0, 256, (64, 28, 28)).astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = tf.data.Dataset.from_tensor_slices(all_digits)
    dataset = dataset.shuffle(buffer_size=1024).batch(batch_size)

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    history = gan.fit(dataset, epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in history.history["d_loss"] + history.history["g_loss"])
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 8


def test_optimizer_minimize_with_a_callable_or_a_tape():
    w = tf.Variable([1.0, -2.0])
    optimizer = keras.optimizers.SGD(learning_rate=0.25)
    optimizer.minimize(lambda: tf.reduce_sum(tf.square(w)), var_list=[w])
    np.testing.assert_allclose(w.numpy(), [0.5, -1.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(w))
    assert optimizer.minimize(loss, [w], tape=tape) == 2
    np.testing.assert_allclose(w.numpy(), [0.25, -0.5])
    with pytest.raises(ValueError, match="needs `tape`"):
        optimizer.minimize(loss, [w])
