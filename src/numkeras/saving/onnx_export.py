"""ONNX export: a Sequential or functional model as an ONNX graph that runs without numkeras.

``model.export("model.onnx", format="onnx")`` (Keras 3's spelling) walks the model's graph of
layers once, node by node, and writes each layer as a few ONNX operators with its weights as
initializers. The batch axis is dynamic (``batch``). Layers that run only in training
(Dropout, the random augmentation layers) become ``Identity``; RandomCrop becomes its
inference-time centred crop and resize. The ``onnx`` package builds and
checks the file; it is an optional extra (``pip install numkeras[onnx]``).

>>> import numpy as np, os, tempfile
>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="relu")])
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.onnx")
>>> model.export(path, format="onnx")  # doctest: +SKIP
>>> import onnxruntime  # doctest: +SKIP
>>> session = onnxruntime.InferenceSession(path)  # doctest: +SKIP
>>> session.run(None, {"input_layer": np.ones((3, 4), np.float32)})[0].shape  # doctest: +SKIP
(3, 2)

Images stay channels-last at the model's edges, as in Keras; convolutions and pooling
transpose to ONNX's channels-first around the operator (onnxruntime cancels the pairs).

The file computes in the layers' float type (float32, or float64 end to end after
``keras.config.set_floatx("float64")``): ONNX operators never mix float types, so a model whose
layers use different ones is refused, naming the layer.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_OPSET = 17
_MIN_OPSET = 17  # LayerNormalization-era operators; ReduceMean's axes move to an input at 18


class ExportError(ValueError):
    """The model (or one of its layers) cannot be written as ONNX."""


def _onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            "ONNX export needs the `onnx` package: pip install onnx (or numkeras[onnx]). "
            "To run the exported file, also pip install onnxruntime.") from error
    return onnx


def export_onnx(model, filepath, opset_version: int | None = None,
                verbose: bool | None = None) -> None:
    """Write ``model`` (Sequential or functional, built) to ``filepath`` as ONNX.

    Args:
        model: a built Sequential or functional model.
        filepath: where to write the ``.onnx`` file (atomically).
        opset_version: ONNX operator set, 17 (default) or newer.
        verbose: print where the file went.

    Raises:
        ExportError: a subclassed or unbuilt model, or a layer ONNX cannot express here
            (the message names the layer and its class).
    """
    onnx = _onnx()
    opset = _check_opset(onnx, opset_version)
    proto = build_model_proto(model, opset)
    onnx.checker.check_model(proto)
    from numkeras.utils.files import write_atomic

    data = proto.SerializeToString()
    write_atomic(filepath, lambda handle: handle.write(data))
    if verbose:
        print(f"Saved artifact at '{filepath}' (ONNX opset {opset}).")


def _check_opset(onnx, opset_version) -> int:
    newest = onnx.defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if not isinstance(opset, int) or isinstance(opset, bool) or not _MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset_version must be an int from {_MIN_OPSET} to {newest} (the "
                         f"installed onnx's newest); received opset_version={opset_version!r}.")
    return opset


def build_model_proto(model, opset: int = DEFAULT_OPSET):
    """The ``onnx.ModelProto`` of ``model`` (not checked, not written)."""
    onnx = _onnx()
    helper = onnx.helper
    graph = _graph_of(model)
    builder = _Builder(onnx, opset, _float_type(graph))
    input_names = _unique_names([t._keras_history[0].name for t in graph.inputs])
    output_names = _unique_names([t._keras_history[0].name for t in graph.outputs])
    builder.reserve(input_names + output_names)
    names = {id(t): _as_float_type(builder, name, t) for t, name in zip(graph.inputs,
                                                                          input_names)}
    _convert_graph(builder, graph, names)
    for tensor, name in zip(graph.outputs, output_names):
        builder.node("Identity", [names[id(tensor)]], [name])
    inputs = [_value_info(helper, name, t, t.dtype) for name, t in zip(input_names, graph.inputs)]
    outputs = [_value_info(helper, name, t, builder.dtype)
               for name, t in zip(output_names, graph.outputs)]
    proto_graph = helper.make_graph(builder.nodes, model.name, inputs, outputs,
                                    initializer=builder.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(proto_graph, opset_imports=opsets, producer_name="numkeras",
                              ir_version=helper.find_min_ir_version_for(opsets))
    proto.doc_string = f"numkeras model '{model.name}'"
    return proto


def _graph_of(model):
    """The GraphMap (inputs, outputs, nodes in topological order) that runs ``model``."""
    graph = model.__dict__.get("_graph")
    if graph is None and "_functional" in model.__dict__:  # Sequential: its inner graph
        inner = model.__dict__["_functional"]
        graph = None if inner is None else inner._graph
        if graph is None:
            raise ExportError(f"Sequential model '{model.name}' has no input shape yet, so it "
                              f"has no graph to export. Start it with keras.Input(shape) or "
                              f"call model.build((None, ...)) first.")
    if graph is None:
        raise ExportError(
            f"Model '{model.name}' ({type(model).__name__}) is a subclassed model: its `call` "
            f"is Python code, not a graph of layers, so it cannot be exported to ONNX. Build "
            f"the same network as a Sequential or functional model (keras.Model(inputs, "
            f"outputs)) and copy the weights with set_weights.")
    return graph


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count}")
    return out


def _float_type(graph) -> np.dtype:
    """The one float type every layer of ``graph`` computes in (its constants, float inputs
    and outputs are written in it): ONNX operators never mix float types, so a model whose
    layers do is refused here, before any conversion, naming the first layer that differs."""
    first = None
    for layer in _layers_of(graph):
        if layer.dtype not in _FLOAT_TYPES:
            continue
        if first is None:
            first = layer
        elif layer.dtype != first.dtype:
            raise ExportError(
                f"Layer '{layer.name}' ({type(layer).__name__}) computes in {layer.dtype} but "
                f"layer '{first.name}' ({type(first).__name__}) computes in {first.dtype}: "
                f"ONNX operators do not mix float types, so the exported model needs one "
                f"float type throughout. Build every layer with the same dtype (call "
                f"keras.config.set_floatx({first.dtype!r}) before building, or pass "
                f"dtype={first.dtype!r} to each layer) and copy the weights over.")
    return np.dtype(first.dtype if first is not None else _config().floatx())


_FLOAT_TYPES = ("float16", "float32", "float64")


def _config():
    from numkeras import config

    return config


def _layers_of(graph):
    """Every layer that computes in ``graph``, nested models' layers included (in order)."""
    for node in graph.nodes:
        if node.is_input:
            continue
        inner = _nested_graph(node.layer)
        if inner is None:
            yield node.layer
        else:
            yield from _layers_of(inner)


