"""summary(): the classic text byte for byte, and Keras 3's table (keras-compat.md section 1)."""

import numpy as np
import pytest

import numkeras as keras
from tests.helpers import FIXTURES, lecture_model


def captured(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def test_classic_summary_is_byte_exact():
    expected = (FIXTURES / "summary_tfkeras_2.0-2.6.txt").read_text(encoding="utf-8")
    lines = captured(lecture_model(keras))
    assert "\n".join(lines) + "\n" == expected


def test_classic_summary_calls_print_fn_once_per_line(capsys):
    lecture_model(keras).summary()
    expected = (FIXTURES / "summary_tfkeras_2.0-2.6.txt").read_text(encoding="utf-8")
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("width,fixture", [(88, "summary_keras3_width88.txt"),
                                           (76, "summary_keras3_width76.txt")])
def test_keras3_summary_matches_capture(width, fixture):
    texts = []
    lecture_model(keras).summary(style="keras3", line_length=width, print_fn=texts.append)
    assert texts == [(FIXTURES / fixture).read_text(encoding="utf-8")]


def test_keras3_summary_after_fit_counts_optimizer_variables():
    model = lecture_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.zeros((4, 28, 28)), np.zeros(4), verbose=0)
    texts = []
    model.summary(style="keras3", line_length=88, print_fn=texts.append)
    expected = (FIXTURES / "summary_keras3_width88_after_fit.txt").read_text(encoding="utf-8")
    assert texts == [expected]


def test_keras3_width_defaults_to_76_without_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    texts = []
    lecture_model(keras).summary(style="keras3", print_fn=texts.append)
    assert texts[0] == (FIXTURES / "summary_keras3_width76.txt").read_text(encoding="utf-8")


def test_frozen_layer_counts_as_non_trainable():
    model = lecture_model(keras)
    model.layers[1].trainable = False
    lines = captured(model)
    assert lines[-4:-1] == ["Total params: 101,770", "Trainable params: 1,290",
                            "Non-trainable params: 100,480"]


def test_unbuilt_model_raises():
    model = keras.Sequential([keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="This model has not yet been built"):
        model.summary()
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()


def test_unbuilt_model_in_keras3_style_shows_question_marks():
    texts = []
    keras.Sequential([keras.layers.Dense(4)]).summary(style="keras3", line_length=88,
                                                      print_fn=texts.append)
    assert "│ ?" in texts[0] and "0 (unbuilt)" in texts[0]


def test_show_trainable_and_layer_range():
    model = lecture_model(keras)
    model.layers[2].trainable = False
    lines = captured(model, show_trainable=True, layer_range=("dense", "dense_1"))
    assert lines[2].rstrip().endswith("Trainable")
    rows = [line for line in lines if line.startswith("dense")]
    assert [row.rstrip()[-1] for row in rows] == ["Y", "N"]
    assert not any(line.startswith("flatten") for line in lines)


def test_unknown_style():
    with pytest.raises(ValueError, match="Unknown summary style"):
        lecture_model(keras).summary(style="fancy")
