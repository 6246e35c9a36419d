"""numkeras.compat.tf: the TensorFlow names course code uses, and TensorFlow's "advanced
quickstart" and Keras's "writing a training loop from scratch" on small MNIST-like data with
only the imports changed."""

import subprocess
import sys

import numpy as np
import pytest

import numkeras as keras
import numkeras.compat.tf as tf
from tests.helpers import synthetic_images


def test_importing_the_module_is_lazy():
    code = ("import sys, numkeras.compat.tf as tf; "
            "print(any(m.startswith(('numkeras.backprop', 'numkeras.layers')) "
            "for m in sys.modules), tf.__version__.startswith('numkeras-'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_unknown_name_is_a_clear_error():
    with pytest.raises(AttributeError, match="no attribute 'Session'"):
        tf.Session  # noqa: B018


def test_constants_variables_and_dtypes():
    assert tf.constant(1.5).dtype == np.float32 and tf.constant(2).dtype == np.int32
    assert tf.constant([1, 2], dtype=tf.float64).dtype == np.float64
    assert tf.constant(0.0, shape=(2, 3)).shape == (2, 3)
    x = tf.constant([1.0])
    assert tf.convert_to_tensor(x) is x and tf.is_tensor(x)
    assert isinstance(x, tf.Tensor)
    v = tf.Variable([1.0, 2.0], name="v")
    v.assign([3.0, 4.0])
    v.assign_sub([1.0, 1.0])
    assert v.numpy().tolist() == [2.0, 3.0] and v.trainable and v.name == "v"
    assert v.value() is v and v.read_value() is v  # TF's methods
    assert not tf.Variable(0.0, trainable=False).trainable
    assert isinstance(v, keras.Variable)
    assert tf.newaxis is None and tf.float32 is np.float32 and tf.int64 is np.int64


def test_creation_functions():
    assert tf.zeros((2, 3)).numpy().sum() == 0 and tf.ones([2]).dtype == np.float32
    assert tf.ones_like(tf.zeros((2, 2))).numpy().sum() == 4
    assert tf.zeros_like(np.ones(3, np.int32)).dtype == np.int32
    assert tf.fill([2, 2], 7).numpy().tolist() == [[7, 7], [7, 7]]
    assert tf.range(5).numpy().tolist() == [0, 1, 2, 3, 4] and tf.range(5).dtype == np.int32
    assert tf.range(1, 2, 0.5).numpy().tolist() == [1.0, 1.5]
    assert tf.linspace(0.0, 1.0, 5).numpy().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tf.eye(2).numpy().tolist() == [[1, 0], [0, 1]]
    np.testing.assert_array_equal(tf.one_hot([0, 2, -1], 3).numpy(),
                                  [[1, 0, 0], [0, 0, 1], [0, 0, 0]])


def test_shape_functions():
    x = tf.reshape(tf.range(6), (2, 3))
    assert tf.shape(x).numpy().tolist() == [2, 3] and int(tf.size(x)) == 6
    assert tf.transpose(x).shape == (3, 2) and tf.transpose(x, perm=[1, 0]).shape == (3, 2)
    assert tf.concat([x, x], axis=0).shape == (4, 3) and tf.stack([x, x]).shape == (2, 2, 3)
    assert tf.expand_dims(x, -1).shape == (2, 3, 1) and tf.squeeze(tf.ones((1, 3))).shape == (3,)
    assert tf.gather(x, [1, 1]).numpy().tolist() == [[3, 4, 5], [3, 4, 5]]
    assert tf.tile(tf.constant([[1, 2]]), [2, 2]).numpy().tolist() == [[1, 2, 1, 2]] * 2
    assert [t.numpy().tolist() for t in tf.unstack(x)] == [[0, 1, 2], [3, 4, 5]]
    assert tf.cast(tf.constant([1.7]), tf.int32).numpy().tolist() == [1]


def test_reductions_and_math_against_numpy():
    a = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
    for name, reference in [("reduce_sum", np.sum), ("reduce_mean", np.mean),
                            ("reduce_max", np.max), ("reduce_min", np.min),
                            ("reduce_prod", np.prod), ("reduce_std", np.std),
                            ("reduce_variance", np.var)]:
        for axis in (None, 0, 1):
            got = getattr(tf, name)(a, axis=axis).numpy()
            np.testing.assert_allclose(got, reference(a, axis=axis), rtol=1e-6, err_msg=name)
            assert getattr(tf.math, name) is getattr(tf, name)
    assert tf.reduce_mean(tf.constant([1, 2])).numpy() == 1  # integer mean, as TF
    assert tf.reduce_any(a > 3).numpy() and not tf.reduce_all(a > 0).numpy()
    np.testing.assert_allclose(tf.reduce_logsumexp(a, axis=1).numpy(),
                               np.log(np.exp(a).sum(1)), rtol=1e-6)
    assert tf.argmax(a).numpy().tolist() == [0, 1, 0]  # TF's default axis is 0
    assert tf.argmax(a, axis=1).numpy().tolist() == [2, 1]
    assert tf.math.equal(a, a).numpy().all() and tf.greater(a, 0).numpy().sum() == 4
    for name in ("exp", "sqrt", "square", "abs", "tanh", "sigmoid", "log", "softplus"):
        values = np.abs(a) if name in ("sqrt", "log") else a
        got = getattr(tf.math, name)(values).numpy()
        reference = {"square": np.square, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
                     "softplus": lambda v: np.log1p(np.exp(v))}.get(name) or getattr(np, name)
        np.testing.assert_allclose(got, reference(values), rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(tf.math.l2_normalize(a, axis=1).numpy(),
                               a / np.linalg.norm(a, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(tf.where(a > 0, a, 0.0).numpy(), np.where(a > 0, a, 0))
    assert tf.where(a > 3).numpy().tolist() == [[1, 1]]
    np.testing.assert_allclose(tf.matmul(a, a, transpose_b=True).numpy(), a @ a.T)


def test_math_goes_through_the_tape():
    x = tf.Variable([0.5, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.square(x) + tf.math.exp(x) + tf.nn.relu(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * x.numpy() + np.exp(x.numpy()) + 1,
                               rtol=1e-6)


def test_nn_crossentropies_and_moments():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], np.float32)
    labels = np.array([0, 1])
    one_hot = np.eye(3, dtype=np.float32)[labels]
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -log_p[[0, 1], labels]
    np.testing.assert_allclose(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits).numpy(),
        expected, rtol=1e-6)
    np.testing.assert_allclose(
        tf.nn.softmax_cross_entropy_with_logits(labels=one_hot, logits=logits).numpy(),
        expected, rtol=1e-6)
    np.testing.assert_allclose(tf.nn.softmax(logits).numpy(), np.exp(log_p), rtol=1e-6)
    np.testing.assert_allclose(tf.nn.log_softmax(logits).numpy(), log_p, rtol=1e-6)
    z = np.array([[0.0, 1.0, 1.0]], np.float32)
    np.testing.assert_allclose(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=logits[:1]).numpy(),
        -(z * np.log(1 / (1 + np.exp(-logits[:1]))) +
          (1 - z) * np.log(1 - 1 / (1 + np.exp(-logits[:1])))), rtol=1e-5)
    mean, variance = tf.nn.moments(tf.constant(logits), axes=[0])
    np.testing.assert_allclose(mean.numpy(), logits.mean(0), rtol=1e-6)
    np.testing.assert_allclose(variance.numpy(), logits.var(0), rtol=1e-6)
    with pytest.raises(ValueError, match="labels must be in"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[3, 0], logits=logits)


def test_nn_dropout_conv_and_pooling():
    tf.random.set_seed(0)
    kept = tf.nn.dropout(tf.ones((1000,)), rate=0.5).numpy()
    assert set(np.unique(kept)) == {0.0, 2.0} and 400 < (kept > 0).sum() < 600
    images = np.random.default_rng(0).random((2, 5, 5, 1)).astype(np.float32)
    kernel = np.ones((3, 3, 1, 1), np.float32)
    conv = tf.nn.conv2d(images, kernel, strides=1, padding="VALID").numpy()
    np.testing.assert_allclose(conv[0, 0, 0, 0], images[0, :3, :3, 0].sum(), rtol=1e-6)
    pooled = tf.nn.max_pool2d(images, ksize=2, strides=2, padding="VALID").numpy()
    assert pooled.shape == (2, 2, 2, 1) and pooled[0, 0, 0, 0] == images[0, :2, :2, 0].max()


def test_random_is_seeded():
    tf.random.set_seed(5)
    a = tf.random.normal((3,)).numpy()
    tf.random.set_seed(5)
    assert (tf.random.normal((3,)).numpy() == a).all() and a.dtype == np.float32
    u = tf.random.uniform((1000,), minval=2, maxval=3).numpy()
    assert u.min() >= 2 and u.max() < 3
    assert tf.random.uniform((5,), maxval=4, dtype=tf.int32).dtype == np.int32
    assert np.abs(tf.random.truncated_normal((1000,)).numpy()).max() <= 2
    assert sorted(tf.random.shuffle(np.arange(5)).numpy().tolist()) == [0, 1, 2, 3, 4]
    draws = tf.random.categorical(np.log([[0.0001, 0.9999]]), 20).numpy()
    assert draws.shape == (1, 20) and draws.sum() >= 18


def test_config_version_function_print_and_module_aliases(capsys):
    devices = tf.config.list_physical_devices()
    assert [d.device_type for d in devices] == ["CPU"]
    assert tf.config.list_physical_devices("GPU") == []
    tf.config.experimental.set_memory_growth(devices[0], True)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    assert tf.config.threading.get_intra_op_parallelism_threads() == 2
    tf.config.run_functions_eagerly(True)
    assert tf.version.VERSION == tf.__version__

    @tf.function
    def double(v):
        return v * 2

    @tf.function(reduce_retracing=True, jit_compile=True)
    def triple(v):
        return v * 3

    assert double(2) == 4 and triple(2) == 6
    tf.print("loss:", tf.constant([1.5]))
    assert "loss: [1.5]" in capsys.readouterr().err
    assert tf.optimizers.Adam is keras.optimizers.Adam and tf.losses is keras.losses
    assert tf.metrics is keras.metrics and tf.keras is keras
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE


# ----- tutorials -----


def _mnist_like(n, seed):
    x, y = synthetic_images(n, seed=seed)
    return (x * 255).astype(np.uint8), y


def test_tensorflow_advanced_quickstart():
    Conv2D, Dense, Flatten = tf.keras.layers.Conv2D, tf.keras.layers.Dense, tf.keras.layers.Flatten
    Model = tf.keras.Model
    tf.random.set_seed(0)

    (x_train, y_train), (x_test, y_test) = _mnist_like(256, 0), _mnist_like(64, 1)
    x_train, x_test = x_train / 255.0, x_test / 255.0
    # Add a channels dimension
    x_train = x_train[..., tf.newaxis].astype("float32")
    x_test = x_test[..., tf.newaxis].astype("float32")

    train_ds = tf.data.Dataset.from_tensor_slices(
        (x_train, y_train)).shuffle(10000).batch(32)
    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)

    class MyModel(Model):
        def __init__(self):
            super().__init__()
            self.conv1 = Conv2D(8, 3, activation='relu')  # 32 filters in the tutorial
            self.flatten = Flatten()
            self.d1 = Dense(32, activation='relu')  # 128 in the tutorial
            self.d2 = Dense(10)

        def call(self, x):
            x = self.conv1(x)
            x = self.flatten(x)
            x = self.d1(x)
            return self.d2(x)

    # Create an instance of the model
    model = MyModel()

    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam()

    train_loss = tf.keras.metrics.Mean(name='train_loss')
    train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='train_accuracy')
    test_loss = tf.keras.metrics.Mean(name='test_loss')
    test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='test_accuracy')

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            # training=True is only needed if there are layers with different
            # behavior during training versus inference (e.g. Dropout).
            predictions = model(images, training=True)
            loss = loss_object(labels, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))

        train_loss(loss)
        train_accuracy(labels, predictions)

    @tf.function
    def test_step(images, labels):
        # training=False is only needed if there are layers with different
        # behavior during training versus inference (e.g. Dropout).
        predictions = model(images, training=False)
        t_loss = loss_object(labels, predictions)

        test_loss(t_loss)
        test_accuracy(labels, predictions)

    EPOCHS = 3
    accuracies = []
    for epoch in range(EPOCHS):
        # Reset the metrics at the start of the next epoch
        train_loss.reset_state()
        train_accuracy.reset_state()
        test_loss.reset_state()
        test_accuracy.reset_state()

        for images, labels in train_ds:
            train_step(images, labels)

        for test_images, test_labels in test_ds:
            test_step(test_images, test_labels)

        line = (f'Epoch {epoch + 1}, '
                f'Loss: {train_loss.result():0.2f}, '
                f'Accuracy: {train_accuracy.result() * 100:0.2f}, '
                f'Test Loss: {test_loss.result():0.2f}, '
                f'Test Accuracy: {test_accuracy.result() * 100:0.2f}')
        assert line.startswith(f"Epoch {epoch + 1}, Loss: ")
        accuracies.append(test_accuracy.result())
    assert accuracies[-1] > 0.5  # chance is 0.1


