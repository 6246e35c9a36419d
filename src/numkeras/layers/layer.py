"""The Layer base class: config in ``__init__``, weights in ``build``, math in ``call``.

A custom layer needs only ``call`` (and ``build`` if it has weights); gradients come from the
primitive ops it uses:

>>> import numpy as np
>>> from numkeras.backprop import ops
>>> class Scale(Layer):
...     def build(self, input_shape):
...         self.scale = self.add_weight(name="scale", shape=(input_shape[-1],),
...                                      initializer="ones")
...     def call(self, x):
...         return x * self.scale
>>> layer = Scale()
>>> layer(np.ones((2, 3))).shape, layer.count_params()
((2, 3), 3)
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from numkeras import config as _config
from numkeras import constraints as _constraints
from numkeras import initializers as _initializers
from numkeras import regularizers as _regularizers
from numkeras.backprop import Tensor, Variable, no_grad
from numkeras.backprop.memory import WorkingMemoryError
from numkeras.backprop.variable import bump_structure_version
from numkeras.layers.node import KerasTensor, Node, flatten, is_symbolic, map_structure
from numkeras.utils import naming

_BASE_KWARGS = ("input_shape", "input_dim", "batch_input_shape", "batch_size", "autocast",
                "activity_regularizer", "weights")


def dtype_name(dtype) -> str:
    """The dtype's name from a string, a NumPy dtype or a Keras ``DTypePolicy`` config dict."""
    if dtype is None:
        return _config.floatx()
    if isinstance(dtype, dict):  # {"class_name": "DTypePolicy", "config": {"name": "float32"}}
        return dtype.get("config", {}).get("name", _config.floatx())
    if dtype == "string":  # Keras's dtype of text inputs (keras.Input(dtype="string"))
        return dtype
    name = np.dtype(dtype).name
    return name


def standardize_shape(shape) -> tuple:
    """A shape as a tuple of ints and Nones (``None`` for an unknown dimension); a list or
    dict of shapes (a multi-input layer's) keeps its structure, each shape standardized."""
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, dict):
        return {key: standardize_shape(value) for key, value in shape.items()}
    if not is_shape(shape):
        return [standardize_shape(item) for item in shape]
    return tuple(None if d is None else int(d) for d in shape)


def is_shape(value) -> bool:
    """Whether ``value`` is one shape (a sequence of ints and Nones), not a list of shapes."""
    return isinstance(value, (list, tuple)) and all(
        d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool))
        for d in value)


def check_positive_int(value, argument: str, layer_name: str) -> int:
    """``value`` as an int if it is a strictly positive integer; else a ValueError naming the
    argument, the value and the layer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Invalid value for argument `{argument}` of layer '{layer_name}': expected a "
            f"strictly positive integer. Received: {argument}={value!r}."
        )
    return int(value)


class InputSpec:
    """What a layer accepts: a rank (``ndim`` / ``min_ndim``) and fixed sizes of some axes."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})

    def check(self, layer_name: str, shape: tuple) -> None:
        """Raise a ValueError naming the layer, the expected and the received shape."""
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            raise ValueError(
                f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected "
                f"ndim={self.ndim}, found ndim={rank}. Full shape received: {shape}."
            )
        if self.min_ndim is not None and rank < self.min_ndim:
            raise ValueError(
                f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected "
                f"min_ndim={self.min_ndim}, found ndim={rank}. Full shape received: {shape}."
            )
        for axis, size in self.axes.items():
            if -rank <= axis < rank and shape[axis] is not None and shape[axis] != size:
                raise ValueError(
                    f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected "
                    f"axis {axis} of input shape to have value {size}, but received input with "
                    f"shape {shape}. The layer was built for inputs whose axis {axis} is {size}; "
                    f"reshape the data or use a new layer."
                )


def _marks_built(build):
    """Wrap a subclass's ``build`` so that calling it directly also marks the layer built, as
    in Keras (otherwise the first call would build again and replace the weights)."""

    @functools.wraps(build)
    def wrapped(self, input_shape=None, *args, **kwargs):
        result = build(self, input_shape, *args, **kwargs)
        self.built = True
        if self._build_input_shape is None and input_shape is not None:
            self._build_input_shape = standardize_shape(input_shape)
        return result

    wrapped.marks_built = True
    return wrapped


