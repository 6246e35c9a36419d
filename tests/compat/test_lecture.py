"""The lecture's code, unchanged except for its import line, and the native spelling."""

import numpy as np

LECTURE_ACTIVATIONS = ("elu exponential get hard_sigmoid linear relu selu serialize sigmoid "
                       "softmax softplus softsign swish tanh").split()


def test_lecture_code_runs_with_the_tf_spelling(capsys):
    import numkeras.compat.tf as tf
    from numkeras.compat.tf import keras
    from tests.helpers import FIXTURES, synthetic_images

    assert set(LECTURE_ACTIVATIONS) <= set(dir(tf.keras.activations))
    assert keras is tf.keras
    x_train, y_train = synthetic_images(600, seed=1)
    x_test, y_test = synthetic_images(200, seed=2)

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation='relu'),
        tf.keras.layers.Dense(10, activation='softmax')])
    model.summary()
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    history = model.fit(x_train, y_train, epochs=5)
    test_loss, test_acc = model.evaluate(x_test, y_test)

    out = capsys.readouterr().out
    assert out.startswith((FIXTURES / "summary_tfkeras_2.0-2.6.txt").read_text())
    assert out.count("Epoch ") == 5 and "313/313" not in out
    assert history.history["accuracy"][-1] > 0.9 and test_acc > 0.85 and test_loss < 0.5


def test_native_spelling_reaches_every_namespace():
    import numkeras as keras

    for name in ("Sequential", "Input", "layers", "activations", "losses", "optimizers",
                 "metrics", "callbacks", "initializers", "utils", "regularizers", "Model"):
        assert hasattr(keras, name), name
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    assert model.count_params() == 10
    assert keras.utils.to_categorical(np.array([1]), 3).tolist() == [[0.0, 1.0, 0.0]]
    assert isinstance(keras.losses.get("mse"), object)


def test_dir_of_activations_matches_keras_3():
    import numkeras as keras

    names = [n for n in dir(keras.activations) if not n.startswith("__")]
    assert len(names) == 35 and "swish" in names and "sparse_sigmoid" in names


def test_classic_tf_helpers():
    import numkeras.compat.tf as tf

    tf.keras.backend.clear_session()
    assert tf.keras.backend.floatx() == "float32"
    x = np.array([-1.0, 2.0], np.float32)
    np.testing.assert_array_equal(tf.nn.relu(x).data, [0.0, 2.0])
    assert tf.nn.swish is tf.keras.activations.silu