def test_keras_training_loop_from_scratch():
    """Keras 3 guide "Writing a training loop from scratch in TensorFlow", on small data."""

    def get_model():
        inputs = keras.Input(shape=(784,), name="digits")
        x1 = keras.layers.Dense(64, activation="relu")(inputs)
        x2 = keras.layers.Dense(64, activation="relu")(x1)
        outputs = keras.layers.Dense(10, name="predictions")(x2)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    keras.utils.set_random_seed(0)
    model = get_model()
    # Instantiate an optimizer.
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # Prepare the metrics.
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    batch_size = 32
    x_train, y_train = _mnist_like(320, 0)
    x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255.0
    # Reserve samples for validation.
    x_val = x_train[-64:]
    y_val = y_train[-64:]
    x_train = x_train[:-64]
    y_train = y_train[:-64]

    # Prepare the training dataset.
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)
    # Prepare the validation dataset.
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(batch_size)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            # Add any extra losses created during the forward pass.
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        train_acc_metric.update_state(y, logits)
        return loss_value

    @tf.function
    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    epochs = 4
    losses = []
    for epoch in range(epochs):
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value = train_step(x_batch_train, y_batch_train)
            losses.append(float(loss_value))
        train_acc = train_acc_metric.result()
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
    assert losses[-1] < losses[0] and 0 <= train_acc <= 1 and val_acc > 0.4  # chance: 0.1
    assert int(optimizer.iterations) == epochs * 8


