"""An LSTM reads each Fashion-MNIST image as a sequence: 28 rows (time steps) of 28 pixels.

    python examples/lstm_fashion_mnist.py            # 8 epochs, about 0.88 test accuracy
    python examples/lstm_fashion_mnist.py --epochs 1 --samples 2000   # a quick look

Same network as `numkeras train --model lstm`; only the import differs from Keras 3's code.
"""

import argparse

import numkeras as keras

EPOCHS = 8
BATCH_SIZE = 32
SEED = 0


def build_model() -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(28, 28)),  # (time steps, features): one row of pixels per step
        keras.layers.LSTM(128),  # the whole sequence is one fused node (backprop/recurrent.py)
        keras.layers.Dense(10, activation="softmax"),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--samples", type=int, default=None, help="train on the first N images")
    args = parser.parse_args()

    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    x_train = (x_train / 255.0).astype("float32")[:args.samples]  # (N, 28, 28) in [0, 1]
    x_test = (x_test / 255.0).astype("float32")
    y_train = y_train[:args.samples]

    model = build_model()
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=BATCH_SIZE)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {test_loss:.4f} - test accuracy: {test_acc:.4f}")


if __name__ == "__main__":
    main()
