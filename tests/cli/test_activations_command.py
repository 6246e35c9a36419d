"""``numkeras activations``: the figure, its panels, derivatives by backprop, dir(), errors."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import numkeras as keras
from numkeras.cli import activations as command
from numkeras.cli import build_parser, main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TITLES = ["Sigmoid", "tanh", "ReLU", "Leaky ReLU (slope 0.2)", "ELU", "SELU", "Swish (SiLU)",
          "Softplus", "Hard sigmoid", "Maxout (3 linear pieces)"]


def test_prints_dir_of_keras_activations_and_writes_the_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "plots" / "acts.png"
    assert main(["activations", "--output", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "dir(keras.activations):"
    assert ast.literal_eval(out[1]) == dir(keras.activations)
    assert "hard_sigmoid" in out[1] and "selu" in out[1]
    assert out[2] == f"Wrote 10 activations and their derivatives to {path}"
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_a_directory_output_gets_activations_png(tmp_path):
    args = build_parser().parse_args(["activations", "--output", str(tmp_path)])
    assert args.output == tmp_path / "activations.png"
    assert build_parser().parse_args(["activations"]).output.name == "activations.png"


def test_ten_panels_with_labelled_axes_and_legends():
    pytest.importorskip("matplotlib")
    figure = command.activations_figure()
    assert [axes.get_title() for axes in figure.axes] == TITLES
    for axes in figure.axes:
        assert axes.get_xlabel() == "x" and axes.get_ylabel() == "f(x), f'(x)"
        assert [t.get_text() for t in axes.get_legend().get_texts()] == [
            "f(x)", "f'(x) by backprop"]


@pytest.mark.parametrize("name, derivative", [
    ("sigmoid", lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    ("tanh", lambda x: 1 - np.tanh(x) ** 2),
    ("relu", lambda x: (x > 0).astype(float)),
    ("leaky_relu", lambda x: np.where(x > 0, 1.0, 0.2)),
    ("elu", lambda x: np.where(x > 0, 1.0, np.exp(x))),
    ("softplus", lambda x: 1 / (1 + np.exp(-x))),
    ("swish", lambda x: (1 + np.exp(-x) + x * np.exp(-x)) / (1 + np.exp(-x)) ** 2),
    ("hard_sigmoid", lambda x: np.where(np.abs(x) < 3, 1 / 6, 0.0)),
])
def test_derivatives_come_from_backprop_and_match_the_formulas(name, derivative):
    x = np.array([-4.0, -2.5, -0.7, 0.4, 1.9, 4.5])  # away from kinks
    _, slopes = command.with_derivative(keras.activations.get(name), x)
    np.testing.assert_allclose(slopes, derivative(x), rtol=1e-6, atol=1e-9)


def test_maxout_is_the_max_of_its_pieces():
    x = np.array([-4.0, -2.0, 0.0, 1.0, 3.0], dtype=np.float32)
    values, slopes = command.with_derivative(command.maxout_function(), x)
    pieces = x[:, None] * command.MAXOUT_KERNEL[0] + command.MAXOUT_BIAS
    np.testing.assert_allclose(values, pieces.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(slopes, command.MAXOUT_KERNEL[0][pieces.argmax(axis=1)])
    assert len(set(slopes.tolist())) == 3  # all three pieces appear on [-5, 5]


def test_an_output_that_is_not_a_png_exits_2(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["activations", "--output", "plot.jpg"])
    assert raised.value.code == 2
    assert "argument --output: expected a .png file or a directory, got 'plot.jpg'" in \
        capsys.readouterr().err


def test_without_matplotlib_it_still_prints_dir_and_exits_1(monkeypatch, tmp_path, capsys):
    def no_matplotlib():
        raise ImportError("Plotting needs matplotlib")

    monkeypatch.setattr(command, "activations_figure", no_matplotlib)
    assert main(["activations", "--output", str(tmp_path / "a.png")]) == 1
    captured = capsys.readouterr()
    assert "dir(keras.activations):" in captured.out
    assert "pip install 'numkeras[plot]'" in captured.err
    assert not (tmp_path / "a.png").exists()


def test_the_docstring_examples_run():
    import doctest

    assert doctest.testmod(command).failed == 0
