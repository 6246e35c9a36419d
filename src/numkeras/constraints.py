"""Constraints applied to a weight's value after each optimizer step (Keras names)."""

from __future__ import annotations

import numpy as np

from numkeras.utils.registry import deserialize_object, lookup, serialize_object


class Constraint:
    """Base class: ``__call__(array) -> array`` (the projected value)."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class NonNeg(Constraint):
    """Clip negative weights to zero."""

    def __call__(self, w):
        return np.maximum(w, 0)


class MaxNorm(Constraint):
    """Rescale weights whose norm along ``axis`` exceeds ``max_value``."""

    def __init__(self, max_value=2.0, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = np.sqrt(np.sum(np.square(w), axis=self.axis, keepdims=True))
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Scale weights to unit norm along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (1e-7 + np.sqrt(np.sum(np.square(w), axis=self.axis, keepdims=True)))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keep norms along ``axis`` within [min_value, max_value] (blended by ``rate``)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = np.sqrt(np.sum(np.square(w), axis=self.axis, keepdims=True))
        clipped = np.clip(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


ALL_OBJECTS = {c.__name__: c for c in (NonNeg, MaxNorm, UnitNorm, MinMaxNorm)}
_TABLE = {**ALL_OBJECTS, "non_neg": NonNeg, "max_norm": MaxNorm, "unit_norm": UnitNorm,
          "min_max_norm": MinMaxNorm}


def get(identifier, argument: str | None = None):
    """A constraint from a name, a config dict or a callable; None stays None."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return lookup("constraint", _TABLE, identifier, argument)()
    if isinstance(identifier, dict):
        return deserialize_object("constraint", identifier, _TABLE)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint {identifier!r}.")


def serialize(constraint) -> dict | None:
    return None if constraint is None else serialize_object(constraint, "keras.constraints")