def _as_float_type(builder, name: str, tensor) -> str:
    """The model input ``name`` in the model's float type: numkeras converts float data to
    the layers' type on entry, so a float input declared in another type is cast once."""
    dtype = np.dtype(tensor.dtype)
    if dtype.kind != "f" or dtype == builder.dtype:
        return name  # integer inputs (token ids) keep their type
    cast = builder.fresh(f"{name}/Cast")
    to = builder.helper.np_dtype_to_tensor_dtype(builder.dtype)
    builder.node("Cast", [name], [cast], to=to)
    return cast


def _value_info(helper, name, tensor, dtype):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    dims = ["batch" if i == 0 and d is None else d for i, d in enumerate(tensor.shape)]
    return helper.make_tensor_value_info(name, elem, dims)


def _convert_graph(builder, graph, names: dict) -> None:
    """Convert every non-input node of ``graph``; ``names`` maps id(KerasTensor) to the ONNX
    name of its value and gains each node's outputs."""
    for node in graph.nodes:
        if node.is_input:
            continue
        inputs = [names[id(t)] for t in node.input_tensors]
        layer = node.layer
        inner = _nested_graph(layer)
        if inner is not None:  # a model used as a layer: inline its graph
            inner_names = {id(t): name for t, name in zip(inner.inputs, inputs)}
            _convert_graph(builder, inner, inner_names)
            outputs = [inner_names[id(t)] for t in inner.outputs]
        else:
            outputs = _convert_layer(builder, layer, node, inputs)
        for tensor, name in zip(node.output_tensors, outputs):
            names[id(tensor)] = name


def _nested_graph(layer):
    if "_graph" in layer.__dict__ or "_functional" in layer.__dict__:
        return _graph_of(layer)
    return None


def _convert_layer(builder, layer, node, inputs: list[str]) -> list[str]:
    converter = _CONVERTERS.get(type(layer).__name__)
    if converter is None or not _is_numkeras_layer(layer):
        raise ExportError(
            f"Layer '{layer.name}' ({type(layer).__name__}) cannot be exported to ONNX: "
            f"numkeras has no ONNX conversion for it. Supported layers: "
            f"{', '.join(sorted(_CONVERTERS))}. Remove or replace it (e.g. a Lambda with the "
            f"equivalent built-in layer) before exporting.")
    context = _Layer(builder, layer, node)
    out = converter(context, *inputs)
    return out if isinstance(out, list) else [out]


def _is_numkeras_layer(layer) -> bool:
    # A user's subclass of Dense may override `call`; only the library's own classes convert.
    return type(layer).__module__.startswith("numkeras.layers.")


