"""``keras.utils.plot_model`` and ``model_to_dot``: a model's graph of layers drawn by Graphviz.

Needs ``pydot`` (``pip install pydot``, or ``numkeras[graph]``) and Graphviz's ``dot`` program
(``apt-get install graphviz``, ``brew install graphviz``, ``conda install graphviz``).

>>> import numkeras as keras
>>> inputs = keras.Input((4,), name="features")
>>> outputs = keras.layers.Dense(2, name="scores")(inputs)
>>> model = keras.Model(inputs, outputs)
>>> dot = keras.utils.model_to_dot(model, show_shapes=True)  # doctest: +SKIP
>>> keras.utils.plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP

The layout and labels follow Keras 3: one box per layer (an HTML table with the name, class,
and optionally shapes, dtype, activation, trainable), edges from each layer to the layers its
outputs feed, nested models as one box or, with ``expand_nested=True``, as a dashed cluster.
Sequential models show no box for their input, as in Keras. This module reads models by
duck typing (``layers``, and the graph a Sequential or functional model runs on), so utils
stays below models in the import levels.
"""

from __future__ import annotations

import os

_INSTALL_PYDOT = "pip install pydot (or pip install 'numkeras[graph]')"
_INSTALL_GRAPHVIZ = ("install Graphviz, which provides the `dot` program: apt-get install "
                     "graphviz (Debian/Ubuntu), brew install graphviz (macOS), conda install "
                     "graphviz, or see https://graphviz.org/download/")
_RANKDIRS = ("TB", "LR", "BT", "RL")


def _pydot():
    try:
        import pydot
    except ImportError as error:
        raise ImportError(f"You must install pydot for plot_model/model_to_dot to work: "
                          f"{_INSTALL_PYDOT}; and {_INSTALL_GRAPHVIZ}.") from error
    return pydot


def check_graphviz() -> bool:
    """Whether pydot is installed and can run Graphviz's ``dot``."""
    try:
        pydot = _pydot()
    except ImportError:
        return False
    try:
        pydot.Dot.create(pydot.Dot())  # runs `dot`: fails if Graphviz is missing
        return True
    except (OSError, getattr(pydot, "PydotException", OSError)):
        return False


# ----- reading the model (duck typing) -----

def _graph(model):
    """The graph (inputs, outputs, nodes) that runs a Sequential or functional model, or None
    for a subclassed model."""
    graph = model.__dict__.get("_graph")
    if graph is None and model.__dict__.get("_functional") is not None:
        graph = model.__dict__["_functional"]._graph
    return graph


def _is_graph_model(layer) -> bool:
    return _graph(layer) is not None


def _is_sequential(model) -> bool:
    return "_functional" in model.__dict__


def _is_input_layer(layer) -> bool:
    return type(layer).__name__ == "InputLayer"


def _shown_nodes(model) -> list:
    """The graph's nodes that get a box (a Sequential's input has none)."""
    nodes = _graph(model).nodes
    if _is_sequential(model):
        nodes = [node for node in nodes if not node.is_input]
    return nodes


def _shapes_text(tensors) -> str:
    shapes = [tensor.shape for tensor in tensors]
    if not shapes:
        return "?"
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


# ----- boxes -----

def _cell(text: str, colour: str = "white", font_colour: str | None = None) -> str:
    font = f' color="{font_colour}"' if font_colour else ""
    return (f'<td bgcolor="{colour}"><font point-size="14"{font}>{text}</font></td>')


def _escape(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _activation_name(layer) -> str:
    activation = layer.activation
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) \
        or str(activation)


def _label(layer, nodes: list, options: dict) -> str:
    """Keras 3's HTML-table label: a title row, then shapes, dtype and trainable cells."""
    class_name = type(layer).__name__
    title = (f"<b>{_escape(layer.name)}</b> ({class_name})" if options["show_layer_names"]
             else f"<b>{class_name}</b>")
    cells = []
    if options["show_shapes"]:
        inputs = _shapes_text(nodes[0].input_tensors) if len(nodes) == 1 else "?"
        outputs = _shapes_text(nodes[0].output_tensors) if len(nodes) == 1 else "?"
        if not _is_input_layer(layer):
            cells.append(_cell(f"Input shape: <b>{_escape(inputs)}</b>"))
        cells.append(_cell(f"Output shape: <b>{_escape(outputs)}</b>"))
    if options["show_dtype"]:
        dtypes = {tensor.dtype for node in nodes for tensor in node.output_tensors}
        dtype = dtypes.pop() if len(dtypes) == 1 else "?"
        cells.append(_cell(f"Output dtype: <b>{_escape(dtype)}</b>"))
    if options["show_trainable"] and layer.weights:
        cells.append(_cell("<b>Trainable</b>", "forestgreen", "white") if layer.trainable
                     else _cell("<b>Non-trainable</b>", "firebrick", "white"))
    span = max(1, len(cells))
    rows = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td></tr>"]
    if options["show_layer_activations"] and getattr(layer, "activation", None) is not None:
        rows.append(f'<tr><td bgcolor="white" colspan="{span}"><font point-size="14">'
                    f"Activation: <b>{_escape(_activation_name(layer))}</b></font></td></tr>")
    if cells:
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            + "".join(rows) + "</table>>")


