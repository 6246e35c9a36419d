"""Weight initializers with Keras's names, defaults and formulas.

An initializer is called as ``init(shape, dtype)`` and returns a NumPy array. Unseeded
initializers draw from :func:`numkeras.config.make_rng`, so ``set_random_seed`` fixes them.

>>> import numkeras
>>> numkeras.config.set_random_seed(0)
>>> w = numkeras.initializers.get("glorot_uniform")((784, 128))
>>> bool(abs(w).max() <= (6 / (784 + 128)) ** 0.5), w.dtype
(True, dtype('float32'))
"""

from __future__ import annotations

import math

import numpy as np

from numkeras import config
from numkeras.utils.registry import deserialize_object, lookup, serialize_object


def compute_fans(shape) -> tuple[float, float]:
    """Keras's (fan_in, fan_out): conv kernels ``(kh, kw, in, out)`` multiply by kh*kw."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype)`` and ``get_config``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


def _dtype(dtype):
    return np.dtype(dtype or config.floatx())


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=_dtype(dtype))


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class _Random(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def _rng(self):
        return config.make_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(_Random):
    """Normal(mean, stddev); Keras defaults mean=0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return self._rng().normal(self.mean, self.stddev, shape).astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Random):
    """Uniform(minval, maxval); Keras defaults -0.05, 0.05."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return self._rng().uniform(self.minval, self.maxval, shape).astype(_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, shape, mean, stddev):
    """Normal values redrawn until within two standard deviations, as Keras does."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + stddev * values


class TruncatedNormal(_Random):
    """Normal(mean, stddev) truncated at two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev).astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Random):
    """Scale / fan: the family behind Glorot, He and LeCun initializers."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"`scale` must be positive, got scale={scale}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"`mode` must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}.")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "`distribution` must be 'truncated_normal', 'untruncated_normal' or 'uniform', "
                f"got {distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated to [-2, 2].
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / 0.87962566103423978)
        else:
            values = rng.normal(0.0, math.sqrt(variance), shape)
        return values.astype(_dtype(dtype))

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _variance_scaling_preset(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _variance_scaling_preset(
    "GlorotUniform", 1.0, "fan_avg", "uniform", "U(-L, L), L = sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _variance_scaling_preset(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).")
HeUniform = _variance_scaling_preset(
    "HeUniform", 2.0, "fan_in", "uniform", "U(-L, L), L = sqrt(6 / fan_in).")
HeNormal = _variance_scaling_preset(
    "HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal, stddev sqrt(2 / fan_in).")
LecunUniform = _variance_scaling_preset(
    "LecunUniform", 1.0, "fan_in", "uniform", "U(-L, L), L = sqrt(3 / fan_in).")
LecunNormal = _variance_scaling_preset(
    "LecunNormal", 1.0, "fan_in", "truncated_normal",
    "Truncated normal, stddev sqrt(1 / fan_in) (SELU's initializer).")


class Orthogonal(_Random):
    """A (scaled) random orthogonal matrix, from the QR decomposition of a normal one."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got shape={tuple(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = self._rng().normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape, got shape={tuple(shape)}.")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


ALL_OBJECTS = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal,
    Identity)}
_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity,
    "uniform": RandomUniform, "normal": RandomNormal,  # Keras 3's short names (Embedding)
}
_TABLE = {**ALL_OBJECTS, **_ALIASES}

zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
orthogonal, identity, variance_scaling = Orthogonal, Identity, VarianceScaling


def get(identifier, argument: str | None = None):
    """An initializer from a name (``"he_normal"``), a config dict, or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return lookup("initializer", _TABLE, identifier, argument)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer {identifier!r}"
                     + (f" given as `{argument}`." if argument else "."))


def serialize(initializer) -> dict:
    return serialize_object(initializer, "keras.initializers")


def deserialize(config: dict, custom_objects=None):
    return deserialize_object("initializer", config, _TABLE, custom_objects)
