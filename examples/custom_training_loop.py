"""A training loop written by hand with GradientTape, on Fashion-MNIST, next to model.fit.

    python examples/custom_training_loop.py            # 5 epochs of each: 20-30 s each
    python examples/custom_training_loop.py --quick    # 2,000 images, 1 epoch: a smoke test

The lecture's model (Flatten -> Dense(128, relu) -> Dense(10, softmax), Adam) is built twice from
the same seed. One copy trains in the loop below (tf.data batches, a tape, apply_gradients,
metrics by hand); the other trains with ``model.fit`` on the same batches in the same order
(each epoch's shuffled copy of the data, passed to fit with ``shuffle=False``). Both paths do the
same arithmetic, so they end with the same weights and the same test accuracy: the loop is
``fit``'s training step, written out.
"""

import argparse
import time

import numpy as np

import numkeras as keras
import numkeras.compat.tf as tf

EPOCHS = 5  # seed 0: both reach test accuracy 0.8653 with identical weights (2 busy cores)
BATCH_SIZE = 32
QUICK_SAMPLES, QUICK_EPOCHS = 2000, 1
SEED = 0


def lecture_model() -> keras.Model:
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def train_with_tape(model, epoch_orders, x_train, y_train):
    """The loop: per batch a forward pass under a tape, its gradients, one Adam step."""
    optimizer = keras.optimizers.Adam()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    train_loss = keras.metrics.Mean(name="loss")
    train_accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def train_step(images, labels):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            loss = loss_fn(labels, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        train_loss.update_state(loss)
        train_accuracy.update_state(labels, predictions)

    for epoch, order in enumerate(epoch_orders):
        train_loss.reset_state()
        train_accuracy.reset_state()
        batches = tf.data.Dataset.from_tensor_slices(
            (x_train[order], y_train[order])).batch(BATCH_SIZE)
        for images, labels in batches:
            train_step(images, labels)
        print(f"tape epoch {epoch + 1}: loss {train_loss.result():.4f} - "
              f"accuracy {train_accuracy.result():.4f}")


def train_with_fit(model, epoch_orders, x_train, y_train):
    """The same batches through model.fit: one fit per epoch on that epoch's order."""
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    for epoch, order in enumerate(epoch_orders):
        logs = model.fit(x_train[order], y_train[order], batch_size=BATCH_SIZE, epochs=1,
                         shuffle=False, verbose=0).history
        print(f"fit  epoch {epoch + 1}: loss {logs['loss'][0]:.4f} - "
              f"accuracy {logs['accuracy'][0]:.4f}")


def test_accuracy(model, x_test, y_test) -> float:
    predictions = model.predict(x_test, batch_size=1000, verbose=0)
    return float(np.mean(predictions.argmax(axis=1) == y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SAMPLES} images and {QUICK_EPOCHS} epoch (a smoke test)")
    args = parser.parse_args()
    samples = QUICK_SAMPLES if args.quick else None
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    x_train = (x_train[:samples] / 255.0).astype("float32")  # (N, 28, 28) in [0, 1]
    y_train = y_train[:samples].astype("int64")
    x_test = (x_test / 255.0).astype("float32")
    rng = np.random.default_rng(SEED)
    epoch_orders = [rng.permutation(len(x_train)) for _ in range(epochs)]

    results = {}
    for name, train in (("GradientTape loop", train_with_tape), ("model.fit", train_with_fit)):
        keras.utils.set_random_seed(SEED)  # the same initial weights for both
        model = lecture_model()
        start = time.perf_counter()
        train(model, epoch_orders, x_train, y_train)
        seconds = time.perf_counter() - start
        results[name] = (test_accuracy(model, x_test, y_test), model.get_weights())
        print(f"{name}: test accuracy {results[name][0]:.4f} ({seconds:.1f} s)")
    (tape_accuracy, tape_weights), (fit_accuracy, fit_weights) = results.values()
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(tape_weights, fit_weights))
    print(f"same test accuracy: {tape_accuracy == fit_accuracy} - largest weight difference "
          f"{difference:.2e}")


if __name__ == "__main__":
    main()
