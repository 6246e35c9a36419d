"""The keras.io example "Text classification with Transformer" (Keras 3 version): its
TransformerBlock and TokenAndPositionEmbedding layers, written against the Keras API, build
and train with only the import changed, and with the same weights predict what Keras 3
predicts (when Keras is installed)."""

import numpy as np
import pytest

import numkeras

VOCAB, MAXLEN, EMBED, HEADS, FF = 40, 10, 16, 2, 16


def build_example(keras):
    """The example's two layers and classifier, against the API module ``keras``."""
    ops, layers = keras.ops, keras.layers

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"),
                                         layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attended = self.dropout1(self.att(inputs, inputs))
            out1 = self.layernorm1(inputs + attended)
            return self.layernorm2(out1 + self.dropout2(self.ffn(out1)))

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            positions = ops.arange(start=0, stop=ops.shape(x)[-1], step=1)
            return self.token_emb(x) + self.pos_emb(positions)

    inputs = layers.Input(shape=(MAXLEN,))
    x = TokenAndPositionEmbedding(MAXLEN, VOCAB, EMBED)(inputs)
    x = TransformerBlock(EMBED, HEADS, FF)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(rng, n=96):
    tokens = rng.integers(0, VOCAB, (n, MAXLEN))
    labels = (tokens == 7).any(axis=1).astype("int64")  # does token 7 occur anywhere?
    return tokens, labels


def test_example_builds_and_trains(rng):
    model = build_example(numkeras)
    # embeddings, the block (attention 2160, feed-forward 544, two norms 64), the head
    assert model.count_params() == (VOCAB + MAXLEN) * EMBED + 2768 + (16 * 20 + 20) + 42
    tokens, labels = _data(rng)
    history = model.fit(tokens, labels, batch_size=16, epochs=6, verbose=0,
                        validation_data=(tokens[:32], labels[:32]))
    losses = history.history["loss"]
    assert losses[-1] < losses[0] and np.isfinite(history.history["val_loss"]).all()
    assert model.predict(tokens[:4], verbose=0).shape == (4, 2)


def test_example_predicts_what_keras_predicts(rng):
    keras = pytest.importorskip("keras")
    theirs, ours = build_example(keras), build_example(numkeras)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    tokens, _ = _data(rng, 8)
    np.testing.assert_allclose(ours.predict(tokens, verbose=0),
                               np.asarray(theirs.predict(tokens, verbose=0)),
                               rtol=1e-5, atol=1e-6)