# Built-in layers that, as in Keras (``supports_masking = True`` there), pass a time-step mask
# on unchanged; read once when a model maps its graph or a class is first made, never per call.
MASK_PASSING = frozenset({
    "Activation", "ActivityRegularization", "BatchNormalization", "Dense", "Dropout", "ELU",
    "GaussianDropout", "GaussianNoise", "Identity", "LayerNormalization", "LeakyReLU", "PReLU",
    "ReLU", "SpatialDropout1D", "UnitNormalization",
})


def passes_mask(layer) -> bool:
    """Whether ``layer``'s outputs carry a mask (from ``compute_mask``) after a masked input."""
    return bool(getattr(layer, "supports_masking", False)) \
        or type(layer).__name__ in MASK_PASSING


def carried_mask(value):
    """The mask a layer attached to ``value`` (a Tensor, or a list or dict of them), or None.

    >>> import numpy as np
    >>> from numkeras.layers import Embedding
    >>> carried_mask(Embedding(5, 2, mask_zero=True)(np.array([[3, 0]]))).tolist()
    [[True, False]]
    """
    if isinstance(value, Tensor):
        return getattr(value, "_keras_mask", None)  # an unset slot reads as None
    if isinstance(value, (list, tuple, dict)):
        masks = map_structure(carried_mask, value)
        return masks if any(m is not None for m in flatten(masks)) else None
    return None


# Layers that only pass masks on (Dense, Dropout ...) follow masks once a layer has made one
# in this process; until then they stay on the plain path, so a model without masks (the
# lecture's Dense stack) pays nothing for them.
_masks_made = False
_waiting_passers: list = []


def _classify_for_masks(cls) -> None:
    """Decide once per class whether ``__call__`` follows masks: ``call`` takes ``mask=``,
    or the class makes masks (overrides ``compute_mask`` / ``produces_mask``), or it passes
    them on. A class with its own ``compute_mask`` supports masking unless it says
    otherwise, as in Keras 3."""
    cls._call_takes_mask = "mask" in inspect.signature(cls.call).parameters
    own_compute_mask = cls.compute_mask is not Layer.compute_mask
    if own_compute_mask and not _sets_supports_masking(cls):
        cls.supports_masking = True  # Keras 3's default for a layer with its own compute_mask
    if cls._call_takes_mask or own_compute_mask or cls.produces_mask is not Layer.produces_mask:
        cls._mask_aware = True
    elif getattr(cls, "supports_masking", False) is True or cls.__name__ in MASK_PASSING:
        _wait_for_masks(cls)
    else:
        cls._mask_aware = False


def _sets_supports_masking(cls) -> bool:
    """Whether a class between ``cls`` and Layer says ``supports_masking`` itself."""
    return any("supports_masking" in klass.__dict__
               for klass in cls.__mro__[:cls.__mro__.index(Layer)])


def _note_mask_passer(cls) -> None:
    """An instance of ``cls`` set ``supports_masking = True``: the class passes masks on."""
    if "_mask_aware" not in cls.__dict__:
        _classify_for_masks(cls)
    if not cls._mask_aware:
        _wait_for_masks(cls)


def _wait_for_masks(cls) -> None:
    """``cls`` only passes masks on: it follows them now if a layer has made one, else from
    when the first one is made."""
    cls._mask_aware = _masks_made
    if not _masks_made and cls not in _waiting_passers:
        _waiting_passers.append(cls)


def _masks_appear() -> None:
    """The first mask was made: the waiting passers follow masks from now on."""
    global _masks_made
    _masks_made = True
    for cls in _waiting_passers:
        cls._mask_aware = True
    _waiting_passers.clear()