def test_hello_world_fits_a_1d_x_for_an_input_of_one():
    """The "hello world" of deep learning: fit on a 1-D x for Dense(1, input_shape=[1])."""
    model = tf.keras.Sequential([tf.keras.layers.Dense(units=1, input_shape=[1])])
    model.compile(optimizer='sgd', loss='mean_squared_error')
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype=float)
    ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], dtype=float)
    model.fit(xs, ys, epochs=300, verbose=0)
    assert abs(float(model.predict(np.array([10.0]), verbose=0)[0, 0]) - 19.0) < 0.2
    wide = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    wide.compile(optimizer='sgd', loss='mse')
    with pytest.raises(ValueError, match="expected shape"):
        wide.fit(xs, ys, verbose=0)  # only an input of one feature takes a 1-D x


def test_tf_functions_on_symbolic_inputs_build_a_functional_model():
    inputs = tf.keras.Input((3,))
    x = tf.concat([tf.square(inputs), tf.reshape(inputs, (-1, 3))], axis=1)  # (None, 6)
    outputs = tf.reduce_sum(tf.matmul(x, tf.ones((6, 2))), axis=1, keepdims=True)
    model = tf.keras.Model(inputs, outputs)
    data = np.array([[1.0, 2.0, 3.0]], np.float32)
    expected = 2 * (np.square(data).sum() + data.sum())
    np.testing.assert_allclose(model.predict(data, verbose=0), [[expected]], rtol=1e-6)