class _Builder:
    """Accumulates ONNX nodes and initializers under unique value names."""

    def __init__(self, onnx, opset: int, dtype=np.float32):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.dtype = np.dtype(dtype)  # the float type of every value and constant
        self.nodes, self.initializers = [], []
        self._used: set[str] = set()

    def reserve(self, names) -> None:
        self._used.update(names)

    def fresh(self, base: str) -> str:
        name, count = base, 0
        while name in self._used:
            count += 1
            name = f"{base}_{count}"
        self._used.add(name)
        return name

    def constant(self, base: str, value, dtype=None) -> str:
        """An initializer holding ``value`` in ``dtype`` (default: the model's float type)."""
        name = self.fresh(base)
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str], **attributes) -> None:
        self.nodes.append(self.helper.make_node(op, inputs, outputs,
                                                name=self.fresh(f"{outputs[0]}/{op}"),
                                                **attributes))


class _Layer:
    """The builder seen from one layer's node: op outputs are named after the layer."""

    def __init__(self, builder: _Builder, layer, node):
        self.builder, self.layer, self.node = builder, layer, node
        self.config = layer.get_config()

    @property
    def input_shape(self) -> tuple:
        return self.node.input_tensors[0].shape

    @property
    def output_shape(self) -> tuple:
        return self.node.output_tensors[0].shape

    def op(self, op: str, *inputs: str, **attributes) -> str:
        if self.builder.dtype == np.float64 and op in _NO_FLOAT64_KERNEL:
            return self._float64_form(op, inputs, attributes)
        out = self.builder.fresh(f"{self.layer.name}/{op}")
        self.builder.node(op, list(inputs), [out], **attributes)
        return out

    def _float64_form(self, op: str, inputs, attributes) -> str:
        # onnxruntime's CPU kernels of these operators take float32 only (the ONNX spec allows
        # double for most): elementwise ones are rebuilt from operators it runs in float64.
        compose = _FLOAT64_FORMS.get(op)
        if compose is None:
            raise self.unsupported(
                f"float64 values: onnxruntime has no float64 kernel for its ONNX operator "
                f"{op}, so the file would not run. Export a float32 copy of the model "
                f"(build it after keras.config.set_floatx('float32') and set_weights)")
        return compose(self, *inputs, **attributes)

    def const(self, label: str, value, dtype=None) -> str:
        return self.builder.constant(f"{self.layer.name}/{label}", value, dtype)

    def ints(self, label: str, values) -> str:
        return self.const(label, list(values), np.int64)

    def weight(self, attribute: str) -> str:
        return self.const(attribute, getattr(self.layer, attribute).data)

    def reduce(self, op: str, x: str, axes, keepdims: bool) -> str:
        # ReduceMean/Max take `axes` as an attribute up to opset 17, as an input from 18.
        keep = int(bool(keepdims))
        if self.builder.opset >= 18 or op == "ReduceSum":
            return self.op(op, x, self.ints("axes", axes), keepdims=keep)
        return self.op(op, x, axes=list(axes), keepdims=keep)

    def unsupported(self, what: str) -> ExportError:
        return ExportError(f"Layer '{self.layer.name}' ({type(self.layer).__name__}) cannot be "
                           f"exported to ONNX with {what}.")


# ----- activations -----

def _activation(ctx: _Layer, x: str, name) -> str:
    """``name`` (an activation's serialized form) applied to ``x``."""
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ctx.unsupported(f"activation={name!r}; ONNX export knows "
                              f"{', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[name](ctx, x)


def _softmax(ctx: _Layer, x: str, axis=-1) -> str:
    if isinstance(axis, int):
        return ctx.op("Softmax", x, axis=axis)
    # Several axes at once: the stable composition exp(x - max) / sum.
    shifted = ctx.op("Sub", x, ctx.reduce("ReduceMax", x, axis, True))
    exp = ctx.op("Exp", shifted)
    return ctx.op("Div", exp, ctx.reduce("ReduceSum", exp, axis, True))


def _gelu(ctx: _Layer, x: str) -> str:
    # Exact GELU (numkeras's default): 0.5 * x * (1 + erf(x / sqrt(2))).
    half = ctx.op("Mul", x, ctx.const("half", 0.5))
    if ctx.builder.dtype == np.float64:  # as numkeras: 0.5 * x * erfc(-x / sqrt(2))
        return ctx.op("Mul", half, _erfc(ctx, ctx.op("Mul", x, ctx.const("scale", -_SQRT_HALF))))
    erf = ctx.op("Erf", ctx.op("Mul", x, ctx.const("inv_sqrt2", _SQRT_HALF)))
    return ctx.op("Mul", half, ctx.op("Add", erf, ctx.const("one", 1.0)))


_SQRT_HALF = 1.0 / math.sqrt(2.0)
# numkeras's erfc (backprop.ops._erfc_np, Numerical Recipes' Chebyshev fit), highest power
# first: in float64 the file evaluates the same formula so it matches numkeras to rounding
# (onnxruntime has no float64 Erf, and a true erf would differ from numkeras's by 1e-7).
_ERFC_COEFFICIENTS = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
                      -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223)


