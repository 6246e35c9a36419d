"""``numkeras vanishing``: the table, the files, the same start for every activation, errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from tests.cli.test_train import closed_port

from numkeras.cli import build_parser, main, vanishing
from numkeras.datasets import _loader
from numkeras.models import Sequential

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = ["--depth", "4", "--units", "8", "--epochs", "2", "--samples", "120"]


def run_small(tmp_path, *extra) -> tuple[int, dict]:
    code = main(["vanishing", *SMALL, "--output", str(tmp_path / "out"), *extra])
    results = json.loads((tmp_path / "out" / vanishing.RESULTS_FILE).read_text())
    return code, results


def test_prints_the_table_and_writes_every_file(loader, tmp_path, capsys):
    code, results = run_small(tmp_path, "--activations", "sigmoid,relu")
    out = capsys.readouterr().out
    assert code == 0 and loader.calls == ["fashion_mnist"]
    assert "the first 120 training images, 100 test images; 4 hidden Dense(8) layers" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.startswith(("sigmoid ", "relu "))}
    assert set(rows) == {"sigmoid", "relu"}
    for run in results["runs"]:
        first, last = run["initial"][0], run["initial"][-2]  # [-1] is the output layer
        cells = rows[run["activation"]]
        assert [float(c) for c in cells[:3]] == pytest.approx([first, last, first / last],
                                                              rel=1e-2)
        assert float(cells[-1]) == pytest.approx(run["test_accuracy"], abs=1e-4)
        assert run["layers"] == ["hidden_1", "hidden_2", "hidden_3", "hidden_4", "output"]
        assert len(run["history"]["test_accuracy"]) == 2
    directory = tmp_path / "out"
    csv = (directory / vanishing.TABLE_FILE).read_text().splitlines()
    assert csv[0].startswith("activation,first_initial,last_initial,ratio_initial")
    assert [line.split(",")[0] for line in csv[1:]] == ["sigmoid", "relu"]
    for name in ("gradient_norms.png", "accuracy.png", "gradient_flow_sigmoid.png",
                 "gradient_flow_relu.png"):
        assert (directory / name).read_bytes().startswith(PNG_MAGIC), name
    assert results["settings"]["depth"] == 4


def test_sigmoid_gradients_vanish_towards_the_input_and_relu_s_do_not(loader, tmp_path):
    _, results = run_small(tmp_path, "--activations", "sigmoid,relu", "--depth", "6")
    ratios = {run["activation"]: run["initial"][0] / run["initial"][-2]
              for run in results["runs"]}
    assert ratios["sigmoid"] < 1e-2 and ratios["relu"] > 1e-1


def test_every_activation_starts_from_the_same_weights_and_sees_the_same_batches(
        loader, tmp_path, monkeypatch):
    starts, first_batches = [], []
    original_build, original_step = vanishing.build_model, Sequential.train_step

    def build(*args, **kwargs):
        model = original_build(*args, **kwargs)
        starts.append(model.get_weights())
        return model

    def train_step(self, x, y, sample_weight=None):
        if self not in [model for model, _ in first_batches]:
            first_batches.append((self, x.copy()))
        return original_step(self, x, y, sample_weight)

    monkeypatch.setattr(vanishing, "build_model", build)
    monkeypatch.setattr(Sequential, "train_step", train_step)
    assert main(["vanishing", *SMALL, "--activations", "relu,tanh,selu", "--quiet",
                 "--output", str(tmp_path / "out")]) == 0
    relu, tanh, selu = starts
    assert all(np.array_equal(a, b) for a, b in zip(relu, tanh))
    assert not np.array_equal(relu[0], selu[0])  # SELU's kernels are LeCun-normal
    batches = [x for _, x in first_batches]
    assert np.array_equal(batches[0], batches[1]) and np.array_equal(batches[0], batches[2])


def test_selu_gets_lecun_normal_weights():
    model = vanishing.build_model("selu", depth=2, units=4)
    assert all(layer.kernel_initializer.__class__.__name__ == "LecunNormal"
               for layer in model.layers[1:3])
    assert vanishing.build_model("relu", 2, 4).layers[1].kernel_initializer.__class__.__name__ \
        == "GlorotUniform"


def test_a_run_repeats_exactly(loader, tmp_path):
    _, first = run_small(tmp_path / "a", "--activations", "tanh", "--quiet")
    _, second = run_small(tmp_path / "b", "--activations", "tanh", "--quiet")
    for a, b in zip(first["runs"], second["runs"]):
        assert (a["initial"], a["trained"], a["history"]) == (b["initial"], b["trained"],
                                                             b["history"])


def test_seed_random_draws_one_seed_shared_by_every_activation(loader, tmp_path, capsys):
    _, results = run_small(tmp_path, "--activations", "relu,leaky_relu", "--seed", "random")
    seed = results["settings"]["seed"]
    assert isinstance(seed, int) and f"seed {seed}." in capsys.readouterr().out


def test_more_samples_than_the_data_set_has_uses_them_all(loader, tmp_path, capsys):
    run_small(tmp_path, "--activations", "relu", "--samples", "100000")
    assert "the first 300 training images" in capsys.readouterr().out


def test_defaults_are_the_lecture_experiment():
    args = build_parser().parse_args(["vanishing"])
    assert (args.depth, args.units, args.epochs, args.samples, args.seed) == (10, 64, 5, 20000,
                                                                              0)
    assert args.activations == ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu"]


@pytest.mark.parametrize("argv, message", [
    (["--depth", "1"], "argument --depth: expected at least 2 hidden layers"),
    (["--depth", "x"], "argument --depth: expected a positive integer, got 'x'"),
    (["--units", "0"], "argument --units: expected a positive integer, got '0'"),
    (["--epochs", "-1"], "argument --epochs: expected a positive integer"),
    (["--samples", "many"], "argument --samples: expected a positive integer"),
    (["--activations", "sigmoid,relux"], "Unknown activation 'relux'. Did you mean 'relu'?"),
    (["--activations", "relu,,tanh"], "expected activation names separated by commas"),
    (["--activations", "relu,tanh,relu"], "activation(s) listed twice: relu"),
    (["--learning-rate", "0"], "argument --learning-rate: expected a positive number"),
    (["--seed", "-3"], "argument --seed: expected a non-negative integer"),
])
def test_invalid_options_exit_2_with_a_message(loader, capsys, argv, message):
    with pytest.raises(SystemExit) as raised:
        main(["vanishing", *argv])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert re.search(r"^numkeras vanishing: error: ", err, re.MULTILINE) and message in err, err
    assert loader.calls == []


def test_a_missing_data_set_exits_1_with_its_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUMKERAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NUMKERAS_DATA", raising=False)
    monkeypatch.setattr(_loader, "SYSTEM_DATA_DIR", tmp_path / "no_system_copy")
    monkeypatch.setenv("NUMKERAS_DATASETS_URL", f"http://127.0.0.1:{closed_port()}/")
    assert main(["vanishing", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("numkeras vanishing: error: Fashion-MNIST was not found")
    assert "Traceback" not in err and not (tmp_path / "runs").exists()