class Layer:
    """Base class of all layers.

    Args:
        name: unique name; default ``snake_case(ClassName)`` made unique (``dense_1``).
        trainable: whether the layer's weights are updated by training.
        dtype: the float type of the weights and computations (default ``floatx()``).
        input_shape: shape of one sample (no batch axis), for a model's first layer.
        input_dim: Keras 2 spelling of ``input_shape=(input_dim,)``.
        activity_regularizer: penalty on the layer's output, added to the loss.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "marks_built", False):
            cls.build = _marks_built(build)

    def __init__(self, name: str | None = None, trainable: bool = True, dtype=None, **kwargs):
        unknown = set(kwargs) - set(_BASE_KWARGS)
        if unknown:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{sorted(unknown)}. Check the spelling against the layer's documentation."
            )
        object.__setattr__(self, "_layers", [])
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.dtype = dtype_name(dtype)
        self._trainable = bool(trainable)
        self.built = False
        self._trainable_weights: list[Variable] = []
        self._non_trainable_weights: list[Variable] = []
        self.input_spec = None
        self.activity_regularizer = _regularizers.get(kwargs.get("activity_regularizer"))
        self._call_losses: list = []
        self._build_input_shape = None
        self._output_shape = None
        self._inbound_nodes: list[Node] = []
        self._initial_weights = kwargs.get("weights")
        self._batch_input_shape = _batch_shape_from_kwargs(kwargs)
        self._call_takes_training = "training" in inspect.signature(self.call).parameters
        if "_mask_aware" not in type(self).__dict__:
            _classify_for_masks(type(self))

    # ----- attribute tracking: sublayers assigned as attributes are part of this layer -----
    def __setattr__(self, key, value):
        if isinstance(value, Layer) and key != "_layers":
            self._track(value)
        elif isinstance(value, Variable) and not key.startswith("_"):
            self._track_variable(value)  # self.w = tf.Variable(...) in __init__ or build
        elif isinstance(value, (list, tuple)) and not key.startswith("_"):
            for item in value:
                if isinstance(item, Layer):
                    self._track(item)
        elif key == "supports_masking" and value:  # a custom layer passing masks on
            _note_mask_passer(type(self))
        object.__setattr__(self, key, value)

    def _track_variable(self, variable: Variable) -> None:
        """A Variable assigned as an attribute is a weight of this layer, as in Keras 3
        (those made by ``add_weight`` are already listed)."""
        own = self._trainable_weights + self._non_trainable_weights
        if not any(variable is known for known in own):
            (self._trainable_weights if variable.trainable
             else self._non_trainable_weights).append(variable)
            bump_structure_version()

    def _track(self, layer: "Layer") -> None:
        if not any(layer is known for known in self._layers):
            self._layers.append(layer)
            bump_structure_version()

    # ----- weights -----
    def add_weight(self, name: str = "variable", shape=(), initializer=None, dtype=None,
                   trainable: bool = True, regularizer=None, constraint=None) -> Variable:
        """Create a weight, initialised now; call from ``build``.

        ``initializer`` defaults to ``glorot_uniform`` (Keras 3's default for floats).
        """
        initializer = _initializers.get(initializer or "glorot_uniform", "initializer")
        dtype = dtype or self.dtype
        value = initializer(tuple(shape), dtype=dtype)
        variable = Variable(value, name=name, trainable=trainable and self._trainable,
                            dtype=dtype, regularizer=_regularizers.get(regularizer),
                            constraint=_constraints.get(constraint))
        variable.path = f"{self.name}/{name}"
        (self._trainable_weights if trainable else self._non_trainable_weights).append(variable)
        bump_structure_version()
        return variable

    @property
    def weights(self) -> list[Variable]:
        """All weights: own trainable, own non-trainable, then sublayers', without repeats."""
        seen, out = set(), []
        for w in self._trainable_weights + self._non_trainable_weights + [
                w for layer in self._layers for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def trainable_weights(self) -> list[Variable]:
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze the layer, its weights and its sublayers."""
        self._trainable = bool(value)
        bump_structure_version()
        for w in self._trainable_weights:
            w.trainable = self._trainable
        for layer in self._layers:
            layer.trainable = value

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in ``weights`` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Load values (a list in ``weights`` order) after checking count and shapes."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer '{self.name}' expects {len(own)} weights, but the provided list has "
                f"{len(weights)} element(s). Pass one array per weight in `layer.weights` order."
            )
        for variable, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != variable.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {variable.shape} is not compatible with "
                    f"provided weight shape {value.shape}."
                )
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self) -> int:
        """Number of scalars in the weights; the layer must be built."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                f"built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(w.size for w in self.weights))

    def add_loss(self, loss) -> None:
        """Add a penalty (a scalar Tensor computed in ``call``) to the training loss.

        Losses added during a call replace those of the previous call.
        """
        self._call_losses.append(loss)

    @property
    def losses(self) -> list:
        """Penalties to add to the loss: weight regularizers and losses of the last call."""
        own = self._trainable_weights + self._non_trainable_weights  # sublayers add their own
        penalties = [w.regularizer(w) for w in own if w.regularizer is not None]
        penalties += self._call_losses
        for layer in self._layers:
            penalties += layer.losses
        return penalties

    def flatten_layers(self) -> list["Layer"]:
        """This layer and all its sublayers, depth first, each once."""
        out, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
                stack.extend(reversed(layer._layers))
        return out

    # ----- lifecycle -----
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape``; the base version creates none."""
        self.built = True

    # ----- masks: Keras's time-step masks. A layer called directly attaches its outputs' mask
    # to them (``out._keras_mask``) and the next layer reads it; a model's graph follows them
    # from when it is made (models/functional.py) and hands them over as ``mask=``.
    supports_masking = False
    # Set per class by ``_classify_for_masks`` on the first instance: whether ``__call__``
    # looks at masks at all, and whether ``call`` takes ``mask=``.
    _mask_aware = False
    _call_takes_mask = False

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the outputs (booleans ``(batch, steps)``, or None) for ``inputs`` whose
        mask is ``previous_mask``; asked only of layers that support masking."""
        return previous_mask

    def produces_mask(self) -> bool:
        """Whether this layer can start a mask (``Embedding(mask_zero=True)``, ``Masking``)."""
        return False

    def call(self, inputs):
        """The layer's computation on Tensors; subclasses implement it."""
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement `call()`.")

    def build_from_shape(self, input_shape) -> None:
        """Build once for ``input_shape`` (batch axis included, ``None`` allowed)."""
        if self.built:
            return
        input_shape = standardize_shape(input_shape)
        self.build(input_shape)
        self.built = True
        self._build_input_shape = input_shape
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def __call__(self, inputs, training=None, **kwargs):
        # The hot path (a training step: one Tensor in, one out) costs one isinstance check.
        single = True
        if isinstance(inputs, Tensor):
            x = inputs
        elif isinstance(inputs, np.ndarray):
            x = Tensor(_as_float_array(inputs, self))
        elif is_symbolic(inputs):
            return self._symbolic_call(inputs, training, kwargs)
        elif _is_structure(inputs):  # a multi-input layer's list (or dict) of arrays
            x = map_structure(lambda v: v if isinstance(v, Tensor)
                              else Tensor(_as_float_array(v, self)), inputs)
            single = False
        else:
            x = Tensor(_as_float_array(inputs, self))
        if not self.built:
            self.build_from_shape(_shapes(x))
        if self.input_spec is not None and single:
            self.input_spec.check(self.name, x.shape)
        if self._call_losses:
            self._call_losses = []
        # Layers that take, make or pass on masks (decided once per class) read the mask the
        # inputs carry; every other layer pays this one test.
        masked = self._mask_aware
        if masked:
            previous_mask = self._take_mask(x, kwargs)
        try:
            out = self.call(x, training=training, **kwargs) if self._call_takes_training \
                else self.call(x, **kwargs)
        except WorkingMemoryError as error:
            if error.layer is not None:  # named by the innermost layer already
                raise
            raise WorkingMemoryError(f"Layer '{self.name}' ({type(self).__name__}): {error}",
                                     layer=self.name) from None
        if self._output_shape is None and isinstance(out, Tensor):
            self._output_shape = (None,) + tuple(out.shape[1:])
        if self.activity_regularizer is not None and isinstance(out, Tensor):
            # Keras: the penalty per sample of the batch
            self.add_loss(self.activity_regularizer(out) * (1.0 / max(1, out.shape[0])))
        if masked:
            self._attach_mask(x, out, previous_mask)
        return out

    def _take_mask(self, x, kwargs):
        """The mask the outputs' mask follows from: ``mask=`` when given, else the one the
        inputs carry, which is then passed to ``call(mask=)`` when ``call`` takes one (as
        Keras 3 does for a layer called directly)."""
        explicit = kwargs.get("mask")
        if explicit is not None:
            return explicit
        carried = carried_mask(x)
        if carried is not None and self._call_takes_mask:
            kwargs["mask"] = carried
        return carried

    def _attach_mask(self, x, out, previous_mask) -> None:
        """Give the outputs the mask ``compute_mask`` finds, when this layer makes or passes
        masks (the same rule a model's graph follows) and ``call`` did not set one."""
        if not (passes_mask(self) or self.produces_mask()):
            return
        leaves = [out] if isinstance(out, Tensor) else flatten(out)
        if all(carried_mask(leaf) is not None for leaf in leaves):
            return
        mask = self.compute_mask(x, previous_mask)
        if mask is None:
            return
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
        for leaf, leaf_mask in zip(leaves, masks):
            if isinstance(leaf, Tensor) and leaf_mask is not None \
                    and carried_mask(leaf) is None:
                leaf._keras_mask = leaf_mask
                if not _masks_made:
                    _masks_appear()

    def _symbolic_call(self, inputs, training, kwargs):
        """Record a node: build for the inputs' shapes and infer the output shapes, without
        computing on data."""
        if not all(isinstance(leaf, KerasTensor) for leaf in flatten(inputs)):
            raise TypeError(
                f"Layer '{self.name}' was called on a mix of symbolic tensors (from "
                f"keras.Input) and arrays. In a functional model every input of a layer must "
                f"come from keras.Input or another layer; wrap constants in a layer.")
        shapes = map_structure(lambda t: t.shape, inputs)
        if not self.built:
            self.build_from_shape(shapes)
        if self.input_spec is not None and isinstance(inputs, KerasTensor):
            self.input_spec.check(self.name, inputs.shape)
        output_shape = self.compute_output_shape(shapes)
        if output_shape is None:
            output_shape = self._probe_output_shape(shapes)
        dtype = self.dtype if self.dtype in ("float16", "float32", "float64") else None
        outputs = _symbolic_outputs(standardize_shape(output_shape), dtype)
        call_kwargs = dict(kwargs)
        if training is not None:
            call_kwargs["training"] = training
        Node(self, inputs, call_kwargs, outputs)
        if self._output_shape is None and isinstance(outputs, KerasTensor):
            self._output_shape = outputs.shape
        return outputs

    def compute_output_shape(self, input_shape) -> tuple:
        """Output shape for ``input_shape``; the default runs ``call`` on a zero batch."""
        input_shape = standardize_shape(input_shape)
        self.build_from_shape(input_shape)
        return self._probe_output_shape(input_shape)

    def _probe_output_shape(self, input_shape):
        """Output shape(s) found by running ``call`` on zeros, with the batch axis kept from
        ``input_shape`` (as Keras infers shapes with its backend's symbolic run)."""
        first = input_shape
        while not is_shape(first):
            first = next(iter(first.values())) if isinstance(first, dict) else first[0]
        batch = first[0]
        try:
            out = self._probe_call(input_shape)
        except Exception as error:  # a custom layer's own math failed on this shape
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) cannot be called on inputs of "
                f"shape {input_shape}: its `call` failed with {type(error).__name__}: {error}. "
                f"Check the shapes feeding it, or define `compute_output_shape`.") from error
        return map_structure(lambda t: (batch,) + tuple(t.shape[1:]), out)

    def _probe_call(self, input_shape):
        """``call`` on a batch of zeros of ``input_shape`` (unknown sizes taken as 1)."""
        def zeros(shape):
            return Tensor(np.zeros(tuple(1 if d is None else d for d in shape), dtype=self.dtype))

        probe = zeros(input_shape) if is_shape(input_shape) else _map_shapes(zeros, input_shape)
        with no_grad():
            return self.call(probe)

    # ----- the graph: where this layer was called on symbolic tensors -----
    @property
    def output(self):
        """The output tensor(s) of the layer's first call on symbolic tensors (Keras 3)."""
        return self._node_attribute("outputs", "output")

    @property
    def input(self):
        """The input tensor(s) of the layer's first call on symbolic tensors (Keras 3)."""
        return self._node_attribute("call_args", "input")

    def _node_attribute(self, attribute: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer '{self.name}' has never been called on symbolic tensors and thus "
                f"has no defined {what}. Call it on `keras.Input(...)` (or put it in a built "
                f"model) first.")
        value = getattr(self._inbound_nodes[0], attribute)
        if isinstance(value, (list, tuple)) and len(value) == 1:
            return value[0]
        return value

    @property
    def output_shape(self):
        """The output shape: the same for every call of the layer in a graph (Keras 2's
        attribute); a layer called with different shapes has none ("multiple")."""
        if self._inbound_nodes:
            shapes = {_shape_key(node.outputs) for node in self._inbound_nodes}
            if len(shapes) > 1:
                raise AttributeError(
                    f"The layer '{self.name}' has multiple inbound nodes with different output "
                    f"shapes, so its output shape is ill-defined.")
            return _node_shapes(self._inbound_nodes[0].outputs)
        if self._output_shape is None:
            raise AttributeError(
                f"The layer '{self.name}' has never been called and thus has no defined output "
                f"shape. Build the model first."
            )
        return self._output_shape

    @property
    def input_shape(self):
        if self._inbound_nodes and not self._inbound_nodes[0].is_input:
            return _node_shapes(self._inbound_nodes[0].call_args)
        if self._build_input_shape is not None:
            return self._build_input_shape
        if self._batch_input_shape is not None:
            return self._batch_input_shape
        raise AttributeError(f"The layer '{self.name}' has never been built and has no input "
                             f"shape.")

    # ----- config -----
    def get_config(self) -> dict:
        """Constructor arguments (Keras 3 keys), enough for ``from_config`` to rebuild it."""
        return {"name": self.name, "trainable": self.trainable, "dtype": dtype_policy(self.dtype)}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def get_build_config(self) -> dict | None:
        if self._build_input_shape is None:
            return None
        return {"input_shape": list(self._build_input_shape)}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def dtype_policy(name: str) -> dict:
    """Keras 3.4+'s serialized ``DTypePolicy`` for a dtype name."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}


def _batch_shape_from_kwargs(kwargs) -> tuple | None:
    if kwargs.get("batch_input_shape") is not None:
        return standardize_shape(kwargs["batch_input_shape"])
    if kwargs.get("input_shape") is not None:
        return (kwargs.get("batch_size"),) + standardize_shape(kwargs["input_shape"])
    if kwargs.get("input_dim") is not None:
        return (kwargs.get("batch_size"), int(kwargs["input_dim"]))
    return None


def _as_float_array(values, layer: Layer) -> np.ndarray:
    """Inputs as an array of the layer's float type, refusing strings and objects."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        if array.dtype.kind in "OSU" and takes_strings(layer):
            return array  # text for a model that starts with TextVectorization or a lookup
        raise TypeError(
            f"Layer '{layer.name}' received an input of dtype {array.dtype} (shape "
            f"{array.shape}); it needs numbers. Convert the data to a numeric array first."
        )
    return array.astype(layer.dtype, copy=False)


