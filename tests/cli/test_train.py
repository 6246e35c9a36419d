"""``numkeras train``: outputs, options, errors, and the command as a process."""

from __future__ import annotations

import builtins
import json
import os
import pathlib
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from numkeras import layers
from numkeras.cli import build_parser, main, predict, train
from numkeras.datasets import _loader, fashion_mnist

ROOT = pathlib.Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d")


def run_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """The single directory under runs/."""
    (directory,) = (tmp_path / "runs").iterdir()
    return directory


def model_file(directory: pathlib.Path) -> pathlib.Path:
    path = directory / train.KERAS_FILE
    assert path.is_file(), sorted(os.listdir(directory))
    return path


def csv_rows(path: pathlib.Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines()]


# ----- a default run -----
def test_default_run_prints_the_report_and_writes_every_file(loader, tmp_path, capsys):
    assert main(["train", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    directory = run_dir(tmp_path)
    assert TIMESTAMP.fullmatch(directory.name)
    assert loader.calls == ["fashion_mnist"]

    assert 'Model: "sequential"' in out and "flatten (Flatten)" in out
    assert "Total params: 101,770" in out
    assert "Fashion-MNIST: 300 training images, 100 test images; pixels scaled" in out
    assert re.search(r"10/10 \[=+\] - .*loss: .* - test_accuracy: ", out), out
    test_accuracy = float(re.search(r"Test loss: \d\.\d{4} - test accuracy: (\d\.\d{4})",
                                    out).group(1))
    assert "Per-class test accuracy:" in out
    for name in fashion_mnist.CLASS_NAMES:
        assert re.search(rf"^  {re.escape(name)} +(\d\.\d{{4}}|n/a) ", out, re.MULTILINE), name
    total = re.search(r"^  All +(\d\.\d{4}) ", out, re.MULTILINE)
    assert float(total.group(1)) == pytest.approx(test_accuracy, abs=1e-4)
    assert f"to {directory.relative_to(tmp_path)}{os.sep}" in out

    rows = csv_rows(directory / "history.csv")
    assert rows[0] == ["epoch", "loss", "accuracy", "test_loss", "test_accuracy"]
    assert len(rows) == 2 and rows[1][0] == "0" and all(float(v) >= 0 for v in rows[1][1:])
    assert float(rows[1][4]) == pytest.approx(test_accuracy, abs=1e-4)
    assert json.loads((directory / "labels.json").read_text()) == {
        "dataset": "fashion_mnist", "title": "Fashion-MNIST",
        "class_names": fashion_mnist.CLASS_NAMES}
    assert (directory / "history.png").read_bytes().startswith(PNG_MAGIC)
    model_file(directory)
    assert not [name for name in os.listdir(directory) if name.startswith(".tmp")]


def test_defaults_are_the_lecture_experiment():
    args = build_parser().parse_args(["train"])
    # --epochs defaults by model when the run starts: 5 for the lecture's mlp, 10 for cnn.
    assert (args.dataset, args.model, args.epochs, args.batch_size) == ("fashion_mnist", "mlp",
                                                                       None, 32)
    assert train.DEFAULT_EPOCHS == {"mlp": 5, "cnn": 10, "lstm": 8}
    assert (args.hidden, args.activation, args.optimizer) == ([128], "relu", "adam")
    assert (args.learning_rate, args.validation_split, args.seed) == (None, 0.0, 0)
    assert (args.output, args.quiet) == (None, False)


def test_saved_model_matches_the_options_and_predicts_like_the_trained_one(loader, tmp_path,
                                                                           capsys):
    output = tmp_path / "out"
    argv = ["train", "--epochs", "2", "--batch-size", "16", "--hidden", "64, 32",
            "--activation", "tanh", "--optimizer", "SGD", "--learning-rate", "0.05",
            "--validation-split", "0.2", "--seed", "3", "--output", str(output), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Model:" not in out and "Per-class" not in out and "[====" not in out
    assert "Test loss:" in out and f"to {output}{os.sep}" in out
    rows = csv_rows(output / "history.csv")
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "test_loss",
                       "test_accuracy"]
    assert len(rows) == 3

    model, names, _ = predict.load_model(output)
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    assert [layer.units for layer in dense] == [64, 32, 10]
    assert [layer.activation.__name__ for layer in dense] == ["tanh", "tanh", "softmax"]
    assert names == fashion_mnist.CLASS_NAMES


def test_learning_rate_and_optimizer_reach_the_optimizer():
    args = build_parser().parse_args(["train", "--optimizer", "rmsprop", "--learning-rate",
                                      "0.25"])
    optimizer = train._make_optimizer(args)
    assert type(optimizer).__name__ == "RMSprop"
    assert optimizer.learning_rate == pytest.approx(0.25)


def test_a_seed_makes_the_run_repeat(loader, tmp_path):
    for name in ("a", "b"):
        assert main(["train", "--epochs", "1", "--seed", "7", "--quiet",
                     "--output", str(tmp_path / name)]) == 0
    assert (tmp_path / "a/history.csv").read_text() == (tmp_path / "b/history.csv").read_text()


def test_mnist_is_loaded_by_name_and_labelled(loader, tmp_path, capsys):
    assert main(["train", "--dataset", "mnist", "--epochs", "1", "--validation-split", "0.1",
                 "--output", "m"]) == 0
    assert loader.calls == ["mnist"]
    assert capsys.readouterr().out.startswith("MNIST: 300 training images (30 held out for "
                                              "validation), 100 test images")
    assert json.loads((tmp_path / "m/labels.json").read_text())["dataset"] == "mnist"


def test_runs_started_in_the_same_second_get_their_own_directories(loader, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr(train.time, "strftime", lambda _: "2026-11-29T10-15-00")
    assert train.make_output_dir(None) == pathlib.Path("runs/2026-11-29T10-15-00")
    assert train.make_output_dir(None) == pathlib.Path("runs/2026-11-29T10-15-00-1")


# ----- without matplotlib -----
def test_without_matplotlib_the_run_completes_and_says_how_to_get_plots(loader, tmp_path,
                                                                        monkeypatch, capsys):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert main(["train", "--epochs", "1", "--output", "out"]) == 0
    out = capsys.readouterr().out
    assert "history.png not written: matplotlib is not installed" in out
    assert "pip install 'numkeras[plot]'" in out
    assert (tmp_path / "out/history.csv").is_file() and (tmp_path / "out/labels.json").is_file()
    assert not (tmp_path / "out/history.png").exists()
    model_file(tmp_path / "out")


# ----- invalid options: exit code 2 before any data is loaded -----
@pytest.mark.parametrize("argv, message", [
    (["--dataset", "cifar10"], ("argument --dataset: unknown data set 'cifar10'; choose from "
                                "fashion_mnist, mnist")),
    (["--model", "rnn"], "argument --model: unknown model 'rnn'; choose from mlp, cnn, lstm"),
    (["--activation", "relux"], ("argument --activation: Unknown activation 'relux'. Did "
                                 "you mean 'relu'?")),
    (["--activation", "ReLU"], "Names are case-sensitive: did you mean 'relu'?"),
    (["--optimizer", "adamm"], "argument --optimizer: Unknown optimizer 'adamm'."),
    (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    (["--epochs", "2.5"], "argument --epochs: expected a positive integer, got '2.5'"),
    (["--batch-size", "-4"], "argument --batch-size: expected a positive integer, got '-4'"),
    (["--hidden", "256,,128"], ("argument --hidden: expected positive layer sizes separated "
                                "by commas, such as 256,128; got '256,,128'")),
    (["--hidden", "0"], "argument --hidden: expected positive layer sizes"),
    (["--hidden", "big"], "argument --hidden: expected positive layer sizes"),
    (["--learning-rate", "0"], "argument --learning-rate: expected a positive number"),
    (["--learning-rate", "inf"], "argument --learning-rate: expected a positive number"),
    (["--validation-split", "1"], "argument --validation-split: expected a fraction in [0, 1)"),
    (["--validation-split", "-0.1"], "argument --validation-split: expected a fraction"),
    (["--validation-split", "nan"], "argument --validation-split: expected a fraction"),
    (["--seed", "-1"], "argument --seed: expected a non-negative integer, got '-1'"),
    (["--colour"], "unrecognized arguments: --colour"),
])
def test_invalid_options_exit_2_with_a_message(loader, capsys, argv, message):
    with pytest.raises(SystemExit) as raised:
        main(["train", *argv])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert re.search(r"^numkeras( train)?: error: ", err, re.MULTILINE) and message in err, err
    assert loader.calls == []


def test_an_output_that_is_a_file_is_refused(loader, tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    with pytest.raises(SystemExit) as raised:
        main(["train", "--output", "taken"])
    assert raised.value.code == 2
    assert "argument --output: taken is a file; give a directory" in capsys.readouterr().err


@pytest.mark.skipif(hasattr(layers, "Conv2D"), reason="numkeras has Conv2D: cnn is available")
def test_cnn_without_image_layers_is_refused(loader, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["train", "--model", "cnn"])
    assert raised.value.code == 2
    assert "cnn needs the layers Conv2D and MaxPooling2D" in capsys.readouterr().err


def test_cnn_trains_and_its_saved_model_predicts(loader, tmp_path, capsys):
    assert main(["train", "--model", "cnn", "--epochs", "1", "--hidden", "16",
                 "--output", "cnn"]) == 0
    out = capsys.readouterr().out
    assert "(Conv2D)" in out and "(MaxPooling2D)" in out and "(Dropout)" in out
    model, _, _ = predict.load_model(tmp_path / "cnn")
    assert model.predict(np.zeros((2, 28, 28), np.float32), verbose=0).shape == (2, 10)


def test_lstm_reads_rows_and_its_saved_model_predicts(loader, tmp_path, capsys):
    assert main(["train", "--model", "lstm", "--epochs", "1", "--hidden", "16,8",
                 "--output", "lstm"]) == 0
    out = capsys.readouterr().out
    assert "(LSTM)" in out and "(None, 16)" in out
    model, _, _ = predict.load_model(tmp_path / "lstm")
    assert [type(layer).__name__ for layer in model.layers] == ["LSTM", "Dense", "Dense"]
    assert model.predict(np.zeros((2, 28, 28), np.float32), verbose=0).shape == (2, 10)
    assert train.parameter_count("lstm", hidden=(16, 8)) == model.count_params()


# ----- a missing data set: the data set's message, exit code 1, no traceback -----
def test_a_missing_data_set_exits_1_with_its_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUMKERAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NUMKERAS_DATA", raising=False)
    monkeypatch.setattr(_loader, "SYSTEM_DATA_DIR", tmp_path / "no_system_copy")
    monkeypatch.setenv("NUMKERAS_DATASETS_URL", f"http://127.0.0.1:{closed_port()}/")
    assert main(["train", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("numkeras train: error: Fashion-MNIST was not found and "
                                   "could not be downloaded.")
    assert "sudo apt-get install dataset-fashion-mnist" in captured.err
    assert "Traceback" not in captured.err and not (tmp_path / "runs").exists()


def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ----- pieces -----
def test_per_class_table_counts_each_class():
    table = train.per_class_table(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]),
                                  ["cat", "dog", "bird"])
    assert table.splitlines() == [
        "Per-class test accuracy:",
        "  Class  Accuracy  Correct / Total",
        "  cat      0.5000        1 / 2",
        "  dog      0.6667        2 / 3",
        "  bird        n/a        0 / 0",
        "  All      0.6000        3 / 5",
    ]


# ----- the command as a process -----
def test_python_dash_m_numkeras_help():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-m", "numkeras", "--help"], check=False,
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: numkeras" in result.stdout
    assert "train" in result.stdout and "predict" in result.stdout
    result = subprocess.run([sys.executable, "-m", "numkeras", "train", "--help"],
                            check=False, capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 0 and "--validation-split FRACTION" in result.stdout
