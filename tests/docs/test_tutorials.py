"""The tutorials stay honest: their code runs, their commands parse, their figures exist, and
their vanishing-gradient table is the one the committed run wrote.

Every ```python block of docs/tutorial.md (and of its Korean twin, whose code must be the same)
runs in order as one script, with ``fashion_mnist.load_data`` replaced by 300 synthetic
training images and 100 test images: the code is the documented code, only the data is small.
"""

from __future__ import annotations

import csv
import pathlib
import re
import shlex

import numpy as np
import pytest
from tests.helpers import synthetic_images

from numkeras.cli import build_parser
from numkeras.datasets import fashion_mnist

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
TUTORIALS = ["tutorial.md", "tutorial.ko.md"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_FIGURE_BYTES = 200_000


def blocks(name: str, language: str) -> list[str]:
    text = (DOCS / name).read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def small_fashion_mnist(path=None, **kwargs):
    """Fashion-MNIST's shapes and dtypes (uint8 images, uint8 labels), 300 + 100 images."""
    splits = []
    for count, seed in ((300, 0), (100, 1)):
        images, labels = synthetic_images(count, seed=seed)
        splits.append((np.round(images * 255).astype(np.uint8), labels))
    return tuple(splits)


@pytest.mark.parametrize("name", TUTORIALS)
def test_the_python_blocks_run_in_order(name, monkeypatch, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(fashion_mnist, "load_data", small_fashion_mnist)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "tutorial"}
    code = blocks(name, "python")
    assert len(code) >= 8
    for number, block in enumerate(code, start=1):
        exec(compile(block, f"{name}, python block {number}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "'hard_sigmoid'" in out and "sigmoid: first hidden layer" in out
    assert "hidden_1: gradient norm" in out and "worst rel. error" in out
    assert "Total params: 101,770" in out and "test accuracy: " in out
    assert namespace["report"].ok
    for figure in ("gradient_flow.png", "history.png"):
        assert (tmp_path / figure).read_bytes().startswith(PNG_MAGIC), figure


def test_the_korean_tutorial_has_the_same_code_and_commands():
    for language in ("python", "bash"):
        assert blocks("tutorial.ko.md", language) == blocks("tutorial.md", language)


@pytest.mark.parametrize("name", TUTORIALS)
def test_every_documented_command_parses(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    commands = [line for block in blocks(name, "bash") for line in block.splitlines()]
    commands += re.findall(r"`(numkeras [^`]+)`", text)
    commands = [c for c in commands if c.startswith("numkeras ") and "--help" not in c]
    assert any(c.startswith("numkeras vanishing") for c in commands)
    assert any(c.startswith("numkeras activations") for c in commands)
    parser = build_parser()
    for command in commands:
        parser.parse_args(shlex.split(command)[1:])  # exits (code 2) on an unknown option


@pytest.mark.parametrize("name", TUTORIALS)
def test_the_figures_exist_and_are_small_pngs(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(figures) == 5
    for figure in figures:
        data = (DOCS / figure).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) < MAX_FIGURE_BYTES, figure


@pytest.mark.parametrize("name", TUTORIALS)
def test_the_vanishing_table_is_the_committed_run_s(name):
    """The table printed in the tutorial matches docs/images/vanishing/vanishing.csv, written by
    the run that made the figures, and says what the lecture says."""
    text = (DOCS / name).read_text(encoding="utf-8")
    with open(DOCS / "images" / "vanishing" / "vanishing.csv", encoding="utf-8") as handle:
        rows = {row["activation"]: row for row in csv.DictReader(handle)}
    columns = ["first_initial", "last_initial", "ratio_initial", "first_trained",
               "last_trained", "ratio_trained"]
    for activation, row in rows.items():
        line = re.search(rf"^{activation} +(.+)$", text, re.MULTILINE).group(1).split()
        assert [float(cell) for cell in line[:6]] == pytest.approx(
            [float(row[c]) for c in columns], rel=6e-3), activation
        assert float(line[6]) == pytest.approx(float(row["test_accuracy"]), abs=1e-4)
    assert float(rows["sigmoid"]["ratio_initial"]) < 1e-3
    assert float(rows["relu"]["ratio_initial"]) > 1e-1
    assert float(rows["sigmoid"]["test_accuracy"]) < 0.2 < float(rows["relu"]["test_accuracy"])