def takes_strings(layer) -> bool:
    """Whether ``layer`` is a model with an input declared ``dtype="string"`` (asked only
    when an input is not numeric, so numeric data never pays for it)."""
    try:
        inputs = getattr(layer, "inputs", None)
    except (AttributeError, ValueError):  # a model not built yet has no inputs
        return False
    return any(getattr(t, "dtype", None) == "string" for t in flatten(inputs or []))


def _is_structure(inputs) -> bool:
    """A list/tuple/dict of arrays or Tensors (several inputs), not nested numbers (data)."""
    if isinstance(inputs, dict):
        return True
    return isinstance(inputs, (list, tuple)) and len(inputs) > 0 and all(
        isinstance(item, (Tensor, np.ndarray, dict)) for item in inputs)


def _shapes(x):
    return x.shape if isinstance(x, Tensor) else map_structure(lambda t: t.shape, x)


def _map_shapes(function, shapes):
    """``function`` on each shape of a structure of shapes."""
    if isinstance(shapes, dict):
        return {key: _map_shapes(function, value) for key, value in shapes.items()}
    if is_shape(shapes):
        return function(shapes)
    return [_map_shapes(function, item) for item in shapes]


def _symbolic_outputs(output_shape, dtype):
    return _map_shapes(lambda shape: KerasTensor(shape, dtype), output_shape)


def _node_shapes(structure):
    return map_structure(lambda t: t.shape, structure)


def _shape_key(structure):
    return tuple(t.shape for t in flatten(structure))
