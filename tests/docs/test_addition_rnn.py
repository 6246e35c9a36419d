"""The keras.io example "Sequence to sequence learning for performing number addition"
(examples/nlp/addition_rnn.py: an LSTM encoder, RepeatVector, an LSTM decoder returning
sequences and a softmax Dense over every step, trained on one-hot strings such as "535+61") runs
on numkeras with only the import changed. Its program is retold here with the same calls, on a
few hundred questions and two epochs, so it runs in seconds."""

import numpy as np

import numkeras as keras
from numkeras import layers

DIGITS = 2
MAXLEN = DIGITS + 1 + DIGITS  # "12+34"
CHARS = "0123456789+ "


class CharTable:
    """One-hot encoding of strings over ``CHARS`` and back, as the example's CharacterTable."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text, rows):
        x = np.zeros((rows, len(self.chars)))
        for i, c in enumerate(text):
            x[i, self.index[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.chars[i] for i in x)


def questions(count, rng):
    seen, pairs = set(), []
    while len(pairs) < count:
        a, b = (int(rng.integers(0, 10 ** int(rng.integers(1, DIGITS + 1)))) for _ in range(2))
        if tuple(sorted((a, b))) in seen:
            continue
        seen.add(tuple(sorted((a, b))))
        query = f"{a}+{b}".ljust(MAXLEN)[::-1]  # reversed, as the example does
        pairs.append((query, str(a + b).ljust(DIGITS + 1)))
    return pairs


def test_addition_rnn_example_runs():
    rng = np.random.default_rng(0)
    table = CharTable(CHARS)
    data = questions(400, rng)
    x = np.zeros((len(data), MAXLEN, len(CHARS)), dtype=bool)
    y = np.zeros((len(data), DIGITS + 1, len(CHARS)), dtype=bool)
    for i, (query, answer) in enumerate(data):
        x[i] = table.encode(query, MAXLEN)
        y[i] = table.encode(answer, DIGITS + 1)
    split = len(x) - len(x) // 10
    (x_train, x_val), (y_train, y_val) = (x[:split], x[split:]), (y[:split], y[split:])

    model = keras.Sequential()
    model.add(layers.LSTM(128, input_shape=(MAXLEN, len(CHARS))))
    model.add(layers.RepeatVector(DIGITS + 1))
    model.add(layers.LSTM(128, return_sequences=True))
    model.add(layers.Dense(len(CHARS), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.summary()

    losses = []
    for _ in range(2):
        history = model.fit(x_train, y_train, batch_size=32, epochs=1,
                            validation_data=(x_val, y_val), verbose=0)
        losses.append(history.history["loss"][0])
        row = int(rng.integers(0, len(x_val)))
        preds = np.argmax(model.predict(x_val[np.array([row])], verbose=0), axis=-1)
        guess = table.decode(preds[0], calc_argmax=False)
        assert len(guess) == DIGITS + 1 and set(guess) <= set(CHARS)
        assert table.decode(x_val[row])[::-1].strip()  # the question reads back
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert losses[1] < losses[0]
