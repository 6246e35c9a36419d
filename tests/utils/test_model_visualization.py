"""plot_model / model_to_dot: the dot source names the layers, shapes and edges, and Graphviz's
`dot` really draws PNG and SVG files."""

from __future__ import annotations

import builtins
import re

import pytest

import numkeras as keras
from numkeras.utils import model_visualization

pydot = pytest.importorskip("pydot")


def needs_dot():
    if not model_visualization.check_graphviz():
        pytest.skip("Graphviz's `dot` is not installed")


def lecture_model():
    return keras.Sequential([keras.layers.Flatten(input_shape=(28, 28), name="flatten"),
                             keras.layers.Dense(128, activation="relu", name="hidden"),
                             keras.layers.Dense(10, activation="softmax", name="probs")])


def two_in_two_out():
    image = keras.Input((8, 8, 1), name="image")
    meta = keras.Input((3,), name="meta")
    x = keras.layers.Flatten(name="flat")(image)
    merged = keras.layers.Concatenate(name="merge")([x, meta])
    scores = keras.layers.Dense(2, name="scores")(merged)
    extra = keras.layers.Dense(1, name="extra")(merged)
    return keras.Model([image, meta], [scores, extra], name="two")


def edges_by_name(dot) -> set[tuple[str, str]]:
    """(source layer name, destination layer name) for each edge of ``dot`` and its clusters."""
    names, edges = {}, []

    def collect(graph):
        for node in graph.get_nodes():
            label = node.get("label") or ""
            match = re.search(r"<b>([^<]+)</b> \(", label)
            if match:
                names[node.get_name().strip('"')] = match.group(1)
        edges.extend(graph.get_edges())
        for sub in graph.get_subgraphs():
            collect(sub)

    collect(dot)
    return {(names[e.get_source().strip('"')], names[e.get_destination().strip('"')])
            for e in edges}


def test_sequential_dot_has_names_shapes_and_chain_edges():
    dot = keras.utils.model_to_dot(lecture_model(), show_shapes=True, show_dtype=True,
                                   show_layer_activations=True, show_trainable=True)
    source = dot.to_string()
    for text in ("<b>flatten</b> (Flatten)", "<b>hidden</b> (Dense)", "(None, 28, 28)",
                 "(None, 784)", "(None, 128)", "(None, 10)", "Activation: <b>relu</b>",
                 "Output dtype: <b>float32</b>", "Trainable"):
        assert text in source
    assert "InputLayer" not in source  # Keras shows no box for a Sequential's input
    assert edges_by_name(dot) == {("flatten", "hidden"), ("hidden", "probs")}
    assert 'rankdir=TB' in source and "dpi=200" in source


def test_functional_multi_input_output_edges():
    dot = keras.utils.model_to_dot(two_in_two_out(), show_shapes=True, rankdir="LR")
    assert edges_by_name(dot) == {("image", "flat"), ("flat", "merge"), ("meta", "merge"),
                                  ("merge", "scores"), ("merge", "extra")}
    source = dot.to_string()
    assert "[(None, 64), (None, 3)]" in source  # Concatenate's two input shapes
    assert "rankdir=LR" in source


def test_nested_model_collapsed_and_expanded():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="in_a"),
                              keras.layers.Dense(2, name="in_b")], name="inner")
    inputs = keras.Input((4,), name="x")
    outputs = keras.layers.Dense(1, name="head")(inner(inputs))
    model = keras.Model(inputs, outputs)
    assert edges_by_name(keras.utils.model_to_dot(model)) == {("x", "inner"),
                                                              ("inner", "head")}
    expanded = keras.utils.model_to_dot(model, expand_nested=True)
    assert edges_by_name(expanded) == {("x", "in_a"), ("in_a", "in_b"), ("in_b", "head")}
    clusters = expanded.get_subgraphs()
    assert len(clusters) == 1 and clusters[0].get("label").strip('"') == "inner"


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_model_writes_the_image(tmp_path, suffix, magic):
    needs_dot()
    path = tmp_path / f"model{suffix}"
    keras.utils.plot_model(two_in_two_out(), to_file=path, show_shapes=True,
                           show_layer_names=True, dpi=50)
    data = path.read_bytes()
    assert data.startswith(magic)
    if suffix == ".svg":
        text = data.decode()
        assert "scores" in text and "merge" in text and "(None, 67)" in text


def test_missing_pydot_says_what_to_install(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_pydot(name, *args, **kwargs):
        if name == "pydot":
            raise ImportError("No module named 'pydot'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pydot)
    with pytest.raises(ImportError, match="pip install pydot.*apt-get install graphviz"):
        keras.utils.plot_model(lecture_model(), tmp_path / "m.png")


def test_missing_dot_program_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on the path
    with pytest.raises(ImportError, match="apt-get install graphviz"):
        keras.utils.plot_model(lecture_model(), tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="rankdir"):
        keras.utils.model_to_dot(lecture_model(), rankdir="XY")
    with pytest.raises(ValueError, match="not yet been built"):
        keras.utils.model_to_dot(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="Unrecognized"):
        keras.utils.model_to_dot(lecture_model(), colour="red")


def test_subclassed_model_is_one_box():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Sub()
    model.build((None, 2))
    dot = keras.utils.model_to_dot(model)
    assert len(dot.get_nodes()) == 2  # pydot's "node" defaults entry + the model's box
    assert "<b>sub</b> (Sub)" in dot.to_string()