def test_tensorflow_custom_layer_guide_with_variables_as_attributes():
    """TF's "Making new layers and models via subclassing" (tf.Variable attributes)."""

    class Linear(tf.keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            w_init = tf.random_normal_initializer()
            self.w = tf.Variable(
                initial_value=w_init(shape=(input_dim, units), dtype="float32"),
                trainable=True,
            )
            b_init = tf.zeros_initializer()
            self.b = tf.Variable(
                initial_value=b_init(shape=(units,), dtype="float32"), trainable=True
            )

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

    x = tf.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    assert y.shape == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]

    class ComputeSum(tf.keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = tf.Variable(initial_value=tf.zeros((input_dim,)), trainable=False)

        def call(self, inputs):
            self.total.assign_add(tf.reduce_sum(inputs, axis=0))
            return self.total

    my_sum = ComputeSum(2)
    my_sum(x)
    assert my_sum(x).numpy().tolist() == [4.0, 4.0]
    assert len(my_sum.weights) == 1 and len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []


def test_losses_added_in_call_join_a_hand_written_loop():
    """The from-scratch guide's ActivityRegularizationLayer: model.losses holds this call's
    penalty, and its gradient reaches the first layer."""

    class ActivityRegularizationLayer(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * tf.reduce_sum(inputs))
            return inputs

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(8,), name="digits")
    x = keras.layers.Dense(4, activation="relu")(inputs)
    x = ActivityRegularizationLayer()(x)
    outputs = keras.layers.Dense(3, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    x_batch = np.random.default_rng(0).random((5, 8)).astype("float32")
    with tf.GradientTape(persistent=True) as tape:
        model(x_batch, training=True)
        penalty = sum(model.losses)
    assert len(model.losses) == 1
    hidden = np.maximum(x_batch @ model.layers[1].kernel.numpy() + model.layers[1].bias.numpy(),
                        0)
    assert float(penalty) == pytest.approx(1e-2 * hidden.sum(), rel=1e-5)
    grad = tape.gradient(penalty, model.layers[1].bias)
    np.testing.assert_allclose(grad.numpy(), 1e-2 * (hidden > 0).sum(0), rtol=1e-5)


def test_tensorflow_basic_training_loops_guide():
    """TF's "Basic training loops": a tf.Module line fitted by a hand-written loop."""
    TRUE_W, TRUE_B, NUM_EXAMPLES = 3.0, 2.0, 201
    tf.random.set_seed(0)
    x = tf.linspace(-2, 2, NUM_EXAMPLES)
    x = tf.cast(x, tf.float32)

    def f(x):
        return x * TRUE_W + TRUE_B

    noise = tf.random.normal(shape=[NUM_EXAMPLES])
    y = f(x) + noise

    class MyModel(tf.Module):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # Initialize the weights to `5.0` and the bias to `0.0`
            # In practice, these should be randomly initialized
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def __call__(self, x):
            return self.w * x + self.b

    model = MyModel()
    assert len(model.variables) == 2 and model.trainable_variables[0] is model.w

    def loss(target_y, predicted_y):
        return tf.reduce_mean(tf.square(target_y - predicted_y))

    def train(model, x, y, learning_rate):
        with tf.GradientTape() as t:
            # Trainable variables are automatically tracked by GradientTape
            current_loss = loss(y, model(x))
        # Use GradientTape to calculate the gradients with respect to W and b
        dw, db = t.gradient(current_loss, [model.w, model.b])
        # Subtract the gradient scaled by the learning rate
        model.w.assign_sub(learning_rate * dw)
        model.b.assign_sub(learning_rate * db)

    before = float(loss(y, model(x)))
    for epoch in range(10):
        train(model, x, y, learning_rate=0.1)
    assert float(loss(y, model(x))) < before / 3
    assert abs(float(model.w) - TRUE_W) < 0.5 and abs(float(model.b) - TRUE_B) < 0.5


def test_tensorflow_beginner_quickstart():
    (x_train, y_train), (x_test, y_test) = _mnist_like(256, 0), _mnist_like(64, 1)
    x_train, x_test = x_train / 255.0, x_test / 255.0
    tf.random.set_seed(0)
    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation='relu'),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10)
    ])
    predictions = model(x_train[:1]).numpy()
    probabilities = tf.nn.softmax(predictions).numpy()
    assert probabilities.shape == (1, 10) and abs(probabilities.sum() - 1) < 1e-5
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert 1.0 < loss_fn(y_train[:1], predictions).numpy() < 4.0  # about -log(1/10)
    model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=5, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.5
    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    assert np.allclose(probability_model(x_test[:5]).numpy().sum(axis=1), 1, atol=1e-5)


def test_zeros_and_ones_take_tensorflow_datatype_numbers():
    """tf.zeros(1, 1) is float32 zeros of shape (1,) in TensorFlow (1 is DT_FLOAT); the tf.keras
    subclassing guide calls it so."""
    assert tf.zeros(1, 1).dtype == np.float32 and tf.zeros(1, 1).shape == (1,)
    assert tf.ones((2,), 3).dtype == np.int32 and tf.ones(2, 2).dtype == np.float64
