"""Check a model's backprop against finite differences: ``check_gradients(model, x, y)``.

The lecture's gradient check, on any compiled model, custom layers included: for a sample of
entries of every trainable weight, the derivative of the loss from backprop
(``model.gradients``) is compared with a central difference ``(L(w + h) - L(w - h)) / 2h``,
and the worst relative error of each layer is reported.

Both run in float64: the model is switched to float64 in place for the check (weights, layer
dtypes, ``floatx``) and switched back afterwards, its own arrays untouched. In float32 a
central difference is accurate to about 1e-3 at best (rounding of the loss divided by a step
of about 1e-3), which cannot tell a wrong gradient from a right one reliably; in float64 the
same formula gives about 1e-8.

This module is at the lowest import level (``utils``), so it imports no model code: it only
uses what every compiled numkeras model has, ``gradients``, ``compute_loss``, calling the
model, ``weights``/``trainable_weights`` and the layers' ``dtype``.

>>> import numpy as np
>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
...                           keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> report = check_gradients(model, np.ones((8, 3)), np.zeros(8))
>>> report.ok, sorted(report)
(True, ['dense', 'dense_1'])
"""

from __future__ import annotations

import contextlib

import numpy as np

from numkeras import config


class GradientCheck(dict):
    """``{layer name: worst relative error}``, with the details and a printable table.

    Attributes:
        weights: ``{weight path: relative error}`` for every checked weight.
        largest: ``{layer name: largest |gradient| among the checked entries}``.
        rtol: the tolerance used by :attr:`ok` and the verdicts.
    """

    def __init__(self, errors: dict, weights: dict, largest: dict, rtol: float):
        super().__init__(errors)
        self.weights, self.largest, self.rtol = weights, largest, rtol

    @property
    def ok(self) -> bool:
        """True when every layer's worst relative error is within ``rtol``."""
        return all(error <= self.rtol for error in self.values())

    @property
    def failed(self) -> list[str]:
        """The layers whose gradient disagrees with finite differences."""
        return [name for name, error in self.items() if error > self.rtol]

    def table(self) -> str:
        """One line per layer: its largest gradient entry, worst relative error, verdict."""
        width = max([len("Layer")] + [len(name) for name in self])
        lines = [f"{'Layer':<{width}}  max |grad|  worst rel. error  verdict"]
        for name, error in self.items():
            verdict = "ok" if error <= self.rtol else "WRONG"
            lines.append(f"{name:<{width}}  {self.largest[name]:10.3e}  {error:16.3e}  {verdict}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def check_gradients(model, x, y, sample_weight=None, *, entries: int = 8, eps: float = 1e-6,
                    rtol: float = 1e-4, seed: int = 0) -> GradientCheck:
    """Compare ``model.gradients(x, y)`` with central finite differences, in float64.

    For each trainable weight, ``entries`` entries are checked: the half with the largest
    gradient and a random half. A weight's error is ``||a - n|| / max(||a||, ||n||)`` over its
    checked entries (``a`` from backprop, ``n`` from finite differences), so entries whose
    gradient is tiny next to the others do not drown the result in rounding noise; a layer's
    error is the worst of its weights'. Layers are the model's top-level layers (a custom
    layer made of sublayers is one row). Inference mode is used (Dropout off), so the loss is
    a deterministic function of the weights. The model's weights, gradients buffer, optimizer
    and metrics are left as they were.

    Args:
        model: a compiled numkeras model.
        x, y: a small batch (a few dozen samples is plenty); ``sample_weight`` optional.
        entries: entries checked per weight (all of them if the weight is smaller).
        eps: the smallest finite-difference step, relative to ``max(1, |w|)``; a weight
            with a tiny gradient gets a larger one (up to 1e-3), so that vanishing gradients
            are checked too.
        rtol: largest relative error accepted. Correct gradients give about 1e-10 to 1e-8,
            up to about 1e-6 for the vanishing gradients of deep sigmoid networks or when a
            step crosses a ReLU kink; a wrong VJP gives 1e-2 or more.
        seed: seed of the random half of the entries.

    Returns:
        A :class:`GradientCheck`: a dict ``{layer: worst relative error}``, ``.ok``,
        ``.failed`` and ``print(report)`` for the table.
    """
    if not hasattr(model, "gradients") or not hasattr(model, "compute_loss"):
        raise TypeError(f"check_gradients needs a compiled numkeras model; received "
                        f"{type(model).__name__}.")
    rng = np.random.default_rng(seed)
    if not model.built:  # build in the model's own dtype, before switching to float64
        model.build_from_shape((None,) + np.shape(x)[1:])
    with _in_float64(model):
        x64 = np.asarray(x, dtype=np.float64)
        y, sample_weight = np.asarray(y), None if sample_weight is None \
            else np.asarray(sample_weight, dtype=np.float64)
        analytic = model.gradients(x64, y, sample_weight)

        def loss() -> float:
            return float(model.compute_loss(x64, y, model(x64, training=False), sample_weight))

        errors, largest = {}, {}
        loss_scale = max(1.0, abs(loss()))
        for variable, grad in zip(model.trainable_weights, analytic):
            picked = _pick_entries(grad, entries, rng)
            step = _step(grad.ravel()[picked], loss_scale, eps)
            numeric = np.array([_central_difference(loss, variable.data, i, step)
                                for i in picked])
            errors[id(variable)] = _relative_error(grad.ravel()[picked], numeric)
            largest[id(variable)] = float(np.max(np.abs(grad))) if grad.size else 0.0
    return _report(model, errors, largest, rtol)


