"""What fit/evaluate/predict print, against tf.keras 2 itself (the `tf_keras` package;
skipped without it). Times differ from run to run, so they are masked before comparing."""

import re

import numpy as np
import pytest

import numkeras

tf_keras = pytest.importorskip("tf_keras")


def _masked(text: str) -> list[str]:
    text = re.sub(r"\d+(\.\d+)?(ms|us|s)(/step|/epoch)?", "T", text)
    text = re.sub(r"\d+\.\d{4}", "V", text)  # metric values: the weights differ
    return text.splitlines()


def _run(library, capsys, verbose):
    model = library.Sequential([library.layers.Dense(3, activation="softmax",
                                                     input_shape=(4,))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = np.random.default_rng(0).random((100, 4)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, 100)
    capsys.readouterr()
    model.fit(x, y, epochs=2, verbose=verbose, validation_split=0.2)
    model.evaluate(x, y, verbose=verbose)
    model.predict(x, verbose=verbose)
    return _masked(capsys.readouterr().out)


@pytest.mark.parametrize("verbose", [0, 2])
def test_output_lines_match_tf_keras(capsys, verbose):
    assert _run(numkeras, capsys, verbose) == _run(tf_keras, capsys, verbose)
