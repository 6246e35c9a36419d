"""The functional API on Fashion-MNIST: a model with two inputs and two outputs, then a dense
autoencoder whose encoder and decoder are models of their own.

    python examples/functional_api.py          # 30 s: test accuracy 0.877, reconstruction MSE 0.012
    python examples/functional_api.py --quick  # 2,000 images, 1 epoch: two seconds

(a) Inputs: the image and its intensity profile (the 28 row means and 28 column means).
    Outputs: the 10-class label and a coarse group (clothing, shoes, bag), each a softmax, with
    one loss, weight and metric per output, given as dicts keyed by output name.
(b) encoder (28x28 -> 32 numbers) and decoder (32 -> 28x28) are Models; the autoencoder calls
    one after the other, trains on mean squared error, and shares their weights.
"""

import argparse

import numpy as np

import numkeras as keras
from numkeras import layers

EPOCHS = 10  # classifier: test accuracy 0.877, coarse group 0.995 (seed 0)
AE_EPOCHS = 10  # autoencoder: test MSE 0.0117; predicting the mean image gives 0.0866
BATCH_SIZE = 128
LATENT_DIM = 32
LOSS_WEIGHTS = {"label": 1.0, "group": 0.5}  # the coarse group is the easier, auxiliary task
QUICK_SAMPLES, QUICK_EPOCHS = 2000, 1
SEED = 0
# Fashion-MNIST classes 0-9 -> 0 clothing, 1 shoes, 2 bag (sandal, sneaker, ankle boot are shoes).
GROUP_OF_CLASS = np.array([0, 0, 0, 0, 0, 1, 0, 1, 2, 1])
GROUP_NAMES = ["clothing", "shoes", "bag"]


def two_io_model() -> keras.Model:
    image = keras.Input(shape=(28, 28), name="image")
    profile = keras.Input(shape=(56,), name="profile")
    x = layers.Dense(128, activation="relu")(layers.Flatten()(image))       # (N, 128)
    p = layers.Dense(32, activation="relu")(profile)                         # (N, 32)
    h = layers.Dense(64, activation="relu")(layers.concatenate([x, p]))      # (N, 64)
    label = layers.Dense(10, activation="softmax", name="label")(h)
    group = layers.Dense(len(GROUP_NAMES), activation="softmax", name="group")(h)
    return keras.Model(inputs=[image, profile], outputs=[label, group], name="two_io")


def autoencoder_models() -> tuple[keras.Model, keras.Model, keras.Model]:
    image = keras.Input(shape=(28, 28), name="image")
    x = layers.Dense(128, activation="relu")(layers.Flatten()(image))
    encoder = keras.Model(image, layers.Dense(LATENT_DIM, activation="relu")(x), name="encoder")

    code = keras.Input(shape=(LATENT_DIM,), name="code")
    x = layers.Dense(128, activation="relu")(code)
    x = layers.Dense(28 * 28, activation="sigmoid")(x)  # pixels are in [0, 1]
    decoder = keras.Model(code, layers.Reshape((28, 28))(x), name="decoder")

    image = keras.Input(shape=(28, 28), name="image")
    autoencoder = keras.Model(image, decoder(encoder(image)), name="autoencoder")
    return encoder, decoder, autoencoder


def inputs_and_targets(images, labels):
    profile = np.concatenate([images.mean(axis=2), images.mean(axis=1)], axis=1)  # (N, 56)
    return ({"image": images, "profile": profile},
            {"label": labels, "group": GROUP_OF_CLASS[labels]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="for both models")
    parser.add_argument("--samples", type=int, default=None, help="train on the first N images")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SAMPLES} images and {QUICK_EPOCHS} epoch (a smoke test)")
    args = parser.parse_args()
    samples = QUICK_SAMPLES if args.quick and args.samples is None else args.samples
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else None)

    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    x_train = (x_train[:samples] / 255.0).astype("float32")  # (N, 28, 28) in [0, 1]
    x_test = (x_test / 255.0).astype("float32")
    y_train = y_train[:samples].astype("int64")
    y_test = y_test.astype("int64")

    # (a) two inputs, two outputs: dicts keyed by input and output names.
    model = two_io_model()
    model.summary()
    model.compile(optimizer="adam",
                  loss={"label": "sparse_categorical_crossentropy",
                        "group": "sparse_categorical_crossentropy"},
                  loss_weights=LOSS_WEIGHTS,
                  metrics={"label": "accuracy", "group": "accuracy"})
    x, y = inputs_and_targets(x_train, y_train)
    model.fit(x, y, epochs=epochs or EPOCHS, batch_size=BATCH_SIZE, validation_split=0.1,
              verbose=2)
    scores = model.evaluate(*inputs_and_targets(x_test, y_test), verbose=0, return_dict=True)
    print(f"Test label accuracy: {scores['label_accuracy']:.4f} - "
          f"group accuracy: {scores['group_accuracy']:.4f} - loss: {scores['loss']:.4f}")

    # (b) autoencoder from two nested models, trained to reproduce its input.
    encoder, decoder, autoencoder = autoencoder_models()
    autoencoder.summary()
    autoencoder.compile(optimizer="adam", loss="mse")
    autoencoder.fit(x_train, x_train, epochs=epochs or AE_EPOCHS, batch_size=BATCH_SIZE,
                    verbose=2)
    mse = autoencoder.evaluate(x_test, x_test, verbose=0)
    baseline = float(np.mean((x_test - x_train.mean(axis=0)) ** 2))  # predict the mean image
    codes = encoder.predict(x_test[:5], verbose=0)  # the trained halves on their own: (5, 32)
    images = decoder.predict(codes, verbose=0)  # (5, 28, 28)
    print(f"Test reconstruction MSE: {mse:.4f} (mean-image baseline {baseline:.4f}); "
          f"encoder {x_test[:5].shape} -> {codes.shape}, decoder -> {images.shape}")


if __name__ == "__main__":
    main()