def _add_box(pydot, dot, layer, nodes: list, options: dict) -> None:
    box = pydot.Node(str(id(layer)), label=_label(layer, nodes, options))
    box.set("fontname", "Helvetica")
    box.set("border", "0")
    box.set("margin", "0")
    dot.add_node(box)


def _add_edge(pydot, dot, source, destination) -> None:
    source_id, destination_id = str(id(source)), str(id(destination))
    if not dot.get_edge(source_id, destination_id):
        edge = pydot.Edge(source_id, destination_id)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


# ----- edges through nested models -----

def _resolve_source(layer, output_index: int):
    """The real layer that makes output ``output_index`` of ``layer`` (inside nested models)."""
    while _is_graph_model(layer):
        layer, _, output_index = _graph(layer).outputs[output_index]._keras_history
    return layer


def _resolve_destination(layer, input_index: int):
    """The box that input ``input_index`` of ``layer`` enters (inside nested models)."""
    while _is_graph_model(layer):
        if _is_sequential(layer):
            layer = layer.layers[0]
        else:
            layer = _graph(layer).inputs[input_index]._keras_history[0]
    return layer


def _add_edges(pydot, dot, model, expand_nested: bool) -> None:
    for node in _graph(model).nodes:
        for input_index, tensor in enumerate(node.input_tensors):
            source, _, output_index = tensor._keras_history
            if _is_sequential(model) and _is_input_layer(source):
                continue  # a Sequential's input has no box
            destination = node.layer
            if expand_nested:
                source = _resolve_source(source, output_index)
                destination = _resolve_destination(destination, input_index)
            _add_edge(pydot, dot, source, destination)


# ----- public API -----

def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """A ``pydot.Dot`` of ``model``'s layers and connections (a ``pydot.Cluster`` with
    ``subgraph=True``).

    Args:
        model: a built Sequential, functional or subclassed model (a subclassed model is one
            box: its ``call`` is code, not a graph).
        show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable:
            what each box shows.
        rankdir: ``"TB"`` (top to bottom), ``"LR"``, ``"BT"`` or ``"RL"``.
        expand_nested: draw nested models' layers inside dashed clusters.
        dpi: image resolution.
        splines: how Graphviz draws edges (``"ortho"``, ``"curved"``, ``"spline"`` ...).

    >>> import numkeras as keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="out")])
    >>> "out" in keras.utils.model_to_dot(model).to_string()  # doctest: +SKIP
    True
    """
    _check_options(model, rankdir, kwargs)
    pydot = _pydot()
    options = {"show_shapes": show_shapes, "show_dtype": show_dtype,
               "show_layer_names": show_layer_names, "show_trainable": show_trainable,
               "show_layer_activations": show_layer_activations}
    if subgraph:
        dot = pydot.Cluster(graph_name=f"cluster_{id(model)}", style="dashed",
                            label=model.name, labeljust="l")
    else:
        dot = pydot.Dot(rankdir=rankdir, concentrate=True, dpi=dpi, splines=splines)
        dot.set_node_defaults(shape="record")
    if not _is_graph_model(model):
        _add_box(pydot, dot, model, [], options)
        return dot
    by_layer: dict[int, list] = {}
    for node in _shown_nodes(model):
        by_layer.setdefault(id(node.layer), []).append(node)
    for layer in _unique_layers(_shown_nodes(model)):
        if expand_nested and _is_graph_model(layer):
            dot.add_subgraph(model_to_dot(
                layer, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                subgraph=True, show_layer_activations=show_layer_activations,
                show_trainable=show_trainable))
        else:
            _add_box(pydot, dot, layer, by_layer[id(layer)], options)
    _add_edges(pydot, dot, model, expand_nested)
    return dot


def _unique_layers(nodes: list) -> list:
    seen, layers = set(), []
    for node in nodes:
        if id(node.layer) not in seen:
            seen.add(id(node.layer))
            layers.append(node.layer)
    return layers


def _check_options(model, rankdir, kwargs) -> None:
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported (as in Keras 3).")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}.")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {_RANKDIRS}; received rankdir={rankdir!r}.")
    if not getattr(model, "built", False):
        raise ValueError(f"Model '{model.name}' has not yet been built. Build the model first "
                         f"by calling `build()` or by calling the model on a batch of data.")


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draw ``model`` with Graphviz into ``to_file`` (format from its extension: png, svg,
    pdf, ...; png if none). Arguments as :func:`model_to_dot`; ``show_layer_names`` defaults
    to False, as in Keras 3. Returns an ``IPython.display.Image`` when IPython is installed
    (shown inline in notebooks), else None.

    >>> import numkeras as keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> keras.utils.plot_model(model, "model.svg", show_shapes=True)  # doctest: +SKIP
    """
    _check_options(model, rankdir, dict(kwargs))
    _pydot()  # the pip hint first when pydot itself is missing
    if not check_graphviz():
        raise ImportError(f"plot_model needs Graphviz's `dot` program, which pydot cannot "
                          f"run here: {_INSTALL_GRAPHVIZ}.")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    image = dot.create(format=extension)
    from numkeras.utils.files import write_atomic

    write_atomic(to_file, lambda handle: handle.write(image))
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
