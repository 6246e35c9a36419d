"""Losses and metrics of a model with several outputs, as ``compile`` takes them.

``loss``, ``loss_weights`` and ``metrics`` may be one value (used for every output), a list in
output order, or a dict keyed by output names. The total loss is the weighted sum of the
outputs' losses; logs name each part as Keras does: ``<output>_loss``, ``<output>_<metric>``.

>>> heads = OutputHeads(["price", "kind"], loss={"price": "mse", "kind": "mae"},
...                     loss_weights=[1.0, 0.5], metrics={"kind": ["mae"]})
>>> [tracker.name for tracker in heads.trackers], heads.weights
(['price_loss', 'kind_loss'], [1.0, 0.5])
"""

from __future__ import annotations

import numpy as np

from numkeras import losses as losses_module
from numkeras import metrics as metrics_module
from numkeras.backprop import ops


class OutputHeads:
    """Per output: its loss (or None), its weight in the total and its metrics."""

    def __init__(self, output_names, loss=None, loss_weights=None, metrics=None,
                 weighted_metrics=None):
        self.names = list(output_names)
        self.loss_identifiers = _per_output(loss, self.names, "loss", None)
        self.losses = [None if identifier is None else losses_module.resolve(identifier)
                       for identifier in self.loss_identifiers]
        self.weights = [float(w) for w in _per_output(loss_weights, self.names, "loss_weights",
                                                      1.0)]
        self.metric_identifiers = _metrics_per_output(metrics, self.names, "metrics")
        self.weighted_identifiers = _metrics_per_output(weighted_metrics, self.names,
                                                        "weighted_metrics")
        for identifiers in self.metric_identifiers + self.weighted_identifiers:
            for identifier in identifiers:
                metrics_module.get(identifier)  # unknown names fail at compile time
        self.trackers = [metrics_module.Mean(name=f"{name}_loss") for name in self.names]
        self.metrics = None  # per output, resolved from the first data's shapes

    def resolve(self, ys: list, output_shapes: list) -> None:
        """Resolve the losses' and metrics' shape-dependent names ('accuracy', 'ce')."""
        self.losses = [None if identifier is None else losses_module.resolve(
            identifier, y_true=y, y_pred_shape=shape)
            for identifier, y, shape in zip(self.loss_identifiers, ys, output_shapes)]
        for loss, y, shape in zip(self.losses, ys, output_shapes):
            check = getattr(loss, "check_targets", None)
            if check is not None:
                check(y, shape)
        if self.metrics is not None:
            return
        self.metrics = []
        for name, plain, weighted, y, shape in zip(self.names, self.metric_identifiers,
                                                   self.weighted_identifiers, ys, output_shapes):
            resolved = [metrics_module.get(m, y_true=y, y_pred_shape=shape) for m in plain]
            extra = [metrics_module.get(m, y_true=y, y_pred_shape=shape) for m in weighted]
            for metric in extra:
                metric.weighted = True
            for metric in resolved + extra:
                metric.name = f"{name}_{metric.name}"
            self.metrics.append(resolved + extra)

    def all_metrics(self) -> list:
        """Loss trackers, then every output's metrics, in tf.keras's log order."""
        return list(self.trackers) + [m for per_output in self.metrics or [] for m in per_output]

    def total_loss(self, ys: list, y_preds: list, sample_weight):
        """The weighted sum of the outputs' losses, and each output's loss (a Tensor or
        None)."""
        total, parts = None, []
        for loss, weight, y, y_pred in zip(self.losses, self.weights, ys, y_preds):
            if loss is None:
                parts.append(None)
                continue
            value = loss(y, y_pred, sample_weight=sample_weight)
            parts.append(value)
            weighted = value if weight == 1.0 else ops.multiply(value, np.float32(weight))
            total = weighted if total is None else ops.add(total, weighted)
        return total, parts

    def update(self, logs: dict, ys, y_preds, parts, sample_weight, batch: int) -> None:
        for tracker, part in zip(self.trackers, parts):
            if part is not None:
                tracker.update_state(float(part.data), sample_weight=batch)
                logs[tracker.name] = tracker.result()
        for metrics, y, y_pred in zip(self.metrics, ys, y_preds):
            for metric in metrics:
                metric.update_state(y, y_pred,
                                    sample_weight if getattr(metric, "weighted", False) else None)
                logs[metric.name] = metric.result()


def _per_output(value, names: list, argument: str, default):
    if value is None:
        return [default] * len(names)
    if isinstance(value, dict):
        _check_keys(value, names, argument)
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"`{argument}` has {len(value)} entries, but the model has {len(names)} "
                f"outputs {names}. Pass one entry per output, or a dict keyed by output names.")
        return list(value)
    return [value] * len(names)


def _metrics_per_output(value, names: list, argument: str) -> list[list]:
    if value is None:
        return [[] for _ in names]
    if isinstance(value, dict):
        _check_keys(value, names, argument)
        return [_as_list(value.get(name)) for name in names]
    if not isinstance(value, (list, tuple)):
        value = [value]
    if len(value) == len(names) and all(isinstance(v, (list, tuple)) or v is None
                                        for v in value):
        return [_as_list(v) for v in value]
    if any(isinstance(v, metrics_module.Metric) for v in value) and len(names) > 1:
        raise ValueError(
            f"`{argument}` holds a Metric object, which cannot be shared by the model's "
            f"{len(names)} outputs {names}. Pass a dict keyed by output names, or a list of "
            f"lists (one per output).")
    return [list(value) for _ in names]  # tf.keras: a flat list applies to every output


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_keys(value: dict, names: list, argument: str) -> None:
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise ValueError(f"`{argument}` has keys {unknown} that match no output of the model; "
                         f"its outputs are {names}.")