def _erfc(ctx: _Layer, u: str) -> str:
    z = ctx.op("Abs", u)
    t = ctx.op("Div", ctx.const("one", 1.0),
               ctx.op("Add", ctx.const("one", 1.0), ctx.op("Mul", z, ctx.const("half", 0.5))))
    poly = ctx.const("c", _ERFC_COEFFICIENTS[0])
    for coefficient in _ERFC_COEFFICIENTS[1:]:  # Horner
        poly = ctx.op("Add", ctx.op("Mul", poly, t), ctx.const("c", coefficient))
    tail = ctx.op("Mul", t, ctx.op("Exp", ctx.op("Sub", poly, ctx.op("Mul", z, z))))
    negative = ctx.op("Less", u, ctx.const("zero", 0.0))
    return ctx.op("Where", negative, ctx.op("Sub", ctx.const("two", 2.0), tail), tail)


def _hard_sigmoid(ctx: _Layer, x: str) -> str:
    # Keras 3: relu6(x + 3) / 6.
    return ctx.op("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5)


# ----- float64 forms of operators onnxruntime runs in float32 only -----

def _expm1_negative(ctx: _Layer, x: str, alpha: float, divide: float = 1.0) -> str:
    """alpha * (exp(min(x, 0) / divide) - 1): the negative branch of ELU, SELU and CELU."""
    below = ctx.op("Min", x, ctx.const("zero", 0.0))
    if divide != 1.0:
        below = ctx.op("Div", below, ctx.const("alpha", divide))
    expm1 = ctx.op("Sub", ctx.op("Exp", below), ctx.const("one", 1.0))
    return ctx.op("Mul", expm1, ctx.const("alpha", alpha))


def _where_positive(ctx: _Layer, x: str, positive: str, negative: str) -> str:
    return ctx.op("Where", ctx.op("Greater", x, ctx.const("zero", 0.0)), positive, negative)


def _elu64(ctx: _Layer, x: str, alpha: float = 1.0) -> str:
    return _where_positive(ctx, x, x, _expm1_negative(ctx, x, alpha))


def _selu64(ctx: _Layer, x: str) -> str:
    from numkeras import activations  # numkeras's double-precision constants

    scale = activations._SELU_SCALE
    negative = _expm1_negative(ctx, x, scale * activations._SELU_ALPHA)
    return _where_positive(ctx, x, ctx.op("Mul", x, ctx.const("scale", scale)), negative)


def _celu64(ctx: _Layer, x: str, alpha: float = 1.0) -> str:
    return ctx.op("Add", ctx.op("Relu", x), _expm1_negative(ctx, x, alpha, divide=alpha))


def _hard_sigmoid64(ctx: _Layer, x: str, alpha: float = 0.2, beta: float = 0.5) -> str:
    line = ctx.op("Add", ctx.op("Mul", x, ctx.const("alpha", alpha)), ctx.const("beta", beta))
    return ctx.op("Clip", line, ctx.const("min", 0.0), ctx.const("max", 1.0))


def _softplus64(ctx: _Layer, x: str) -> str:
    # relu(x) + log(1 + exp(-|x|)): never overflows.
    exp = ctx.op("Exp", ctx.op("Neg", ctx.op("Abs", x)))
    return ctx.op("Add", ctx.op("Relu", x),
                  ctx.op("Log", ctx.op("Add", exp, ctx.const("one", 1.0))))


def _softsign64(ctx: _Layer, x: str) -> str:
    return ctx.op("Div", x, ctx.op("Add", ctx.op("Abs", x), ctx.const("one", 1.0)))


def _mean64(ctx: _Layer, *xs: str) -> str:
    return ctx.op("Mul", ctx.op("Sum", *xs), ctx.const("inverse_count", 1.0 / len(xs)))


_FLOAT64_FORMS = {
    "Elu": _elu64, "Selu": _selu64, "Celu": _celu64, "HardSigmoid": _hard_sigmoid64,
    "Softplus": _softplus64, "Softsign": _softsign64, "Mean": _mean64,
}
# Checked against onnxruntime 1.32's CPU provider. Erf is avoided (gelu has its own float64
# form); convolutions, average pooling and Resize have none, so float64 models using them are
# refused.
_NO_FLOAT64_KERNEL = frozenset(_FLOAT64_FORMS) | {"Erf", "Conv", "ConvTranspose",
                                                  "AveragePool", "Resize"}


_ACTIVATIONS = {
    "linear": lambda ctx, x: x,
    "relu": lambda ctx, x: ctx.op("Relu", x),
    "relu6": lambda ctx, x: ctx.op("Clip", x, ctx.const("min", 0.0), ctx.const("max", 6.0)),
    "leaky_relu": lambda ctx, x: ctx.op("LeakyRelu", x, alpha=0.2),
    "elu": lambda ctx, x: ctx.op("Elu", x, alpha=1.0),
    "selu": lambda ctx, x: ctx.op("Selu", x),
    "celu": lambda ctx, x: ctx.op("Celu", x, alpha=1.0),
    "sigmoid": lambda ctx, x: ctx.op("Sigmoid", x),
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda ctx, x: ctx.op("Mul", x, _hard_sigmoid(ctx, x)),
    "hard_swish": lambda ctx, x: ctx.op("Mul", x, _hard_sigmoid(ctx, x)),
    "tanh": lambda ctx, x: ctx.op("Tanh", x),
    "softplus": lambda ctx, x: ctx.op("Softplus", x),
    "softsign": lambda ctx, x: ctx.op("Softsign", x),
    "exponential": lambda ctx, x: ctx.op("Exp", x),
    "silu": lambda ctx, x: ctx.op("Mul", x, ctx.op("Sigmoid", x)),
    "swish": lambda ctx, x: ctx.op("Mul", x, ctx.op("Sigmoid", x)),
    "gelu": _gelu,
    "mish": lambda ctx, x: ctx.op("Mul", x, ctx.op("Tanh", ctx.op("Softplus", x))),
    "softmax": lambda ctx, x: _softmax(ctx, x),
    "log_softmax": lambda ctx, x: ctx.op("LogSoftmax", x, axis=-1),
    "log_sigmoid": lambda ctx, x: ctx.op("Neg", ctx.op("Softplus", ctx.op("Neg", x))),
    "tanh_shrink": lambda ctx, x: ctx.op("Sub", x, ctx.op("Tanh", x)),
}


def _relu_layer(ctx: _Layer, x: str) -> str:
    """ReLU(max_value, negative_slope, threshold) as numkeras computes it."""
    config = ctx.config
    slope, threshold = float(config["negative_slope"]), float(config["threshold"])
    max_value = config["max_value"]
    if threshold == 0.0:
        out = ctx.op("Relu", x)
    else:
        keep = ctx.op("Greater", x, ctx.const("threshold", threshold))
        out = ctx.op("Where", keep, x, ctx.const("zero", 0.0))
    if max_value is not None:
        out = ctx.op("Clip", out, ctx.const("min", 0.0), ctx.const("max", float(max_value)))
    if slope != 0.0:
        below = ctx.op("Relu", ctx.op("Sub", ctx.const("threshold", threshold), x))
        out = ctx.op("Sub", out, ctx.op("Mul", below, ctx.const("slope", slope)))
    return out


# ----- core layers -----

def _dense(ctx: _Layer, x: str) -> str:
    out = ctx.op("MatMul", x, ctx.weight("kernel"))  # (..., in) @ (in, units)
    if ctx.layer.bias is not None:
        out = ctx.op("Add", out, ctx.weight("bias"))
    return _activation(ctx, out, ctx.config["activation"])


def _flatten(ctx: _Layer, x: str) -> str:
    return ctx.op("Flatten", x, axis=1)


def _reshape(ctx: _Layer, x: str) -> str:
    # 0 keeps the (dynamic) batch size; the sample shape is the one the graph recorded.
    target = [-1 if d is None else d for d in ctx.output_shape[1:]]
    if target.count(-1) > 1:
        raise ctx.unsupported(f"an unknown input shape {ctx.input_shape}")
    return ctx.op("Reshape", x, ctx.ints("shape", [0] + target))


def _identity(ctx: _Layer, x: str) -> str:
    return ctx.op("Identity", x)


def _embedding(ctx: _Layer, x: str) -> str:
    indices = ctx.op("Cast", x, to=ctx.builder.onnx.TensorProto.INT64)
    return ctx.op("Gather", ctx.weight("embeddings"), indices, axis=0)


def _rescaling(ctx: _Layer, x: str) -> str:
    scaled = ctx.op("Mul", x, ctx.const("scale", ctx.config["scale"]))
    return ctx.op("Add", scaled, ctx.const("offset", ctx.config["offset"]))


def _normalization(ctx: _Layer, x: str) -> str:
    mean, std = (t.data for t in ctx.layer._stats())  # broadcast shapes, std floored at eps
    if ctx.layer.invert:
        return ctx.op("Add", ctx.const("mean", mean), ctx.op("Mul", x, ctx.const("std", std)))
    return ctx.op("Div", ctx.op("Sub", x, ctx.const("mean", mean)), ctx.const("std", std))


# ----- normalization -----

def _batch_normalization(ctx: _Layer, x: str) -> str:
    """Inference: x * factor + shift with the moving statistics, computed exactly as
    numkeras computes them (in the layer's float type), so the file matches predict to the
    last bits."""
    layer = ctx.layer
    rank = len(ctx.input_shape)
    shape = [1] * rank
    shape[layer.axis] = -1
    dtype = ctx.builder.dtype
    inv_std = (1.0 / np.sqrt(layer.moving_variance.data + layer.epsilon)).astype(dtype)
    factor = inv_std if layer.gamma is None else layer.gamma.data * inv_std
    shift = -layer.moving_mean.data.astype(dtype) * factor
    if layer.beta is not None:
        shift = layer.beta.data + shift
    scaled = ctx.op("Mul", x, ctx.const("factor", factor.reshape(shape)))
    return ctx.op("Add", scaled, ctx.const("shift", shift.reshape(shape)))


def _layer_normalization(ctx: _Layer, x: str) -> str:
    layer = ctx.layer
    rank = len(ctx.input_shape)
    axes = [a % rank for a in layer.axis]
    broadcast = [ctx.input_shape[a] if a in axes else 1 for a in range(rank)]
    centered = ctx.op("Sub", x, ctx.reduce("ReduceMean", x, axes, True))
    variance = ctx.reduce("ReduceMean", ctx.op("Mul", centered, centered), axes, True)
    std = ctx.op("Sqrt", ctx.op("Add", variance, ctx.const("epsilon", layer.epsilon)))
    out = ctx.op("Div", x if layer.rms_scaling else centered, std)
    if layer.gamma is not None:
        out = ctx.op("Mul", out, ctx.const("gamma", layer.gamma.data.reshape(broadcast)))
    if layer.beta is not None:
        out = ctx.op("Add", out, ctx.const("beta", layer.beta.data.reshape(broadcast)))
    return out


# ----- convolution and pooling (channels-last outside, channels-first for the op) -----

def _to_channels_first(ctx: _Layer, x: str) -> str:
    if ctx.config.get("data_format", "channels_last") == "channels_first":
        return x
    rank = len(ctx.input_shape)
    return ctx.op("Transpose", x, perm=[0, rank - 1] + list(range(1, rank - 1)))


def _to_channels_last(ctx: _Layer, x: str) -> str:
    if ctx.config.get("data_format", "channels_last") == "channels_first":
        return x
    rank = len(ctx.input_shape)
    return ctx.op("Transpose", x, perm=[0] + list(range(2, rank)) + [1])


def _spatial_dims(ctx: _Layer) -> list:
    shape = ctx.input_shape
    if ctx.config.get("data_format", "channels_last") == "channels_first":
        return list(shape[2:])
    return list(shape[1:-1])


def _window_padding(ctx: _Layer, kernel, strides, dilation=None) -> dict:
    """ONNX attributes for Keras's padding: explicit ``pads`` (TensorFlow's "same" puts the
    odd pixel at the end), or SAME_UPPER when a spatial size is unknown."""
    padding = ctx.config["padding"]
    dilation = dilation or [1] * len(kernel)
    if padding == "valid":
        return {"pads": [0] * (2 * len(kernel))}
    if padding == "causal":  # Conv1D: all the padding on the left
        return {"pads": [(kernel[0] - 1) * dilation[0], 0]}
    sizes = _spatial_dims(ctx)
    if any(size is None for size in sizes):
        return {"auto_pad": "SAME_UPPER"}
    begins, ends = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return {"pads": begins + ends}


def _conv(ctx: _Layer, x: str) -> str:
    config, layer = ctx.config, ctx.layer
    kernel = layer.kernel.data  # (*window, in / groups, filters)
    rank = kernel.ndim
    onnx_kernel = np.transpose(kernel, [rank - 1, rank - 2] + list(range(rank - 2)))
    window = list(kernel.shape[:-2])
    strides, dilation = list(config["strides"]), list(config["dilation_rate"])
    inputs = [_to_channels_first(ctx, x), ctx.const("kernel", onnx_kernel)]
    if layer.bias is not None:
        inputs.append(ctx.weight("bias"))
    out = ctx.op("Conv", *inputs, kernel_shape=window, strides=strides, dilations=dilation,
                 group=int(config.get("groups", 1)),
                 **_window_padding(ctx, window, strides, dilation))
    return _activation(ctx, _to_channels_last(ctx, out), config["activation"])


def _conv_transpose(ctx: _Layer, x: str) -> str:
    """Conv2DTranspose: ONNX's ConvTranspose is the same scatter (no kernel flip); Keras's
    window onto it becomes pads (cropped at the start and end) or output_padding (zeros past
    the end), from numkeras's own output-length and crop rules."""
    from numkeras.backprop import image_ops

    config, layer = ctx.config, ctx.layer
    sizes = _spatial_dims(ctx)
    if any(size is None for size in sizes):
        raise ctx.unsupported(f"an unknown image size {ctx.input_shape} (give Input a fixed "
                              f"height and width)")
    window = list(layer.kernel.shape[:2])
    strides, dilation = list(config["strides"]), list(config["dilation_rate"])
    extras = config.get("output_padding") or (None, None)
    begins, ends, output_padding = [], [], []
    for n, k, s, e, d in zip(sizes, window, strides, extras, dilation):
        full = (n - 1) * s + (k - 1) * d + 1
        crop = image_ops._transpose_crop(k, s, config["padding"], e, d)
        out = image_ops.conv_transpose_output_length(n, k, s, config["padding"], e, d)
        past_end = out - (full - crop)  # > 0: zeros after the scatter; < 0: cropped off
        begins.append(crop)
        ends.append(max(-past_end, 0))
        output_padding.append(max(past_end, 0))
    kernel = np.transpose(layer.kernel.data, (3, 2, 0, 1))  # (in, filters, kh, kw)
    inputs = [_to_channels_first(ctx, x), ctx.const("kernel", kernel)]
    if layer.bias is not None:
        inputs.append(ctx.weight("bias"))
    out = ctx.op("ConvTranspose", *inputs, kernel_shape=window, strides=strides,
                 dilations=dilation, pads=begins + ends, output_padding=output_padding)
    return _activation(ctx, _to_channels_last(ctx, out), config["activation"])


def _pooling(op: str):
    def convert(ctx: _Layer, x: str) -> str:
        window = list(ctx.config["pool_size"])
        strides = list(ctx.config["strides"])
        out = ctx.op(op, _to_channels_first(ctx, x), kernel_shape=window, strides=strides,
                     **_window_padding(ctx, window, strides))
        return _to_channels_last(ctx, out)
    return convert


def _global_pooling(op: str):
    def convert(ctx: _Layer, x: str) -> str:
        rank = len(ctx.input_shape)
        first = ctx.config.get("data_format", "channels_last") == "channels_first"
        axes = list(range(2, rank)) if first else list(range(1, rank - 1))
        return ctx.reduce(op, x, axes, ctx.config.get("keepdims", False))
    return convert


# ----- reshaping -----

def _channels_last_only(ctx: _Layer) -> None:
    if ctx.config.get("data_format", "channels_last") != "channels_last":
        raise ctx.unsupported(f"data_format={ctx.config['data_format']!r} (channels_last only)")


def _zero_padding_2d(ctx: _Layer, x: str) -> str:
    _channels_last_only(ctx)
    (top, bottom), (left, right) = ctx.config["padding"]
    pads = [0, top, left, 0, 0, bottom, right, 0]
    return ctx.op("Pad", x, ctx.ints("pads", pads))


def _cropping_2d(ctx: _Layer, x: str) -> str:
    _channels_last_only(ctx)
    (top, bottom), (left, right) = ctx.config["cropping"]
    end = np.iinfo(np.int64).max
    starts, ends = [top, left], [-bottom if bottom else end, -right if right else end]
    return ctx.op("Slice", x, ctx.ints("starts", starts), ctx.ints("ends", ends),
                  ctx.ints("axes", [1, 2]))


def _center_crop(ctx: _Layer, x: str) -> str:
    height, width = ctx.input_shape[-3], ctx.input_shape[-2]
    target_h, target_w = int(ctx.config["height"]), int(ctx.config["width"])
    if height is None or width is None or height < target_h or width < target_w:
        raise ctx.unsupported(f"input images {height}x{width} (they must be known and at "
                              f"least {target_h}x{target_w})")
    top, left = (height - target_h) // 2, (width - target_w) // 2
    return ctx.op("Slice", x, ctx.ints("starts", [top, left]),
                  ctx.ints("ends", [top + target_h, left + target_w]), ctx.ints("axes", [-3, -2]))


def _random_crop(ctx: _Layer, x: str) -> str:
    """RandomCrop at inference: the largest centred window of the target aspect ratio
    (a Slice), bilinear-resized to height x width (a Resize with half-pixel centres, as
    numkeras's resize)."""
    from numkeras.layers.preprocessing import _aspect_crop_box

    height, width = ctx.input_shape[1:3] if len(ctx.input_shape) == 4 else (None, None)
    if height is None or width is None:
        raise ctx.unsupported(f"input shape {ctx.input_shape} (give Input a fixed image "
                              f"height and width: the crop window depends on them)")
    target_h, target_w = int(ctx.config["height"]), int(ctx.config["width"])
    top, left, crop_h, crop_w = _aspect_crop_box(height, width, target_h, target_w)
    if (crop_h, crop_w) != (height, width):
        x = ctx.op("Slice", x, ctx.ints("starts", [top, left]),
                   ctx.ints("ends", [top + crop_h, left + crop_w]), ctx.ints("axes", [1, 2]))
    if (crop_h, crop_w) == (target_h, target_w):
        return x
    shape = ctx.op("Shape", x)  # (batch, h, w, channels) -> (batch, target_h, target_w, ...)
    sizes = ctx.op("Concat", ctx.op("Slice", shape, ctx.ints("zero", [0]), ctx.ints("one", [1])),
                   ctx.ints("size", [target_h, target_w]),
                   ctx.op("Slice", shape, ctx.ints("three", [3]), ctx.ints("four", [4])), axis=0)
    return ctx.op("Resize", x, "", "", sizes, mode="linear",
                  coordinate_transformation_mode="half_pixel")


def _up_sampling_2d(ctx: _Layer, x: str) -> str:
    _channels_last_only(ctx)
    if ctx.config["interpolation"] != "nearest":
        raise ctx.unsupported(f"interpolation={ctx.config['interpolation']!r} (nearest only)")
    height, width = ctx.config["size"]
    # Resize's scales are float32 whatever the image's type.
    scales = ctx.const("scales", [1.0, float(height), float(width), 1.0], np.float32)
    return ctx.op("Resize", x, "", scales, mode="nearest",
                  coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def _permute(ctx: _Layer, x: str) -> str:
    return ctx.op("Transpose", x, perm=[0] + [int(d) for d in ctx.config["dims"]])


def _repeat_vector(ctx: _Layer, x: str) -> str:
    expanded = ctx.op("Unsqueeze", x, ctx.ints("axes", [1]))  # (batch, 1, features)
    return ctx.op("Tile", expanded, ctx.ints("repeats", [1, int(ctx.config["n"]), 1]))


# ----- merging -----

def _variadic(op: str):
    return lambda ctx, *xs: ctx.op(op, *xs)


def _multiply(ctx: _Layer, *xs: str) -> str:
    out = xs[0]  # ONNX's Mul is binary (Sum, Max, Min and Mean take any number)
    for x in xs[1:]:
        out = ctx.op("Mul", out, x)
    return out


def _subtract(ctx: _Layer, a: str, b: str) -> str:
    return ctx.op("Sub", a, b)


def _concatenate(ctx: _Layer, *xs: str) -> str:
    return ctx.op("Concat", *xs, axis=int(ctx.config["axis"]))


# ----- activation layers -----

def _prelu(ctx: _Layer, x: str) -> str:
    return ctx.op("PRelu", x, ctx.weight("alpha"))


_CONVERTERS = {
    "Dense": _dense, "Flatten": _flatten, "Reshape": _reshape, "Embedding": _embedding,
    "Activation": lambda ctx, x: _activation(ctx, x, ctx.config["activation"]),
    "ReLU": _relu_layer,
    "LeakyReLU": lambda ctx, x: ctx.op("LeakyRelu", x, alpha=float(ctx.config["negative_slope"])),
    "ELU": lambda ctx, x: ctx.op("Elu", x, alpha=float(ctx.config["alpha"])),
    "PReLU": _prelu,
    "Softmax": lambda ctx, x: _softmax(ctx, x, ctx.config["axis"]),
    "Conv1D": _conv, "Conv2D": _conv, "Conv2DTranspose": _conv_transpose,
    "MaxPooling1D": _pooling("MaxPool"), "MaxPooling2D": _pooling("MaxPool"),
    "AveragePooling1D": _pooling("AveragePool"), "AveragePooling2D": _pooling("AveragePool"),
    "GlobalAveragePooling1D": _global_pooling("ReduceMean"),
    "GlobalAveragePooling2D": _global_pooling("ReduceMean"),
    "GlobalMaxPooling1D": _global_pooling("ReduceMax"),
    "GlobalMaxPooling2D": _global_pooling("ReduceMax"),
    "BatchNormalization": _batch_normalization, "LayerNormalization": _layer_normalization,
    "ZeroPadding2D": _zero_padding_2d, "Cropping2D": _cropping_2d,
    "UpSampling2D": _up_sampling_2d, "CenterCrop": _center_crop, "Permute": _permute,
    "RepeatVector": _repeat_vector,
    "Add": _variadic("Sum"), "Multiply": _multiply, "Maximum": _variadic("Max"),
    "Minimum": _variadic("Min"), "Average": _variadic("Mean"), "Subtract": _subtract,
    "Concatenate": _concatenate,
    "Rescaling": _rescaling, "Normalization": _normalization,
    # Active only in training: the inference graph passes the values through.
    "Dropout": _identity, "SpatialDropout2D": _identity, "Identity": _identity,
    "RandomFlip": _identity, "RandomRotation": _identity, "RandomZoom": _identity,
    "RandomTranslation": _identity, "RandomContrast": _identity,
    "RandomBrightness": _identity,
    "RandomCrop": _random_crop,  # at inference: a centred window, resized
}