def _pick_entries(grad: np.ndarray, count: int, rng) -> np.ndarray:
    """Flat indices: the ``count // 2`` largest |gradient| entries, then random others."""
    size = grad.size
    if size <= count:
        return np.arange(size)
    largest = np.argsort(np.abs(grad.ravel()))[::-1][:count // 2]
    others = np.setdiff1d(np.arange(size), largest)
    return np.concatenate([largest, rng.choice(others, count - len(largest), replace=False)])


# A weight whose gradient is tiny gets a step that moves the loss by about this much (times
# max(1, |L|)), but no larger than _LARGEST_STEP.
_LOSS_CHANGE = 1e-8
_LARGEST_STEP = 1e-3


def _step(checked: np.ndarray, loss_scale: float, eps: float) -> float:
    """The relative finite-difference step of one weight.

    A central difference is off by about ``rounding(L) / h`` plus a curvature term in
    ``h ** 2``. When the gradient is tiny (the first layers of a deep sigmoid network: 1e-8),
    the loss moves by less than its own rounding at ``h = 1e-6``, so the step grows until the
    loss change is about ``1e-8 |L|``, up to 1e-3 (where the curvature term takes over).
    Normal gradients keep the small step, which also rarely crosses a ReLU kink.
    """
    largest = float(np.max(np.abs(checked))) if checked.size else 0.0
    if largest == 0.0:
        return eps
    return min(max(eps, _LOSS_CHANGE * loss_scale / largest), _LARGEST_STEP)


def _central_difference(loss, values: np.ndarray, flat_index: int, relative_step: float) -> float:
    """``(L(w + h e_i) - L(w - h e_i)) / 2h``, changing one entry in place and restoring it."""
    flat = values.reshape(-1)  # a view: the model sees the change
    original = flat[flat_index]
    step = relative_step * max(1.0, abs(original))
    try:
        flat[flat_index] = original + step
        plus = loss()
        flat[flat_index] = original - step
        minus = loss()
    finally:
        flat[flat_index] = original
    return (plus - minus) / (2 * step)


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / scale)


def _report(model, errors: dict, largest: dict, rtol: float) -> GradientCheck:
    """Group the per-weight results by the model's top-level layers."""
    by_layer, weights, maxima, seen = {}, {}, {}, set()
    owners = [(layer.name, layer.trainable_weights) for layer in getattr(model, "layers", [])]
    owners.append((model.name, model.trainable_weights))
    for name, variables in owners:
        for variable in variables:
            key = id(variable)
            if key not in errors or key in seen:
                continue
            seen.add(key)
            weights[getattr(variable, "path", None) or f"{name}/{variable.name}"] = errors[key]
            by_layer[name] = max(by_layer.get(name, 0.0), errors[key])
            maxima[name] = max(maxima.get(name, 0.0), largest[key])
    return GradientCheck(by_layer, weights, maxima, rtol)


@contextlib.contextmanager
def _in_float64(model):
    """Run the model in float64, then give it back its own arrays and dtypes.

    Each float weight's ``data`` is rebound to a float64 copy (the original arrays, possibly
    views into the training buffer, are kept aside untouched and rebound at the end); the
    layers' ``dtype`` (which casts their inputs) and ``floatx`` (which casts batches) follow.
    """
    layers = [(layer, layer.dtype) for layer in model.flatten_layers()]
    values = [(w, w.data) for w in model.weights if w.data.dtype.kind == "f"]
    floatx = config.floatx()
    try:
        config.set_floatx("float64")
        for layer, _ in layers:
            layer.dtype = "float64"
        for variable, data in values:
            variable.data = data.astype(np.float64)
        yield
    finally:
        config.set_floatx(floatx)
        for layer, dtype in layers:
            layer.dtype = dtype
        for variable, data in values:
            variable.data = data
